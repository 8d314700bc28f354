"""Log-to-trace correlation, as built: which records get trace-ID statements, where they run, and
that they wait for the Alert's UID.

What the statements compute is proven on the real programs (e2e/test_traces.py): the real
collector runs them on records, and the real notification-controller makes the spans whose trace
IDs they must equal.
"""

import pytest

from components import FluxLogAgent, FluxLogAgentArgs
from components import constants as c
from components.builders import flux_events
from components.builders.collector_configs import TRACE_CORRELATION
from components.builders.manifests import alert_spec
from components.builders.trace_correlation import linkable_sources, log_line_statements
from components.config import TracingSettings
from components.tooling.render import mock_uid
from e2e.harness.render import releases, run_stack
from tests.helpers import assert_valid_collector_config, register

ALERT_UID = "5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b"
TRACING = TracingSettings(event_sources=[
    {"kind": "GitRepository"},
    {"kind": "Kustomization", "name": "apps"},
    {"kind": "Kustomization", "namespace": "team-a"},
    {"kind": "HelmRelease"},
    {"kind": "Kustomization", "namespace": "apps", "matchLabels": {"team": "a"}},
])
EVENT_SOURCES = alert_spec(provider_name="otel", flux_namespace="flux-system", cluster_name="c", tracing=TRACING,
                           traced_kinds=list(c.FLUX_TRACEABLE_KINDS))["eventSources"]


def test_log_lines_are_linked_only_for_kinds_whose_controller_logs_the_revision():
    (statement,) = log_line_statements(ALERT_UID, EVENT_SOURCES)
    # One statement for the two Kustomization sources without matchLabels; GitRepository and
    # HelmRelease lines never carry a revision at info level.
    sources = statement.split(" where ", 1)[1].split(" or ")
    assert len(sources) == 2 and f'"{ALERT_UID}"' in statement
    assert all('attributes["controllerKind"] == "Kustomization"' in source for source in sources)
    assert any('attributes["name"] == "apps"' in source for source in sources)
    assert any('attributes["namespace"] == "team-a"' in source for source in sources)
    assert "HelmRelease" not in statement and "GitRepository" not in statement


def test_event_records_are_linked_for_every_selectable_source_with_both_revision_forms():
    plain, oci = flux_events.event_trace_statements(ALERT_UID, EVENT_SOURCES)
    # One statement per revision form, each for every source a record can be matched against.
    for statement in (plain, oci):
        assert statement.split(" where ", 1)[1].count(" or ") == len(linkable_sources(EVENT_SOURCES)) - 1 == 3
    assert 'log.attributes["revision"] != nil' in plain
    # notification-controller prefers <app-version>@<oci-digest>: that form comes last, so it wins.
    assert 'Concat([log.attributes["flux.app-version"], log.attributes["flux.oci-digest"]], "@")' in oci


def test_event_trace_statements_run_before_the_body_becomes_the_message():
    trace = flux_events.event_trace_statements(ALERT_UID, EVENT_SOURCES)
    statements = flux_events.flux_event_statements(trace)
    first = statements.index(trace[0])
    assert statements[first:first + len(trace)] == trace
    assert statements[-2].startswith("keep_keys(") and statements[-1].startswith("set(log.body")
    # The OCI metadata is copied to attributes before the statements read it; keep_keys drops it.
    assert any('"flux.oci-digest"' in s and '"oci-digest"' in s for s in statements[:first])
    assert "flux.oci-digest" not in statements[-2]


def test_only_matchlabels_or_unlogged_kinds_give_no_log_statements():
    assert log_line_statements(ALERT_UID, [s for s in EVENT_SOURCES if s.get("matchLabels")]) == []
    assert log_line_statements(ALERT_UID, [s for s in EVENT_SOURCES if s["kind"] != "Kustomization"]) == []


def test_dollars_in_values_are_escaped_for_the_collector():
    (statement,) = log_line_statements("uid$x", [{"kind": "Kustomization", "name": "a", "namespace": "b"}])
    assert '"uid$$x"' in statement


def agent_config(**correlation):
    resources = register(lambda: FluxLogAgent("logs", FluxLogAgentArgs(gateway_otlp_grpc="gw:4317", **correlation)))
    return releases(resources)["flux-otel-logs"]["values"]["alternateConfig"]


def test_the_agent_runs_the_correlation_after_memory_limiter_and_before_batch():
    config = agent_config(alert_uid=ALERT_UID, alert_event_sources=EVENT_SOURCES)
    assert_valid_collector_config(config)
    assert config["service"]["pipelines"]["logs"]["processors"] == ["memory_limiter", TRACE_CORRELATION, "batch"]
    assert config["processors"][TRACE_CORRELATION]["log_statements"][0]["statements"] == log_line_statements(
        ALERT_UID, EVENT_SOURCES
    )


@pytest.mark.parametrize(
    "correlation",
    [{}, {"alert_event_sources": EVENT_SOURCES}, {"alert_uid": ALERT_UID},
     {"alert_uid": ALERT_UID, "alert_event_sources": [s for s in EVENT_SOURCES if s["kind"] != "Kustomization"]}],
    ids=["no-alert", "no-uid", "no-sources", "no-kind-that-logs-revisions"],
)
def test_without_a_linkable_alert_the_agent_has_no_transform(correlation):
    config = agent_config(**correlation)
    assert TRACE_CORRELATION not in config["processors"]
    assert config["service"]["pipelines"]["logs"]["processors"] == ["memory_limiter", "batch"]


def configs(rendering):
    by_release = releases(rendering.resources)
    return (
        by_release["flux-otel-logs"]["values"]["alternateConfig"],
        by_release["flux-otel-gateway"]["values"]["alternateConfig"],
    )


def test_the_dev_stack_links_logs_and_events_to_the_traces_of_its_alert():
    rendering = run_stack("dev")
    (alert,) = [r for r in rendering.resources if r.custom and r.inputs.get("kind") == "Alert"]
    alert_uid = mock_uid(alert.type, alert.name, alert.inputs["metadata"])
    agent, gateway = configs(rendering)
    sources = alert.inputs["spec"]["eventSources"]
    assert agent["processors"][TRACE_CORRELATION]["log_statements"][0]["statements"] == log_line_statements(
        alert_uid, sources
    )
    events = gateway["processors"][flux_events.TRANSFORM]["log_statements"]
    assert events == flux_events.flux_event_statements(flux_events.event_trace_statements(alert_uid, sources))


def test_the_dev_stack_without_traces_does_not_touch_log_records():
    agent, gateway = configs(run_stack("dev", overrides={"signals": {"traces": False}}))
    assert TRACE_CORRELATION not in agent["processors"]
    assert gateway["processors"][flux_events.TRANSFORM]["log_statements"] == flux_events.flux_event_statements()
