"""Area 4: metrics as the real notification-controller serves them.

The series label sets come from the real controller's /metrics; the alert rules and dashboard
queries the package ships are run on them with `promtool test rules`. Only the values over time
are the test's own: a scenario (a stuck queue, a reconciler erroring) on real label sets, since
a queue stuck for fifteen minutes is not something to wait for in a test. Every controller's real
exposition passes through the rendered scrape filter in test_real_flux.py.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from components.builders import alert_rules, dashboards
from components import constants as c
from components.builders.collector_configs import CONTROLLERS_JOB
from components.config import AlertSettings, parse_stack_config, prometheus_duration_seconds
from components.builders.promql import queried_metrics
from components.tooling.render import read_stack_file
from e2e.collector import Collector, Sink, collector_configs, gateway_and_agent, localize
from e2e.kube import wait_until
from tests.promtool import run_rule_tests
from tests.support import ROOT, run_stack

CONTROLLER = "notification-controller"
# Series the Prometheus receiver adds per target, after metric relabelling (so the filter keeps them).
SCRAPE_META_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
                       "scrape_series_added"}
SCRAPE_LABELS = {"job": "flux-controllers", "instance": f"{CONTROLLER}-metrics.{c.FLUX_NAMESPACE}.svc:8080"}


def stack_config(stack: str):
    """The stack file's configuration, validated (secrets left out)."""
    stack_file = read_stack_file(ROOT, stack)
    raw = {}
    for key, text in stack_file.config.items():
        if key not in stack_file.secret_keys:
            try:
                raw[key.split(":", 1)[1]] = json.loads(text)
            except ValueError:
                raw[key.split(":", 1)[1]] = text
    return parse_stack_config(raw)


