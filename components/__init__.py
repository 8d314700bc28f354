"""fluxcd-otel: observe FluxCD with OpenTelemetry, as composable Pulumi components."""

from .collector_gateway import CollectorGateway, CollectorGatewayArgs
from .config import ConfigError, StackConfig, load_stack_config, parse_stack_config
from .dash0_monitoring import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from .flux_alert_rules import FluxAlertRules, FluxAlertRulesArgs
from .flux_dashboards import FluxDashboards
from .flux_health import FluxObjectHealth, FluxObjectHealthArgs
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
    "FluxAlertRules",
    "FluxAlertRulesArgs",
    "FluxDashboards",
    "FluxLogAgent",
    "FluxLogAgentArgs",
    "FluxMetricsServices",
    "FluxObjectHealth",
    "FluxObjectHealthArgs",
    "FluxObservability",
    "FluxTracing",
    "FluxTracingArgs",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
