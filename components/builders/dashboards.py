"""Pure builders of the PersesDashboard specs: a Flux overview and a Flux control-plane view.

Panels use the Perses plugins TimeSeriesChart, StatChart and Table with PrometheusTimeSeriesQuery
and no datasource, so they read the default one (in Dash0, the dataset the operator syncs to).
Controller panels select the Flux reconcilers by name, because other controllers in the same
backend serve the same controller-runtime families.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import constants as c

OVERVIEW = f"{c.PROJECT}-overview"
CONTROL_PLANE = f"{c.PROJECT}-control-plane"
GRID_COLUMNS = 24
DEFAULT_RANGE = "1h"
RATE_WINDOW = "5m"
SLOWEST_WINDOW = "1h"


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    description: str
    plugin: str
    options: dict[str, Any]
    queries: tuple[tuple[str, str], ...]
    """(PromQL, series name format) pairs."""
    width: int
    height: int


def time_series(key: str, title: str, description: str, queries: list[tuple[str, str]], unit: str, *, width: int = 12) -> Panel:
    options = {
        "legend": {"position": "bottom", "mode": "list"},
        "yAxis": {"format": {"unit": unit}},
        "visual": {"display": "line", "lineWidth": 1.5, "areaOpacity": 0.1},
    }
    return Panel(key, title, description, "TimeSeriesChart", options, tuple(queries), width, 8)


def stat(key: str, title: str, description: str, query: str) -> Panel:
    options = {"calculation": "last-number", "format": {"unit": "decimal"}}
    return Panel(key, title, description, "StatChart", options, ((query, ""),), 8, 4)


def table(key: str, title: str, description: str, query: str) -> Panel:
    return Panel(key, title, description, "Table", {"density": "compact"}, ((query, ""),), 12, 8)


def _query(expr: str, series_name: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"query": expr}
    if series_name:
        spec["seriesNameFormat"] = series_name
    return {"kind": "TimeSeriesQuery", "spec": {"plugin": {"kind": "PrometheusTimeSeriesQuery", "spec": spec}}}


def _panel(panel: Panel) -> dict[str, Any]:
    return {
        "kind": "Panel",
        "spec": {
            "display": {"name": panel.title, "description": panel.description},
            "plugin": {"kind": panel.plugin, "spec": panel.options},
            "queries": [_query(expr, series_name) for expr, series_name in panel.queries],
        },
    }


def _grid(title: str, panels: list[Panel]) -> dict[str, Any]:
    """Panels left to right, wrapping at the grid's width."""
    items, x, y, row_height = [], 0, 0, 0
    for panel in panels:
        if x + panel.width > GRID_COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        items.append(
            {"x": x, "y": y, "width": panel.width, "height": panel.height, "content": {"$ref": f"#/spec/panels/{panel.key}"}}
        )
        x, row_height = x + panel.width, max(row_height, panel.height)
    return {"kind": "Grid", "spec": {"display": {"title": title, "collapse": {"open": True}}, "items": items}}


def dashboard_spec(title: str, description: str, rows: list[tuple[str, list[Panel]]]) -> dict[str, Any]:
    panels = [panel for _, row in rows for panel in row]
    return {
        "display": {"name": title, "description": description},
        "duration": DEFAULT_RANGE,
        "panels": {panel.key: _panel(panel) for panel in panels},
        "layouts": [_grid(row_title, row) for row_title, row in rows],
    }


