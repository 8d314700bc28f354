"""The stack configuration: one pydantic model, read from `pulumi.Config` and validated up front.

Every key a stack file may set is declared here once, with its type, default and description;
validation, the README's key table and the components' typed arguments all come from it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal, Optional
from urllib.parse import urlsplit

import pulumi
from pulumi.runtime import config as pulumi_config
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import constants as c


class ConfigError(pulumi.RunError):
    """A user mistake in the stack configuration: shown as one message, never as a traceback."""


class InvalidKey(ValueError):
    """Raised by cross-field checks to name the offending keys relative to the model checked."""

    def __init__(self, key: str, reason: str, *others: tuple[str, str]):
        super().__init__(reason)
        self.problems = [(key, reason), *others]

    @classmethod
    def each(cls, problems: list[tuple[str, str]]) -> "InvalidKey":
        """One error naming every (key, reason) a check found, so none waits for the next run."""
        return cls(*problems[0], *problems[1:])


# --- value types -----------------------------------------------------------------------------------
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
GO_DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

NamespaceName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63)]
ObjectName = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN, max_length=253)]
# Helm stores releases in Secrets whose names add a suffix, hence its 53-character cap.
ReleaseName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=53)]
Version = Annotated[str, StringConstraints(pattern=r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")]
MetricPrefix = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
CpuQuantity = Annotated[str, StringConstraints(pattern=r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$")]
MemoryQuantity = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(Mi|Gi)$")]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]
ClusterName = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^\S+$")]


def _positive_duration(value: str) -> str:
    if not re.fullmatch(GO_DURATION, value):
        raise ValueError("must be a Go duration such as 30s, 1m or 1m30s")
    if not re.search(r"[1-9]", value):
        raise ValueError("must be longer than zero")
    return value


Duration = Annotated[str, AfterValidator(_positive_duration)]

_DURATION_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def duration_seconds(value: str) -> float:
    """A validated Go duration in seconds."""
    return sum(
        float(amount) * _DURATION_UNIT_SECONDS[unit]
        for amount, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", value)
    )
# The Provider CRD's timeout pattern has no hours.
ProviderTimeout = Annotated[str, StringConstraints(pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"), AfterValidator(_positive_duration)]

# Go's RE2 has no look-around or back-references; Python accepts them, so refuse them explicitly.
_NOT_RE2 = re.compile(r"\(\?(=|!|<=|<!)|\\[1-9]")


def _go_regex(value: str) -> str:
    try:
        # Go spells named groups (?<name>) as well as (?P<name>); Python 3.11 knows only the latter.
        re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", value))
    except re.error as err:
        raise ValueError(f"is not a valid regular expression ({err})") from None
    if _NOT_RE2.search(value):
        raise ValueError("uses look-around or back-references, which Go regular expressions lack")
    return value


GoRegex = Annotated[str, AfterValidator(_go_regex)]


def memory_mib(quantity: str) -> int:
    """A validated memory quantity (Mi or Gi) in MiB."""
    amount, unit = int(quantity[:-2]), quantity[-2:]
    return amount * 1024 if unit == "Gi" else amount


def queue_volume_mib(outage_seconds: float) -> int:
    """Room for an outage's worth of the expected Flux volume, twice over."""
    expected = sum(c.EXPECTED_FLUX_BYTES_PER_SECOND.values()) * outage_seconds
    return math.ceil(2 * expected / 2**20)


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        use_attribute_docstrings=True,
    )


