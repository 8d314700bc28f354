"""The Helm releases of the package's charts (collector, kube-state-metrics)."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s


def chart_release(resource_name: str, *, release_name: str, namespace: str, chart: str, version: str,
                  repository: str, values: pulumi.Input[dict[str, Any]],
                  opts: Optional[pulumi.ResourceOptions] = None) -> k8s.helm.v3.Release:
    """A Helm release whose values reach the chart exactly as built.

    Without `allow_null_values` the provider drops an empty list from the values it hands Helm
    (pulumi-kubernetes provider/v4@v4.25.0 pkg/provider/helm_release.go: `excludeNulls` makes `[]`
    nil, which is then marshalled with `SkipNulls`), and Helm fills a missing key with the chart's
    default (helm/v3 pkg/chartutil/coalesce.go). kube-state-metrics' `collectors: []` would become
    the chart's 28 built-in collectors, with list/watch rules for each, Secrets included
    (kube-state-metrics-8.4.0 values.yaml, templates/role.yaml). A null would be harmless: Helm's
    coalesce deletes a null key, and the chart reads a missing list as empty."""
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        namespace=namespace,
        chart=chart,
        version=version,
        repository_opts={"repo": repository},
        allow_null_values=True,
        values=values,
        opts=opts,
    )
