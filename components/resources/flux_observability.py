"""FluxObservability: the whole integration for one cluster, composed from one StackConfig."""

from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi
from pulumi.runtime import settings as pulumi_settings

from ..builders import receiver_auth
from ..builders.export_credentials import secret_headers
from ..builders.kube_state_metrics import scrape_target as object_health_target
from ..builders.plan import KubernetesObject, Plan
from ..config import ConfigError, ExportCredentials, StackConfig
from .alert_rules import FluxAlertRules, FluxAlertRulesArgs
from .collector_gateway import CollectorGateway, CollectorGatewayArgs, otlp_endpoints
from .dash0_monitoring import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from .dashboards import FluxDashboards
from .log_agent import FluxLogAgent, FluxLogAgentArgs
from .metrics_services import FluxMetricsServices
from .network_policies import FluxNetworkPolicies
from .object_health import FluxObjectHealth, FluxObjectHealthArgs
from .tracing import FluxTracing, FluxTracingArgs, provider_auth_secret

# Any type of the Kubernetes package: a parent hands down its provider per package.
KUBERNETES_TYPE = "kubernetes:core/v1:Namespace"


def kubernetes_provider(opts: Optional[pulumi.ResourceOptions]) -> Optional[pulumi.ProviderResource]:
    """The Kubernetes provider the children of a component with these options use (None: the
    default provider), resolved as Pulumi does: `provider`, then `providers`, then the parent's."""
    if opts is None:
        return None
    if opts.provider is not None and opts.provider.package == "kubernetes":
        return opts.provider
    providers = opts.providers or []
    by_package = providers if isinstance(providers, Mapping) else {provider.package: provider for provider in providers}
    if "kubernetes" in by_package:
        return by_package["kubernetes"]
    return opts.parent.get_provider(KUBERNETES_TYPE) if opts.parent is not None else None


class _Claims:
    """Which FluxObservability instance creates which object through which provider, in one
    Pulumi run.

    A run is recognised by its resource monitor: `pulumi up` has one per program run, and so has
    each mocked run in tests (`set_mocks` makes a new one), an Automation API run or a provider's
    Construct call; a new monitor starts an empty registry, so runs in one process never see each
    other's objects. Providers are kept referenced, so their ids stay theirs for the run."""

    def __init__(self) -> None:
        self.monitor: Any = None
        self.owners: dict[tuple[int, KubernetesObject], str] = {}
        self.providers: list[Any] = []

    def claim(
        self, name: str, objects: dict[KubernetesObject, str], provider: Optional[pulumi.ProviderResource]
    ) -> None:
        monitor = pulumi_settings.get_monitor()
        if monitor is not self.monitor:
            self.monitor, self.owners, self.providers = monitor, {}, []
        provider_id = id(provider)
        clashes = {obj: self.owners[(provider_id, obj)] for obj in objects if (provider_id, obj) in self.owners}
        if clashes:
            raise ConfigError(_clash_message(name, clashes, objects, provider))
        self.providers.append(provider)
        for obj in objects:
            self.owners[(provider_id, obj)] = name


def _clash_message(
    name: str, clashes: dict[KubernetesObject, str], keys: dict[KubernetesObject, str], provider: Any
) -> str:
    others = sorted(set(clashes.values()))
    through = f"provider {provider.pulumi_resource_name}" if provider is not None else "the default Kubernetes provider"
    lines = [
        f"FluxObservability instances {', '.join(others)} and {name} would create the same Kubernetes objects"
        f" through {through}:"
    ]
    for obj in sorted(clashes):
        also = f", also by {clashes[obj]}" if len(others) > 1 else ""
        lines.append(f"  {obj}, named by {keys[obj]}{also}")
    lines.append(
        "give each cluster its own provider (opts=pulumi.ResourceOptions(provider=...)), or set these keys"
        f" differently in {name}'s configuration"
    )
    return "\n".join(lines)


_CLAIMS = _Claims()


