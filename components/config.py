"""The stack configuration: one pydantic model, read from `pulumi.Config` and validated up front.

Every key a stack file may set is declared here once, with its type, default and description;
validation, the README's key table and the components' typed arguments all come from it.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from dataclasses import dataclass
import types
import typing
from typing import Annotated, Any, Iterable, Literal, Optional, Union
from urllib.parse import urlsplit

import pulumi
from pulumi.runtime import config as pulumi_config
from pulumi.runtime import settings as pulumi_settings
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    TypeAdapter,
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
@dataclass(frozen=True)
class Words:
    """What a constrained value type allows, in words: error messages say it instead of a regex,
    and docs/configuration.md shows it. Pydantic ignores this marker in `Annotated`."""

    text: str


K8S_NAME_WORDS = (
    "a Kubernetes name: lowercase letters, digits and '-', starting and ending with a letter or digit,"
    " at most 63 characters"
)
OBJECT_NAME_WORDS = (
    "a Kubernetes object name: lowercase letters, digits, '-' and '.', each dot-separated part starting and"
    " ending with a letter or digit, at most 253 characters"
)
RELEASE_NAME_WORDS = (
    "a Helm release name: lowercase letters, digits and '-', starting and ending with a letter or digit,"
    " at most 53 characters"
)
VERSION_WORDS = "a version such as 0.170.0 or v2.19.1 (major.minor.patch, an optional leading v and -suffix)"
MEMORY_WORDS = "a memory quantity such as 512Mi or 1Gi: a whole number above zero with the unit Mi or Gi"
CPU_WORDS = "a CPU quantity above zero such as 100m (millicores), 0.5 or 1 (cores)"
DURATION_WORDS = "a duration such as 30s, 5m or 1h: numbers with a unit ms, s, m or h, combined as in 1m30s"
PROVIDER_TIMEOUT_WORDS = (
    "a duration such as 500ms, 15s or 1m30s: numbers with a unit ms, s or m (the Flux Provider takes no hours)"
)
PROMETHEUS_DURATION_WORDS = (
    "a Prometheus duration such as 90s, 15m or 1d12h: whole numbers with a unit d, h, m or s, largest first"
)

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
GO_DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

NamespaceName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=63), Words(K8S_NAME_WORDS)]
ObjectName = Annotated[str, StringConstraints(pattern=DNS_SUBDOMAIN, max_length=253), Words(OBJECT_NAME_WORDS)]
# Helm stores releases in Secrets whose names add a suffix, hence its 53-character cap.
ReleaseName = Annotated[str, StringConstraints(pattern=DNS_LABEL, max_length=53), Words(RELEASE_NAME_WORDS)]
Version = Annotated[str, StringConstraints(pattern=r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$"), Words(VERSION_WORDS)]
MetricPrefix = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"),
    Words("the start of a Prometheus metric name such as gotk_: letters, digits, '_' and ':', not starting with a digit"),
]
MemoryQuantity = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(Mi|Gi)$"), Words(MEMORY_WORDS)]
HeaderName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"),
    Words("an HTTP header name such as X-Tenant: letters, digits and !#$%&'*+-.^_|~, no spaces or ':'"),
]
ClusterName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253, pattern=r"^[^\s\x00-\x1f\x7f]+$"),
    Words("a cluster name: 1 to 253 characters, without spaces or control characters"),
]
EventMetadataKey = Annotated[
    str,
    StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$"),
    Words(
        "an attribute name such as k8s.cluster.region: letters, digits, '.', '_', '/' and '-', starting and ending"
        " with a letter or digit, at most 253 characters"
    ),
]
LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_IMAGE_PATH_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_REGISTRY_HOST = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]+)?"
IMAGE_REPOSITORY = rf"({_REGISTRY_HOST}/)?{_IMAGE_PATH_COMPONENT}(/{_IMAGE_PATH_COMPONENT})*"


def _image_repository(value: str) -> str:
    if not re.fullmatch(IMAGE_REPOSITORY, value):
        raise ValueError(
            f"{value!r} is not an image repository: [registry/]path in lowercase, without tag or digest"
            " (such as ghcr.io/org/image)"
        )
    return value


def _single_line(value: str) -> str:
    # A line break in a header value would smuggle in another header.
    if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", value):
        raise ValueError("must be one line without control characters")
    return value


def _single_line_secret(value: SecretStr) -> SecretStr:
    _single_line(value.get_secret_value())
    return value


def _label_key(value: str) -> str:
    prefix, slash, name = value.rpartition("/")
    valid_prefix = not slash or (len(prefix) <= 253 and re.fullmatch(DNS_SUBDOMAIN, prefix))
    if not (valid_prefix and len(name) <= 63 and re.fullmatch(LABEL_NAME, name)):
        raise ValueError(
            f"{value!r} is not a Kubernetes label key: [DNS-subdomain prefix/]name, the name up to 63"
            " letters, digits, '-', '_' or '.', beginning and ending with a letter or digit"
        )
    return value


def _label_value(value: str) -> str:
    if value and not (len(value) <= 63 and re.fullmatch(LABEL_NAME, value)):
        raise ValueError(
            f"{value!r} is not a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.',"
            " beginning and ending with a letter or digit"
        )
    return value


def _object_name_or_wildcard(value: str) -> str:
    if value != "*" and not (len(value) <= 253 and re.fullmatch(DNS_SUBDOMAIN, value)):
        raise ValueError(f"{value!r} must be '*' or a Kubernetes object name (lowercase letters, digits, '-' and '.')")
    return value


def cpu_millicores(quantity: str) -> float:
    """A validated CPU quantity in millicores."""
    return float(quantity[:-1]) if quantity.endswith("m") else float(quantity) * 1000


def _positive_cpu(value: str) -> str:
    if cpu_millicores(value) == 0:
        raise ValueError("must be more than zero")
    return value


def _no_dot_segments(value: str) -> str:
    if {".", ".."} & set(value.split("/")):
        raise ValueError(f"{value!r} must be an absolute path without '.' or '..' segments")
    return value


CpuQuantity = Annotated[
    str, StringConstraints(pattern=r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$"), AfterValidator(_positive_cpu), Words(CPU_WORDS)
]
HeaderValue = Annotated[str, AfterValidator(_single_line), Words("one line of text without control characters")]
SecretHeaderValue = Annotated[SecretStr, AfterValidator(_single_line_secret)]
LabelKey = Annotated[
    str,
    AfterValidator(_label_key),
    Words("a Kubernetes label key: [DNS-subdomain prefix/]name, the name up to 63 letters, digits, '-', '_' or '.'"),
]
LabelValue = Annotated[
    str,
    AfterValidator(_label_value),
    Words("a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"),
]
EventSourceName = Annotated[
    str, AfterValidator(_object_name_or_wildcard), Words("'*' or a Kubernetes object name (lowercase letters, digits, '-' and '.')")
]
ImageRepository = Annotated[
    str,
    AfterValidator(_image_repository),
    Words("an image repository such as ghcr.io/org/image: [registry/]path in lowercase, without tag or digest"),
]
HostDirectory = Annotated[
    str,
    StringConstraints(pattern=r"^/[A-Za-z0-9._/-]+$"),
    AfterValidator(_no_dot_segments),
    Words(
        "an absolute host path such as /var/lib/fluxcd-otel: '/' followed by letters, digits, '.', '_', '-' and '/',"
        " without '.' or '..' segments"
    ),
]


def _positive_duration(value: str) -> str:
    if not re.fullmatch(GO_DURATION, value):
        raise ValueError(f"must be {DURATION_WORDS}; got {value!r}")
    if not re.search(r"[1-9]", value):
        raise ValueError("must be longer than zero")
    return value


Duration = Annotated[str, AfterValidator(_positive_duration), Words(DURATION_WORDS)]

_DURATION_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def duration_seconds(value: str) -> float:
    """A validated Go duration in seconds."""
    return sum(
        float(amount) * _DURATION_UNIT_SECONDS[unit]
        for amount, unit in re.findall(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)", value)
    )
# The Provider CRD's timeout pattern has no hours.
ProviderTimeout = Annotated[
    str,
    StringConstraints(pattern=r"^([0-9]+(\.[0-9]+)?(ms|s|m))+$"),
    AfterValidator(_positive_duration),
    Words(PROVIDER_TIMEOUT_WORDS),
]

# Go's RE2 has no look-around or back-references; Python accepts them, so refuse them explicitly.
_NOT_RE2 = re.compile(r"\(\?(=|!|<=|<!)|\\[1-9]")
# Python's parser (re._parser, private but stable since 3.11) also knows these; RE2 has none.
_PYTHON_ONLY_OPERATORS = {re._constants.ATOMIC_GROUP, re._constants.POSSESSIVE_REPEAT, re._constants.GROUPREF_EXISTS}


def _operators(node: Any):
    if isinstance(node, re._parser.SubPattern):
        for operator, argument in node.data:
            yield operator
            yield from _operators(argument)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _operators(item)


def _go_regex(value: str) -> str:
    try:
        # Go spells named groups (?<name>) as well as (?P<name>); Python 3.11 knows only the latter.
        python_spelling = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", value)
        re.compile(python_spelling)
        parsed = re._parser.parse(python_spelling)
    except re.error as err:
        raise ValueError(f"is not a valid regular expression ({err})") from None
    if _NOT_RE2.search(value):
        raise ValueError("uses look-around or back-references, which Go regular expressions lack")
    if _PYTHON_ONLY_OPERATORS & set(_operators(parsed)):
        raise ValueError("uses atomic groups, possessive quantifiers or conditionals, which Go regular expressions lack")
    return value


GoRegex = Annotated[str, AfterValidator(_go_regex), Words("a Go (RE2) regular expression")]


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
    repository: ImageRepository = c.COLLECTOR_IMAGE_REPOSITORY
    """Collector image repository (an otelcol-k8s build)."""
    tag: Version = c.COLLECTOR_IMAGE_TAG
    """Collector image tag, pinned."""


class ResourceSettings(Model):
    """CPU and memory requests and limits of a collector pod."""

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
        problems = []
        if cpu_millicores(self.cpu_request) > cpu_millicores(self.cpu_limit):
            problems.append(("cpuRequest", "must not exceed cpuLimit"))
        if memory_mib(self.memory_request) > memory_mib(self.memory_limit):
            problems.append(("memoryRequest", "must not exceed memoryLimit"))
        if problems:
            raise InvalidKey.each(problems)
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
    """Gateway replicas; 1 while metrics or events are on, since each replica scrapes every target and watches every event."""
    resources: ResourceSettings = ResourceSettings(
        cpu_request="100m", cpu_limit="500m", memory_request="256Mi", memory_limit="512Mi"
    )
    """Requests and limits of the gateway pod (set all four keys when overriding)."""
    scrape_interval: Duration = "30s"
    """How often the Prometheus receiver scrapes the Flux controllers."""
    metric_prefixes: list[MetricPrefix] = Field(default_factory=lambda: ["gotk_"], min_length=1)
    """Metrics whose names start with one of these prefixes are kept, besides those the shipped alert rules and dashboards query."""
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
    checkpoint_dir: HostDirectory = "/var/lib/fluxcd-otel"
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
    dataset: HeaderValue = Field(default=c.DASH0_DEFAULT_DATASET, min_length=1)
    """dash0: dataset; sent as `Dash0-Dataset` unless `default`."""
    protocol: Literal["grpc", "http"] = "grpc"
    """otlp: OTLP transport."""
    headers: dict[HeaderName, HeaderValue] = Field(default_factory=dict)
    """otlp: extra non-secret headers. Put credentials in the `exportToken` secret instead."""
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    """debug: how much the debug exporter prints."""

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() == c.AUTHORIZATION_HEADER.lower():
                raise InvalidKey(name, "credentials must not be plain config: set the exportToken secret instead")
        return value

    @model_validator(mode="after")
    def _keys_fit_type(self) -> "ExporterSettings":
        allowed = ", ".join(sorted(to_camel(key) for key in _EXPORTER_KEYS[self.type]))
        problems = [
            (to_camel(key), f"not allowed with type {self.type} (allowed: {allowed})")
            for key in sorted(set(self.model_fields_set) - _EXPORTER_KEYS[self.type] - {"type"})
        ]
        if self.type == "dash0":
            if self.region is None and self.endpoint is None:
                problems.append(("region", "type dash0 needs exactly one of region or endpoint"))
            elif self.region is not None and self.endpoint is not None:
                problems += [(key, "type dash0 needs exactly one of region or endpoint") for key in ("region", "endpoint")]
            elif self.endpoint is not None:
                problems += _problems_of("endpoint", _host_port, self.endpoint)
        if self.type == "otlp":
            if self.endpoint is None:
                problems.append(("endpoint", "required with type otlp"))
            else:
                problems += _problems_of("endpoint", _otlp_url if self.protocol == "http" else _otlp_grpc_url, self.endpoint)
        if problems:
            raise InvalidKey.each(problems)
        return self

    @property
    def plaintext(self) -> bool:
        return self.type == "otlp" and self.endpoint is not None and self.endpoint.startswith("http://")


def _problems_of(key: str, check, value: str) -> list[tuple[str, str]]:
    try:
        check(value)
    except ValueError as err:
        return [(key, str(err))]
    return []


def _host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"endpoint {value!r} must be host:port")
    return value


def _otlp_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint {value!r} must be an http:// or https:// URL with a host")
    if parts.username is not None:
        raise ValueError("must not carry credentials (user:password@), which would be stored in clear; use a secret key")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"endpoint {value!r} has an invalid port (allowed: 1-65535)")
    return value


def _otlp_grpc_url(value: str) -> str:
    """gRPC dials host:port; the URL scheme only selects TLS."""
    parts = urlsplit(_otlp_url(value))
    if parts.port is None or parts.path not in ("", "/"):
        raise ValueError(f"endpoint {value!r} must be http(s)://host:port with an explicit port and no path for protocol grpc")
    return value


class EventSource(Model):
    kind: Literal[c.FLUX_TRACEABLE_KINDS]  # type: ignore[valid-type]
    """Flux kind whose events are traced."""
    name: EventSourceName = "*"
    """Object name, or `*` for all."""
    namespace: Optional[NamespaceName] = None
    """Object namespace; defaults to the Flux namespace."""
    match_labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
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


class ObjectHealthResourceSettings(ResourceSettings):
    cpu_request: CpuQuantity
    """CPU request of the kube-state-metrics pod."""
    cpu_limit: CpuQuantity
    """CPU limit of the kube-state-metrics pod."""
    memory_request: MemoryQuantity
    """Memory request of the kube-state-metrics pod (Mi or Gi)."""
    memory_limit: MemoryQuantity
    """Memory limit of the kube-state-metrics pod (Mi or Gi); it grows with the number of Flux objects."""


class ObjectHealthSettings(Model):
    enabled: bool = True
    """Deploy kube-state-metrics for per-object readiness (`gotk_resource_info`); needs signals.metrics."""
    release_name: ReleaseName = "flux-object-health"
    """Helm release name; also the kube-state-metrics Service name."""
    namespace: NamespaceName = "flux-otel-health"
    """dash0-operator mode: namespace created for kube-state-metrics (collector mode uses collector.namespace)."""
    chart_version: Version = c.KSM_CHART_VERSION
    """Version of the `kube-state-metrics` chart (prometheus-community), pinned."""
    image_tag: Version = c.KSM_IMAGE_TAG
    """kube-state-metrics image tag (registry.k8s.io/kube-state-metrics/kube-state-metrics), pinned."""
    resources: ObjectHealthResourceSettings = ObjectHealthResourceSettings(
        cpu_request="10m", cpu_limit="200m", memory_request="64Mi", memory_limit="256Mi"
    )
    """Requests and limits of the kube-state-metrics pod (set all four keys when overriding)."""


# --- alert rules and dashboards ------------------------------------------------------------------
_PROMETHEUS_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Whole units, largest first: a subset of what Prometheus and the PrometheusRule CRD accept.
PROMETHEUS_DURATION = r"(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?"
# Prometheus sets `alertname` itself; `severity` comes from each alert's own setting.
RULE_OWNED_LABELS = ("alertname", "severity")


def prometheus_duration_seconds(duration: str) -> int:
    """A validated Prometheus duration (such as 1h30m) in seconds."""
    return sum(int(amount) * _PROMETHEUS_UNIT_SECONDS[unit] for amount, unit in re.findall(r"([0-9]+)([dhms])", duration))


def _prometheus_duration(value: str) -> str:
    if not re.fullmatch(PROMETHEUS_DURATION, value):
        raise ValueError(f"must be {PROMETHEUS_DURATION_WORDS}; got {value!r}")
    if prometheus_duration_seconds(value) == 0:
        raise ValueError("must be longer than zero")
    return value


def _alert_label_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) or value.startswith("__"):
        raise ValueError(f"{value!r} is not a Prometheus label name: letters, digits and '_', not starting with a digit or '__'")
    if value in RULE_OWNED_LABELS:
        raise ValueError(f"{value!r} is set by the rules themselves")
    return value


def _alert_label_value(value: str) -> str:
    if "{{" in value:
        raise ValueError("must not contain '{{': Prometheus expands rule labels as templates")
    return value


PrometheusDuration = Annotated[str, AfterValidator(_prometheus_duration), Words(PROMETHEUS_DURATION_WORDS)]
AlertLabelName = Annotated[
    str,
    AfterValidator(_alert_label_name),
    Words("a Prometheus label name such as team: letters, digits and '_', not starting with a digit or '__'"),
]
AlertLabelValue = Annotated[str, AfterValidator(_alert_label_value), Words("a label value without '{{'")]
Severity = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$"),
    Words("a severity such as warning or critical: lowercase letters, digits, '_' and '-', starting with a letter"),
]


class AlertRuleSettings(Model):
    enabled: bool = True
    """Ship this alert."""
    severity: Severity = "warning"
    """Value of the alert's `severity` label."""


class NotReadyAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "15m"
    """How long an object may stay not Ready (Ready False or Unknown, not suspended) before the alert fires."""
    per_kind: dict[Literal[c.FLUX_READY_KINDS], PrometheusDuration] = Field(default_factory=dict)  # type: ignore[valid-type]
    """`after` for single kinds, e.g. `HelmRelease: 30m`; each listed kind gets its own alert `Flux<Kind>NotReady`."""


class SuspendedAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "24h"
    """How long an object may stay suspended before the alert fires."""


class SlowReconcileAlertSettings(AlertRuleSettings):
    threshold: PrometheusDuration = "5m"
    """95th percentile of a kind's reconcile durations (over 5m) above which the condition holds."""
    after: PrometheusDuration = "15m"
    """How long the percentile must stay above `threshold` before the alert fires."""


class ReconcileErrorsAlertSettings(AlertRuleSettings):
    threshold: int = Field(default=0, ge=0)
    """Reconcile errors of one reconciler within `window` above which the condition holds."""
    window: PrometheusDuration = "10m"
    """Window in which the errors are counted."""
    after: PrometheusDuration = "15m"
    """How long the count must stay above `threshold` before the alert fires."""


class ControllerAbsentAlertSettings(AlertRuleSettings):
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    after: PrometheusDuration = "10m"
    """How long a configured controller may report no reconciler metrics before the alert fires."""


