"""Pure builders of the PersesDashboard specs: a Flux overview, a Flux control-plane view and, with
the delivery rules, a Flux delivery view.

Panels use the Perses plugins TimeSeriesChart, StatChart and Table with PrometheusTimeSeriesQuery
and no datasource, so they read the default one (in Dash0, the dataset the operator syncs to).
Controller panels select the Flux reconcilers by name, because other controllers in the same
backend serve the same controller-runtime families. A cluster variable (from the label the backend
gives `k8s.cluster.name`) and, on the overview, a namespace variable scope every query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import constants as c
from . import delivery as figures
from .collector_configs import AGENT_JOB, NODE_LABEL
from .promql import metric
from .source_queries import behind_source

OVERVIEW = f"{c.PROJECT}-overview"
CONTROL_PLANE = f"{c.PROJECT}-control-plane"
DELIVERY = f"{c.PROJECT}-delivery"
GRID_COLUMNS = 24
DEFAULT_RANGE = "1h"
RATE_WINDOW = "5m"
SLOWEST_WINDOW = "1h"
RESTART_WINDOW = "1h"
# The dashboards' variables, and the value that selects every value of one.
CLUSTER = "cluster"
NAMESPACE = "namespace"
ALL = "$__all"
# The kinds whose revision says what reached the cluster: the sources' fetched, the appliers' applied.
SYNCED_KINDS = (*c.FLUX_SOURCE_KINDS, "HelmChart", "Kustomization", "HelmRelease")


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


def time_series(
    key: str, title: str, description: str, queries: list[tuple[str, str]], unit: str, *, width: int = 12
) -> Panel:
    options = {
        "legend": {"position": "bottom", "mode": "list"},
        "yAxis": {"format": {"unit": unit}},
        "visual": {"display": "line", "lineWidth": 1.5, "areaOpacity": 0.1},
    }
    return Panel(key, title, description, "TimeSeriesChart", options, tuple(queries), width, 8)


def stat(key: str, title: str, description: str, query: str, *, unit: str = "decimal", width: int = 8) -> Panel:
    options = {"calculation": "last-number", "format": {"unit": unit}}
    return Panel(key, title, description, "StatChart", options, ((query, ""),), width, 4)


def table(key: str, title: str, description: str, query: str, *, width: int = 12) -> Panel:
    return Panel(key, title, description, "Table", {"density": "compact"}, ((query, ""),), width, 8)


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
            {
                "x": x, "y": y, "width": panel.width, "height": panel.height,
                "content": {"$ref": f"#/spec/panels/{panel.key}"},
            }
        )
        x, row_height = x + panel.width, max(row_height, panel.height)
    return {"kind": "Grid", "spec": {"display": {"title": title, "collapse": {"open": True}}, "items": items}}


def _variable(name: str, title: str, label: str, series: str) -> dict[str, Any]:
    """A list of the label's values on the metric, several or all selectable (all by default)."""
    return {
        "kind": "ListVariable",
        "spec": {
            "name": name,
            "display": {"name": title},
            "allowAllValue": True,
            "allowMultiple": True,
            "defaultValue": ALL,
            "plugin": {"kind": "PrometheusLabelValuesVariable",
                       "spec": {"labelName": label, "matchers": [metric(series)]}},
        },
    }


def dashboard_spec(title: str, description: str, variables: list[dict[str, Any]],
                   rows: list[tuple[str, list[Panel]]]) -> dict[str, Any]:
    panels = [panel for _, row in rows for panel in row]
    return {
        "display": {"name": title, "description": description},
        "duration": DEFAULT_RANGE,
        "variables": variables,
        "panels": {panel.key: _panel(panel) for panel in panels},
        "layouts": [_grid(row_title, row) for row_title, row in rows],
    }


def _in_scope(label: str, variable: str) -> str:
    return f'{label}=~"${variable}"'


