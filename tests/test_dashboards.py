"""The Perses dashboards: valid for the CRD, laid out without gaps or overlaps, real Perses panels
with PromQL that parses, and the panels the issue asks for."""

from __future__ import annotations

import pytest
from promql_ast import label_matchers, selected_metrics, vector_selectors
from promtool import check_rules
from support import validate_custom_resource

from components import constants as c
from components.builders import dashboards

CONTROLLERS = list(c.FLUX_DEFAULT_CONTROLLERS)
PANEL_PLUGINS = {"TimeSeriesChart", "StatChart", "Table"}
CONTROLLER_FAMILIES = {  # metric -> the label that names the reconciler
    c.RECONCILE_TOTAL_METRIC: "controller",
    c.RECONCILE_ERRORS_METRIC: "controller",
    c.WORKQUEUE_DEPTH_METRIC: "name",
    c.WORKQUEUE_LONGEST_RUNNING_METRIC: "name",
    f"{c.WORKQUEUE_QUEUE_DURATION_METRIC}_bucket": "name",
}


def specs(controllers=CONTROLLERS):
    return dashboards.dashboard_specs(controllers)


@pytest.mark.parametrize("name", [dashboards.OVERVIEW, dashboards.CONTROL_PLANE])
def test_each_dashboard_is_valid_for_the_crd(name):
    validate_custom_resource({
        "apiVersion": c.PERSES_DASHBOARD_API_VERSION, "kind": "PersesDashboard",
        "metadata": {"name": name, "namespace": c.FLUX_NAMESPACE}, "spec": dashboards.custom_resource_spec(specs()[name]),
    })


@pytest.mark.parametrize("name", [dashboards.OVERVIEW, dashboards.CONTROL_PLANE])
def test_every_panel_is_placed_once_inside_the_grid_without_overlap(name):
    spec = specs()[name]
    refs = []
    for layout in spec["layouts"]:
        assert layout["kind"] == "Grid"
        cells = set()
        for item in layout["spec"]["items"]:
            refs.append(item["content"]["$ref"])
            assert 0 <= item["x"] and item["x"] + item["width"] <= dashboards.GRID_COLUMNS
            covered = {(x, y) for x in range(item["x"], item["x"] + item["width"])
                       for y in range(item["y"], item["y"] + item["height"])}
            assert not cells & covered, f"{item['content']['$ref']} overlaps another panel"
            cells |= covered
    assert sorted(refs) == sorted(f"#/spec/panels/{key}" for key in spec["panels"])


def test_panels_are_perses_charts_with_prometheus_queries_that_parse(tmp_path):
    queries = []
    for spec in specs().values():
        for panel in spec["panels"].values():
            assert panel["kind"] == "Panel" and panel["spec"]["plugin"]["kind"] in PANEL_PLUGINS
            assert panel["spec"]["display"]["name"] and panel["spec"]["queries"]
            for query in panel["spec"]["queries"]:
                assert query["kind"] == "TimeSeriesQuery"
                assert query["spec"]["plugin"]["kind"] == "PrometheusTimeSeriesQuery"
                queries.append(query["spec"]["plugin"]["spec"]["query"])
    recorded = [{"record": f"dashboard:query_{index}", "expr": query} for index, query in enumerate(queries)]
    check_rules([{"name": "dashboards", "rules": recorded}], tmp_path)


def metrics_of(spec) -> set[str]:
    return {name for query in dashboards.dashboard_queries(spec) for name in selected_metrics(query)}


def test_the_overview_shows_flux_objects_and_their_reconcile_durations():
    spec = specs()[dashboards.OVERVIEW]
    assert metrics_of(spec) == {c.FLUX_RESOURCE_INFO_METRIC, f"{c.RECONCILE_DURATION_METRIC}_bucket",
                                f"{c.RECONCILE_DURATION_METRIC}_count"}
    info_selectors = {
        frozenset(label_matchers(selector))
        for query in dashboards.dashboard_queries(spec) for selector in vector_selectors(query)
        if selector.name == c.FLUX_RESOURCE_INFO_METRIC
    }
    # all objects, not Ready ones, suspended ones
    # Not Ready counts exactly what the not-Ready alert counts: objects with a Ready condition only.
    assert {frozenset(), frozenset({("ready", "!=", "True"), ("suspended", "!=", "true"), ("reason", "!=", "")}),
            frozenset({("suspended", "=", "true")})} <= info_selectors
    kinds = {panel["spec"]["plugin"]["kind"] for panel in spec["panels"].values()}
    assert kinds == PANEL_PLUGINS


def test_the_control_plane_view_shows_reconciles_work_queues_and_api_requests():
    assert metrics_of(specs()[dashboards.CONTROL_PLANE]) == set(CONTROLLER_FAMILIES) | {c.REST_CLIENT_REQUESTS_METRIC}


@pytest.mark.parametrize("controllers", [CONTROLLERS, ["helm-controller"], list(c.FLUX_CONTROLLERS)])
def test_controller_panels_select_only_the_configured_reconcilers(controllers):
    expected = "|".join(c.flux_reconcilers(controllers))
    for query in dashboards.dashboard_queries(specs(controllers)[dashboards.CONTROL_PLANE]):
        for selector in vector_selectors(query):
            if selector.name in CONTROLLER_FAMILIES:
                assert (CONTROLLER_FAMILIES[selector.name], "=~", expected) in label_matchers(selector), query