class FluxObservability(pulumi.ComponentResource):
    """`collector` mode: metrics Services, gateway, log agent, tracing, Flux object health.
    `dash0-operator` mode: Dash0 monitoring, Flux object health and tracing to the operator's collector.

    Pass `opts=ResourceOptions(provider=...)` to target a specific cluster; every child inherits it.
    Two instances that would create the same object through the same provider fail with one
    ConfigError naming both, before the second registers anything.
    """

    outputs: dict[str, object]
    """What a stack exports: endpoints, scrape targets, trace service name, Alert reference."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        opts: Optional[pulumi.ResourceOptions] = None,
        *,
        export_token: Optional[pulumi.Input[str]] = None,
        export_password: Optional[pulumi.Input[str]] = None,
        export_headers: Optional[Mapping[str, pulumi.Input[str]]] = None,
        tracing_headers: Optional[pulumi.Input[Mapping[str, str]]] = None,
    ):
        """The secrets take secret Outputs (for example `pulumi.Config().require_secret(...)`) or
        plain values from the calling program in place of the config's own: `export_token`,
        `export_password` and the values of `export_headers` (whose names stay plain: they shape
        the gateway's config), and `tracing_headers`. A plain value stays secret from here on, as
        Pulumi keeps a plain value given to any provider's secret input."""
        export_token = pulumi.Output.secret(export_token) if export_token is not None else config.token_output()
        export_password = (
            pulumi.Output.secret(export_password) if export_password is not None else config.password_output()
        )
        export_headers = ({name: pulumi.Output.secret(value) for name, value in export_headers.items()}
                          if export_headers is not None else config.export_headers_output() or {})
        # The header names, where known before deployment (the stack's, or a plain map's).
        tracing_header_names = (list(tracing_headers) if isinstance(tracing_headers, Mapping)
                                else list(config.tracing_headers or ()) if tracing_headers is None else None)
        tracing_headers = (pulumi.Output.secret(tracing_headers) if tracing_headers is not None
                           else config.tracing_headers_output())
        credentials = ExportCredentials.of(export_token, export_password, export_headers)
        config.check_secrets(export_credentials=credentials, has_tracing_headers=tracing_headers is not None,
                             tracing_header_names=tracing_header_names)
        # Two instances writing the same object through one provider would fight over it; refuse
        # before either registers anything more.
        plan = Plan.of(config, export_secrets=bool(secret_headers(credentials)),
                       tracing_headers=tracing_headers is not None)
        _CLAIMS.claim(name, plan.objects, kubernetes_provider(opts))
        super().__init__("fluxcd-otel:index:FluxObservability", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.metrics_services = self.gateway = self.log_agent = self.dash0 = self.tracing = self.object_health = None
        outputs: dict[str, object] = {"mode": config.mode, "clusterName": config.cluster_name}

        # Tracing first: the gateway (event records) and the log agent (log lines) stamp records with
        # trace IDs derived from the Alert's UID. The Provider does not wait for the gateway, so on a
        # first install spans sent before the gateway is up are lost (docs: When things fail).
        if plan.gateway:
            default_trace_address = otlp_endpoints(config.gateway)[1]
        else:
            default_trace_address = config.dash0_operator.collector_endpoint
        if plan.tracing:
            self.tracing = FluxTracing(
                f"{name}-tracing",
                FluxTracingArgs(
                    address=config.tracing.address or default_trace_address,
                    cluster_name=config.cluster_name,
                    flux_namespace=config.flux.namespace,
                    tracing=config.tracing,
                    traced_kinds=config.traced_kinds,
                    headers=tracing_headers,
                    headers_later=plan.provider_token,
                ),
                opts=child,
            )
            outputs["providerAddress"] = self.tracing.address
            outputs["traceServiceName"] = self.tracing.service_name
            outputs["alert"] = self.tracing.alert_ref
        alert_uid = self.tracing.alert_uid if self.tracing else None
        alert_event_sources = self.tracing.event_sources if self.tracing else []

        if plan.gateway:
            scrape_targets: list[str] = []
            if plan.metrics_services:
                self.metrics_services = FluxMetricsServices(f"{name}-metrics", config.flux, opts=child)
                scrape_targets = self.metrics_services.scrape_targets
                outputs["scrapeTargets"] = scrape_targets
            health_target = None
            if plan.object_health:
                health_target = object_health_target(config.object_health.release_name, config.object_health_namespace)
            assert config.exporter is not None  # required in mode collector
            self.gateway = CollectorGateway(
                f"{name}-gateway",
                CollectorGatewayArgs(
                    cluster_name=config.cluster_name,
                    exporter=config.exporter,
                    gateway=config.gateway,
                    signals=config.signals,
                    scrape_targets=scrape_targets,
                    export_token=export_token,
                    export_password=export_password,
                    export_headers=export_headers,
                    object_health_target=health_target,
                    kept_metrics=plan.queried_metrics,
                    pipeline_metrics=config.pipeline_metrics_enabled,
                    event_namespaces=config.event_namespaces,
                    alert_uid=alert_uid,
                    alert_event_sources=alert_event_sources,
                ),
                opts=child,
            )
            if plan.provider_token:
                assert self.tracing is not None and self.gateway.receiver_token is not None  # plan.provider_token
                # The Provider's Secret carries the gateway's receiver token, which exists once the
                # gateway does, after the tracing objects it takes the Alert's UID from. Only where
                # the Secret is new (a first install, receiver auth just turned on) can the Provider
                # name it a moment before it exists, and those seconds' spans fail to send.
                self.tracing.auth_secret = provider_auth_secret(
                    self.tracing, self.gateway.receiver_token.apply(receiver_auth.provider_headers))
            outputs["gatewayOtlpGrpcEndpoint"] = self.gateway.otlp_grpc_endpoint
            outputs["gatewayOtlpHttpEndpoint"] = self.gateway.otlp_http_endpoint
        elif plan.dash0:
            self.dash0 = Dash0FluxMonitoring(
                f"{name}-dash0",
                Dash0FluxMonitoringArgs(
                    flux=config.flux,
                    operator=config.dash0_operator,
                    metrics=config.signals.metrics,
                    logs=config.signals.logs,
                    events=config.events_enabled,
                ),
                opts=child,
            )
            outputs["dash0Monitoring"] = f"{config.flux.namespace}/{config.dash0_operator.monitoring_name}"
        if plan.object_health:
            # Collector mode: kube-state-metrics runs in the gateway's namespace, which must exist first.
            self.object_health = FluxObjectHealth(
                f"{name}-health",
                FluxObjectHealthArgs(
                    namespace=config.object_health_namespace,
                    flux=config.flux,
                    settings=config.object_health,
                    operator=config.dash0_operator if config.mode == "dash0-operator" else None,
                    delivery=plan.delivery,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway.namespace] if self.gateway else []),
            )
            outputs["objectHealth"] = f"{config.object_health_namespace}/{config.object_health.release_name}"
        self.alert_rules = self.dashboards = None
        if plan.alert_rules is not None:
            self.alert_rules = FluxAlertRules(f"{name}-alerts", FluxAlertRulesArgs(flux=config.flux), opts=child,
                                              spec=plan.alert_rules)
            outputs["alertRules"] = self.alert_rules.rule_ref
        if plan.dashboards:
            self.dashboards = FluxDashboards(f"{name}-dashboards", config.flux, opts=child, specs=plan.dashboards)
            outputs["dashboards"] = self.dashboards.dashboard_refs

        if plan.log_agent:
            assert self.gateway is not None  # created above in mode collector
            self.log_agent = FluxLogAgent(
                f"{name}-logs",
                FluxLogAgentArgs(
                    gateway_otlp_grpc=self.gateway.otlp_grpc_endpoint,
                    flux=config.flux,
                    agent=config.log_agent,
                    gateway=config.gateway,
                    pipeline_metrics=config.pipeline_metrics_enabled,
                    alert_uid=alert_uid,
                    alert_event_sources=alert_event_sources,
                    receiver_token=self.gateway.receiver_token,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway]),
            )
            outputs["logPaths"] = self.log_agent.log_paths
        self.network_policies = None
        if plan.network_policies:
            namespaces = [part.namespace for part in (self.gateway, self.log_agent) if part is not None]
            self.network_policies = FluxNetworkPolicies(
                f"{name}-network", plan.network_policies,
                opts=pulumi.ResourceOptions(parent=self, depends_on=namespaces))
        self.outputs = outputs
        self.register_outputs(outputs)
