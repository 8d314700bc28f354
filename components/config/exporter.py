"""The `exporter` section: the backend the gateway sends to, and the rules on its credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Optional
from urllib.parse import urlsplit

from pydantic import (
    Field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from .. import constants as c
from .errors import InvalidKey
from .secrets import how_to_set_secret
from .values import BasicAuthUsername, HeaderName, HeaderValue, Model, host_port, http_url, otlp_grpc_url, problems_of

ExporterType = Literal["dash0", "otlp", "debug"]
_EXPORTER_KEYS: dict[str, set[str]] = {
    "dash0": {"region", "endpoint", "dataset"},
    "otlp": {"endpoint", "protocol", "headers", "username"},
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
    """otlp: extra headers that are not secret (such as a tenant). Credentials go in the `exportHeaders` secret."""
    username: Optional[BasicAuthUsername] = None
    """otlp: the Basic auth user name; the password is the `exportPassword` secret."""
    verbosity: Literal["basic", "normal", "detailed"] = "basic"
    """debug: how much the debug exporter prints."""

    @field_validator("headers")
    @classmethod
    def _no_credentials(cls, value: dict[str, str]) -> dict[str, str]:
        problems = [
            (name, "looks like a credential, which plain config would store unencrypted; give it as a secret header:"
                   f" {how_to_set_secret('exportHeaders', entries=True)}")
            for name in value
            if c.is_credential_header(name)
        ]
        if problems:
            raise InvalidKey.each(problems)
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
                problems += [
                    (key, "type dash0 needs exactly one of region or endpoint") for key in ("region", "endpoint")
                ]
            elif self.endpoint is not None:
                problems += problems_of("endpoint", host_port, self.endpoint)
        if self.type == "otlp":
            if self.endpoint is None:
                problems.append(("endpoint", "required with type otlp"))
            else:
                problems += problems_of(
                    "endpoint", http_url if self.protocol == "http" else otlp_grpc_url, self.endpoint
                )
                problems += self._endpoint_fits_protocol()
        if problems:
            raise InvalidKey.each(problems)
        return self

    def _endpoint_fits_protocol(self) -> list[tuple[str, str]]:
        """OTLP's own ports say which protocol an endpoint speaks, and the http exporter adds the
        signal's path itself: a mismatch would send every export where nothing understands it."""
        parts = urlsplit(self.endpoint or "")
        try:
            port = parts.port
        except ValueError:
            return []  # already reported as an invalid port
        if self.protocol == "grpc" and port == c.OTLP_HTTP_PORT:
            return [("endpoint", f"port {port} is OTLP/HTTP's, but exporter.protocol is grpc (the default):"
                                 f" use the backend's gRPC port (OTLP's is {c.OTLP_GRPC_PORT})"
                                 " or set exporter.protocol: http")]
        if self.protocol == "http" and port == c.OTLP_GRPC_PORT:
            return [("endpoint", f"port {port} is OTLP/gRPC's, but exporter.protocol is http: use the backend's HTTP"
                                 f" port (OTLP's is {c.OTLP_HTTP_PORT}) or set exporter.protocol: grpc")]
        signal_path = next((path for path in c.OTLP_SIGNAL_PATHS if parts.path.rstrip("/").endswith(path)), None)
        if self.protocol == "http" and signal_path:
            assert self.endpoint is not None  # a signal path was found in it
            base = self.endpoint.rstrip("/")[: -len(signal_path)]
            return [("endpoint", f"ends in {signal_path}, but the exporter adds {', '.join(c.OTLP_SIGNAL_PATHS)}"
                                 f" itself; give the base URL, {base}")]
        return []

    @property
    def plaintext(self) -> bool:
        return self.type == "otlp" and self.endpoint is not None and self.endpoint.startswith("http://")


@dataclass(frozen=True)
class ExportCredentials:
    """Which secret credentials the gateway's exporter is given. Only their presence and the header
    names decide the collector config; the values stay secret Outputs until a Kubernetes Secret."""

    token: bool = False
    password: bool = False
    headers: tuple[str, ...] = ()

    @classmethod
    def of(cls, token: object, password: object, headers: Optional[Mapping[str, object]]) -> "ExportCredentials":
        """The credentials of a token, a password and a map of secret headers, each None if not given."""
        return cls(token=token is not None, password=password is not None, headers=tuple(headers or ()))

    @property
    def given(self) -> list[str]:
        """The secret keys given, as a user writes them."""
        return (
            ["exportToken"] * self.token + ["exportPassword"] * self.password + ["exportHeaders"] * bool(self.headers)
        )


def export_credential_problems(exporter: ExporterSettings, credentials: ExportCredentials) -> list[tuple[str, str]]:
    """The rules on the export secrets, which a program may pass as Outputs instead of stack config."""
    if exporter.type == "debug":
        return [(key, "not used with exporter type debug") for key in credentials.given]
    if exporter.type == "dash0":
        problems = [
            (key, "not used with exporter type dash0, which takes exportToken")
            for key in credentials.given
            if key != "exportToken"
        ]
        if not credentials.token:
            problems.append(("exportToken", f"required with exporter type dash0: {how_to_set_secret('exportToken')}"))
        return problems
    if exporter.plaintext:
        return [(key, "must not travel over http://; use an https:// exporter.endpoint") for key in credentials.given]
    problems = []
    if credentials.token and credentials.password:
        reason = "give one of exportToken (Bearer) and exportPassword (Basic auth with exporter.username), not both"
        problems += [("exportToken", reason), ("exportPassword", reason)]
    if credentials.password and exporter.username is None:
        problems.append(("exporter.username", "required with exportPassword (Basic auth)"))
    if exporter.username is not None and not credentials.password:
        problems.append(
            ("exportPassword", f"required with exporter.username (Basic auth): {how_to_set_secret('exportPassword')}")
        )
    plain = {name.lower() for name in exporter.headers}
    seen: set[str] = set()
    for name in credentials.headers:
        if name.lower() in seen:
            problems.append((f"exportHeaders.{name}", "given twice (header names ignore case)"))
        elif name.lower() in plain:
            problems.append((f"exportHeaders.{name}", "also in exporter.headers; give each header once"))
        elif name.lower() == c.AUTHORIZATION_HEADER.lower() and (credentials.token or credentials.password):
            problems.append((f"exportHeaders.{name}", "exportToken or exportPassword already sets Authorization"))
        seen.add(name.lower())
    return problems
