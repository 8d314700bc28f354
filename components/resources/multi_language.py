"""FluxObservability as a multi-language component, served by `provider/` to TypeScript, Go, C#
and YAML programs through the Pulumi SDK's component provider host.

The host builds the package schema from the annotations here and in `multi_language_args`
(generated from the StackConfig model). This component validates its arguments with that same
model and composes the Python FluxObservability. No `from __future__ import annotations`: the
host reads these annotations as types.
"""

import json
from enum import Enum
from typing import Any, Optional, cast

import pulumi
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.server import ComponentInitError

from .. import constants as c
from ..config import SECRET_KEYS, ConfigError, StackConfig, format_errors, parse_stack_config
from . import flux_observability
from .multi_language_args import FluxObservabilityArgs

PACKAGE_NAME = c.PROJECT

SECRET_ARGUMENTS = tuple(
    name for name, field in StackConfig.model_fields.items() if (field.alias or name) in SECRET_KEYS
)


# Its header names shape the gateway's config, so they must be known as the component is
# constructed: a map of values (secret or plain), not one secret holding the whole map.
PER_ENTRY_SECRETS = "export_headers"
# The model's alias generator gives every field an alias.
PER_ENTRY_KEY = cast(str, StackConfig.model_fields[PER_ENTRY_SECRETS].alias)
# Marked secret in the schema, so a program's SDK treats a plain value as a secret, as for any
# provider's secret input. The engine keeps no inputs of a component a provider constructs, so
# a plain value reaches no state either way; the component makes every one a secret Output.
SINGLE_SECRETS = tuple(key for key in SECRET_ARGUMENTS if key != PER_ENTRY_SECRETS)
WHOLE_MAP = ("must be a map of header names to values, not one secret holding the whole map: the names shape the"
             " gateway's config (e.g. {\"x-api-key\": pulumi.secret(key)})")


def _plain_values(value: Any) -> Any:
    """Arguments with the Enum members the host hands over replaced by their values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _plain_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_values(item) for item in value]
    return value


# The host names the served component after its class, so programs in every language create a
# `FluxObservability` as Python programs do; this one takes the configuration's keys as its
# arguments and composes the Python one (flux_observability.FluxObservability).
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
    (
        "With object health: the kube-state-metrics release reporting Flux object readiness, as "
        "`<namespace>/<releaseName>`."
    )
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
        if not isinstance(values.get(PER_ENTRY_SECRETS, {}), dict):
            raise ConfigError(format_errors(PACKAGE_NAME, [(PER_ENTRY_KEY, WHOLE_MAP)]))
        # Plain or secret, each becomes a secret Output in the composed component.
        secrets = {key: values.pop(key) for key in SECRET_ARGUMENTS if key in values}
        config = parse_stack_config(values)
        super().__init__(f"{PACKAGE_NAME}:index:FluxObservability", name, None, opts)
        observability = flux_observability.FluxObservability(name, config, opts=pulumi.ResourceOptions(parent=self),
                                                             **secrets)
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

    schema: str
    """The package schema as JSON: ComponentProvider always builds one (Provider's may be None)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = json.loads(self.schema)
        inputs = schema["resources"][f"{PACKAGE_NAME}:index:{FluxObservability.__name__}"]["inputProperties"]
        for key in SINGLE_SECRETS:
            inputs[StackConfig.model_fields[key].alias or key]["secret"] = True
        self.schema = json.dumps(schema)

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
