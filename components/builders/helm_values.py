"""Pure builders of the `opentelemetry-collector` chart values for the gateway and the log agent.

Both releases take the complete collector config through `alternateConfig` (no merge with the
chart's defaults, which Pulumi could not null out) and switch off every default port they do
not serve. Security contexts are the least each workload needs.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from .. import constants as c
from ..config import ImageSettings, ResourceSettings, SendingQueueSettings
from .collector_configs import CHECKPOINT_MOUNT, NODE_NAME_ENV, QUEUE_MOUNT

RESTRICTED_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": c.COLLECTOR_UID,
    "runAsGroup": c.COLLECTOR_UID,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _ports(enabled: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Every chart default port off, except the named ones (with their container port)."""
    ports: dict[str, dict[str, Any]] = {name: {"enabled": False} for name in c.COLLECTOR_CHART_DEFAULT_PORTS}
    for name, port in enabled.items():
        ports[name] = {"enabled": True, "containerPort": port, "servicePort": port, "protocol": "TCP"}
    return ports


def _common(
    *, mode: str, fullname: str, image: ImageSettings, resources: ResourceSettings, config: dict[str, Any]
) -> dict[str, Any]:
    return {
        "mode": mode,
        "fullnameOverride": fullname,
        "image": {"repository": image.repository, "tag": image.tag},
        "command": {"name": c.COLLECTOR_COMMAND},
        "alternateConfig": config,
        "resources": resources.as_kubernetes(),
        "useGOMEMLIMIT": True,
        "podLabels": dict(c.PART_OF_LABELS),
        # Static scrape targets, OTLP and file paths need no Kubernetes API access; the gateway's
        # event watch gets namespaced Roles (gateway_values), never a ClusterRole.
        "serviceAccount": {"create": True, "automountServiceAccountToken": False},
        "clusterRole": {"create": False},
    }


QUEUE_VOLUME = "queue"


def queue_storage(queue: Optional[SendingQueueSettings]) -> dict[str, Any]:
    """Workload mode and volume of the gateway's export queue.

    A PersistentVolumeClaim per pod needs the chart's statefulset mode; an emptyDir keeps the
    Deployment. Without a queue (debug exporter) the gateway is a plain Deployment.
    """
    if queue is None:
        return {"mode": "deployment"}
    mount = {"extraVolumeMounts": [{"name": QUEUE_VOLUME, "mountPath": QUEUE_MOUNT}]}
    if queue.storage == "emptyDir":
        volume = {"name": QUEUE_VOLUME, "emptyDir": {"sizeLimit": queue.volume_size}}
        return {"mode": "deployment", "extraVolumes": [volume], **mount}
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": queue.volume_size}},
    }
    if queue.storage_class_name is not None:
        claim["storageClassName"] = queue.storage_class_name
    template = {"metadata": {"name": QUEUE_VOLUME}, "spec": claim}
    return {"mode": "statefulset", "statefulset": {"volumeClaimTemplates": [template]}, **mount}


def gateway_values(
    *,
    fullname: str,
    image: ImageSettings,
    resources: ResourceSettings,
    replicas: int,
    config: dict[str, Any],
    secret_env: Sequence[dict[str, Any]] = (),
    queue: Optional[SendingQueueSettings],
    watches_events: bool = False,
) -> dict[str, Any]:
    """A pod that passes the `restricted` Pod Security level; `secret_env` hands it the export
    secrets and the receiver tokens.

    `fsGroup` makes the queue volume writable by the collector's uid. Only a gateway that
    `watches_events` mounts its service-account token, which its event reader Roles need.
    """
    storage = queue_storage(queue)
    receivers_protocols = config["receivers"].get("otlp", {}).get("protocols", {})
    served = {}
    if "grpc" in receivers_protocols:
        served["otlp"] = c.OTLP_GRPC_PORT
    if "http" in receivers_protocols:
        served["otlp-http"] = c.OTLP_HTTP_PORT
    values = _common(mode=storage.pop("mode"), fullname=fullname, image=image, resources=resources, config=config)
    values.update(storage)
    values.update(
        {
            "replicaCount": replicas,
            "ports": _ports(served),
            "podSecurityContext": {
                "runAsNonRoot": True,
                "runAsUser": c.COLLECTOR_UID,
                "fsGroup": c.COLLECTOR_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "securityContext": RESTRICTED_CONTAINER_SECURITY,
        }
    )
    if watches_events:
        values["serviceAccount"]["automountServiceAccountToken"] = True
    if secret_env:
        values["extraEnvs"] = list(secret_env)
    return values


def log_agent_values(
    *,
    fullname: str,
    image: ImageSettings,
    resources: ResourceSettings,
    config: dict[str, Any],
    checkpoint_host_dir: str,
    node_name_env: bool = False,
    secret_env: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A DaemonSet that reads host log files: read-only log mount, no ports, no capabilities.
    With `node_name_env`, the container learns its node's name (its own metrics carry it);
    `secret_env` hands it the receiver token.

    It runs as uid 0 because kubelet writes pod logs as root with mode 0640; with every
    capability dropped, root can read them (as owner) and nothing more.
    """
    values = _common(mode="daemonset", fullname=fullname, image=image, resources=resources, config=config)
    values.update(
        {
            "ports": _ports({}),
            "service": {"enabled": False},
            "podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": False,
                "runAsUser": 0,
                "runAsGroup": 0,
                "privileged": False,
            },
            "extraVolumes": [
                {"name": "pod-logs", "hostPath": {"path": c.KUBELET_POD_LOG_DIR, "type": "Directory"}},
                {"name": "checkpoints", "hostPath": {"path": checkpoint_host_dir, "type": "DirectoryOrCreate"}},
            ],
            "extraVolumeMounts": [
                {"name": "pod-logs", "mountPath": c.KUBELET_POD_LOG_DIR, "readOnly": True},
                {"name": "checkpoints", "mountPath": CHECKPOINT_MOUNT},
            ],
            "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
        }
    )
    env = list(secret_env)
    if node_name_env:
        env.append({"name": NODE_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}})
    if env:
        values["extraEnvs"] = env
    return values
