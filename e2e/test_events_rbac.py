"""Area 7, real runtime: the gateway's event RBAC and its Flux-events pipeline.

The `prod` stack's event reader Role and RoleBinding, and the gateway's ServiceAccount, go to a
real API server. The real collector (built from e2e/otelcol-builder.yaml) then runs the rendered
gateway config cut to its `logs/flux-events` pipeline (the `k8s_objects/flux-events` receiver,
the rendered processors and exporter), changed only as a collector outside a pod needs
(`e2e.harness.collector.localize`: the exporter sends to a local sink, plaintext): the receiver
authenticates with a kubeconfig holding a token the API server issued for that ServiceAccount
(`auth_type: kubeConfig`, not `serviceAccount`). Events about Flux objects must come out as
"Flux events as logs" in docs/what-it-deploys.md describes them; everything else must not come
out, and the token must be refused everything the Role does not grant.

The Events are written by the test: it needs Events no Flux controller records (a Pod's, and one
through the events.k8s.io API) beside Flux's, at chosen moments. Flux's own Events reach the same
pipeline in test_real_flux.py.

Cleanup: the events, Role, RoleBinding and ServiceAccount are deleted one by one, then the
gateway's namespace is deleted and finalized (no kube-controller-manager runs to do it). Flux's
namespace is kept.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from components import constants as c
from components.builders import flux_events
from components.tooling.render import masked
from e2e.harness.collector import Collector, Received, Sink, localize
from e2e.harness.flux import core_event, recorded_event
from e2e.harness.kube import HELM_RELEASE, ApiServer, kubeconfig_auth, rendered_manifest, wait_until
from e2e.harness.render import run_stack

PULUMI_MANAGER = "pulumi-kubernetes-e2e"
DELIVERY_SECONDS = 30
REVISION = "main@sha1:" + "6e1f3b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
CHART_REVISION = "6.7.0"
SEVERITY_NUMBERS = {"INFO": 9, "WARN": 13}


# --- what the stack renders --------------------------------------------------------------------------------
class Gateway:
    """The prod stack's gateway: its release, ServiceAccount, event RBAC and collector config."""

    def __init__(self) -> None:
        resources = run_stack("prod", secrets={"exportToken": "auth_e2e_token"}).resources
        releases = [masked(r.inputs, reveal=True) for r in resources if r.type == HELM_RELEASE]
        (self.release,) = [
            r for r in releases
            if r["chart"] == c.COLLECTOR_CHART and flux_events.RECEIVER in r["values"]["alternateConfig"]["receivers"]
        ]
        values = self.release["values"]
        self.namespace = self.release["namespace"]
        assert values["serviceAccount"]["create"] is True
        # The chart names the ServiceAccount it creates after the release unless the values name one.
        self.service_account = values["serviceAccount"].get("name") or values["fullnameOverride"]
        self.user = f"system:serviceaccount:{self.namespace}:{self.service_account}"
        self.config = values["alternateConfig"]
        objects = [rendered_manifest(r) for r in resources if r.custom and r.type != HELM_RELEASE]
        self.namespace_object = next(
            o for o in objects if o["kind"] == "Namespace" and o["metadata"]["name"] == self.namespace
        )
        self.bindings = [
            o for o in objects if o["kind"] == "RoleBinding"
            and {"kind": "ServiceAccount", "name": self.service_account, "namespace": self.namespace} in o["subjects"]
        ]
        bound = {(b["metadata"]["namespace"], b["roleRef"]["name"]) for b in self.bindings}
        self.roles = [
            o for o in objects
            if o["kind"] == "Role" and (o["metadata"]["namespace"], o["metadata"]["name"]) in bound
        ]
        assert self.bindings and len(self.roles) == len(self.bindings)
        # No ClusterRole, no ClusterRoleBinding: nothing cluster-wide at all.
        assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]

    def service_account_object(self) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": self.service_account, "namespace": self.namespace}}

    def events_collector(self, kubeconfig: Path, sink: Sink, workdir: Path) -> Collector:
        """The gateway running only its rendered events pipeline (the receivers other pipelines
        need, `otlp` and `prometheus`, go with those pipelines), exporting to `sink`; the receiver
        reads the kubeconfig."""
        config = localize(self.config, workdir=workdir, export_to=sink, without=("otlp", "prometheus"))
        assert list(config["service"]["pipelines"]) == [flux_events.PIPELINE]
        assert config["service"]["pipelines"][flux_events.PIPELINE]["receivers"] == [flux_events.RECEIVER]
        return Collector("gateway", kubeconfig_auth(config), workdir, env={"KUBECONFIG": str(kubeconfig)})


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
def event_reader(kube, flux_namespace, gateway, tmp_path):
    """The gateway's ServiceAccount with the rendered Role and RoleBinding, and a kubeconfig
    holding a token the API server issued for it. Yields (kubeconfig, roles as applied)."""
    roles = copy.deepcopy(gateway.roles)
    objects = [gateway.service_account_object(), *roles, *gateway.bindings]
    kube.apply([gateway.namespace_object], field_manager=PULUMI_MANAGER)
    try:
        kube.apply(objects, field_manager=PULUMI_MANAGER)
        kubeconfig = kube.service_account_kubeconfig(gateway.namespace, gateway.service_account,
                                                     tmp_path / "gateway.kubeconfig")
        yield kubeconfig, roles
    finally:
        kube.delete(objects)
        kube.delete_namespace(gateway.namespace)


