"""The Perses dashboards: valid for the CRD, laid out without gaps or overlaps, real Perses panels
with PromQL that parses, and the panels the issue asks for."""

from __future__ import annotations

import promql_parser
import pytest

from components import constants as c
from components.builders import dashboards
from components.config import ConfigError, parse_stack_config
from tests.helpers import label_matchers, selected_metrics, validate_custom_resource, vector_selectors

CONTROLLERS = list(c.FLUX_DEFAULT_CONTROLLERS)
PANEL_PLUGINS = {"TimeSeriesChart", "StatChart", "Table"}
CONTROLLER_FAMILIES = {  # metric -> the label that names the reconciler
    c.RECONCILE_TOTAL_METRIC: "controller",
    c.RECONCILE_ERRORS_METRIC: "controller",
    c.WORKQUEUE_DEPTH_METRIC: "name",
    c.WORKQUEUE_LONGEST_RUNNING_METRIC: "name",
    f"{c.WORKQUEUE_QUEUE_DURATION_METRIC}_bucket": "name",
}


CLUSTER_LABEL = c.PROMETHEUS_CLUSTER_LABEL
CLUSTER_SCOPE = (CLUSTER_LABEL, "=~", f"${dashboards.CLUSTER}")
NAMESPACE_SCOPES = {
    ("exported_namespace", "=~", f"${dashboards.NAMESPACE}"), ("namespace", "=~", f"${dashboards.NAMESPACE}")
}
PROCESS_FAMILIES = {c.PROCESS_CPU_METRIC, c.PROCESS_MEMORY_METRIC, c.PROCESS_START_METRIC}


def specs(controllers=CONTROLLERS, cluster_label=CLUSTER_LABEL):
    return dashboards.dashboard_specs(controllers, cluster_label)


@pytest.mark.parametrize("name", [dashboards.OVERVIEW, dashboards.CONTROL_PLANE])
def test_each_dashboard_is_valid_for_the_crd(name):
    validate_custom_resource({
        "apiVersion": c.PERSES_DASHBOARD_API_VERSION, "kind": "PersesDashboard",
        "metadata": {"name": name, "namespace": c.FLUX_NAMESPACE},
        "spec": dashboards.custom_resource_spec(specs()[name]),
    })


@pytest.mark.parametrize("name", [dashboards.OVERVIEW, dashboards.CONTROL_PLANE])
def test_every_panel_is_placed_once_inside_the_grid_without_overlap(name):
    spec = specs()[name]
    refs = []
    for layout in spec["layouts"]:
        assert layout["kind"] == "Grid"
        cells: set[tuple[int, int]] = set()
        for item in layout["spec"]["items"]:
            refs.append(item["content"]["$ref"])
            assert 0 <= item["x"] and item["x"] + item["width"] <= dashboards.GRID_COLUMNS
            covered = {(x, y) for x in range(item["x"], item["x"] + item["width"])
                       for y in range(item["y"], item["y"] + item["height"])}
            assert not cells & covered, f"{item['content']['$ref']} overlaps another panel"
            cells |= covered
    assert sorted(refs) == sorted(f"#/spec/panels/{key}" for key in spec["panels"])


def test_panels_are_perses_charts_with_prometheus_queries_that_parse():
    queries = []
    for spec in specs().values():
        for panel in spec["panels"].values():
            assert panel["kind"] == "Panel" and panel["spec"]["plugin"]["kind"] in PANEL_PLUGINS
            assert panel["spec"]["display"]["name"] and panel["spec"]["queries"]
            for query in panel["spec"]["queries"]:
                assert query["kind"] == "TimeSeriesQuery"
                assert query["spec"]["plugin"]["kind"] == "PrometheusTimeSeriesQuery"
                queries.append(query["spec"]["plugin"]["spec"]["query"])
    # promtool, Prometheus' own parser, reads them in e2e/test_dashboards_promtool.py.
    for query in queries:
        promql_parser.parse(query)


def metrics_of(spec) -> set[str]:
    return {name for query in dashboards.dashboard_queries(spec) for name in selected_metrics(query)}


