"""Upstream facts about Flux, the OpenTelemetry Collector and Dash0, kept in one place.

Every literal that mirrors upstream behaviour lives here, so a Flux or chart upgrade is a
one-file change. Sources: ../shared/FACTS.md (Flux 2.9, chart 0.170.0, collector 0.158.0,
dash0-operator 0.153.0).
"""

from __future__ import annotations

from typing import NamedTuple

PROJECT = "fluxcd-otel"
PART_OF_LABELS = {"app.kubernetes.io/part-of": PROJECT, "app.kubernetes.io/managed-by": "pulumi"}
# The alerts' runbooks: docs/alerts.md of the published repository, one heading per alert.
RUNBOOK_URL = "https://github.com/fluxcd-otel/fluxcd-otel/blob/main/docs/alerts.md"

# --- Flux -------------------------------------------------------------------------------------
FLUX_NAMESPACE = "flux-system"
FLUX_DEFAULT_CONTROLLERS = (
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
)
FLUX_OPTIONAL_CONTROLLERS = (
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
)
FLUX_CONTROLLERS = FLUX_DEFAULT_CONTROLLERS + FLUX_OPTIONAL_CONTROLLERS
# Services a Flux install creates (all ClusterIP port 80); none of them exposes the metrics port.
FLUX_SERVICES = ("source-controller", "notification-controller", "webhook-receiver", "source-watcher")
FLUX_POD_SELECTOR_LABEL = "app"
FLUX_CONTAINER_NAME = "manager"
FLUX_METRICS_PORT = 8080
FLUX_METRICS_PORT_NAME = "http-prom"
FLUX_METRICS_PATH = "/metrics"

# Event-source kinds an Alert accepts (v1beta3 CRD enum), grouped by the controller that
# reconciles them. HelmRepository is left out: the otel provider never traces it.
FLUX_TRACEABLE_KINDS_BY_CONTROLLER = {
    "source-controller": ("GitRepository", "OCIRepository", "Bucket", "HelmChart"),
    "kustomize-controller": ("Kustomization",),
    "helm-controller": ("HelmRelease",),
    "notification-controller": (),
    "image-reflector-controller": ("ImageRepository", "ImagePolicy"),
    "image-automation-controller": ("ImageUpdateAutomation",),
    "source-watcher": ("ArtifactGenerator", "ExternalArtifact"),
}
FLUX_TRACEABLE_KINDS = tuple(kind for kinds in FLUX_TRACEABLE_KINDS_BY_CONTROLLER.values() for kind in kinds)
FLUX_UNTRACED_KINDS = ("HelmRepository",)
FLUX_EVENT_SEVERITIES = ("info", "error")

NOTIFICATION_API_VERSION = "notification.toolkit.fluxcd.io/v1beta3"
OTEL_PROVIDER_TYPE = "otel"
# The Provider reads these keys of its secretRef; only `headers` yields an Authorization header.
PROVIDER_SECRET_HEADERS_KEY = "headers"
OTLP_TRACES_PATH = "/v1/traces"
# The paths the otlp_http exporter appends to its endpoint, one per signal.
OTLP_SIGNAL_PATHS = (OTLP_TRACES_PATH, "/v1/metrics", "/v1/logs")

