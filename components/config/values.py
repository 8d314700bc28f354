"""Value types of the configuration: what each constrained string allows, checked and explained
in words, and the conversions the builders need (CPU, memory, durations)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    SecretStr,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from .. import constants as c
from ..internals import PYTHON_ONLY_REGEX_OPERATORS, regex_operators


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
    Words(
        "the start of a Prometheus metric name such as gotk_: letters, digits, '_' and ':', not starting with a digit"
    ),
]
MemoryQuantity = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*(Mi|Gi)$"), Words(MEMORY_WORDS)]
HeaderName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"),
    Words("an HTTP header name such as X-Tenant: letters, digits and !#$%&'*+-.^_|~, no spaces or ':'"),
]
# What YAML reads as null, a boolean or a number when unquoted. Pulumi hands config over as text, so
# `clusterName: true` arrives as 'true'; no cluster is named so, and the label would mislead.
_NOT_TEXT_IN_YAML = re.compile(r"(?i)null|~|true|false|[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?")


def _cluster_name_is_text(value: str) -> str:
    if _NOT_TEXT_IN_YAML.fullmatch(value):
        raise ValueError(f"got {value!r}, which YAML reads as null, a boolean or a number, not a name")
    return value


ClusterName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=253, pattern=r"^[^\s\x00-\x1f\x7f]+$"),
    AfterValidator(_cluster_name_is_text),
    Words("a cluster name: 1 to 253 characters, without spaces or control characters, and not null, true, false"
          " or a number"),
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
    str,
    StringConstraints(pattern=r"^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$"),
    AfterValidator(_positive_cpu),
    Words(CPU_WORDS),
]
HeaderValue = Annotated[str, AfterValidator(_single_line), Words("one line of text without control characters")]
SecretHeaderValue = Annotated[SecretStr, AfterValidator(_single_line_secret)]
# Each secret export header reaches the collector as an environment variable named after it.
SecretHeaderName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$"),
    Words("an HTTP header name of letters, digits and '-', such as x-honeycomb-team"),
]


def _user_id(value: str) -> str:
    # RFC 7617: the user-id of Basic auth cannot contain a colon.
    if ":" in value:
        raise ValueError("must not contain ':', which separates the user name from the password")
    return _single_line(value)


BasicAuthUsername = Annotated[
    str,
    StringConstraints(min_length=1),
    AfterValidator(_user_id),
    Words("a user name: one line without ':' or control characters"),
]
LabelKey = Annotated[
    str,
    AfterValidator(_label_key),
    Words("a Kubernetes label key: [DNS-subdomain prefix/]name, the name up to 63 letters, digits, '-', '_' or '.'"),
]
LabelValue = Annotated[
    str,
    AfterValidator(_label_value),
    Words(
        "a Kubernetes label value: up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or "
        "digit"
    ),
]
EventSourceName = Annotated[
    str,
    AfterValidator(_object_name_or_wildcard),
    Words("'*' or a Kubernetes object name (lowercase letters, digits, '-' and '.')"),
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
def _go_regex(value: str) -> str:
    try:
        # Go spells named groups (?<name>) as well as (?P<name>); Python 3.11 knows only the latter.
        python_spelling = re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", value)
        re.compile(python_spelling)
        operators = regex_operators(python_spelling)
    except re.error as err:
        raise ValueError(f"is not a valid regular expression ({err})") from None
    if _NOT_RE2.search(value):
        raise ValueError("uses look-around or back-references, which Go regular expressions lack")
    if PYTHON_ONLY_REGEX_OPERATORS & operators:
        raise ValueError(
            "uses atomic groups, possessive quantifiers or conditionals, which Go regular expressions lack"
        )
    return value


GoRegex = Annotated[str, AfterValidator(_go_regex), Words("a Go (RE2) regular expression")]


def memory_mib(quantity: str) -> int:
    """A validated memory quantity (Mi or Gi) in MiB."""
    amount, unit = int(quantity[:-2]), quantity[-2:]
    return amount * 1024 if unit == "Gi" else amount


def queue_volume_mib(outage_seconds: float) -> int:
    """Room for an outage's worth of queue, as measured at the default expected load, twice over."""
    return math.ceil(2 * c.QUEUE_DISK_BYTES_PER_SECOND * outage_seconds / 2**20)


