"""Typed arguments of the multi-language FluxObservability (multi_language.py).

Generated from the StackConfig model (components/config/) by `python -m components
regenerate`; do not edit. No `from __future__ import annotations`: the component provider host reads
these annotations as types.
"""

from enum import Enum
from typing import NotRequired, TypedDict

import pulumi


class Mode(Enum):
    """`collector`: our own gateway and log agent. `dash0-operator`: the Dash0 operator collects."""

    COLLECTOR = "collector"
    DASH0_OPERATOR = "dash0-operator"


class SignalSettings(TypedDict):
    """Which signals to ship."""

    metrics: NotRequired[bool]
    """Ship the Flux controllers' Prometheus metrics."""
    traces: NotRequired[bool]
    """Ship Flux events as spans (notification-controller `otel` Provider and Alert)."""
    logs: NotRequired[bool]
    """Ship the Flux controllers' JSON logs."""


class FluxSettings(TypedDict):
    """Where Flux runs and which controllers it has."""

    namespace: NotRequired[str]
    """Namespace Flux runs in."""
    controllers: NotRequired[list[str]]
    """Flux controllers to observe (metrics Services, log files, traced kinds). Items: `source-controller`, `kustomize-controller`, `helm-controller`, `notification-controller`, `image-reflector-controller`, `image-automation-controller`, `source-watcher`."""


class ImageSettings(TypedDict):
    """Collector image."""

    repository: NotRequired[str]
    """Collector image repository (an otelcol-k8s build)."""
    tag: NotRequired[str]
    """Collector image tag, pinned."""


class ResourceSettings(TypedDict):
    """CPU and memory requests and limits of a collector pod."""

    cpu_request: str
    """CPU request of each collector pod."""
    cpu_limit: str
    """CPU limit of each collector pod."""
    memory_request: str
    """Memory request of each collector pod (Mi or Gi)."""
    memory_limit: str
    """Memory limit (Mi or Gi); the memory_limiter and GOMEMLIMIT are derived from it."""


class SendingQueueStorage(Enum):
    """Where the gateway's export queue lives. `persistentVolume`: a PersistentVolumeClaim (the gateway runs as a StatefulSet); the queue survives pod deletion, rollouts and node drains. `emptyDir`: survives collector restarts in the same pod (crash, OOM kill) but is lost with the pod (rollout, eviction, drain)."""

    PERSISTENT_VOLUME = "persistentVolume"
    EMPTY_DIR = "emptyDir"


class SendingQueueSettings(TypedDict):
    """Persistent export queue that bridges backend outages."""

    storage: NotRequired[SendingQueueStorage]
    """Where the gateway's export queue lives. `persistentVolume`: a PersistentVolumeClaim (the gateway runs as a StatefulSet); the queue survives pod deletion, rollouts and node drains. `emptyDir`: survives collector restarts in the same pod (crash, OOM kill) but is lost with the pod (rollout, eviction, drain)."""
    volume_size: NotRequired[str]
    """Size of the queue volume (PVC request, or emptyDir size limit)."""
    storage_class_name: NotRequired[str]
    """StorageClass of the PVC; the cluster default when unset. persistentVolume only."""
    outage: NotRequired[str]
    """Backend outage bridged without loss (at least 15m): sizes the gateway's and the log agents' queues and how long a failed export is retried."""


