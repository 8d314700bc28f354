"""Flux on the real API server: its notification-controller, the real binary, and its controllers'
Deployments as a stock install has them."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import yaml

from components import constants as c
from components.tooling.render import RecordingMocks
from e2e.harness.kube import (
    FLUX_INSTALL_LABELS,
    FLUX_MANAGER,
    LOOPBACK,
    ApiServer,
    Process,
    api_version_and_kind,
    child_env,
    free_port,
    rendered_manifest,
    wait_until,
)
from e2e.harness.programs import (
    FLUX_CONTROLLERS,
    FLUX_DISTRIBUTION,
    FLUX_IMAGE_REGISTRY,
    flux_crds,
    module_dir,
    require,
)
from e2e.harness.render import SCHEMAS, run_stack

# CRDs of the objects the package creates beside Flux's: Dash0, Perses, Prometheus Operator.
SHARED_CRD_FILES = (
    "dash0-monitorings.crd.yaml",
    "dash0-operatorconfigurations.crd.yaml",
    "perses-dashboards.crd.yaml",
    "prometheus-rules.crd.yaml",
)


def object_reference(kind: str, name: str, api_version: str, namespace: str = c.FLUX_NAMESPACE) -> dict[str, str]:
    """An event's reference to the object it is about, with a UID stable across runs."""
    return {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace,
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{api_version}/{kind}/{namespace}/{name}"))}


def micro_time(moment: datetime) -> str:
    """metav1.MicroTime as the API server writes it."""
    return moment.strftime(c.KUBERNETES_MICRO_TIME_FORMAT)


def recorded_event(kind: str, name: str, api_version: str, *, reason: str, note: str, event_type: str = "Normal",
                   annotations: dict[str, str] | None = None, at: datetime) -> dict[str, Any]:
    """An events.k8s.io/v1 Event in the Flux namespace, as a Flux controller's recorder writes one
    beside the event it posts (eventTime, no deprecated fields; its metadata as annotations)."""
    controller = f"{kind.lower()}-controller"
    return {
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": f"{name}.{uuid.uuid4().hex[:16]}", "namespace": c.FLUX_NAMESPACE,
                     "annotations": annotations or {}},
        "eventTime": micro_time(at), "reportingController": controller, "reportingInstance": f"{controller}-0",
        "action": "Reconcile", "reason": reason, "note": note, "type": event_type,
        "regarding": object_reference(kind, name, api_version),
    }


def core_event(kind: str, name: str, api_version: str, *, reason: str, message: str, event_type: str = "Normal",
               annotations: dict[str, str] | None = None, at: datetime, component: str) -> dict[str, Any]:
    """A core/v1 Event, as client-go's record package writes one: Flux's controllers record
    events this way (fluxcd/pkg runtime/events), with the revision as an annotation."""
    timestamp = at.strftime(c.KUBERNETES_TIME_FORMAT)
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{name}.{uuid.uuid4().hex[:16]}", "namespace": c.FLUX_NAMESPACE,
                     "annotations": annotations or {}},
        "involvedObject": object_reference(kind, name, api_version),
        "reason": reason, "message": message, "type": event_type,
        "firstTimestamp": timestamp, "lastTimestamp": timestamp, "count": 1,
        "source": {"component": component}, "reportingComponent": component, "reportingInstance": f"{component}-0",
    }


def flux_event(kind: str, name: str, *, group: str, revision: str | None = None, severity: str = "info",
               reason: str = "ReconciliationSucceeded", message: str = "Reconciliation finished",
               metadata: dict[str, str] | None = None, timestamp: str = "2026-11-30T05:00:00Z",
               namespace: str = c.FLUX_NAMESPACE, version: str = "v1") -> dict[str, Any]:
    """A Flux event (fluxcd/pkg apis/event v1beta1 Event) with metadata keyed `<group>/<key>`,
    as fluxcd/pkg runtime/events' recorder sends it."""
    meta = {f"{group}/{key}": value for key, value in (metadata or {}).items()}
    if revision is not None:
        meta[c.flux_event_annotation(group)] = revision
    return {
        "involvedObject": object_reference(kind, name, f"{group}/{version}", namespace),
        "severity": severity,
        "timestamp": timestamp,
        "message": message,
        "reason": reason,
        "metadata": meta,
        "reportingController": f"{kind.lower()}-controller",
    }


@dataclass
class Controller:
    """A Flux controller running as a process against the API server."""

    name: str
    process: Process
    metrics_url: str

    def metrics(self) -> str:
        with urllib.request.urlopen(self.metrics_url, timeout=10) as response:
            return response.read().decode()

    def log_lines(self) -> list[str]:
        return self.process.log_path.read_text(errors="replace").splitlines()


