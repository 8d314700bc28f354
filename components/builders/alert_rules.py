"""Pure builder of the PrometheusRule spec: alerts on Flux objects and on the Flux controllers.

Every expression is plain PromQL that `promtool check rules` accepts, so Prometheus can load the
rules as they are. The Dash0 operator turns each rule into a check rule named `<group> - <alert>`.
The expressions rely only on the metrics' own labels (`kind`, `name`, `exported_namespace`,
`controller`, `name` of a work queue): the labels a backend adds, such as the scrape target or the
cluster, differ between the collector and dash0-operator modes, and are kept on every alert.
Controller alerts select the Flux reconcilers by name, because other controller-runtime controllers
in the same backend serve the same metric families.
"""

from __future__ import annotations

from typing import Any

from .. import constants as c
from ..config import AlertRuleSettings, AlertSettings, prometheus_duration_seconds

RULE_NAME = f"{c.PROJECT}-alerts"
OBJECTS_GROUP = "flux-objects"
CONTROLLERS_GROUP = "flux-controllers"
RATE_WINDOW = "5m"
# Labels of gotk_resource_info that change while an object stays in trouble (a new revision, a
# new reason, Ready flipping between False and Unknown); each change starts a new series, which
# would restart the `for` clock, so the object alerts aggregate them away.
VOLATILE_OBJECT_LABELS = ("ready", "reason", "revision", "suspended")
# The label that names the configured controller in FluxControllerMetricsAbsent.
CONTROLLER_LABEL = "flux_controller"
OBJECT = "{{ $labels.kind }} {{ $labels.exported_namespace }}/{{ $labels.name }}"


def _any_of(names: list[str]) -> str:
    # Matchers are anchored, so this matches exactly these names.
    return "|".join(names)


