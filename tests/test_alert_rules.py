"""The alert rules: shape and config, promtool's checks, and promtool unit tests that make every
alert fire (after its threshold) and stay silent (before it, and on healthy or foreign series)."""

from __future__ import annotations

import pytest

from components import constants as c
from components.builders import alert_rules
from components.builders.collector_configs import CONTROLLERS_JOB, OBJECT_HEALTH_JOB
from components.config import AlertSettings, ConfigError, parse_stack_config, prometheus_duration_seconds
from promtool import check_rules, run_rule_tests
from support import ROOT, validate_custom_resource

CONTROLLERS = list(c.FLUX_DEFAULT_CONTROLLERS)
ROUTING = {"team": "platform"}
CLUSTER_LABEL = c.PROMETHEUS_CLUSTER_LABEL
SETTINGS = AlertSettings(extra_labels=ROUTING, reconcile_errors={"enabled": True})
SETTING_OF = {
    "FluxObjectNotReady": "not_ready", "FluxHelmReleaseNotReady": "not_ready", "FluxObjectSuspended": "suspended",
    "FluxReconcileSlow": "slow_reconcile", "FluxReconcileErrors": "reconcile_errors",
    "FluxControllerMetricsAbsent": "controller_absent", "FluxWorkqueueStuck": "stuck_workqueue",
    "FluxControllerDown": "controller_down", "FluxWorkersSaturated": "workers_saturated",
    "FluxObjectHealthDown": "object_health_down", "FluxNotReconciling": "not_reconciling",
    "FluxKustomizationBehindSource": "behind_source",
}
# On the collectors' own metrics; they fire on real faults in e2e/test_pipeline_health.py.
ON_PIPELINE_METRICS = {
    "FluxPipelineExportFailing": "export_failing", "FluxPipelineQueueFilling": "queue_filling",
    "FluxLogAgentNotReading": "agent_not_reading",
}
SETTING_OF.update(ON_PIPELINE_METRICS)
# Off by default (see ReconcileErrorsAlertSettings.enabled).
OPT_IN = {"FluxReconcileErrors"}
DEFAULT_ALERTS = set(SETTING_OF) - OPT_IN
# Alerts on the gateway's scrape jobs, which only collector mode has.
ON_GATEWAY_SCRAPES = {"FluxControllerDown", "FluxObjectHealthDown"}


def groups(settings: AlertSettings = SETTINGS, controllers=CONTROLLERS, gateway_scrapes: bool = True,
           pipeline_metrics: bool = True, log_agents: bool = True):
    return alert_rules.rule_groups(settings, controllers, cluster_label=CLUSTER_LABEL, gateway_scrapes=gateway_scrapes,
                                   pipeline_metrics=pipeline_metrics, log_agents=log_agents)


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


def test_promtool_accepts_every_rule(tmp_path):
    every_option = AlertSettings(extra_labels=ROUTING, not_ready={"per_kind": {"HelmRelease": "30m"}})
    check_rules(groups(every_option, list(c.FLUX_CONTROLLERS)), tmp_path)


# --- promtool unit tests ----------------------------------------------------------------------------
def minutes(duration: str) -> int:
    seconds = prometheus_duration_seconds(duration)
    assert seconds % 60 == 0, "the unit tests evaluate once a minute"
    return seconds // 60


def series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    selector = ",".join(f'{name}="{value}"' for name, value in labels.items())
    return {"series": f"{metric}{{{selector}}}", "values": values}


def expect(alert: str, at_minute: int, *firing: dict[str, str], severity: str) -> dict:
    return {
        "eval_time": f"{at_minute}m",
        "alertname": alert,
        "exp_alerts": [{"exp_labels": {**labels, **ROUTING, "severity": severity}} for labels in firing],
    }


def unit_test(input_series: list[dict], expectations: list[dict]) -> dict:
    return {"interval": "1m", "input_series": input_series, "alert_rule_test": expectations}


def without_annotations(rule_groups):
    # promtool compares annotations verbatim after templating; `check rules` validates the templates.
    return [{**group, "rules": [{k: v for k, v in rule.items() if k != "annotations"} for rule in group["rules"]]}
            for group in rule_groups]


