"""A fleet: fluxcd-otel for several clusters in one stack, each through its own Kubernetes provider.

fluxcd-otel comes from its repository (requirements.txt) and is imported as `fluxcd_otel`. The stack
file (Pulumi.prod.yaml) sets:
  observability  fluxcd-otel keys that every cluster shares
  clusters       clusterName -> context, kubeconfig (optional), observability (optional overrides)
  exportToken    secret backend token for every cluster
Every cluster is validated before any resource is declared, so a mistake fails the whole preview
with one message naming the cluster and the key.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from fluxcd_otel import ConfigError, FluxObservability, StackConfig, parse_stack_config

config = pulumi.Config()


def cluster_settings(cluster_name: str, cluster: Any, shared: dict[str, Any]) -> StackConfig:
    key = f"{config.name}:clusters.{cluster_name}"
    if not isinstance(cluster, dict) or not isinstance(cluster.get("context"), str):
        raise ConfigError(f"{key}.context: required, the kubeconfig context of the cluster")
    overrides = cluster.get("observability") or {}
    return parse_stack_config({**shared, **overrides, "clusterName": cluster_name}, namespace=key)


clusters = config.require_object("clusters")
shared = config.get_object("observability") or {}
fleet = {name: cluster_settings(name, clusters[name], shared) for name in sorted(clusters)}
export_token = config.get_secret("exportToken")

for cluster_name, settings in fleet.items():
    cluster = clusters[cluster_name]
    kubeconfig = cluster.get("kubeconfig")
    provider = k8s.Provider(
        f"k8s-{cluster_name}",
        context=cluster["context"],
        # A kubeconfig's contents are credentials: as a secret they are encrypted in the state.
        kubeconfig=None if kubeconfig is None else pulumi.Output.secret(kubeconfig),
    )
    observability = FluxObservability(
        f"flux-observability-{cluster_name}",
        settings,
        opts=pulumi.ResourceOptions(provider=provider),
        export_token=export_token,
    )
    pulumi.export(cluster_name, observability.outputs)
