"""The plan of what one configuration creates, decided once.

FluxObservability builds its components from it, the clash check between two instances reads its
objects, and the gateway's scrape filter keeps the metrics its rules and dashboards read. Each
component names its objects with the same functions the plan lists them with (manifests,
export_credentials, the settings' own names); tests/resources/test_flux_observability.py compares
the plan with what the components register.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from .. import constants as c
from ..config import StackConfig
from . import manifests, receiver_auth
from .alert_rules import RULE_NAME, rule_groups
from .dashboards import dashboard_specs
from .delivery import delivered_kinds, recording_rules
from .export_credentials import credentials_secret_name
from .network_policies import gateway_policy, log_agent_policy, object_health_policy
from .promql import recording, scraped_series


@dataclass(frozen=True, order=True)
class KubernetesObject:
    """One object in a cluster: what two writers of the same cluster must not both create."""

    api_version: str
    kind: str
    namespace: str
    """Empty for cluster-scoped objects."""
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} ({self.api_version})"


HELM_RELEASE = ("helm.sh/v3", "Release")
RBAC = "rbac.authorization.k8s.io/v1"


@dataclass(frozen=True)
class Plan:
    """Which components a configuration has, the specs they ship and the objects they create."""

    tracing: bool
    """FluxTracing: the notification-controller's Provider and Alert (signals.traces)."""
    metrics_services: bool
    """FluxMetricsServices: a Service per controller for the gateway to scrape (collector mode)."""
    gateway: bool
    """CollectorGateway (collector mode)."""
    receiver_auth: bool
    """The gateway's OTLP receivers require its receiver token (`gateway.receiverAuth`)."""
    provider_token: bool
    """Flux's Provider sends the receiver token: it posts spans to the gateway (no `tracing.address`)."""
    log_agent: bool
    """FluxLogAgent (collector mode, signals.logs)."""
    dash0: bool
    """Dash0FluxMonitoring (dash0-operator mode, metrics or logs)."""
    object_health: bool
    """FluxObjectHealth: kube-state-metrics over the Flux objects."""
    alert_rules: dict[str, Any] | None
    """The PrometheusRule's spec: the alerts and the delivery recording rules; None when no rule ships."""
    delivery: bool
    """The delivery recording rules ship, so object health serves what they read."""
    dashboards: dict[str, dict[str, Any]]
    """The PersesDashboards' specs by name."""
    queried_metrics: list[str]
    """Every series of Flux's the rules and dashboards read, sorted: the gateway scrapes these
    next to `gateway.metricPrefixes`. The collectors' own (`otelcol_`) are kept by their own scrape
    jobs (constants.PIPELINE_METRICS), and every scrape reports `up` whatever its filter keeps."""
    network_policies: list[dict[str, Any]] = field(default_factory=list)
    """The NetworkPolicies of the package's namespaces (collector mode, `networkPolicies.enabled`)."""
    objects: dict[KubernetesObject, str] = field(default_factory=dict)
    """Every object the components create, with the stack key that names it. A Helm release stands
    for the namespaced objects of its chart, which are named after it; kube-state-metrics'
    ClusterRole and ClusterRoleBinding are listed on their own."""

    @classmethod
    def of(cls, config: StackConfig, *, export_secrets: bool = False, tracing_headers: bool = False) -> Plan:
        """`export_secrets`: the gateway's export credentials need a Secret; `tracing_headers`: the
        Provider's headers do. Both only add objects."""
        collector = config.mode == "collector"
        signals = config.signals
        with recording() as read:
            groups = (rule_groups(config.alerts, config.flux.controllers, cluster_label=config.cluster_label,
                                  gateway_scrapes=collector, pipeline_metrics=config.pipeline_metrics_enabled,
                                  log_agents=config.agent_metrics_enabled)
                      if signals.metrics and config.alerts.enabled else [])
            delivered = delivered_kinds(config.flux.controllers) if config.delivery_enabled else []
            if delivered:
                groups.append(recording_rules(config.delivery, config.cluster_label, delivered))
            dashboards = (dashboard_specs(config.flux.controllers, config.cluster_label,
                                          pipeline=config.pipeline_metrics_enabled,
                                          log_agents=config.agent_metrics_enabled,
                                          delivery=bool(delivered))
                          if signals.metrics and config.dashboards.enabled else {})
        authenticated = collector and receiver_auth.required(config.gateway, signals)
        flux_reads = {name for name in read if not name.startswith(c.COLLECTOR_METRIC_PREFIX)} - {c.SCRAPE_UP_METRIC}
        plan = cls(
            tracing=signals.traces,
            metrics_services=collector and signals.metrics,
            gateway=collector,
            receiver_auth=authenticated,
            provider_token=authenticated and signals.traces and config.tracing.address is None,
            log_agent=collector and signals.logs,
            dash0=not collector and (signals.metrics or signals.logs),
            object_health=config.object_health_enabled,
            alert_rules={"groups": groups} if groups else None,
            delivery=bool(delivered),
            dashboards=dashboards,
            queried_metrics=sorted({series for name in flux_reads for series in scraped_series(name)}),
            network_policies=_network_policies(config) if collector and config.network_policies.enabled else [],
        )
        return replace(plan, objects=_objects(plan, config, export_secrets=export_secrets,
                                              tracing_headers=tracing_headers))