class StuckWorkqueueAlertSettings(AlertRuleSettings):
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    after: PrometheusDuration = "15m"
    """How long a worker may process one item while others wait in its queue before the alert fires."""


class AlertSettings(Model):
    enabled: bool = True
    """Ship a PrometheusRule in the Flux namespace while metrics are on (needs the monitoring.coreos.com CRD)."""
    extra_labels: dict[AlertLabelName, AlertLabelValue] = Field(default_factory=dict)
    """Labels added to every alert, for routing (e.g. `team: platform`)."""
    not_ready: NotReadyAlertSettings = NotReadyAlertSettings()
    """`FluxObjectNotReady`: a Flux object is not Ready for too long."""
    suspended: SuspendedAlertSettings = SuspendedAlertSettings()
    """`FluxObjectSuspended`: a Flux object stays suspended for too long."""
    slow_reconcile: SlowReconcileAlertSettings = SlowReconcileAlertSettings()
    """`FluxReconcileSlow`: the 95th percentile reconcile duration of a kind is too high."""
    reconcile_errors: ReconcileErrorsAlertSettings = ReconcileErrorsAlertSettings()
    """`FluxReconcileErrors`: a Flux reconciler keeps returning errors."""
    controller_absent: ControllerAbsentAlertSettings = ControllerAbsentAlertSettings()
    """`FluxControllerMetricsAbsent`: a configured controller's metrics disappeared."""
    stuck_workqueue: StuckWorkqueueAlertSettings = StuckWorkqueueAlertSettings()
    """`FluxWorkqueueStuck`: a reconciler's work queue stopped moving."""


