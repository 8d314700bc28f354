"""The whole `fluxcd-otel:` namespace of a stack file, and the rules across its sections."""

from __future__ import annotations

import typing
import urllib.parse
from typing import Any, Literal, Optional

import pulumi
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .. import constants as c
from .alerts import AlertSettings, DashboardSettings, DeliverySettings
from .collector import (
    AGENT_RESOURCES,
    GATEWAY_RESOURCES,
    ExpectedLoadSettings,
    GatewaySettings,
    LogAgentSettings,
    NetworkPolicySettings,
    memory_limit_problems,
    sized_for_load,
)
from .errors import ConfigError, InvalidKey, format_errors
from .exporter import ExportCredentials, ExporterSettings, export_credential_problems
from .flux import EventSettings, FluxSettings, SignalSettings, TracingSettings
from .object_health import ObjectHealthSettings
from .values import (
    ClusterName,
    HeaderName,
    LabelName,
    Model,
    ObjectName,
    SecretHeaderName,
    SecretHeaderValue,
    http_url,
    prometheus_duration_seconds,
)


class Dash0OperatorSettings(Model):
    collector_endpoint: str = c.DASH0_OPERATOR_COLLECTOR_OTLP_HTTP
    """OTLP/HTTP base URL of the Dash0 operator's collector Service."""
    monitoring_name: ObjectName = c.DASH0_MONITORING_NAME
    """Name of the Dash0Monitoring resource in the Flux namespace."""

    @field_validator("collector_endpoint")
    @classmethod
    def _endpoint_is_url(cls, value: str) -> str:
        return http_url(value)


Mode = Literal["collector", "dash0-operator"]
# Each delivery rule reads its own sample of one interval before through an instant selector, which
# looks back 5m in Prometheus (its default `--query.lookback-delta`).
DELIVERY_INTERVAL_MAX_SECONDS = 120
_COLLECTOR_ONLY = (
    "gateway", "log_agent", "network_policies", "expected_load", "exporter", "export_token", "export_password",
    "export_headers",
)
_OPERATOR_ONLY = ("dash0_operator",)



def _secret_output(value: Optional[SecretStr]) -> Optional[pulumi.Output[str]]:
    return None if value is None else pulumi.Output.secret(value.get_secret_value())

