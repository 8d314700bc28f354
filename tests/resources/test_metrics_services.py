"""FluxMetricsServices under Pulumi mocks."""

import pulumi

from components import FluxMetricsServices
from components.config import FluxSettings
from tests.helpers import register


def test_one_service_per_controller_on_the_metrics_port():
    flux = FluxSettings(namespace="flux", controllers=["source-controller", "source-watcher"])
    component = {}

    def build():
        component["c"] = FluxMetricsServices("m", flux)

    resources = register(build)
    services = [r.inputs for r in resources if r.type == "kubernetes:core/v1:Service"]
    assert [s["metadata"]["name"] for s in services] == ["source-controller-metrics", "source-watcher-metrics"]
    for service, controller in zip(services, flux.controllers):
        assert service["metadata"]["namespace"] == "flux"
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"] == {"app": controller}
        assert service["spec"]["ports"] == [
            {"name": "http-prom", "port": 8080, "targetPort": "http-prom", "protocol": "TCP"}
        ]
    assert component["c"].scrape_targets == [
        "source-controller-metrics.flux.svc:8080",
        "source-watcher-metrics.flux.svc:8080",
    ]


def test_services_are_children_of_the_component_and_use_its_provider():
    import pulumi_kubernetes as k8s

    def build():
        provider = k8s.Provider("cluster-a", context="a")
        FluxMetricsServices("m", FluxSettings(), opts=pulumi.ResourceOptions(provider=provider))

    resources = register(build)
    services = [r for r in resources if r.type == "kubernetes:core/v1:Service"]
    assert len(services) == 4
    assert all(r.provider and "cluster-a" in r.provider for r in services)