class GatewaySettings(TypedDict):
    """collector mode: the gateway collector (metrics scrape, OTLP in, export)."""

    namespace: NotRequired[str]
    """Namespace of the gateway collector (Pod Security level `restricted`)."""
    release_name: NotRequired[str]
    """Helm release name; also the collector's Service name."""
    chart_version: NotRequired[str]
    """Version of the `opentelemetry-collector` chart, pinned."""
    chart_repository: NotRequired[str]
    """Helm repository of the `opentelemetry-collector` chart (gateway and log agent); a mirror where the public one is out of reach."""
    image: NotRequired[ImageSettings]
    """Collector image."""
    replicas: NotRequired[int]
    """Gateway replicas; 1 while metrics or events are on, since each replica scrapes every target and watches every event."""
    resources: NotRequired[ResourceSettings]
    """Requests and limits of the gateway pod; keys not given keep their defaults (a default request above a limit given comes down to it)."""
    scrape_interval: NotRequired[str]
    """How often the gateway scrapes the Flux controllers and object health, and each collector its own metrics."""
    metric_prefixes: NotRequired[list[str]]
    """Metrics whose names start with one of these prefixes are kept, besides those the shipped alert rules and dashboards query."""
    sending_queue: NotRequired[SendingQueueSettings]
    """Persistent export queue that bridges backend outages."""
    pipeline_metrics: NotRequired[bool]
    """Ship the gateway's and log agents' own metrics (items received, sent and dropped; export queue fill) beside Flux's, for the pipeline alerts and the control-plane dashboard's pipeline row; needs signals.metrics."""


class LogAgentSettings(TypedDict):
    """collector mode: the DaemonSet that tails the Flux controllers' log files."""

    namespace: NotRequired[str]
    """Namespace of the log agent DaemonSet (Pod Security level `privileged`: it mounts hostPath)."""
    release_name: NotRequired[str]
    """Helm release name of the log agent."""
    resources: NotRequired[ResourceSettings]
    """Requests and limits of each agent pod; keys not given keep their defaults (a default request above a limit given comes down to it)."""
    checkpoint_dir: NotRequired[str]
    """Host directory where read offsets are kept across agent restarts."""


class ExpectedLoadSettings(TypedDict):
    """The Flux load the collectors' memory limits must hold with twice the memory they were measured to need."""

    flux_objects: NotRequired[int]
    """Flux objects in the cluster (sources, Kustomizations, HelmReleases, ...)."""
    log_lines_per_second: NotRequired[int]
    """Log lines per second of all Flux controllers together (what one node's log agent may have to read)."""


class ExporterType(Enum):
    """Where the gateway sends telemetry: `dash0`, any `otlp` endpoint, or `debug` (collector log)."""

    DASH0 = "dash0"
    OTLP = "otlp"
    DEBUG = "debug"


class ExporterRegion(Enum):
    """dash0: ingress region; sets the endpoint."""

    EU_WEST_1 = "eu-west-1"
    EU_CENTRAL_1 = "eu-central-1"
    US_WEST_2 = "us-west-2"


class ExporterProtocol(Enum):
    """otlp: OTLP transport."""

    GRPC = "grpc"
    HTTP = "http"


class ExporterVerbosity(Enum):
    """debug: how much the debug exporter prints."""

    BASIC = "basic"
    NORMAL = "normal"
    DETAILED = "detailed"


class ExporterSettings(TypedDict):
    """collector mode, required: the backend the gateway exports to."""

    type: ExporterType
    """Where the gateway sends telemetry: `dash0`, any `otlp` endpoint, or `debug` (collector log)."""
    region: NotRequired[ExporterRegion]
    """dash0: ingress region; sets the endpoint."""
    endpoint: NotRequired[str]
    """dash0: ingress `host:port` overriding the region. otlp: URL (`https://host:port`, path for http)."""
    dataset: NotRequired[str]
    """dash0: dataset; sent as `Dash0-Dataset` unless `default`."""
    protocol: NotRequired[ExporterProtocol]
    """otlp: OTLP transport."""
    headers: NotRequired[dict[str, str]]
    """otlp: extra headers that are not secret (such as a tenant). Credentials go in the `exportHeaders` secret."""
    username: NotRequired[str]
    """otlp: the Basic auth user name; the password is the `exportPassword` secret."""
    verbosity: NotRequired[ExporterVerbosity]
    """debug: how much the debug exporter prints."""


class TracingEventSeverity(Enum):
    """Lowest event severity traced: `info` (all) or `error`."""

    INFO = "info"
    ERROR = "error"


