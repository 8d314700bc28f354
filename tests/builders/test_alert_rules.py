"""The alert rules: shape and config. promtool checks them and makes every alert fire (after its
threshold) and stay silent (before it, and on healthy or foreign series) in
e2e/test_alert_rules_promtool.py."""

from __future__ import annotations

import pytest

from components import constants as c
from components.builders import alert_rules
from components.config import AlertSettings, ConfigError, parse_stack_config, prometheus_duration_seconds
from e2e.harness.alert_rules import (
    CLUSTER_LABEL,
    CONTROLLERS,
    ON_PIPELINE_METRICS,
    ROUTING,
    SETTING_OF,
    SETTINGS,
    groups,
)
from e2e.harness.render import ROOT
from tests.helpers import validate_custom_resource

# Off by default (see ReconcileErrorsAlertSettings.enabled).
OPT_IN = {"FluxReconcileErrors"}
DEFAULT_ALERTS = set(SETTING_OF) - OPT_IN
# Alerts on the gateway's scrape jobs, which only collector mode has.
ON_GATEWAY_SCRAPES = {"FluxControllerDown", "FluxObjectHealthDown"}


def rules(settings: AlertSettings = SETTINGS):
    return {rule["alert"]: rule for group in groups(settings) for rule in group["rules"]}


# --- configuration ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "alerts, path, reason",
    [
        ({"notReady": {"after": "15"}}, "alerts.notReady.after", "Prometheus duration"),
        ({"notReady": {"after": "1.5h"}}, "alerts.notReady.after", "Prometheus duration"),
        ({"suspended": {"after": "30m1h"}}, "alerts.suspended.after", "largest first"),
        ({"slowReconcile": {"threshold": "0s"}}, "alerts.slowReconcile.threshold", "longer than zero"),
        ({"notReady": {"perKind": {"Deployment": "1h"}}}, "alerts.notReady.perKind.Deployment", "must be one of"),
        ({"notReady": {"perKind": {"Alert": "1h"}}}, "alerts.notReady.perKind.Alert", "must be one of"),
        ({"reconcileErrors": {"threshold": -1}},
         "alerts.reconcileErrors.threshold", "must be at least 0; got the number -1"),
        ({"extraLabels": {"team-name": "a"}}, "alerts.extraLabels.team-name", "not a Prometheus label name"),
        ({"extraLabels": {"__team": "a"}}, "alerts.extraLabels.__team", "not a Prometheus label name"),
        ({"extraLabels": {"severity": "page"}}, "alerts.extraLabels.severity", "set by the rules themselves"),
        ({"extraLabels": {"team": "{{ $value }}"}}, "alerts.extraLabels.team", "templates"),
        ({"controllerAbsent": {"severity": "Page!"}},
         "alerts.controllerAbsent.severity", "must be a severity such as warning or critical"),
        ({"stuckWorkqueue": {"for": "15m"}}, "alerts.stuckWorkqueue.for", "unknown key"),
        ({"runbookUrl": "https://wiki.example.com/flux#alerts"}, "alerts.runbookUrl", "each alert adds its own anchor"),
        ({"runbookUrl": "wiki/flux"}, "alerts.runbookUrl", "http:// or https://"),
        ({"workersSaturated": {"threshold": 1.5}}, "alerts.workersSaturated.threshold", "at most 1"),
    ],
)
def test_bad_alert_settings_name_the_key_path(alerts, path, reason):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"clusterName": "x", "exporter": {"type": "debug"}, "alerts": alerts})
    assert f"{c.PROJECT}:{path}: " in str(caught.value) and reason in str(caught.value)


def test_durations_read_as_prometheus_reads_them():
    assert [prometheus_duration_seconds(d) for d in ("90s", "15m", "1h30m", "1d12h")] == [90, 900, 5400, 129600]


# --- shape -------------------------------------------------------------------------------------------
def test_the_default_alerts_ship_and_the_rule_is_valid_for_the_crd():
    assert set(rules(AlertSettings())) == DEFAULT_ALERTS
    assert set(rules()) == DEFAULT_ALERTS | OPT_IN
    validate_custom_resource({
        "apiVersion": c.PROMETHEUS_RULE_API_VERSION, "kind": "PrometheusRule",
        "metadata": {"name": alert_rules.RULE_NAME, "namespace": c.FLUX_NAMESPACE},
        "spec": alert_rules.prometheus_rule_spec(SETTINGS, CONTROLLERS, cluster_label=CLUSTER_LABEL),
    })


def test_alerts_carry_their_severity_the_routing_labels_and_a_summary():
    settings = AlertSettings(extra_labels=ROUTING, controller_absent={"severity": "page"},
                             suspended={"severity": "info"}, runbook_url="https://wiki.example.com/flux")
    shipped = rules(settings)
    for name, rule in shipped.items():
        assert rule["labels"] == {**ROUTING, "severity": getattr(settings, SETTING_OF[name]).severity}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        anchor = "fluxobjectnotready" if name.endswith("NotReady") else name.lower()
        assert rule["annotations"]["runbook_url"] == f"https://wiki.example.com/flux#{anchor}"
    assert shipped["FluxControllerMetricsAbsent"]["labels"]["severity"] == "page"