@dataclass
class NotificationController(Controller):
    events_url: str

    def post_event(self, event: dict[str, Any]) -> int:
        """Sends a Flux event as the other controllers do (fluxcd/pkg runtime/events: POST JSON)."""
        request = urllib.request.Request(
            self.events_url, data=json.dumps(event).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status


@contextmanager
def controller(name: str, kube: ApiServer, workdir: Path, *, args: dict[str, str] | None = None,
               metrics_host: str = LOOPBACK, metrics_port: int | None = None, output: Any = None,
               extra_env: dict[str, str] | None = None) -> Iterator[Controller]:
    """Starts the built controller `name` with JSON logs, no leader election, watching every
    namespace, its metrics at `metrics_host` and its other ports on free loopback ports; `args`
    adds or overrides flags (`--<key>=<value>`). Waits for /readyz; stops it on exit."""
    health = free_port()
    metrics = f"{metrics_host}:{metrics_port or free_port(metrics_host)}"
    flags = {"metrics-addr": metrics, "health-addr": f"{LOOPBACK}:{health}", "log-encoding": "json",
             "enable-leader-election": "false", "watch-all-namespaces": "true", **(args or {})}
    process = Process(name, [str(require(name)), *(f"--{key}={value}" for key, value in flags.items())], workdir,
                      env=child_env(KUBECONFIG=str(kube.admin_kubeconfig), RUNTIME_NAMESPACE=c.FLUX_NAMESPACE,
                                    **(extra_env or {})), output=output)
    try:
        def ready() -> bool:
            if not process.alive():
                raise RuntimeError(f"{name} exited:\n{process.log_tail()}")
            with urllib.request.urlopen(f"http://{LOOPBACK}:{health}/readyz", timeout=5) as response:
                return response.status == 200

        wait_until(ready, timeout=90, what=f"{name} /readyz")
        yield Controller(name, process, f"http://{metrics}{c.FLUX_METRICS_PATH}")
    finally:
        process.stop()


@contextmanager
def notification_controller(kube: ApiServer, workdir: Path, *, extra_env: dict[str, str] | None = None,
                            **options: Any) -> Iterator[NotificationController]:
    """Starts notification-controller on loopback ports (JSON logs to its log file, unless
    `output` says otherwise); stops it on exit. `options` go to `controller`."""
    events, receiver = free_port(), free_port()
    with controller("notification-controller", kube, workdir, extra_env=extra_env, **options,
                    args={"events-addr": f"{LOOPBACK}:{events}", "receiverAddr": f"{LOOPBACK}:{receiver}"}) as running:
        yield NotificationController(running.name, running.process, running.metrics_url, f"http://{LOOPBACK}:{events}/")


def _documents(paths: list[Path]) -> list[dict]:
    return [doc for path in paths for doc in yaml.safe_load_all(path.read_text()) if doc]


def install_crds(kube: ApiServer) -> None:
    """Flux's CRDs and SHARED_CRD_FILES, established."""
    missing = [name for name in SHARED_CRD_FILES if not (SCHEMAS / name).exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing in {SCHEMAS}; the real tier needs ../shared/schemas")
    crds = _documents(flux_crds()) + _documents([SCHEMAS / name for name in SHARED_CRD_FILES])
    kube.apply(crds)
    kube.crds_established([crd["metadata"]["name"] for crd in crds])


def install_flux_namespace(kube: ApiServer) -> str:
    """Flux's namespace as `flux install` creates it (fluxcd/flux2 manifests/install/namespace.yaml:
    the install's labels; Pod Security warns at restricted, enforces nothing), applied by Flux's
    manager."""
    kube.apply([{
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": c.FLUX_NAMESPACE, "labels": {
            **FLUX_INSTALL_LABELS,
            "pod-security.kubernetes.io/warn": c.POD_SECURITY_RESTRICTED,
            "pod-security.kubernetes.io/warn-version": "latest",
        }},
    }], field_manager=FLUX_MANAGER)
    return c.FLUX_NAMESPACE


def rolled_out(deployment: dict[str, Any]) -> bool:
    """Whether the deployment controller has rolled the Deployment's current template out."""
    status, replicas = deployment.get("status", {}), deployment["spec"]["replicas"]
    return (status.get("observedGeneration") == deployment["metadata"]["generation"]
            and status.get("replicas") == status.get("updatedReplicas") == status.get("availableReplicas") == replicas)


def install_flux_controllers(kube: ApiServer, *, timeout: float = 120) -> None:
    """Flux's default controllers as a stock install has them (`flux_install`), applied by Flux's
    manager, and rolled out (which needs kube-controller-manager and a kubelet or
    e2e.controllers.Kubelet)."""
    kube.apply(flux_install(), field_manager=FLUX_MANAGER)
    wait_until(lambda: all(rolled_out(d) for d in kube.get("deployments", "-n", c.FLUX_NAMESPACE)["items"]),
               timeout=timeout, what="Flux's controllers to roll out")


def json_patch_add(document: dict[str, Any], path: str, value: Any) -> None:
    """RFC 6902 `add`, the only operation Flux's install patches use: sets a key, inserts at a
    list index, or appends at `-`."""
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in path.lstrip("/").split("/")]
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    if isinstance(target, list):
        target.insert(len(target) if last == "-" else int(last), value)
    else:
        target[last] = value


