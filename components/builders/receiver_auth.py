"""Pure builder of the gateway's receiver authentication (`gateway.receiverAuth`): the Secrets that
hold the receiver tokens, how the gateway reads them and how its writers send theirs. Only names
and shapes are built here; the tokens stay secret Outputs.

Rotation without a refused writer: the gateway accepts three generations of the token, the
previous, the current and the next. Raising `generation` by one makes the next token current:
every writer already holding a token is accepted by the gateway pods still running and by those
that replace them, whichever rolls first; the previous token goes only at the rotation after.
"""

from __future__ import annotations

import secrets
from typing import Any

from .. import constants as c
from ..config import GatewaySettings, SignalSettings

AUTHENTICATOR = f"{c.Component.BEARER_TOKEN_AUTH}/writers"
TOKEN_KEY = "token"
ENV = "FLUXCD_OTEL_RECEIVER_TOKEN"
SCHEME = "Bearer "
ROLES = {"previous": -1, "current": 0, "next": 1}
"""Each generation the gateway accepts, by its offset from the current one."""


def required(gateway: GatewaySettings, signals: SignalSettings) -> bool:
    """Whether the gateway's receivers take only requests with a token: the switch is on and the
    gateway has OTLP receivers (logs from the log agents, traces from Flux)."""
    return gateway.receiver_auth.enabled and (signals.logs or signals.traces)


def new_token() -> str:
    """256 random bits, URL-safe: a header value needs no escaping."""
    return secrets.token_urlsafe(32)


def token_secret_name(release_name: str, generation: int) -> str:
    """The Secret of one generation's token; its writers' copies carry the same name in their namespaces."""
    return f"{release_name}-receiver-token-{generation}"


def generations(current: int) -> dict[str, int]:
    return {role: current + offset for role, offset in ROLES.items()}


def secret_env(name: str, secret_name: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": TOKEN_KEY}}}


def gateway_env(release_name: str, current: int) -> list[dict[str, Any]]:
    """The gateway container's variables, one per accepted generation. Their names stay the same
    from one rotation to the next; only the Secrets they read change, which rolls the pods."""
    return [secret_env(f"{ENV}_{role.upper()}", token_secret_name(release_name, generation))
            for role, generation in generations(current).items()]


def authenticator() -> dict[str, Any]:
    """The `bearertokenauth` extension that checks every request to the OTLP receivers."""
    return {"tokens": [f"${{env:{ENV}_{role.upper()}}}" for role in ROLES]}


def receiver_auth() -> dict[str, Any]:
    """What each OTLP protocol's server settings take to require the authenticator."""
    return {"authenticator": AUTHENTICATOR}


def writer_headers() -> dict[str, str]:
    """The log agent's exporter headers; the collector reads the token from the agent's own Secret
    through its environment (`writer_env`). A header, not the client side of `bearertokenauth`,
    which refuses a gRPC connection without TLS."""
    return {c.AUTHORIZATION_HEADER.lower(): f"{SCHEME}${{env:{ENV}}}"}


def writer_env(secret_name: str) -> list[dict[str, Any]]:
    return [secret_env(ENV, secret_name)]


def provider_headers(token: str) -> dict[str, str]:
    """The Provider Secret's headers: notification-controller sends them with every span."""
    return {c.AUTHORIZATION_HEADER: f"{SCHEME}{token}"}
