"""One scrape filter that fits what ships: the gateway keeps every metric a shipped alert rule or
dashboard queries, and, besides the `gotk_` families, nothing else.

Metric names are extracted from the rendered PrometheusRule and PersesDashboards with a PromQL
parser, independently of the names the builders note as they write each expression (the plan's
`queried_metrics`, which the filter is made of)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

import pytest

from components import constants as c
from components.builders.alert_rules import rule_expressions
from components.builders.collector_configs import CONTROLLERS_JOB, metric_keep_regex
from components.builders.dashboards import dashboard_queries
from components.builders.delivery import PREFIX as RECORDED
from components.builders.plan import Plan
from components.config import parse_stack_config
from components.tooling.render import read_stack_file
from e2e.harness.render import ROOT, STACKS, by_kind, releases, run_stack
from tests.helpers import selected_metrics

MINIMAL = {"clusterName": "test", "exporter": {"type": "debug"}}
VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "every-controller": {"flux": {"controllers": list(c.FLUX_CONTROLLERS)}},
    "per-kind": {"alerts": {"notReady": {"perKind": {"HelmRelease": "30m"}}, "extraLabels": {"team": "a"}}},
    "no-dashboards": {"dashboards": {"enabled": False}},
    "no-alerts": {"alerts": {"enabled": False}},
    "some-alerts": {"alerts": {"reconcileErrors": {"enabled": False}, "stuckWorkqueue": {"enabled": False}}},
}


COLLECTOR_STACKS = [
    stack for stack in STACKS
    if read_stack_file(ROOT, stack).config.get(f"{c.PROJECT}:mode", "collector") == "collector"
]


@lru_cache(maxsize=None)
def rendered(stack: str, overrides: str = "{}"):
    return run_stack(stack, overrides=json.loads(overrides)).resources


def shipped_queries(resources) -> list[str]:
    rules = [rule["expr"] for obj in by_kind(resources, "PrometheusRule")
             for group in obj["spec"]["groups"] for rule in group["rules"]]
    panels = [query["spec"]["plugin"]["spec"]["query"] for obj in by_kind(resources, "PersesDashboard")
              for panel in obj["spec"]["config"]["panels"].values() for query in panel["spec"]["queries"]]
    return rules + panels


def keep_regexes(resources) -> dict[str, str]:
    gateway = next(
        r["values"]["alternateConfig"] for r in releases(resources).values() if r["chart"] == c.COLLECTOR_CHART
    )
    jobs = gateway["receivers"]["prometheus"]["config"]["scrape_configs"]
    return {
        job["job_name"]: rule["regex"]
        for job in jobs for rule in job["metric_relabel_configs"] if rule["action"] == "keep"
    }


def kept(regex: str, name: str) -> bool:
    # Prometheus anchors relabel regexes at both ends.
    return re.fullmatch(f"(?:{regex})", name) is not None


def alternatives(regex: str) -> list[str]:
    return re.split(r"\|(?![^()]*\))", regex)


def histogram_siblings(names: set[str]) -> set[str]:
    bucket = c.HISTOGRAM_SERIES_SUFFIXES[0]
    return {name.removesuffix(bucket) + suffix for name in names if name.endswith(bucket)
            for suffix in c.HISTOGRAM_SERIES_SUFFIXES}


def shipped_expressions(plan: Plan) -> list[str]:
    rules = rule_expressions(plan.alert_rules) if plan.alert_rules else []
    return rules + [query for dashboard in plan.dashboards.values() for query in dashboard_queries(dashboard)]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_builders_note_every_metric_a_promql_parser_finds_in_what_ships(variant):
    plan = Plan.of(parse_stack_config({**MINIMAL, **VARIANTS[variant]}))
    # The delivery rules' own series are recorded by the backend, never scraped.
    parsed = {name for expr in shipped_expressions(plan) for name in selected_metrics(expr)
              if not name.startswith((c.COLLECTOR_METRIC_PREFIX, RECORDED))} - {c.SCRAPE_UP_METRIC}
    assert parsed, "nothing ships"
    assert plan.queried_metrics == sorted(parsed | histogram_siblings(parsed))


@pytest.mark.parametrize("stack", COLLECTOR_STACKS)
def test_every_metric_a_shipped_query_reads_is_kept_and_nothing_else_beyond_gotk(stack):
    resources = rendered(stack, json.dumps({"alerts": {"enabled": True}, "dashboards": {"enabled": True}}))
    used = {name for expr in shipped_queries(resources) for name in selected_metrics(expr)
            if not name.startswith(RECORDED)}
    assert used, "the stack ships no rules or dashboards"
    # A scrape reports `up` for its target past any filter (e2e/test_real_flux.py sees FluxControllerDown fire on it).
    used.discard(c.SCRAPE_UP_METRIC)
    regexes = keep_regexes(resources)
    for name in used | histogram_siblings(used):
        assert any(kept(regex, name) for regex in regexes.values()), f"{name} is dropped by every scrape job"
    prefixes, *explicit = alternatives(regexes[CONTROLLERS_JOB])
    assert prefixes == "(gotk_).*"
    assert explicit and set(explicit) <= used | histogram_siblings(used)
    assert (not kept(regexes[CONTROLLERS_JOB], "go_goroutines")
            and not kept(regexes[CONTROLLERS_JOB], "workqueue_adds_total"))


@pytest.mark.parametrize("variant", ["no-alerts-no-dashboards", "metrics-prefix-covers-them"])
def test_the_filter_admits_exact_names_only_for_what_ships(variant):
    overrides = {
        "no-alerts-no-dashboards": {"alerts": {"enabled": False}, "dashboards": {"enabled": False}},
        "metrics-prefix-covers-them": {"gateway": {"metricPrefixes": ["gotk_", "workqueue_", "controller_runtime_"]}},
    }[variant]
    regex = keep_regexes(rendered("prod", json.dumps(overrides)))[CONTROLLERS_JOB]
    if variant == "no-alerts-no-dashboards":
        assert regex == "(gotk_).*"
    else:
        assert alternatives(regex) == ["(controller_runtime_|gotk_|workqueue_).*", c.PROCESS_CPU_METRIC,
                                       c.PROCESS_MEMORY_METRIC, c.PROCESS_START_METRIC, c.REST_CLIENT_REQUESTS_METRIC]


def test_a_histogram_is_kept_whole():
    config = parse_stack_config({**MINIMAL, "alerts": {"enabled": False}})
    regex = metric_keep_regex(["gotk_"], Plan.of(config).queried_metrics)
    family = c.WORKQUEUE_QUEUE_DURATION_METRIC
    assert all(kept(regex, family + suffix) for suffix in c.HISTOGRAM_SERIES_SUFFIXES)


def test_nothing_is_queried_while_metrics_are_off():
    config = parse_stack_config({**MINIMAL, "signals": {"metrics": False}})
    plan = Plan.of(config)
    assert shipped_expressions(plan) == [] and plan.queried_metrics == []
