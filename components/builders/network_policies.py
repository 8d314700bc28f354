"""NetworkPolicies of the package's namespaces (collector mode): who may reach each of its pods.

Only ingress is restricted. The gateway takes OTLP from Flux's namespace (the notification-
controller's spans) and from the log agents' namespace, and its own metrics port from itself (it
scrapes its pod address); kube-state-metrics serves its metrics to the gateway alone; the log agent
takes nothing but its own metrics scrape. Kubelet probes come from the pod's node, which a
NetworkPolicy cannot block (kubernetes.io, Network Policies: "What you can't do with network
policies"), so no rule names them. Pods are selected by the labels the charts give them
(`app.kubernetes.io/name` and `app.kubernetes.io/instance`, each chart's selector labels).
"""

from __future__ import annotations

from typing import Any

from .. import constants as c
from . import manifests

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
COMPONENT = "network-policy"


def chart_pods(chart: str, release_name: str) -> dict[str, str]:
    """The selector labels the chart gives every pod of a release."""
    return {"app.kubernetes.io/name": chart, "app.kubernetes.io/instance": release_name}


def _ports(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def _policy(name: str, namespace: str, pods: dict[str, str], ingress: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": manifests.object_metadata(name, namespace, COMPONENT),
        "spec": {"podSelector": {"matchLabels": pods}, "policyTypes": ["Ingress"], "ingress": ingress},
    }


def gateway_policy(release_name: str, namespace: str, writers: list[str]) -> dict[str, Any]:
    """OTLP from the namespaces in `writers`; its own metrics from itself."""
    gateway = chart_pods(c.COLLECTOR_CHART, release_name)
    ingress = [{"from": [{"podSelector": {"matchLabels": gateway}}], "ports": _ports(c.COLLECTOR_TELEMETRY_PORT)}]
    if writers:  # A rule with no `from` would admit every source.
        namespaces = [{"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}} for name in sorted(writers)]
        ingress.insert(0, {"from": namespaces, "ports": _ports(c.OTLP_GRPC_PORT, c.OTLP_HTTP_PORT)})
    return _policy(release_name, namespace, gateway, ingress)


def log_agent_policy(release_name: str, namespace: str) -> dict[str, Any]:
    """Its own metrics from itself, nothing else."""
    agent = chart_pods(c.COLLECTOR_CHART, release_name)
    return _policy(release_name, namespace, agent, [
        {"from": [{"podSelector": {"matchLabels": agent}}], "ports": _ports(c.COLLECTOR_TELEMETRY_PORT)},
    ])


def object_health_policy(release_name: str, namespace: str, gateway_release: str) -> dict[str, Any]:
    """Its metrics to the gateway, which runs in the same namespace."""
    return _policy(release_name, namespace, chart_pods(c.KSM_CHART, release_name), [
        {"from": [{"podSelector": {"matchLabels": chart_pods(c.COLLECTOR_CHART, gateway_release)}}],
         "ports": _ports(c.KSM_METRICS_PORT)},
    ])
