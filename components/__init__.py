"""fluxcd-otel: observe FluxCD with OpenTelemetry, as composable Pulumi components."""

from .config import ConfigError, StackConfig, load_stack_config, parse_stack_config
from .resources.alert_rules import FluxAlertRules, FluxAlertRulesArgs
from .resources.collector_gateway import CollectorGateway, CollectorGatewayArgs
from .resources.dash0_monitoring import Dash0FluxMonitoring, Dash0FluxMonitoringArgs
from .resources.dashboards import FluxDashboards
from .resources.flux_observability import FluxObservability
from .resources.log_agent import FluxLogAgent, FluxLogAgentArgs
from .resources.metrics_services import FluxMetricsServices
from .resources.object_health import FluxObjectHealth, FluxObjectHealthArgs
from .resources.tracing import FluxTracing, FluxTracingArgs

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