def flux_object(kind: str, name: str, **state: str) -> dict[str, str]:
    return {"kind": kind, "name": name, "exported_namespace": "apps", **state}


def identity(labels: dict[str, str]) -> dict[str, str]:
    """The labels an object alert carries: the object's, and its namespace again as `namespace`."""
    return {
        **{key: labels[key] for key in ("kind", "name", "exported_namespace")},
        "namespace": labels["exported_namespace"],
    }


def not_ready_test(settings: AlertSettings) -> dict:
    after = minutes(settings.not_ready.after)
    end = after + 10
    failing = flux_object("Kustomization", "apps", suspended="false")
    healthy = flux_object("GitRepository", "source", ready="True", suspended="false", reason="Succeeded")
    paused = flux_object("Kustomization", "paused", ready="False", suspended="true", reason="BuildFailed")
    # Flux never reconciles an OCI HelmRepository: no Ready condition, so no reason, ever.
    never_reconciled = flux_object("HelmRepository", "oci-charts", ready="Unknown", suspended="false")
    # Waits on `apps`, which pages for both.
    dependent = flux_object("Kustomization", "dependent", ready="False", suspended="false", reason="DependencyNotReady")
    return unit_test(
        [
            series(c.FLUX_RESOURCE_INFO_METRIC, never_reconciled, f"1x{end}"),
            series(c.FLUX_RESOURCE_INFO_METRIC, dependent, f"1x{end}"),
            # Ready flips to Unknown with a new reason and revision at minute 5: the clock keeps running.
            series(c.FLUX_RESOURCE_INFO_METRIC, {**failing, "ready": "False", "reason": "BuildFailed", "revision": "a"},
                   "1x4 stale"),
            series(c.FLUX_RESOURCE_INFO_METRIC,
                   {**failing, "ready": "Unknown", "reason": "Progressing", "revision": "b"},
                   f"_x5 1x{end - 5}"),
            series(c.FLUX_RESOURCE_INFO_METRIC, healthy, f"1x{end}"),
            series(c.FLUX_RESOURCE_INFO_METRIC, paused, f"1x{end}"),
        ],
        [
            expect("FluxObjectNotReady", after - 1, severity=settings.not_ready.severity),
            expect("FluxObjectNotReady", after + 1, identity(failing), severity=settings.not_ready.severity),
        ],
    )


def per_kind_test(settings: AlertSettings) -> dict:
    default, own = minutes(settings.not_ready.after), minutes(settings.not_ready.per_kind["HelmRelease"])
    release = flux_object("HelmRelease", "podinfo", ready="False", suspended="false", reason="InstallFailed")
    kustomization = flux_object("Kustomization", "apps", ready="False", suspended="false", reason="BuildFailed")
    severity = settings.not_ready.severity
    return unit_test(
        [series(c.FLUX_RESOURCE_INFO_METRIC, labels, f"1x{own + 10}") for labels in (release, kustomization)],
        [
            expect("FluxObjectNotReady", default + 1, identity(kustomization), severity=severity),
            expect("FluxHelmReleaseNotReady", default + 1, severity=severity),
            expect("FluxHelmReleaseNotReady", own - 1, severity=severity),
            expect("FluxHelmReleaseNotReady", own + 1, identity(release), severity=severity),
        ],
    )


def suspended_test(settings: AlertSettings) -> dict:
    after = minutes(settings.suspended.after)
    paused = flux_object("HelmRelease", "podinfo", ready="True", suspended="true", reason="Succeeded")
    active = flux_object("HelmRelease", "other", ready="True", suspended="false", reason="Succeeded")
    return unit_test(
        [series(c.FLUX_RESOURCE_INFO_METRIC, labels, f"1x{after + 5}") for labels in (paused, active)],
        [
            expect("FluxObjectSuspended", after - 1, severity=settings.suspended.severity),
            expect("FluxObjectSuspended", after + 1, identity(paused), severity=settings.suspended.severity),
        ],
    )


