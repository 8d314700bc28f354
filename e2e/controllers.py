"""Kubernetes' own controllers for the engine tier and the sandbox, and a stand-in for the kubelet.

The Pulumi Kubernetes provider waits on what controllers do: a Deployment's or DaemonSet's
rollout (the deployment, ReplicaSet and DaemonSet controllers), a Service's Endpoints (the
endpoints controller), a foreground deletion (the garbage collector) and a namespace's deletion
(the namespace controller) (pulumi/pulumi-kubernetes provider/v4@v4.25.0 `pkg/await/deployment.go`,
`service.go`). kube-controller-manager, built at the API server's version, runs those.

No scheduler or kubelet runs here. `Kubelet` stands in for the parts the rollouts wait on: it
registers one Node, Ready; binds each new pod to it, as the scheduler would; reports the pod
Running and Ready with a pod IP, as the kubelet would once the readiness probes pass; and
completes a pod's graceful deletion, as the kubelet does once the containers have stopped.
Nothing runs in the pods.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any, Iterator

from e2e.flux import install_crds, install_flux_controllers, install_flux_namespace
from e2e.kube import LOOPBACK, ApiServer, Process, control_plane, free_port
from e2e.programs import require

# The controllers the provider's and Helm's waits depend on (the log agent is a DaemonSet; a
# gateway with a persistent queue is a StatefulSet, whose claims only lose their protection
# finalizer through the claim-protection controller); and the service-account controller, whose
# `default` ServiceAccount the ServiceAccount admission plugin needs before it admits a pod.
CONTROLLERS = ("deployment-controller", "replicaset-controller", "daemonset-controller", "statefulset-controller",
               "garbage-collector-controller", "namespace-controller", "serviceaccount-controller",
               "endpoints-controller", "persistentvolumeclaim-protection-controller")
NODE_NAME = "stand-in-node"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
FIRST_POD_IP = IPv4Address("10.244.0.10")
POD_CONDITIONS = ("PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready")


@contextmanager
def controller_manager(kube: ApiServer) -> Iterator[Process]:
    """kube-controller-manager with CONTROLLERS against `kube`, serving its health port on
    loopback only; stopped on exit."""
    process = Process("kube-controller-manager", [
        str(require("kube-controller-manager")),
        f"--kubeconfig={kube.admin_kubeconfig}",
        f"--controllers={','.join(CONTROLLERS)}",
        "--leader-elect=false",
        f"--bind-address={LOOPBACK}", f"--secure-port={free_port()}",
    ], kube.workdir)
    try:
        yield process
    finally:
        process.stop()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def running_status(pod: dict[str, Any], ip: IPv4Address) -> dict[str, Any]:
    """What the kubelet reports for a pod whose containers started and passed their probes."""
    started = now()
    return {
        "phase": "Running", "hostIP": LOOPBACK, "hostIPs": [{"ip": LOOPBACK}],
        "podIP": str(ip), "podIPs": [{"ip": str(ip)}], "startTime": started,
        "conditions": [{"type": name, "status": "True", "lastTransitionTime": started} for name in POD_CONDITIONS],
        "containerStatuses": [
            {"name": container["name"], "image": container["image"], "imageID": "", "ready": True, "started": True,
             "restartCount": 0, "state": {"running": {"startedAt": started}}}
            for container in pod["spec"]["containers"]
        ],
    }


class Kubelet:
    """Binds, reports ready and finally deletes pods, once a second, until stopped."""

    def __init__(self, kube: ApiServer) -> None:
        self.kube = kube
        self.next_ip = FIRST_POD_IP
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _pods(self) -> list[dict[str, Any]]:
        result = self.kube.kubectl("get", "pods", "-A", "-o", "json", check=False)
        return json.loads(result.stdout)["items"] if result.returncode == 0 else []

    def _tend(self, pod: dict[str, Any]) -> None:
        metadata = pod["metadata"]
        where = ["-n", metadata["namespace"]]
        if metadata.get("deletionTimestamp"):
            self.kube.kubectl("delete", "pod", metadata["name"], *where, "--grace-period=0", "--force",
                              "--ignore-not-found", check=False)
        elif not pod["spec"].get("nodeName"):
            binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": metadata["name"]},
                       "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME}}
            self.kube.kubectl("create", "--raw",
                              f"/api/v1/namespaces/{metadata['namespace']}/pods/{metadata['name']}/binding",
                              "-f", "-", stdin=json.dumps(binding), check=False)
        elif pod.get("status", {}).get("phase") != "Running":
            status = running_status(pod, self.next_ip)
            self.next_ip += 1
            self.kube.kubectl("patch", "pod", metadata["name"], *where, "--subresource=status", "--type=merge",
                              "-p", json.dumps({"status": status}), check=False)

    def _run(self) -> None:
        while not self._stop.wait(1):
            for pod in self._pods():
                self._tend(pod)

    def register_node(self) -> None:
        """The Node, reported Ready with room for pods, as a kubelet registers it; then without the
        not-ready taint that admission gave it, as the node lifecycle controller takes it off."""
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


@contextmanager
def flux_cluster(workdir: Path) -> Iterator[ApiServer]:
    """A control plane with these controllers and the Kubelet stand-in, Flux's CRDs and the shared
    ones, Flux's namespace and its default controllers rolled out; all stopped on exit."""
    with control_plane(workdir) as kube, controller_manager(kube), Kubelet(kube):
        install_crds(kube)
        install_flux_namespace(kube)
        install_flux_controllers(kube)
        yield kube
