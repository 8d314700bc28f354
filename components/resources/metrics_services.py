"""FluxMetricsServices: a ClusterIP Service on port 8080 for each observed Flux controller."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from ..builders import manifests
from ..config import FluxSettings


class FluxMetricsServices(pulumi.ComponentResource):
    """Exposes each controller's `http-prom` port, so a collector can scrape it as a static target."""

    scrape_targets: list[str]
    """`host:port` of each metrics Service, known before the Services exist."""

    def __init__(self, name: str, flux: FluxSettings, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("fluxcd-otel:index:FluxMetricsServices", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.services = [
            k8s.core.v1.Service(
                f"{name}-{controller}", **manifests.metrics_service(controller, flux.namespace), opts=child
            )
            for controller in flux.controllers
        ]
        self.scrape_targets = [manifests.scrape_target(controller, flux.namespace) for controller in flux.controllers]
        self.register_outputs({"scrape_targets": self.scrape_targets})
