"""The `objectHealth` section: kube-state-metrics reporting each Flux object's readiness."""

from __future__ import annotations

from .. import constants as c
from .collector import ResourceSettings
from .values import ChartRepository, CpuQuantity, MemoryQuantity, Model, NamespaceName, ReleaseName, Version


class ObjectHealthResourceSettings(ResourceSettings):
    cpu_request: CpuQuantity
    """CPU request of the kube-state-metrics pod."""
    cpu_limit: CpuQuantity
    """CPU limit of the kube-state-metrics pod."""
    memory_request: MemoryQuantity
    """Memory request of the kube-state-metrics pod (Mi or Gi)."""
    memory_limit: MemoryQuantity
    """Memory limit of the kube-state-metrics pod (Mi or Gi); it grows with the number of Flux objects."""


class ObjectHealthSettings(Model):
    enabled: bool = True
    """Deploy kube-state-metrics for per-object readiness (`gotk_resource_info`); needs signals.metrics."""
    release_name: ReleaseName = "flux-object-health"
    """Helm release name; also the kube-state-metrics Service name."""
    namespace: NamespaceName = "flux-otel-health"
    """dash0-operator mode: namespace created for kube-state-metrics (collector mode uses gateway.namespace)."""
    chart_version: Version = c.KSM_CHART_VERSION
    """Version of the `kube-state-metrics` chart (prometheus-community), pinned."""
    chart_repository: ChartRepository = c.KSM_CHART_REPO
    """Helm repository of the `kube-state-metrics` chart; a mirror where the public one is out of reach."""
    image_tag: Version = c.KSM_IMAGE_TAG
    """kube-state-metrics image tag (registry.k8s.io/kube-state-metrics/kube-state-metrics), pinned: the chart's own."""
    resources: ObjectHealthResourceSettings = ObjectHealthResourceSettings(
        cpu_request="10m", cpu_limit="200m", memory_request="64Mi", memory_limit="256Mi"
    )
    """Requests and limits of the kube-state-metrics pod (set all four keys when overriding)."""
