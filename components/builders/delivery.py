"""Pure builder of the delivery figures: deployments, change failures, time to restore and lead time
from source to cluster, per Kustomization and HelmRelease (docs/delivery.md gives each in words).

They come from object health alone (kube-state-metrics, builders/kube_state_metrics.py), through
recording rules that turn its samples into one sample per event:

- `flux_delivery:ready`: 1 while the object is Ready, 0 while Ready is False. Nothing while it is
  Unknown: kustomize-controller marks Ready Unknown at the start of every reconciliation, and
  holds it there while health checks wait, so Unknown says nothing about the outcome.
- `flux_delivery:healthy`: the last of those, so the state carries through Unknown.
- `flux_delivery:not_ready_since`: while not healthy, when Ready turned False. It is the Ready
  condition's transition time when the rules first see it False after it was True, and carries
  itself from then on: every retry moves that transition time (False, Unknown, False again), so
  only the first is the start of the incident. An object that has not been Ready yet (a new one
  waiting on a dependency) has no incident.
- `flux_delivery:failures`: one sample as an incident starts, valued at its start.
- `flux_delivery:restore_seconds`: one sample as an incident ends, valued at its length: from
  Ready turning False to Ready turning True, both as the object's condition says.
- `flux_delivery:applied`: one series per object and what it runs (the applied revision; for a
  HelmRelease also the Helm release number, new at every upgrade, values-only ones too).
- `flux_delivery:deployments`: one sample as an object already seen runs something new.
- `flux_delivery:lead_time_seconds`: one sample with each deployment of a Kustomization, and of a
  HelmRelease to a new chart version of its `spec.chart`: from the source (for a HelmRelease, its
  HelmChart) storing the revision's artifact to the revision applied (Ready turning True with it).

The rules read their own earlier samples (`offset` one interval), which Prometheus writes at the
evaluation's own timestamp, so each event is sampled once however late the scraped samples arrive.
Windowed figures are then counts and sums of these samples (`window_queries`).
"""

from __future__ import annotations

from typing import Any

from .. import constants as c
from ..config import DeliverySettings, prometheus_duration_seconds
from .promql import metric
from .source_queries import SOURCE_LABELS, as_source, in_source_namespace

GROUP = "flux-delivery"
PREFIX = "flux_delivery"
READY = f"{PREFIX}:ready"
HEALTHY = f"{PREFIX}:healthy"
NOT_READY_SINCE = f"{PREFIX}:not_ready_since"
FAILURES = f"{PREFIX}:failures"
RESTORE_SECONDS = f"{PREFIX}:restore_seconds"
APPLIED = f"{PREFIX}:applied"
DEPLOYMENTS = f"{PREFIX}:deployments"
LEAD_TIME_SECONDS = f"{PREFIX}:lead_time_seconds"
# How long Ready may stay Unknown (a health check waiting, say) before the rules forget the state
# before it: longer than any Kustomization or HelmRelease timeout in common use.
UNKNOWN_HOLD = "1h"
# How far back a lead time looks for its artifact: the source may have stored a newer one since.
ARTIFACT_LOOKBACK = "1h"


def object_labels(cluster_label: str) -> str:
    """The labels that name one object in one cluster. The rules keep no others, so an object-health
    pod that restarts under a new `instance` does not look like new objects."""
    return f"{cluster_label}, kind, exported_namespace, name"


def _duration(seconds: float) -> str:
    return f"{seconds:g}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def delivered_kinds(controllers: list[str]) -> list[str]:
    """The kinds measured among those the configured controllers reconcile."""
    return [resource.kind for controller in controllers for resource in c.FLUX_RESOURCES_BY_CONTROLLER[controller]
            if resource.kind in c.FLUX_DELIVERY_KINDS]


