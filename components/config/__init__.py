"""The stack configuration: one pydantic model, read from `pulumi.Config` and validated up front.

Every key a stack file may set is declared once in this package, with its type, default and
description, one module per section; validation, docs/configuration.md, the stack-file JSON Schema
and the multi-language component's typed arguments all come from it.
"""

from .alerts import AlertRuleSettings, AlertSettings, DeliverySettings
from .collector import GatewaySettings, ImageSettings, LogAgentSettings, ResourceSettings, SendingQueueSettings
from .errors import ConfigError, format_errors
from .exporter import ExportCredentials, ExporterSettings, export_credential_problems
from .flux import EventSource, FluxSettings, SignalSettings, TracingSettings
from .loading import load_stack_config, parse_stack_config
from .messages import edit_distance, is_near_miss, namespace_near_misses, own_namespace_keys, unwrap, words_of
from .object_health import ObjectHealthSettings
from .secrets import how_to_set_secret
from .stack import SECRET_KEYS, SECRET_MAPS, Dash0OperatorSettings, StackConfig
from .values import (
    CPU_WORDS,
    DNS_LABEL,
    DURATION_WORDS,
    K8S_NAME_WORDS,
    MEMORY_WORDS,
    PROMETHEUS_DURATION_WORDS,
    PROVIDER_TIMEOUT_WORDS,
    VERSION_WORDS,
    duration_seconds,
    memory_mib,
    prometheus_duration_seconds,
)

__all__ = [
    "AlertRuleSettings",
    "AlertSettings",
    "CPU_WORDS",
    "ConfigError",
    "DNS_LABEL",
    "DURATION_WORDS",
    "Dash0OperatorSettings",
    "DeliverySettings",
    "EventSource",
    "ExporterSettings",
    "FluxSettings",
    "GatewaySettings",
    "ImageSettings",
    "K8S_NAME_WORDS",
    "LogAgentSettings",
    "MEMORY_WORDS",
    "ObjectHealthSettings",
    "PROMETHEUS_DURATION_WORDS",
    "PROVIDER_TIMEOUT_WORDS",
    "ResourceSettings",
    "SECRET_KEYS",
    "SECRET_MAPS",
    "SendingQueueSettings",
    "SignalSettings",
    "StackConfig",
    "TracingSettings",
    "VERSION_WORDS",
    "duration_seconds",
    "edit_distance",
    "ExportCredentials",
    "export_credential_problems",
    "format_errors",
    "how_to_set_secret",
    "is_near_miss",
    "load_stack_config",
    "memory_mib",
    "namespace_near_misses",
    "own_namespace_keys",
    "parse_stack_config",
    "prometheus_duration_seconds",
    "unwrap",
    "words_of",
]