def behind_source_test(settings: AlertSettings) -> dict:
    after = minutes(settings.behind_source.after)
    end = after + 10

    def source(name: str, cluster: str, revision: str | None) -> dict:
        labels = {**flux_object("GitRepository", name, ready="True", suspended="false", reason="Succeeded"),
                  "exported_namespace": "flux-system", CLUSTER_LABEL: cluster}
        return series(
            c.FLUX_RESOURCE_INFO_METRIC, {**labels, **({"revision": revision} if revision else {})}, f"1x{end}"
        )

    def applier(name: str, revision: str, *, source_name: str = "fleet", cluster: str = "a", ready: str = "True",
                **where: str) -> tuple[dict, dict]:
        labels = {**flux_object("Kustomization", name, ready=ready, suspended="false", reason="Succeeded",
                                revision=revision), "source_kind": "GitRepository", "source_name": source_name,
                  CLUSTER_LABEL: cluster, **where}
        alert = {key: labels[key] for key in ("kind", "name", "exported_namespace", "suspended", "source_kind",
                                              "source_name", CLUSTER_LABEL)}
        return series(c.FLUX_RESOURCE_INFO_METRIC, labels, f"1x{end}"), {
            **alert, "namespace": labels["exported_namespace"],
            "source_namespace": where.get("source_namespace", labels["exported_namespace"])}

    behind, behind_alert = applier("behind", "r1", exported_namespace="flux-system")
    tenant, tenant_alert = applier("tenant", "r1", source_namespace="flux-system")
    appliers = [behind, tenant,
                applier("current", "r2", exported_namespace="flux-system")[0],
                # Failing: FluxObjectNotReady pages for it.
                applier("failing", "r1", exported_namespace="flux-system", ready="False")[0],
                # At its own cluster's source revision, though another cluster's is newer.
                applier("elsewhere", "r1", exported_namespace="flux-system", cluster="b")[0],
                # Its source has fetched nothing yet: there is no revision to be behind.
                applier("waiting", "r1", exported_namespace="flux-system", source_name="broken")[0]]
    severity = settings.behind_source.severity
    return unit_test(
        [source("fleet", "a", "r2"), source("fleet", "b", "r1"), source("broken", "a", None), *appliers],
        [
            expect("FluxKustomizationBehindSource", after - 1, severity=severity),
            expect("FluxKustomizationBehindSource", after + 1, behind_alert, tenant_alert, severity=severity),
        ],
    )


def slow_reconcile_test(settings: AlertSettings) -> dict:
    slow = settings.slow_reconcile
    threshold, after = prometheus_duration_seconds(slow.threshold), minutes(slow.after)
    end = minutes(slow.window) + after + 10

    def histogram(name: str, seconds_each: float) -> list[dict]:
        # One reconciliation a minute, each taking `seconds_each`.
        labels = {"kind": "HelmRelease", "name": name, "namespace": "apps"}
        return [series(f"{c.RECONCILE_DURATION_METRIC}_sum", labels, f"0+{seconds_each:g}x{end}"),
                series(f"{c.RECONCILE_DURATION_METRIC}_count", labels, f"0+1x{end}")]

    return unit_test(
        histogram("waits", threshold * 2) + histogram("quick", threshold / 2),
        [
            # The mean needs two points in its window, then holds for `after`.
            expect("FluxReconcileSlow", after - 1, severity=slow.severity),
            expect("FluxReconcileSlow", after + 2, {"kind": "HelmRelease", "name": "waits", "namespace": "apps"},
                   severity=slow.severity),
        ],
    )


def reconcile_errors_test(settings: AlertSettings) -> dict:
    errors = settings.reconcile_errors
    window, after = minutes(errors.window), minutes(errors.after)
    per_minute = errors.threshold // window + 1
    end = window + after + 5
    return unit_test(
        [
            series(c.RECONCILE_ERRORS_METRIC, {"controller": "kustomization"}, f"0+{per_minute}x{end}"),
            series(c.RECONCILE_ERRORS_METRIC, {"controller": "helmrelease"}, f"0x{end}"),
            # Another operator's reconciler in the same backend is none of Flux's business.
            series(c.RECONCILE_ERRORS_METRIC, {"controller": "certificate"}, f"0+{per_minute}x{end}"),
        ],
        [
            expect("FluxReconcileErrors", after - 1, severity=errors.severity),
            expect("FluxReconcileErrors", window + after + 2, {"controller": "kustomization"},
                   severity=errors.severity),
        ],
    )


