"""The PromQL a stack ships in its alert rules and dashboards, and the metrics that PromQL reads.

The gateway's scrape filter keeps exactly these metrics next to `collector.metricPrefixes`, so
the filter and what ships cannot drift apart. Metric names are read from the expressions with a
tokenizer that knows what PromQL puts around a metric name; tests check it against a PromQL
parser on every shipped expression.
"""

from __future__ import annotations

import re
from typing import Any

from .. import constants as c
from ..config import StackConfig
from .alert_rules import prometheus_rule_spec, rule_expressions
from .dashboards import dashboard_queries, dashboard_specs

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_LABEL_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE)
# A name not followed by `(` (a function or aggregation) and not glued to a number (1e3, 5m).
_IDENTIFIER = re.compile(r"(?<![\w:.])[A-Za-z_:][\w:]*(?![\w:])(?!\s*\()")
_KEYWORDS = {
    "and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "inf", "nan",
}


def metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: what is left once strings, label matchers, ranges,
    grouping label lists, function names, keywords and numbers are set aside."""
    text = _STRING.sub(" ", expr)
    for enclosed in (_LABEL_MATCHERS, _RANGE, _LABEL_LIST):
        text = enclosed.sub(" ", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def scraped_series(name: str) -> list[str]:
    """A histogram's _bucket series is scraped together with its _count and _sum."""
    bucket = c.HISTOGRAM_SERIES_SUFFIXES[0]
    if not name.endswith(bucket):
        return [name]
    family = name.removesuffix(bucket)
    return [family + suffix for suffix in c.HISTOGRAM_SERIES_SUFFIXES]


def alert_rule_spec(config: StackConfig) -> dict[str, Any] | None:
    """The PrometheusRule spec the stack ships, or None."""
    if not (config.signals.metrics and config.alerts.enabled):
        return None
    spec = prometheus_rule_spec(config.alerts, config.flux.controllers, cluster_label=config.cluster_label,
                                gateway_scrapes=config.mode == "collector",
                                pipeline_metrics=config.pipeline_metrics_enabled,
                                log_agents=config.agent_metrics_enabled)
    return spec if spec["groups"] else None


def shipped_dashboards(config: StackConfig) -> dict[str, dict[str, Any]]:
    """The PersesDashboard specs the stack ships, by resource name."""
    if not (config.signals.metrics and config.dashboards.enabled):
        return {}
    return dashboard_specs(config.flux.controllers, config.cluster_label, pipeline=config.pipeline_metrics_enabled,
                           log_agents=config.agent_metrics_enabled)


def shipped_expressions(config: StackConfig) -> list[str]:
    spec = alert_rule_spec(config)
    expressions = rule_expressions(spec) if spec else []
    return expressions + [
        query for dashboard in shipped_dashboards(config).values() for query in dashboard_queries(dashboard)
    ]


def queried_metrics(config: StackConfig) -> list[str]:
    """Every series of Flux's that the shipped rules and dashboards need scraped, sorted. The
    collectors' own (`otelcol_`) are kept by their own scrape jobs (constants.PIPELINE_METRICS)."""
    names = {name for expr in shipped_expressions(config) for name in metric_names(expr)
             if not name.startswith(c.COLLECTOR_METRIC_PREFIX)}
    # Every scrape reports `up` for its target itself, whatever the filter keeps.
    names.discard(c.SCRAPE_UP_METRIC)
    return sorted({series for name in names for series in scraped_series(name)})