def recording_rules(settings: DeliverySettings, cluster_label: str, delivered: list[str]) -> dict[str, Any]:
    """The rule group over the `delivered` kinds (delivered_kinds), evaluated every
    `settings.interval`."""
    obj = object_labels(cluster_label)
    kinds = f'kind=~"{"|".join(delivered)}"'
    info = metric(c.FLUX_RESOURCE_INFO_METRIC)
    transition = f"max by ({obj}) ({metric(c.FLUX_READY_TRANSITION_METRIC)}{{{kinds}}})"
    step = prometheus_duration_seconds(settings.interval)
    previous = _duration(step)
    # Reaches the previous evaluation's sample and not the one before it.
    last_evaluation = _duration(step * 1.5)

    def state(ready: str) -> str:
        return f'max by ({obj}) ({info}{{{kinds},ready="{ready}",suspended="false"}})'

    applied_labels = f"{obj}, revision, {c.FLUX_RELEASE_LABEL}"
    deployed = []
    if "Kustomization" in delivered:
        deployed.append(in_source_namespace(f'{DEPLOYMENTS}{{kind="Kustomization"'))
    if "HelmRelease" in delivered:
        # The HelmChart helm-controller makes of a `spec.chart`: `<namespace>-<name>` in the chart
        # source's namespace. Only a new chart version comes from a new chart artifact.
        releases = in_source_namespace(f'{DEPLOYMENTS}{{kind="HelmRelease",source_kind!=""')
        charts = f'label_join({releases}, "source_name", "-", "exported_namespace", "name")'
        deployed.append(f'label_replace({charts}, "source_kind", "HelmChart", "source_kind", ".*") '
                        f"unless on ({obj}, revision) {APPLIED} offset {previous}")
    artifacts = as_source(f"max by ({obj}, revision) "
                          f"(last_over_time({metric(c.FLUX_ARTIFACT_TIME_METRIC)}[{ARTIFACT_LOOKBACK}]))")
    rules = [
        (READY, f"{state('True')} or 0 * {state('False')}"),
        (HEALTHY, f"last_over_time({READY}[{UNKNOWN_HOLD}])"),
        # Carried while not healthy; started where a healthy object's Ready is False now.
        (NOT_READY_SINCE, f"{NOT_READY_SINCE} and on ({obj}) {HEALTHY} == 0 "
                          f"or {transition} and on ({obj}) {READY} == 0 "
                          f"and on ({obj}) {HEALTHY} offset {previous} == 1"),
        (FAILURES, f"{NOT_READY_SINCE} unless on ({obj}) {NOT_READY_SINCE} offset {previous}"),
        (RESTORE_SECONDS, f"({transition} - on ({obj}) last_over_time({NOT_READY_SINCE}[{last_evaluation}])) "
                          f"and on ({obj}) {HEALTHY} == 1"),
        (APPLIED, f'max by ({applied_labels}, {", ".join(SOURCE_LABELS)}) ({info}{{{kinds},revision!=""}})'),
        (DEPLOYMENTS, f"{APPLIED} unless on ({applied_labels}) {APPLIED} offset {previous} "
                      f"and on ({obj}) {APPLIED} offset {previous}"),
    ]
    rules.append((LEAD_TIME_SECONDS, f"(0 * ({' or '.join(f'({each})' for each in deployed)}) "
                                     f"+ on ({obj}) group_left () {transition}) "
                                     f"- on ({cluster_label}, {', '.join(SOURCE_LABELS)}, revision) group_left () "
                                     f"{artifacts}"))
    return {"name": GROUP, "interval": settings.interval,
            "rules": [{"record": name, "expr": expr} for name, expr in rules]}


def window_queries(window: str, scope: str = "", by: str = "") -> dict[str, str]:
    """Each figure over `window`, summed `by` the given labels (all when empty); `scope` is further
    matchers on the recorded series (`,exported_namespace="apps"`)."""
    group = f"sum by ({by})" if by else "sum"

    def total(name: str, over: str = "count_over_time") -> str:
        selector = f"{name}{{{scope.lstrip(',')}}}" if scope else name
        return f"{group} ({over}({selector}[{window}]))"

    deployments, failures = total(DEPLOYMENTS), total(FAILURES)
    return {
        "deployments": deployments,
        "failures": failures,
        # No deployment in the window is a rate of 1 where something failed, not no rate.
        "changeFailureRate": f"{failures} / (({deployments} or 0 * {failures}) + {failures})",
        "meanTimeToRestore": f"{total(RESTORE_SECONDS, 'sum_over_time')} / {total(RESTORE_SECONDS)}",
        "meanLeadTime": f"{total(LEAD_TIME_SECONDS, 'sum_over_time')} / {total(LEAD_TIME_SECONDS)}",
    }
