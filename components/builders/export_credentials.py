"""Pure builder of the path the export secrets take to the backend: each becomes a key of one
Kubernetes Secret, an environment variable of the gateway container taken from that key, and a
header of the gateway's exporter that reads the variable (`${env:...}`), as the collector expands
it when it loads its config. Only names are built here; the values stay secret Outputs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from .. import constants as c
from ..config import ExportCredentials

ENV_PREFIX = "FLUXCD_OTEL_EXPORT_"


@dataclass(frozen=True)
class SecretHeader:
    header: str
    """The HTTP header the exporter sends."""
    secret_key: str
    """Its key in the credentials Secret."""
    env: str
    """The container's environment variable that carries it."""
    scheme: str = ""
    """What precedes the secret in the header value (`Bearer `, `Basic `)."""

    @property
    def config_value(self) -> str:
        return f"{self.scheme}${{env:{self.env}}}"


BEARER_TOKEN = SecretHeader(c.AUTHORIZATION_HEADER, "token", f"{ENV_PREFIX}TOKEN", "Bearer ")
BASIC_AUTH = SecretHeader(c.AUTHORIZATION_HEADER, "basic-auth", f"{ENV_PREFIX}BASIC_AUTH", "Basic ")


def header_secret(name: str) -> SecretHeader:
    """A secret header of `exportHeaders`; its name (letters, digits, '-') fits a Secret key and,
    upper-cased with '_', an environment variable name."""
    return SecretHeader(name, f"header-{name.lower()}", f"{ENV_PREFIX}HEADER_{name.upper().replace('-', '_')}")


def secret_headers(credentials: ExportCredentials) -> list[SecretHeader]:
    return (
        [BEARER_TOKEN] * credentials.token
        + [BASIC_AUTH] * credentials.password
        + [header_secret(name) for name in sorted(credentials.headers)]
    )


def basic_credentials(username: str, password: str) -> str:
    """The Basic auth credentials as the header carries them (RFC 7617): base64 of `user:password`."""
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def credentials_secret_name(release_name: str) -> str:
    return f"{release_name}-export-credentials"


def secret_env(secret_name: str, headers: list[SecretHeader]) -> list[dict[str, Any]]:
    """The container environment that hands each secret header to the collector."""
    return [
        {"name": header.env, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": header.secret_key}}}
        for header in headers
    ]