# Flux controllers log JSON with zap's ISO8601 encoder; these fields are kept as attributes.
FLUX_LOG_TIME_LAYOUT = "2006-01-02T15:04:05.000Z0700"
FLUX_LOG_SEARCHABLE_FIELDS = ("controllerKind", "name", "namespace", "reconcileID", "revision", "msg")
# zap prints logr's V(2) trace level as "Level(-2)".
FLUX_LOG_SEVERITY_MAPPING = {
    "trace": ["trace", "Level(-2)"],
    "debug": ["debug", "Level(-1)"],
    "info": "info",
    "warn": "warn",
    "error": ["error", "dpanic", "panic", "fatal"],
}
KUBELET_POD_LOG_DIR = "/var/log/pods"
# JSON fields of a Flux log line: the reconciled object (controller-runtime) and the source
# revision the controller works on, when the line concerns one.
FLUX_LOG_KIND_FIELD = "controllerKind"
FLUX_LOG_NAME_FIELD = "name"
FLUX_LOG_NAMESPACE_FIELD = "namespace"
FLUX_LOG_REVISION_FIELD = "revision"
# Kinds whose controller writes `revision` on log lines at info, the level Flux runs at: only
# kustomize-controller, on "Reconciliation finished"/"failed" and "server-side apply completed"
# (kustomize-controller@v1.9.4: internal/controller/kustomization_controller.go). source-controller
# writes it only at debug, image-automation-controller only at trace, helm-controller and the
# Bucket, HelmChart, OCIRepository, ImageRepository and ImagePolicy reconcilers never
# (../shared/FACTS.md, Logs). Lines of other kinds cannot name the revision their trace hashes.
FLUX_KINDS_LOGGING_REVISION = ("Kustomization",)
# notification-controller's otel provider: the trace ID of an event is the first
# FLUX_TRACE_ID_BYTES of SHA-256("<Alert UID>:<revision>"), so one revision is one trace. The
# revision is "<app-version>@<oci-digest>" when the event has both (HelmReleases of OCI charts),
# else its `revision` (notification-controller@v1.9.3: internal/notifier/otel.go getRevision).
FLUX_TRACE_ID_SEPARATOR = ":"
FLUX_TRACE_ID_BYTES = 16
FLUX_EVENT_APP_VERSION_KEY = "app-version"
FLUX_EVENT_OCI_DIGEST_KEY = "oci-digest"
FLUX_EVENT_REVISION_KEY = "revision"
# The event metadata keys the trace ID is made of. An Alert's eventMetadata ranks below the
# controller's own keys and above none: on an event without one it supplies it, so unrelated
# events share a trace, and on the rest it conflicts (the controller's wins and the Alert gets a
# MetadataAppendFailed Warning Event each time) (notification-controller@v1.9.3:
# internal/server/event_handlers.go combineEventMetadata).
FLUX_TRACE_ID_KEYS = (FLUX_EVENT_REVISION_KEY, FLUX_EVENT_APP_VERSION_KEY, FLUX_EVENT_OCI_DIGEST_KEY)
FLUX_OCI_REVISION_SEPARATOR = "@"


class FluxResource(NamedTuple):
    """A Flux API kind at the version Flux 2.9 serves and stores."""

    group: str
    version: str
    kind: str
    plural: str
    revision: tuple[str, ...] = ()
    """kube-state-metrics path to the revision the object last applied or produced; empty if none."""
    static: bool = False
    """No status at all (notification v1beta3): `flux get` reports such objects as Ready."""
    source: tuple[str, ...] = ()
    """kube-state-metrics path to the object's sourceRef (`kind`, `name`, optional `namespace`); empty if none."""
    release: tuple[str, ...] = ()
    """kube-state-metrics path to the number Helm gave the release the object runs; empty if none."""
    chart_source: tuple[str, ...] = ()
    """kube-state-metrics path to the sourceRef of a HelmRelease's `spec.chart`, from which helm-controller
    makes the HelmChart `<namespace>-<name>` in that source's namespace; empty if none."""


