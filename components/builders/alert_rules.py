"""Pure builder of the PrometheusRule spec: alerts on Flux objects, the Flux controllers and the
pipeline that brings their metrics.

Every expression is plain PromQL that `promtool check rules` accepts, so Prometheus can load the
rules as they are. The Dash0 operator turns each rule into a check rule named `<group> - <alert>`.
The expressions rely only on the metrics' own labels (`kind`, `name`, `exported_namespace`,
`controller`, `name` of a work queue) and, for the alerts on scrapes, on the gateway's job names:
the labels a backend adds, such as the cluster, differ between backends and modes, and are kept
on every alert. Controller alerts select the Flux reconcilers by name, because other
controller-runtime controllers in the same backend serve the same metric families.
"""

from __future__ import annotations

from typing import Any

from .. import constants as c
from ..config import AlertRuleSettings, AlertSettings, prometheus_duration_seconds
from .collector_configs import AGENT_JOB, CONTROLLERS_JOB, GATEWAY_JOB, NODE_LABEL, OBJECT_HEALTH_JOB
from .promql import metric
from .source_queries import behind_source

RULE_NAME = f"{c.PROJECT}-alerts"
OBJECTS_GROUP = "flux-objects"
CONTROLLERS_GROUP = "flux-controllers"
PIPELINE_GROUP = "flux-pipeline"
# Labels of gotk_resource_info that change while an object stays in trouble (a new revision, a
# new reason, Ready flipping between False and Unknown); each change starts a new series, which
# would restart the `for` clock, so the object alerts aggregate them away.
VOLATILE_OBJECT_LABELS = ("ready", "reason", "revision", "suspended")
# An object that waits on a failing dependency says so in its reason; the dependency pages for both.
DEPENDENCY_NOT_READY = "DependencyNotReady"
# The label that names the configured controller in FluxControllerMetricsAbsent.
CONTROLLER_LABEL = "flux_controller"
OBJECT = "{{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }}"
# The object's current reason, read back at notification time: the alert itself aggregates the
# reason away (see VOLATILE_OBJECT_LABELS). The query matches every label of the alert but the
# `namespace` the rule adds, so it finds this object in this cluster whatever labels the backend
# adds. Prometheus, Thanos, Mimir and vmalert expand `query` in annotations.
CURRENT_REASON = (
    '{{ $match := "" }}{{ range $label, $value := $labels }}{{ if ne $label "namespace" }}'
    '{{ $match = printf "%s%s=%q," $match $label $value }}{{ end }}{{ end }}'
    f'{{{{ with printf "{c.FLUX_RESOURCE_INFO_METRIC}{{%s}}" $match | query }}}}'
    '{{ with first . }}{{ label "reason" . }}{{ end }}{{ end }}'
)
LOOK_CLOSER = "flux events --for {{ $labels.kind }}/{{ $labels.name }} -n {{ $labels.exported_namespace }}"


def _any_of(names: list[str]) -> str:
    # Matchers are anchored, so this matches exactly these names.
    return "|".join(names)


def _reconcilers(controllers: list[str], label: str = "controller") -> str:
    """The matcher that selects the controllers' reconcilers: by `controller`, or a work queue's `name`."""
    return f'{label}=~"{_any_of(c.flux_reconcilers(controllers))}"'