# --- sections ----------------------------------------------------------------------------------------
class FluxSettings(Model):
    namespace: NamespaceName = c.FLUX_NAMESPACE
    """Namespace Flux runs in."""
    controllers: list[Literal[c.FLUX_CONTROLLERS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(c.FLUX_DEFAULT_CONTROLLERS), min_length=1
    )
    """Flux controllers to observe (metrics Services, log files, traced kinds)."""

    @field_validator("controllers")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return value


class SignalSettings(Model):
    metrics: bool = True
    """Ship the Flux controllers' Prometheus metrics."""
    traces: bool = True
    """Ship Flux events as spans (notification-controller `otel` Provider and Alert)."""
    logs: bool = True
    """Ship the Flux controllers' JSON logs."""


class ImageSettings(Model):
    repository: str = Field(default=c.COLLECTOR_IMAGE_REPOSITORY, min_length=1)
    """Collector image repository (an otelcol-k8s build)."""
    tag: Version = c.COLLECTOR_IMAGE_TAG
    """Collector image tag, pinned."""


class ResourceSettings(Model):
    cpu_request: CpuQuantity
    """CPU request of each collector pod."""
    cpu_limit: CpuQuantity
    """CPU limit of each collector pod."""
    memory_request: MemoryQuantity
    """Memory request of each collector pod (Mi or Gi)."""
    memory_limit: MemoryQuantity
    """Memory limit (Mi or Gi); the memory_limiter and GOMEMLIMIT are derived from it."""

    @model_validator(mode="after")
    def _request_within_limit(self) -> "ResourceSettings":
        if memory_mib(self.memory_request) > memory_mib(self.memory_limit):
            raise InvalidKey("memoryRequest", "must not exceed memoryLimit")
        return self

    def as_kubernetes(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


QueueStorage = Literal["persistentVolume", "emptyDir"]


class SendingQueueSettings(Model):
    storage: QueueStorage = "persistentVolume"
    """Where the gateway's export queue lives. `persistentVolume`: a PersistentVolumeClaim (the
    gateway runs as a StatefulSet); the queue survives pod deletion, rollouts and node drains.
    `emptyDir`: survives collector restarts in the same pod (crash, OOM kill) but is lost with the
    pod (rollout, eviction, drain)."""
    volume_size: MemoryQuantity = "2Gi"
    """Size of the queue volume (PVC request, or emptyDir size limit)."""
    storage_class_name: Optional[ObjectName] = None
    """StorageClass of the PVC; the cluster default when unset. persistentVolume only."""
    outage: Duration = "30m"
    """Backend outage bridged without loss (at least 15m): sizes the gateway's and the log agents'
    queues and how long a failed export is retried."""

    @field_validator("outage")
    @classmethod
    def _at_least_min_outage(cls, value: str) -> str:
        if duration_seconds(value) < c.MIN_BRIDGED_OUTAGE_SECONDS:
            raise ValueError(f"must be at least {c.MIN_BRIDGED_OUTAGE_SECONDS // 60}m")
        return value

    @model_validator(mode="after")
    def _volume_fits(self) -> "SendingQueueSettings":
        if self.storage_class_name is not None and self.storage != "persistentVolume":
            raise InvalidKey("storageClassName", "only allowed with storage persistentVolume")
        needed = queue_volume_mib(duration_seconds(self.outage))
        if memory_mib(self.volume_size) < needed:
            raise InvalidKey("volumeSize", f"must be at least {needed}Mi to hold a {self.outage} outage at the expected Flux volume")
        return self


class GatewaySettings(Model):
    namespace: NamespaceName = "flux-otel"
    """Namespace of the gateway collector (Pod Security level `restricted`)."""
    release_name: ReleaseName = "flux-otel-gateway"
    """Helm release name; also the collector's Service name."""
    chart_version: Version = c.COLLECTOR_CHART_VERSION
    """Version of the `opentelemetry-collector` chart, pinned."""
    image: ImageSettings = ImageSettings()
    """Collector image."""
    replicas: int = Field(default=1, ge=1, le=10)
    """Gateway replicas; 1 while metrics are on, since each replica scrapes every target."""
    resources: ResourceSettings = ResourceSettings(
        cpu_request="100m", cpu_limit="500m", memory_request="256Mi", memory_limit="512Mi"
    )
    """Requests and limits of the gateway pod (set all four keys when overriding)."""
    scrape_interval: Duration = "30s"
    """How often the Prometheus receiver scrapes the Flux controllers."""
    metric_prefixes: list[MetricPrefix] = Field(default_factory=lambda: ["gotk_"], min_length=1)
    """Only metrics whose names start with one of these prefixes are kept."""
    sending_queue: SendingQueueSettings = SendingQueueSettings()
    """Persistent export queue that bridges backend outages."""


class LogAgentSettings(Model):
    namespace: NamespaceName = "flux-otel-logs"
    """Namespace of the log agent DaemonSet (Pod Security level `privileged`: it mounts hostPath)."""
    release_name: ReleaseName = "flux-otel-logs"
    """Helm release name of the log agent."""
    resources: ResourceSettings = ResourceSettings(
        cpu_request="25m", cpu_limit="200m", memory_request="64Mi", memory_limit="256Mi"
    )
    """Requests and limits of each agent pod (set all four keys when overriding)."""
    checkpoint_dir: str = Field(default="/var/lib/fluxcd-otel", pattern=r"^/[A-Za-z0-9._/-]+$")
    """Host directory where read offsets are kept across agent restarts."""


ExporterType = Literal["dash0", "otlp", "debug"]
_EXPORTER_KEYS: dict[str, set[str]] = {
    "dash0": {"region", "endpoint", "dataset"},
    "otlp": {"endpoint", "protocol", "headers"},
    "debug": {"verbosity"},
}


class ExporterSettings(Model):
    type: ExporterType
    """Where the gateway sends telemetry: `dash0`, any `otlp` endpoint, or `debug` (collector log)."""
    region: Optional[Literal[c.DASH0_REGIONS]] = None  # type: ignore[valid-type]
    """dash0: ingress region; sets the endpoint."""
    endpoint: Optional[str] = None
    """dash0: ingress `host:port` overriding the region. otlp: URL (`https://host:port`, path for http)."""
    dataset: str = Field(default=c.DASH0_DEFAULT_DATASET, min_length=1)
    """dash0: dataset; sent as `Dash0-Dataset` unless `default`."""
    protocol: Literal["grpc", "http"] = "grpc"
    """otlp: OTLP transport."""
    headers: dict[HeaderName, str] = Field(default_factory=dict)
    """otlp: extra non-secret headers. Put credentials in the `exportToken` secret instead."""
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    """debug: how much the debug exporter prints."""

    @model_validator(mode="after")
    def _keys_fit_type(self) -> "ExporterSettings":
        misplaced = sorted(set(self.model_fields_set) - _EXPORTER_KEYS[self.type] - {"type"})
        if misplaced:
            allowed = ", ".join(sorted(to_camel(key) for key in _EXPORTER_KEYS[self.type]))
            raise InvalidKey(to_camel(misplaced[0]), f"not allowed with type {self.type} (allowed: {allowed})")
        if self.type == "dash0" and (self.region is None) == (self.endpoint is None):
            raise InvalidKey("region", "type dash0 needs exactly one of region or endpoint")
        if self.type == "dash0" and self.endpoint is not None:
            _checked("endpoint", _host_port, self.endpoint)
        if self.type == "otlp":
            if self.endpoint is None:
                raise InvalidKey("endpoint", "required with type otlp")
            _checked("endpoint", _otlp_url, self.endpoint)
        return self

    @property
    def plaintext(self) -> bool:
        return self.type == "otlp" and self.endpoint is not None and self.endpoint.startswith("http://")


def _checked(key: str, check, value: str) -> str:
    try:
        return check(value)
    except ValueError as err:
        raise InvalidKey(key, str(err)) from None


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or "/" in value or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"endpoint {value!r} must be host:port")
    return value


def _otlp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint {value!r} must be an http:// or https:// URL with a host")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"endpoint {value!r} has an invalid port") from None
    return value


class EventSource(Model):
    kind: Literal[c.FLUX_TRACEABLE_KINDS]  # type: ignore[valid-type]
    """Flux kind whose events are traced."""
    name: str = Field(default="*", min_length=1, max_length=253)
    """Object name, or `*` for all."""
    namespace: Optional[NamespaceName] = None
    """Object namespace; defaults to the Flux namespace."""
    match_labels: dict[str, str] = Field(default_factory=dict)
    """Label selector; needs name `*`."""

    @field_validator("kind", mode="before")
    @classmethod
    def _traceable(cls, value: Any) -> Any:
        if value in c.FLUX_UNTRACED_KINDS:
            raise ValueError(f"{value} events are never traced by the otel provider")
        return value

    @model_validator(mode="after")
    def _labels_need_wildcard(self) -> "EventSource":
        if self.match_labels and self.name != "*":
            raise InvalidKey("matchLabels", "needs name '*'")
        return self


class TracingSettings(Model):
    provider_name: ObjectName = "otel"
    """Name of the `otel` Provider in the Flux namespace."""
    alert_name: ObjectName = "otel-alert"
    """Name of the Alert; spans carry `service.name` = `<flux namespace>/<alertName>`."""
    address: Optional[str] = None
    """OTLP/HTTP traces URL overriding the gateway (or Dash0 operator) endpoint."""
    event_severity: Literal[c.FLUX_EVENT_SEVERITIES] = "info"  # type: ignore[valid-type]
    """Lowest event severity traced: `info` (all) or `error`."""
    event_sources: Optional[list[EventSource]] = Field(default=None, min_length=1)
    """Objects to trace. Default: every object of every traceable kind of the configured controllers."""
    inclusion_list: list[GoRegex] = Field(default_factory=list)
    """Go regexes; only events whose message matches one are traced."""
    exclusion_list: list[GoRegex] = Field(default_factory=list)
    """Go regexes; events whose message matches one are dropped."""
    event_metadata: dict[str, str] = Field(default_factory=dict)
    """Extra span attributes. `cluster` is set to clusterName unless given here."""
    timeout: Optional[ProviderTimeout] = None
    """Provider timeout (Flux default 15s)."""

    @field_validator("address")
    @classmethod
    def _address_is_url(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else _otlp_url(value)


class Dash0OperatorSettings(Model):
    collector_endpoint: str = c.DASH0_OPERATOR_COLLECTOR_OTLP_HTTP
    """OTLP/HTTP base URL of the Dash0 operator's collector Service."""
    monitoring_name: ObjectName = c.DASH0_MONITORING_NAME
    """Name of the Dash0Monitoring resource in the Flux namespace."""

    @field_validator("collector_endpoint")
    @classmethod
    def _endpoint_is_url(cls, value: str) -> str:
        return _otlp_url(value)


def export_token_problems(exporter: ExporterSettings, has_token: bool) -> list[tuple[str, str]]:
    if exporter.type == "dash0" and not has_token:
        return [("exportToken", "required with exporter type dash0 (pulumi config set --secret)")]
    if exporter.type == "debug" and has_token:
        return [("exportToken", "not used with exporter type debug")]
    if exporter.plaintext and has_token:
        return [("exportToken", "must not travel over http://; use an https:// exporter.endpoint")]
    return []


Mode = Literal["collector", "dash0-operator"]
_COLLECTOR_ONLY = ("collector", "log_agent", "exporter", "export_token")
_OPERATOR_ONLY = ("dash0_operator",)


class StackConfig(Model):
    """Everything under the `fluxcd-otel:` namespace of a stack file."""

    cluster_name: ClusterName
    """Cluster name; becomes `k8s.cluster.name` and the Alert's `cluster` event metadata."""
    mode: Mode = "collector"
    """`collector`: our own gateway and log agent. `dash0-operator`: the Dash0 operator collects."""
    signals: SignalSettings = SignalSettings()
    """Which signals to ship."""
    flux: FluxSettings = FluxSettings()
    """Where Flux runs and which controllers it has."""
    collector: GatewaySettings = GatewaySettings()
    """collector mode: the gateway collector (metrics scrape, OTLP in, export)."""
    log_agent: LogAgentSettings = LogAgentSettings()
    """collector mode: the DaemonSet that tails the Flux controllers' log files."""
    exporter: Optional[ExporterSettings] = None
    """collector mode, required: the backend the gateway exports to."""
    export_token: Optional[SecretStr] = Field(default=None, json_schema_extra={"secret": True})
    """Secret. Backend token, sent as `Authorization: Bearer <token>`; required for dash0."""
    tracing: TracingSettings = TracingSettings()
    """The Flux `otel` Provider and its Alert."""
    tracing_headers: Optional[dict[HeaderName, SecretStr]] = Field(
        default=None, json_schema_extra={"secret": True}
    )
    """Secret. Headers the Provider sends (e.g. Authorization) when `tracing.address` needs auth."""
    dash0_operator: Dash0OperatorSettings = Dash0OperatorSettings()
    """dash0-operator mode: where the operator's collector is and the Dash0Monitoring name."""

    @model_validator(mode="after")
    def _fits_mode(self) -> "StackConfig":
        wrong_mode = _OPERATOR_ONLY if self.mode == "collector" else _COLLECTOR_ONLY
        misplaced = [to_camel(key) for key in wrong_mode if key in self.model_fields_set]
        if misplaced:
            raise InvalidKey(misplaced[0], f"not allowed in mode {self.mode}")
        if not (self.signals.metrics or self.signals.traces or self.signals.logs):
            raise InvalidKey("signals", "at least one of metrics, traces, logs must be on")
        if self.mode == "collector":
            if self.exporter is None:
                raise InvalidKey("exporter", "required in mode collector (type dash0, otlp or debug)")
            if self.signals.metrics and self.collector.replicas > 1:
                raise InvalidKey("collector.replicas", "must be 1 while signals.metrics is on (each replica scrapes every target)")
        return self

    def check_secrets(self, *, has_export_token: bool, has_tracing_headers: bool) -> None:
        """Rules on the secrets, which a program may pass as Outputs instead of stack config."""
        problems = []
        if self.mode == "collector" and self.exporter is not None:
            problems += export_token_problems(self.exporter, has_export_token)
        if has_tracing_headers and self.tracing.address is None:
            problems.append(("tracingHeaders", "needs tracing.address (the in-cluster endpoints take no auth)"))
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
        if self.export_token is None:
            return None
        return pulumi.Output.secret(self.export_token.get_secret_value())

    def tracing_headers_output(self) -> Optional[pulumi.Output[dict[str, str]]]:
        if self.tracing_headers is None:
            return None
        return pulumi.Output.secret(
            {name: value.get_secret_value() for name, value in sorted(self.tracing_headers.items())}
        )


SECRET_KEYS = tuple(
    field.alias or name
    for name, field in StackConfig.model_fields.items()
    if (field.json_schema_extra or {}).get("secret")
)


# --- loading from pulumi.Config ------------------------------------------------------------------------
def _stack_entries(namespace: str) -> dict[str, str]:
    """Every `<namespace>:<key>` config value, whether set by the CLI's environment or by tests."""
    merged = {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in merged.items() if key.startswith(prefix)}


def _is_secret(full_key: str) -> bool:
    return pulumi_config.is_config_secret(full_key) or full_key in pulumi_config.get_config_secret_keys_env()


def _decode(value: Any) -> Any:
    # Pulumi hands structured values over as JSON text; plain strings stay strings.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def format_errors(namespace: str, errors: list[tuple[str, str]]) -> str:
    lines = [f"invalid stack configuration ({len(errors)} problem{'s' if len(errors) != 1 else ''}):"]
    lines += [f"  {namespace}:{path}: {reason}" if path else f"  {namespace}: {reason}" for path, reason in errors]
    return "\n".join(lines)


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            path += f".{part}" if path else str(part)
    return path


def _problems(error: dict[str, Any]) -> list[tuple[str, str]]:
    """(key path, reason) of one pydantic error; a cross-field check may name several keys."""
    loc = tuple(error["loc"])
    invalid_key = (error.get("ctx") or {}).get("error")
    if isinstance(invalid_key, InvalidKey):
        return [(_key_path(loc + tuple(key.split("."))), reason) for key, reason in invalid_key.problems]
    return [(_key_path(loc), _reason(error))]


def _reason(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see the configuration table in the README)"
    if error["type"] == "literal_error":
        return f"must be one of {error['ctx']['expected']}"
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {error['ctx']['pattern']}"
    if error["type"] == "model_type":
        return "must be a map of keys (see the configuration table in the README)"
    return error["msg"].removeprefix("Value error, ")


def _validated(raw: dict[str, Any]) -> tuple[Optional[StackConfig], list[tuple[str, str]]]:
    try:
        return StackConfig.model_validate(raw), []
    except ValidationError as err:
        return None, [problem for error in err.errors(include_url=False) for problem in _problems(error)]


def parse_stack_config(raw: dict[str, Any], namespace: str = c.PROJECT) -> StackConfig:
    """Validates already-decoded key/values; raises ConfigError naming every bad key path."""
    config, problems = _validated(raw)
    if problems:
        raise ConfigError(format_errors(namespace, problems))
    return config


def load_stack_config(namespace: str = c.PROJECT) -> StackConfig:
    """Reads and validates this stack's configuration before any resource is declared."""
    entries = _stack_entries(namespace)
    plain_secrets = [
        (key, "must be set with `pulumi config set --secret`")
        for key in SECRET_KEYS
        if key in entries and not _is_secret(f"{namespace}:{key}")
    ]
    config, problems = _validated({key: _decode(value) for key, value in entries.items()})
    if plain_secrets or problems:
        raise ConfigError(format_errors(namespace, plain_secrets + problems))
    return config