# --- events ----------------------------------------------------------------------------------------------
def unix_nanos(text: str) -> int:
    moment = datetime.strptime(text, c.KUBERNETES_MICRO_TIME_FORMAT if "." in text else c.KUBERNETES_TIME_FORMAT)
    moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def summary(record: Received) -> dict[str, Any]:
    return {
        "attributes": record.attributes,
        "body": record.body,
        "severityText": record.get("severityText"),
        "severityNumber": record.get("severityNumber"),
        "timeUnixNano": int(record.get("timeUnixNano", 0)),
    }


def shipped(sink: Sink, *, helm_records: int) -> list[dict[str, Any]]:
    """The records of the test's events (sentinels left out) once `helm_records` HelmRelease
    records are among them: the HelmRelease event is always the last one written."""
    found = [summary(r) for r in sink.logs()]
    found = [s for s in found if s["attributes"].get("name") != "e2e-sentinel"]
    count = sum(s["attributes"].get("controllerKind") == "HelmRelease" for s in found)
    return found if count >= helm_records else []


def sentinel_seen(kube: ApiServer, sink: Sink, created: list[dict[str, Any]]) -> bool:
    """Creates a Flux event and tells whether one has come out yet: the receiver starts watching
    only after it has listed, so the first events may precede its watch."""
    sentinel = recorded_event("GitRepository", "e2e-sentinel", "source.toolkit.fluxcd.io/v1", reason="Probe",
                         note="watch probe", at=datetime.now(timezone.utc))
    kube.create(sentinel)
    created.append(sentinel)
    return any(r.attributes.get("name") == "e2e-sentinel" for r in sink.logs())


