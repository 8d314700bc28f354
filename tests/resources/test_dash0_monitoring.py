"""Dash0FluxMonitoring under Pulumi mocks: Dash0Monitoring valid, Flux Deployments only patched."""

import pytest

from components import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from components.config import FluxSettings
from e2e.harness.render import by_kind
from tests.helpers import register, validate_custom_resource


def build(**kwargs):
    return register(lambda: Dash0FluxMonitoring("dash0", Dash0FluxMonitoringArgs(**kwargs)))


@pytest.mark.parametrize("metrics, logs", [(True, True), (True, False), (False, True)])
def test_monitoring_resource_matches_the_crd(metrics, logs):
    monitoring, = by_kind(build(metrics=metrics, logs=logs), "Dash0Monitoring")
    validate_custom_resource(monitoring)
    assert monitoring["metadata"]["name"] == "dash0-monitoring-resource"
    assert monitoring["metadata"]["namespace"] == "flux-system"
    spec = monitoring["spec"]
    assert spec["instrumentWorkloads"] == {"mode": "none"}
    assert spec["prometheusScraping"] == {"enabled": metrics}
    assert spec["logCollection"] == {"enabled": logs}


def test_scrape_annotations_are_patches_not_owned_deployments():
    resources = build(flux=FluxSettings(controllers=["source-controller", "helm-controller"]))
    assert not [r for r in resources if r.type == "kubernetes:apps/v1:Deployment"]
    patches = [r.inputs for r in resources if r.type == "kubernetes:apps/v1:DeploymentPatch"]
    assert [p["metadata"] for p in patches] == [
        {"name": "source-controller", "namespace": "flux-system"},
        {"name": "helm-controller", "namespace": "flux-system"},
    ]
    for patch in patches:
        assert patch["spec"] == {"template": {"metadata": {"annotations": {
            "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"}}}}


def test_no_patches_when_metrics_are_off():
    resources = build(metrics=False)
    assert not [r for r in resources if r.type == "kubernetes:apps/v1:DeploymentPatch"]