def _alert(
    name: str,
    expr: str,
    settings: AlertRuleSettings,
    alerts: AlertSettings,
    *,
    summary: str,
    description: str,
    after: str | None = None,
    runbook: str | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if after is not None:
        rule["for"] = after
    rule["labels"] = dict(sorted({**alerts.extra_labels, "severity": settings.severity}.items()))
    rule["annotations"] = {
        "summary": summary,
        "description": description,
        "runbook_url": f"{alerts.runbook_url}#{(runbook or name).lower()}",
    }
    return rule


def _object_state(selector: str) -> str:
    return f"max without ({', '.join(VOLATILE_OBJECT_LABELS)}) ({metric(c.FLUX_RESOURCE_INFO_METRIC)}{{{selector}}})"


def _with_namespace(expr: str) -> str:
    """The object's namespace also as `namespace`, the label tenant routes match on."""
    return f'label_replace({expr}, "namespace", "$1", "exported_namespace", "(.*)")'


def not_ready_rules(alerts: AlertSettings) -> list[dict[str, Any]]:
    """One rule at `after` for the kinds without a threshold of their own, and one per kind with one."""
    settings = alerts.not_ready
    # A controller that stopped reconciling is caught by the controller alerts instead.
    not_ready = f'{c.FLUX_NOT_READY_SELECTOR},reason!="{DEPENDENCY_NOT_READY}"'
    overridden = sorted(settings.per_kind)
    thresholds = [
        ("FluxObjectNotReady", not_ready + (f',kind!~"{_any_of(overridden)}"' if overridden else ""), settings.after)
    ]
    thresholds += [
        (f"Flux{kind}NotReady", f'{not_ready},kind="{kind}"', settings.per_kind[kind]) for kind in overridden
    ]
    return [
        _alert(
            name,
            _with_namespace(_object_state(selector)),
            settings,
            alerts,
            after=after,
            runbook="FluxObjectNotReady",
            summary=f"{OBJECT} is not Ready: {CURRENT_REASON}",
            description=(
                f"{OBJECT} has not been Ready for more than {after}; the summary gives its reason now. "
                f"Objects that depend on it wait and do not page on their own. Look closer: {LOOK_CLOSER}"
            ),
        )
        for name, selector, after in thresholds
    ]


def suspended_rule(alerts: AlertSettings) -> dict[str, Any]:
    settings = alerts.suspended
    return _alert(
        "FluxObjectSuspended",
        _with_namespace(_object_state('suspended="true"')),
        settings,
        alerts,
        after=settings.after,
        summary=f"{OBJECT} is suspended",
        description=(
            f"{OBJECT} has been suspended for more than {settings.after}; Flux does not reconcile it until it is "
            "resumed with flux resume (see the runbook)."
        ),
    )


def behind_source_rule(alerts: AlertSettings, cluster_label: str) -> dict[str, Any]:
    """`source_queries.behind_source`: a failing Kustomization pages as not Ready instead."""
    settings = alerts.behind_source
    return _alert(
        "FluxKustomizationBehindSource",
        _with_namespace(f"max without (ready, reason, revision) ({behind_source(cluster_label)})"),
        settings,
        alerts,
        after=settings.after,
        summary=f"{OBJECT} is behind its source",
        description=(
            f"{OBJECT} has not applied the revision its {{{{ $labels.source_kind }}}} "
            "{{ $labels.source_namespace }}/{{ $labels.source_name }} has fetched for more than "
            f"{settings.after}, while it is neither failing nor suspended: the cluster is not at the head of what it "
            f"follows. Look closer: {LOOK_CLOSER}"
        ),
    )


def slow_reconcile_rule(alerts: AlertSettings) -> dict[str, Any]:
    """Per object, from the controllers' own histogram, whose `namespace` is the object's. A mean,
    not a percentile: an object reconciles a few times per window, too few for a quantile."""
    settings = alerts.slow_reconcile
    duration, window = c.RECONCILE_DURATION_METRIC, settings.window
    return _alert(
        "FluxReconcileSlow",
        f"rate({metric(duration + '_sum')}[{window}]) / rate({metric(duration + '_count')}[{window}])"
        f" > {prometheus_duration_seconds(settings.threshold)}",
        settings,
        alerts,
        after=settings.after,
        summary="{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }} reconciles slowly",
        description=(
            "{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }} took {{ $value | humanizeDuration }} per "
            f"reconciliation on average over the last {window}, more than {settings.threshold}, for {settings.after}. "
            "Look closer: flux events --for {{ $labels.kind }}/{{ $labels.name }} -n {{ $labels.namespace }}"
        ),
    )


def reconcile_errors_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    settings = alerts.reconcile_errors
    selector = _reconcilers(controllers)
    return _alert(
        "FluxReconcileErrors",
        f"increase({metric(c.RECONCILE_ERRORS_METRIC)}{{{selector}}}[{settings.window}]) > {settings.threshold}",
        settings,
        alerts,
        after=settings.after,
        summary="The Flux {{ $labels.controller }} reconciler keeps failing",
        description=(
            "The {{ $labels.controller }} reconciler returned {{ $value | humanize }} errors in the last "
            f"{settings.window} (more than {settings.threshold}) for {settings.after}. "
            "The controller's log has the error messages."
        ),
    )


def controller_absent_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    """absent_over_time yields no labels for a regex selector, so each controller's term names it;
    a controller is gone when none of its reconcilers reports (each is counted from start-up)."""
    settings = alerts.controller_absent
    terms = [
        f'label_replace(absent_over_time({metric(c.RECONCILE_TOTAL_METRIC)}{{{_reconcilers([controller])}}}'
        f'[{settings.after}]), "{CONTROLLER_LABEL}", "{controller}", "", "")'
        for controller in controllers
    ]
    return _alert(
        "FluxControllerMetricsAbsent",
        " or ".join(terms),
        settings,
        alerts,
        summary=f"{{{{ $labels.{CONTROLLER_LABEL} }}}} reports no metrics",
        description=(
            f"No reconciler of {{{{ $labels.{CONTROLLER_LABEL} }}}} reported metrics for {settings.after}: "
            "the controller is down, has not started its reconcilers (not the leader), or is no longer scraped."
        ),
    )


def controller_down_rule(alerts: AlertSettings) -> dict[str, Any]:
    settings = alerts.controller_down
    return _alert(
        "FluxControllerDown",
        f'{metric(c.SCRAPE_UP_METRIC)}{{job="{CONTROLLERS_JOB}"}} == 0',
        settings,
        alerts,
        after=settings.after,
        summary="The Flux controller at {{ $labels.instance }} is down",
        description=(
            f"The gateway has not been able to scrape {{{{ $labels.instance }}}} for {settings.after}: the controller "
            f"is not running or not ready, so Flux does not deliver what it reconciles. Look closer: "
            f"kubectl -n <flux namespace> get pods; flux check"
        ),
    )


def reconciled_kinds(controllers: list[str]) -> list[tuple[str, str]]:
    """(reconciler, kind) of each configured reconciler that sets a Ready condition on every object
    it reconciles: the kinds without status (Alert, Provider) are left alone by theirs."""
    return [(resource.kind.lower(), resource.kind) for controller in controllers
            for resource in c.FLUX_RESOURCES_BY_CONTROLLER[controller]
            if not resource.static and resource.kind.lower() in c.FLUX_RECONCILERS_BY_CONTROLLER[controller]]


def not_reconciling_rule(alerts: AlertSettings, controllers: list[str], cluster_label: str) -> dict[str, Any]:
    """Per reconciler: no reconciliation finished within `window` while objects of its kind that it
    has reconciled before (a Ready reason) and that are not suspended exist in the same cluster."""
    settings = alerts.not_reconciling
    terms = [
        f'(sum without (result) (increase({metric(c.RECONCILE_TOTAL_METRIC)}{{controller="{reconciler}"}}'
        f'[{settings.window}])) == 0)'
        f' and on ({cluster_label}) (count by ({cluster_label}) '
        f'({metric(c.FLUX_RESOURCE_INFO_METRIC)}{{kind="{kind}",suspended="false",reason!=""}}) > 0)'
        for reconciler, kind in reconciled_kinds(controllers)
    ]
    return _alert(
        "FluxNotReconciling",
        " or ".join(terms),
        settings,
        alerts,
        after=settings.after,
        summary="The Flux {{ $labels.controller }} reconciler reconciles nothing",
        description=(
            f"The {{{{ $labels.controller }}}} reconciler at {{{{ $labels.instance }}}} has finished no reconciliation "
            f"for {settings.window} while objects it reconciled before wait, for {settings.after}: the controller runs "
            "but is stuck, or no longer watches them (a changed --watch-label-selector or watched namespace). "
            "Its log says what it does; restarting it is the first step."
        ),
    )


def stuck_workqueue_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    """controller-runtime >= 0.23 (Flux 2.8+) labels the depth, not the longest-running time, with
    the item `priority` (constants.WORKQUEUE_PRIORITY_LABEL): the two match ignoring it, and a queue
    waits when any of its priorities does."""
    settings = alerts.stuck_workqueue
    queues = _reconcilers(controllers, "name")
    return _alert(
        "FluxWorkqueueStuck",
        f"{metric(c.WORKQUEUE_LONGEST_RUNNING_METRIC)}{{{queues}}} > {prometheus_duration_seconds(settings.after)} "
        f"and ignoring ({c.WORKQUEUE_PRIORITY_LABEL}) {metric(c.WORKQUEUE_DEPTH_METRIC)}{{{queues}}} > 0",
        settings,
        alerts,
        after=settings.sustained,
        summary="The Flux {{ $labels.name }} work queue is stuck",
        description=(
            "A {{ $labels.name }} worker has been processing one item for {{ $value | humanizeDuration }} "
            f"(more than {settings.after}) while other items wait in the queue, for {settings.sustained}. "
            "The controller's log names the object its last lines are about."
        ),
    )


def workers_saturated_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    settings = alerts.workers_saturated
    reconcilers = _reconcilers(controllers)
    return _alert(
        "FluxWorkersSaturated",
        f"{metric(c.ACTIVE_WORKERS_METRIC)}{{{reconcilers}}} / {metric(c.MAX_WORKERS_METRIC)}{{{reconcilers}}}"
        f" >= {settings.threshold:g}",
        settings,
        alerts,
        after=settings.after,
        summary="Every {{ $labels.controller }} worker is busy",
        description=(
            "{{ $value | humanizePercentage }} of the {{ $labels.controller }} reconciler's workers have been busy for "
            f"{settings.after}: objects wait their turn. Raise the controller's --concurrent, or find the slow objects."
        ),
    )


def object_health_down_rule(alerts: AlertSettings) -> dict[str, Any]:
    """`absent` covers the gateway gone too: then no `up` series arrives at all."""
    settings = alerts.object_health_down
    up = f'{metric(c.SCRAPE_UP_METRIC)}{{job="{OBJECT_HEALTH_JOB}"}}'
    return _alert(
        "FluxObjectHealthDown",
        f"{up} == 0 or absent({up})",
        settings,
        alerts,
        after=settings.after,
        summary="Flux object health is not arriving",
        description=(
            f"No object health has arrived for {settings.after} (kube-state-metrics is down or the gateway cannot "
            "reach it, or the gateway itself is gone): the alerts on Flux objects cannot fire meanwhile."
        ),
    )


def export_failing_rule(alerts: AlertSettings) -> dict[str, Any]:
    """Per signal, since one exporter drops one signal's items and sends another's; each term names its signal."""
    settings = alerts.export_failing
    terms = [f'label_replace(rate({metric(failed)}[{settings.window}]) > 0, "signal", "{signal}", "", "")'
             for signal, failed in c.EXPORTER_SEND_FAILED_METRICS.items()]
    return _alert(
        "FluxPipelineExportFailing",
        " or ".join(terms),
        settings,
        alerts,
        after=settings.after,
        summary="{{ $labels.job }} drops {{ $labels.signal }} it cannot send",
        description=(
            "{{ $labels.job }} at {{ $labels.instance }} has dropped {{ $value | humanize }} {{ $labels.signal }} "
            f"items per second through {{{{ $labels.exporter }}}} for {settings.after}: its destination refuses "
            "them (an answer such as 401, 403 or 400), or it was unreachable for longer than the queue's outage. "
            "Its log says which."
        ),
    )


def queue_filling_rule(alerts: AlertSettings) -> dict[str, Any]:
    settings = alerts.queue_filling
    job = f'job="{GATEWAY_JOB}"'
    return _alert(
        "FluxPipelineQueueFilling",
        f"{metric(c.EXPORTER_QUEUE_SIZE_METRIC)}{{{job}}} / {metric(c.EXPORTER_QUEUE_CAPACITY_METRIC)}{{{job}}}"
        f" >= {settings.threshold:g}",
        settings,
        alerts,
        after=settings.after,
        summary="The gateway's {{ $labels.data_type }} export queue is filling",
        description=(
            "{{ $value | humanizePercentage }} of the gateway's {{ $labels.data_type }} queue to "
            f"{{{{ $labels.exporter }}}} has been in use for {settings.after}: the backend takes less than arrives, "
            "or answers slowly or not at all. Nothing is lost yet; once the queue is full the gateway holds its "
            "receivers back and the log agents stop reading. The gateway's log names the export errors."
        ),
    )


def agent_not_reading_rule(alerts: AlertSettings) -> dict[str, Any]:
    """An agent's queue is full when the gateway does not take its lines; its pipeline refuses
    lines at its memory limit. Either way its file reader waits (collector_configs.log_agent_config)."""
    settings = alerts.agent_not_reading
    job = f'job="{AGENT_JOB}"'
    size, capacity = metric(c.EXPORTER_QUEUE_SIZE_METRIC), metric(c.EXPORTER_QUEUE_CAPACITY_METRIC)
    return _alert(
        "FluxLogAgentNotReading",
        f'{size}{{{job},data_type="logs"}} >= {capacity}{{{job}}}'
        f" or rate({metric(c.RECEIVER_REFUSED_LOG_RECORDS_METRIC)}{{{job}}}[{settings.window}]) > 0",
        settings,
        alerts,
        after=settings.after,
        summary=f"The log agent on {{{{ $labels.{NODE_LABEL} }}}} does not read Flux's logs",
        description=(
            f"The log agent on node {{{{ $labels.{NODE_LABEL} }}}} has had a full queue to the gateway, or a pipeline "
            f"refusing lines, for {settings.after}: Flux's log lines on that node wait in their files, and are lost if "
            "kubelet rotates them away first. Check the gateway first (its queue and log), then the agent's log."
        ),
    )


def rule_groups(alerts: AlertSettings, controllers: list[str], *, cluster_label: str,
                gateway_scrapes: bool = True, pipeline_metrics: bool = False,
                log_agents: bool = False) -> list[dict[str, Any]]:
    """The enabled alerts, in a group for Flux objects, one for the controllers and one for the
    pipeline; empty groups are left out. The alerts on the gateway's scrape jobs ship only where
    the gateway scrapes (`gateway_scrapes`: collector mode), those on the collectors' own metrics
    where they ship them (`pipeline_metrics`; the agents' with `log_agents`); `cluster_label`
    names the cluster in the backend."""
    objects: list[dict[str, Any]] = []
    if alerts.not_ready.enabled:
        objects += not_ready_rules(alerts)
    if alerts.suspended.enabled:
        objects.append(suspended_rule(alerts))
    if alerts.behind_source.enabled:
        objects.append(behind_source_rule(alerts, cluster_label))
    if alerts.slow_reconcile.enabled:
        objects.append(slow_reconcile_rule(alerts))
    controller_rules = []
    if alerts.controller_down.enabled and gateway_scrapes:
        controller_rules.append(controller_down_rule(alerts))
    if alerts.controller_absent.enabled:
        controller_rules.append(controller_absent_rule(alerts, controllers))
    if alerts.not_reconciling.enabled and reconciled_kinds(controllers):
        controller_rules.append(not_reconciling_rule(alerts, controllers, cluster_label))
    if alerts.reconcile_errors.enabled:
        controller_rules.append(reconcile_errors_rule(alerts, controllers))
    if alerts.stuck_workqueue.enabled:
        controller_rules.append(stuck_workqueue_rule(alerts, controllers))
    if alerts.workers_saturated.enabled:
        controller_rules.append(workers_saturated_rule(alerts, controllers))
    pipeline = [object_health_down_rule(alerts)] if alerts.object_health_down.enabled and gateway_scrapes else []
    if pipeline_metrics and alerts.export_failing.enabled:
        pipeline.append(export_failing_rule(alerts))
    if pipeline_metrics and alerts.queue_filling.enabled:
        pipeline.append(queue_filling_rule(alerts))
    if pipeline_metrics and log_agents and alerts.agent_not_reading.enabled:
        pipeline.append(agent_not_reading_rule(alerts))
    groups = [(OBJECTS_GROUP, objects), (CONTROLLERS_GROUP, controller_rules), (PIPELINE_GROUP, pipeline)]
    return [{"name": name, "rules": rules} for name, rules in groups if rules]


def prometheus_rule_spec(alerts: AlertSettings, controllers: list[str], *, cluster_label: str,
                         gateway_scrapes: bool = True, pipeline_metrics: bool = False,
                         log_agents: bool = False) -> dict[str, Any]:
    return {"groups": rule_groups(alerts, controllers, cluster_label=cluster_label, gateway_scrapes=gateway_scrapes,
                                  pipeline_metrics=pipeline_metrics, log_agents=log_agents)}


def rule_expressions(spec: dict[str, Any]) -> list[str]:
    return [rule["expr"] for group in spec["groups"] for rule in group["rules"]]