def controller_absent_test(settings: AlertSettings) -> dict:
    after = minutes(settings.controller_absent.after)
    gone, *running = CONTROLLERS
    stops_at, end = 5, 5 + after + 5
    return unit_test(
        [series(c.RECONCILE_TOTAL_METRIC, {"controller": c.flux_reconcilers([gone])[0], "result": "success"},
                f"1+1x{stops_at}")]
        + [series(c.RECONCILE_TOTAL_METRIC, {"controller": c.flux_reconcilers([controller])[0], "result": "success"},
                  f"1+1x{end}") for controller in running],
        [
            expect("FluxControllerMetricsAbsent", stops_at + after - 1, severity=settings.controller_absent.severity),
            expect("FluxControllerMetricsAbsent", stops_at + after + 2, {alert_rules.CONTROLLER_LABEL: gone},
                   severity=settings.controller_absent.severity),
        ],
    )


def stuck_workqueue_test(settings: AlertSettings) -> dict:
    after = minutes(settings.stuck_workqueue.after)
    sustained = minutes(settings.stuck_workqueue.sustained)
    end = after + sustained + 10
    growing = f"0+60x{end}"  # one item in process since minute 0
    return unit_test(
        [
            series(c.WORKQUEUE_LONGEST_RUNNING_METRIC, {"name": "kustomization"}, growing),
            series(c.WORKQUEUE_DEPTH_METRIC, {"name": "kustomization"}, f"3x{end}"),
            # A long reconcile with nothing waiting behind it is not a stuck queue.
            series(c.WORKQUEUE_LONGEST_RUNNING_METRIC, {"name": "helmrelease"}, growing),
            series(c.WORKQUEUE_DEPTH_METRIC, {"name": "helmrelease"}, f"0x{end}"),
            series(c.WORKQUEUE_LONGEST_RUNNING_METRIC, {"name": "certificate"}, growing),
            series(c.WORKQUEUE_DEPTH_METRIC, {"name": "certificate"}, f"3x{end}"),
        ],
        [
            expect("FluxWorkqueueStuck", after + sustained - 1, severity=settings.stuck_workqueue.severity),
            expect("FluxWorkqueueStuck", after + sustained + 2, {"name": "kustomization"},
                   severity=settings.stuck_workqueue.severity),
        ],
    )


def not_reconciling_test(settings: AlertSettings) -> dict:
    window, after = minutes(settings.not_reconciling.window), minutes(settings.not_reconciling.after)
    stops_at = 10
    end = stops_at + window + after + 10
    cluster = {"job": CONTROLLERS_JOB, "instance": "kc:8080", CLUSTER_LABEL: "a"}

    def reconciles(reconciler: str, values: str) -> dict:
        return series(c.RECONCILE_TOTAL_METRIC, {**cluster, "controller": reconciler, "result": "success"}, values)

    def objects(kind: str, cluster_name: str = "a", suspended: str = "false") -> dict:
        labels = {**flux_object(kind, "x", ready="True", suspended=suspended, reason="Succeeded"),
                  CLUSTER_LABEL: cluster_name}
        return series(c.FLUX_RESOURCE_INFO_METRIC, labels, f"1x{end}")

    stopped = f"0+1x{stops_at} {stops_at}x{end - stops_at}"
    return unit_test(
        [
            reconciles("kustomization", stopped), objects("Kustomization"),
            reconciles("helmrelease", f"0+1x{end}"), objects("HelmRelease"),
            # Its objects are in another cluster, or all suspended: nothing waits on these reconcilers.
            reconciles("gitrepository", stopped), objects("GitRepository", cluster_name="b"),
            reconciles("ocirepository", stopped), objects("OCIRepository", suspended="true"),
            # Alert has no status: its reconciler only removes finalizers.
            reconciles("alert", stopped), objects("Alert"),
        ],
        [
            expect("FluxNotReconciling", stops_at + window + after - 1, severity=settings.not_reconciling.severity),
            expect("FluxNotReconciling", stops_at + window + after + 2, {**cluster, "controller": "kustomization"},
                   severity=settings.not_reconciling.severity),
        ],
    )


