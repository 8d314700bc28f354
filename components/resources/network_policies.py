"""FluxNetworkPolicies: the NetworkPolicies a plan lists for the package's namespaces."""

from __future__ import annotations

from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s


class FluxNetworkPolicies(pulumi.ComponentResource):
    """One NetworkPolicy per manifest (builders/network_policies.py); each namespace must exist first."""

    def __init__(self, name: str, policies: list[dict[str, Any]], opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("fluxcd-otel:index:FluxNetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.policies = [
            k8s.networking.v1.NetworkPolicy(f"{name}-{policy['metadata']['name']}", metadata=policy["metadata"],
                                            spec=policy["spec"], opts=child)
            for policy in policies
        ]
        self.register_outputs({})
