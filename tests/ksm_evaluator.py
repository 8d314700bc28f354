"""What kube-state-metrics' custom-resource-state makes of an object, for the tests.

A port of the parts of kube-state-metrics (pkg/customresourcestate, registry_factory.go and
config.go) that the Flux object health configuration uses: paths with `[key=value]` list lookups,
resource- and metric-level `commonLabels`/`labelsFromPath`, `Info` metrics and `Gauge` metrics on
a single value. Everything else raises NotImplementedError, so a configuration that starts to use
more of kube-state-metrics fails here instead of being evaluated wrongly.

It stays because the real kube-state-metrics confirms it: e2e/test_object_health.py runs the
deployed version on every fixture object whose CRD the real tier has and asserts the same series.
The image-* and ArtifactGenerator fixtures are not confirmed (their CRDs are not available there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

# kube-state-metrics adds these to every custom resource metric (they override user labels).
GVK_LABELS = ("customresource_group", "customresource_version", "customresource_kind")
DEFAULT_PREFIX = "kube_customresource"
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Series:
    metric: str
    labels: dict[str, str]
    value: float


def get(obj: Any, path: list[str]) -> Any:
    """valuePath.Get: a missing step yields None."""
    for part in path:
        if obj is None:
            return None
        if part.startswith("[") and part.endswith("]"):
            key, sep, wanted = part[1:-1].partition("=")
            if not sep:
                raise ValueError(f"invalid list lookup: {part}")
            if re.fullmatch(r"[-+.\deE]+|(?i:1|t|true|0|f|false)", wanted):
                raise NotImplementedError(f"numeric or boolean list lookups ({part})")
            obj = next((item for item in obj if isinstance(item, dict) and item.get(key) == wanted), None) \
                if isinstance(obj, list) else None
        elif "=" in part:
            raise NotImplementedError(f"field matching ({part})")
        elif isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list):
            obj = obj[int(part)] if part.lstrip("-").isdigit() else None
        else:
            obj = None
    return obj


def label_value(value: Any) -> str:
    """fmt.Sprintf("%v") for the scalar types Flux status fields hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise NotImplementedError(f"label from a {type(value).__name__}")


def add_path_labels(obj: Any, paths: dict[str, list[str]], labels: dict[str, str]) -> None:
    for name, path in paths.items():
        if name.startswith("*") or name.endswith("*"):
            raise NotImplementedError("copying whole objects into labels")
        value = get(obj, path)
        if value is not None:  # a label whose path is missing is left out
            labels[name] = label_value(value)


def to_float(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        normalized = value.lower()
        if normalized in ("true", "yes"):
            return 1.0
        if normalized in ("false", "no", "unknown"):
            return 0.0
        if RFC3339.match(value):
            return float(int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()))
        raise NotImplementedError(f"quantities, percentages and numbers in strings ({value!r})")
    raise ValueError(f"expected number but was {value!r}")


def _info_values(each: dict[str, Any], value: Any) -> list[dict[str, str]]:
    def values(item: Any) -> list[dict[str, str]]:
        if item is None:
            return []
        labels: dict[str, str] = {}
        add_path_labels(item, each.get("labelsFromPath") or {}, labels)
        return [labels] if labels else []

    if each.get("labelFromKey"):
        raise NotImplementedError("labelFromKey")
    if isinstance(value, list):
        return [labels for item in value for labels in values(item)]
    if isinstance(value, dict):
        # Besides the object itself, every member is tried with the same label paths.
        result = []
        for member in value.values():
            labels: dict[str, str] = {}
            add_path_labels(member, each.get("labelsFromPath") or {}, labels)
            if labels:
                result.append(labels)
        return result + values(value)
    return values(value)


def _gauge_values(each: dict[str, Any], value: Any) -> tuple[list[tuple[dict[str, str], float]], list[str]]:
    if each.get("labelFromKey") or each.get("nilIsZero") or each.get("labelsFromPath"):
        raise NotImplementedError("labelFromKey, nilIsZero and gauge labels")
    if isinstance(value, (dict, list)):
        raise NotImplementedError("gauges over objects or lists")
    got = get(value, each.get("valueFrom") or [])
    if got is None:
        return [], ["got nil while resolving path"] if value is None else []
    return [({}, to_float(got))], []


def check(config: dict[str, Any]) -> None:
    """What kube-state-metrics refuses at start-up, plus names Prometheus would reject."""
    assert config["kind"] == "CustomResourceStateMetrics"
    seen = set()
    for resource in config["spec"]["resources"]:
        gvk = resource["groupVersionKind"]
        # One entry per kind: another entry, even at another version, makes it exit.
        assert (gvk["group"], gvk["kind"]) not in seen, f"{gvk} configured twice"
        seen.add((gvk["group"], gvk["kind"]))
        for metric in resource["metrics"]:
            labels = {**resource.get("commonLabels", {}), **resource.get("labelsFromPath", {}),
                      **metric.get("commonLabels", {}), **metric.get("labelsFromPath", {})}
            assert all(LABEL_NAME.match(name) for name in labels), labels
            assert METRIC_NAME.match(metric_name(resource, metric))


def metric_name(resource: dict[str, Any], metric: dict[str, Any]) -> str:
    prefix = resource.get("metricNamePrefix", DEFAULT_PREFIX)
    return f"{prefix}_{metric['name']}" if prefix else metric["name"]


def _resource_for(config: dict[str, Any], obj: dict[str, Any]) -> Optional[dict[str, Any]]:
    for resource in config["spec"]["resources"]:
        gvk = resource["groupVersionKind"]
        if obj["apiVersion"] == f"{gvk['group']}/{gvk['version']}" and obj["kind"] == gvk["kind"]:
            return resource
    return None


def evaluate(config: dict[str, Any], obj: dict[str, Any]) -> tuple[list[Series], list[str]]:
    """The series kube-state-metrics exposes for one object, and the errors it would log."""
    check(config)
    resource = _resource_for(config, obj)
    if resource is None:
        return [], []
    gvk = resource["groupVersionKind"]
    series, errors = [], []
    gvk_labels = dict(zip(GVK_LABELS, (gvk["group"], gvk["version"], gvk["kind"])))
    for metric in resource["metrics"]:
        resource_common = {**resource.get("commonLabels", {}), **gvk_labels}
        base = {**resource_common, **metric.get("commonLabels", {})}
        add_path_labels(obj, {**resource.get("labelsFromPath", {}), **metric.get("labelsFromPath", {})}, base)
        kind = metric["each"]["type"].lower()
        if kind == "info":
            each = metric["each"]["info"]
            values = [(labels, 1.0) for labels in _info_values(each, get(obj, each.get("path") or []))]
        elif kind == "gauge":
            each = metric["each"]["gauge"]
            values, found = _gauge_values(each, get(obj, each.get("path") or []))
            errors += [f"{metric_name(resource, metric)}: {error}" for error in found]
        else:
            raise NotImplementedError(f"metric type {kind}")
        for labels, value in values:
            series.append(Series(metric_name(resource, metric), {**base, **labels}, value))
    return series, errors
