"""Flux object health as the real kube-state-metrics serves it (area 5 of the real tier).

The kube-state-metrics release the `prod` stack renders runs here as its chart runs it: the
chart's container arguments, the custom-resource-state configuration file the chart's ConfigMap
holds, and a ServiceAccount token bound to exactly the ClusterRole rules the values give (the chart
adds rules only for its built-in collectors, which the values turn off). It reads Flux objects of
every kind whose CRD the Go module proxy serves, in every state, from a real API server.

Its /metrics must serve exactly what docs/what-it-deploys.md promises for each object, written out
by hand below; nothing else under those names: for the objects written here, one per kind and
state, and for the objects of fixtures/flux_objects.yaml, as the API server returns them with the
status blocks the controllers write (several conditions each). The families and label names are
those the package publishes, and they reach the backend unchanged through either scrape path.

    .venv/bin/python -m pytest -q e2e/test_object_health.py
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest
import yaml

from components import constants as c
from components.builders.collector_configs import OBJECT_HEALTH_JOB
from components.builders.kube_state_metrics import HEALTH_METRICS, INFO_LABELS, TRANSITION_LABELS
from components.builders.source_queries import SOURCE_LABELS
from components.tooling.render import read_stack_file
from e2e.harness.collector import Collector, Sink, attributes, collector_configs, gateway_and_agent, localize
from e2e.harness.kube import ApiServer, wait_until
from e2e.harness.kube_state_metrics import (
    HEALTH_FAMILIES,
    INFO,
    SETTLE_SECONDS,
    SINCE,
    STORED,
    TEXT_ACCEPT,
    KubeStateMetrics,
    health_release,
    rbac_objects,
    series_key,
    start_kube_state_metrics,
)
from e2e.harness.render import ROOT, releases, run_stack

STACK = "prod"
FIXTURE = Path(__file__).parent / "fixtures" / "flux_objects.yaml"
FIELD_MANAGER = "fluxcd-otel-e2e-flux"

# --- the docs' contract, written out -------------------------------------------------------------
# "at the Flux 2.9 API versions"; kube-state-metrics adds customresource_group/_version/_kind.
GVK = {
    "GitRepository": ("source.toolkit.fluxcd.io", "v1"),
    "OCIRepository": ("source.toolkit.fluxcd.io", "v1"),
    "Bucket": ("source.toolkit.fluxcd.io", "v1"),
    "HelmRepository": ("source.toolkit.fluxcd.io", "v1"),
    "HelmChart": ("source.toolkit.fluxcd.io", "v1"),
    "ExternalArtifact": ("source.toolkit.fluxcd.io", "v1"),
    "Kustomization": ("kustomize.toolkit.fluxcd.io", "v1"),
    "HelmRelease": ("helm.toolkit.fluxcd.io", "v2"),
    "Alert": ("notification.toolkit.fluxcd.io", "v1beta3"),
    "Provider": ("notification.toolkit.fluxcd.io", "v1beta3"),
    "Receiver": ("notification.toolkit.fluxcd.io", "v1"),
    "ImageRepository": ("image.toolkit.fluxcd.io", "v1"),
    "ImagePolicy": ("image.toolkit.fluxcd.io", "v1"),
    "ImageUpdateAutomation": ("image.toolkit.fluxcd.io", "v1"),
}
# The controllers the prod stack observes (the default ones and the two image controllers, not
# source-watcher), and so the kinds kube-state-metrics serves there.
OBSERVED_CONTROLLERS = read_stack_file(ROOT, STACK).plain_settings()["flux"]["controllers"]
UNOBSERVED_KINDS = {r.kind for controller, kinds in c.FLUX_RESOURCES_BY_CONTROLLER.items()
                    if controller not in OBSERVED_CONTROLLERS for r in kinds}


@dataclass(frozen=True)
class Expected:
    """What docs/what-it-deploys.md says kube-state-metrics serves for one object."""

    ready: str
    suspended: str
    reason: Optional[str] = None
    revision: Optional[str] = None
    since: Optional[int] = None
    """Ready's lastTransitionTime in Unix seconds; no series without a Ready condition."""
    source: tuple[tuple[str, str], ...] = ()
    """A Kustomization's sourceRef as labels (`source_kind`, `source_name`, `source_namespace`)."""
    release: Optional[str] = None
    """A HelmRelease's deployed Helm release number (`helm_revision`)."""
    stored: Optional[int] = None
    """When a source a Kustomization can follow stored its artifact, in Unix seconds; no series without one."""


def expected_series(kind: str, namespace: str, name: str, e: Expected) -> dict[tuple, float]:
    group, version = GVK[kind]
    identity = {"name": name, "exported_namespace": namespace, "kind": kind, "customresource_group": group,
                "customresource_version": version, "customresource_kind": kind}
    info = {**identity, "ready": e.ready, "suspended": e.suspended}
    info.update({label: value for label, value in (("reason", e.reason), ("revision", e.revision),
                                                   (c.FLUX_RELEASE_LABEL, e.release))
                 if value is not None})
    info.update(e.source)
    series = {series_key(INFO, info): 1.0}
    if e.since is not None:
        series[series_key(SINCE, identity)] = float(e.since)
    if e.stored is not None:
        series[series_key(STORED, {**identity, "revision": e.revision or ""})] = float(e.stored)
    return series




