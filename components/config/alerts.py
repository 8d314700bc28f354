"""The `alerts`, `dashboards` and `delivery` sections."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from .. import constants as c
from .values import AlertLabelName, AlertLabelValue, Model, PrometheusDuration, RunbookUrl, Severity


class AlertRuleSettings(Model):
    enabled: bool = True
    """Ship this alert."""
    severity: Severity = "warning"
    """Value of the alert's `severity` label."""


class NotReadyAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "15m"
    """How long an object may stay not Ready (Ready False or Unknown, not suspended) before the alert fires."""
    per_kind: dict[Literal[c.FLUX_READY_KINDS], PrometheusDuration] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {"HelmRelease": "30m"})
    """`after` for single kinds; each listed kind gets its own alert `Flux<Kind>NotReady`. HelmRelease waits longer
    by default: an install or upgrade waits for its workloads and retries with remediation. Setting this map replaces
    the default one."""


class SuspendedAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "24h"
    """How long an object may stay suspended before the alert fires."""


class SlowReconcileAlertSettings(AlertRuleSettings):
    threshold: PrometheusDuration = "5m"
    """Mean duration of one object's reconciliations over `window` above which the condition holds."""
    window: PrometheusDuration = "1h"
    (
        "Window the mean is taken over; as long as the objects' intervals at least, so that every window holds a "
        "reconciliation."
    )
    after: PrometheusDuration = "15m"
    """How long the mean must stay above `threshold` before the alert fires."""


class ReconcileErrorsAlertSettings(AlertRuleSettings):
    enabled: bool = False
    """Ship this alert. Off by default: kustomize-controller returns no error for a failed build,
    apply or health check, while one failing source keeps source-controller's count rising, and the
    alert names a reconciler, not an object; `notReady` names the object and its reason."""
    severity: Severity = "info"
    """Value of the alert's `severity` label."""
    threshold: int = Field(default=0, ge=0)
    """Reconcile errors of one reconciler within `window` above which the condition holds."""
    window: PrometheusDuration = "10m"
    """Window in which the errors are counted."""
    after: PrometheusDuration = "15m"
    """How long the count must stay above `threshold` before the alert fires."""


class ControllerAbsentAlertSettings(AlertRuleSettings):
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    after: PrometheusDuration = "10m"
    """How long a configured controller may report no reconciler metrics before the alert fires."""


class StuckWorkqueueAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "15m"
    """How long a worker may process one item while others wait in its queue before the condition holds."""
    sustained: PrometheusDuration = "5m"
    (
        "How long the condition must hold before the alert fires, so that a depth that comes and goes does not page "
        "again and again."
    )


class NotReconcilingAlertSettings(AlertRuleSettings):
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    window: PrometheusDuration = "1h"
    (
        "How long a reconciler may finish no reconciliation while objects of its kind wait (longer than their "
        "intervals)."
    )
    after: PrometheusDuration = "15m"
    """How long the condition must hold before the alert fires."""


class BehindSourceAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "30m"
    (
        "How long a Kustomization (not suspended, not failing) may stay on another revision than its source's before "
        "the alert fires."
    )


class ControllerDownAlertSettings(AlertRuleSettings):
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    after: PrometheusDuration = "5m"
    """How long the gateway may fail to scrape a controller before the alert fires."""


class WorkersSaturatedAlertSettings(AlertRuleSettings):
    threshold: float = Field(default=1.0, gt=0, le=1)
    """Share of a reconciler's workers busy (active workers / `--concurrent`) at or above which the condition holds."""
    after: PrometheusDuration = "15m"
    """How long the share must stay at or above `threshold` before the alert fires."""


class ObjectHealthDownAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "10m"
    """How long object health (kube-state-metrics, through the gateway) may be missing before the alert fires."""


class ExportFailingAlertSettings(AlertRuleSettings):
    window: PrometheusDuration = "5m"
    """Window in which dropped items are counted."""
    after: PrometheusDuration = "10m"
    """How long a collector must keep dropping items before the alert fires, so that one refused batch does not page."""


class QueueFillingAlertSettings(AlertRuleSettings):
    threshold: float = Field(default=0.5, gt=0, le=1)
    """Share of the gateway's export queue in use at or above which the condition holds."""
    after: PrometheusDuration = "5m"
    """How long the share must stay at or above `threshold` before the alert fires."""