def test_the_overview_shows_flux_objects_and_their_reconcile_durations():
    spec = specs()[dashboards.OVERVIEW]
    assert metrics_of(spec) == {c.FLUX_RESOURCE_INFO_METRIC, *(f"{c.RECONCILE_DURATION_METRIC}{suffix}"
                                                               for suffix in c.HISTOGRAM_SERIES_SUFFIXES)}
    info_selectors = {
        frozenset(label_matchers(selector)) - {CLUSTER_SCOPE, *NAMESPACE_SCOPES}
        for query in dashboards.dashboard_queries(spec) for selector in vector_selectors(query)
        if selector.name == c.FLUX_RESOURCE_INFO_METRIC
    }
    # all objects, not Ready ones, suspended ones
    # Not Ready counts exactly what the not-Ready alert counts: objects with a Ready condition only.
    assert {frozenset(), frozenset({("ready", "!=", "True"), ("suspended", "!=", "true"), ("reason", "!=", "")}),
            frozenset({("suspended", "=", "true")})} <= info_selectors
    kinds = {panel["spec"]["plugin"]["kind"] for panel in spec["panels"].values()}
    assert kinds == PANEL_PLUGINS


def test_the_control_plane_view_shows_reconciles_work_queues_workers_processes_and_api_requests():
    assert metrics_of(specs()[dashboards.CONTROL_PLANE]) == set(CONTROLLER_FAMILIES) | PROCESS_FAMILIES | {
        c.REST_CLIENT_REQUESTS_METRIC, c.ACTIVE_WORKERS_METRIC, c.MAX_WORKERS_METRIC}


@pytest.mark.parametrize("cluster_label", [CLUSTER_LABEL, "cluster"])
def test_every_selector_is_scoped_by_the_dashboard_s_variables(cluster_label):
    """The cluster variable scopes every selector; the overview's namespace variable every object's,
    except the sources a Kustomization is compared with, which may be in another namespace; each
    variable lists the values of the label it scopes by."""
    for name, spec in specs(cluster_label=cluster_label).items():
        variables = {v["spec"]["name"]: v["spec"]["plugin"]["spec"]["labelName"] for v in spec["variables"]}
        assert variables[dashboards.CLUSTER] == cluster_label
        for query in dashboards.dashboard_queries(spec):
            for selector in vector_selectors(query):
                matchers = set(label_matchers(selector))
                assert (cluster_label, "=~", f"${dashboards.CLUSTER}") in matchers, query
                if name == dashboards.OVERVIEW and ("kind", "=~", "|".join(c.FLUX_SOURCE_KINDS)) not in matchers:
                    assert matchers & NAMESPACE_SCOPES, query
                    assert variables[dashboards.NAMESPACE] == "exported_namespace"


def test_process_and_api_panels_keep_only_the_flux_controllers_processes():
    """Every process serves process_* and many serve rest_client_*: the panels keep the instances
    that serve a Flux reconciler's counters."""
    for query in dashboards.dashboard_queries(specs()[dashboards.CONTROL_PLANE]):
        if selected_metrics(query) & (PROCESS_FAMILIES | {c.REST_CLIENT_REQUESTS_METRIC}):
            assert f"and on (instance) group by (instance) ({c.RECONCILE_TOTAL_METRIC}" in query, query


@pytest.mark.parametrize("controllers", [CONTROLLERS, ["helm-controller"], list(c.FLUX_CONTROLLERS)])
def test_controller_panels_select_only_the_configured_reconcilers(controllers):
    expected = "|".join(c.flux_reconcilers(controllers))
    for query in dashboards.dashboard_queries(specs(controllers)[dashboards.CONTROL_PLANE]):
        for selector in vector_selectors(query):
            if selector.name in CONTROLLER_FAMILIES:
                assert (CONTROLLER_FAMILIES[selector.name], "=~", expected) in label_matchers(selector), query


def test_a_cluster_label_that_is_no_label_name_is_refused_with_its_key():
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"clusterName": "x", "exporter": {"type": "debug"}, "clusterLabel": "k8s.cluster.name"})
    assert f"{c.PROJECT}:clusterLabel: " in str(caught.value) and "not a Prometheus label name" in str(caught.value)
