"""Kubernetes' own controllers for the engine tier and the sandbox, and a stand-in for the kubelet.

The Pulumi Kubernetes provider waits on what controllers do: a Deployment's or DaemonSet's
rollout (the deployment, ReplicaSet and DaemonSet controllers), a Service's Endpoints (the
endpoints controller), a foreground deletion (the garbage collector) and a namespace's deletion
(the namespace controller) (pulumi/pulumi-kubernetes provider/v4@v4.25.0 `pkg/await/deployment.go`,
`service.go`). kube-controller-manager, built at the API server's version, runs those.

No scheduler or kubelet runs here. `Kubelet` stands in for them: it registers one Node, Ready;
binds each new pod to it, as the scheduler would; runs the pod when every image it names is a
program built here (e2e/harness/pods.py: the collector, kube-state-metrics, Flux's controllers), and reports
its containers' real state and readiness; reports any other pod Running and Ready, with nothing
running in it; and completes a pod's graceful deletion once its containers have stopped.
"""

from __future__ import annotations

import json
import os
import threading
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

from e2e.harness.flux import install_crds, install_flux_controllers, install_flux_namespace
from e2e.harness.kube import LOOPBACK, ApiServer, Process, control_plane, free_port
from e2e.harness.network import Services
from e2e.harness.pods import Runtime, missing_images, pod_logs_dir, runnable
from e2e.harness.programs import require

# The controllers the provider's and Helm's waits depend on (the log agent is a DaemonSet; a
# gateway with a persistent queue is a StatefulSet, whose claims only lose their protection
# finalizer through the claim-protection controller); and the service-account controller, whose
# `default` ServiceAccount the ServiceAccount admission plugin needs before it admits a pod.
CONTROLLERS = ("deployment-controller", "replicaset-controller", "daemonset-controller", "statefulset-controller",
               "garbage-collector-controller", "namespace-controller", "serviceaccount-controller",
               "endpoints-controller", "persistentvolumeclaim-protection-controller",
               # the kube-root-ca.crt ConfigMap every pod's ServiceAccount token volume projects
               "root-ca-certificate-publisher-controller")
NODE_NAME = "stand-in-node"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
FIRST_POD_IP = IPv4Address("10.244.0.10")


@contextmanager
def controller_manager(kube: ApiServer) -> Iterator[Process]:
    """kube-controller-manager with CONTROLLERS against `kube`, serving its health port on
    loopback only; stopped on exit."""
    process = Process("kube-controller-manager", [
        str(require("kube-controller-manager")),
        f"--kubeconfig={kube.admin_kubeconfig}",
        f"--controllers={','.join(CONTROLLERS)}",
        "--leader-elect=false", f"--root-ca-file={kube.ca}",
        f"--bind-address={LOOPBACK}", f"--secure-port={free_port()}",
    ], kube.workdir)
    try:
        yield process
    finally:
        process.stop()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_status(pod: dict[str, Any], ip: str, containers: list[dict[str, Any]]) -> dict[str, Any]:
    """The status the kubelet reports for a started pod whose containers are as `containers` say."""
    started = pod.get("status", {}).get("startTime") or now()
    ready = "True" if all(container["ready"] for container in containers) else "False"
    conditions = {"PodScheduled": "True", "PodReadyToStartContainers": "True", "Initialized": "True",
                  "ContainersReady": ready, "Ready": ready}
    return {
        "phase": "Running", "hostIP": LOOPBACK, "hostIPs": [{"ip": LOOPBACK}],
        "podIP": ip, "podIPs": [{"ip": ip}], "startTime": started,
        "conditions": [{"type": name, "status": value, "lastTransitionTime": started}
                       for name, value in conditions.items()],
        "containerStatuses": containers,
    }


def standing_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    """Containers reported started and ready, for a pod in which nothing runs."""
    return [{"name": container["name"], "image": container["image"], "imageID": "", "ready": True, "started": True,
             "restartCount": 0, "state": {"running": {"startedAt": now()}}}
            for container in pod["spec"]["containers"]]


def node_root(kube: ApiServer) -> Path:
    """Where the Kubelet stand-in keeps its node's files: pods' volumes and /var/log/pods."""
    return kube.workdir / "node"


def pod_output(kube: ApiServer, pod: dict[str, Any]) -> str:
    """All that the pod's containers wrote, as the node's /var/log/pods holds it (CRI format)."""
    metadata = pod["metadata"]
    directory = pod_logs_dir(node_root(kube)) / f"{metadata['namespace']}_{metadata['name']}_{metadata['uid']}"
    return "".join(path.read_text(errors="replace") for path in sorted(directory.glob("*/*.log")))


