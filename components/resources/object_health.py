"""FluxObjectHealth: kube-state-metrics exposing every Flux object's readiness as metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import kube_state_metrics as ksm
from ..builders import manifests
from ..config import ConfigError, Dash0OperatorSettings, FluxSettings, ObjectHealthSettings, format_errors
from .helm_release import chart_release

COMPONENT = "object-health"


@dataclass(frozen=True)
class FluxObjectHealthArgs:
    namespace: str
    """Where kube-state-metrics runs. Without `operator` the namespace must already exist (the
    gateway's); with it, this component creates the namespace."""
    flux: FluxSettings = FluxSettings()
    """The configured controllers decide which kinds are watched and readable."""
    settings: ObjectHealthSettings = ObjectHealthSettings()
    operator: Optional[Dash0OperatorSettings] = None
    """dash0-operator mode: a `restricted` namespace with a Dash0Monitoring that scrapes the pod."""
    delivery: bool = True
    """Serve what the delivery figures read: the sources' artifact times and the HelmReleases' Helm
    release numbers (`delivery.enabled`)."""


class FluxObjectHealth(pulumi.ComponentResource):
    """A `kube-state-metrics` release in custom-resource-state-only mode, reading only Flux kinds.

    In dash0-operator mode it also creates its namespace and a Dash0Monitoring there, and annotates
    its pod for the operator's Prometheus scraping; the Flux namespace gets no workload.
    """

    scrape_target: str
    """`host:port` of the kube-state-metrics Service (port 8080, path /metrics)."""

    def __init__(self, name: str, args: FluxObjectHealthArgs, opts: Optional[pulumi.ResourceOptions] = None):
        if args.namespace == args.flux.namespace:
            raise ConfigError(format_errors(c.PROJECT, [("objectHealth.namespace", "must not be the Flux namespace")]))
        super().__init__("fluxcd-otel:index:FluxObjectHealth", name, None, opts)
        settings = args.settings
        self.namespace = self.monitoring = None
        depends_on: list[pulumi.Resource] = []
        if args.operator is not None:
            self.namespace = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata=manifests.namespace_metadata(args.namespace, c.POD_SECURITY_RESTRICTED, COMPONENT),
                opts=pulumi.ResourceOptions(parent=self),
            )
            depends_on = [self.namespace]
            self.monitoring = k8s.apiextensions.CustomResource(
                f"{name}-monitoring",
                api_version=c.DASH0_MONITORING_API_VERSION,
                kind="Dash0Monitoring",
                metadata=manifests.object_metadata(args.operator.monitoring_name, args.namespace, COMPONENT),
                spec=manifests.dash0_monitoring_spec(metrics=True, logs=False),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )
        self.release = chart_release(
            f"{name}-release",
            release_name=settings.release_name,
            namespace=args.namespace,
            chart=c.KSM_CHART,
            version=settings.chart_version,
            repository=settings.chart_repository,
            values=ksm.chart_values(
                fullname=settings.release_name,
                image_tag=settings.image_tag,
                resources=settings.resources,
                flux_kinds=ksm.flux_resources(args.flux.controllers),
                annotate_for_scraping=args.operator is not None,
                delivery=args.delivery,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.scrape_target = ksm.scrape_target(settings.release_name, args.namespace)
        self.register_outputs({"scrape_target": self.scrape_target})
