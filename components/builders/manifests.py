"""Pure builders of the Kubernetes and Flux objects the components declare.

Each returns plain dicts (camelCase, as the API server takes them), so tests can validate them
against the CRD schemas without Pulumi.
"""

from __future__ import annotations

from typing import Any, Optional

import yaml

from .. import constants as c
from ..config import EventSource, TracingSettings


def labels(component: str) -> dict[str, str]:
    return {**c.PART_OF_LABELS, "app.kubernetes.io/component": component}


def object_metadata(name: str, namespace: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": labels(component)}


def metrics_service_name(controller: str) -> str:
    return f"{controller}-metrics"


def metrics_service(controller: str, flux_namespace: str) -> dict[str, Any]:
    """A ClusterIP Service for one controller's Prometheus port, which Flux's own Services lack."""
    return {
        "metadata": object_metadata(metrics_service_name(controller), flux_namespace, "flux-metrics"),
        "spec": {
            "type": "ClusterIP",
            "selector": {c.FLUX_POD_SELECTOR_LABEL: controller},
            "ports": [
                {
                    "name": c.FLUX_METRICS_PORT_NAME,
                    "port": c.FLUX_METRICS_PORT,
                    "targetPort": c.FLUX_METRICS_PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def scrape_target(controller: str, flux_namespace: str) -> str:
    # `<svc>.<ns>.svc` resolves through the pod's DNS search path whatever the cluster domain is.
    return f"{metrics_service_name(controller)}.{flux_namespace}.svc:{c.FLUX_METRICS_PORT}"


def traces_url(base: str) -> str:
    """The Provider uses the URL path as given, so spell out /v1/traces for a bare base URL."""
    stripped = base.rstrip("/")
    return stripped if stripped.endswith(c.OTLP_TRACES_PATH) else stripped + c.OTLP_TRACES_PATH


def otel_provider_spec(address: str, timeout: Optional[str], secret_name: Optional[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": c.OTEL_PROVIDER_TYPE, "address": address}
    if timeout is not None:
        spec["timeout"] = timeout
    if secret_name is not None:
        spec["secretRef"] = {"name": secret_name}
    return spec


def default_event_sources(kinds: list[str]) -> list[EventSource]:
    return [EventSource(kind=kind) for kind in kinds]


def alert_spec(
    *,
    provider_name: str,
    flux_namespace: str,
    cluster_name: str,
    tracing: TracingSettings,
    traced_kinds: list[str],
) -> dict[str, Any]:
    """The Alert that routes the selected objects' events to the otel Provider."""
    sources = tracing.event_sources or default_event_sources(traced_kinds)
    event_sources = []
    for source in sources:
        entry: dict[str, Any] = {
            "kind": source.kind,
            "name": source.name,
            "namespace": source.namespace or flux_namespace,
        }
        if source.match_labels:
            entry["matchLabels"] = dict(sorted(source.match_labels.items()))
        event_sources.append(entry)
    spec: dict[str, Any] = {
        "providerRef": {"name": provider_name},
        "eventSeverity": tracing.event_severity,
        "eventSources": event_sources,
        "eventMetadata": dict(sorted({"cluster": cluster_name, **tracing.event_metadata}.items())),
    }
    if tracing.inclusion_list:
        spec["inclusionList"] = list(tracing.inclusion_list)
    if tracing.exclusion_list:
        spec["exclusionList"] = list(tracing.exclusion_list)
    return spec


def provider_secret_name(provider_name: str) -> str:
    return f"{provider_name}-auth"


def provider_headers_yaml(headers: dict[str, str]) -> str:
    """The Provider Secret's `headers` key: a YAML map (Flux builds auth only from this key)."""
    return yaml.safe_dump(dict(sorted(headers.items())), default_flow_style=False, sort_keys=True)


def dash0_monitoring_spec(*, metrics: bool, logs: bool, events: bool = False) -> dict[str, Any]:
    """`eventCollection` is always explicit: the operator collects a namespace's events unless told not to."""
    return {
        "instrumentWorkloads": {"mode": c.DASH0_INSTRUMENT_MODE_NONE},
        "prometheusScraping": {"enabled": metrics},
        "logCollection": {"enabled": logs},
        "eventCollection": {"enabled": events},
        "synchronizePersesDashboards": True,
        "synchronizePrometheusRules": True,
    }


def scrape_annotations() -> dict[str, str]:
    scrape, port, path = c.PROMETHEUS_SCRAPE_ANNOTATIONS
    return {scrape: "true", port: str(c.FLUX_METRICS_PORT), path: c.FLUX_METRICS_PATH}


def namespace_metadata(name: str, pod_security_level: str, component: str) -> dict[str, Any]:
    return {
        "name": name,
        "labels": {**labels(component), c.POD_SECURITY_ENFORCE_LABEL: pod_security_level},
    }


def event_reader_name(release_name: str) -> str:
    return f"{release_name}-events"


def event_reader_role(release_name: str, namespace: str) -> dict[str, Any]:
    """Read access to the events of one namespace, and nothing else: what watching them needs."""
    return {
        "metadata": object_metadata(event_reader_name(release_name), namespace, "gateway"),
        "rules": [
            {
                "apiGroups": [c.EVENTS_API_GROUP],
                "resources": [c.EVENTS_RESOURCE],
                "verbs": list(c.EVENTS_WATCH_VERBS),
            }
        ],
    }


def event_reader_binding(release_name: str, namespace: str, service_account_namespace: str) -> dict[str, Any]:
    """Grants the event reader Role of `namespace` to the gateway's service account, which the chart
    names after the release (`fullnameOverride`)."""
    name = event_reader_name(release_name)
    return {
        "metadata": object_metadata(name, namespace, "gateway"),
        "roleRef": {"apiGroup": c.RBAC_API_GROUP, "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": release_name, "namespace": service_account_namespace}],
    }