def test_every_default_runbook_has_its_heading_in_the_docs():
    headings = {line.lstrip("#").strip().lower() for line in (ROOT / "docs" / "alerts.md").read_text().splitlines()
                if line.startswith("## ")}
    for rule in rules().values():
        url, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert url == c.RUNBOOK_URL and anchor in headings, rule["alert"]


def test_scrape_job_alerts_ship_only_where_the_gateway_scrapes():
    shipped = {rule["alert"] for group in groups(gateway_scrapes=False) for rule in group["rules"]}
    assert shipped == (DEFAULT_ALERTS | OPT_IN) - ON_GATEWAY_SCRAPES


@pytest.mark.parametrize("pipeline_metrics, log_agents, expected", [
    (False, False, set()),
    (True, False, {"FluxPipelineExportFailing", "FluxPipelineQueueFilling"}),
    (True, True, set(ON_PIPELINE_METRICS)),
], ids=["no-pipeline-metrics", "gateway-only", "gateway-and-agents"])
def test_pipeline_alerts_ship_only_where_the_collectors_ship_their_own_metrics(pipeline_metrics, log_agents, expected):
    shipped = {rule["alert"] for group in groups(pipeline_metrics=pipeline_metrics, log_agents=log_agents)
               for rule in group["rules"]}
    assert shipped & set(ON_PIPELINE_METRICS) == expected


def test_thresholds_come_from_the_config():
    settings = AlertSettings(
        not_ready={"after": "45m"}, suspended={"after": "2d"},
        slow_reconcile={"threshold": "90s", "window": "2h", "after": "20m"},
        reconcile_errors={"enabled": True, "threshold": 3, "window": "30m", "after": "1h"},
        controller_absent={"after": "7m"},
        stuck_workqueue={"after": "1h30m", "sustained": "10m"}, controller_down={"after": "3m"},
        workers_saturated={"threshold": 0.75, "after": "30m"}, object_health_down={"after": "20m"},
    )
    shipped = rules(settings)
    assert shipped["FluxObjectNotReady"]["for"] == "45m"
    assert shipped["FluxObjectSuspended"]["for"] == "2d"
    assert shipped["FluxReconcileSlow"]["for"] == "20m" and shipped["FluxReconcileSlow"]["expr"].endswith("> 90")
    assert "_sum[2h])" in shipped["FluxReconcileSlow"]["expr"]
    assert shipped["FluxReconcileErrors"]["for"] == "1h"
    assert "[30m]) > 3" in shipped["FluxReconcileErrors"]["expr"]
    assert "[7m]" in shipped["FluxControllerMetricsAbsent"]["expr"]
    assert "> 5400" in shipped["FluxWorkqueueStuck"]["expr"] and shipped["FluxWorkqueueStuck"]["for"] == "10m"
    assert shipped["FluxControllerDown"]["for"] == "3m" and shipped["FluxObjectHealthDown"]["for"] == "20m"
    assert (shipped["FluxWorkersSaturated"]["for"] == "30m"
            and shipped["FluxWorkersSaturated"]["expr"].endswith(">= 0.75"))


def test_each_kind_with_its_own_threshold_gets_its_own_alert():
    settings = AlertSettings(not_ready={"per_kind": {"HelmRelease": "1h", "Bucket": "5m"}})
    shipped = rules(settings)
    assert (shipped["FluxHelmReleaseNotReady"]["for"] == "1h"
            and 'kind="HelmRelease"' in shipped["FluxHelmReleaseNotReady"]["expr"])
    assert shipped["FluxBucketNotReady"]["for"] == "5m"
    assert 'kind!~"Bucket|HelmRelease"' in shipped["FluxObjectNotReady"]["expr"]


def test_a_disabled_alert_is_left_out_and_an_empty_group_too():
    settings = AlertSettings(controller_absent={"enabled": False}, controller_down={"enabled": False},
                             not_reconciling={"enabled": False}, behind_source={"enabled": False},
                             stuck_workqueue={"enabled": False}, workers_saturated={"enabled": False},
                             suspended={"enabled": False}, object_health_down={"enabled": False},
                             export_failing={"enabled": False}, queue_filling={"enabled": False},
                             agent_not_reading={"enabled": False})
    assert [group["name"] for group in groups(settings)] == [alert_rules.OBJECTS_GROUP]
    assert set(rules(settings)) == {"FluxObjectNotReady", "FluxHelmReleaseNotReady", "FluxReconcileSlow"}


def test_controller_alerts_watch_only_the_configured_controllers_reconcilers():
    shipped = {rule["alert"]: rule for group in groups(controllers=["helm-controller"]) for rule in group["rules"]}
    assert 'controller=~"helmrelease"' in shipped["FluxReconcileErrors"]["expr"]
    assert 'name=~"helmrelease"' in shipped["FluxWorkqueueStuck"]["expr"]
    assert shipped["FluxControllerMetricsAbsent"]["expr"].count("absent_over_time") == 1
    assert shipped["FluxWorkersSaturated"]["expr"].count('controller=~"helmrelease"') == 2


def test_not_reconciling_watches_every_reconciler_but_those_of_kinds_without_status():
    """Alert and Provider have no status; their reconcilers only remove finalizers."""
    every = list(c.FLUX_CONTROLLERS)
    reconciled = dict(alert_rules.reconciled_kinds(every))
    assert set(reconciled) == set(c.flux_reconcilers(every)) - {"alert", "provider"}
    assert all(reconciler == kind.lower() for reconciler, kind in reconciled.items())