def _network_policies(config: StackConfig) -> list[dict[str, Any]]:
    gateway = config.gateway
    # Who writes to the gateway: Flux's spans, unless `tracing.address` sends them elsewhere, and the
    # log agents' lines and own metrics.
    writers = [config.flux.namespace] if config.signals.traces and config.tracing.address is None else []
    writers += [config.log_agent.namespace] if config.signals.logs else []
    policies = [gateway_policy(gateway.release_name, gateway.namespace, writers)]
    if config.signals.logs:
        policies.append(log_agent_policy(config.log_agent.release_name, config.log_agent.namespace))
    if config.object_health_enabled:
        policies.append(object_health_policy(config.object_health.release_name, gateway.namespace,
                                             gateway.release_name))
    return policies


def _objects(plan: Plan, config: StackConfig, *, export_secrets: bool,
             tracing_headers: bool) -> dict[KubernetesObject, str]:
    objects: dict[KubernetesObject, str] = {}

    def add(api_version: str, kind: str, namespace: str, name: str, key: str) -> None:
        objects[KubernetesObject(api_version, kind, namespace, name)] = key

    flux_namespace = config.flux.namespace
    if plan.tracing:
        tracing = config.tracing
        add(c.NOTIFICATION_API_VERSION, "Provider", flux_namespace, tracing.provider_name, "tracing.providerName")
        add(c.NOTIFICATION_API_VERSION, "Alert", flux_namespace, tracing.alert_name, "tracing.alertName")
        if tracing_headers or plan.provider_token:
            add("v1", "Secret", flux_namespace, manifests.provider_secret_name(tracing.provider_name),
                "tracing.providerName")
    if plan.metrics_services:
        for controller in config.flux.controllers:
            add("v1", "Service", flux_namespace, manifests.metrics_service_name(controller), "flux.namespace")
    if plan.gateway:
        gateway = config.gateway
        add("v1", "Namespace", "", gateway.namespace, "gateway.namespace")
        if export_secrets:
            add("v1", "Secret", gateway.namespace, credentials_secret_name(gateway.release_name),
                "gateway.releaseName")
        if plan.receiver_auth:
            for generation in receiver_auth.generations(gateway.receiver_auth.generation).values():
                token_secret = receiver_auth.token_secret_name(gateway.release_name, generation)
                add("v1", "Secret", gateway.namespace, token_secret, "gateway.releaseName")
        for namespace in config.event_namespaces:
            reader = manifests.event_reader_name(gateway.release_name)
            add(RBAC, "Role", namespace, reader, "gateway.releaseName")
            add(RBAC, "RoleBinding", namespace, reader, "gateway.releaseName")
        add(*HELM_RELEASE, gateway.namespace, gateway.release_name, "gateway.releaseName")
    if plan.log_agent:
        agent = config.log_agent
        add("v1", "Namespace", "", agent.namespace, "logAgent.namespace")
        add(*HELM_RELEASE, agent.namespace, agent.release_name, "logAgent.releaseName")
        if plan.receiver_auth:
            add("v1", "Secret", agent.namespace,
                receiver_auth.token_secret_name(agent.release_name, config.gateway.receiver_auth.generation),
                "logAgent.releaseName")
    if plan.dash0:
        operator = config.dash0_operator
        add(c.DASH0_MONITORING_API_VERSION, "Dash0Monitoring", flux_namespace, operator.monitoring_name,
            "dash0Operator.monitoringName")
        if config.signals.metrics:
            for controller in config.flux.controllers:
                add("apps/v1", "DeploymentPatch", flux_namespace, controller, "flux.namespace")
    if plan.object_health:
        health = config.object_health
        namespace = config.object_health_namespace
        if not plan.gateway:
            add("v1", "Namespace", "", namespace, "objectHealth.namespace")
            add(c.DASH0_MONITORING_API_VERSION, "Dash0Monitoring", namespace,
                config.dash0_operator.monitoring_name, "objectHealth.namespace")
        add(*HELM_RELEASE, namespace, health.release_name, "objectHealth.releaseName")
        add(RBAC, "ClusterRole", "", health.release_name, "objectHealth.releaseName")
        add(RBAC, "ClusterRoleBinding", "", health.release_name, "objectHealth.releaseName")
    if plan.alert_rules is not None:
        add(c.PROMETHEUS_RULE_API_VERSION, "PrometheusRule", flux_namespace, RULE_NAME, "flux.namespace")
    for policy in plan.network_policies:
        metadata = policy["metadata"]
        add(policy["apiVersion"], policy["kind"], metadata["namespace"], metadata["name"], "networkPolicies.enabled")
    for dashboard_name in plan.dashboards:
        add(c.PERSES_DASHBOARD_API_VERSION, "PersesDashboard", flux_namespace, dashboard_name, "flux.namespace")
    return objects