FLUX_ARTIFACT = ("status", "artifact")
FLUX_ARTIFACT_REVISION = (*FLUX_ARTIFACT, "revision")
# Within the artifact: when source-controller stored it (metav1.Time, so whole seconds).
FLUX_ARTIFACT_STORED_AT = "lastUpdateTime"
# Every Flux kind, grouped by the controller whose install ships its CRD (source-controller ships
# ExternalArtifact, which source-watcher produces). helm-controller v2 has no lastAppliedRevision:
# the newest `deployed` entry of status.history is the release Helm runs (a failed upgrade leaves
# the previous one deployed). HelmRepositories of type oci are static too but share the kind with
# reconciled ones, so theirs stays Unknown.
FLUX_RESOURCES_BY_CONTROLLER = {
    "source-controller": (
        FluxResource("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories", FLUX_ARTIFACT_REVISION),
        FluxResource("source.toolkit.fluxcd.io", "v1", "OCIRepository", "ocirepositories", FLUX_ARTIFACT_REVISION),
        FluxResource("source.toolkit.fluxcd.io", "v1", "Bucket", "buckets", FLUX_ARTIFACT_REVISION),
        FluxResource("source.toolkit.fluxcd.io", "v1", "HelmRepository", "helmrepositories", FLUX_ARTIFACT_REVISION),
        FluxResource("source.toolkit.fluxcd.io", "v1", "HelmChart", "helmcharts", FLUX_ARTIFACT_REVISION),
        FluxResource("source.toolkit.fluxcd.io", "v1", "ExternalArtifact", "externalartifacts", FLUX_ARTIFACT_REVISION),
    ),
    "kustomize-controller": (
        FluxResource("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations",
                     ("status", "lastAppliedRevision"), source=("spec", "sourceRef")),
    ),
    "helm-controller": (
        FluxResource(
            "helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases",
            ("status", "history", "[status=deployed]", "chartVersion"),
            release=("status", "history", "[status=deployed]", "version"),
            chart_source=("spec", "chart", "spec", "sourceRef"),
        ),
    ),
    "notification-controller": (
        FluxResource("notification.toolkit.fluxcd.io", "v1beta3", "Alert", "alerts", static=True),
        FluxResource("notification.toolkit.fluxcd.io", "v1beta3", "Provider", "providers", static=True),
        FluxResource("notification.toolkit.fluxcd.io", "v1", "Receiver", "receivers"),
    ),
    "image-reflector-controller": (
        FluxResource("image.toolkit.fluxcd.io", "v1", "ImageRepository", "imagerepositories"),
        FluxResource("image.toolkit.fluxcd.io", "v1", "ImagePolicy", "imagepolicies", ("status", "latestRef", "tag")),
    ),
    "image-automation-controller": (
        FluxResource(
            "image.toolkit.fluxcd.io", "v1", "ImageUpdateAutomation", "imageupdateautomations",
            ("status", "lastPushCommit"),
        ),
    ),
    "source-watcher": (
        FluxResource("source.extensions.fluxcd.io", "v1beta1", "ArtifactGenerator", "artifactgenerators"),
    ),
}
# The kinds a Kustomization's sourceRef names, whose artifact revision it applies.
FLUX_SOURCE_KINDS = ("GitRepository", "OCIRepository", "Bucket", "ExternalArtifact")
FLUX_READY_CONDITION = "Ready"
# Metric families of Flux object health (issue 4); alert rules and dashboards query these names.
FLUX_RESOURCE_INFO_METRIC = "gotk_resource_info"
# gotk_resource_info selector of active objects whose Ready condition is not True. Objects without
# a Ready condition have no `reason`: Flux never reconciles OCI HelmRepositories, so they would read
# as not Ready forever.
FLUX_NOT_READY_SELECTOR = 'ready!="True",suspended!="true",reason!=""'
FLUX_READY_TRANSITION_METRIC = "gotk_resource_ready_transition_timestamp_seconds"
# When a source stored the artifact it serves, with its `revision`: where a lead time starts.
FLUX_ARTIFACT_TIME_METRIC = "gotk_resource_artifact_timestamp_seconds"
# The kinds whose artifacts Kustomizations and HelmReleases apply: the HelmChart helm-controller
# makes from a HelmRelease's `spec.chart` has the chart version as its artifact revision.
FLUX_ARTIFACT_TIME_KINDS = (*FLUX_SOURCE_KINDS, "HelmChart")
# Every family kube-state-metrics serves for the Flux objects (builders/kube_state_metrics.py).
FLUX_HEALTH_METRICS = (FLUX_RESOURCE_INFO_METRIC, FLUX_READY_TRANSITION_METRIC, FLUX_ARTIFACT_TIME_METRIC)
# gotk_resource_info label of a HelmRelease: the Helm release number it runs, new at every upgrade
# (a values change keeps the chart version, so `revision` alone misses it).
FLUX_RELEASE_LABEL = "helm_revision"
# The kinds that apply changes to a cluster, whose deliveries are measured (builders/delivery.py).
FLUX_DELIVERY_KINDS = ("Kustomization", "HelmRelease")

