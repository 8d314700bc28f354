"""Upstream facts about Flux, the OpenTelemetry Collector and Dash0, kept in one place.

Every literal that mirrors upstream behaviour lives here, so a Flux or chart upgrade is a
one-file change. Sources: ../shared/FACTS.md (Flux 2.9, chart 0.170.0, collector 0.158.0,
dash0-operator 0.153.0).
"""

from __future__ import annotations

PROJECT = "fluxcd-otel"
PART_OF_LABELS = {"app.kubernetes.io/part-of": PROJECT, "app.kubernetes.io/managed-by": "pulumi"}

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
OTLP_HTTP_PORT = 4318
AUTHORIZATION_HEADER = "Authorization"
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
    FILE_STORAGE = "file_storage"


# Components of the pinned otelcol-k8s distribution this package may use, by section (from the
# distribution's manifest, under the type names 0.158.0 registers).
PINNED_DISTRIBUTION_COMPONENTS = {
    "receivers": {"otlp", "prometheus", "file_log"},
    "processors": {"memory_limiter", "batch", "resource", "attributes", "filter", "transform"},
    "exporters": {"otlp_grpc", "otlp_http", "debug"},
    "extensions": {"health_check", "file_storage"},
}

# `batch` processor: flush at least every BATCH_TIMEOUT_SECONDS, earlier at BATCH_SEND_SIZE items.
BATCH_TIMEOUT_SECONDS = 2
BATCH_SEND_SIZE = 8192
BATCH_MAX_SIZE = 16384
# Exporter queues count requests (the default `sizer`, which the persistent queue has always
# supported); a batch interval yields at most this many requests per signal.
QUEUE_REQUESTS_PER_BATCH_INTERVAL = 2

# --- Delivery guarantees --------------------------------------------------------------------------
# Issue 3: a backend outage of at least 15 minutes at the expected Flux volume loses nothing.
MIN_BRIDGED_OUTAGE_SECONDS = 15 * 60
# Expected Flux volume, per cluster, as serialized OTLP bytes per second, generous on purpose:
# metrics ~5,000 kept series per 30 s scrape at ~200 B each; logs ~20 lines/s at ~1 KiB; traces
# ~1 span/s at ~1 KiB. Used to check that a queue volume holds the configured outage.
EXPECTED_FLUX_BYTES_PER_SECOND = {"metrics": 5000 * 200 // 30, "logs": 20 * 1024, "traces": 1024}

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