class EventSourceKind(Enum):
    """Flux kind whose events are traced."""

    GIT_REPOSITORY = "GitRepository"
    OCI_REPOSITORY = "OCIRepository"
    BUCKET = "Bucket"
    HELM_CHART = "HelmChart"
    KUSTOMIZATION = "Kustomization"
    HELM_RELEASE = "HelmRelease"
    IMAGE_REPOSITORY = "ImageRepository"
    IMAGE_POLICY = "ImagePolicy"
    IMAGE_UPDATE_AUTOMATION = "ImageUpdateAutomation"
    ARTIFACT_GENERATOR = "ArtifactGenerator"
    EXTERNAL_ARTIFACT = "ExternalArtifact"


class EventSource(TypedDict):
    """Objects to trace. Default: every object of every traceable kind of the configured controllers."""

    kind: EventSourceKind
    """Flux kind whose events are traced."""
    name: NotRequired[str]
    """Object name, or `*` for all."""
    namespace: NotRequired[str]
    """Object namespace; defaults to the Flux namespace."""
    match_labels: NotRequired[dict[str, str]]
    """Label selector; needs name `*`."""


class TracingSettings(TypedDict):
    """The Flux `otel` Provider and its Alert."""

    provider_name: NotRequired[str]
    """Name of the `otel` Provider in the Flux namespace."""
    alert_name: NotRequired[str]
    """Name of the Alert; spans carry `service.name` = `<flux namespace>/<alertName>`."""
    address: NotRequired[str]
    """OTLP/HTTP traces URL overriding the gateway (or Dash0 operator) endpoint."""
    event_severity: NotRequired[TracingEventSeverity]
    """Lowest event severity traced: `info` (all) or `error`."""
    event_sources: NotRequired[list[EventSource]]
    """Objects to trace. Default: every object of every traceable kind of the configured controllers."""
    inclusion_list: NotRequired[list[str]]
    """Go regexes; only events whose message matches one are traced."""
    exclusion_list: NotRequired[list[str]]
    """Go regexes; events whose message matches one are dropped."""
    event_metadata: NotRequired[dict[str, str]]
    """Extra span attributes. `cluster` is set to clusterName unless given here."""
    timeout: NotRequired[str]
    """Provider timeout (Flux default 15s)."""


class EventSettings(TypedDict):
    """Kubernetes events about Flux objects, as log records with the controller logs' attributes."""

    enabled: NotRequired[bool]
    """Ship Kubernetes events about Flux objects as log records while signals.logs is on."""
    namespaces: NotRequired[list[str]]
    """collector mode: namespaces whose events the gateway watches (a Role in each). Default: the Flux namespace."""


class NotReadyAlertSettings(TypedDict):
    """`FluxObjectNotReady`: a Flux object is not Ready for too long."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long an object may stay not Ready (Ready False or Unknown, not suspended) before the alert fires."""
    per_kind: NotRequired[dict[str, str]]
    """`after` for single kinds; each listed kind gets its own alert `Flux<Kind>NotReady`. HelmRelease waits longer by default: an install or upgrade waits for its workloads and retries with remediation. Setting this map replaces the default one. Keys: `GitRepository`, `OCIRepository`, `Bucket`, `HelmRepository`, `HelmChart`, `ExternalArtifact`, `Kustomization`, `HelmRelease`, `Receiver`, `ImageRepository`, `ImagePolicy`, `ImageUpdateAutomation`, `ArtifactGenerator`."""


class SuspendedAlertSettings(TypedDict):
    """`FluxObjectSuspended`: a Flux object stays suspended for too long."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long an object may stay suspended before the alert fires."""


class BehindSourceAlertSettings(TypedDict):
    """`FluxKustomizationBehindSource`: a Kustomization has not applied its source's revision for too long."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long a Kustomization (not suspended, not failing) may stay on another revision than its source's before the alert fires."""


class SlowReconcileAlertSettings(TypedDict):
    """`FluxReconcileSlow`: an object's reconciliations take too long on average."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    threshold: NotRequired[str]
    """Mean duration of one object's reconciliations over `window` above which the condition holds."""
    window: NotRequired[str]
    """Window the mean is taken over; as long as the objects' intervals at least, so that every window holds a reconciliation."""
    after: NotRequired[str]
    """How long the mean must stay above `threshold` before the alert fires."""


