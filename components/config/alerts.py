"""The `alerts` and `dashboards` sections."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from .. import constants as c
from .values import AlertLabelName, AlertLabelValue, Model, PrometheusDuration, Severity


class AlertRuleSettings(Model):
    enabled: bool = True
    """Ship this alert."""
    severity: Severity = "warning"
    """Value of the alert's `severity` label."""


class NotReadyAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "15m"
    """How long an object may stay not Ready (Ready False or Unknown, not suspended) before the alert fires."""
    per_kind: dict[Literal[c.FLUX_READY_KINDS], PrometheusDuration] = Field(default_factory=dict)  # type: ignore[valid-type]
    """`after` for single kinds, e.g. `HelmRelease: 30m`; each listed kind gets its own alert `Flux<Kind>NotReady`."""


class SuspendedAlertSettings(AlertRuleSettings):
    after: PrometheusDuration = "24h"
    """How long an object may stay suspended before the alert fires."""


class SlowReconcileAlertSettings(AlertRuleSettings):
    threshold: PrometheusDuration = "5m"
    """95th percentile of a kind's reconcile durations (over 5m) above which the condition holds."""
    after: PrometheusDuration = "15m"
    """How long the percentile must stay above `threshold` before the alert fires."""


class ReconcileErrorsAlertSettings(AlertRuleSettings):
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
    severity: Severity = "critical"
    """Value of the alert's `severity` label."""
    after: PrometheusDuration = "15m"
    """How long a worker may process one item while others wait in its queue before the alert fires."""


class AlertSettings(Model):
    enabled: bool = True
    """Ship a PrometheusRule in the Flux namespace while metrics are on (needs the monitoring.coreos.com CRD)."""
    extra_labels: dict[AlertLabelName, AlertLabelValue] = Field(default_factory=dict)
    """Labels added to every alert, for routing (e.g. `team: platform`)."""
    not_ready: NotReadyAlertSettings = NotReadyAlertSettings()
    """`FluxObjectNotReady`: a Flux object is not Ready for too long."""
    suspended: SuspendedAlertSettings = SuspendedAlertSettings()
    """`FluxObjectSuspended`: a Flux object stays suspended for too long."""
    slow_reconcile: SlowReconcileAlertSettings = SlowReconcileAlertSettings()
    """`FluxReconcileSlow`: the 95th percentile reconcile duration of a kind is too high."""
    reconcile_errors: ReconcileErrorsAlertSettings = ReconcileErrorsAlertSettings()
    """`FluxReconcileErrors`: a Flux reconciler keeps returning errors."""
    controller_absent: ControllerAbsentAlertSettings = ControllerAbsentAlertSettings()
    """`FluxControllerMetricsAbsent`: a configured controller's metrics disappeared."""
    stuck_workqueue: StuckWorkqueueAlertSettings = StuckWorkqueueAlertSettings()
    """`FluxWorkqueueStuck`: a reconciler's work queue stopped moving."""


class DashboardSettings(Model):
    enabled: bool = True
    """Ship the Flux overview and control-plane PersesDashboards in the Flux namespace while metrics are on (needs the perses.dev CRD)."""