def overview_spec() -> dict[str, Any]:
    info = c.FLUX_RESOURCE_INFO_METRIC
    duration = c.RECONCILE_DURATION_METRIC
    objects = [
        stat("objects", "Flux objects", "Flux objects that kube-state-metrics reports.", f"count({info})"),
        stat(
            "notReady", "Not Ready", "Objects whose Ready condition is False or Unknown, suspended ones aside.",
            f"count({info}{{{c.FLUX_NOT_READY_SELECTOR}}}) or vector(0)",
        ),
        stat("suspended", "Suspended", "Objects with spec.suspend set.", f'count({info}{{suspended="true"}}) or vector(0)'),
        table("objectsByKind", "Objects by kind", "How many objects of each kind exist.", f"count by (kind) ({info})"),
        table(
            "notReadyObjects", "Objects not Ready", "Each not Ready object with the reason of its Ready condition.",
            f"{info}{{{c.FLUX_NOT_READY_SELECTOR}}}",
        ),
    ]
    reconciliation = [
        table(
            "slowestReconciliations", "Slowest reconciliations",
            f"The ten objects with the highest 95th percentile reconcile duration over the last {SLOWEST_WINDOW}.",
            f"topk(10, histogram_quantile(0.95, rate({duration}_bucket[{SLOWEST_WINDOW}])))",
        ),
        time_series(
            "reconcileDuration", "Reconcile duration by kind", "50th and 95th percentile of reconcile durations.",
            [
                (f"histogram_quantile({quantile}, sum by (kind, le) (rate({duration}_bucket[{RATE_WINDOW}])))", f"{{{{kind}}}} p{label}")
                for quantile, label in (("0.5", "50"), ("0.95", "95"))
            ],
            "seconds",
        ),
        time_series(
            "reconcileRate", "Reconciliations by kind", "Finished reconciliations per second.",
            [(f"sum by (kind) (rate({duration}_count[{RATE_WINDOW}]))", "{{kind}}")],
            "decimal", width=GRID_COLUMNS,
        ),
    ]
    return dashboard_spec(
        "Flux overview",
        "Flux objects by kind and state, and how long their reconciliations take.",
        [("Objects", objects), ("Reconciliation", reconciliation)],
    )


def control_plane_spec(controllers: list[str]) -> dict[str, Any]:
    names = "|".join(c.flux_reconcilers(controllers))
    by_controller = f'controller=~"{names}"'
    by_queue = f'name=~"{names}"'
    reconciles = [
        time_series(
            "reconcileRate", "Reconciliations by reconciler", "Reconciliations per second and their result.",
            [(f"sum by (controller, result) (rate({c.RECONCILE_TOTAL_METRIC}{{{by_controller}}}[{RATE_WINDOW}]))",
              "{{controller}} {{result}}")],
            "decimal",
        ),
        time_series(
            "reconcileErrors", "Reconcile errors by reconciler", "Reconciliations per second that returned an error.",
            [(f"sum by (controller) (rate({c.RECONCILE_ERRORS_METRIC}{{{by_controller}}}[{RATE_WINDOW}]))", "{{controller}}")],
            "decimal",
        ),
    ]
    queues = [
        time_series(
            "workqueueDepth", "Work queue depth", "Items waiting to be reconciled.",
            [(f"sum by (name) ({c.WORKQUEUE_DEPTH_METRIC}{{{by_queue}}})", "{{name}}")],
            "decimal",
        ),
        time_series(
            "workqueueLatency", "Work queue latency", "95th percentile of how long items wait before a worker takes them.",
            [(f"histogram_quantile(0.95, sum by (name, le) (rate({c.WORKQUEUE_QUEUE_DURATION_METRIC}_bucket{{{by_queue}}}[{RATE_WINDOW}])))",
              "{{name}}")],
            "seconds",
        ),
        time_series(
            "longestRunning", "Longest running reconcile", "How long the oldest item in process has been worked on.",
            [(f"max by (name) ({c.WORKQUEUE_LONGEST_RUNNING_METRIC}{{{by_queue}}})", "{{name}}")],
            "seconds", width=GRID_COLUMNS,
        ),
    ]
    api = [
        time_series(
            "apiRequests", "Kubernetes API requests", "Requests per second by method and status code.",
            [(f"sum by (method, code) (rate({c.REST_CLIENT_REQUESTS_METRIC}[{RATE_WINDOW}]))", "{{method}} {{code}}")],
            "decimal", width=GRID_COLUMNS,
        ),
    ]
    return dashboard_spec(
        "Flux control plane",
        "Reconcile rate and errors, work queues and Kubernetes API requests of the Flux controllers.",
        [("Reconciliation", reconciles), ("Work queues", queues), ("Kubernetes API", api)],
    )


def dashboard_specs(controllers: list[str]) -> dict[str, dict[str, Any]]:
    """Each dashboard's resource name and spec."""
    return {OVERVIEW: overview_spec(), CONTROL_PLANE: control_plane_spec(controllers)}


def custom_resource_spec(dashboard: dict[str, Any]) -> dict[str, Any]:
    """The PersesDashboard's spec for PERSES_DASHBOARD_API_VERSION: the Perses dashboard under
    `config`, with no `instanceSelector`, so every Perses instance shows it."""
    return {"config": dashboard}


def dashboard_queries(spec: dict[str, Any]) -> list[str]:
    return [
        query["spec"]["plugin"]["spec"]["query"]
        for panel in spec["panels"].values()
        for query in panel["spec"]["queries"]
    ]