# --- kube-state-metrics (Helm chart and image) --------------------------------------------------
KSM_CHART = "kube-state-metrics"
KSM_CHART_REPO = "https://prometheus-community.github.io/helm-charts"
KSM_CHART_VERSION = "8.4.0"
# The chart's own image (values.yaml image.registry/repository).
KSM_IMAGE_REGISTRY = "registry.k8s.io"
KSM_IMAGE_REPOSITORY = "kube-state-metrics/kube-state-metrics"
# The image chart 8.4.0 ships: Chart.yaml appVersion 2.20.0, and values.yaml image.tag "" becomes
# "v" + appVersion (templates/_helpers.tpl "kube-state-metrics.image"). The values still name it, as
# the default of objectHealth.imageTag, so the pin is explicit; e2e/harness/programs.py builds this version.
# Not below v2.19.0: v2.17 and v2.18 lose series when two kinds in a row share a metric family
# header (Provider's gotk_resource_info, Bucket's transition gauge), fixed in v2.19.0
# (kubernetes/kube-state-metrics 79cc990c), shown by the real tier (e2e/test_object_health.py).
KSM_IMAGE_TAG = "v2.20.0"
# The chart's default pod user (nobody).
KSM_UID = 65534
KSM_METRICS_PORT = 8080
KSM_METRICS_PATH = "/metrics"
# Custom-resource-state resolves kinds through the CRDs it watches, so it needs list/watch on them.
# The values grant it in rbac.extraRules. Chart 8.4.0 adds the same rule itself when
# customResourceState is enabled (templates/role.yaml) unless rbac.customResourceState.
# createClusterRoleRules is false; the values set it false, so the ClusterRole holds exactly
# rbac_rules (builders/kube_state_metrics.py), once, with this chart or an older one.
KSM_CRD_DISCOVERY_RULE = {
    "apiGroups": ["apiextensions.k8s.io"],
    "resources": ["customresourcedefinitions"],
    "verbs": ["list", "watch"],
}

# --- Kubernetes events about Flux objects -----------------------------------------------------------
# An event is about a Flux object when its involved object belongs to one of Flux's API groups.
FLUX_API_GROUPS = tuple(sorted({r.group for resources in FLUX_RESOURCES_BY_CONTROLLER.values() for r in resources}))
# Flux's controllers record events with the core/v1 recorder and put the source revision in the
# annotation `<API group of the object>/revision` (fluxcd/pkg apis/event MetaRevisionKey).
FLUX_EVENT_REVISION_ANNOTATION = "revision"
# Log attribute of an event's reason (ReconciliationSucceeded, ...), next to the FLUX_LOG_* fields.
FLUX_EVENT_REASON_ATTRIBUTE = "reason"
# The gateway reads events through events.k8s.io/v1 (regarding, note, deprecatedLastTimestamp).
EVENTS_API_GROUP = "events.k8s.io"
EVENTS_RESOURCE = "events"
# The k8s_objects receiver lists (to start a watch, and again after 410 Gone) and watches: no get.
EVENTS_WATCH_VERBS = ("list", "watch")
RBAC_API_GROUP = "rbac.authorization.k8s.io"
# Event type -> log severity text and OTTL severity number enum.
EVENT_TYPE_SEVERITIES = {"Normal": ("INFO", "SEVERITY_NUMBER_INFO"), "Warning": ("WARN", "SEVERITY_NUMBER_WARN")}
# metav1.Time and metav1.MicroTime as the API server writes them (UTC), in OTTL Time() directives.
KUBERNETES_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
KUBERNETES_MICRO_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def flux_event_annotation(group: str, key: str = FLUX_EVENT_REVISION_ANNOTATION) -> str:
    """Annotation of a Flux event's metadata `key`: Flux prefixes it with the object's API group."""
    return f"{group}/{key}"