class Kubelet:
    """Binds, runs or reports ready, and finally deletes pods, once a second, until stopped; the
    pods it runs keep their network, output and volumes under `<workdir>/node`."""

    def __init__(self, kube: ApiServer) -> None:
        if os.geteuid() != 0:
            raise PermissionError("the kubelet stand-in runs pods in namespaces of their own (network, mounts), "
                                  "which needs root: run as root or with sudo")
        self.kube = kube
        self.node = node_root(kube)
        api = urlparse(kube.url)
        assert api.hostname is not None and api.port is not None, kube.url
        self.services = Services((api.hostname, api.port))
        self.runtime = Runtime(kube, self.node, self.services)
        self.ips: dict[str, str] = {}
        self.next_ip = FIRST_POD_IP
        self.reported: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _objects(self) -> list[dict[str, Any]]:
        result = self.kube.kubectl("get", "pods,services,endpoints", "-A", "-o", "json", check=False)
        return json.loads(result.stdout)["items"] if result.returncode == 0 else []

    def _ip(self, uid: str) -> str:
        if uid not in self.ips:
            self.ips[uid] = str(self.next_ip)
            self.next_ip += 1
        return self.ips[uid]

    def _report(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        comparable = json.dumps(status["containerStatuses"], sort_keys=True)
        if self.reported.get(metadata["uid"]) == comparable:
            return
        result = self.kube.kubectl("patch", "pod", metadata["name"], "-n", metadata["namespace"],
                                   "--subresource=status", "--type=merge", "-p", json.dumps({"status": status}),
                                   check=False)
        if result.returncode == 0:
            self.reported[metadata["uid"]] = comparable

    def _tend(self, pod: dict[str, Any]) -> None:
        metadata, uid = pod["metadata"], pod["metadata"]["uid"]
        where = ["-n", metadata["namespace"]]
        if metadata.get("deletionTimestamp"):
            self.runtime.stop(uid)
            self.reported.pop(uid, None)
            self.ips.pop(uid, None)
            self.kube.kubectl("delete", "pod", metadata["name"], *where, "--grace-period=0", "--force",
                              "--ignore-not-found", check=False)
        elif not pod["spec"].get("nodeName"):
            binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": metadata["name"]},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME}}
            self.kube.kubectl("create", "--raw",
                              f"/api/v1/namespaces/{metadata['namespace']}/pods/{metadata['name']}/binding",
                              "-f", "-", stdin=json.dumps(binding), check=False)
        elif uid in self.runtime.running:
            self._report(pod, pod_status(pod, self._ip(uid), self.runtime.status(uid)))
        elif missing := missing_images(pod):
            waiting = [{"name": name, "image": image, "imageID": "", "ready": False, "started": False,
                        "restartCount": 0, "state": {"waiting": {"reason": "ErrImagePull", "message": why}}}
                       for name, image, why in missing]
            self._report(pod, {**pod_status(pod, self._ip(uid), waiting), "phase": "Pending"})
        elif runnable(pod):
            if self.runtime.start(pod, self._ip(uid)):
                self._report(pod, pod_status(pod, self._ip(uid), self.runtime.status(uid)))
        elif pod.get("status", {}).get("phase") != "Running":
            self._report(pod, pod_status(pod, self._ip(uid), standing_containers(pod)))

    def _record(self, what: str) -> None:
        with (self.node / "kubelet.log").open("a") as log:
            log.write(f"{now()} {what}: {traceback.format_exc()}\n")

    def _run(self) -> None:
        while not self._stop.wait(1):
            objects = self._objects()
            if not objects:
                continue
            by_kind: dict[str, list[dict[str, Any]]] = {}
            for item in objects:
                by_kind.setdefault(item["kind"], []).append(item)
            pods = by_kind.get("Pod", [])
            # A fault in one pod's care is written down and retried next round, never fatal to
            # the rest, as the kubelet's sync loop does.
            try:
                self.services.update(by_kind.get("Service", []), by_kind.get("Endpoints", []))
            except Exception:  # noqa: BLE001
                self._record("services")
            for pod in pods:
                try:
                    self._tend(pod)
                except Exception:  # noqa: BLE001
                    self._record(f"pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
            # Pods deleted without us (a namespace's deletion, a forced delete) stop too.
            for uid in set(self.runtime.running) - {pod["metadata"]["uid"] for pod in pods}:
                self.runtime.stop(uid)

    def register_node(self) -> None:
        """The Node, reported Ready with room for pods, as a kubelet registers it; then without the
        not-ready taint that admission gave it, as the node lifecycle controller takes it off."""
        self.node.mkdir(parents=True, exist_ok=True)
        self.kube.apply([{"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE_NAME}}])
        ready = now()
        room = {"cpu": "4", "memory": "16Gi", "pods": "110"}
        status = {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                  "lastHeartbeatTime": ready, "lastTransitionTime": ready}],
                  "capacity": room, "allocatable": room, "addresses": [{"type": "InternalIP", "address": LOOPBACK}]}
        self.kube.kubectl("patch", "node", NODE_NAME, "--subresource=status", "--type=merge",
                          "-p", json.dumps({"status": status}))
        self.kube.kubectl("taint", "node", NODE_NAME, f"{NOT_READY_TAINT}:NoSchedule-", check=False)

    def __enter__(self) -> "Kubelet":
        self.register_node()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.runtime.close()
        self.services.close()


@contextmanager
def flux_cluster(workdir: Path) -> Iterator[ApiServer]:
    """A control plane with these controllers and the Kubelet stand-in, Flux's CRDs and the shared
    ones, Flux's namespace and its default controllers rolled out; all stopped on exit."""
    with control_plane(workdir) as kube, controller_manager(kube), Kubelet(kube):
        install_crds(kube)
        install_flux_namespace(kube)
        install_flux_controllers(kube)
        yield kube