class DashboardSettings(Model):
    enabled: bool = True
    """Ship the Flux overview and control-plane PersesDashboards in the Flux namespace while metrics are on (needs the perses.dev CRD)."""


class EventSettings(Model):
    enabled: bool = True
    """Ship Kubernetes events about Flux objects as log records while signals.logs is on."""
    namespaces: Optional[list[NamespaceName]] = Field(default=None, min_length=1)
    """collector mode: namespaces whose events the gateway watches (a Role in each). Default: the Flux namespace."""

    @field_validator("namespaces")
    @classmethod
    def _unique(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        duplicates = sorted({name for name in value or [] if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return value


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
    event_metadata: dict[EventMetadataKey, str] = Field(default_factory=dict)
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
        return [("exportToken", f"required with exporter type dash0: {how_to_set_secret('exportToken')}")]
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
    tracing_headers: Optional[dict[HeaderName, SecretHeaderValue]] = Field(
        default=None, json_schema_extra={"secret": True}
    )
    """Secret. Headers the Provider sends (e.g. Authorization) when `tracing.address` needs auth."""
    events: EventSettings = EventSettings()
    """Kubernetes events about Flux objects, as log records with the controller logs' attributes."""
    alerts: AlertSettings = AlertSettings()
    """Alert rules on Flux objects and controllers, as a PrometheusRule (the Dash0 operator syncs them as check rules)."""
    dashboards: DashboardSettings = DashboardSettings()
    """Flux dashboards, as PersesDashboards (the Dash0 operator syncs them to Dash0)."""
    object_health: ObjectHealthSettings = ObjectHealthSettings()
    """Flux object health: kube-state-metrics exposing every Flux object's readiness as metrics."""
    dash0_operator: Dash0OperatorSettings = Dash0OperatorSettings()
    """dash0-operator mode: where the operator's collector is and the Dash0Monitoring name."""

    @model_validator(mode="after")
    def _fits_mode(self) -> "StackConfig":
        wrong_mode = _OPERATOR_ONLY if self.mode == "collector" else _COLLECTOR_ONLY
        problems = [(to_camel(key), f"not allowed in mode {self.mode}") for key in wrong_mode if key in self.model_fields_set]
        if not (self.signals.metrics or self.signals.traces or self.signals.logs):
            problems.append(("signals", "at least one of metrics, traces, logs must be on"))
        if self.mode == "collector":
            if self.exporter is None:
                problems.append(("exporter", "required in mode collector (type dash0, otlp or debug)"))
            if self.signals.metrics and self.collector.replicas > 1:
                problems.append(("collector.replicas", "must be 1 while signals.metrics is on (each replica scrapes every target)"))
            problems += [
                (f"{section}.namespace", f"must not be the Flux namespace {self.flux.namespace}, which gets no workloads")
                for section, settings in (("collector", self.collector), ("logAgent", self.log_agent))
                if settings.namespace == self.flux.namespace
            ]
            if self.collector.namespace == self.log_agent.namespace:
                problems.append(("logAgent.namespace", "must differ from collector.namespace (Pod Security privileged vs restricted)"))
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
                problems.append(("objectHealth.namespace", "only in mode dash0-operator; collector mode uses collector.namespace"))
            if health.release_name == self.collector.release_name:
                problems.append(("objectHealth.releaseName", "must differ from collector.releaseName (same namespace)"))
        elif health.namespace == self.flux.namespace:
            problems.append(("objectHealth.namespace", "must not be the Flux namespace, which gets no workloads"))
        if problems:
            raise InvalidKey.each(problems)
        return self

    @model_validator(mode="after")
    def _events_fit(self) -> "StackConfig":
        problems = []
        if self.events.enabled and "enabled" in self.events.model_fields_set and not self.signals.logs:
            problems.append(("events.enabled", "needs signals.logs (events travel as log records)"))
        if self.mode != "collector" and self.events.namespaces is not None:
            problems.append(("events.namespaces", "only in mode collector; the operator collects the Flux namespace's events"))
        if self.mode == "collector" and self.events_enabled and self.collector.replicas > 1:
            problems.append(("collector.replicas", "must be 1 while events are on (each replica would watch every event)"))
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
    def object_health_enabled(self) -> bool:
        return self.signals.metrics and self.object_health.enabled

    @property
    def object_health_namespace(self) -> str:
        return self.collector.namespace if self.mode == "collector" else self.object_health.namespace

    def check_secrets(self, *, has_export_token: bool, has_tracing_headers: bool) -> None:
        """Rules on the secrets, which a program may pass as Outputs instead of stack config."""
        problems = []
        if self.mode == "collector" and self.exporter is not None:
            problems += export_token_problems(self.exporter, has_export_token)
        if has_tracing_headers and self.tracing.address is None:
            problems.append(("tracingHeaders", "needs tracing.address (the in-cluster endpoints take no auth)"))
        elif has_tracing_headers and self.tracing.address.startswith("http://"):
            problems.append(("tracingHeaders", "must not travel over http://; use an https:// tracing.address"))
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
def _config_entries() -> dict[str, str]:
    """Every config value of the stack, whether set by the CLI's environment or by tests."""
    return {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}


def _stack_entries(namespace: str) -> dict[str, str]:
    """Every `<namespace>:<key>` config value."""
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in _config_entries().items() if key.startswith(prefix)}


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


class FullKey(str):
    """A problem's key given with its own namespace (such as a misspelt `fluxcd-otle:dashboards`),
    shown as it is rather than under the namespace being checked."""


def format_errors(namespace: str, errors: list[tuple[str, str]]) -> str:
    lines = [f"invalid stack configuration ({len(errors)} problem{'s' if len(errors) != 1 else ''}):"]
    for path, reason in errors:
        if isinstance(path, FullKey):
            lines.append(f"  {path}: {reason}")
        else:
            lines.append(f"  {namespace}:{path}: {reason}" if path else f"  {namespace}: {reason}")
    return "\n".join(lines)


# --- secrets: how to set them -------------------------------------------------------------------------
def _in_a_pulumi_run() -> bool:
    return pulumi_settings.get_monitor() is not None


def how_to_set_secret(key: str, namespace: Optional[str] = None) -> str:
    """How to give a secret key a value, with the Pulumi CLI and for the offline render."""
    project = pulumi.get_project() if _in_a_pulumi_run() else c.PROJECT
    stack = pulumi.get_stack() if _in_a_pulumi_run() else "<stack>"
    namespace = namespace or project
    cli_key = key if namespace == project else f"{namespace}:{key}"
    if key == "tracingHeaders":
        return (
            f"set each header with `pulumi config set --secret --path '{cli_key}.<Header-Name>' <value> --stack {stack}`;"
            f" for the offline render, put `{namespace}:{key}: {{<Header-Name>: {{secure: <any text>}}}}` in the stack file"
        )
    return (
        f"set it with `pulumi config set --secret {cli_key} <value> --stack {stack}`;"
        f" for the offline render, put `{namespace}:{key}: {{secure: <any text>}}` in the stack file"
    )


def plain_secret_reason(key: str, namespace: Optional[str] = None) -> str:
    return (
        "is plain text, which Pulumi would store unencrypted; "
        f"{how_to_set_secret(key, namespace)} (in a Pulumi ESC environment, wrap the value in `fn::secret`)"
    )


# --- misspelt namespaces --------------------------------------------------------------------------------
def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _squeezed(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name).lower()


def is_near_miss(candidate: str, namespace: str) -> bool:
    """Whether a config namespace looks like a misspelling of `namespace` (edit distance up to 2,
    less for short names; case and separators aside)."""
    if candidate == namespace:
        return False
    allowed = min(2, len(namespace) // 4)
    return _squeezed(candidate) == _squeezed(namespace) or edit_distance(candidate.lower(), namespace) <= allowed


def namespace_near_misses(keys: Iterable[str], namespace: str = c.PROJECT, own: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Keys whose namespace is a near miss of `namespace`: the program would silently ignore them.

    Keys of other namespaces (`kubernetes:context`, `pulumi:...`) and of `own` (the running
    project's, when it is not `namespace`) are left alone."""
    own = set(own)
    problems: list[tuple[str, str]] = []
    for key in sorted(keys):
        prefix, colon, rest = key.partition(":")
        if not colon or prefix in own or not is_near_miss(prefix, namespace):
            continue
        problems.append(
            (
                FullKey(key),
                f"the namespace `{prefix}:` is not `{namespace}:`, so this key would be ignored;"
                f" did you mean `{namespace}:{rest}`?",
            )
        )
    return problems


# --- pydantic errors in words ---------------------------------------------------------------------------
def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            name = str(part) or '""'
            path += f".{name}" if path else name
    return path


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under Optional and Annotated, with the Annotated metadata found on the way."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata += extra
        elif origin in (Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_field(model: type[BaseModel], key: Any) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def type_at(loc: tuple[Any, ...], model: type[BaseModel] = StackConfig) -> tuple[Any, list[Any]]:
    """The declared type at a pydantic error location, and the metadata (constraints, Words) it
    carries; (None, []) where the location leaves the model."""
    current: Any = model
    metadata: list[Any] = []
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if _is_model(current):
            field = _model_field(current, part)
            if field is None:
                return None, []
            current, inner = unwrap(field.annotation)
            # Pydantic moves the Annotated metadata of a field's own type into the field.
            metadata = [*field.metadata, *inner]
        elif typing.get_origin(current) is list and isinstance(part, int):
            current, metadata = unwrap(typing.get_args(current)[0])
        elif typing.get_origin(current) is dict:
            key_type, value_type = typing.get_args(current)
            if parts and parts[0] == "[key]":
                parts.pop(0)
                current, metadata = unwrap(key_type)
            else:
                current, metadata = unwrap(value_type)
        else:
            return None, []
    return current, metadata


def words_of(metadata: Iterable[Any]) -> Optional[str]:
    return next((item.text for item in metadata if isinstance(item, Words)), None)


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys of a model level as users write them (camelCase)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def closest(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate `word` most likely misspells, if one is close (case and separators aside)."""
    by_squeezed = {_squeezed(candidate): candidate for candidate in candidates}
    squeezed = _squeezed(word)
    if squeezed in by_squeezed:
        return by_squeezed[squeezed]
    matches = difflib.get_close_matches(squeezed, list(by_squeezed), n=1, cutoff=0.75)
    return by_squeezed[matches[0]] if matches else None


def _value_at(raw: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(raw, dict):
            raw = raw.get(part)
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            return None
    return raw


def _unknown_key_reason(loc: tuple[Any, ...], raw: Any) -> str:
    model, _ = type_at(loc[:-1])
    if not _is_model(model):
        return "unknown key (check the spelling; see the configuration table in the README)"
    siblings = _value_at(raw, loc[:-1])
    given = set(siblings) if isinstance(siblings, dict) else set()
    keys = allowed_keys(model)
    # A key already given is not what the unknown one misspells (gpuLimit next to cpuLimit).
    suggestion = closest(str(loc[-1]), [key for key in keys if key not in given])
    if suggestion is not None:
        return f"unknown key; did you mean `{suggestion}`?"
    return f"unknown key (allowed here: {', '.join(keys)})"


def _input_in_words(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_SHAPE_ERRORS = {"string_pattern_mismatch", "string_too_long", "string_too_short"}


def _described_reason(error: dict[str, Any], words: str, annotation: Any, metadata: list[Any]) -> Optional[str]:
    """A type's words in place of pydantic's regex or "valid string" message."""
    value = error["input"]
    if error["type"] in _SHAPE_ERRORS and isinstance(value, str):
        got = "an empty string" if value == "" else repr(value)
        if error["type"] == "string_too_long":
            got += f" ({len(value)} characters)"
        return f"must be {words}; got {got}"
    if error["type"] == "string_type":
        reason = f"must be {words}; got {_input_in_words(value)}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                TypeAdapter(Annotated[(annotation, *metadata)]).validate_python(str(value))
            except ValidationError:
                return reason
            return f'{reason}; write it in quotes: "{value}"'
        return reason
    return None


def _reason(error: dict[str, Any], raw: Any = None) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return _unknown_key_reason(loc, raw)
    if error["type"] == "literal_error":
        reason = f"must be one of {error['ctx']['expected']}"
        options = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        suggestion = closest(error["input"], options) if isinstance(error["input"], str) else None
        return f"{reason}; did you mean '{suggestion}'?" if suggestion else reason
    if error["type"] == "model_type":
        return "must be a map of keys (see the configuration table in the README)"
    annotation, metadata = type_at(loc)
    words = words_of(metadata)
    if words is not None:
        described = _described_reason(error, words, annotation, metadata)
        if described is not None:
            return described
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {error['ctx']['pattern']}"
    return error["msg"].removeprefix("Value error, ")


def _problems(error: dict[str, Any], raw: Any = None) -> list[tuple[str, str]]:
    """(key path, reason) of one pydantic error; a cross-field check may name several keys."""
    loc = tuple(error["loc"])
    invalid_key = (error.get("ctx") or {}).get("error")
    if isinstance(invalid_key, InvalidKey):
        return [(_key_path(loc + tuple(key.split("."))), reason) for key, reason in invalid_key.problems]
    return [(_key_path(loc), _reason(error, raw))]


def _validated(raw: dict[str, Any]) -> tuple[Optional[StackConfig], list[tuple[str, str]]]:
    try:
        return StackConfig.model_validate(raw), []
    except ValidationError as err:
        return None, [problem for error in err.errors(include_url=False) for problem in _problems(error, raw)]


def parse_stack_config(raw: dict[str, Any], namespace: str = c.PROJECT) -> StackConfig:
    """Validates already-decoded key/values; raises ConfigError naming every bad key path."""
    config, problems = _validated(raw)
    if problems:
        raise ConfigError(format_errors(namespace, problems))
    return config


def load_stack_config(namespace: str = c.PROJECT) -> StackConfig:
    """Reads and validates this stack's configuration before any resource is declared."""
    near_misses = namespace_near_misses(_config_entries(), namespace, own={pulumi.get_project()})
    entries = _stack_entries(namespace)
    plain_secrets = [
        (key, plain_secret_reason(key, namespace))
        for key in SECRET_KEYS
        if key in entries and not _is_secret(f"{namespace}:{key}")
    ]
    config, problems = _validated({key: _decode(value) for key, value in entries.items()})
    if near_misses or plain_secrets or problems:
        raise ConfigError(format_errors(namespace, near_misses + plain_secrets + problems))
    return config