def _alert(
    name: str,
    expr: str,
    settings: AlertRuleSettings,
    extra_labels: dict[str, str],
    *,
    summary: str,
    description: str,
    after: str | None = None,
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if after is not None:
        rule["for"] = after
    rule["labels"] = dict(sorted({**extra_labels, "severity": settings.severity}.items()))
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def _object_state(selector: str) -> str:
    return f"max without ({', '.join(VOLATILE_OBJECT_LABELS)}) ({c.FLUX_RESOURCE_INFO_METRIC}{{{selector}}})"


def not_ready_rules(alerts: AlertSettings) -> list[dict[str, Any]]:
    """One rule at `after` for the kinds without a threshold of their own, and one per kind with one."""
    settings = alerts.not_ready
    # A controller that stopped reconciling is caught by the metrics-absent alert instead.
    not_ready = c.FLUX_NOT_READY_SELECTOR
    overridden = sorted(settings.per_kind)
    thresholds = [("FluxObjectNotReady", not_ready + (f',kind!~"{_any_of(overridden)}"' if overridden else ""), settings.after)]
    thresholds += [(f"Flux{kind}NotReady", f'{not_ready},kind="{kind}"', settings.per_kind[kind]) for kind in overridden]
    return [
        _alert(
            name,
            _object_state(selector),
            settings,
            alerts.extra_labels,
            after=after,
            summary=f"{OBJECT} is not Ready",
            description=(
                f"{OBJECT} has not been Ready for more than {after}. Its Ready condition says why: "
                "kubectl -n {{ $labels.exported_namespace }} describe {{ $labels.kind }} {{ $labels.name }}"
            ),
        )
        for name, selector, after in thresholds
    ]


def suspended_rule(alerts: AlertSettings) -> dict[str, Any]:
    settings = alerts.suspended
    return _alert(
        "FluxObjectSuspended",
        _object_state('suspended="true"'),
        settings,
        alerts.extra_labels,
        after=settings.after,
        summary=f"{OBJECT} is suspended",
        description=f"{OBJECT} has been suspended for more than {settings.after}; Flux does not reconcile it until it is resumed.",
    )


def slow_reconcile_rule(alerts: AlertSettings) -> dict[str, Any]:
    settings = alerts.slow_reconcile
    per_kind = (
        f"sum without (name, namespace, exported_namespace) "
        f"(rate({c.RECONCILE_DURATION_METRIC}_bucket[{RATE_WINDOW}]))"
    )
    return _alert(
        "FluxReconcileSlow",
        f"histogram_quantile(0.95, {per_kind}) > {prometheus_duration_seconds(settings.threshold)}",
        settings,
        alerts.extra_labels,
        after=settings.after,
        summary="{{ $labels.kind }} reconciliations are slow",
        description=(
            "95% of {{ $labels.kind }} reconciliations took up to {{ $value | humanizeDuration }} over the last "
            f"{RATE_WINDOW}, more than {settings.threshold} for {settings.after}."
        ),
    )


def reconcile_errors_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    settings = alerts.reconcile_errors
    selector = f'controller=~"{_any_of(c.flux_reconcilers(controllers))}"'
    return _alert(
        "FluxReconcileErrors",
        f"increase({c.RECONCILE_ERRORS_METRIC}{{{selector}}}[{settings.window}]) > {settings.threshold}",
        settings,
        alerts.extra_labels,
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
        f'label_replace(absent_over_time({c.RECONCILE_TOTAL_METRIC}{{controller=~"{_any_of(c.flux_reconcilers([controller]))}"}}'
        f'[{settings.after}]), "{CONTROLLER_LABEL}", "{controller}", "", "")'
        for controller in controllers
    ]
    return _alert(
        "FluxControllerMetricsAbsent",
        " or ".join(terms),
        settings,
        alerts.extra_labels,
        summary=f"{{{{ $labels.{CONTROLLER_LABEL} }}}} reports no metrics",
        description=(
            f"No reconciler of {{{{ $labels.{CONTROLLER_LABEL} }}}} reported metrics for {settings.after}: the controller "
            "is down, has not started its reconcilers (not the leader), or is no longer scraped."
        ),
    )


def stuck_workqueue_rule(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    """controller-runtime >= 0.23 (Flux 2.8+) labels the depth, not the longest-running time, with
    the item `priority` (constants.WORKQUEUE_PRIORITY_LABEL): the two match ignoring it, and a queue
    waits when any of its priorities does."""
    settings = alerts.stuck_workqueue
    queues = f'name=~"{_any_of(c.flux_reconcilers(controllers))}"'
    return _alert(
        "FluxWorkqueueStuck",
        f"{c.WORKQUEUE_LONGEST_RUNNING_METRIC}{{{queues}}} > {prometheus_duration_seconds(settings.after)} "
        f"and ignoring ({c.WORKQUEUE_PRIORITY_LABEL}) {c.WORKQUEUE_DEPTH_METRIC}{{{queues}}} > 0",
        settings,
        alerts.extra_labels,
        summary="The Flux {{ $labels.name }} work queue is stuck",
        description=(
            "A {{ $labels.name }} worker has been processing one item for {{ $value | humanizeDuration }} "
            f"(more than {settings.after}) while other items wait in the queue."
        ),
    )


def rule_groups(alerts: AlertSettings, controllers: list[str]) -> list[dict[str, Any]]:
    """The enabled alerts, in a group for Flux objects and one for the controllers; empty groups
    are left out."""
    objects: list[dict[str, Any]] = []
    if alerts.not_ready.enabled:
        objects += not_ready_rules(alerts)
    if alerts.suspended.enabled:
        objects.append(suspended_rule(alerts))
    if alerts.slow_reconcile.enabled:
        objects.append(slow_reconcile_rule(alerts))
    controller_rules = []
    if alerts.reconcile_errors.enabled:
        controller_rules.append(reconcile_errors_rule(alerts, controllers))
    if alerts.controller_absent.enabled:
        controller_rules.append(controller_absent_rule(alerts, controllers))
    if alerts.stuck_workqueue.enabled:
        controller_rules.append(stuck_workqueue_rule(alerts, controllers))
    groups = [(OBJECTS_GROUP, objects), (CONTROLLERS_GROUP, controller_rules)]
    return [{"name": name, "rules": rules} for name, rules in groups if rules]


def prometheus_rule_spec(alerts: AlertSettings, controllers: list[str]) -> dict[str, Any]:
    return {"groups": rule_groups(alerts, controllers)}


def rule_expressions(spec: dict[str, Any]) -> list[str]:
    return [rule["expr"] for group in spec["groups"] for rule in group["rules"]]