class StackConfig(Model):
    """Everything under the `fluxcd-otel:` namespace of a stack file."""

    cluster_name: ClusterName
    """Cluster name; becomes `k8s.cluster.name` and the Alert's `cluster` event metadata."""
    cluster_label: LabelName = c.PROMETHEUS_CLUSTER_LABEL
    (
        "The label under which the backend shows `k8s.cluster.name` (Prometheus: once "
        "`otlp.promote_resource_attributes` lists it, docs/verify.md). The dashboards' cluster variable lists its "
        "values; FluxNotReconciling matches a controller with the objects of its own cluster by it."
    )
    mode: Mode = "collector"
    """`collector`: our own gateway and log agent. `dash0-operator`: the Dash0 operator collects."""
    signals: SignalSettings = SignalSettings()
    """Which signals to ship."""
    flux: FluxSettings = FluxSettings()
    """Where Flux runs and which controllers it has."""
    gateway: GatewaySettings = GatewaySettings()
    """collector mode: the gateway collector (metrics scrape, OTLP in, export); the log agent runs its image and
    chart, queues like it and ships its own metrics with it."""
    log_agent: LogAgentSettings = LogAgentSettings()
    """collector mode: the DaemonSet that tails the Flux controllers' log files."""
    network_policies: NetworkPolicySettings = NetworkPolicySettings()
    """collector mode: who may reach the package's pods."""
    expected_load: ExpectedLoadSettings = ExpectedLoadSettings()
    """collector mode: the Flux load the gateway's and log agent's memory limits must hold; a limit not given is
    sized for it (twice the measured peak, when above the default)."""
    exporter: Optional[ExporterSettings] = None
    """collector mode, required: the backend the gateway exports to."""
    export_token: Optional[SecretStr] = Field(default=None, json_schema_extra={"secret": True})
    """Secret. Backend token, sent as `Authorization: Bearer <token>`; required for dash0."""
    export_password: Optional[SecretStr] = Field(default=None, json_schema_extra={"secret": True})
    """Secret. otlp: Basic auth password, sent with `exporter.username` as `Authorization: Basic ...`."""
    export_headers: Optional[dict[SecretHeaderName, SecretHeaderValue]] = Field(
        default=None, json_schema_extra={"secret": True}
    )
    """Secret. otlp: headers sent with every export, such as an API key (`x-honeycomb-team`)."""
    tracing: TracingSettings = TracingSettings()
    """The Flux `otel` Provider and its Alert."""
    tracing_headers: Optional[dict[HeaderName, SecretHeaderValue]] = Field(
        default=None, json_schema_extra={"secret": True}
    )
    """Secret. Headers the Provider sends (e.g. Authorization) when `tracing.address` needs auth."""
    events: EventSettings = EventSettings()
    """Kubernetes events about Flux objects, as log records with the controller logs' attributes."""
    alerts: AlertSettings = AlertSettings()
    (
        "Alert rules on Flux objects, the controllers and the pipeline, as a PrometheusRule (the Dash0 operator "
        "syncs them as check rules)."
    )
    dashboards: DashboardSettings = DashboardSettings()
    """Flux dashboards, as PersesDashboards (the Dash0 operator syncs them to Dash0)."""
    delivery: DeliverySettings = DeliverySettings()
    """Delivery figures from Flux itself: deployments, change failure rate, time to restore, lead time."""
    object_health: ObjectHealthSettings = ObjectHealthSettings()
    """Flux object health: kube-state-metrics exposing every Flux object's readiness as metrics."""
    dash0_operator: Dash0OperatorSettings = Dash0OperatorSettings()
    """dash0-operator mode: where the operator's collector is and the Dash0Monitoring name."""

    @model_validator(mode="before")
    @classmethod
    def _sized_for_load(cls, data: Any) -> Any:
        """The gateway's and log agent's memory limits, where not given, from expectedLoad."""
        if not isinstance(data, dict) or data.get("mode", "collector") != "collector":
            return data
        try:
            load = ExpectedLoadSettings.model_validate(data.get("expectedLoad", data.get("expected_load")) or {})
        except ValidationError:
            return data  # refused with its own message
        sized = dict(data)
        for keys, default, measured in ((("gateway",), GATEWAY_RESOURCES, c.GATEWAY_PEAK_MIB),
                                        (("logAgent", "log_agent"), AGENT_RESOURCES, c.AGENT_PEAK_MIB)):
            key = next((k for k in keys if k in data), keys[0])
            section = sized_for_load(data.get(key), default, load, measured)
            if section != (data.get(key) or {}):
                sized[key] = section
        return sized

    @model_validator(mode="after")
    def _fits_mode(self) -> "StackConfig":
        wrong_mode = _OPERATOR_ONLY if self.mode == "collector" else _COLLECTOR_ONLY
        problems = [
            (to_camel(key), f"not allowed in mode {self.mode}") for key in wrong_mode if key in self.model_fields_set
        ]
        if not (self.signals.metrics or self.signals.traces or self.signals.logs):
            problems.append(("signals", "at least one of metrics, traces, logs must be on"))
        if self.mode == "collector":
            if self.exporter is None:
                problems.append(("exporter", "required in mode collector (type dash0, otlp or debug)"))
            if self.gateway.pipeline_metrics and "pipeline_metrics" in self.gateway.model_fields_set \
                    and not self.signals.metrics:
                problems.append(("gateway.pipelineMetrics", "needs signals.metrics (they travel with them)"))
            if self.signals.metrics and self.gateway.replicas > 1:
                problems.append(
                    ("gateway.replicas", "must be 1 while signals.metrics is on (each replica scrapes every target)")
                )
            problems += [
                (
                    f"{section}.namespace",
                    f"must not be the Flux namespace {self.flux.namespace}, which gets no workloads",
                )
                for section, settings in (("gateway", self.gateway), ("logAgent", self.log_agent))
                if settings.namespace == self.flux.namespace
            ]
            if self.gateway.namespace == self.log_agent.namespace:
                problems.append((
                    "logAgent.namespace",
                    "must differ from gateway.namespace (Pod Security privileged vs restricted)",
                ))
            problems += self._gateway_address_problems()
            problems += memory_limit_problems("gateway.resources.memoryLimit", "gateway", self.gateway.resources,
                                              self.expected_load, c.GATEWAY_PEAK_MIB)
            problems += memory_limit_problems("logAgent.resources.memoryLimit", "log agent", self.log_agent.resources,
                                              self.expected_load, c.AGENT_PEAK_MIB)
        if problems:
            raise InvalidKey.each(problems)
        return self

    @model_validator(mode="after")
    def _object_health_fits(self) -> "StackConfig":
        health = self.object_health
        problems = []
        if health.enabled and "enabled" in health.model_fields_set and not self.signals.metrics:
            problems.append(("objectHealth.enabled", "needs signals.metrics (its metrics travel with them)"))
        if self.mode == "collector":
            if "namespace" in health.model_fields_set:
                problems.append(
                    ("objectHealth.namespace", "only in mode dash0-operator; collector mode uses gateway.namespace")
                )
            if health.release_name == self.gateway.release_name:
                problems.append(("objectHealth.releaseName", "must differ from gateway.releaseName (same namespace)"))
        elif health.namespace == self.flux.namespace:
            problems.append(("objectHealth.namespace", "must not be the Flux namespace, which gets no workloads"))
        if problems:
            raise InvalidKey.each(problems)
        return self

    @model_validator(mode="after")
    def _delivery_fits(self) -> "StackConfig":
        delivery = self.delivery
        problems = []
        if delivery.enabled and "enabled" in delivery.model_fields_set and not self.object_health_enabled:
            problems.append(("delivery.enabled", "needs objectHealth.enabled and signals.metrics (its figures are "
                                                 "computed from object health)"))
        if prometheus_duration_seconds(delivery.interval) > DELIVERY_INTERVAL_MAX_SECONDS:
            problems.append(("delivery.interval", "must be at most 2m (each rule reads its previous sample within "
                                                  "Prometheus' 5m lookback)"))
        if problems:
            raise InvalidKey.each(problems)
        return self

    @property
    def delivery_enabled(self) -> bool:
        """The delivery rules and dashboard ship: switched on, over object health."""
        return self.delivery.enabled and self.object_health_enabled

    def _gateway_address_problems(self) -> list[tuple[str, str]]:
        """Spans sent to the gateway through `tracing.address` would be cut off: the Provider gets
        the receiver token, and the gateway's NetworkPolicy admits Flux's namespace, only when the
        address is left unset."""
        address = self.tracing.address
        guards = [name for name, on in (("gateway.receiverAuth", self.gateway.receiver_auth.enabled),
                                        ("networkPolicies", self.network_policies.enabled)) if on]
        if address is None or not self.signals.traces or not guards:
            return []
        host = urllib.parse.urlsplit(address).hostname or ""
        service = f"{self.gateway.release_name}.{self.gateway.namespace}"
        if host != service and not host.startswith(f"{service}."):
            return []
        return [("tracing.address", f"names the gateway's own Service, where {' and '.join(guards)} would refuse"
                                    " Flux's spans; leave it unset to send them to the gateway")]

    @model_validator(mode="after")
    def _events_fit(self) -> "StackConfig":
        problems = []
        if self.events.enabled and "enabled" in self.events.model_fields_set and not self.signals.logs:
            problems.append(("events.enabled", "needs signals.logs (events travel as log records)"))
        if self.mode != "collector" and self.events.namespaces is not None:
            problems.append(
                ("events.namespaces", "only in mode collector; the operator collects the Flux namespace's events")
            )
        if self.mode == "collector" and self.events_enabled and self.gateway.replicas > 1:
            problems.append(
                ("gateway.replicas", "must be 1 while events are on (each replica would watch every event)")
            )
        if problems:
            raise InvalidKey.each(problems)
        return self

    @property
    def events_enabled(self) -> bool:
        return self.signals.logs and self.events.enabled

    @property
    def event_namespaces(self) -> list[str]:
        """Namespaces whose events are collected; none while events are off."""
        if not self.events_enabled:
            return []
        return sorted(self.events.namespaces or [self.flux.namespace])

    @property
    def pipeline_metrics_enabled(self) -> bool:
        """The gateway and log agents ship their own metrics (collector mode, with the metrics)."""
        return self.mode == "collector" and self.signals.metrics and self.gateway.pipeline_metrics

    @property
    def agent_metrics_enabled(self) -> bool:
        """The log agents ship their own metrics too."""
        return self.pipeline_metrics_enabled and self.signals.logs

    @property
    def object_health_enabled(self) -> bool:
        return self.signals.metrics and self.object_health.enabled

    @property
    def object_health_namespace(self) -> str:
        return self.gateway.namespace if self.mode == "collector" else self.object_health.namespace

    def check_secrets(self, *, export_credentials: ExportCredentials, has_tracing_headers: bool,
                      tracing_header_names: Optional[list[str]] = None) -> None:
        """Rules on the secrets, which a program may pass as Outputs instead of stack config;
        `tracing_header_names` where the names are known before deployment."""
        problems = []
        if self.mode == "collector" and self.exporter is not None:
            problems += export_credential_problems(self.exporter, export_credentials)
        if has_tracing_headers and self.tracing.address is None:
            problems.append(("tracingHeaders", "needs tracing.address (the in-cluster endpoints take no auth)"))
        elif has_tracing_headers and self.tracing.address is not None and self.tracing.address.startswith("http://"):
            problems.append(("tracingHeaders", "must not travel over http://; use an https:// tracing.address"))
        elif tracing_header_names and c.AUTHORIZATION_HEADER not in tracing_header_names:
            # notification-controller adds `Authorization: Bearer <token>` to headers without that
            # exact key, and the Provider has no token here: it would send `Bearer ` alone
            # (notification-controller@v1.9.3: internal/notifier/otel.go NewOTLPTracer).
            problems.append(("tracingHeaders", f"must include {c.AUTHORIZATION_HEADER} (spelt so): without it"
                                               f" notification-controller sends '{c.AUTHORIZATION_HEADER}: Bearer '"
                                               " with no token beside your headers"))
        if problems:
            raise ConfigError(format_errors(c.PROJECT, problems))

    @property
    def traced_kinds(self) -> list[str]:
        return [
            kind
            for controller in self.flux.controllers
            for kind in c.FLUX_TRACEABLE_KINDS_BY_CONTROLLER[controller]
        ]

    def token_output(self) -> Optional[pulumi.Output[str]]:
        return _secret_output(self.export_token)

    def password_output(self) -> Optional[pulumi.Output[str]]:
        return _secret_output(self.export_password)

    def export_headers_output(self) -> Optional[dict[str, pulumi.Output[str]]]:
        """Header names stay plain (they shape the collector config); each value is a secret Output."""
        if self.export_headers is None:
            return None
        return {
            name: pulumi.Output.secret(value.get_secret_value()) for name, value in sorted(self.export_headers.items())
        }

    def tracing_headers_output(self) -> Optional[pulumi.Output[dict[str, str]]]:
        if self.tracing_headers is None:
            return None
        return pulumi.Output.secret(
            {name: value.get_secret_value() for name, value in sorted(self.tracing_headers.items())}
        )


SECRET_KEYS = tuple(
    field.alias or name
    for name, field in StackConfig.model_fields.items()
    if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret")
)
# Secret keys that hold one secret per entry (a header each), set with `--path '<key>.<Header-Name>'`.
SECRET_MAPS = tuple(
    field.alias or name
    for name, field in StackConfig.model_fields.items()
    if (field.alias or name) in SECRET_KEYS
    and any(typing.get_origin(arg) is dict for arg in typing.get_args(field.annotation))
)
