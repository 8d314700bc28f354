"""Fixtures of the real tier: one control plane per session, with Flux's and the shared CRDs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from components import constants as c
from e2e.flux import NotificationController
from e2e.flux import notification_controller as run_notification_controller
from e2e.kube import FLUX_INSTALL_LABELS, FLUX_MANAGER, ApiServer, control_plane
from e2e.programs import flux_crds
from tests.support import SCHEMAS

# CRDs of the objects the package creates beside Flux's: Dash0, Perses, Prometheus Operator.
SHARED_CRD_FILES = (
    "dash0-monitorings.crd.yaml",
    "dash0-operatorconfigurations.crd.yaml",
    "perses-dashboards.crd.yaml",
    "prometheus-rules.crd.yaml",
)


def _documents(paths: list[Path]) -> list[dict]:
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="session")
def kube(tmp_path_factory) -> ApiServer:
    """etcd + kube-apiserver on loopback with every CRD the rendered objects need."""
    missing = [name for name in SHARED_CRD_FILES if not (SCHEMAS / name).exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing in {SCHEMAS}; the real tier needs ../shared/schemas")
    with control_plane(tmp_path_factory.mktemp("kube")) as server:
        crds = _documents(flux_crds()) + _documents([SCHEMAS / name for name in SHARED_CRD_FILES])
        server.apply(crds)
        server.crds_established([crd["metadata"]["name"] for crd in crds])
        yield server


@pytest.fixture(scope="session")
def flux_namespace(kube: ApiServer) -> str:
    """Flux's namespace as `flux install` creates it (fluxcd/flux2 manifests/install/namespace.yaml:
    the install's labels; Pod Security warns at restricted, enforces nothing), applied by Flux's
    manager. Kept for the whole session."""
    kube.apply([{
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": c.FLUX_NAMESPACE, "labels": {
            **FLUX_INSTALL_LABELS,
            "pod-security.kubernetes.io/warn": c.POD_SECURITY_RESTRICTED,
            "pod-security.kubernetes.io/warn-version": "latest",
        }},
    }], field_manager=FLUX_MANAGER)
    return c.FLUX_NAMESPACE


@pytest.fixture(scope="session")
def notification_controller(kube: ApiServer, flux_namespace: str, tmp_path_factory) -> NotificationController:
    """The real notification-controller, watching the real API server."""
    with run_notification_controller(kube, tmp_path_factory.mktemp("notification-controller")) as controller:
        yield controller