def overview_spec(cluster_label: str) -> dict[str, Any]:
    info = metric(c.FLUX_RESOURCE_INFO_METRIC)
    buckets, count, total = (metric(c.RECONCILE_DURATION_METRIC + suffix) for suffix in c.HISTOGRAM_SERIES_SUFFIXES)
    cluster = _in_scope(cluster_label, CLUSTER)
    objects_in_scope = f"{cluster},{_in_scope('exported_namespace', NAMESPACE)}"
    # The controllers' own histogram names the object's namespace `namespace`.
    reconciles_in_scope = f"{cluster},{_in_scope('namespace', NAMESPACE)}"
    object_key = f"{cluster_label}, kind, name, namespace"
    not_ready = f"{info}{{{objects_in_scope},{c.FLUX_NOT_READY_SELECTOR}}}"
    suspended = f'{info}{{{objects_in_scope},suspended="true"}}'
    objects = [
        stat("objects", "Flux objects", "Flux objects that kube-state-metrics reports.",
             f"count({info}{{{objects_in_scope}}})"),
        stat("notReady", "Not Ready", "Objects whose Ready condition is False or Unknown, suspended ones aside.",
             f"count({not_ready}) or vector(0)"),
        stat("suspended", "Suspended", "Objects with spec.suspend set.", f"count({suspended}) or vector(0)"),
        table("notReadyByKind", "Not Ready by kind", "How many objects of each kind are not Ready, and why.",
              f"count by (kind, reason) ({not_ready})"),
        table("objectsByKind", "Objects by kind", "How many objects of each kind exist.",
              f"count by (kind) ({info}{{{objects_in_scope}}})"),
        table("notReadyObjects", "Objects not Ready", "Each not Ready object with the reason of its Ready condition.",
              not_ready),
        table("suspendedObjects", "Suspended objects",
              "Each suspended object: Flux does not reconcile it until resumed.", suspended),
    ]
    sync = [
        table(
            "behindSource", "Behind their source",
            "Kustomizations that have not applied their source's revision (suspended and failing ones aside): the "
            "cluster is not at the head of what they follow.",
            behind_source(cluster_label, scope=f",{objects_in_scope}", source_scope=f",{cluster}"), width=GRID_COLUMNS,
        ),
        table(
            "revisions", "Revisions",
            "The revision each source has fetched and each Kustomization and HelmRelease has applied, with Ready: "
            "a Kustomization at its source's revision is at the head of what it follows.",
            f'{info}{{{objects_in_scope},kind=~"{"|".join(SYNCED_KINDS)}"}}', width=GRID_COLUMNS,
        ),
    ]
    reconciliation = [
        table(
            "slowestReconciliations", "Slowest objects",
            f"The ten objects with the longest mean reconcile duration over the last {SLOWEST_WINDOW}.",
            f"topk(10, sum by ({object_key}) (rate({total}{{{reconciles_in_scope}}}[{SLOWEST_WINDOW}])) "
            f"/ sum by ({object_key}) (rate({count}{{{reconciles_in_scope}}}[{SLOWEST_WINDOW}])))",
        ),
        time_series(
            "reconcileDuration", "Reconcile duration by kind", "50th and 95th percentile of reconcile durations.",
            [
                (f"histogram_quantile({quantile}, sum by (kind, le) (rate({buckets}{{{reconciles_in_scope}}}"
                 f"[{RATE_WINDOW}])))", f"{{{{kind}}}} p{label}")
                for quantile, label in (("0.5", "50"), ("0.95", "95"))
            ],
            "seconds",
        ),
        time_series(
            "reconcileRate", "Reconciliations by kind", "Finished reconciliations per second.",
            [(f"sum by (kind) (rate({count}{{{reconciles_in_scope}}}[{RATE_WINDOW}]))", "{{kind}}")],
            "decimal", width=GRID_COLUMNS,
        ),
    ]
    return dashboard_spec(
        "Flux overview",
        "Flux objects by kind and state, what each has applied, and how long their reconciliations take.",
        [
            _variable(CLUSTER, "Cluster", cluster_label, info),
            _variable(NAMESPACE, "Namespace", "exported_namespace", info),
        ],
        [("Objects", objects), ("Sync", sync), ("Reconciliation", reconciliation)],
    )


