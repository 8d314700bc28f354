"""The delivery rules' shape and what they follow in the configuration. What they compute is
judged by the real Prometheus on real Flux (e2e/test_real_flux.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from components import constants as c
from components.builders import delivery
from components.builders.dashboards import DELIVERY
from components.builders.plan import Plan
from components.config import DeliverySettings, parse_stack_config
from tests.helpers import selected_metrics, vector_selectors

DOC = Path(__file__).resolve().parents[2] / "docs" / "delivery.md"
MINIMAL = {"clusterName": "test", "exporter": {"type": "debug"}}
EVERY_CONTROLLER = list(c.FLUX_CONTROLLERS)


def rules(controllers: list[str], interval: str = "30s") -> dict[str, str]:
    group = delivery.recording_rules(DeliverySettings(interval=interval), "cluster",
                                     delivery.delivered_kinds(controllers))
    return {rule["record"]: rule["expr"] for rule in group["rules"]}


def test_every_rule_parses_and_reads_only_object_health_and_the_rules_before_it():
    recorded: list[str] = []
    for record, expr in rules(EVERY_CONTROLLER).items():
        read = selected_metrics(expr)
        assert read <= set(c.FLUX_HEALTH_METRICS) | set(recorded) | {record}, record
        recorded.append(record)
    assert recorded == [delivery.READY, delivery.HEALTHY, delivery.NOT_READY_SINCE, delivery.FAILURES,
                        delivery.RESTORE_SECONDS, delivery.APPLIED, delivery.DEPLOYMENTS, delivery.LEAD_TIME_SECONDS]


def test_only_the_not_ready_start_reads_itself():
    """A rule that reads its own series carries state across evaluations; only the start of a
    failure needs to."""
    own = [record for record, expr in rules(EVERY_CONTROLLER).items() if record in selected_metrics(expr)]
    assert own == [delivery.NOT_READY_SINCE]


@pytest.mark.parametrize("interval, previous, last", [("30s", "30s", "45s"), ("1s", "1s", "1500ms"),
                                                      ("2m", "120s", "180s")])
def test_the_rules_look_back_one_evaluation(interval, previous, last):
    group = delivery.recording_rules(DeliverySettings(interval=interval), "cluster",
                                     delivery.delivered_kinds(EVERY_CONTROLLER))
    assert group["interval"] == interval
    expressions = " ".join(rule["expr"] for rule in group["rules"])
    assert set(re.findall(r"offset (\w+)", expressions)) == {previous}
    assert re.findall(rf"{delivery.NOT_READY_SINCE}\[(\w+)\]", expressions) == [last]


def test_the_rules_keep_only_the_object_s_labels():
    """Every selector of object health is aggregated by the object's labels, so a kube-state-metrics
    pod that restarts under a new `instance` is the same object."""
    for expr in rules(EVERY_CONTROLLER).values():
        for metric in set(c.FLUX_HEALTH_METRICS) & selected_metrics(expr):
            assert re.search(rf"max by \(cluster, kind, exported_namespace, name[^)]*\) \((last_over_time\()?{metric}",
                             expr), metric


@pytest.mark.parametrize("controllers, kinds", [
    (["source-controller", "kustomize-controller"], ["Kustomization"]),
    (["source-controller", "helm-controller"], ["HelmRelease"]),
    (EVERY_CONTROLLER, ["Kustomization", "HelmRelease"]),
])
def test_the_rules_measure_the_kinds_the_controllers_reconcile(controllers, kinds):
    matchers = {matcher.value for expr in rules(controllers).values() for selector in vector_selectors(expr)
                for matcher in selector.matchers.matchers if matcher.name == "kind"}
    assert matchers == {"|".join(kinds), *kinds}


def test_no_group_and_no_dashboard_without_a_kind_to_measure():
    assert delivery.delivered_kinds(["source-controller", "notification-controller"]) == []
    plan = Plan.of(parse_stack_config({**MINIMAL, "flux": {"controllers": ["source-controller"]}}))
    assert plan.alert_rules is not None and not plan.delivery
    assert delivery.GROUP not in [group["name"] for group in plan.alert_rules["groups"]]
    assert DELIVERY not in plan.dashboards




@pytest.mark.parametrize("overrides, ships", [
    ({}, True),
    ({"delivery": {"enabled": False}}, False),
    ({"objectHealth": {"enabled": False}}, False),
    ({"signals": {"metrics": False, "traces": True}}, False),
    ({"alerts": {"enabled": False}, "dashboards": {"enabled": False}}, True),
])
def test_the_plan_ships_them_with_object_health_unless_switched_off(overrides, ships):
    plan = Plan.of(parse_stack_config({**MINIMAL, **overrides}))
    groups = [group["name"] for group in plan.alert_rules["groups"]] if plan.alert_rules else []
    assert (delivery.GROUP in groups) is ships
    dashboards_on = overrides.get("dashboards", {}).get("enabled", True)
    assert (DELIVERY in plan.dashboards) is (ships and dashboards_on)


def test_the_documented_queries_are_the_ones_the_dashboard_runs():
    doc = DOC.read_text()
    for key, query in delivery.window_queries("7d").items():
        assert f"  {query}\n" in doc, key
