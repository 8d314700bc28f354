"""The receiver authentication's names and shapes: the gateway requires the token on every OTLP
protocol it serves, reads the three generations from their Secrets, and its writers send the
current one. (The real gateway's refusals: e2e/test_receiver_auth.py.)"""

import pytest

from components.builders import receiver_auth
from components.builders.collector_configs import gateway_config, log_agent_config
from components.builders.plan import Plan
from components.config import (
    ExporterSettings,
    GatewaySettings,
    LogAgentSettings,
    SendingQueueSettings,
    SignalSettings,
    parse_stack_config,
)
from tests.helpers import assert_valid_collector_config


def gateway(authenticated, signals=SignalSettings()):
    return gateway_config(cluster_name="c1", signals=signals, gateway=GatewaySettings(),
                          exporter_settings=ExporterSettings(type="debug"), scrape_targets=["t:8080"],
                          authenticated=authenticated)


@pytest.mark.parametrize("signals", [SignalSettings(), SignalSettings(logs=False), SignalSettings(traces=False)])
def test_every_otlp_protocol_requires_the_token_the_extension_checks(signals):
    config = gateway(True, signals)
    assert_valid_collector_config(config)
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols and all(server["auth"] == {"authenticator": receiver_auth.AUTHENTICATOR}
                             for server in protocols.values())
    assert receiver_auth.AUTHENTICATOR in config["service"]["extensions"]
    tokens = config["extensions"][receiver_auth.AUTHENTICATOR]["tokens"]
    assert tokens == [f"${{env:{env['name']}}}" for env in receiver_auth.gateway_env("gw", 5)]


def test_without_authentication_no_protocol_asks_for_a_token():
    config = gateway(False)
    assert not [server for server in config["receivers"]["otlp"]["protocols"].values() if "auth" in server]
    assert receiver_auth.AUTHENTICATOR not in config["extensions"]


def test_the_gateway_reads_the_previous_current_and_next_generation():
    read = {env["name"]: env["valueFrom"]["secretKeyRef"] for env in receiver_auth.gateway_env("gw", 5)}
    assert read == {f"{receiver_auth.ENV}_{role}": {"name": f"gw-receiver-token-{generation}",
                                                    "key": receiver_auth.TOKEN_KEY}
                    for role, generation in (("PREVIOUS", 4), ("CURRENT", 5), ("NEXT", 6))}


def test_the_agent_sends_the_token_its_environment_holds():
    config = log_agent_config(flux_namespace="flux-system", controllers=["source-controller"], agent=LogAgentSettings(),
                              gateway_otlp_grpc="gw.ns.svc:4317", queue=SendingQueueSettings(), authenticated=True)
    assert_valid_collector_config(config)
    (exporter,) = config["exporters"].values()
    assert exporter["headers"] == {"authorization": f"Bearer ${{env:{receiver_auth.ENV}}}"}
    assert receiver_auth.writer_env("agent-token") == [
        {"name": receiver_auth.ENV, "valueFrom": {"secretKeyRef": {"name": "agent-token", "key": "token"}}}]


@pytest.mark.parametrize("settings, required, provider", [
    ({}, True, True),
    ({"gateway": {"receiverAuth": {"enabled": False}}}, False, False),
    ({"signals": {"traces": False, "logs": False}}, False, False),
    ({"signals": {"logs": False}}, True, True),
    ({"tracing": {"address": "https://otlp.example.com"}}, True, False),
], ids=["default", "off", "metrics-only", "traces-only", "spans-elsewhere"])
def test_the_plan_requires_the_token_where_the_gateway_has_writers(settings, required, provider):
    plan = Plan.of(parse_stack_config({"clusterName": "c", "exporter": {"type": "debug"}, **settings}))
    assert (plan.receiver_auth, plan.provider_token) == (required, provider)
    secrets = {obj.name for obj in plan.objects if obj.kind == "Secret"}
    assert ("flux-otel-gateway-receiver-token-1" in secrets) == required
    assert ("otel-auth" in secrets) == provider


def test_tokens_are_long_random_and_header_safe():
    tokens = {receiver_auth.new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) >= 43 and token.replace("-", "").replace("_", "").isalnum() for token in tokens)