class ReconcileErrorsAlertSettings(TypedDict):
    """`FluxReconcileErrors`: a Flux reconciler keeps returning errors."""

    enabled: NotRequired[bool]
    """Ship this alert. Off by default: kustomize-controller returns no error for a failed build, apply or health check, while one failing source keeps source-controller's count rising, and the alert names a reconciler, not an object; `notReady` names the object and its reason."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    threshold: NotRequired[int]
    """Reconcile errors of one reconciler within `window` above which the condition holds."""
    window: NotRequired[str]
    """Window in which the errors are counted."""
    after: NotRequired[str]
    """How long the count must stay above `threshold` before the alert fires."""


class ControllerAbsentAlertSettings(TypedDict):
    """`FluxControllerMetricsAbsent`: a configured controller's metrics disappeared."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long a configured controller may report no reconciler metrics before the alert fires."""


class StuckWorkqueueAlertSettings(TypedDict):
    """`FluxWorkqueueStuck`: a reconciler's work queue stopped moving."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long a worker may process one item while others wait in its queue before the condition holds."""
    sustained: NotRequired[str]
    """How long the condition must hold before the alert fires, so that a depth that comes and goes does not page again and again."""


class NotReconcilingAlertSettings(TypedDict):
    """`FluxNotReconciling`: a reconciler runs but reconciles nothing while active objects of its kind exist."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    window: NotRequired[str]
    """How long a reconciler may finish no reconciliation while objects of its kind wait (longer than their intervals)."""
    after: NotRequired[str]
    """How long the condition must hold before the alert fires."""


class ControllerDownAlertSettings(TypedDict):
    """`FluxControllerDown`: the gateway cannot scrape a Flux controller (collector mode)."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long the gateway may fail to scrape a controller before the alert fires."""


class WorkersSaturatedAlertSettings(TypedDict):
    """`FluxWorkersSaturated`: every worker of a reconciler is busy, so objects wait their turn."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    threshold: NotRequired[float]
    """Share of a reconciler's workers busy (active workers / `--concurrent`) at or above which the condition holds."""
    after: NotRequired[str]
    """How long the share must stay at or above `threshold` before the alert fires."""


class ObjectHealthDownAlertSettings(TypedDict):
    """`FluxObjectHealthDown`: object health stopped arriving, so the object alerts are silent (collector mode)."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    after: NotRequired[str]
    """How long object health (kube-state-metrics, through the gateway) may be missing before the alert fires."""


class ExportFailingAlertSettings(TypedDict):
    """`FluxPipelineExportFailing`: the gateway or a log agent drops items it could not send (`collector.pipelineMetrics`)."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    window: NotRequired[str]
    """Window in which dropped items are counted."""
    after: NotRequired[str]
    """How long a collector must keep dropping items before the alert fires, so that one refused batch does not page."""


class QueueFillingAlertSettings(TypedDict):
    """`FluxPipelineQueueFilling`: the gateway's export queue fills, so the backend takes less than arrives (`collector.pipelineMetrics`)."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    threshold: NotRequired[float]
    """Share of the gateway's export queue in use at or above which the condition holds."""
    after: NotRequired[str]
    """How long the share must stay at or above `threshold` before the alert fires."""


class AgentNotReadingAlertSettings(TypedDict):
    """`FluxLogAgentNotReading`: a log agent's queue is full or its pipeline refuses lines, so Flux's lines wait in their files (`collector.pipelineMetrics`)."""

    enabled: NotRequired[bool]
    """Ship this alert."""
    severity: NotRequired[str]
    """Value of the alert's `severity` label."""
    window: NotRequired[str]
    """Window in which lines the agent's pipeline refused are counted."""
    after: NotRequired[str]
    """How long an agent's queue may stay full, or its pipeline keep refusing lines, before the alert fires."""