# --- Flux objects in every state ------------------------------------------------------------------------
T_A, T_B, T_C, T_D, T_E = ("2026-05-04T08:15:00Z", "2026-05-04T09:30:12Z", "2026-05-04T12:00:00+02:00",
                           "2026-05-02T12:00:00Z", "2026-05-04T07:45:30Z")
# The same instants in Unix seconds (T_C carries an offset: 10:00:00 UTC).
U_A, U_B, U_C, U_D, U_E = 1777882500, 1777887012, 1777888800, 1777723200, 1777880730
GIT_MAIN = "main@sha1:6e1f3b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
GIT_OLD = "6.7.0@sha1:2c6b8d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
GIT_NEW = "6.7.1@sha1:9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e"
OCI_LATEST = "latest@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b"
INDEX_DIGEST = "sha256:5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
DIGEST = "sha256:" + "ab" * 32
NAMESPACES = ("gitops", "team-a", "team-b")


def ready(status: str, reason: str, at: str) -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": reason, "lastTransitionTime": at,
            "message": f"{reason} (set by the e2e test)", "observedGeneration": 1}


def artifact(revision: str, path: str) -> dict[str, Any]:
    return {"revision": revision, "digest": DIGEST, "lastUpdateTime": T_A, "path": path, "size": 1024,
            "url": f"http://source-controller.flux-system.svc.cluster.local./{path}"}


def snapshot(name: str, namespace: str, chart: str, version: str, status: str, number: int) -> dict[str, Any]:
    return {"chartName": chart, "chartVersion": version, "configDigest": DIGEST, "digest": DIGEST,
            "firstDeployed": T_D, "lastDeployed": T_B, "name": name, "namespace": namespace, "status": status,
            "version": number}


