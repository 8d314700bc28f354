"""The Pulumi program the multi-cluster benchmark runs: the multi-cluster example of
docs/programs.md, with the prod stack's settings for every cluster and `bench:clusters` clusters
(cluster-001, ...)."""

import pulumi
import pulumi_kubernetes as k8s

from components import FluxObservability, parse_stack_config

bench = pulumi.Config("bench")
cluster_keys = bench.require_object("clusterConfig")
token = bench.require_secret("exportToken")

for index in range(1, bench.require_int("clusters") + 1):
    cluster_name = f"cluster-{index:03d}"
    config = parse_stack_config({**cluster_keys, "clusterName": cluster_name})
    provider = k8s.Provider(f"k8s-{cluster_name}", context=cluster_name)
    flux = FluxObservability(
        f"flux-observability-{cluster_name}",
        config,
        opts=pulumi.ResourceOptions(provider=provider),
        export_token=token,
    )
    pulumi.export(cluster_name, flux.outputs)