# --- OpenTelemetry Collector (Helm chart and image) --------------------------------------------
COLLECTOR_CHART = "opentelemetry-collector"
COLLECTOR_CHART_REPO = "https://open-telemetry.github.io/opentelemetry-helm-charts"
COLLECTOR_CHART_VERSION = "0.170.0"
COLLECTOR_IMAGE_REPOSITORY = "ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-k8s"
COLLECTOR_IMAGE_TAG = "0.158.0"
COLLECTOR_COMMAND = "otelcol-k8s"
COLLECTOR_UID = 10001
COLLECTOR_HEALTH_PORT = 13133
OTLP_GRPC_PORT = 4317
# Where each collector serves its own metrics (the collector's and the chart's default port).
COLLECTOR_TELEMETRY_PORT = 8888
OTLP_HTTP_PORT = 4318
AUTHORIZATION_HEADER = "Authorization"
# Header names that carry credentials by convention (Authorization, X-API-Key, DD-API-KEY,
# X-SF-Token, Lightstep-Access-Token, Uptrace-DSN, ...). Plain `exporter.headers` refuses them:
# a value there would sit unencrypted in the Pulumi state and in the collector's config.
CREDENTIAL_HEADER_MARKERS = (
    "auth", "token", "key", "secret", "passw", "cookie", "credential", "session", "signature", "dsn"
)
# Credential headers whose names carry no marker: Honeycomb's API key.
CREDENTIAL_HEADER_NAMES = ("x-honeycomb-team",)


def is_credential_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in CREDENTIAL_HEADER_NAMES or any(marker in lowered for marker in CREDENTIAL_HEADER_MARKERS)
# Ports the chart declares by default; each is switched off unless a pipeline needs it, because
# in daemonset mode every declared port also becomes a hostPort.
COLLECTOR_CHART_DEFAULT_PORTS = (
    "otlp",
    "otlp-http",
    "jaeger-compact",
    "jaeger-thrift",
    "jaeger-grpc",
    "zipkin",
    "metrics",
)

# Component type names valid in the pinned otelcol-k8s 0.158.0 distribution (new-style names:
# otlp_grpc/otlp_http since 0.144, file_log since 0.149).
class Component:
    OTLP_RECEIVER = "otlp"
    PROMETHEUS_RECEIVER = "prometheus"
    FILELOG_RECEIVER = "file_log"
    MEMORY_LIMITER = "memory_limiter"
    BATCH = "batch"
    RESOURCE = "resource"
    OTLP_GRPC_EXPORTER = "otlp_grpc"
    OTLP_HTTP_EXPORTER = "otlp_http"
    DEBUG_EXPORTER = "debug"
    HEALTH_CHECK = "health_check"
    TRANSFORM = "transform"
    FILTER = "filter"
    # Called `k8sobjects` before the collector's snake_case renames; that name is a deprecated alias.
    K8S_OBJECTS_RECEIVER = "k8s_objects"
    FILE_STORAGE = "file_storage"
    BEARER_TOKEN_AUTH = "bearertokenauth"


# Components of the pinned otelcol-k8s distribution this package may use, by section (from the
# distribution's manifest, under the type names 0.158.0 registers).
PINNED_DISTRIBUTION_COMPONENTS = {
    "receivers": {"otlp", "prometheus", "file_log", "k8s_objects"},
    "processors": {"memory_limiter", "batch", "resource", "attributes", "filter", "transform"},
    "exporters": {"otlp_grpc", "otlp_http", "debug"},
    "extensions": {"health_check", "file_storage", "bearertokenauth"},
}

# `batch` processor: flush at least every BATCH_TIMEOUT_SECONDS, earlier at BATCH_SEND_SIZE items.
BATCH_TIMEOUT_SECONDS = 2
BATCH_SEND_SIZE = 8192
BATCH_MAX_SIZE = 16384
# Exporter queues count requests (the default `sizer`, which the persistent queue has always
# supported); a batch interval yields at most this many requests per signal.
QUEUE_REQUESTS_PER_BATCH_INTERVAL = 2

# --- Delivery guarantees --------------------------------------------------------------------------
# Issue 3: a backend outage of at least 15 minutes at the expected load (`expectedLoad`) loses nothing.
MIN_BRIDGED_OUTAGE_SECONDS = 15 * 60
# How fast the gateway's persistent queue grows on disk while the backend is down: 256 MiB in a
# 30-minute outage at 1,000 Flux objects and 100 log lines/s (bench/pipeline.py, 2026-11-30,
# docs/benchmarks.md). A queue volume must hold twice that for the configured outage.
QUEUE_DISK_BYTES_PER_SECOND = 256 * 2**20 // (30 * 60)

