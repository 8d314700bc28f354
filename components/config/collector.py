"""Sections of the collectors this package deploys: the gateway and the log agent."""

from __future__ import annotations

import math
from typing import Any, Literal, Optional

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .. import constants as c
from .errors import InvalidKey
from .values import (
    ChartRepository,
    CpuQuantity,
    Duration,
    HostDirectory,
    ImageRepository,
    MemoryQuantity,
    MetricPrefix,
    Model,
    NamespaceName,
    ObjectName,
    ReleaseName,
    Version,
    cpu_millicores,
    duration_seconds,
    memory_mib,
    queue_volume_mib,
)


class ImageSettings(Model):
    repository: ImageRepository = c.COLLECTOR_IMAGE_REPOSITORY
    """Collector image repository (an otelcol-k8s build)."""
    tag: Version = c.COLLECTOR_IMAGE_TAG
    """Collector image tag, pinned."""


class ResourceSettings(Model):
    """CPU and memory requests and limits of a collector pod."""

    cpu_request: CpuQuantity
    """CPU request of each collector pod."""
    cpu_limit: CpuQuantity
    """CPU limit of each collector pod."""
    memory_request: MemoryQuantity
    """Memory request of each collector pod (Mi or Gi)."""
    memory_limit: MemoryQuantity
    """Memory limit (Mi or Gi); the memory_limiter and GOMEMLIMIT are derived from it."""

    @model_validator(mode="after")
    def _request_within_limit(self) -> "ResourceSettings":
        problems = []
        if cpu_millicores(self.cpu_request) > cpu_millicores(self.cpu_limit):
            problems.append(("cpuRequest", "must not exceed cpuLimit"))
        if memory_mib(self.memory_request) > memory_mib(self.memory_limit):
            problems.append(("memoryRequest", "must not exceed memoryLimit"))
        if problems:
            raise InvalidKey.each(problems)
        return self

    def completed(self, given: Any) -> Any:
        """`given` (a map of some of the keys) completed from these defaults; a default request
        above a limit that was given comes down to that limit, as Kubernetes sets a missing request
        to its limit. Anything but a map is left for validation to refuse."""
        if not isinstance(given, dict):
            return given
        merged = {**self.model_dump(by_alias=True), **given}
        for request, limit, amount in (("cpuRequest", "cpuLimit", cpu_millicores),
                                       ("memoryRequest", "memoryLimit", memory_mib)):
            try:
                if request not in given and limit in given and amount(merged[request]) > amount(given[limit]):
                    merged[request] = given[limit]
            except (TypeError, ValueError):
                pass  # a malformed limit is refused by its own check
        return merged

    def as_kubernetes(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


GATEWAY_RESOURCES = ResourceSettings(cpu_request="100m", cpu_limit="500m", memory_request="256Mi", memory_limit="512Mi")
AGENT_RESOURCES = ResourceSettings(cpu_request="25m", cpu_limit="200m", memory_request="64Mi", memory_limit="256Mi")

QueueStorage = Literal["persistentVolume", "emptyDir"]


class SendingQueueSettings(Model):
    storage: QueueStorage = "persistentVolume"
    """Where the gateway's export queue lives. `persistentVolume`: a PersistentVolumeClaim (the
    gateway runs as a StatefulSet); the queue survives pod deletion, rollouts and node drains.
    `emptyDir`: survives collector restarts in the same pod (crash, OOM kill) but is lost with the
    pod (rollout, eviction, drain)."""
    volume_size: MemoryQuantity = "2Gi"
    """Size of the queue volume (PVC request, or emptyDir size limit)."""
    storage_class_name: Optional[ObjectName] = None
    """StorageClass of the PVC; the cluster default when unset. persistentVolume only."""
    outage: Duration = "30m"
    """Backend outage bridged without loss (at least 15m): sizes the gateway's and the log agents'
    queues and how long a failed export is retried."""

    @field_validator("outage")
    @classmethod
    def _at_least_min_outage(cls, value: str) -> str:
        if duration_seconds(value) < c.MIN_BRIDGED_OUTAGE_SECONDS:
            raise ValueError(f"must be at least {c.MIN_BRIDGED_OUTAGE_SECONDS // 60}m")
        return value

    @model_validator(mode="after")
    def _volume_fits(self) -> "SendingQueueSettings":
        if self.storage_class_name is not None and self.storage != "persistentVolume":
            raise InvalidKey("storageClassName", "only allowed with storage persistentVolume")
        needed = queue_volume_mib(duration_seconds(self.outage))
        if memory_mib(self.volume_size) < needed:
            raise InvalidKey(
                "volumeSize",
                f"must be at least {needed}Mi to hold a {self.outage} outage (twice the queue"
                f" measured at {c.DEFAULT_EXPECTED_FLUX_OBJECTS:,} Flux objects and"
                f" {c.DEFAULT_EXPECTED_LOG_LINES_PER_SECOND} log lines/s; docs/benchmarks.md)",
            )
        return self


class ReceiverAuthSettings(Model):
    enabled: bool = True
    (
        "The gateway's OTLP receivers take data only with a token the package generates and hands, through "
        "Kubernetes Secrets, to the log agents and Flux's Provider (docs/least-privilege.md). Off: any pod that "
        "reaches the gateway can write to the backend."
    )
    generation: int = Field(default=1, ge=1)
    (
        "Which generation of the token the writers send. Raise it by one to rotate: the gateway keeps accepting the "
        "previous token and already accepts the next, so no writer is refused while pods roll."
    )


class GatewaySettings(Model):
    namespace: NamespaceName = "flux-otel"
    """Namespace of the gateway collector (Pod Security level `restricted`)."""
    release_name: ReleaseName = "flux-otel-gateway"
    """Helm release name; also the collector's Service name."""
    chart_version: Version = c.COLLECTOR_CHART_VERSION
    """Version of the `opentelemetry-collector` chart, pinned."""
    chart_repository: ChartRepository = c.COLLECTOR_CHART_REPO
    (
        "Helm repository of the `opentelemetry-collector` chart (gateway and log agent); a mirror where the public one "
        "is out of reach."
    )
    image: ImageSettings = ImageSettings()
    """Collector image."""
    replicas: int = Field(default=1, ge=1, le=10)
    (
        "Gateway replicas; 1 while metrics or events are on, since each replica scrapes every target and watches every "
        "event."
    )
    resources: ResourceSettings = GATEWAY_RESOURCES
    """Requests and limits of the gateway pod; keys not given keep their defaults (a default
    request above a limit given comes down to it)."""
    scrape_interval: Duration = "30s"
    """How often the gateway scrapes the Flux controllers and object health, and each collector its own metrics."""
    metric_prefixes: list[MetricPrefix] = Field(default_factory=lambda: ["gotk_"], min_length=1)
    (
        "Metrics whose names start with one of these prefixes are kept, besides those the shipped alert rules and "
        "dashboards query."
    )
    sending_queue: SendingQueueSettings = SendingQueueSettings()
    """Persistent export queue that bridges backend outages."""
    receiver_auth: ReceiverAuthSettings = ReceiverAuthSettings()
    """Who may write to the gateway's OTLP receivers."""
    pipeline_metrics: bool = True
    """Ship the gateway's and log agents' own metrics (items received, sent and dropped; export queue fill) beside
    Flux's, for the pipeline alerts and the control-plane dashboard's pipeline row; needs signals.metrics."""

    @field_validator("resources", mode="before")
    @classmethod
    def _resources_completed(cls, value: Any) -> Any:
        return GATEWAY_RESOURCES.completed(value)


class NetworkPolicySettings(Model):
    enabled: bool = True
    (
        "NetworkPolicies that admit to the gateway only OTLP from Flux's and the log agents' namespaces, and to the "
        "log agent and kube-state-metrics nothing but the metrics they serve (docs/least-privilege.md). Turn them "
        "off where the cluster's own policies govern these namespaces."
    )


class ExpectedLoadSettings(Model):
    """The Flux load the collectors' memory limits must hold with twice the memory they were measured to need."""

    flux_objects: int = Field(default=c.DEFAULT_EXPECTED_FLUX_OBJECTS, ge=1)
    """Flux objects in the cluster (sources, Kustomizations, HelmReleases, ...)."""
    log_lines_per_second: int = Field(default=c.DEFAULT_EXPECTED_LOG_LINES_PER_SECOND, ge=0)
    """Log lines per second of all Flux controllers together (what one node's log agent may have to read)."""

    def peak_mib(self, measured: dict[str, float]) -> float:
        """The peak memory a collector was measured to stay under at this load (constants *_PEAK_MIB)."""
        return (measured["base"] + measured["per_flux_object"] * self.flux_objects
                + measured["per_log_line_per_second"] * self.log_lines_per_second)


def sized_for_load(section: Any, default: ResourceSettings, load: "ExpectedLoadSettings",
                   measured: dict[str, float]) -> Any:
    """A role's raw section with, where no memory limit is given, the one the load needs (twice the
    measured peak, docs/benchmarks.md) when that is above the default. A limit given stays as given
    and is checked against the load; anything malformed is left for validation to refuse."""
    if section is None:
        section = {}
    if not isinstance(section, dict):
        return section
    resources = section.get("resources", {})
    if not isinstance(resources, dict) or {"memoryLimit", "memory_limit"} & set(resources):
        return section
    needed = math.ceil(load.peak_mib(measured) * c.MEMORY_HEADROOM)
    if needed <= memory_mib(default.memory_limit):
        return section
    return {**section, "resources": {**resources, "memoryLimit": f"{needed}Mi"}}


def memory_limit_problems(key: str, role: str, resources: ResourceSettings, load: ExpectedLoadSettings,
                          measured: dict[str, float]) -> list[tuple[str, str]]:
    peak = load.peak_mib(measured)
    needed = math.ceil(peak * c.MEMORY_HEADROOM)
    if memory_mib(resources.memory_limit) >= needed:
        return []
    return [(key, f"{resources.memory_limit} is too small for expectedLoad ({load.flux_objects:,} Flux objects,"
                  f" {load.log_lines_per_second:,} log lines/s): the {role} was measured to need up to {peak:.0f} MiB"
                  f" at that load (docs/benchmarks.md), so set at least {needed}Mi, or lower expectedLoad")]


class LogAgentSettings(Model):
    namespace: NamespaceName = "flux-otel-logs"
    """Namespace of the log agent DaemonSet (Pod Security level `privileged`: it mounts hostPath)."""
    release_name: ReleaseName = "flux-otel-logs"
    """Helm release name of the log agent."""
    resources: ResourceSettings = AGENT_RESOURCES
    """Requests and limits of each agent pod; keys not given keep their defaults (a default
    request above a limit given comes down to it)."""
    checkpoint_dir: HostDirectory = "/var/lib/fluxcd-otel"
    """Host directory where read offsets are kept across agent restarts."""

    @field_validator("resources", mode="before")
    @classmethod
    def _resources_completed(cls, value: Any) -> Any:
        return AGENT_RESOURCES.completed(value)