def pipeline_panels(cluster: str, log_agents: bool) -> list[Panel]:
    """The collectors' own metrics (gateway.pipelineMetrics): what they send, drop and hold."""

    def rate(name: str) -> str:
        return f"rate({metric(name)}{{{cluster}}}[{RATE_WINDOW}])"

    sent = [
        (f"sum by (job) ({rate(sent)})", f"{{{{job}}}} {signal}")
        for signal, sent in c.EXPORTER_SENT_METRICS.items()
    ]
    # A collector counts drops from its first one on: until then, 0 for every exporter that sends.
    dropped = [
        (f"sum by (job) ({rate(failed)} or 0 * {rate(c.EXPORTER_SENT_METRICS[signal])})", f"{{{{job}}}} {signal}")
        for signal, failed in c.EXPORTER_SEND_FAILED_METRICS.items()
    ]

    panels = [
        time_series("sent", "Sent", "Items per second the gateway and log agents delivered, by signal.",
                    sent, "decimal", width=8),
        time_series("dropped", "Dropped", "Items per second dropped after their last retry: refused by the destination "
                    "or undeliverable for longer than the queue's outage.",
                    dropped, "decimal", width=8),
        time_series("queueFill", "Export queue in use", "Share of each export queue in use; a full queue holds the "
                    "receivers back.",
                    [(f"max by (job, data_type) ({metric(c.EXPORTER_QUEUE_SIZE_METRIC)}{{{cluster}}} "
                      f"/ {metric(c.EXPORTER_QUEUE_CAPACITY_METRIC)}{{{cluster}}})", "{{job}} {{data_type}}")],
                    "percent-decimal", width=8),
    ]
    if log_agents:
        agents = f'{cluster},job="{AGENT_JOB}"'
        accepted = metric(c.RECEIVER_ACCEPTED_LOG_RECORDS_METRIC)
        refused = metric(c.RECEIVER_REFUSED_LOG_RECORDS_METRIC)
        panels.append(time_series(
            "agentReads", "Log lines read by node", "Flux log lines per second each node's agent read, and refused.",
            [(f"sum by ({NODE_LABEL}) (rate({accepted}{{{agents}}}[{RATE_WINDOW}]))",
              f"{{{{{NODE_LABEL}}}}}"),
             (f"sum by ({NODE_LABEL}) (rate({refused}{{{agents}}}[{RATE_WINDOW}]))",
              f"{{{{{NODE_LABEL}}}}} refused")],
            "decimal", width=GRID_COLUMNS,
        ))
    return panels


