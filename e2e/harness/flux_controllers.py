"""Flux's four default controllers, the real binaries, run as a cluster runs them: against the real
API server, each posting its events to the real notification-controller, source-controller serving
artifacts on loopback, and each container's output written where and how a kubelet writes it, so
the real log agent reads it from the pods directory.

Each controller's metrics listen on a loopback address of its own at the rendered port (8080), so
the rendered scrape targets (`<controller>-metrics.<namespace>.svc:8080`) map one to one onto them,
as the metrics Services resolve in a cluster.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from components import constants as c
from e2e.harness.collector import loopback_address
from e2e.harness.flux import Controller, controller, notification_controller
from e2e.harness.kube import LOOPBACK, ApiServer, free_port
from e2e.harness.pods import ContainerOutput

# The Deployment's ReplicaSet hash and pod suffix, as the deployment and ReplicaSet controllers
# name a pod: `<controller>-<hash>-<suffix>`.
POD_NAME_SUFFIX = "5d8f7c9b6d-x4k2p"
# Short waits for a dependency, so a scenario's DependencyNotReady clears within seconds (the
# default is 30 s; kustomize-controller and helm-controller both take the flag).
REQUEUE_DEPENDENCY = "2s"


@dataclass
class FluxControllers:
    """The running controllers by name and their containers' output."""

    running: dict[str, Controller]
    outputs: dict[str, ContainerOutput]
    restart: Callable[..., Controller]
    """`restart(name, args={...})` starts a stopped controller again with the same flags and
    addresses, and `args` added or overriding. The new process logs to a file of its own, not the
    pods directory: a test reads each container's output as one file, which a second run of the
    container would split."""


def metrics_hosts() -> dict[str, str]:
    """A loopback address of its own for each default controller's metrics, free at the rendered
    port: what `<controller>-metrics.<namespace>.svc` resolves to here."""
    return {name: loopback_address((c.FLUX_METRICS_PORT,)) for name in c.FLUX_DEFAULT_CONTROLLERS}


@contextmanager
def flux_controllers(kube: ApiServer, workdir: Path, pods: Path, hosts: dict[str, str]) -> Iterator[FluxControllers]:
    """notification-controller, then source-, kustomize- and helm-controller, each serving metrics
    at its `hosts` address and the rendered port, its output under `pods`; all stopped on exit, in
    reverse order."""
    workdir = Path(workdir)
    outputs = {name: ContainerOutput(pods, c.FLUX_NAMESPACE, f"{name}-{POD_NAME_SUFFIX}")
               for name in c.FLUX_DEFAULT_CONTROLLERS}
    port = c.FLUX_METRICS_PORT
    with ExitStack() as stack:
        for output in outputs.values():
            stack.callback(output.close)
        notification = stack.enter_context(notification_controller(
            kube, workdir, output=outputs["notification-controller"],
            metrics_host=hosts["notification-controller"], metrics_port=port))
        running: dict[str, Controller] = {notification.name: notification}
        storage = free_port()
        (workdir / "storage").mkdir(parents=True, exist_ok=True)
        per_controller = {
            "source-controller": {"storage-path": str(workdir / "storage"),
                                  "storage-addr": f"{LOOPBACK}:{storage}", "storage-adv-addr": f"{LOOPBACK}:{storage}"},
            "kustomize-controller": {"requeue-dependency": REQUEUE_DEPENDENCY},
            "helm-controller": {"requeue-dependency": REQUEUE_DEPENDENCY},
        }

        def start(name: str, output: ContainerOutput | None = None, args: dict[str, str] | None = None) -> Controller:
            args = {"events-addr": notification.events_url.rstrip("/"), **per_controller[name], **(args or {})}
            running[name] = stack.enter_context(controller(
                name, kube, workdir, args=args, output=output, metrics_host=hosts[name], metrics_port=port))
            return running[name]

        for name in per_controller:
            start(name, outputs[name])
        yield FluxControllers(running, outputs, start)