def test_the_gateway_ships_exactly_the_flux_events_with_only_its_rendered_rbac(kube, gateway, event_reader, tmp_path):
    kubeconfig, _ = event_reader
    sink = Sink(tmp_path / "sink")
    collector = gateway.events_collector(kubeconfig, sink, tmp_path / "gateway")
    created: list[dict[str, Any]] = []
    try:
        with sink, collector:
            wait_until(lambda: sentinel_seen(kube, sink, created), timeout=DELIVERY_SECONDS, interval=1,
                       what="the first Flux event to reach the sink")

            base = datetime(2026, 11, 30, 5, 0, 1, 123456, tzinfo=timezone.utc)
            kustomization = recorded_event(
                "Kustomization", "apps", "kustomize.toolkit.fluxcd.io/v1", reason="ReconciliationSucceeded",
                note="Reconciliation finished in 1.2s, next run in 10m0s",
                annotations={c.flux_event_annotation("kustomize.toolkit.fluxcd.io"): REVISION}, at=base,
            )
            pod = core_event("Pod", "web-7d9c6b5f4-x2x9z", "v1", reason="BackOff",
                             message="Back-off restarting failed container", event_type="Warning", at=base,
                             component="kubelet")
            pod_new_api = recorded_event("Pod", "web-7d9c6b5f4-x2x9z", "v1", reason="Scheduled",
                                    note="Successfully assigned", at=base)
            git = core_event("GitRepository", "flux-system", "source.toolkit.fluxcd.io/v1", reason="NewArtifact",
                             message="stored artifact for commit 'Merge pull request'", at=base.replace(second=2),
                             component="source-controller",
                             annotations={c.flux_event_annotation("source.toolkit.fluxcd.io"): REVISION})
            # Last: once it is out, everything created before it has been through the pipeline.
            helm = core_event("HelmRelease", "podinfo", "helm.toolkit.fluxcd.io/v2", reason="UpgradeFailed",
                              message="Helm upgrade failed for release podinfo/podinfo with chart podinfo@6.7.0",
                              event_type="Warning", at=base.replace(second=3), component="helm-controller",
                              annotations={c.flux_event_annotation("helm.toolkit.fluxcd.io"): CHART_REVISION})
            for event in (kustomization, pod, pod_new_api, git, helm):
                kube.create(event)
                created.append(event)

            found = wait_until(lambda: shipped(sink, helm_records=1), timeout=DELIVERY_SECONDS, interval=0.5,
                               what="the HelmRelease event to be shipped")
            expected = [
                {
                    "attributes": {"controllerKind": "Kustomization", "name": "apps", "namespace": c.FLUX_NAMESPACE,
                                   "reason": "ReconciliationSucceeded", "revision": REVISION},
                    "body": kustomization["note"], "severityText": "INFO", "severityNumber": SEVERITY_NUMBERS["INFO"],
                    "timeUnixNano": unix_nanos(kustomization["eventTime"]),
                },
                {
                    "attributes": {"controllerKind": "GitRepository", "name": "flux-system",
                                   "namespace": c.FLUX_NAMESPACE, "reason": "NewArtifact", "revision": REVISION},
                    "body": git["message"], "severityText": "INFO", "severityNumber": SEVERITY_NUMBERS["INFO"],
                    "timeUnixNano": unix_nanos(git["lastTimestamp"]),
                },
                {
                    "attributes": {"controllerKind": "HelmRelease", "name": "podinfo", "namespace": c.FLUX_NAMESPACE,
                                   "reason": "UpgradeFailed", "revision": CHART_REVISION},
                    "body": helm["message"], "severityText": "WARN", "severityNumber": SEVERITY_NUMBERS["WARN"],
                    "timeUnixNano": unix_nanos(helm["lastTimestamp"]),
                },
            ]
            assert found == expected
            # The rendered resource processor still labels the records with the cluster.
            assert {r.resource.get("k8s.cluster.name") for r in sink.logs()} == {"prod-eu-1"}

            # A repeat: client-go's recorder updates the Event it made (count, lastTimestamp), the
            # watch sees MODIFIED, and the record carries the new last occurrence.
            repeated = base.replace(minute=1, second=3).strftime("%Y-%m-%dT%H:%M:%SZ")
            kube.kubectl("patch", "event", helm["metadata"]["name"], "-n", c.FLUX_NAMESPACE, "--type=merge",
                         "-p", json.dumps({"count": 2, "lastTimestamp": repeated}))
            found = wait_until(lambda: shipped(sink, helm_records=2), timeout=DELIVERY_SECONDS, interval=0.5,
                               what="the repeated HelmRelease event to be shipped")
            assert found == [*expected, {**expected[-1], "timeUnixNano": unix_nanos(repeated)}]

            # Events expire (the API server deletes them after its TTL): a deletion is no occurrence.
            kube.kubectl("delete", "event.events.k8s.io", kustomization["metadata"]["name"], "-n", c.FLUX_NAMESPACE)
            kube.kubectl("patch", "event", helm["metadata"]["name"], "-n", c.FLUX_NAMESPACE, "--type=merge",
                         "-p", json.dumps({"count": 3}))  # a marker behind the deletion
            found = wait_until(lambda: shipped(sink, helm_records=3), timeout=DELIVERY_SECONDS, interval=0.5,
                               what="the marker behind the deletion to be shipped")
            assert [s["attributes"]["controllerKind"] for s in found].count("Kustomization") == 1
            log = collector.log_path.read_text(errors="replace")
            assert "forbidden" not in log.lower(), log
    finally:
        kube.delete(created)


