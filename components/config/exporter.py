"""The `exporter` section: the backend the gateway sends to, and the rules on its credentials."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .. import constants as c
from .errors import InvalidKey
from .secrets import how_to_set_secret
from .values import HeaderName, HeaderValue, Model, host_port, otlp_grpc_url, otlp_url, problems_of

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
                problems += problems_of("endpoint", host_port, self.endpoint)
        if self.type == "otlp":
            if self.endpoint is None:
                problems.append(("endpoint", "required with type otlp"))
            else:
                problems += problems_of("endpoint", otlp_url if self.protocol == "http" else otlp_grpc_url, self.endpoint)
        if problems:
            raise InvalidKey.each(problems)
        return self

    @property
    def plaintext(self) -> bool:
        return self.type == "otlp" and self.endpoint is not None and self.endpoint.startswith("http://")


def export_token_problems(exporter: ExporterSettings, has_token: bool) -> list[tuple[str, str]]:
    if exporter.type == "dash0" and not has_token:
        return [("exportToken", f"required with exporter type dash0: {how_to_set_secret('exportToken')}")]
    if exporter.type == "debug" and has_token:
        return [("exportToken", "not used with exporter type debug")]
    if exporter.plaintext and has_token:
        return [("exportToken", "must not travel over http://; use an https:// exporter.endpoint")]
    return []