def control_plane_spec(controllers: list[str], cluster_label: str, *, pipeline: bool = False,
                       log_agents: bool = False) -> dict[str, Any]:
    names = "|".join(c.flux_reconcilers(controllers))
    cluster = _in_scope(cluster_label, CLUSTER)
    by_controller = f'{cluster},controller=~"{names}"'
    by_queue = f'{cluster},name=~"{names}"'
    reconciled = metric(c.RECONCILE_TOTAL_METRIC)

    def of_flux(expr: str) -> str:
        """`expr` for the Flux controllers' processes only: other processes in the backend serve the
        same families, and only Flux's reconcilers tell the controllers apart in every mode."""
        return f"({expr}) and on (instance) group by (instance) ({reconciled}{{{by_controller}}})"

    reconciles = [
        time_series(
            "reconcileRate", "Reconciliations by reconciler", "Reconciliations per second and their result.",
            [(f"sum by (controller, result) (rate({reconciled}{{{by_controller}}}[{RATE_WINDOW}]))",
              "{{controller}} {{result}}")],
            "decimal",
        ),
        time_series(
            "reconcileErrors", "Reconcile errors by reconciler", "Reconciliations per second that returned an error.",
            [(f"sum by (controller) (rate({metric(c.RECONCILE_ERRORS_METRIC)}{{{by_controller}}}[{RATE_WINDOW}]))",
              "{{controller}}")],
            "decimal",
        ),
    ]
    queues = [
        time_series(
            "workqueueDepth", "Work queue depth", "Items waiting to be reconciled.",
            [(f"sum by (name) ({metric(c.WORKQUEUE_DEPTH_METRIC)}{{{by_queue}}})", "{{name}}")],
            "decimal",
        ),
        time_series(
            "workqueueLatency", "Work queue latency",
            "95th percentile of how long items wait before a worker takes them.",
            [(f"histogram_quantile(0.95, sum by (name, le) "
              f"(rate({metric(c.WORKQUEUE_QUEUE_DURATION_METRIC + '_bucket')}{{{by_queue}}}[{RATE_WINDOW}])))",
              "{{name}}")],
            "seconds",
        ),
        time_series(
            "busyWorkers", "Busy workers", "Share of each reconciler's workers busy; at 100% objects wait their turn.",
            [(f"sum by (controller) ({metric(c.ACTIVE_WORKERS_METRIC)}{{{by_controller}}}) "
              f"/ sum by (controller) ({metric(c.MAX_WORKERS_METRIC)}{{{by_controller}}})", "{{controller}}")],
            "percent-decimal",
        ),
        time_series(
            "longestRunning", "Longest running reconcile", "How long the oldest item in process has been worked on.",
            [(f"max by (name) ({metric(c.WORKQUEUE_LONGEST_RUNNING_METRIC)}{{{by_queue}}})", "{{name}}")],
            "seconds",
        ),
    ]
    processes = [
        time_series(
            "cpu", "CPU", "CPU seconds each controller process uses per second.",
            [(of_flux(f"rate({metric(c.PROCESS_CPU_METRIC)}{{{cluster}}}[{RATE_WINDOW}])"), "{{instance}}")],
            "decimal", width=8,
        ),
        time_series(
            "memory", "Memory", "Resident memory of each controller process.",
            [(of_flux(f"{metric(c.PROCESS_MEMORY_METRIC)}{{{cluster}}}"), "{{instance}}")],
            "bytes", width=8,
        ),
        time_series(
            "restarts", "Restarts", f"How often each controller process started anew in the last {RESTART_WINDOW}.",
            [(of_flux(f"changes({metric(c.PROCESS_START_METRIC)}{{{cluster}}}[{RESTART_WINDOW}])"), "{{instance}}")],
            "decimal", width=8,
        ),
    ]
    requests = f"rate({metric(c.REST_CLIENT_REQUESTS_METRIC)}{{{cluster}}}[{RATE_WINDOW}])"
    api = [
        time_series(
            "apiRequests", "Kubernetes API requests", "Requests per second of the Flux controllers by status class; "
            "429 and 5xx mean the API server is throttling or failing them.",
            [(f'sum by (class) (label_replace({of_flux(requests)}, "class", "${{1}}xx", "code", "([0-9]).*"))',
              "{{class}}")],
            "decimal", width=GRID_COLUMNS,
        ),
    ]
    rows = [("Reconciliation", reconciles), ("Work queues", queues), ("Processes", processes), ("Kubernetes API", api)]
    if pipeline:
        rows.append(("Pipeline", pipeline_panels(cluster, log_agents)))
    return dashboard_spec(
        "Flux control plane",
        "Reconcile rate and errors, work queues and workers, the controllers' processes and their Kubernetes API "
        "requests" + (", and the pipeline that ships their telemetry." if pipeline else "."),
        [_variable(CLUSTER, "Cluster", cluster_label, c.RECONCILE_TOTAL_METRIC)],
        rows,
    )


