"""CollectorGateway: the `opentelemetry-collector` release that exports everything to the backend."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import export_credentials, flux_events, manifests, receiver_auth
from ..builders.collector_configs import exports_over_network, gateway_config
from ..builders.helm_values import gateway_values
from ..builders.trace_correlation import linkable_sources
from ..config import (
    ConfigError,
    ExportCredentials,
    ExporterSettings,
    GatewaySettings,
    SignalSettings,
    export_credential_problems,
    format_errors,
)
from .helm_release import chart_release


@dataclass(frozen=True)
class CollectorGatewayArgs:
    cluster_name: str
    exporter: ExporterSettings
    gateway: GatewaySettings = GatewaySettings()
    signals: SignalSettings = SignalSettings()
    scrape_targets: list[str] = field(default_factory=list)
    export_token: Optional[pulumi.Input[str]] = None
    """Secret Output with the backend's Bearer token. Like every export secret, it is written only
    to the gateway's credentials Secret."""
    export_password: Optional[pulumi.Input[str]] = None
    """Secret Output with the Basic auth password of `exporter.username`."""
    export_headers: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Headers sent with every export, each value a secret Output (such as an API key)."""
    object_health_target: Optional[str] = None
    """`host:port` of the kube-state-metrics Service with Flux object health, scraped as its own job."""
    kept_metrics: list[str] = field(default_factory=list)
    """Series the shipped alert rules and dashboards read; the scrape keeps them next to the prefixes."""
    pipeline_metrics: bool = False
    """Scrape the gateway's own metrics and take the log agents' (`gateway.pipelineMetrics`)."""
    event_namespaces: list[str] = field(default_factory=list)
    """Namespaces whose Kubernetes events about Flux objects the gateway ships as logs; each gets a
    Role that lets the gateway's service account list and watch events there, and nothing more."""
    alert_uid: Optional[pulumi.Input[str]] = None
    """UID of the tracing Alert. With `alert_event_sources`, each event record about an object the
    Alert selects gets the trace ID of the span Flux makes from the same event."""
    alert_event_sources: Sequence[Mapping[str, Any]] = field(default_factory=list)
    """The Alert's `spec.eventSources`."""


def otlp_endpoints(settings: GatewaySettings) -> tuple[str, str]:
    """`host:port` of the OTLP/gRPC receiver (log agents) and base URL of the OTLP/HTTP receiver
    (Flux traces), known before the release exists."""
    host = f"{settings.release_name}.{settings.namespace}.svc"
    return f"{host}:{c.OTLP_GRPC_PORT}", f"http://{host}:{c.OTLP_HTTP_PORT}"


def secret_values(args: CollectorGatewayArgs) -> dict[str, pulumi.Output[str]]:
    """The credentials Secret's data, keyed as `export_credentials.secret_headers` reads it; each
    value a secret Output, so a preview shows which keys change and never what they hold."""
    values: dict[str, pulumi.Input[str]] = {}
    if args.export_token is not None:
        values[export_credentials.BEARER_TOKEN.secret_key] = args.export_token
    if args.export_password is not None:
        username = args.exporter.username
        assert username is not None  # CollectorGateway refuses exportPassword without it
        values[export_credentials.BASIC_AUTH.secret_key] = pulumi.Output.from_input(args.export_password).apply(
            lambda password: export_credentials.basic_credentials(username, password)
        )
    for header, value in args.export_headers.items():
        values[export_credentials.header_secret(header).secret_key] = value
    return {key: pulumi.Output.secret(value) for key, value in values.items()}


def receiver_token_secret(resource_name: str, release_name: str, namespace: str, generation: int,
                          opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """One generation's receiver token, generated when the Secret is first created and kept from
    then on: the program makes a new token at every run, and `ignore_changes` keeps the stored one.
    The token is written as `data`, which the API server returns as it was given, so the Secret's
    output carries the stored token in every run (`stringData` is not returned)."""
    encoded = base64.b64encode(receiver_auth.new_token().encode()).decode()
    return k8s.core.v1.Secret(
        f"{resource_name}-receiver-token-{generation}",
        metadata=manifests.object_metadata(receiver_auth.token_secret_name(release_name, generation), namespace,
                                           "gateway"),
        type="Opaque",
        data={receiver_auth.TOKEN_KEY: pulumi.Output.secret(encoded)},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["data"])),
    )


def stored_token(secret: k8s.core.v1.Secret) -> pulumi.Output[str]:
    def decoded(data: Mapping[str, str]) -> str:
        return base64.b64decode(data[receiver_auth.TOKEN_KEY]).decode()
    return pulumi.Output.secret(secret.data.apply(decoded))


