"""FluxObservability: the whole integration for one cluster, composed from one StackConfig."""

from __future__ import annotations

from typing import Mapping, Optional

import pulumi

from .collector_gateway import CollectorGateway, CollectorGatewayArgs, otlp_endpoints
from .config import StackConfig
from .dash0_monitoring import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from .flux_alert_rules import FluxAlertRules, FluxAlertRulesArgs
from .flux_dashboards import FluxDashboards
from .flux_health import FluxObjectHealth, FluxObjectHealthArgs
from .flux_tracing import FluxTracing, FluxTracingArgs
from .kube_state_metrics import scrape_target as object_health_target
from .log_agent import FluxLogAgent, FluxLogAgentArgs
from .metrics_services import FluxMetricsServices
from .promql import alert_rule_spec, queried_metrics, shipped_dashboards


class FluxObservability(pulumi.ComponentResource):
    """`collector` mode: metrics Services, gateway, log agent, tracing, Flux object health.
    `dash0-operator` mode: Dash0 monitoring, Flux object health and tracing to the operator's collector.

    Pass `opts=ResourceOptions(provider=...)` to target a specific cluster; every child inherits it.
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
        tracing_headers: Optional[pulumi.Input[Mapping[str, str]]] = None,
    ):
        """`export_token` and `tracing_headers` take secret Outputs from the calling program (for
        example `pulumi.Config().require_secret(...)`) in place of the config's own secrets."""
        export_token = export_token if export_token is not None else config.token_output()
        tracing_headers = tracing_headers if tracing_headers is not None else config.tracing_headers_output()
        config.check_secrets(has_export_token=export_token is not None, has_tracing_headers=tracing_headers is not None)
        super().__init__("fluxcd-otel:index:FluxObservability", name, None, opts)
        signals = config.signals
        child = pulumi.ResourceOptions(parent=self)
        self.metrics_services = self.gateway = self.log_agent = self.dash0 = self.tracing = self.object_health = None
        outputs: dict[str, object] = {"mode": config.mode, "clusterName": config.cluster_name}

        # Tracing first: the gateway (event records) and the log agent (log lines) stamp records with
        # trace IDs derived from the Alert's UID. The Provider does not wait for the gateway, so on a
        # first install spans sent before the gateway is up are lost (docs: When things fail).
        if config.mode == "collector":
            default_trace_address = otlp_endpoints(config.collector)[1]
        else:
            default_trace_address = config.dash0_operator.collector_endpoint
        if signals.traces:
            self.tracing = FluxTracing(
                f"{name}-tracing",
                FluxTracingArgs(
                    address=config.tracing.address or default_trace_address,
                    cluster_name=config.cluster_name,
                    flux_namespace=config.flux.namespace,
                    tracing=config.tracing,
                    traced_kinds=config.traced_kinds,
                    headers=tracing_headers,
                ),
                opts=child,
            )
            outputs["providerAddress"] = self.tracing.address
            outputs["traceServiceName"] = self.tracing.service_name
            outputs["alert"] = self.tracing.alert_ref
        alert_uid = self.tracing.alert_uid if self.tracing else None
        alert_event_sources = self.tracing.event_sources if self.tracing else []

        if config.mode == "collector":
            scrape_targets: list[str] = []
            if signals.metrics:
                self.metrics_services = FluxMetricsServices(f"{name}-metrics", config.flux, opts=child)
                scrape_targets = self.metrics_services.scrape_targets
                outputs["scrapeTargets"] = scrape_targets
            health_target = None
            if config.object_health_enabled:
                health_target = object_health_target(config.object_health.release_name, config.object_health_namespace)
            self.gateway = CollectorGateway(
                f"{name}-gateway",
                CollectorGatewayArgs(
                    cluster_name=config.cluster_name,
                    exporter=config.exporter,
                    gateway=config.collector,
                    signals=signals,
                    scrape_targets=scrape_targets,
                    export_token=export_token,
                    object_health_target=health_target,
                    kept_metrics=queried_metrics(config),
                    event_namespaces=config.event_namespaces,
                    alert_uid=alert_uid,
                    alert_event_sources=alert_event_sources,
                ),
                opts=child,
            )
            outputs["gatewayOtlpGrpcEndpoint"] = self.gateway.otlp_grpc_endpoint
            outputs["gatewayOtlpHttpEndpoint"] = self.gateway.otlp_http_endpoint
        elif signals.metrics or signals.logs:
            self.dash0 = Dash0FluxMonitoring(
                f"{name}-dash0",
                Dash0FluxMonitoringArgs(
                    flux=config.flux,
                    operator=config.dash0_operator,
                    metrics=signals.metrics,
                    logs=signals.logs,
                    events=config.events_enabled,
                ),
                opts=child,
            )
            outputs["dash0Monitoring"] = f"{config.flux.namespace}/{config.dash0_operator.monitoring_name}"
        if config.object_health_enabled:
            # Collector mode: kube-state-metrics runs in the gateway's namespace, which must exist first.
            self.object_health = FluxObjectHealth(
                f"{name}-health",
                FluxObjectHealthArgs(
                    namespace=config.object_health_namespace,
                    flux=config.flux,
                    settings=config.object_health,
                    operator=config.dash0_operator if config.mode == "dash0-operator" else None,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway.namespace] if self.gateway else []),
            )
            outputs["objectHealth"] = f"{config.object_health_namespace}/{config.object_health.release_name}"
        self.alert_rules = self.dashboards = None
        if alert_rule_spec(config) is not None:
            self.alert_rules = FluxAlertRules(f"{name}-alerts", FluxAlertRulesArgs(flux=config.flux, alerts=config.alerts), opts=child)
            outputs["alertRules"] = self.alert_rules.rule_ref
        if shipped_dashboards(config):
            self.dashboards = FluxDashboards(f"{name}-dashboards", config.flux, opts=child)
            outputs["dashboards"] = self.dashboards.dashboard_refs

        if config.mode == "collector" and signals.logs:
            self.log_agent = FluxLogAgent(
                f"{name}-logs",
                FluxLogAgentArgs(
                    gateway_otlp_grpc=self.gateway.otlp_grpc_endpoint,
                    flux=config.flux,
                    agent=config.log_agent,
                    collector=config.collector,
                    alert_uid=alert_uid,
                    alert_event_sources=alert_event_sources,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway]),
            )
            outputs["logPaths"] = self.log_agent.log_paths
        self.outputs = outputs
        self.register_outputs(outputs)
