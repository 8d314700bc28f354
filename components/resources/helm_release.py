"""The Helm releases of the package's charts (collector, kube-state-metrics)."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s


def chart_release(resource_name: str, *, release_name: str, namespace: str, chart: str, version: str,
                  repository: str, values: pulumi.Input[dict[str, Any]],
                  opts: Optional[pulumi.ResourceOptions] = None) -> k8s.helm.v3.Release:
    """A Helm release whose values reach the chart exactly as built. Without `allow_null_values`
    the provider turns an empty list into null (pulumi-kubernetes provider/v4@v4.25.0
    pkg/provider/helm_release.go: excludeNulls), which Helm reads as "use the chart's default":
    kube-state-metrics' `collectors: []` would bring back every built-in collector."""
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