class Model(BaseModel):
    # Each field's description is the docstring under it. Only the generated files show them, and
    # pydantic's `use_attribute_docstrings` would read every model's source on each import (40 ms, a
    # quarter of the package's import in a `pulumi preview`), so tooling/descriptions.py reads them.
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


def problems_of(key: str, check, value: str) -> list[tuple[str, str]]:
    try:
        check(value)
    except ValueError as err:
        return [(key, str(err))]
    return []


def host_port(value: str) -> str:
    host, _, port = value.rpartition(":")
    if not re.fullmatch(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]", host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"endpoint {value!r} must be host:port")
    return value


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} must be an http:// or https:// URL with a host")
    if parts.username is not None:
        raise ValueError(
            "must not carry credentials (user:password@), which would be stored in clear; use a secret key"
        )
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{value!r} has an invalid port (allowed: 1-65535)")
    return value


ChartRepository = Annotated[
    str, AfterValidator(http_url), Words("an http:// or https:// Helm chart repository URL, such as a mirror's")
]


def otlp_grpc_url(value: str) -> str:
    """gRPC dials host:port; the URL scheme only selects TLS."""
    parts = urlsplit(http_url(value))
    if parts.port is None or parts.path not in ("", "/"):
        raise ValueError(
            f"endpoint {value!r} must be http(s)://host:port with an explicit port and no path for protocol grpc"
        )
    return value


_PROMETHEUS_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
# Whole units, largest first: a subset of what Prometheus and the PrometheusRule CRD accept.
PROMETHEUS_DURATION = r"(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?"
# Prometheus sets `alertname` itself; `severity` comes from each alert's own setting.
RULE_OWNED_LABELS = ("alertname", "severity")


def prometheus_duration_seconds(duration: str) -> int:
    """A validated Prometheus duration (such as 1h30m) in seconds."""
    return sum(
        int(amount) * _PROMETHEUS_UNIT_SECONDS[unit] for amount, unit in re.findall(r"([0-9]+)([dhms])", duration)
    )


def _prometheus_duration(value: str) -> str:
    if not re.fullmatch(PROMETHEUS_DURATION, value):
        raise ValueError(f"must be {PROMETHEUS_DURATION_WORDS}; got {value!r}")
    if prometheus_duration_seconds(value) == 0:
        raise ValueError("must be longer than zero")
    return value


def _label_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) or value.startswith("__"):
        raise ValueError(
            f"{value!r} is not a Prometheus label name: letters, digits and '_', not starting with a digit or '__'"
        )
    return value


def _alert_label_name(value: str) -> str:
    if _label_name(value) in RULE_OWNED_LABELS:
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
LabelName = Annotated[
    str,
    AfterValidator(_label_name),
    Words(
        "a Prometheus label name such as k8s_cluster_name: letters, digits and '_', not starting with a digit or '__'"
    ),
]
AlertLabelValue = Annotated[str, AfterValidator(_alert_label_value), Words("a label value without '{{'")]
def _runbook_url(value: str) -> str:
    if "#" in http_url(value):
        raise ValueError(f"{value!r} must not carry a '#': each alert adds its own anchor")
    return value


RunbookUrl = Annotated[
    str,
    AfterValidator(_runbook_url),
    Words("an http:// or https:// address such as https://wiki.example.com/flux, without '#'"),
]
Severity = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_-]*$"),
    Words("a severity such as warning or critical: lowercase letters, digits, '_' and '-', starting with a letter"),
]