def flux_install() -> list[dict[str, Any]]:
    """Flux's default controllers laid out as `flux install` lays them out (FLUX_DISTRIBUTION
    manifests/install): per controller, its module's Deployment (`flux_deployment`) with the
    base's patches (its ServiceAccount, `--events-addr` at notification-controller's Service,
    GOMEMLIMIT, the priority class), its ServiceAccount and its module's Services; and the
    controllers' RBAC (manifests/rbac controller.yaml and reconciler.yaml). Left out: the
    aggregated edit/view roles, the NetworkPolicies (nothing here enforces them) and the
    ResourceQuota (no quota controller runs to give it a status, without which quota admission
    refuses the controllers' pods)."""
    distribution = module_dir(*FLUX_DISTRIBUTION) / "manifests"
    objects: list[dict[str, Any]] = []
    for controller in c.FLUX_DEFAULT_CONTROLLERS:
        base = distribution / "bases" / controller
        deployment = flux_deployment(controller)
        for operation in yaml.safe_load((base / "patch.yaml").read_text()):
            assert operation["op"] == "add", operation
            json_patch_add(deployment, operation["path"], operation["value"])
        module, version = FLUX_CONTROLLERS[controller]
        services = module_dir(module, version) / "config" / "manager" / "service.yaml"
        objects += [deployment, *_documents([base / "account.yaml"]),
                    *(_documents([services]) if services.exists() else [])]
    objects += _documents([distribution / "rbac" / name for name in ("controller.yaml", "reconciler.yaml")])
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("labels", {}).update(FLUX_INSTALL_LABELS)
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            obj["metadata"]["namespace"] = c.FLUX_NAMESPACE
    return objects


def flux_deployment(controller: str) -> dict[str, Any]:
    """The controller's Deployment as its module's config/manager manifest has it, in the Flux
    namespace, with the install's labels and the image built here."""
    module, version = FLUX_CONTROLLERS[controller]
    deployment = yaml.safe_load((module_dir(module, version) / "config" / "manager" / "deployment.yaml").read_text())
    assert deployment["kind"] == "Deployment" and deployment["metadata"]["name"] == controller
    labels = {**FLUX_INSTALL_LABELS, "app.kubernetes.io/component": controller, "app.kubernetes.io/version": version}
    deployment["metadata"]["namespace"] = c.FLUX_NAMESPACE
    deployment["metadata"].setdefault("labels", {}).update(labels)
    deployment["spec"]["template"]["metadata"]["labels"].update(labels)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["name"] == c.FLUX_CONTAINER_NAME
    container["image"] = f"{FLUX_IMAGE_REGISTRY}/{controller}:{version}"
    return deployment


def flux_trace_id(alert_uid: str, revision: str) -> str:
    """notification-controller@v1.9.3: internal/notifier/otel.go generateID, as hex."""
    return hashlib.sha256(f"{alert_uid}:{revision}".encode()).digest()[:16].hex()


def tracing_objects(rendering) -> dict[str, dict]:
    """Logical name -> manifest of the Provider, Alert and auth Secret, secrets revealed."""
    return {
        r.name: rendered_manifest(r) for r in rendering.resources
        if r.custom and r.type.startswith("kubernetes:") and "tracing" in r.name
        and api_version_and_kind(r.type)[1] in ("Provider", "Alert", "Secret")
    }


def apply_tracing(kube: ApiServer, overrides: dict[str, Any], secrets: dict[str, Any] | None = None,
                  stack: str = "dev", gateway: str | None = None):
    """Applies the stack's rendered tracing objects; returns the render made again with the Alert's
    real UID, that UID, and the Alert. `gateway`: the base URL where the gateway's OTLP/HTTP
    receiver listens here, which the Provider's address (the gateway's Service) then points to,
    as cluster DNS would resolve it."""
    first = run_stack(stack, overrides=overrides, secrets=secrets)
    objects = tracing_objects(first)
    if gateway is not None:
        (provider,) = [o for o in objects.values() if o["kind"] == "Provider"]
        rendered = urllib.parse.urlsplit(provider["spec"]["address"])
        provider["spec"]["address"] = f"{gateway}{rendered.path}"
    kube.apply(list(objects.values()), field_manager="pulumi-kubernetes")
    (alert_name, alert), = [(name, o) for name, o in objects.items() if o["kind"] == "Alert"]
    uid = kube.get(
        "alerts.notification.toolkit.fluxcd.io", alert["metadata"]["name"], "-n", c.FLUX_NAMESPACE
    )["metadata"]["uid"]
    return run_stack(stack, overrides=overrides, secrets=secrets, mocks=ClusterUids({alert_name: uid})), uid, alert


class ClusterUids(RecordingMocks):
    """Mocks that hand out the UIDs the real API server gave, so the render carries them."""

    def __init__(self, uids: dict[str, str]) -> None:
        super().__init__()
        self.uids = uids

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.name in self.uids:
            outputs["metadata"] = {**outputs["metadata"], "uid": self.uids[args.name]}
        return resource_id, outputs