class AlertSettings(TypedDict):
    """Alert rules on Flux objects, the controllers and the pipeline, as a PrometheusRule (the Dash0 operator syncs them as check rules)."""

    enabled: NotRequired[bool]
    """Ship a PrometheusRule in the Flux namespace while metrics are on (needs the monitoring.coreos.com CRD)."""
    runbook_url: NotRequired[str]
    """Where each alert's `runbook_url` annotation points: this address, then `#` and the alert's name in lowercase."""
    extra_labels: NotRequired[dict[str, str]]
    """Labels added to every alert, for routing (e.g. `team: platform`)."""
    not_ready: NotRequired[NotReadyAlertSettings]
    """`FluxObjectNotReady`: a Flux object is not Ready for too long."""
    suspended: NotRequired[SuspendedAlertSettings]
    """`FluxObjectSuspended`: a Flux object stays suspended for too long."""
    behind_source: NotRequired[BehindSourceAlertSettings]
    """`FluxKustomizationBehindSource`: a Kustomization has not applied its source's revision for too long."""
    slow_reconcile: NotRequired[SlowReconcileAlertSettings]
    """`FluxReconcileSlow`: an object's reconciliations take too long on average."""
    reconcile_errors: NotRequired[ReconcileErrorsAlertSettings]
    """`FluxReconcileErrors`: a Flux reconciler keeps returning errors."""
    controller_absent: NotRequired[ControllerAbsentAlertSettings]
    """`FluxControllerMetricsAbsent`: a configured controller's metrics disappeared."""
    stuck_workqueue: NotRequired[StuckWorkqueueAlertSettings]
    """`FluxWorkqueueStuck`: a reconciler's work queue stopped moving."""
    not_reconciling: NotRequired[NotReconcilingAlertSettings]
    """`FluxNotReconciling`: a reconciler runs but reconciles nothing while active objects of its kind exist."""
    controller_down: NotRequired[ControllerDownAlertSettings]
    """`FluxControllerDown`: the gateway cannot scrape a Flux controller (collector mode)."""
    workers_saturated: NotRequired[WorkersSaturatedAlertSettings]
    """`FluxWorkersSaturated`: every worker of a reconciler is busy, so objects wait their turn."""
    object_health_down: NotRequired[ObjectHealthDownAlertSettings]
    """`FluxObjectHealthDown`: object health stopped arriving, so the object alerts are silent (collector mode)."""
    export_failing: NotRequired[ExportFailingAlertSettings]
    """`FluxPipelineExportFailing`: the gateway or a log agent drops items it could not send (`collector.pipelineMetrics`)."""
    queue_filling: NotRequired[QueueFillingAlertSettings]
    """`FluxPipelineQueueFilling`: the gateway's export queue fills, so the backend takes less than arrives (`collector.pipelineMetrics`)."""
    agent_not_reading: NotRequired[AgentNotReadingAlertSettings]
    """`FluxLogAgentNotReading`: a log agent's queue is full or its pipeline refuses lines, so Flux's lines wait in their files (`collector.pipelineMetrics`)."""


class DashboardSettings(TypedDict):
    """Flux dashboards, as PersesDashboards (the Dash0 operator syncs them to Dash0)."""

    enabled: NotRequired[bool]
    """Ship the Flux overview and control-plane PersesDashboards in the Flux namespace while metrics are on (needs the perses.dev CRD)."""


class ObjectHealthResourceSettings(TypedDict):
    """Requests and limits of the kube-state-metrics pod (set all four keys when overriding)."""

    cpu_request: str
    """CPU request of the kube-state-metrics pod."""
    cpu_limit: str
    """CPU limit of the kube-state-metrics pod."""
    memory_request: str
    """Memory request of the kube-state-metrics pod (Mi or Gi)."""
    memory_limit: str
    """Memory limit of the kube-state-metrics pod (Mi or Gi); it grows with the number of Flux objects."""


