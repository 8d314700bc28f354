"""Bad input gets one clear error and creates nothing: the corpus in invalid_configs.yaml, run
through the real program (e2e/test_command_line.py runs cases of it through the render command)."""

import re
from collections import Counter

import pytest
import yaml

from components import constants as c
from components.config import ConfigError
from components.tooling.render import RecordingMocks
from e2e.harness.render import ROOT, run_stack

CASES = yaml.safe_load((ROOT / "tests" / "properties" / "invalid_configs.yaml").read_text())["cases"]
CASE_FIELDS = {"id", "category", "stack", "set", "secrets", "plain", "paths", "allowed"}
# The kinds of mistake issue 3 lists, by the category names the corpus uses.
ISSUE_CATEGORIES = {
    "wrong-type",
    "unknown-key",
    "controller-list",
    "kubernetes-name",
    "endpoint",
    "token-over-http",
    "go-regex",
    "event-source-kind",
    "severity",
    "interval-size",
    "missing-token",
    "plain-token",
    "version",
    "wrong-mode",
}
# Every object of the configuration, as the parent path of the keys in it ("" is the top level).
LEVELS = {
    "",
    "signals",
    "flux",
    "gateway",
    "gateway.image",
    "gateway.resources",
    "logAgent",
    "logAgent.resources",
    "exporter",
    "tracing",
    "tracing.eventSources",
    "dash0Operator",
}
PROBLEM_LINE = re.compile(rf"^  {re.escape(c.PROJECT)}:(?P<path>[^:]*): ", re.MULTILINE)


def level(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path).rpartition(".")[0]


def fragments(case) -> list[str]:
    allowed = case["allowed"]
    return [allowed] if isinstance(allowed, str) else allowed


def leaf_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaf_strings(item)]
    return [value] if isinstance(value, str) else []


def test_corpus_is_large_and_well_formed():
    assert len(CASES) >= 60
    ids = Counter(case["id"] for case in CASES)
    assert [case_id for case_id, count in ids.items() if count > 1] == []
    for case in CASES:
        assert set(case) <= CASE_FIELDS, case["id"]
        assert case["paths"] and fragments(case), case["id"]
        assert case.get("stack", "dev") in ("dev", "prod", "dash0-operator"), case["id"]


def test_corpus_covers_every_kind_of_mistake_the_issue_lists():
    assert ISSUE_CATEGORIES <= {case["category"] for case in CASES}


def test_corpus_has_unknown_keys_at_every_level_and_mistakes_everywhere():
    unknown_key_levels = {level(path) for case in CASES if case["category"] == "unknown-key" for path in case["paths"]}
    assert LEVELS <= unknown_key_levels
    assert LEVELS <= {level(path) for case in CASES for path in case["paths"]}


def test_corpus_has_cases_with_several_mistakes():
    assert len([case for case in CASES if len(case["paths"]) >= 2]) >= 5
    assert any(len(case["paths"]) >= 3 for case in CASES)


def run_case(case):
    """Runs the real program on the case; returns the error message and what was registered."""
    mocks = RecordingMocks()
    overrides = {**(case.get("set") or {}), **(case.get("plain") or {})}
    with pytest.raises(ConfigError) as caught:
        run_stack(case.get("stack", "dev"), overrides=overrides, secrets=case.get("secrets"), mocks=mocks)
    return str(caught.value), mocks.resources


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_invalid_configuration_fails_with_one_message_naming_every_path(case):
    message, registered = run_case(case)
    assert registered == []
    assert "Traceback" not in message
    assert "Input should" not in message, "pydantic's own words instead of the project's"
    problems = len(case["paths"])
    assert message.startswith(f"invalid stack configuration ({problems} problem{'s' if problems > 1 else ''}):")
    for path in case["paths"]:
        assert f"{c.PROJECT}:{path}: " in message
    assert sorted(PROBLEM_LINE.findall(message)) == sorted(case["paths"]), message
    for fragment in fragments(case):
        assert fragment in message
    for value in leaf_strings(case.get("secrets")) + leaf_strings(case.get("plain")):
        assert value not in message, "a secret value was echoed"


# Values next to the corpus's mistakes that are valid and must stay accepted: (overrides, secrets).
NEAR_MISSES = {
    "otlp-http-endpoint-without-port": (
        {"exporter": {"type": "otlp", "protocol": "http", "endpoint": "https://otlp.example.com/otlp"}}, None),
    "otlp-grpc-endpoint-ipv6": ({"exporter": {"type": "otlp", "endpoint": "https://[fd00::1]:4317"}}, None),
    "dash0-endpoint-host-port": (
        {"exporter": {"type": "dash0", "endpoint": "ingress.eu-west-1.aws.dash0.com:4317"}}, {"exportToken": "auth_x"}),
    "image-from-registry-with-port": (
        {"gateway": {"image": {"repository": "registry.local:5000/otel/otelcol-k8s"}}}, None),
    "go-regexes": ({"tracing": {"inclusionList": ["(?<kind>Git)Repository", "[*+]x", "a{2,3}?", "(?i)^health"]}}, None),
    "prefixed-label-key-and-empty-value": ({"tracing": {"eventSources": [
        {"kind": "Kustomization", "matchLabels": {"app.kubernetes.io/name": "web", "tier": ""}}]}}, None),
    "dotted-event-metadata-key": (
        {"tracing": {"eventMetadata": {"k8s.cluster.region": "eu-west-1", "team/owner": "a b"}}}, None),
    "fractional-cpu": ({"logAgent": {"resources": {
        "cpuRequest": "0.05", "cpuLimit": "0.2", "memoryRequest": "64Mi", "memoryLimit": "256Mi"}}}, None),
    "dotted-checkpoint-dir": ({"logAgent": {"checkpointDir": "/var/lib/flux.otel/checkpoints"}}, None),
    "cluster-name-arn": ({"clusterName": "arn:aws:eks:eu-west-1:123456789012:cluster/prod"}, None),
    "tracing-headers-over-https": (
        {"tracing": {"address": "https://otlp.example.com/v1/traces"}},
        {"tracingHeaders": {"Authorization": "Bearer x"}}),
}


@pytest.mark.parametrize("overrides, secrets", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_near_misses_are_accepted(overrides, secrets):
    assert run_stack("dev", overrides=overrides, secrets=secrets).resources