def flux(kind: str, namespace: str, name: str, spec: dict[str, Any],
         status: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    group, version = GVK[kind]
    obj = {"apiVersion": f"{group}/{version}", "kind": kind, "metadata": {"name": name, "namespace": namespace},
           "spec": spec}
    if status is not None:
        obj["status"] = status
    return obj


GIT_SPEC = {"interval": "1m", "url": "https://github.com/example/fleet", "ref": {"branch": "main"}}
KS_SPEC: dict[str, Any] = {
    "interval": "10m", "prune": True, "path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "fleet"}
}
KS_SOURCE = (("source_kind", "GitRepository"), ("source_name", "fleet"))
# A tenant's Kustomization applying a source of the platform team's namespace.
KS_SHARED_SOURCE = {**KS_SPEC, "sourceRef": {**KS_SPEC["sourceRef"], "namespace": "gitops"}}
HR_SPEC = {"interval": "10m", "chart": {"spec": {"chart": "podinfo", "version": "6.7.x",
                                                 "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}}
# A HelmRelease's chart source, as labels (for the delivery figures' lead time).
HR_SOURCE = (("source_kind", "HelmRepository"), ("source_name", "podinfo"))

# (object, what docs/what-it-deploys.md says of it)
CASES: list[tuple[dict[str, Any], Expected]] = [
    # Sources: the artifact's revision.
    (flux("GitRepository", "gitops", "fleet", GIT_SPEC,
          {"artifact": artifact(GIT_MAIN, "gitrepository/gitops/fleet/6e1f.tar.gz"),
           "conditions": [ready("True", "Succeeded", T_A)], "observedGeneration": 1}),
     Expected("True", "false", "Succeeded", GIT_MAIN, U_A, stored=U_A)),
    # A failing fetch keeps the artifact it has.
    (flux("GitRepository", "team-a", "podinfo", GIT_SPEC,
          {"artifact": artifact(GIT_OLD, "gitrepository/team-a/podinfo/2c6b.tar.gz"),
           "conditions": [ready("False", "GitOperationFailed", T_B)]}),
     Expected("False", "false", "GitOperationFailed", GIT_OLD, U_B, stored=U_A)),
    # Never reconciled: no status at all.
    (flux("GitRepository", "team-b", "new-repo", GIT_SPEC), Expected("Unknown", "false")),
    (flux("OCIRepository", "gitops", "manifests",
          {"interval": "10m", "url": "oci://ghcr.io/example/manifests", "ref": {"tag": "latest"}, "suspend": True},
          {"artifact": artifact(OCI_LATEST, "ocirepository/gitops/manifests/9a8b.tar.gz"),
           "conditions": [ready("True", "Succeeded", T_E)]}),
     Expected("True", "true", "Succeeded", OCI_LATEST, U_E, stored=U_A)),
    # In progress, no artifact yet; the transition time carries a UTC offset.
    (flux("Bucket", "team-a", "assets",
          {"interval": "5m", "bucketName": "assets", "endpoint": "s3.eu-west-1.amazonaws.com", "provider": "aws"},
          {"conditions": [ready("Unknown", "Progressing", T_C)]}),
     Expected("Unknown", "false", "Progressing", None, U_C)),
    # Type oci: Flux never reconciles it.
    (flux("HelmRepository", "gitops", "bitnami",
          {"interval": "1h", "type": "oci", "url": "oci://registry-1.docker.io/bitnamicharts"}),
     Expected("Unknown", "false")),
    (flux("HelmRepository", "gitops", "podinfo",
          {"interval": "1h", "url": "https://stefanprodan.github.io/podinfo", "suspend": False},
          {"artifact": artifact(INDEX_DIGEST, "helmrepository/gitops/podinfo/index.yaml"),
           "conditions": [ready("True", "Succeeded", T_E)]}),
     Expected("True", "false", "Succeeded", INDEX_DIGEST, U_E)),
    (flux("HelmChart", "gitops", "team-a-podinfo",
          {"interval": "1h", "chart": "podinfo", "version": "6.7.x",
           "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}},
          {"artifact": artifact("6.7.1", "helmchart/gitops/team-a-podinfo/podinfo-6.7.1.tgz"),
           "conditions": [ready("True", "ChartPullSucceeded", T_E)]}),
     Expected("True", "false", "ChartPullSucceeded", "6.7.1", U_E, stored=U_A)),
    (flux("ExternalArtifact", "team-a", "podinfo-manifests",
          {"sourceRef": {"apiVersion": "source.extensions.fluxcd.io/v1beta1", "kind": "ArtifactGenerator",
                         "name": "podinfo"}},
          {"artifact": artifact(OCI_LATEST, "externalartifact/team-a/podinfo-manifests/9a8b.tar.gz"),
           "conditions": [ready("True", "Succeeded", T_A)]}),
     Expected("True", "false", "Succeeded", OCI_LATEST, U_A, stored=U_A)),
    # Kustomizations: lastAppliedRevision, not the attempted one.
    (flux("Kustomization", "gitops", "infrastructure", KS_SPEC,
          {"conditions": [ready("True", "ReconciliationSucceeded", T_A)],
           "lastAppliedRevision": GIT_MAIN, "lastAttemptedRevision": GIT_MAIN}),
     Expected("True", "false", "ReconciliationSucceeded", GIT_MAIN, U_A, KS_SOURCE)),
    (flux("Kustomization", "team-a", "podinfo", KS_SPEC,
          {"conditions": [ready("False", "HealthCheckFailed", T_B)],
           "lastAppliedRevision": GIT_OLD, "lastAttemptedRevision": GIT_NEW}),
     Expected("False", "false", "HealthCheckFailed", GIT_OLD, U_B, KS_SOURCE)),
    (flux("Kustomization", "team-b", "apps", KS_SHARED_SOURCE),
     Expected("Unknown", "false", source=(*KS_SOURCE, ("source_namespace", "gitops")))),
    (flux("Kustomization", "gitops", "paused", {**KS_SPEC, "suspend": True},
          {"conditions": [ready("True", "ReconciliationSucceeded", T_D)], "lastAppliedRevision": GIT_MAIN}),
     Expected("True", "true", "ReconciliationSucceeded", GIT_MAIN, U_D, KS_SOURCE)),
    # HelmReleases: the chart version of the newest `deployed` history entry.
    (flux("HelmRelease", "team-a", "podinfo", HR_SPEC,
          {"conditions": [ready("True", "UpgradeSucceeded", T_E)],
           "history": [snapshot("podinfo", "team-a", "podinfo", "6.7.1", "deployed", 3),
                       snapshot("podinfo", "team-a", "podinfo", "6.7.0", "superseded", 2)]}),
     Expected("True", "false", "UpgradeSucceeded", "6.7.1", U_E, HR_SOURCE, release="3")),
    # A failed upgrade leaves the previous release deployed.
    (flux("HelmRelease", "team-a", "redis", HR_SPEC,
          {"conditions": [ready("False", "UpgradeFailed", T_B)],
           "history": [snapshot("redis", "team-a", "redis", "20.1.0", "failed", 5),
                       snapshot("redis", "team-a", "redis", "20.0.5", "deployed", 4)]}),
     Expected("False", "false", "UpgradeFailed", "20.0.5", U_B, HR_SOURCE, release="4")),
    # A failed first install: nothing deployed, so no revision.
    (flux("HelmRelease", "team-b", "broken", HR_SPEC,
          {"conditions": [ready("False", "InstallFailed", T_C)],
           "history": [snapshot("broken", "team-b", "podinfo", "1.0.0", "failed", 1)]}),
     Expected("False", "false", "InstallFailed", None, U_C, HR_SOURCE)),
    (flux("HelmRelease", "team-b", "cache", {**HR_SPEC, "suspend": True},
          {"conditions": [ready("Unknown", "Progressing", T_A)]}),
     Expected("Unknown", "true", "Progressing", None, U_A, HR_SOURCE)),
    (flux("HelmRelease", "team-b", "fresh", HR_SPEC), Expected("Unknown", "false", source=HR_SOURCE)),
    # Alerts and Providers (v1beta3) have no status: True, as `flux get` shows them.
    (flux("Alert", "gitops", "otel", {"eventSeverity": "info", "providerRef": {"name": "otel"},
                                      "eventSources": [{"kind": "Kustomization", "name": "*"}]}),
     Expected("True", "false")),
    (flux("Provider", "gitops", "otel", {"type": "otel", "address": "http://gateway.flux-otel.svc:4318/v1/traces",
                                         "suspend": True}),
     Expected("True", "true")),
    # Receivers have a Ready condition but no revision. Suspended, so that the session's
    # notification-controller, which watches every namespace, leaves their status as set here.
    (flux("Receiver", "gitops", "github",
          {"type": "github", "events": ["push"], "resources": [{"kind": "GitRepository", "name": "fleet"}],
           "secretRef": {"name": "webhook-token"}, "suspend": True},
          {"conditions": [ready("True", "Succeeded", T_D)], "webhookPath": "/hook/0b1c2d3e"}),
     Expected("True", "true", "Succeeded", None, U_D)),
    (flux("Receiver", "team-a", "gitlab",
          {"type": "gitlab", "resources": [{"kind": "GitRepository", "name": "podinfo"}],
           "secretRef": {"name": "webhook-token"}, "suspend": True}),
     Expected("Unknown", "true")),
    # Image kinds: ImagePolicy's revision is the latest tag, ImageUpdateAutomation's the last pushed commit.
    (flux("ImageRepository", "team-a", "podinfo", {"image": "ghcr.io/example/podinfo", "interval": "5m"},
          {"conditions": [ready("False", "AuthenticationFailed", T_B)],
           "canonicalImageName": "ghcr.io/example/podinfo"}),
     Expected("False", "false", "AuthenticationFailed", None, U_B)),
    (flux("ImagePolicy", "team-a", "podinfo", {"imageRepositoryRef": {"name": "podinfo"},
                                               "policy": {"semver": {"range": "6.7.x"}}},
          {"conditions": [ready("True", "Succeeded", T_E)],
           "latestRef": {"name": "ghcr.io/example/podinfo", "tag": "6.7.1"}}),
     Expected("True", "false", "Succeeded", "6.7.1", U_E)),
    (flux("ImageUpdateAutomation", "gitops", "fleet",
          {"interval": "30m", "sourceRef": {"kind": "GitRepository", "name": "fleet"}, "suspend": True,
           "git": {"commit": {"author": {"email": "bot@example.com", "name": "bot"}}},
           "update": {"path": "./apps", "strategy": "Setters"}},
          {"conditions": [ready("True", "Succeeded", T_A)],
           "lastPushCommit": "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8"}),
     Expected("True", "true", "Succeeded", "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8", U_A)),
]


# (kind, namespace, name) of every object of fixtures/flux_objects.yaml, read off its status by hand.
# ArtifactGenerator is source-watcher's, which the prod stack does not observe: the fixture has every
# kind, kube-state-metrics here reads those of the stack.
FIXTURE_EXPECTED = {
    ("GitRepository", "flux-system", "flux-system"): Expected("True", "false", "Succeeded", GIT_MAIN, 1777882500,
                                                               stored=1777882500),
    ("GitRepository", "apps", "podinfo"): Expected("False", "false", "GitOperationFailed", GIT_OLD, 1777887012,
                                                  stored=1777723200),
    ("OCIRepository", "flux-system", "manifests"): Expected("True", "true", "Succeeded", OCI_LATEST, 1777845705,
                                                           stored=1777845705),
    ("Bucket", "tenant-a", "assets"): Expected("Unknown", "false", "Progressing", None, 1777888800),
    ("HelmRepository", "flux-system", "bitnami"): Expected("Unknown", "false"),
    ("HelmRepository", "flux-system", "podinfo"): Expected("True", "false", "Succeeded", INDEX_DIGEST, 1777880730),
    ("HelmChart", "flux-system", "apps-podinfo"): Expected("True", "false", "ChartPullSucceeded", "6.7.1", 1777880730,
                                                          stored=1777880730),
    ("ExternalArtifact", "apps", "podinfo-manifests"): Expected(
        "True", "false", "Succeeded",
        "latest@sha256:8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e", 1777882500,
        stored=1777882500),
    ("Kustomization", "flux-system", "infrastructure"): Expected(
        "True", "false", "ReconciliationSucceeded", GIT_MAIN, 1777882500,
        (("source_kind", "GitRepository"), ("source_name", "flux-system"))),
    # Failing health checks: the revision is the one still applied, not the one attempted.
    ("Kustomization", "apps", "podinfo"): Expected(
        "False", "false", "HealthCheckFailed", GIT_OLD, 1777888799,
        (("source_kind", "GitRepository"), ("source_name", "podinfo"))),
    # A source in another namespace names it.
    ("Kustomization", "tenant-a", "tenant-apps"): Expected(
        "Unknown", "false",
        source=(("source_kind", "GitRepository"), ("source_name", "tenant-a"), ("source_namespace", "flux-system"))),
    ("HelmRelease", "apps", "podinfo"): Expected(
        "True", "false", "UpgradeSucceeded", "6.7.1", 1777880730,
        (("source_kind", "HelmRepository"), ("source_name", "podinfo"), ("source_namespace", "flux-system")),
        release="3"),
    # The failed upgrade to 20.1.0 left 20.0.5 deployed.
    ("HelmRelease", "apps", "redis"): Expected(
        "False", "false", "UpgradeFailed", "20.0.5", 1777887012,
        (("source_kind", "HelmRepository"), ("source_name", "bitnami"), ("source_namespace", "flux-system")),
        release="4"),
    # A chartRef has no chart source to label.
    ("HelmRelease", "tenant-a", "cache"): Expected("Unknown", "true", "Progressing", None, 1777888800),
    ("Alert", "flux-system", "otel-alert"): Expected("True", "false"),
    ("Provider", "flux-system", "otel"): Expected("True", "true"),
    # Suspended here (fixture_objects).
    ("Receiver", "flux-system", "github"): Expected("True", "true", "Succeeded", None, 1777723200),
    ("ImageRepository", "flux-system", "podinfo"): Expected("False", "false", "AuthenticationFailed", None, 1777887012),
    ("ImagePolicy", "flux-system", "podinfo"): Expected("True", "false", "Succeeded", "6.7.1", 1777845705),
    ("ImageUpdateAutomation", "flux-system", "flux-system"): Expected(
        "True", "false", "Succeeded", "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8", 1777882500),
    ("ArtifactGenerator", "apps", "podinfo"): Expected("True", "false", "Succeeded", None, 1777882500),
}


def key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]


# The fixture's namespaces (flux-system, apps, tenant-a) with this prefix, so that Flux objects other
# modules of the session create (in flux-system) cannot mix in.
FIXTURE_NAMESPACE_PREFIX = "fixture-"


def fixture_objects() -> list[dict[str, Any]]:
    """The fixture's objects of the kinds the stack observes, in namespaces of their own. Receivers
    are suspended (the only change), as notification-controller may be running in the session."""
    objects = [obj for obj in yaml.safe_load_all(FIXTURE.read_text()) if obj and obj["kind"] not in UNOBSERVED_KINDS]
    for obj in objects:
        obj["metadata"]["namespace"] = FIXTURE_NAMESPACE_PREFIX + obj["metadata"]["namespace"]
        if obj["kind"] == "Receiver":
            obj["spec"]["suspend"] = True
    return objects


# --- the rendered release, run as its chart runs it --------------------------------------------------




def gateway_health_job(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's scrape job of kube-state-metrics, as the stack renders it."""
    (job,) = [job for r in rendered.values()
              for job in r["values"].get("alternateConfig", {}).get("receivers", {}).get("prometheus", {})
              .get("config", {}).get("scrape_configs", []) if job["job_name"] == OBJECT_HEALTH_JOB]
    return job






def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def create(kube: ApiServer, objects: list[dict[str, Any]]) -> None:
    """Creates the objects with their statuses, as a Flux controller writes them."""
    kube.apply_with_status(objects, field_manager=FIELD_MANAGER)


# --- the Prometheus text kube-state-metrics serves ------------------------------------------------------










@pytest.fixture(scope="module")
def rendering():
    return run_stack(STACK, secrets={"exportToken": "auth_e2e"})


@pytest.fixture(scope="module")
def rendered(rendering) -> dict[str, dict[str, Any]]:
    """The prod stack's Helm releases (inputs, secrets masked)."""
    return releases(rendering.resources)


@pytest.fixture(scope="module")
def release(rendered) -> dict[str, Any]:
    return health_release(rendered)


@pytest.fixture(scope="module")
def ksm(kube: ApiServer, release, tmp_path_factory) -> Iterator[KubeStateMetrics]:
    """kube-state-metrics of the prod stack, started after every object of CASES and of the
    fixture is in place."""
    fixture_namespaces = sorted({obj["metadata"]["namespace"] for obj in fixture_objects()})
    kube.apply([namespace(name) for name in (*NAMESPACES, *fixture_namespaces, release["namespace"])],
               field_manager=FIELD_MANAGER)
    kube.apply(rbac_objects(release), field_manager=FIELD_MANAGER)
    create(kube, [obj for obj, _ in CASES] + fixture_objects())
    running = start_kube_state_metrics(kube, release, copy.deepcopy(release["values"]["customResourceState"]["config"]),
                                       tmp_path_factory.mktemp("kube-state-metrics"))
    try:
        yield running
    finally:
        running.process.stop()
        # The namespaces stay (without kube-controller-manager a deleted namespace never goes away).
        created = [obj for obj, _ in CASES] + fixture_objects() + rbac_objects(release)[1:]
        references = [{k: obj[k] for k in ("apiVersion", "kind", "metadata")} for obj in created]
        kube.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", stdin=yaml.safe_dump_all(references))


def exposition(series: dict[tuple, float]) -> list[str]:
    return sorted(f"{metric}{{{','.join(f'{k}={v!r}' for k, v in labels)}}} {value:g}"
                  for (metric, labels), value in series.items())


def difference(want: dict[tuple, float], got: dict[tuple, float]) -> dict[str, list[str]]:
    """Series expected but not served (or with another value), and served but not expected."""
    return {"missing": exposition({k: v for k, v in want.items() if got.get(k) != v}),
            "unexpected": exposition({k: v for k, v in got.items() if want.get(k) != v})}


def identity_of(series: tuple) -> tuple[str, str, str]:
    labels = dict(series[1])
    return labels["kind"], labels["exported_namespace"], labels["name"]


NO_DIFFERENCE: dict[str, list[str]] = {"missing": [], "unexpected": []}


def assert_same(want: dict[tuple, float], got: dict[tuple, float], what: str) -> None:
    diff = difference(want, got)
    assert diff == NO_DIFFERENCE, "\n".join(
        [f"{what}:"] + [f"  {kind}: {line}" for kind, lines in diff.items() for line in lines])


def in_namespaces(namespaces) -> Callable[[tuple], bool]:
    return lambda k: dict(k[1])["exported_namespace"] in namespaces


# --- the tests ---------------------------------------------------------------------------------------------
def test_the_cases_cover_every_kind_here_and_every_state():
    kinds = {obj["kind"] for obj, _ in CASES}
    configured = {r.kind for controller in OBSERVED_CONTROLLERS for r in c.FLUX_RESOURCES_BY_CONTROLLER[controller]}
    assert kinds == set(GVK) == configured
    assert {e.ready for _, e in CASES} == {"True", "False", "Unknown"}
    assert {e.suspended for _, e in CASES} == {"true", "false"}
    assert len({key(obj) for obj, _ in CASES}) == len(CASES)


def test_every_object_has_exactly_the_readme_series(ksm):
    want: dict[tuple, float] = {}
    for obj, expected in CASES:
        want.update(expected_series(*key(obj), expected))
    got = ksm.settle(want, in_namespaces(NAMESPACES))
    assert_same(want, got, "kube-state-metrics against docs/what-it-deploys.md")


def test_the_endpoint_serves_only_the_health_families_in_openmetrics_to_the_gateway(ksm, rendered):
    # The gateway's job leaves scrape_protocols at Prometheus' default, so OpenMetrics is negotiated.
    job = gateway_health_job(rendered)
    assert "scrape_protocols" not in job and "scrape_native_histograms" not in job, job
    ksm.settle({}, lambda k: False)
    scrape = ksm.scrape()
    assert scrape.content_type.startswith("application/openmetrics-text"), scrape.content_type
    assert {name for name, _, _ in scrape.samples} == HEALTH_FAMILIES
    # OpenMetrics knows the info type (Prometheus' openmetrics parser accepts it).
    assert {name: scrape.types.get(name) for name in HEALTH_FAMILIES} == {INFO: "info", SINCE: "gauge",
                                                                           STORED: "gauge"}
    # The Prometheus text format serves the same series, with the info family typed `gauge`, the
    # text format having no `info` (kubernetes/kube-state-metrics e9e67a2c, since v2.17.0).
    text = ksm.scrape(TEXT_ACCEPT)
    assert text.content_type.startswith("text/plain"), text.content_type
    assert text.health() == scrape.health()
    assert {name: text.types.get(name) for name in HEALTH_FAMILIES} == {INFO: "gauge", SINCE: "gauge", STORED: "gauge"}


def test_the_rendered_rbac_is_enough(ksm, kube, release):
    """With only the rendered ClusterRole, kube-state-metrics lists and watches every kind of the
    controllers the stack observes and is refused nothing (its own list/watch counters and its
    log); the role grants no more than list and watch."""
    here = {r.plural for controller in OBSERVED_CONTROLLERS for r in c.FLUX_RESOURCES_BY_CONTROLLER[controller]}

    def calls() -> dict[tuple[str, str], float]:
        return {(name, labels["result"]): value for name, labels, value in ksm.telemetry().samples
                if name in ("kube_state_metrics_list_total", "kube_state_metrics_watch_total")}

    # Custom resources share one `resource` label (*unstructured.Unstructured): one watch per kind
    # (the list is streamed over the watch).
    try:
        wait_until(lambda: calls().get(("kube_state_metrics_watch_total", "success"), 0) >= len(here),
                   timeout=SETTLE_SECONDS, what="a successful watch of every kind")
    except TimeoutError as error:
        raise AssertionError(f"{error}\nlist/watch calls: {calls()}\n{ksm.process.log_tail(10)}") from None
    assert {call for call, value in calls().items() if call[1] != "success" and value} == set()
    log = ksm.process.log_path.read_text(errors="replace")
    assert "forbidden" not in log.lower(), ksm.process.log_tail(60)
    # The kinds it watches are exactly those the stack observes (every CRD is here): kube-state-metrics
    # logs them as its active resources.
    logged = re.findall(r'"Active resources" activeStoreNames="([^"]*)"', log)
    assert logged, ksm.process.log_tail(60)
    assert {name.split("Resource=")[1] for name in logged[-1].split(",") if "Resource=" in name} == here
    # And no more than list and watch: the ServiceAccount cannot get a single object.
    sa = f"system:serviceaccount:{release['namespace']}:{release['values']['fullnameOverride']}"
    denied = kube.kubectl("auth", "can-i", "get", "gitrepositories.source.toolkit.fluxcd.io", "-n", "gitops",
                          f"--as={sa}", check=False)
    allowed = kube.kubectl("auth", "can-i", "watch", "gitrepositories.source.toolkit.fluxcd.io", "-A",
                           f"--as={sa}", check=False)
    assert (denied.stdout.strip(), allowed.stdout.strip()) == ("no", "yes")


def test_changes_reach_the_series(ksm, kube):
    """A never-reconciled object turning Ready, then deleted: kube-state-metrics follows its watch."""
    obj = flux("GitRepository", "team-b", "late", GIT_SPEC)
    select = lambda k: dict(k[1])["name"] == "late"  # noqa: E731
    create(kube, [obj])
    try:
        assert ksm.settle(expected_series(*key(obj), Expected("Unknown", "false")), select) == \
            expected_series(*key(obj), Expected("Unknown", "false"))
        reconciled = {**obj, "status": {"artifact": artifact(GIT_NEW, "gitrepository/team-b/late/9f8e.tar.gz"),
                                        "conditions": [ready("True", "Succeeded", T_E)]}}
        create(kube, [reconciled])
        want = expected_series(*key(obj), Expected("True", "false", "Succeeded", GIT_NEW, U_E, stored=U_A))
        assert ksm.settle(want, select) == want
    finally:
        kube.kubectl("delete", "gitrepository", "late", "-n", "team-b", "--wait=true", "--timeout=30s")
    assert ksm.settle({}, select) == {}


def test_the_gateway_ships_the_series_with_their_labels_unchanged(ksm, rendering, tmp_path):
    """The rendered prod gateway, its kube-state-metrics job pointed at this kube-state-metrics,
    delivers every health series kube-state-metrics serves to the backend with the same labels and
    values (the job and instance target labels go to the resource, as the Prometheus receiver
    does)."""
    want: dict[tuple, float] = {}
    for obj, expected in CASES:
        want.update(expected_series(*key(obj), expected))
    ksm.settle(want, in_namespaces(NAMESPACES))
    want = ksm.scrape().health()
    gateway, _ = gateway_and_agent(collector_configs(rendering))
    local = localize(gateway, workdir=tmp_path / "gateway", export_to=None, without=("k8s_objects",))
    scrape_configs = local["receivers"]["prometheus"]["config"]["scrape_configs"]
    for job in scrape_configs:
        job["scrape_interval"] = "1s"
        job["static_configs"] = [{"targets": [ksm.url.split("/")[2]]}] if job["job_name"] == OBJECT_HEALTH_JOB else []
    local["receivers"]["prometheus"]["config"]["scrape_configs"] = [job for job in scrape_configs
                                                                    if job["static_configs"]]

    def shipped() -> dict[tuple, float]:
        series = {}
        for metric in sink.metrics():
            data = metric.get("gauge") or metric.get("sum") or {}
            for point in data.get("dataPoints", []):
                labels = {k: str(v) for k, v in attributes(point.get("attributes", [])).items()}
                value = point.get("asDouble", point.get("asInt"))
                series[series_key(metric["name"], labels)] = float(value)
        return series

    with Sink(tmp_path / "sink") as sink:
        local = localize(local, workdir=tmp_path / "gateway", export_to=sink)
        with Collector("gateway", local, tmp_path / "gateway"):
            wait_until(lambda: set(want) <= set(shipped()), timeout=SETTLE_SECONDS,
                       what="every served health series at the sink")
            got = shipped()
    health = {k: v for k, v in got.items() if k[0] in HEALTH_FAMILIES}
    assert_same(want, health, "the sink against kube-state-metrics")
    # Only the health families and the scrape's own series (added after metric relabelling).
    assert {k[0] for k in got} - HEALTH_FAMILIES <= {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                                     "scrape_samples_post_metric_relabeling", "scrape_series_added"}


# --- the fixture's objects as the API server returns them -----------------------------------------------
def fixture_series() -> dict[tuple, float]:
    """What the fixture's objects here must serve, in their namespaces here."""
    want: dict[tuple, float] = {}
    for obj in fixture_objects():
        kind, namespace, name = key(obj)
        expected = FIXTURE_EXPECTED[kind, namespace.removeprefix(FIXTURE_NAMESPACE_PREFIX), name]
        want.update(expected_series(kind, namespace, name, expected))
    return want


def test_the_fixture_has_every_flux_kind_at_its_configured_version_and_every_state():
    objects = [obj for obj in yaml.safe_load_all(FIXTURE.read_text()) if obj]
    assert sorted(key(obj) for obj in objects) == sorted(FIXTURE_EXPECTED)
    configured = {(r.group, r.version, r.kind) for kinds in c.FLUX_RESOURCES_BY_CONTROLLER.values() for r in kinds}
    assert {(*obj["apiVersion"].split("/"), obj["kind"]) for obj in objects} == configured
    assert {e.ready for e in FIXTURE_EXPECTED.values()} == {"True", "False", "Unknown"}
    assert {e.suspended for e in FIXTURE_EXPECTED.values()} == {"true", "false"}


def test_every_fixture_object_has_exactly_the_readme_series(ksm):
    want = fixture_series()
    namespaces = {FIXTURE_NAMESPACE_PREFIX + namespace for _, namespace, _ in FIXTURE_EXPECTED}
    got = ksm.settle(want, in_namespaces(namespaces))
    assert_same(want, got, "kube-state-metrics against FIXTURE_EXPECTED on the fixture")


def test_a_missing_time_is_logged_for_the_time_families_only(ksm):
    """An object without a Ready condition (never reconciled) has no transition time, and a source
    without an artifact no artifact time: kube-state-metrics logs that path as missing, and only for
    those families (the kinds without status have no transition family, and a missing label path
    leaves the label out silently)."""
    ksm.settle(fixture_series(), in_namespaces({FIXTURE_NAMESPACE_PREFIX + ns for _, ns, _ in FIXTURE_EXPECTED}))
    logged = [line for line in ksm.process.log_path.read_text(errors="replace").splitlines()
              if "got nil while resolving path" in line]
    assert any(SINCE in line for line in logged) and any(STORED in line for line in logged), ksm.process.log_tail(30)
    assert [line for line in logged if SINCE not in line and STORED not in line] == []


# --- the families and labels the package publishes -------------------------------------------------------
# kube-state-metrics adds these to every custom resource series.
GVK_LABELS = ("customresource_group", "customresource_version", "customresource_kind")


def every_series(ksm: KubeStateMetrics) -> dict[tuple, float]:
    """The served series of every object of CASES and of the fixture, once all are served."""
    want = fixture_series()
    for obj, expected in CASES:
        want.update(expected_series(*key(obj), expected))
    return ksm.settle(want, in_namespaces({dict(labels)["exported_namespace"] for _, labels in want}))


def test_the_families_and_labels_are_the_published_contract(ksm):
    every = every_series(ksm)
    assert {metric for metric, _ in every} == set(HEALTH_METRICS) == {
        "gotk_resource_info", "gotk_resource_ready_transition_timestamp_seconds",
        "gotk_resource_artifact_timestamp_seconds"}
    info_labels = set().union(*(dict(labels) for metric, labels in every if metric == c.FLUX_RESOURCE_INFO_METRIC))
    assert info_labels == set(INFO_LABELS) | set(SOURCE_LABELS) | {c.FLUX_RELEASE_LABEL} | set(GVK_LABELS)
    since_labels = {frozenset(dict(labels)) for metric, labels in every if metric == c.FLUX_READY_TRANSITION_METRIC}
    assert since_labels == {frozenset(TRANSITION_LABELS) | set(GVK_LABELS)}
    stored_labels = {frozenset(dict(labels)) for metric, labels in every if metric == c.FLUX_ARTIFACT_TIME_METRIC}
    assert stored_labels == {frozenset(TRANSITION_LABELS) | {"revision"} | set(GVK_LABELS)}


# --- the label names at the backend -----------------------------------------------------------------
def scraped(series_labels, target_labels, honor_labels):
    """Prometheus' label merge at scrape time (the collector's prometheus receiver uses it)."""
    labels = dict(series_labels)
    for name, value in target_labels.items():
        if honor_labels:
            labels.setdefault(name, value)
            continue
        if name in labels:
            exported = f"exported_{name}"
            while exported in labels:
                exported = f"exported_{exported}"
            labels[exported] = labels[name]
        labels[name] = value
    return labels


def gateway_target_labels(job):
    (target,) = job["static_configs"][0]["targets"]
    return {"job": job["job_name"], "instance": target}, job.get("honor_labels", False)


# The Dash0 operator's pod scrape job (its daemonset collector config): honor_labels, and target
# labels for the namespace, pod and node plus every pod label (labelmap), here the chart's labels.
DASH0_OPERATOR_TARGET = {
    "job": "dash0-kubernetes-pods-scrape-config", "instance": "10.1.2.3:8080",
    "namespace": "flux-otel-health", "pod": "flux-object-health-6d5f7c9b8-x2x7q", "node": "node-1",
    "app_kubernetes_io_name": "kube-state-metrics", "app_kubernetes_io_instance": "flux-object-health",
    "app_kubernetes_io_component": "metrics", "app_kubernetes_io_part_of": "kube-state-metrics",
    "app_kubernetes_io_managed_by": "Helm", "app_kubernetes_io_version": c.KSM_IMAGE_TAG.removeprefix("v"),
    "helm_sh_chart": f"kube-state-metrics-{c.KSM_CHART_VERSION}",
}


def test_object_labels_reach_the_backend_unchanged_in_both_modes(ksm, rendered):
    gateway_labels, gateway_honors = gateway_target_labels(gateway_health_job(rendered))
    paths = {"collector": (gateway_labels, gateway_honors), "dash0-operator": (DASH0_OPERATOR_TARGET, True)}
    every = every_series(ksm)
    for obj in [obj for obj, _ in CASES] + fixture_objects():
        for _, labels in (series for series in every if identity_of(series) == key(obj)):
            for mode, (target_labels, honor) in paths.items():
                stored = scraped(labels, target_labels, honor)
                assert {name: stored[name] for name, _ in labels} == dict(labels), mode
                assert stored["exported_namespace"] == obj["metadata"]["namespace"], mode


def test_a_plain_namespace_label_would_not_arrive_as_exported_namespace(rendered):
    # Why kube-state-metrics writes exported_namespace itself: left to the scrape, `namespace`
    # stays `namespace` in both modes (static target / honor_labels), never exported_namespace.
    gateway_labels, gateway_honors = gateway_target_labels(gateway_health_job(rendered))
    series = {"name": "podinfo", "namespace": "apps"}
    for target_labels, honor in ((gateway_labels, gateway_honors), (DASH0_OPERATOR_TARGET, True)):
        assert "exported_namespace" not in scraped(series, target_labels, honor)
