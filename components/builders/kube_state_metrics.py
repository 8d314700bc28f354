"""Pure builders for kube-state-metrics in custom-resource-state-only mode: Flux object health.

Since Flux 2.5 the controllers export no per-object readiness. kube-state-metrics reads the Flux
objects from the API server and, with the configuration built here, exposes for every object:

- `gotk_resource_info` (value 1) with `name`, `exported_namespace`, `kind`, `ready`
  (True/False/Unknown), `suspended` (true/false), `reason` (of the Ready condition), where the
  kind has one, `revision`, for a Kustomization its source: `source_kind`, `source_name` and,
  when the source is in another namespace, `source_namespace`, and for a HelmRelease the number
  of the Helm release it runs, `helm_revision`, and the same three labels for the source of its
  `spec.chart`;
- `gotk_resource_ready_transition_timestamp_seconds`: when the Ready condition last changed, in
  Unix seconds, with `name`, `exported_namespace` and `kind` (kinds without status have none);
- `gotk_resource_artifact_timestamp_seconds`: when a source a Kustomization can follow, or a
  HelmChart, stored its artifact, in Unix seconds, with `name`, `exported_namespace`, `kind` and
  `revision`.

A HelmRelease's `helm_revision` and chart source, and the artifact times, are what the delivery
figures read (builders/delivery.py), and are served only with them.

The object's namespace is written as `exported_namespace` by kube-state-metrics itself. That is the
name the published Flux dashboards use, and it survives both scrape paths unchanged: the gateway's
static target adds only `job` and `instance`, and the Dash0 operator scrapes with `honor_labels`,
so its own `namespace` target label (the kube-state-metrics pod's) cannot displace it either.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable

from .. import constants as c
from ..config import ResourceSettings
from .source_queries import SOURCE_LABELS

READY_CONDITION = ("status", "conditions", f"[type={c.FLUX_READY_CONDITION}]")
# Labels of gotk_resource_info; `revision` only for kinds that have one, `source_*` for Kustomizations.
INFO_LABELS = ("name", "exported_namespace", "kind", "ready", "suspended", "reason", "revision")
TRANSITION_LABELS = ("name", "exported_namespace", "kind")
HEALTH_METRICS = c.FLUX_HEALTH_METRICS
# The prefix Flux's own kube-state-metrics example uses; the metric names below carry it.
METRIC_NAME_PREFIX = "gotk"


def _unprefixed(metric: str) -> str:
    if not metric.startswith(f"{METRIC_NAME_PREFIX}_"):
        raise ValueError(f"{metric} lacks the {METRIC_NAME_PREFIX}_ prefix")
    return metric.removeprefix(f"{METRIC_NAME_PREFIX}_")


def flux_resources(controllers: Iterable[str]) -> list[c.FluxResource]:
    """The kinds whose CRDs the configured controllers install, in a stable order."""
    return [resource for controller in controllers for resource in c.FLUX_RESOURCES_BY_CONTROLLER[controller]]


def _resource_metrics(resource: c.FluxResource, delivery: bool) -> dict[str, Any]:
    state_paths = {
        "ready": [*READY_CONDITION, "status"],
        "reason": [*READY_CONDITION, "reason"],
        "suspended": ["spec", "suspend"],
    }
    if resource.revision:
        state_paths["revision"] = list(resource.revision)
    # A HelmRelease's chart source only for the delivery figures: its lead time starts at the chart.
    source = resource.source or (resource.chart_source if delivery else ())
    for label in SOURCE_LABELS if source else ():
        state_paths[label] = [*source, label.removeprefix("source_")]
    if resource.release and delivery:
        state_paths[c.FLUX_RELEASE_LABEL] = list(resource.release)
    metrics: list[dict[str, Any]] = [
        {
            "name": _unprefixed(c.FLUX_RESOURCE_INFO_METRIC),
            "help": "The current state of a Flux object: readiness, suspension, Ready reason and revision.",
            # A label whose path is missing is left out, so these fill in what Flux omits: an object
            # not yet reconciled (or without status) and `suspend`, which is only written when true.
            "commonLabels": {"ready": "True" if resource.static else "Unknown", "suspended": "false"},
            "labelsFromPath": dict(sorted(state_paths.items())),
            "each": {
                "type": "Info",
                # An Info metric at the object's root yields a series only from its own labels.
                "info": {"labelsFromPath": {"name": ["metadata", "name"]}},
            },
        }
    ]
    if not resource.static:
        metrics.append(
            {
                "name": _unprefixed(c.FLUX_READY_TRANSITION_METRIC),
                "help": "Unix time of the last transition of a Flux object's Ready condition.",
                "each": {"type": "Gauge", "gauge": {"path": [*READY_CONDITION, "lastTransitionTime"]}},
            }
        )
    if resource.kind in c.FLUX_ARTIFACT_TIME_KINDS and delivery:
        metrics.append(
            {
                "name": _unprefixed(c.FLUX_ARTIFACT_TIME_METRIC),
                "help": "Unix time a source stored the artifact it serves, with the artifact's revision.",
                "each": {"type": "Gauge", "gauge": {
                    "path": list(c.FLUX_ARTIFACT),
                    "valueFrom": [c.FLUX_ARTIFACT_STORED_AT],
                    "labelsFromPath": {"revision": [c.FLUX_ARTIFACT_REVISION[-1]]},
                }},
            }
        )
    return {
        "groupVersionKind": {"group": resource.group, "version": resource.version, "kind": resource.kind},
        "metricNamePrefix": METRIC_NAME_PREFIX,
        "commonLabels": {"kind": resource.kind},
        "labelsFromPath": {"exported_namespace": ["metadata", "namespace"], "name": ["metadata", "name"]},
        "metrics": metrics,
    }


def custom_resource_state_config(resources: list[c.FluxResource], *, delivery: bool = True) -> dict[str, Any]:
    """The `CustomResourceStateMetrics` document: one entry per kind (kube-state-metrics exits
    when a kind appears twice, even at another version); `delivery` adds what the delivery figures read."""
    return {"kind": "CustomResourceStateMetrics",
            "spec": {"resources": [_resource_metrics(r, delivery) for r in resources]}}


def rbac_rules(resources: list[c.FluxResource]) -> list[dict[str, Any]]:
    """Read-only access to exactly these kinds, plus the CRD watch custom-resource-state needs."""
    plurals: dict[str, set[str]] = defaultdict(set)
    for resource in resources:
        plurals[resource.group].add(resource.plural)
    return [c.KSM_CRD_DISCOVERY_RULE] + [
        {"apiGroups": [group], "resources": sorted(names), "verbs": ["list", "watch"]}
        for group, names in sorted(plurals.items())
    ]


def scrape_target(release_name: str, namespace: str) -> str:
    """The chart's Service is named after the release (fullnameOverride) and serves port 8080."""
    return f"{release_name}.{namespace}.svc:{c.KSM_METRICS_PORT}"


