"""FluxTracing: the notification-controller `otel` Provider and the Alert that feeds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_kubernetes as k8s

from .. import constants as c
from ..builders import manifests
from ..config import TracingSettings


@dataclass(frozen=True)
class FluxTracingArgs:
    address: str
    """OTLP/HTTP base URL or traces URL the Provider posts spans to."""
    cluster_name: str
    flux_namespace: str = c.FLUX_NAMESPACE
    tracing: TracingSettings = TracingSettings()
    traced_kinds: list[str] = field(default_factory=lambda: list(c.FLUX_TRACEABLE_KINDS))
    """Kinds selected when `tracing.eventSources` is not set."""
    headers: Optional[pulumi.Input[Mapping[str, str]]] = None
    """Secret Output of headers (e.g. Authorization); stored in the Provider's Secret."""
    headers_later: bool = False
    """The Provider names its Secret, which the caller writes with `provider_auth_secret` once the
    headers exist: the gateway's receiver token, made after the Alert the gateway needs."""


def provider_auth_secret(tracing: "FluxTracing", headers: pulumi.Input[Mapping[str, str]]) -> k8s.core.v1.Secret:
    """The Provider's Secret: notification-controller builds its request headers only from the
    `headers` key."""
    return k8s.core.v1.Secret(
        f"{tracing.pulumi_resource_name}-provider-auth",
        metadata=manifests.object_metadata(manifests.provider_secret_name(tracing.settings.provider_name),
                                           tracing.namespace, "tracing"),
        type="Opaque",
        string_data={
            c.PROVIDER_SECRET_HEADERS_KEY: pulumi.Output.secret(headers).apply(
                lambda given: manifests.provider_headers_yaml(dict(given))
            )
        },
        opts=pulumi.ResourceOptions(parent=tracing),
    )


class FluxTracing(pulumi.ComponentResource):
    """Provider (v1beta3, type otel), optional auth Secret, and Alert in the Flux namespace."""

    service_name: str
    """`service.name` of the spans: `<alert namespace>/<alert name>`."""
    alert_ref: str
    alert_uid: pulumi.Output[str]
    """The Alert's UID, known once the Alert exists; Flux derives trace IDs from it."""
    event_sources: list[dict]
    """The Alert's `spec.eventSources`."""

    def __init__(self, name: str, args: FluxTracingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("fluxcd-otel:index:FluxTracing", name, None, opts)
        tracing = self.settings = args.tracing
        namespace = self.namespace = args.flux_namespace
        secret_name = (manifests.provider_secret_name(tracing.provider_name)
                       if args.headers is not None or args.headers_later else None)
        self.auth_secret = None
        if args.headers is not None:
            self.auth_secret = provider_auth_secret(self, args.headers)
        self.address = manifests.traces_url(args.address)
        self.provider = k8s.apiextensions.CustomResource(
            f"{name}-provider",
            api_version=c.NOTIFICATION_API_VERSION,
            kind="Provider",
            metadata=manifests.object_metadata(tracing.provider_name, namespace, "tracing"),
            spec=manifests.otel_provider_spec(self.address, tracing.timeout, secret_name),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.auth_secret] if self.auth_secret else []),
        )
        alert_spec = manifests.alert_spec(
            provider_name=tracing.provider_name,
            flux_namespace=namespace,
            cluster_name=args.cluster_name,
            tracing=tracing,
            traced_kinds=args.traced_kinds,
        )
        self.alert = k8s.apiextensions.CustomResource(
            f"{name}-alert",
            api_version=c.NOTIFICATION_API_VERSION,
            kind="Alert",
            metadata=manifests.object_metadata(tracing.alert_name, namespace, "tracing"),
            spec=alert_spec,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.provider]),
        )
        # CustomResource declares no output properties; the engine sets `metadata` as an Output.
        self.alert_uid = self.alert.metadata.apply(lambda metadata: metadata["uid"])  # type: ignore[attr-defined]
        self.event_sources = alert_spec["eventSources"]
        self.service_name = f"{namespace}/{tracing.alert_name}"
        self.alert_ref = self.service_name
        self.register_outputs({"service_name": self.service_name, "provider_address": self.address})
