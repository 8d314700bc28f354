"""The alert rules as both tiers test them: the package's rule groups with routing labels and the
opt-in reconcile-errors alert on, and the setting each alert reads."""

from __future__ import annotations

from components import constants as c
from components.builders import alert_rules
from components.config import AlertSettings

CONTROLLERS = list(c.FLUX_DEFAULT_CONTROLLERS)
ROUTING = {"team": "platform"}
CLUSTER_LABEL = c.PROMETHEUS_CLUSTER_LABEL
SETTINGS = AlertSettings(extra_labels=ROUTING, reconcile_errors={"enabled": True})
SETTING_OF = {
    "FluxObjectNotReady": "not_ready", "FluxHelmReleaseNotReady": "not_ready", "FluxObjectSuspended": "suspended",
    "FluxReconcileSlow": "slow_reconcile", "FluxReconcileErrors": "reconcile_errors",
    "FluxControllerMetricsAbsent": "controller_absent", "FluxWorkqueueStuck": "stuck_workqueue",
    "FluxControllerDown": "controller_down", "FluxWorkersSaturated": "workers_saturated",
    "FluxObjectHealthDown": "object_health_down", "FluxNotReconciling": "not_reconciling",
    "FluxKustomizationBehindSource": "behind_source",
}
# On the collectors' own metrics; they fire on real faults in e2e/test_pipeline_health.py.
ON_PIPELINE_METRICS = {
    "FluxPipelineExportFailing": "export_failing", "FluxPipelineQueueFilling": "queue_filling",
    "FluxLogAgentNotReading": "agent_not_reading",
}
SETTING_OF.update(ON_PIPELINE_METRICS)


def groups(settings: AlertSettings = SETTINGS, controllers=CONTROLLERS, gateway_scrapes: bool = True,
           pipeline_metrics: bool = True, log_agents: bool = True):
    return alert_rules.rule_groups(settings, controllers, cluster_label=CLUSTER_LABEL, gateway_scrapes=gateway_scrapes,
                                   pipeline_metrics=pipeline_metrics, log_agents=log_agents)