def exposition_series(text: str) -> dict[str, list[dict[str, str]]]:
    """Sample name -> label sets, exactly as the exposition has them."""
    series: dict[str, list[dict[str, str]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series[sample.name].append(dict(sample.labels))
    return series


def reconciled_objects() -> list[dict]:
    """One object for each of notification-controller's reconcilers, so each queue sees an item:
    the priority queue serves `workqueue_depth` only for priorities it has held items of."""
    meta = {"namespace": c.FLUX_NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-token", **meta},
         "stringData": {"token": "e2e-webhook-token"}},
        {"apiVersion": c.NOTIFICATION_API_VERSION, "kind": "Provider", "metadata": {"name": "metrics", **meta},
         "spec": {"type": "generic", "address": "http://127.0.0.1:9/"}},
        # The Alert reconciler only queues Alerts that still carry Flux's finalizer, which it removes
        # (notification-controller@v1.9.3: internal/controller/finalizer_predicate.go).
        {"apiVersion": c.NOTIFICATION_API_VERSION, "kind": "Alert",
         "metadata": {"name": "metrics", "finalizers": ["finalizers.fluxcd.io"], **meta},
         "spec": {"providerRef": {"name": "metrics"}, "eventSources": [{"kind": "GitRepository", "name": "*"}]}},
        {"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver", "metadata": {"name": "metrics", **meta},
         "spec": {"type": "generic", "secretRef": {"name": "webhook-token"},
                  "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "x"}]}},
    ]


@pytest.fixture(scope="module")
def real_series(kube, notification_controller) -> dict[str, list[dict[str, str]]]:
    """The controller's series once each reconciler has queued an item."""
    kube.apply(reconciled_objects())
    reconcilers = set(c.FLUX_RECONCILERS_BY_CONTROLLER[CONTROLLER])

    def queues_used():
        found = exposition_series(notification_controller.metrics())
        return found if {s["name"] for s in found.get(c.WORKQUEUE_DEPTH_METRIC, [])} >= reconcilers else None

    return wait_until(queues_used, timeout=60, what="notification-controller's work-queue metrics")


def test_every_reconciler_of_the_real_controller_is_known(kube, notification_controller):
    """Alerts and dashboards select Flux's reconcilers by name: all of them, and no others.
    (controller-runtime serves the reconcile counters once the controllers start, after /readyz.)"""
    kube.apply(reconciled_objects())
    served = wait_until(
        lambda: {labels["controller"] for labels in
                 exposition_series(notification_controller.metrics())[c.RECONCILE_TOTAL_METRIC]},
        timeout=60, what="notification-controller's reconcile counters")
    assert served == set(c.FLUX_RECONCILERS_BY_CONTROLLER[CONTROLLER])


def _one(real_series, metric: str, **match: str) -> list[dict[str, str]]:
    found = [labels for labels in real_series[metric] if all(labels.get(k) == v for k, v in match.items())]
    assert found, f"the real controller serves no {metric} with {match}"
    return found


def _series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    selector = ",".join(f'{key}="{value}"' for key, value in sorted({**labels, **SCRAPE_LABELS}.items()))
    return {"series": f"{metric}{{{selector}}}", "values": values}


def _rule_groups(settings: AlertSettings) -> list[dict]:
    groups = alert_rules.rule_groups(settings, [CONTROLLER])
    for group in groups:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return groups


def _alert_labels(rule_labels: dict[str, str], series_labels: dict[str, str]) -> dict[str, str]:
    return {**series_labels, **SCRAPE_LABELS, **rule_labels}


@pytest.mark.parametrize("queue", sorted(c.FLUX_RECONCILERS_BY_CONTROLLER[CONTROLLER]))
def test_stuck_workqueue_fires_on_the_real_label_sets(real_series, tmp_path, queue):
    """A worker busy past the threshold while items wait fires FluxWorkqueueStuck.

    controller-runtime >= 0.23 labels `workqueue_depth` with `priority` and
    `workqueue_longest_running_processor_seconds` without it (controller-runtime@v0.24.1:
    pkg/internal/metrics/workqueue.go), so the rule must match the two across that label."""
    settings = AlertSettings()
    after = prometheus_duration_seconds(settings.stuck_workqueue.after) // 60
    end = after + 10
    depth = _one(real_series, c.WORKQUEUE_DEPTH_METRIC, name=queue)
    longest = _one(real_series, c.WORKQUEUE_LONGEST_RUNNING_METRIC, name=queue)
    rule = next(r for g in _rule_groups(settings) for r in g["rules"] if r["alert"] == "FluxWorkqueueStuck")
    input_series = [_series(c.WORKQUEUE_LONGEST_RUNNING_METRIC, labels, f"0+60x{end}") for labels in longest]
    input_series += [_series(c.WORKQUEUE_DEPTH_METRIC, labels, f"2x{end}") for labels in depth]
    test = {
        "interval": "1m",
        "input_series": input_series,
        "alert_rule_test": [
            {"eval_time": f"{after - 1}m", "alertname": "FluxWorkqueueStuck", "exp_alerts": []},
            {"eval_time": f"{after + 1}m", "alertname": "FluxWorkqueueStuck",
             "exp_alerts": [{"exp_labels": _alert_labels(rule["labels"], labels)} for labels in longest]},
        ],
    }
    run_rule_tests(_rule_groups(settings), [test], tmp_path)


def test_reconcile_errors_fire_on_the_real_label_sets(real_series, tmp_path):
    settings = AlertSettings()
    errors = settings.reconcile_errors
    window, after = (prometheus_duration_seconds(d) // 60 for d in (errors.window, errors.after))
    end = window + after + 5
    per_minute = errors.threshold // window + 1
    erroring = _one(real_series, c.RECONCILE_ERRORS_METRIC, controller="provider")
    quiet = [labels for labels in real_series[c.RECONCILE_ERRORS_METRIC] if labels["controller"] != "provider"]
    test = {
        "interval": "1m",
        "input_series": [_series(c.RECONCILE_ERRORS_METRIC, labels, f"0+{per_minute}x{end}") for labels in erroring]
        + [_series(c.RECONCILE_ERRORS_METRIC, labels, f"0x{end}") for labels in quiet],
        "alert_rule_test": [
            {"eval_time": f"{window + after + 2}m", "alertname": "FluxReconcileErrors",
             "exp_alerts": [{"exp_labels": {"controller": "provider", **SCRAPE_LABELS,
                                            "severity": errors.severity}}]},
        ],
    }
    run_rule_tests(_rule_groups(settings), [test], tmp_path)


def test_every_control_plane_query_returns_data_on_the_real_series(real_series, tmp_path):
    """Each dashboard query over the controller's families, on series with the real label sets
    (counters and gauges moving), returns at least one series: an alert `count(query) > 0` per
    query must fire."""
    queries = dashboards.dashboard_queries(dashboards.control_plane_spec([CONTROLLER]))
    names = {name for name in real_series if any(re.search(rf"\b{re.escape(name)}\b", q) for q in queries)}
    # Families each query needs, as the controller serves them: every sample of those names.
    input_series = [
        _series(name, labels, "0+1x30") for name in sorted(names) for labels in real_series[name]
    ]
    groups = [{"name": "queries", "rules": [
        {"alert": f"Query{index}", "expr": f"count({query}) > 0"} for index, query in enumerate(queries)
    ]}]
    test = {
        "interval": "1m",
        "input_series": input_series,
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": f"Query{index}", "exp_alerts": [{"exp_labels": {}}]}
            for index in range(len(queries))
        ],
    }
    assert queries, "the control-plane dashboard has no queries over the controllers' metrics"
    run_rule_tests(groups, [test], tmp_path)


def test_the_gateway_ships_exactly_the_families_its_scrape_filter_claims(notification_controller, real_series,
                                                                          tmp_path):
    """The rendered prod gateway scrapes the real controller; the sink gets every family whose name
    starts with a configured prefix or that the shipped rules and dashboards query, nothing else
    of the controller's, plus the scrape's own series (`up`, `scrape_*`), which the Prometheus
    receiver adds after metric relabelling."""
    rendering = run_stack("prod", secrets={"exportToken": "auth_e2e"})
    config = stack_config("prod")
    gateway, _ = gateway_and_agent(collector_configs(rendering))
    local = localize(gateway, workdir=tmp_path / "gateway", export_to=None, without=("k8s_objects",))
    target = notification_controller.metrics_url.split("/")[2]
    for job in local["receivers"]["prometheus"]["config"]["scrape_configs"]:
        job["scrape_interval"] = "1s"
        job["static_configs"] = [{"targets": [target]}] if job["job_name"] == CONTROLLERS_JOB else []
    local["receivers"]["prometheus"]["config"]["scrape_configs"] = [
        job for job in local["receivers"]["prometheus"]["config"]["scrape_configs"] if job["static_configs"]]
    with Sink(tmp_path / "sink") as sink:
        local = localize(local, workdir=tmp_path / "gateway", export_to=sink)
        with Collector("gateway", local, tmp_path / "gateway"):
            names = lambda: {m["name"] for m in sink.metrics()}  # noqa: E731
            wait_until(lambda: c.RECONCILE_TOTAL_METRIC in names() and len(names()) > 10, timeout=60,
                       what="scraped metrics at the sink")
            # A few more scrapes so that every family has been exported at least once.
            time.sleep(5)
            shipped = names()
    queried = set(queried_metrics(config))
    claimed = set()
    for family in text_string_to_metric_families(notification_controller.metrics()):
        # The receiver names a counter with its `_total`, a histogram or summary by its family.
        name = f"{family.name}_total" if family.type == "counter" else family.name
        if name.startswith(tuple(config.collector.metric_prefixes)) or queried & {s.name for s in family.samples}:
            claimed.add(name)
    scrape_series = {name for name in shipped if name == "up" or name.startswith("scrape_")}
    assert shipped - scrape_series == claimed
    assert scrape_series == SCRAPE_META_METRICS
