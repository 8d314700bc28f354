"""Only the writers the package configures get through the gateway's OTLP receivers
(`gateway.receiverAuth`, docs/least-privilege.md).

The real gateway runs with the dev stack's rendered config and the environment the kubelet gives it
from the rendered token Secrets; the real log agent with its rendered config and its own Secret's
token. A client without the token, or with another, is refused by the collector's own
authenticator over OTLP/HTTP (Flux's path) and OTLP/gRPC (the log agents'), and nothing it sent
reaches the sink, while the same record with the token does. The tokens of the previous and next
generation are accepted, which is what lets a rotation roll out without refusing anyone.

notification-controller's spans through the Provider's Secret are checked in e2e/test_traces.py,
and in the engine tier (e2e/test_pulumi_engine.py), where the real Flux, log agent and gateway run
from the objects the engine created.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Iterator

import grpc
import pytest

from components import constants as c
from components.builders import receiver_auth
from e2e.harness.collector import (
    Collector,
    PodLog,
    Sink,
    collector_configs,
    gateway_and_agent,
    kubelet_env,
    localize,
    post_span,
)
from e2e.harness.kube import wait_until
from e2e.harness.render import RECEIVER_TOKENS, run_stack

LOGS_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
# What the collector answers a request without a token and one with another token
# (opentelemetry-collector-contrib@v0.158.0: extension/bearertokenauthextension/bearertokenauth.go).
MISSING = "missing or empty authorization header: Authorization"
WRONG = "provided authorization does not match expected scheme or token"


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field (wire type 2); the payloads here stay under 128 bytes."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def logs_request(body: str) -> bytes:
    """An ExportLogsServiceRequest with one record whose body is `body` (resource_logs = 1,
    scope_logs = 2, log_records = 2, LogRecord.body = 5, AnyValue.string_value = 1)."""
    record = _field(5, _field(1, body.encode()))
    return _field(1, _field(2, _field(2, record)))


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[dict]:
    workdir = tmp_path_factory.mktemp("receiver-auth")
    rendering = run_stack("dev")
    gateway_config, agent_config = gateway_and_agent(collector_configs(rendering))
    sink = Sink(workdir / "sink")
    local = localize(gateway_config, workdir=workdir / "gateway", export_to=sink, without=("k8s_objects", "prometheus"))
    env = kubelet_env(rendering)
    gateway = Collector("gateway", local, workdir / "gateway", env=env)
    pods = workdir / "pods"
    agent = Collector("agent", localize(agent_config, workdir=workdir / "agent", export_to=gateway.otlp_grpc_endpoint,
                                        pod_logs=pods), workdir / "agent", env=kubelet_env(rendering, agent_config))
    with sink, gateway, agent:
        yield {"sink": sink, "gateway": gateway, "env": env, "pods": pods,
               "http": f"http://{gateway.host}:{c.OTLP_HTTP_PORT}"}


def test_the_gateway_reads_the_three_generations_from_their_secrets(gateway):
    env = gateway["env"]
    assert [env[f"{receiver_auth.ENV}_{role.upper()}"] for role in receiver_auth.ROLES] == list(RECEIVER_TOKENS)


@pytest.mark.parametrize("token, answer", [(None, MISSING), ("not-the-token", WRONG)], ids=["without", "another"])
def test_a_span_without_the_token_is_refused_over_http(gateway, token, answer):
    with pytest.raises(urllib.error.HTTPError) as refused:
        post_span(gateway["http"], token=token)
    assert refused.value.code == 401
    assert answer in refused.value.read().decode()


@pytest.mark.parametrize("token, answer", [(None, MISSING), ("not-the-token", WRONG)], ids=["without", "another"])
def test_a_record_without_the_token_is_refused_over_grpc_and_never_reaches_the_sink(gateway, token, answer):
    forged, genuine = f"forged-{token}", f"genuine-after-{token}"
    with grpc.insecure_channel(gateway["gateway"].otlp_grpc_endpoint) as channel:
        export: grpc.UnaryUnaryMultiCallable = channel.unary_unary(LOGS_EXPORT)
        metadata: tuple[tuple[str, str | bytes], ...] = (("authorization", f"Bearer {token}"),) if token else ()
        with pytest.raises(grpc.RpcError) as refused:
            export(logs_request(forged), metadata=metadata, timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert answer.lower() in str(refused.value.details()).lower()
        # The same record with the token goes through: only the token made the difference.
        current = gateway["env"][f"{receiver_auth.ENV}_CURRENT"]
        export(logs_request(genuine), metadata=(("authorization", f"Bearer {current}"),), timeout=10)
    bodies = lambda: {record.body for record in gateway["sink"].logs()}  # noqa: E731
    wait_until(lambda: genuine in bodies(), timeout=60, what=f"{genuine!r} at the sink")
    assert forged not in bodies()


@pytest.mark.parametrize("role", ["previous", "next"])
def test_the_previous_and_next_generations_are_accepted(gateway, role):
    post_span(gateway["http"], token=gateway["env"][f"{receiver_auth.ENV}_{role.upper()}"])


def test_the_real_log_agent_gets_through_with_its_own_secret(gateway):
    # The line is written here because the property is the agent's token, not the line; real Flux
    # controllers' lines take the same path in e2e/test_real_flux.py and the engine tier.
    log = PodLog(gateway["pods"], c.FLUX_NAMESPACE, "kustomize-controller-5d8f7c9b6d-x4k2p")
    line = {"level": "info", "ts": "2026-11-30T05:00:00.000Z", "msg": "receiver-auth agent line"}
    log.write([json.dumps(line)])
    wait_until(lambda: any(record.body == line["msg"] for record in gateway["sink"].logs()), timeout=60,
               what=f"the agent's line at the sink (agent log:\n{gateway['gateway'].log_tail(10)})")
