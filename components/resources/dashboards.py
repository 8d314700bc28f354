"""FluxDashboards: PersesDashboards of the Flux objects and of the Flux control plane."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests
from ..builders.dashboards import custom_resource_spec, dashboard_specs
from ..config import FluxSettings


class FluxDashboards(pulumi.ComponentResource):
    """One PersesDashboard per dashboard in the Flux namespace, where the Dash0 operator syncs them
    from in dash0-operator mode. Needs the perses.dev CRD in the cluster."""

    dashboard_refs: list[str]
    """`<namespace>/<name>` of each dashboard."""

    def __init__(self, name: str, flux: FluxSettings, cluster_label: str = c.PROMETHEUS_CLUSTER_LABEL,
                 opts: Optional[pulumi.ResourceOptions] = None, *, pipeline: bool = False, log_agents: bool = False,
                 specs: Optional[dict[str, dict[str, Any]]] = None):
        """`pipeline`: the collectors ship their own metrics, so the control plane gets a pipeline row
        (`log_agents`: the agents' too). `specs`: the dashboards already built by name
        (FluxObservability's plan), in place of building them from the arguments."""
        super().__init__("fluxcd-otel:index:FluxDashboards", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if specs is None:
            specs = dashboard_specs(flux.controllers, cluster_label, pipeline=pipeline, log_agents=log_agents)
        self.dashboards = [
            k8s.apiextensions.CustomResource(
                f"{name}-{dashboard_name.removeprefix(f'{c.PROJECT}-')}",
                api_version=c.PERSES_DASHBOARD_API_VERSION,
                kind="PersesDashboard",
                metadata=manifests.object_metadata(dashboard_name, flux.namespace, "dashboards"),
                spec=custom_resource_spec(spec),
                opts=child,
            )
            for dashboard_name, spec in specs.items()
        ]
        self.dashboard_refs = [f"{flux.namespace}/{dashboard_name}" for dashboard_name in specs]
        self.register_outputs({"dashboards": self.dashboard_refs})