class CollectorGateway(pulumi.ComponentResource):
    """Namespace (restricted), credentials Secret, receiver tokens, event reader Roles and the
    gateway collector release."""

    otlp_grpc_endpoint: str
    """`host:port` of the OTLP/gRPC receiver (log agents); known before the release exists."""
    otlp_http_endpoint: str
    """Base URL of the OTLP/HTTP receiver (Flux traces)."""
    receiver_token: Optional[pulumi.Output[str]]
    """Secret Output of the token the writers send (the current generation's), None when the
    receivers take no token (`gateway.receiverAuth`)."""

    def __init__(self, name: str, args: CollectorGatewayArgs, opts: Optional[pulumi.ResourceOptions] = None):
        credentials = ExportCredentials.of(args.export_token, args.export_password, args.export_headers)
        problems = export_credential_problems(args.exporter, credentials)
        if problems:
            raise ConfigError(format_errors(c.PROJECT, problems))
        super().__init__("fluxcd-otel:index:CollectorGateway", name, None, opts)
        settings = args.gateway
        child = pulumi.ResourceOptions(parent=self)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=manifests.namespace_metadata(settings.namespace, c.POD_SECURITY_RESTRICTED, "gateway"),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        secret_headers = export_credentials.secret_headers(credentials)
        secret_name = export_credentials.credentials_secret_name(settings.release_name)
        self.credentials_secret = None
        if secret_headers:
            self.credentials_secret = k8s.core.v1.Secret(
                f"{name}-export-credentials",
                metadata=manifests.object_metadata(secret_name, settings.namespace, "gateway"),
                type="Opaque",
                string_data=secret_values(args),
                opts=in_namespace,
            )
        self.receiver_tokens: list[k8s.core.v1.Secret] = []
        self.receiver_token = None
        authenticated = receiver_auth.required(settings, args.signals)
        if authenticated:
            by_role = {
                role: receiver_token_secret(name, settings.release_name, settings.namespace, generation, in_namespace)
                for role, generation in receiver_auth.generations(settings.receiver_auth.generation).items()
            }
            self.receiver_tokens = list(by_role.values())
            self.receiver_token = stored_token(by_role["current"])
        self.event_readers: list[pulumi.Resource] = []
        for namespace in args.event_namespaces:
            role = k8s.rbac.v1.Role(
                f"{name}-events-role-{namespace}",
                **manifests.event_reader_role(settings.release_name, namespace),
                opts=child,
            )
            binding = manifests.event_reader_binding(settings.release_name, namespace, settings.namespace)
            self.event_readers += [
                role,
                k8s.rbac.v1.RoleBinding(
                    f"{name}-events-binding-{namespace}",
                    metadata=binding["metadata"],
                    role_ref=binding["roleRef"],
                    subjects=binding["subjects"],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
                ),
            ]
        event_statements = None
        if args.event_namespaces and args.alert_uid is not None and linkable_sources(args.alert_event_sources):
            sources = list(args.alert_event_sources)
            event_statements = pulumi.Output.from_input(args.alert_uid).apply(
                lambda uid: flux_events.flux_event_statements(flux_events.event_trace_statements(uid, sources))
            )
        self.collector_config = gateway_config(
            cluster_name=args.cluster_name,
            signals=args.signals,
            gateway=settings,
            exporter_settings=args.exporter,
            scrape_targets=args.scrape_targets,
            secret_headers=secret_headers,
            object_health_target=args.object_health_target,
            kept_metrics=args.kept_metrics,
            event_namespaces=args.event_namespaces,
            pipeline_metrics=args.pipeline_metrics and args.signals.metrics,
            event_statements=event_statements,
            authenticated=authenticated,
        )
        self.release = chart_release(
            f"{name}-release",
            release_name=settings.release_name,
            namespace=settings.namespace,
            chart=c.COLLECTOR_CHART,
            version=settings.chart_version,
            repository=settings.chart_repository,
            values=gateway_values(
                fullname=settings.release_name,
                image=settings.image,
                resources=settings.resources,
                replicas=settings.replicas,
                config=self.collector_config,
                secret_env=export_credentials.secret_env(secret_name, secret_headers)
                + (receiver_auth.gateway_env(settings.release_name, settings.receiver_auth.generation)
                   if authenticated else []),
                queue=settings.sending_queue if exports_over_network(args.exporter) else None,
                watches_events=bool(args.event_namespaces),
            ),
            # The event watch starts with the collector, so its Roles must already be granted.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    self.namespace,
                    *([self.credentials_secret] if self.credentials_secret else []),
                    *self.receiver_tokens,
                    *self.event_readers,
                ],
            ),
        )
        self.otlp_grpc_endpoint, self.otlp_http_endpoint = otlp_endpoints(settings)
        self.register_outputs(
            {"otlp_grpc_endpoint": self.otlp_grpc_endpoint, "otlp_http_endpoint": self.otlp_http_endpoint}
        )
