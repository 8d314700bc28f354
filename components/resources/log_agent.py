"""FluxLogAgent: a DaemonSet collector that tails the Flux controllers' logs on every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests, receiver_auth
from ..builders.collector_configs import flux_log_paths, log_agent_config
from ..builders.helm_values import log_agent_values
from ..builders.trace_correlation import linkable_sources, log_line_statements, transform_processor
from ..config import FluxSettings, GatewaySettings, LogAgentSettings
from .helm_release import chart_release


@dataclass(frozen=True)
class FluxLogAgentArgs:
    gateway_otlp_grpc: str
    """`host:port` of the gateway's OTLP/gRPC receiver; the backend token stays with the gateway."""
    flux: FluxSettings = FluxSettings()
    agent: LogAgentSettings = LogAgentSettings()
    gateway: GatewaySettings = GatewaySettings()
    """Chart version, image, the outage the queues bridge and the scrape interval are shared with the gateway."""
    pipeline_metrics: bool = False
    """Ship the agent's own metrics to the gateway (`gateway.pipelineMetrics`)."""
    alert_uid: Optional[pulumi.Input[str]] = None
    """UID of the tracing Alert. With `alert_event_sources`, every Flux log line with a revision,
    of an object the Alert selects and of a kind that logs its revision, gets the trace ID Flux
    gives that revision's spans."""
    alert_event_sources: Sequence[Mapping[str, Any]] = field(default_factory=list)
    """The Alert's `spec.eventSources` (kind, name or `*`, namespace, matchLabels)."""
    receiver_token: Optional[pulumi.Input[str]] = None
    """Secret Output of the token the gateway's receivers require (`CollectorGateway.receiver_token`),
    of generation `gateway.receiverAuth.generation`; the agent sends it from a Secret of its own."""


class FluxLogAgent(pulumi.ComponentResource):
    """Its own namespace at Pod Security level `privileged` (hostPath), the receiver token's Secret,
    and the agent release."""

    log_paths: list[str]
    """Host file patterns the agent tails."""

    def __init__(self, name: str, args: FluxLogAgentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("fluxcd-otel:index:FluxLogAgent", name, None, opts)
        agent = args.agent
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=manifests.namespace_metadata(agent.namespace, c.POD_SECURITY_PRIVILEGED, "log-agent"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        release_waits_for: list[pulumi.Resource] = [self.namespace]
        secret_env: list[dict[str, Any]] = []
        self.token_secret = None
        if args.receiver_token is not None:
            # Named after the generation: a rotation changes the pod template, so the agents restart
            # and read the new token (a container's environment is read once).
            secret_name = receiver_auth.token_secret_name(agent.release_name, args.gateway.receiver_auth.generation)
            self.token_secret = k8s.core.v1.Secret(
                f"{name}-receiver-token",
                metadata=manifests.object_metadata(secret_name, agent.namespace, "log-agent"),
                type="Opaque",
                string_data={receiver_auth.TOKEN_KEY: pulumi.Output.secret(args.receiver_token)},
                opts=in_namespace,
            )
            secret_env = receiver_auth.writer_env(secret_name)
            release_waits_for.append(self.token_secret)
        trace_correlation = None
        if args.alert_uid is not None and linkable_sources(args.alert_event_sources, c.FLUX_KINDS_LOGGING_REVISION):
            sources = list(args.alert_event_sources)
            # Only the statements wait for the Alert's UID: a first preview shows the rest.
            statements = pulumi.Output.from_input(args.alert_uid).apply(lambda uid: log_line_statements(uid, sources))
            trace_correlation = transform_processor(statements)
        self.collector_config = log_agent_config(
            flux_namespace=args.flux.namespace,
            controllers=args.flux.controllers,
            agent=agent,
            gateway_otlp_grpc=args.gateway_otlp_grpc,
            queue=args.gateway.sending_queue,
            trace_correlation=trace_correlation,
            pipeline_metrics_interval=args.gateway.scrape_interval if args.pipeline_metrics else None,
            authenticated=self.token_secret is not None,
        )
        self.release = chart_release(
            f"{name}-release",
            release_name=agent.release_name,
            namespace=agent.namespace,
            chart=c.COLLECTOR_CHART,
            version=args.gateway.chart_version,
            repository=args.gateway.chart_repository,
            values=log_agent_values(
                fullname=agent.release_name,
                image=args.gateway.image,
                resources=agent.resources,
                config=self.collector_config,
                checkpoint_host_dir=f"{agent.checkpoint_dir.rstrip('/')}/{agent.release_name}",
                node_name_env=args.pipeline_metrics,
                secret_env=secret_env,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=release_waits_for),
        )
        self.log_paths = flux_log_paths(args.flux.namespace, args.flux.controllers)
        self.register_outputs({"log_paths": self.log_paths})