class ObjectHealthSettings(TypedDict):
    """Flux object health: kube-state-metrics exposing every Flux object's readiness as metrics."""

    enabled: NotRequired[bool]
    """Deploy kube-state-metrics for per-object readiness (`gotk_resource_info`); needs signals.metrics."""
    release_name: NotRequired[str]
    """Helm release name; also the kube-state-metrics Service name."""
    namespace: NotRequired[str]
    """dash0-operator mode: namespace created for kube-state-metrics (collector mode uses collector.namespace)."""
    chart_version: NotRequired[str]
    """Version of the `kube-state-metrics` chart (prometheus-community), pinned."""
    chart_repository: NotRequired[str]
    """Helm repository of the `kube-state-metrics` chart; a mirror where the public one is out of reach."""
    image_tag: NotRequired[str]
    """kube-state-metrics image tag (registry.k8s.io/kube-state-metrics/kube-state-metrics), pinned: the chart's own."""
    resources: NotRequired[ObjectHealthResourceSettings]
    """Requests and limits of the kube-state-metrics pod (set all four keys when overriding)."""


class Dash0OperatorSettings(TypedDict):
    """dash0-operator mode: where the operator's collector is and the Dash0Monitoring name."""

    collector_endpoint: NotRequired[str]
    """OTLP/HTTP base URL of the Dash0 operator's collector Service."""
    monitoring_name: NotRequired[str]
    """Name of the Dash0Monitoring resource in the Flux namespace."""


class FluxObservabilityArgs(TypedDict):
    """Arguments of FluxObservability: the keys of a stack's `fluxcd-otel:` configuration."""

    cluster_name: str
    """Cluster name; becomes `k8s.cluster.name` and the Alert's `cluster` event metadata."""
    cluster_label: NotRequired[str]
    """The label under which the backend shows `k8s.cluster.name` (Prometheus: once `otlp.promote_resource_attributes` lists it, docs/verify.md). The dashboards' cluster variable lists its values; FluxNotReconciling matches a controller with the objects of its own cluster by it."""
    mode: NotRequired[Mode]
    """`collector`: our own gateway and log agent. `dash0-operator`: the Dash0 operator collects."""
    signals: NotRequired[SignalSettings]
    """Which signals to ship."""
    flux: NotRequired[FluxSettings]
    """Where Flux runs and which controllers it has."""
    collector: NotRequired[GatewaySettings]
    """collector mode: the gateway collector (metrics scrape, OTLP in, export)."""
    log_agent: NotRequired[LogAgentSettings]
    """collector mode: the DaemonSet that tails the Flux controllers' log files."""
    expected_load: NotRequired[ExpectedLoadSettings]
    """collector mode: the Flux load the gateway's and log agent's memory limits must hold; a limit not given is sized for it (twice the measured peak, when above the default)."""
    exporter: NotRequired[ExporterSettings]
    """collector mode, required: the backend the gateway exports to."""
    export_token: NotRequired[pulumi.Input[str]]
    """Secret. Backend token, sent as `Authorization: Bearer <token>`; required for dash0."""
    export_password: NotRequired[pulumi.Input[str]]
    """Secret. otlp: Basic auth password, sent with `exporter.username` as `Authorization: Basic ...`."""
    export_headers: NotRequired[pulumi.Input[dict[str, str]]]
    """Secret. otlp: headers sent with every export, such as an API key (`x-honeycomb-team`)."""
    tracing: NotRequired[TracingSettings]
    """The Flux `otel` Provider and its Alert."""
    tracing_headers: NotRequired[pulumi.Input[dict[str, str]]]
    """Secret. Headers the Provider sends (e.g. Authorization) when `tracing.address` needs auth."""
    events: NotRequired[EventSettings]
    """Kubernetes events about Flux objects, as log records with the controller logs' attributes."""
    alerts: NotRequired[AlertSettings]
    """Alert rules on Flux objects, the controllers and the pipeline, as a PrometheusRule (the Dash0 operator syncs them as check rules)."""
    dashboards: NotRequired[DashboardSettings]
    """Flux dashboards, as PersesDashboards (the Dash0 operator syncs them to Dash0)."""
    object_health: NotRequired[ObjectHealthSettings]
    """Flux object health: kube-state-metrics exposing every Flux object's readiness as metrics."""
    dash0_operator: NotRequired[Dash0OperatorSettings]
    """dash0-operator mode: where the operator's collector is and the Dash0Monitoring name."""