# --- Sizing, measured ----------------------------------------------------------------------------
# bench/pipeline.py, 2026-11-30 (docs/benchmarks.md): under Flux-shaped load the default-sized
# gateway's peak RSS stayed under base + per object + per log line/s MiB, an upper envelope of the
# nine measured points (100 to 5,000 Flux objects, 10 to 1,000 lines/s); the log agent's under its
# base + per line/s. A memory limit must leave MEMORY_HEADROOM times the peak.
GATEWAY_PEAK_MIB = {"base": 100, "per_flux_object": 0.042, "per_log_line_per_second": 0.025}
AGENT_PEAK_MIB = {"base": 98, "per_flux_object": 0.0, "per_log_line_per_second": 0.04}
MEMORY_HEADROOM = 2
DEFAULT_EXPECTED_FLUX_OBJECTS = 1000
DEFAULT_EXPECTED_LOG_LINES_PER_SECOND = 100

# --- Alert rules and dashboards ------------------------------------------------------------------
PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1"
# v1alpha2 is the CRD's storage version and v1alpha1 is deprecated
# (perses/perses-operator@v0.5.0:config/crd/bases/perses.dev_persesdashboards.yaml). Without a
# conversion webhook the API server prunes a v1alpha1 spec to nothing, so only v1alpha2 survives
# every cluster. The Dash0 operator watches v1alpha2 and unwraps `spec.config`
# (dash0hq/dash0-operator@0.153.0:internal/controller/perses_dashboards_controller.go:
# persesDashboardPreferredVersions, normalizeV1Alpha1V1Alpha2), since 0.142.0 (commit b4f5fac3,
# "add support for perses.dev/v1alpha2"; at 0.141.0 the controller reads only v1alpha1).
PERSES_DASHBOARD_API_VERSION = "perses.dev/v1alpha2"
# Families the controllers serve besides gotk_* (controller-runtime and client-go).
RECONCILE_DURATION_METRIC = "gotk_reconcile_duration_seconds"
RECONCILE_TOTAL_METRIC = "controller_runtime_reconcile_total"
RECONCILE_ERRORS_METRIC = "controller_runtime_reconcile_errors_total"
# A Go process's own families (client_golang's process collector), served by every controller.
PROCESS_CPU_METRIC = "process_cpu_seconds_total"
PROCESS_MEMORY_METRIC = "process_resident_memory_bytes"
PROCESS_START_METRIC = "process_start_time_seconds"
ACTIVE_WORKERS_METRIC = "controller_runtime_active_workers"
MAX_WORKERS_METRIC = "controller_runtime_max_concurrent_reconciles"
# The resource attribute k8s.cluster.name as Prometheus' OTLP receiver names it once promoted
# (otlp.promote_resource_attributes; dots become underscores).
PROMETHEUS_CLUSTER_LABEL = "k8s_cluster_name"
# The series a Prometheus scrape adds for each target: 1 when the scrape succeeded, else 0.
SCRAPE_UP_METRIC = "up"
WORKQUEUE_DEPTH_METRIC = "workqueue_depth"
# The collectors' own metrics as the collector 0.158.0 serves them on COLLECTOR_TELEMETRY_PORT
# (go.opentelemetry.io/collector/exporter/exporterhelper@v0.158.0: metadata.yaml; receiverhelper
# likewise): `exporter` and `receiver` name the component, queue series also carry `data_type`.
# Send failures count items dropped after their last retry (the exporter counts them outside its
# retry loop: exporterhelper@v0.158.0 internal/base_exporter.go).
COLLECTOR_METRIC_PREFIX = "otelcol_"
EXPORTER_SEND_FAILED_METRICS = {
    "logs": "otelcol_exporter_send_failed_log_records_total",
    "metrics": "otelcol_exporter_send_failed_metric_points_total",
    "traces": "otelcol_exporter_send_failed_spans_total",
}
EXPORTER_SENT_METRICS = {
    "logs": "otelcol_exporter_sent_log_records_total",
    "metrics": "otelcol_exporter_sent_metric_points_total",
    "traces": "otelcol_exporter_sent_spans_total",
}
EXPORTER_QUEUE_SIZE_METRIC = "otelcol_exporter_queue_size"
EXPORTER_QUEUE_CAPACITY_METRIC = "otelcol_exporter_queue_capacity"
RECEIVER_ACCEPTED_LOG_RECORDS_METRIC = "otelcol_receiver_accepted_log_records_total"
RECEIVER_REFUSED_LOG_RECORDS_METRIC = "otelcol_receiver_refused_log_records_total"
# What each collector's own scrape keeps: what the pipeline alerts and dashboards read.
PIPELINE_METRICS = (
    *EXPORTER_SEND_FAILED_METRICS.values(),
    *EXPORTER_SENT_METRICS.values(),
    EXPORTER_QUEUE_SIZE_METRIC,
    EXPORTER_QUEUE_CAPACITY_METRIC,
    RECEIVER_ACCEPTED_LOG_RECORDS_METRIC,
    RECEIVER_REFUSED_LOG_RECORDS_METRIC,
)
# controller-runtime >= 0.23 turns the priority queue on: workqueue_depth gains this label, which
# workqueue_longest_running_processor_seconds lacks (controller-runtime@v0.24.1:
# pkg/internal/metrics/workqueue.go). A queue serves a depth series per priority it has held items of.
WORKQUEUE_PRIORITY_LABEL = "priority"
WORKQUEUE_LONGEST_RUNNING_METRIC = "workqueue_longest_running_processor_seconds"
WORKQUEUE_QUEUE_DURATION_METRIC = "workqueue_queue_duration_seconds"
REST_CLIENT_REQUESTS_METRIC = "rest_client_requests_total"
# A classic histogram is scraped as these series. The collector's Prometheus receiver drops a
# histogram whose _count it did not get and exports a sum of 0 without _sum, so filters keep all.
HISTOGRAM_SERIES_SUFFIXES = ("_bucket", "_count", "_sum")
# controller-runtime names each reconciler after the lowercased kind it reconciles: the
# `controller` label of controller_runtime_* and the `name` label of workqueue_* metrics.
FLUX_RECONCILERS_BY_CONTROLLER = {
    "source-controller": ("bucket", "gitrepository", "helmchart", "helmrepository", "ocirepository"),
    "kustomize-controller": ("kustomization",),
    "helm-controller": ("helmrelease",),
    # notification-controller@v1.9.3: main.go sets up the Provider, Alert and Receiver reconcilers.
    "notification-controller": ("alert", "provider", "receiver"),
    "image-reflector-controller": ("imagepolicy", "imagerepository"),
    "image-automation-controller": ("imageupdateautomation",),
    "source-watcher": ("artifactgenerator",),
}


