"""PromQL over Flux object health that both the alert rules and the dashboards ask."""

from __future__ import annotations

from .. import constants as c
from .promql import metric

SOURCE_LABELS = ("source_kind", "source_name", "source_namespace")


def in_source_namespace(selector: str) -> str:
    """The series `selector` (a metric and its matchers, the closing brace left off) with
    `source_namespace` always set: an object names its source's namespace only when it differs
    from its own."""
    return (f'label_replace({selector},source_namespace=""}}, "source_namespace", "$1", "exported_namespace", '
            f'"(.*)") or {selector},source_namespace!=""}}')


def as_source(expr: str) -> str:
    """A source's series with its own kind, name and namespace copied to the labels an object that
    applies it names it by, so the two match on them."""
    for label, source_label in zip(SOURCE_LABELS, ("kind", "name", "exported_namespace")):
        expr = f'label_replace({expr}, "{label}", "$1", "{source_label}", "(.*)")'
    return expr


def behind_source(cluster_label: str, scope: str = "", source_scope: str = "") -> str:
    """The Kustomizations whose applied revision is not their source's, the source having one:
    matched in one cluster by the source's kind, name and namespace (the Kustomization's own unless
    its sourceRef names another). Suspended and failing ones are left out. `scope` and
    `source_scope` are further matchers on the Kustomizations' and the sources' series."""
    info = metric(c.FLUX_RESOURCE_INFO_METRIC)
    kustomizations = in_source_namespace(
        f'{info}{{kind="Kustomization",suspended="false",ready!="False",revision!=""{scope}')
    sources = as_source(f'{info}{{kind=~"{"|".join(c.FLUX_SOURCE_KINDS)}",revision!=""{source_scope}}}')
    source = f"{cluster_label}, {', '.join(SOURCE_LABELS)}"
    return f"({kustomizations}) unless on ({source}, revision) {sources} and on ({source}) {sources}"
