"""FluxLogAgent: a DaemonSet collector that tails the Flux controllers' logs on every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests
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


class FluxLogAgent(pulumi.ComponentResource):
    """Its own namespace at Pod Security level `privileged` (hostPath), and the agent release."""

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
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.log_paths = flux_log_paths(args.flux.namespace, args.flux.controllers)
        self.register_outputs({"log_paths": self.log_paths})