def flux_reconcilers(controllers: list[str]) -> list[str]:
    return sorted(name for controller in controllers for name in FLUX_RECONCILERS_BY_CONTROLLER[controller])


# Kinds with a Ready condition; the static notification kinds have no status to turn not Ready.
FLUX_READY_KINDS = tuple(
    resource.kind
    for resources in FLUX_RESOURCES_BY_CONTROLLER.values()
    for resource in resources
    if not resource.static
)

# --- Pod Security Admission ----------------------------------------------------------------------
POD_SECURITY_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
POD_SECURITY_RESTRICTED = "restricted"
# hostPath volumes are refused by `baseline`, so the log agent's namespace needs `privileged`.
POD_SECURITY_PRIVILEGED = "privileged"

# --- Dash0 ----------------------------------------------------------------------------------------
DASH0_REGIONS = ("eu-west-1", "eu-central-1", "us-west-2")
DASH0_DEFAULT_DATASET = "default"
DASH0_DATASET_HEADER = "Dash0-Dataset"
DASH0_MONITORING_API_VERSION = "operator.dash0.com/v1beta1"
DASH0_MONITORING_NAME = "dash0-monitoring-resource"
DASH0_OPERATOR_COLLECTOR_OTLP_HTTP = (
    "http://dash0-operator-opentelemetry-collector-service.dash0-system.svc.cluster.local:4318"
)
# The operator's instrumentation init container breaks flux-system's restricted policy.
DASH0_INSTRUMENT_MODE_NONE = "none"
PROMETHEUS_SCRAPE_ANNOTATIONS = ("prometheus.io/scrape", "prometheus.io/port", "prometheus.io/path")


def dash0_otlp_grpc_endpoint(region: str) -> str:
    return f"ingress.{region}.aws.dash0.com:{OTLP_GRPC_PORT}"
