"""FluxAlertRules: a PrometheusRule with alerts on the Flux objects and controllers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests
from ..builders.alert_rules import RULE_NAME, prometheus_rule_spec
from ..config import AlertSettings, FluxSettings


@dataclass(frozen=True)
class FluxAlertRulesArgs:
    flux: FluxSettings = FluxSettings()
    """The Flux namespace holds the rule; the controllers decide which reconcilers are watched."""
    alerts: AlertSettings = AlertSettings()
    cluster_label: str = c.PROMETHEUS_CLUSTER_LABEL
    """The label under which the backend shows `k8s.cluster.name`."""
    gateway_scrapes: bool = True
    """The gateway scrapes the controllers and object health (collector mode), so the alerts on its
    scrape jobs can fire; the Dash0 operator names its scrapes otherwise."""
    pipeline_metrics: bool = False
    """The gateway ships its own metrics (`gateway.pipelineMetrics`), so the pipeline alerts can fire."""
    log_agents: bool = False
    """Log agents ship their own metrics too, so FluxLogAgentNotReading can fire."""


class FluxAlertRules(pulumi.ComponentResource):
    """The PrometheusRule lives in the Flux namespace, which the Dash0 operator watches in
    dash0-operator mode (it syncs rules only from namespaces with a Dash0Monitoring). It is a
    custom resource, not a workload, and needs the monitoring.coreos.com CRD in the cluster."""

    def __init__(self, name: str, args: FluxAlertRulesArgs, opts: Optional[pulumi.ResourceOptions] = None, *,
                 spec: Optional[dict[str, Any]] = None):
        """`spec`: the rules already built (FluxObservability's plan), in place of building them
        from `args`, which then only places them in the Flux namespace."""
        super().__init__("fluxcd-otel:index:FluxAlertRules", name, None, opts)
        namespace = args.flux.namespace
        if spec is None:
            spec = prometheus_rule_spec(args.alerts, args.flux.controllers, cluster_label=args.cluster_label,
                                        gateway_scrapes=args.gateway_scrapes, pipeline_metrics=args.pipeline_metrics,
                                        log_agents=args.log_agents)
        self.rule = k8s.apiextensions.CustomResource(
            f"{name}-rule",
            api_version=c.PROMETHEUS_RULE_API_VERSION,
            kind="PrometheusRule",
            metadata=manifests.object_metadata(RULE_NAME, namespace, "alerting"),
            spec=spec,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.rule_ref = f"{namespace}/{RULE_NAME}"
        self.register_outputs({"rule": self.rule_ref})