DELIVERY_WINDOW = "7d"
# Each delivery figure: its title, unit and what it counts.
DELIVERY_FIGURES = {
    "deployments": ("Deployments", "decimal",
                    "New revisions (and Helm releases) that Kustomizations and HelmReleases applied."),
    "failures": ("Change failures", "decimal", "Times an object's Ready condition turned False."),
    "changeFailureRate": ("Change failure rate", "percent-decimal",
                          "Change failures among deployments and change failures together."),
    "meanTimeToRestore": ("Mean time to restore", "seconds",
                          "Mean time from Ready turning False to Ready turning True, over the incidents that ended."),
    "meanLeadTime": ("Mean lead time", "seconds",
                     "Mean time from a source storing a revision's artifact to a Kustomization or HelmRelease "
                     "applying it."),
}


def delivery_spec(cluster_label: str) -> dict[str, Any]:
    """Every figure of builders/delivery.py over the last week in total, then by cluster, by
    namespace and by object; deployments and failures per day through time."""
    scope = f",{_in_scope(cluster_label, CLUSTER)},{_in_scope('exported_namespace', NAMESPACE)}"
    week = f" Over the last {DELIVERY_WINDOW}."

    def in_window(window: str, by: str = "") -> dict[str, str]:
        return figures.window_queries(window, scope, by=by)

    totals = in_window(DELIVERY_WINDOW)
    summary = [stat(key, DELIVERY_FIGURES[key][0], DELIVERY_FIGURES[key][2] + week, query,
                    unit=DELIVERY_FIGURES[key][1], width=GRID_COLUMNS // len(totals))
               for key, query in totals.items()]
    per_day = in_window("1d", by="exported_namespace")
    through_time = [
        time_series("deploymentsPerDay", "Deployments per day by namespace",
                    "Deployments in the 24 hours before each point.",
                    [(per_day["deployments"], "{{exported_namespace}}")], "decimal"),
        time_series("failuresPerDay", "Change failures per day by namespace",
                    "Change failures in the 24 hours before each point.",
                    [(per_day["failures"], "{{exported_namespace}}")], "decimal"),
    ]

    def tables(by: str, what: str) -> list[Panel]:
        # Failures show in the rate beside them.
        return [table(f"{key}By{what.title()}", f"{DELIVERY_FIGURES[key][0]} by {what}",
                      DELIVERY_FIGURES[key][2] + week, query)
                for key, query in in_window(DELIVERY_WINDOW, by).items() if key != "failures"]

    return dashboard_spec(
        "Flux delivery",
        "How often Flux deploys, how often a change fails, how long a failure lasts and how long a revision takes "
        "from its source to the cluster, per Kustomization and HelmRelease (docs/delivery.md).",
        [
            _variable(CLUSTER, "Cluster", cluster_label, c.FLUX_RESOURCE_INFO_METRIC),
            _variable(NAMESPACE, "Namespace", "exported_namespace", c.FLUX_RESOURCE_INFO_METRIC),
        ],
        [("Delivery", summary), ("Through time", through_time),
         ("By cluster", tables(cluster_label, "cluster")),
         ("By namespace", tables(f"{cluster_label}, exported_namespace", "namespace")),
         ("By object", tables(figures.object_labels(cluster_label), "object"))],
    )


def dashboard_specs(controllers: list[str], cluster_label: str, *, pipeline: bool = False,
                    log_agents: bool = False, delivery: bool = False) -> dict[str, dict[str, Any]]:
    """Each dashboard's resource name and spec; `pipeline` adds the collectors' own row to the
    control plane (`log_agents`: with the agents' panel); `delivery` adds the delivery dashboard."""
    specs = {OVERVIEW: overview_spec(cluster_label),
             CONTROL_PLANE: control_plane_spec(controllers, cluster_label, pipeline=pipeline, log_agents=log_agents)}
    if delivery:
        specs[DELIVERY] = delivery_spec(cluster_label)
    return specs


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
