"""Who may reach the package's pods (builders/network_policies.py, through the plan): the gateway
takes OTLP only from the namespaces that write to it, and no rule admits every source. The real
tier checks that the selectors match the pods the real charts create (e2e/test_pulumi_engine.py)."""

from typing import Any

import pytest

from components import constants as c
from components.builders.plan import Plan
from components.config import parse_stack_config

MINIMAL = {"clusterName": "test", "exporter": {"type": "debug"}}


def policies(**overrides: Any) -> dict[str, dict[str, Any]]:
    plan = Plan.of(parse_stack_config({**MINIMAL, **overrides}))
    return {f"{p['metadata']['namespace']}/{p['metadata']['name']}": p["spec"] for p in plan.network_policies}


def otlp_writers(spec: dict[str, Any]) -> set[str]:
    """The namespaces admitted to the OTLP ports."""
    return {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for rule in spec["ingress"] if {"port": c.OTLP_GRPC_PORT, "protocol": "TCP"} in rule["ports"]
            for peer in rule["from"]}


GATEWAY = "flux-otel/flux-otel-gateway"
CASES = {
    "defaults": ({}, {"flux-system", "flux-otel-logs"}),
    "spans-elsewhere": ({"tracing": {"address": "http://otel.example.com:4318"}}, {"flux-otel-logs"}),
    "no-logs": ({"signals": {"logs": False}}, {"flux-system"}),
    "no-writers": ({"signals": {"logs": False, "traces": False}}, set()),
    "other-namespaces": ({"flux": {"namespace": "gitops"}, "logAgent": {"namespace": "agents"}}, {"gitops", "agents"}),
}


@pytest.mark.parametrize("overrides, writers", CASES.values(), ids=CASES.keys())
def test_the_gateway_takes_otlp_only_from_the_namespaces_that_write_to_it(overrides, writers):
    assert otlp_writers(policies(**overrides)[GATEWAY]) == writers


@pytest.mark.parametrize("overrides", [overrides for overrides, _ in CASES.values()], ids=CASES.keys())
def test_every_rule_names_its_sources_and_ports(overrides):
    """An ingress rule without `from` admits every source, one without `ports` every port."""
    for spec in policies(**overrides).values():
        assert spec["policyTypes"] == ["Ingress"]
        assert all(rule["from"] and rule["ports"] for rule in spec["ingress"]), spec


def test_the_agent_and_kube_state_metrics_serve_their_metrics_only():
    found = policies()
    assert set(found) == {GATEWAY, "flux-otel-logs/flux-otel-logs", "flux-otel/flux-object-health"}
    gateway_pods = found[GATEWAY]["podSelector"]
    (health_rule,) = found["flux-otel/flux-object-health"]["ingress"]
    assert health_rule == {"from": [{"podSelector": gateway_pods}],
                           "ports": [{"protocol": "TCP", "port": c.KSM_METRICS_PORT}]}
    agent = found["flux-otel-logs/flux-otel-logs"]
    (agent_rule,) = agent["ingress"]
    assert agent_rule == {"from": [{"podSelector": agent["podSelector"]}],
                          "ports": [{"protocol": "TCP", "port": c.COLLECTOR_TELEMETRY_PORT}]}


def test_they_can_be_turned_off_and_the_dash0_operator_mode_has_none():
    assert policies(networkPolicies={"enabled": False}) == {}
    operator = Plan.of(parse_stack_config({"clusterName": "test", "mode": "dash0-operator"}))
    assert operator.network_policies == []