def controller_down_test(settings: AlertSettings) -> dict:
    after = minutes(settings.controller_down.after)
    stops_at, end = 5, 5 + after + 5
    down = {"job": CONTROLLERS_JOB, "instance": "helm-controller-metrics.flux-system.svc:8080"}
    return unit_test(
        [
            series(c.SCRAPE_UP_METRIC, down, f"1x{stops_at} 0x{end - stops_at}"),
            series(c.SCRAPE_UP_METRIC, {**down, "instance": "source-controller-metrics.flux-system.svc:8080"},
                   f"1x{end}"),
            # Another job's target being down is not a Flux controller being down.
            series(c.SCRAPE_UP_METRIC, {"job": "node", "instance": "node-1"}, f"0x{end}"),
        ],
        [
            expect("FluxControllerDown", stops_at + after - 1, severity=settings.controller_down.severity),
            expect("FluxControllerDown", stops_at + after + 1, down, severity=settings.controller_down.severity),
        ],
    )


def workers_saturated_test(settings: AlertSettings) -> dict:
    after = minutes(settings.workers_saturated.after)
    end = after + 10
    busy = {"controller": "kustomization", "job": CONTROLLERS_JOB}
    spare = {"controller": "helmrelease", "job": CONTROLLERS_JOB}
    return unit_test(
        [
            series(c.ACTIVE_WORKERS_METRIC, busy, f"4x{end}"),
            series(c.MAX_WORKERS_METRIC, busy, f"4x{end}"),
            series(c.ACTIVE_WORKERS_METRIC, spare, f"3x{end}"),
            series(c.MAX_WORKERS_METRIC, spare, f"4x{end}"),
        ],
        [
            expect("FluxWorkersSaturated", after - 1, severity=settings.workers_saturated.severity),
            expect("FluxWorkersSaturated", after + 1, busy, severity=settings.workers_saturated.severity),
        ],
    )


def object_health_down_test(settings: AlertSettings) -> dict:
    after = minutes(settings.object_health_down.after)
    health = {"job": OBJECT_HEALTH_JOB, "instance": "flux-object-health.flux-otel.svc:8080"}
    fails_at, gone_at = 5, 5 + after + 5
    severity = settings.object_health_down.severity
    return unit_test(
        # Scraped and failing from minute 5; no series at all (the gateway gone) from `gone_at`.
        [series(c.SCRAPE_UP_METRIC, health, f"1x{fails_at} 0x{gone_at - fails_at} stale")],
        [
            expect("FluxObjectHealthDown", fails_at + after - 1, severity=severity),
            expect("FluxObjectHealthDown", fails_at + after + 1, health, severity=severity),
            expect("FluxObjectHealthDown", gone_at + after + 2, {"job": OBJECT_HEALTH_JOB}, severity=severity),
        ],
    )


def test_every_alert_fires_after_its_threshold_and_not_before(tmp_path):
    # The defaults, plus a HelmRelease threshold of twice the default to exercise per-kind rules.
    default_after = SETTINGS.not_ready.after
    settings = AlertSettings(
        extra_labels=ROUTING, reconcile_errors={"enabled": True},
        not_ready={"per_kind": {"HelmRelease": f"{2 * minutes(default_after)}m"}},
    )
    tests = [
        not_ready_test(SETTINGS), per_kind_test(settings), suspended_test(SETTINGS), slow_reconcile_test(SETTINGS),
        reconcile_errors_test(SETTINGS), controller_absent_test(SETTINGS), stuck_workqueue_test(SETTINGS),
        controller_down_test(SETTINGS), workers_saturated_test(SETTINGS), object_health_down_test(SETTINGS),
        not_reconciling_test(SETTINGS), behind_source_test(SETTINGS),
    ]
    tested = {expectation["alertname"] for test in tests for expectation in test["alert_rule_test"]}
    assert tested >= set(SETTING_OF) - set(ON_PIPELINE_METRICS)
    run_rule_tests(without_annotations(groups(settings)), tests, tmp_path)


@pytest.mark.parametrize("threshold", [0, 25])
def test_reconcile_errors_fire_above_any_configured_threshold(tmp_path, threshold):
    settings = AlertSettings(extra_labels=ROUTING, reconcile_errors={"enabled": True, "threshold": threshold})
    run_rule_tests(without_annotations(groups(settings)), [reconcile_errors_test(settings)], tmp_path)