class AgentNotReadingAlertSettings(AlertRuleSettings):
    window: PrometheusDuration = "5m"
    """Window in which lines the agent's pipeline refused are counted."""
    after: PrometheusDuration = "5m"
    """How long an agent's queue may stay full, or its pipeline keep refusing lines, before the alert fires."""


class AlertSettings(Model):
    enabled: bool = True
    """Ship a PrometheusRule in the Flux namespace while metrics are on (needs the monitoring.coreos.com CRD)."""
    runbook_url: RunbookUrl = c.RUNBOOK_URL
    """Where each alert's `runbook_url` annotation points: this address, then `#` and the alert's name in lowercase."""
    extra_labels: dict[AlertLabelName, AlertLabelValue] = Field(default_factory=dict)
    """Labels added to every alert, for routing (e.g. `team: platform`)."""
    not_ready: NotReadyAlertSettings = NotReadyAlertSettings()
    """`FluxObjectNotReady`: a Flux object is not Ready for too long."""
    suspended: SuspendedAlertSettings = SuspendedAlertSettings()
    """`FluxObjectSuspended`: a Flux object stays suspended for too long."""
    behind_source: BehindSourceAlertSettings = BehindSourceAlertSettings()
    """`FluxKustomizationBehindSource`: a Kustomization has not applied its source's revision for too long."""
    slow_reconcile: SlowReconcileAlertSettings = SlowReconcileAlertSettings()
    """`FluxReconcileSlow`: an object's reconciliations take too long on average."""
    reconcile_errors: ReconcileErrorsAlertSettings = ReconcileErrorsAlertSettings()
    """`FluxReconcileErrors`: a Flux reconciler keeps returning errors."""
    controller_absent: ControllerAbsentAlertSettings = ControllerAbsentAlertSettings()
    """`FluxControllerMetricsAbsent`: a configured controller's metrics disappeared."""
    stuck_workqueue: StuckWorkqueueAlertSettings = StuckWorkqueueAlertSettings()
    """`FluxWorkqueueStuck`: a reconciler's work queue stopped moving."""
    not_reconciling: NotReconcilingAlertSettings = NotReconcilingAlertSettings()
    """`FluxNotReconciling`: a reconciler runs but reconciles nothing while active objects of its kind exist."""
    controller_down: ControllerDownAlertSettings = ControllerDownAlertSettings()
    """`FluxControllerDown`: the gateway cannot scrape a Flux controller (collector mode)."""
    workers_saturated: WorkersSaturatedAlertSettings = WorkersSaturatedAlertSettings()
    """`FluxWorkersSaturated`: every worker of a reconciler is busy, so objects wait their turn."""
    object_health_down: ObjectHealthDownAlertSettings = ObjectHealthDownAlertSettings()
    """`FluxObjectHealthDown`: object health stopped arriving, so the object alerts are silent (collector mode)."""
    export_failing: ExportFailingAlertSettings = ExportFailingAlertSettings()
    (
        "`FluxPipelineExportFailing`: the gateway or a log agent drops items it could not send "
        "(`gateway.pipelineMetrics`)."
    )
    queue_filling: QueueFillingAlertSettings = QueueFillingAlertSettings()
    (
        "`FluxPipelineQueueFilling`: the gateway's export queue fills, so the backend takes less than arrives "
        "(`gateway.pipelineMetrics`)."
    )
    agent_not_reading: AgentNotReadingAlertSettings = AgentNotReadingAlertSettings()
    (
        "`FluxLogAgentNotReading`: a log agent's queue is full or its pipeline refuses lines, so Flux's lines wait in "
        "their files (`gateway.pipelineMetrics`)."
    )


class DashboardSettings(Model):
    enabled: bool = True
    (
        "Ship the Flux overview, control-plane and (with `delivery`) delivery PersesDashboards in the Flux namespace "
        "while metrics are on (needs the perses.dev CRD)."
    )


class DeliverySettings(Model):
    enabled: bool = True
    (
        "Deployments, change failures, time to restore and lead time per Kustomization and HelmRelease "
        "(docs/delivery.md): recording rules in the PrometheusRule and the Flux delivery PersesDashboard. They are "
        "computed from object health, so they need it and signals.metrics."
    )
    interval: PrometheusDuration = "30s"
    (
        "How often the delivery rules run, and so how finely they place an event in time; shorter than the "
        "object-health scrape interval (gateway.scrapeInterval) gains nothing. At most 2m: each rule reads its "
        "previous sample within Prometheus' 5m lookback."
    )
