"""Fixtures of the real tier: one control plane per session, with Flux's and the shared CRDs; and
for the modules that run the Pulumi engine, a control plane each with kube-controller-manager."""

from __future__ import annotations

from typing import Iterator

import pytest

from e2e.harness.charts import ChartRepository
from e2e.harness.controllers import flux_cluster
from e2e.harness.flux import NotificationController, install_crds, install_flux_namespace
from e2e.harness.flux import notification_controller as run_notification_controller
from e2e.harness.kube import ApiServer, control_plane


@pytest.fixture(scope="session")
def kube(tmp_path_factory) -> Iterator[ApiServer]:
    """etcd + kube-apiserver on loopback with every CRD the rendered objects need."""
    with control_plane(tmp_path_factory.mktemp("kube")) as server:
        install_crds(server)
        yield server


@pytest.fixture(scope="session")
def flux_namespace(kube: ApiServer) -> str:
    """Flux's namespace, kept for the whole session."""
    return install_flux_namespace(kube)


@pytest.fixture(scope="session")
def notification_controller(
    kube: ApiServer, flux_namespace: str, tmp_path_factory
) -> Iterator[NotificationController]:
    """The real notification-controller, watching the real API server."""
    with run_notification_controller(kube, tmp_path_factory.mktemp("notification-controller")) as controller:
        yield controller


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[ApiServer]:
    """A control plane of the test module's own, since kube-controller-manager acts on every
    object in it: Flux's CRDs and namespace, Flux's controllers as a stock install has them,
    rolled out (e2e/harness/controllers.py)."""
    with flux_cluster(tmp_path_factory.mktemp("cluster")) as server:
        yield server


@pytest.fixture(scope="module")
def charts(tmp_path_factory) -> Iterator[ChartRepository]:
    """The loopback chart repository of the real charts the package deploys (e2e/harness/charts.py)."""
    with ChartRepository(tmp_path_factory.mktemp("charts")) as repository:
        yield repository
