"""FluxObservability as a multi-language component, served by `provider/` to TypeScript, Go, C#
and YAML programs through the Pulumi SDK's component provider host.

The host builds the package schema from the annotations here and in `multi_language_args`
(generated from the StackConfig model). This component validates its arguments with that same
model and composes the Python FluxObservability. No `from __future__ import annotations`: the
host reads these annotations as types.
"""

from enum import Enum
from typing import Any, Optional

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.server import ComponentInitError

from .. import constants as c
from ..config import SECRET_KEYS, ConfigError, StackConfig, format_errors, parse_stack_config
from .flux_observability import FluxObservability as ClusterObservability
from .multi_language_args import FluxObservabilityArgs

PACKAGE_NAME = c.PROJECT

SECRET_ARGUMENTS = tuple(name for name, field in StackConfig.model_fields.items() if (field.alias or name) in SECRET_KEYS)


# Its header names shape the gateway's config, so they must be known as the component is
# constructed: a map whose values are secrets, not one secret holding the whole map.
PER_ENTRY_SECRETS = "export_headers"
PER_ENTRY_KEY = StackConfig.model_fields[PER_ENTRY_SECRETS].alias
SINGLE_SECRETS = tuple(key for key in SECRET_ARGUMENTS if key != PER_ENTRY_SECRETS)
NOT_A_SECRET = "must be a secret (pulumi.secret or Config.requireSecret)"


def _per_entry_problems(headers: Any) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        return [(PER_ENTRY_KEY, "must be a map of header names to secrets, not one secret holding the whole map:"
                                " the names shape the gateway's config (e.g. {\"x-api-key\": pulumi.secret(key)})")]
    return [
        (f"{PER_ENTRY_KEY}.{name}", NOT_A_SECRET)
        for name, value in sorted(headers.items())
        if not isinstance(value, pulumi.Output)
    ]


def _plain_values(value: Any) -> Any:
    """Arguments with the Enum members the host hands over replaced by their values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_values(item) for item in value]
    return value


class FluxObservability(pulumi.ComponentResource):
    """Flux metrics, traces and logs of one Kubernetes cluster (the provider in `providers`) via OpenTelemetry."""

    mode: pulumi.Output[str]
    """`collector` or `dash0-operator`, as configured."""
    cluster_name: pulumi.Output[str]
    """The configured cluster name, set as `k8s.cluster.name` on every signal."""
    scrape_targets: Optional[pulumi.Output[list[str]]]
    """collector mode with metrics: the `host:port` targets the gateway scrapes, one per Flux controller."""
    gateway_otlp_grpc_endpoint: Optional[pulumi.Output[str]]
    """collector mode: the gateway's in-cluster OTLP/gRPC endpoint (`host:port`)."""
    gateway_otlp_http_endpoint: Optional[pulumi.Output[str]]
    """collector mode: the gateway's in-cluster OTLP/HTTP base URL."""
    log_paths: Optional[pulumi.Output[list[str]]]
    """collector mode with logs: the log file patterns the agent tails on each node."""
    dash0_monitoring: Optional[pulumi.Output[str]]
    """dash0-operator mode with metrics or logs: the Dash0Monitoring resource as `<namespace>/<name>`."""
    object_health: Optional[pulumi.Output[str]]
    """With object health: the kube-state-metrics release reporting Flux object readiness, as `<namespace>/<releaseName>`."""
    alert_rules: Optional[pulumi.Output[str]]
    """With metrics and alerts: the PrometheusRule as `<namespace>/<name>`."""
    dashboards: Optional[pulumi.Output[list[str]]]
    """With metrics and dashboards: each PersesDashboard as `<namespace>/<name>`."""
    provider_address: Optional[pulumi.Output[str]]
    """With traces: the OTLP/HTTP traces URL of the Flux `otel` Provider."""
    trace_service_name: Optional[pulumi.Output[str]]
    """With traces: the `service.name` of the Flux spans, `<flux namespace>/<alertName>`."""
    alert: Optional[pulumi.Output[str]]
    """With traces: the Flux Alert as `<namespace>/<name>`."""

    def __init__(self, name: str, args: FluxObservabilityArgs, opts: Optional[pulumi.ResourceOptions] = None):
        values = _plain_values(dict(args))
        # A secret argument arrives as an Output when the caller marks it secret or takes it from
        # another resource. A plain value would already sit unencrypted in the engine's state as
        # this component's input, so it is refused, as plain stack config is.
        problems = [
            (StackConfig.model_fields[key].alias or key, NOT_A_SECRET)
            for key in SINGLE_SECRETS
            if key in values and not isinstance(values[key], pulumi.Output)
        ]
        problems += _per_entry_problems(values.get(PER_ENTRY_SECRETS))
        if problems:
            raise ConfigError(format_errors(PACKAGE_NAME, problems))
        secret_outputs = {
            key: pulumi.Output.secret(values.pop(key)) for key in SINGLE_SECRETS if key in values
        }
        if PER_ENTRY_SECRETS in values:
            secret_outputs[PER_ENTRY_SECRETS] = {name: pulumi.Output.secret(value) for name, value in values.pop(PER_ENTRY_SECRETS).items()}
        config = parse_stack_config(values)
        super().__init__(f"{PACKAGE_NAME}:index:FluxObservability", name, None, opts)
        observability = ClusterObservability(name, config, opts=pulumi.ResourceOptions(parent=self), **secret_outputs)
        attributes = {camel_case(attribute): attribute for attribute in FluxObservability.__annotations__}
        for key, value in observability.outputs.items():
            setattr(self, attributes[key], pulumi.Output.from_input(value))
        self.register_outputs(observability.outputs)


HOSTED_COMPONENTS = [FluxObservability]
# What the SDK's component_provider_host gives a package without a version; its codegen needs one.
PACKAGE_VERSION = "0.0.0"


class FluxComponentProvider(ComponentProvider):
    """The SDK's component provider, except that a configuration mistake reaches the program as
    the one ConfigError message. The SDK wraps whatever the component raises with the
    component's Python stack trace (pulumi@v3.272.0 sdk/python/lib/pulumi/provider/server.py:
    Construct); an InputPropertiesError it passes on as the message alone."""

    def construct(self, name, resource_type, inputs, options=None):
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, ConfigError):
                # The message names every key path; per-property errors would make the engine echo
                # each value, a refused plain secret included. The list must not be None: the SDK
                # reads the status details it builds only from a list.
                raise InputPropertiesError(str(error.inner), []) from None
            raise


def component_provider() -> FluxComponentProvider:
    return FluxComponentProvider(HOSTED_COMPONENTS, PACKAGE_NAME, None, PACKAGE_VERSION)
