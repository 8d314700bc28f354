"""The alert rules as Prometheus reads them, judged by promtool (Debian package `prometheus`):
`promtool check rules` accepts every rule with every option set, and `promtool test rules` makes
every alert fire after its threshold and stay silent before it, and on healthy or foreign series.
The rules' shape and configuration are unit-tested in tests/builders/test_alert_rules.py.

    .venv/bin/python -m pytest -q e2e/test_alert_rules_promtool.py
"""

from __future__ import annotations

import pytest

from components import constants as c
from components.builders import alert_rules
from components.builders.collector_configs import CONTROLLERS_JOB, OBJECT_HEALTH_JOB
from components.config import AlertSettings, prometheus_duration_seconds
from e2e.harness.alert_rules import (
    CLUSTER_LABEL,
    CONTROLLERS,
    ON_PIPELINE_METRICS,
    ROUTING,
    SETTING_OF,
    SETTINGS,
    groups,
)
from e2e.harness.promtool import check_rules, run_rule_tests


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
