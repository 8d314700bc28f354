"""fluxcd-otel: observe FluxCD with OpenTelemetry, as composable Pulumi components."""

from .collector_gateway import CollectorGateway, CollectorGatewayArgs
from .config import ConfigError, StackConfig, load_stack_config, parse_stack_config
from .dash0_monitoring import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from .flux_observability import FluxObservability
from .flux_tracing import FluxTracing, FluxTracingArgs
from .log_agent import FluxLogAgent, FluxLogAgentArgs
from .metrics_services import FluxMetricsServices

__all__ = [
    "CollectorGateway",
    "CollectorGatewayArgs",
    "ConfigError",
    "Dash0FluxMonitoring",
    "Dash0FluxMonitoringArgs",
    "FluxLogAgent",
    "FluxLogAgentArgs",
    "FluxMetricsServices",
    "FluxObservability",
    "FluxTracing",
    "FluxTracingArgs",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
