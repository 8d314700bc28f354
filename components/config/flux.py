"""Sections about Flux itself: where it runs, which signals ship, its events and its `otel` Provider."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .. import constants as c
from .errors import InvalidKey
from .values import (
    EventMetadataKey,
    EventSourceName,
    GoRegex,
    LabelKey,
    LabelValue,
    Model,
    NamespaceName,
    ObjectName,
    ProviderTimeout,
    http_url,
)


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


class EventSettings(Model):
    enabled: bool = True
    """Ship Kubernetes events about Flux objects as log records while signals.logs is on."""
    namespaces: Optional[list[NamespaceName]] = Field(default=None, min_length=1)
    """collector mode: namespaces whose events the gateway watches (a Role in each). Default: the Flux namespace."""

    @field_validator("namespaces")
    @classmethod
    def _unique(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        names = value or []
        duplicates = sorted({name for name in names if names.count(name) > 1})
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

    @field_validator("event_metadata")
    @classmethod
    def _no_trace_id_keys(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [
            (key, "is one of the keys notification-controller makes the trace ID from"
                  f" ({', '.join(c.FLUX_TRACE_ID_KEYS)}): events without their own would all share this"
                  " trace, and on the rest the Alert gets a MetadataAppendFailed warning; choose another name")
            for key in sorted(value) if key in c.FLUX_TRACE_ID_KEYS
        ]
        if problems:
            raise InvalidKey.each(problems)
        return value

    @field_validator("address")
    @classmethod
    def _address_is_url(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else http_url(value)