# --- what the token may and may not do ----------------------------------------------------------------------
def test_the_gateway_token_may_list_and_watch_flux_events_and_nothing_else(kube, gateway, event_reader):
    kubeconfig, roles = event_reader
    (role,) = roles
    (rule,) = role["rules"]
    assert rule == {"apiGroups": [c.EVENTS_API_GROUP], "resources": [c.EVENTS_RESOURCE], "verbs": ["list", "watch"]}
    user = gateway.user

    def as_gateway(*args: str):
        return kube.kubectl(*args, kubeconfig_path=kubeconfig, check=False)

    listed = as_gateway("get", "events.events.k8s.io", "-n", c.FLUX_NAMESPACE)
    assert listed.returncode == 0, listed.stderr

    forbidden = {
        ("get", "events", "-n", "default"):
            f'events is forbidden: User "{user}" cannot list resource "events" in API group ""'
            ' in the namespace "default"',
        ("get", "events.events.k8s.io", "-n", "default"):
            f'events.events.k8s.io is forbidden: User "{user}" cannot list resource "events" in API group '
            f'"events.k8s.io" in the namespace "default"',
        ("get", "secrets", "-n", c.FLUX_NAMESPACE):
            f'secrets is forbidden: User "{user}" cannot list resource "secrets" in API group "" in the namespace '
            f'"{c.FLUX_NAMESPACE}"',
        ("get", "events", "-A"):
            f'events is forbidden: User "{user}" cannot list resource "events" in API group "" at the cluster scope',
        ("get", "events.events.k8s.io", "-A"):
            f'events.events.k8s.io is forbidden: User "{user}" cannot list resource "events" in API group '
            f'"events.k8s.io" at the cluster scope',
        # `kubectl get events` means the core group's events: the Role grants only events.k8s.io.
        ("get", "events", "-n", c.FLUX_NAMESPACE):
            f'events is forbidden: User "{user}" cannot list resource "events" in API group "" in the namespace '
            f'"{c.FLUX_NAMESPACE}"',
    }
    for args, message in forbidden.items():
        result = as_gateway(*args)
        assert result.returncode != 0, args
        assert f"Error from server (Forbidden): {message}" in result.stderr, (args, result.stderr)

    answers = {
        ("list", "events.events.k8s.io", "-n", c.FLUX_NAMESPACE): "yes",
        ("watch", "events.events.k8s.io", "-n", c.FLUX_NAMESPACE): "yes",
        ("get", "events.events.k8s.io", "-n", c.FLUX_NAMESPACE): "no",
        ("create", "events.events.k8s.io", "-n", c.FLUX_NAMESPACE): "no",
        ("list", "events", "-n", c.FLUX_NAMESPACE): "no",
        ("list", "events.events.k8s.io", "-n", "default"): "no",
        ("list", "events.events.k8s.io", "--all-namespaces"): "no",
        ("list", "secrets", "-n", c.FLUX_NAMESPACE): "no",
        ("list", "kustomizations.kustomize.toolkit.fluxcd.io", "-n", c.FLUX_NAMESPACE): "no",
    }
    for args, answer in answers.items():
        result = as_gateway("auth", "can-i", *args)
        assert result.stdout.strip() == answer, (args, result.stdout, result.stderr)
        assert result.returncode == (0 if answer == "yes" else 1), args