def scrape_annotations() -> dict[str, str]:
    scrape, port, path = c.PROMETHEUS_SCRAPE_ANNOTATIONS
    return {scrape: "true", port: str(c.KSM_METRICS_PORT), path: c.KSM_METRICS_PATH}


def chart_values(
    *,
    fullname: str,
    image_tag: str,
    resources: ResourceSettings,
    flux_kinds: list[c.FluxResource],
    annotate_for_scraping: bool,
    delivery: bool = True,
) -> dict[str, Any]:
    """Values of the `kube-state-metrics` chart: custom resources only, read-only RBAC on the Flux
    kinds, a pod that passes the `restricted` Pod Security level.

    `annotate_for_scraping` adds the prometheus.io pod annotations the Dash0 operator follows;
    `delivery` what the delivery figures read."""
    values: dict[str, Any] = {
        "fullnameOverride": fullname,
        # The default tag (c.KSM_IMAGE_TAG) is the chart's own image; objectHealth.imageTag may pin another.
        "image": {"registry": c.KSM_IMAGE_REGISTRY, "repository": c.KSM_IMAGE_REPOSITORY, "tag": image_tag},
        # No built-in collectors: no --resources flag, and no RBAC rules for core kinds (the chart's
        # "kube-state-metrics.collectors" helper; an absent key would mean its default list of 28).
        "collectors": [],
        "extraArgs": ["--custom-resource-state-only=true"],
        "customResourceState": {"enabled": True,
                                "config": custom_resource_state_config(flux_kinds, delivery=delivery)},
        # The CRD rule comes with rbac_rules, so the chart's own copy is off (c.KSM_CRD_DISCOVERY_RULE).
        "rbac": {"create": True, "useClusterRole": True, "customResourceState": {"createClusterRoleRules": False},
                 "extraRules": rbac_rules(flux_kinds)},
        "service": {"port": c.KSM_METRICS_PORT},
        "selfMonitor": {"enabled": False},
        "resources": resources.as_kubernetes(),
        "securityContext": {
            "enabled": True,
            "runAsNonRoot": True,
            "runAsUser": c.KSM_UID,
            "runAsGroup": c.KSM_UID,
            "fsGroup": c.KSM_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
        },
    }
    if annotate_for_scraping:
        values["podAnnotations"] = scrape_annotations()
    return values
