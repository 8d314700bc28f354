"""The pods the charts render from the values the package gives them, and the Pod Security
Standards checks (Kubernetes docs, "Pod Security Standards") both tiers hold them to.

Only the controls a collector or kube-state-metrics pod can touch are checked; each returns the
violated control's name so a failing test says which rule broke.
"""

from __future__ import annotations

from typing import Any

from components import constants as c

LEVELS = ("privileged", "baseline", "restricted")
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
RESTRICTED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}


def collector_pod(values: dict[str, Any]) -> dict[str, Any]:
    """The pod the `opentelemetry-collector` chart renders from these values, as far as Pod
    Security is concerned (in daemonset mode every enabled port is also a hostPort)."""
    daemonset = values["mode"] == "daemonset"
    ports = [
        {"name": name, "containerPort": port["containerPort"],
         **({"hostPort": port["containerPort"]} if daemonset else {})}
        for name, port in sorted(values.get("ports", {}).items())
        if port.get("enabled")
    ]
    claims = values.get("statefulset", {}).get("volumeClaimTemplates", [])
    volumes = values.get("extraVolumes", []) + [
        {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
        for claim in claims
    ]
    container = {
        "name": "opentelemetry-collector",
        "image": f"{values['image']['repository']}:{values['image']['tag']}",
        "securityContext": values.get("securityContext", {}),
        "resources": values["resources"],
        "ports": ports,
        "volumeMounts": values.get("extraVolumeMounts", []),
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": values["fullnameOverride"]},
        "spec": {
            "securityContext": values.get("podSecurityContext", {}),
            "hostNetwork": values.get("hostNetwork", False),
            "hostPID": values.get("hostPID", False),
            "automountServiceAccountToken": values["serviceAccount"]["automountServiceAccountToken"],
            "containers": [container],
            "volumes": volumes,
        },
    }


def kube_state_metrics_pod(chart_values: dict[str, Any]) -> dict[str, Any]:
    """The pod the `kube-state-metrics` chart's deployment.yaml renders from these values, as far
    as Pod Security and the Kubernetes schema are concerned."""
    fullname = chart_values["fullnameOverride"]
    image = chart_values["image"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": fullname, "annotations": chart_values.get("podAnnotations", {})},
        "spec": {
            "automountServiceAccountToken": chart_values.get("automountServiceAccountToken", True),
            "hostNetwork": chart_values.get("hostNetwork", False),
            "securityContext": {k: v for k, v in chart_values["securityContext"].items() if k != "enabled"},
            "containers": [{
                "name": "kube-state-metrics",
                "image": f"{image['registry']}/{image['repository']}:{image['tag']}",
                "args": [*chart_values["extraArgs"], f"--port={chart_values['service']['port']}",
                         "--custom-resource-state-config-file=/etc/customresourcestate/config.yaml"],
                "ports": [{"containerPort": chart_values["service"]["port"], "name": "http"}],
                "resources": chart_values["resources"],
                "securityContext": chart_values["containerSecurityContext"],
                "volumeMounts": [{"name": "customresourcestate-config", "mountPath": "/etc/customresourcestate",
                                  "readOnly": True}],
            }],
            "volumes": [{"name": "customresourcestate-config",
                         "configMap": {"name": f"{fullname}-customresourcestate-config"}}],
        },
    }


def _baseline(pod: dict[str, Any]) -> list[str]:
    spec = pod["spec"]
    violations = []
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        violations.append("host namespaces")
    if any("hostPath" in volume for volume in spec.get("volumes", [])):
        violations.append("hostPath volumes")
    for container in spec["containers"]:
        context = container.get("securityContext", {})
        if context.get("privileged"):
            violations.append("privileged containers")
        if set(context.get("capabilities", {}).get("add", [])) - BASELINE_CAPABILITIES:
            violations.append("capabilities")
        if any(port.get("hostPort") for port in container.get("ports", [])):
            violations.append("host ports")
        seccomp = context.get("seccompProfile", spec["securityContext"].get("seccompProfile", {}))
        if seccomp.get("type") == "Unconfined":
            violations.append("seccomp")
    return violations


def _restricted(pod: dict[str, Any]) -> list[str]:
    spec = pod["spec"]
    pod_context = spec["securityContext"]
    violations = []
    if any(not set(volume) - {"name"} <= RESTRICTED_VOLUME_TYPES for volume in spec.get("volumes", [])):
        violations.append("volume types")
    for container in spec["containers"]:
        context = container.get("securityContext", {})
        if context.get("allowPrivilegeEscalation") is not False:
            violations.append("privilege escalation")
        if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
            violations.append("running as non-root")
        if 0 in (context.get("runAsUser"), pod_context.get("runAsUser")):
            violations.append("running as non-root user")
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            violations.append("seccomp")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []) or set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            violations.append("capabilities")
    return violations


def violations(pod: dict[str, Any], level: str) -> list[str]:
    """Controls of `level` (privileged, baseline or restricted) that the pod breaks."""
    if level == "privileged":
        return []
    found = _baseline(pod)
    if level == "restricted":
        found += _restricted(pod)
    return sorted(set(found))


def narrowest_level(pod: dict[str, Any]) -> str:
    return next(level for level in reversed(LEVELS) if not violations(pod, level))


def namespace_level(namespace: dict[str, Any]) -> str:
    return namespace["metadata"]["labels"][c.POD_SECURITY_ENFORCE_LABEL]
