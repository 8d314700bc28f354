"""PromQL over Flux object health that both the alert rules and the dashboards ask."""

from __future__ import annotations

from .. import constants as c
from .promql import metric

SOURCE_LABELS = ("source_kind", "source_name", "source_namespace")


def behind_source(cluster_label: str, scope: str = "", source_scope: str = "") -> str:
    """The Kustomizations whose applied revision is not their source's, the source having one:
    matched in one cluster by the source's kind, name and namespace (the Kustomization's own unless
    its sourceRef names another). Suspended and failing ones are left out. `scope` and
    `source_scope` are further matchers on the Kustomizations' and the sources' series."""
    info = metric(c.FLUX_RESOURCE_INFO_METRIC)
    applied = f'{info}{{kind="Kustomization",suspended="false",ready!="False",revision!=""{scope}'
    kustomizations = (f'label_replace({applied},source_namespace=""}}, "source_namespace", "$1", "exported_namespace", '
                      f'"(.*)") or {applied},source_namespace!=""}}')
    sources = f'{info}{{kind=~"{"|".join(c.FLUX_SOURCE_KINDS)}",revision!=""{source_scope}}}'
    for label, source_label in zip(SOURCE_LABELS, ("kind", "name", "exported_namespace")):
        sources = f'label_replace({sources}, "{label}", "$1", "{source_label}", "(.*)")'
    source = f"{cluster_label}, {', '.join(SOURCE_LABELS)}"
    return f"({kustomizations}) unless on ({source}, revision) {sources} and on ({source}) {sources}"
