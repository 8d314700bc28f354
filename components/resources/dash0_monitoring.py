"""Dash0FluxMonitoring: lets a cluster's Dash0 operator collect Flux metrics and logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests
from ..config import Dash0OperatorSettings, FluxSettings


@dataclass(frozen=True)
class Dash0FluxMonitoringArgs:
    flux: FluxSettings = FluxSettings()
    operator: Dash0OperatorSettings = Dash0OperatorSettings()
    metrics: bool = True
    logs: bool = True
    events: bool = True
    """The operator's event collection in the Flux namespace (Kubernetes events as log records)."""


class Dash0FluxMonitoring(pulumi.ComponentResource):
    """A Dash0Monitoring in the Flux namespace (no workload instrumentation) and scrape annotations.

    The annotations go onto each controller's pod template by server-side-apply patches: Flux
    keeps owning its Deployments, and deleting a patch removes only the fields it set.
    """

    def __init__(self, name: str, args: Dash0FluxMonitoringArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("fluxcd-otel:index:Dash0FluxMonitoring", name, None, opts)
        namespace = args.flux.namespace
        self.monitoring = k8s.apiextensions.CustomResource(
            f"{name}-monitoring",
            api_version=c.DASH0_MONITORING_API_VERSION,
            kind="Dash0Monitoring",
            metadata=manifests.object_metadata(args.operator.monitoring_name, namespace, "dash0"),
            spec=manifests.dash0_monitoring_spec(metrics=args.metrics, logs=args.logs, events=args.events),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.scrape_patches = []
        if args.metrics:
            self.scrape_patches = [
                k8s.apps.v1.DeploymentPatch(
                    f"{name}-{controller}-scrape",
                    metadata={"name": controller, "namespace": namespace},
                    spec={"template": {"metadata": {"annotations": manifests.scrape_annotations()}}},
                    opts=pulumi.ResourceOptions(parent=self),
                )
                for controller in args.flux.controllers
            ]
        self.register_outputs({"monitoring": f"{namespace}/{args.operator.monitoring_name}"})
