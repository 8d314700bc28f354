"""Pure builders of the two collector configurations (gateway and log agent).

Plain Python from validated settings to the dict the chart's `alternateConfig` receives: no
Pulumi here, so every property of the configs is testable directly. Values that come from the
user pass through `escape_env`, because the collector expands `$` in its config.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Optional, Sequence, cast

from .. import constants as c
from ..config import (
    ExporterSettings,
    GatewaySettings,
    LogAgentSettings,
    SendingQueueSettings,
    SignalSettings,
    duration_seconds,
    memory_mib,
)
from . import flux_events, receiver_auth
from .export_credentials import SecretHeader
from .ottl import escape_env

Component = c.Component
CHECKPOINT_MOUNT = "/var/lib/otelcol/checkpoints"
QUEUE_MOUNT = "/var/lib/otelcol/queue"
# Prometheus job names; they become the `job` label (service.name) of the scraped series.
CONTROLLERS_JOB = "flux-controllers"
OBJECT_HEALTH_JOB = "flux-object-health"
# Each collector scrapes its own metrics as this job (`gateway.pipelineMetrics`).
GATEWAY_JOB = "fluxcd-otel-gateway"
AGENT_JOB = "fluxcd-otel-log-agent"
# The label that names a log agent's node on its own metrics, from the pod's spec.nodeName.
NODE_LABEL = "node"
NODE_NAME_ENV = "K8S_NODE_NAME"
QUEUE_STORAGE = f"{Component.FILE_STORAGE}/queue"
CHECKPOINT_STORAGE = f"{Component.FILE_STORAGE}/checkpoints"
POD_IP = "${env:MY_POD_IP}"
TRACE_CORRELATION = f"{Component.TRANSFORM}/trace-correlation"


def memory_limiter(memory_limit: str) -> dict[str, Any]:
    """Refuse data at 80% of the container limit, leaving the rest to GC and the spike margin."""
    limit = memory_mib(memory_limit) * 4 // 5
    return {"check_interval": "1s", "limit_mib": limit, "spike_limit_mib": limit // 4}


def health_check() -> dict[str, Any]:
    return {"endpoint": f"{POD_IP}:{c.COLLECTOR_HEALTH_PORT}"}


def batch() -> dict[str, Any]:
    return {
        "timeout": f"{c.BATCH_TIMEOUT_SECONDS}s",
        "send_batch_size": c.BATCH_SEND_SIZE,
        "send_batch_max_size": c.BATCH_MAX_SIZE,
    }


def delivery(queue: SendingQueueSettings, storage: str, pipelines_per_signal: int = 1) -> dict[str, Any]:
    """Exporter settings that bridge an outage of `queue.outage` without loss.

    The persistent queue holds every request the batch processors of the pipelines that share
    this exporter can emit during the outage; a failed request is retried for as long as the
    outage lasts. A full queue blocks instead of refusing: the batch processor would drop a
    refused batch, while blocking holds the receivers back (the log agent's stay on their files).
    """
    intervals = math.ceil(duration_seconds(queue.outage) / c.BATCH_TIMEOUT_SECONDS)
    return {
        "retry_on_failure": {"enabled": True, "max_elapsed_time": queue.outage},
        "sending_queue": {
            "enabled": True,
            "storage": storage,
            "queue_size": intervals * c.QUEUE_REQUESTS_PER_BATCH_INTERVAL * pipelines_per_signal,
            "block_on_overflow": True,
        },
    }


def file_storage(directory: str) -> dict[str, Any]:
    return {"directory": directory, "create_directory": True}


def metric_keep_regex(prefixes: list[str], names: Sequence[str] = ()) -> str:
    """Names that start with one of `prefixes` or equal one of `names` (those a prefix covers are left out)."""
    # Prometheus anchors relabel regexes at both ends; prefixes and names are validated metric-name text.
    exact = sorted({name for name in names if not name.startswith(tuple(prefixes))})
    return "|".join([f"({'|'.join(sorted(set(prefixes)))}).*", *exact])


def exports_over_network(settings: ExporterSettings) -> bool:
    """The debug exporter writes to the collector's own log: nothing to queue, no queue settings."""
    return settings.type != "debug"


def exporter(settings: ExporterSettings, secret_headers: Sequence[SecretHeader] = ()) -> tuple[str, dict[str, Any]]:
    """The gateway's exporter id and config for the configured backend (delivery settings apart);
    each secret header reads its value from the container environment."""
    if settings.type == "debug":
        return Component.DEBUG_EXPORTER, {"verbosity": settings.verbosity}
    headers: dict[str, str] = {}
    if settings.type == "dash0":
        # ExporterSettings requires a region where type dash0 has no endpoint.
        endpoint = settings.endpoint or c.dash0_otlp_grpc_endpoint(cast(str, settings.region))
        if settings.dataset != c.DASH0_DEFAULT_DATASET:
            headers[c.DASH0_DATASET_HEADER] = settings.dataset
        kind, name = Component.OTLP_GRPC_EXPORTER, "dash0"
    else:
        assert settings.endpoint is not None  # required with type otlp (ExporterSettings)
        endpoint = settings.endpoint
        headers.update(settings.headers)
        kind = Component.OTLP_GRPC_EXPORTER if settings.protocol == "grpc" else Component.OTLP_HTTP_EXPORTER
        name = "backend"
    body: dict[str, Any] = {"endpoint": escape_env(endpoint)}
    if settings.plaintext and kind == Component.OTLP_GRPC_EXPORTER:
        body["tls"] = {"insecure": True}
    escaped = {key: escape_env(value) for key, value in sorted(headers.items())}
    escaped.update({header.header: header.config_value for header in secret_headers})
    if escaped:
        body["headers"] = dict(sorted(escaped.items()))
    return f"{kind}/{name}", body


def own_telemetry() -> dict[str, Any]:
    """The collector serves its own metrics on its pod address, for its own scrape job only, named by
    Prometheus conventions (`_total`, unit suffixes) as the backend shows every other scraped metric."""
    exposition = {
        "host": POD_IP,
        "port": c.COLLECTOR_TELEMETRY_PORT,
        "without_scope_info": True,
        "without_type_suffix": False,
        "without_units": False,
    }
    return {"metrics": {"level": "normal", "readers": [{"pull": {"exporter": {"prometheus": exposition}}}]}}


def own_metrics_scrape_job(job: str, scrape_interval: str, labels: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """The collector's own metrics (own_telemetry), only those the pipeline alerts and dashboards read."""
    target: dict[str, Any] = {"targets": [f"{POD_IP}:{c.COLLECTOR_TELEMETRY_PORT}"]}
    if labels:
        target["labels"] = labels
    return {
        "job_name": job,
        "scrape_interval": scrape_interval,
        "static_configs": [target],
        "metric_relabel_configs": [
            {"source_labels": ["__name__"], "regex": "|".join(sorted(c.PIPELINE_METRICS)), "action": "keep"}
        ],
    }


def object_health_scrape_job(target: str, scrape_interval: str) -> dict[str, Any]:
    """kube-state-metrics, as its own job: it serves only the Flux object health families, whose
    labels (`exported_namespace`, ...) need no relabelling next to a static target's job/instance."""
    return {
        "job_name": OBJECT_HEALTH_JOB,
        "scrape_interval": scrape_interval,
        "metrics_path": c.KSM_METRICS_PATH,
        "static_configs": [{"targets": [target]}],
        "metric_relabel_configs": [
            {
                "source_labels": ["__name__"],
                "regex": "|".join(sorted(c.FLUX_HEALTH_METRICS)),
                "action": "keep",
            }
        ],
    }


def gateway_config(
    *,
    cluster_name: str,
    signals: SignalSettings,
    gateway: GatewaySettings,
    exporter_settings: ExporterSettings,
    scrape_targets: list[str],
    secret_headers: Sequence[SecretHeader] = (),
    object_health_target: Optional[str] = None,
    kept_metrics: Sequence[str] = (),
    event_namespaces: Sequence[str] = (),
    event_statements: Any = None,
    pipeline_metrics: bool = False,
    authenticated: bool = False,
) -> dict[str, Any]:
    """The gateway: scrapes Flux metrics, receives OTLP traces and logs, exports to the backend.

    `object_health_target` is the kube-state-metrics Service that exposes Flux object health;
    `kept_metrics` are the series the shipped alert rules and dashboards read, kept next to the prefixes;
    `event_namespaces` are watched for Kubernetes events about Flux objects (see flux_events);
    `event_statements` replace the events' default OTTL statements (to add their trace IDs);
    `pipeline_metrics`: the gateway scrapes its own metrics and takes the log agents' over OTLP;
    `authenticated`: the OTLP receivers take only requests with a receiver token (receiver_auth)."""
    exporter_id, exporter_body = exporter(exporter_settings, secret_headers)
    processors = [Component.MEMORY_LIMITER, Component.RESOURCE, Component.BATCH]
    receivers: dict[str, Any] = {}
    pipelines: dict[str, Any] = {}

    def pipeline(signal: str, receiver: str) -> None:
        pipelines[signal] = {"receivers": [receiver], "processors": processors, "exporters": [exporter_id]}

    if signals.metrics:
        receivers[Component.PROMETHEUS_RECEIVER] = {
            "config": {
                "scrape_configs": [
                    {
                        "job_name": CONTROLLERS_JOB,
                        "scrape_interval": gateway.scrape_interval,
                        "metrics_path": c.FLUX_METRICS_PATH,
                        "static_configs": [{"targets": list(scrape_targets)}],
                        "metric_relabel_configs": [
                            {
                                "source_labels": ["__name__"],
                                "regex": metric_keep_regex(gateway.metric_prefixes, kept_metrics),
                                "action": "keep",
                            }
                        ],
                    }
                ]
                + (
                    [object_health_scrape_job(object_health_target, gateway.scrape_interval)]
                    if object_health_target
                    else []
                )
                + ([own_metrics_scrape_job(GATEWAY_JOB, gateway.scrape_interval)] if pipeline_metrics else [])
            }
        }
        pipeline("metrics", Component.PROMETHEUS_RECEIVER)
        if pipeline_metrics and signals.logs:
            # The log agents send their own metrics with their logs, over OTLP/gRPC.
            pipelines["metrics"]["receivers"].append(Component.OTLP_RECEIVER)
    protocols: dict[str, Any] = {}
    if signals.logs:
        protocols["grpc"] = {"endpoint": f"{POD_IP}:{c.OTLP_GRPC_PORT}"}
        pipeline("logs", Component.OTLP_RECEIVER)
    if signals.traces:
        protocols["http"] = {"endpoint": f"{POD_IP}:{c.OTLP_HTTP_PORT}"}
        pipeline("traces", Component.OTLP_RECEIVER)
    extensions = {Component.HEALTH_CHECK: health_check()}
    if protocols:
        receivers[Component.OTLP_RECEIVER] = {"protocols": protocols}
        if authenticated:
            extensions[receiver_auth.AUTHENTICATOR] = receiver_auth.authenticator()
            for server in protocols.values():
                server["auth"] = receiver_auth.receiver_auth()
    event_processors = flux_events.events_processors(event_statements) if event_namespaces else {}
    if event_namespaces:
        receivers[flux_events.RECEIVER] = flux_events.events_receiver(list(event_namespaces))
        pipelines[flux_events.PIPELINE] = {
            "receivers": [flux_events.RECEIVER],
            "processors": [Component.MEMORY_LIMITER, *event_processors, Component.RESOURCE, Component.BATCH],
            "exporters": [exporter_id],
        }

    if exports_over_network(exporter_settings):
        extensions[QUEUE_STORAGE] = file_storage(QUEUE_MOUNT)
        # The pipelines of one signal (logs, logs/flux-events) share the exporter and its queue.
        busiest = max(Counter(pipeline_id.split("/")[0] for pipeline_id in pipelines).values())
        exporter_body.update(delivery(gateway.sending_queue, QUEUE_STORAGE, pipelines_per_signal=busiest))
    return {
        "extensions": extensions,
        "receivers": receivers,
        "processors": {
            Component.MEMORY_LIMITER: memory_limiter(gateway.resources.memory_limit),
            Component.RESOURCE: {
                "attributes": [
                    {"key": "k8s.cluster.name", "value": escape_env(cluster_name), "action": "upsert"}
                ]
            },
            Component.BATCH: batch(),
            **event_processors,
        },
        "exporters": {exporter_id: exporter_body},
        "service": {
            "extensions": sorted(extensions),
            "pipelines": dict(sorted(pipelines.items())),
            **({"telemetry": own_telemetry()} if pipeline_metrics else {}),
        },
    }


def flux_log_paths(flux_namespace: str, controllers: list[str]) -> list[str]:
    """Kubelet log files of the controllers' `manager` containers, and nothing else."""
    return [
        f"{c.KUBELET_POD_LOG_DIR}/{flux_namespace}_{controller}-*_*/{c.FLUX_CONTAINER_NAME}/*.log"
        for controller in controllers
    ]


def flux_log_operators() -> list[dict[str, Any]]:
    """Stanza operators: container runtime format, then Flux's JSON, severity, time and message."""
    return [
        # Parses CRI and docker formats and sets k8s.namespace.name, k8s.pod.name, ... from the path.
        {"type": "container", "id": "container-runtime"},
        {
            "type": "json_parser",
            "id": "flux-json",
            "if": 'body matches "^\\\\s*\\\\{"',
            "parse_from": "body",
            "parse_to": "attributes",
            "on_error": "send_quiet",
            "timestamp": {"parse_from": "attributes.ts", "layout_type": "gotime", "layout": c.FLUX_LOG_TIME_LAYOUT},
            "severity": {"parse_from": "attributes.level", "mapping": c.FLUX_LOG_SEVERITY_MAPPING},
        },
        {
            "type": "copy", "id": "message-to-body", "if": "attributes.msg != nil",
            "from": "attributes.msg", "to": "body",
        },
        {"type": "remove", "id": "drop-ts", "if": "attributes.ts != nil", "field": "attributes.ts"},
        {"type": "remove", "id": "drop-level", "if": "attributes.level != nil", "field": "attributes.level"},
        # Pod names are <deployment>-<replicaset hash>-<suffix>; the deployment is the controller.
        {
            "type": "regex_parser",
            "id": "controller-name",
            "parse_from": 'resource["k8s.pod.name"]',
            "parse_to": "resource",
            "regex": escape_env(r"^(?P<service_name>.+)-[a-z0-9]+-[a-z0-9]+$"),
            "on_error": "send_quiet",
        },
        {"type": "move", "id": "service-name", "if": "resource.service_name != nil",
         "from": "resource.service_name", "to": 'resource["service.name"]'},
    ]


def log_agent_config(
    *,
    flux_namespace: str,
    controllers: list[str],
    agent: LogAgentSettings,
    gateway_otlp_grpc: str,
    queue: SendingQueueSettings,
    trace_correlation: Optional[dict[str, Any]] = None,
    pipeline_metrics_interval: Optional[str] = None,
    authenticated: bool = False,
) -> dict[str, Any]:
    """The node agent: tails Flux log files with checkpointed offsets and forwards to the gateway.

    Offsets and the export queue share the node's checkpoint directory, so a restarted agent
    neither re-sends nor skips lines and still sends what it had queued for a gateway outage.
    `trace_correlation` (see `trace_correlation.transform_processor`) runs after memory_limiter.
    With `pipeline_metrics_interval`, the agent scrapes its own metrics that often, labels them
    with its node, and sends them to the gateway beside the logs. `authenticated`: it sends the
    receiver token the gateway requires (receiver_auth).
    """
    storage = CHECKPOINT_STORAGE
    processors: dict[str, Any] = {Component.MEMORY_LIMITER: memory_limiter(agent.resources.memory_limit)}
    if trace_correlation is not None:
        processors[TRACE_CORRELATION] = trace_correlation
    processors[Component.BATCH] = batch()
    receiver = f"{Component.FILELOG_RECEIVER}/flux"
    exporter_id = f"{Component.OTLP_GRPC_EXPORTER}/gateway"
    receivers: dict[str, Any] = {
        receiver: {
            "include": flux_log_paths(flux_namespace, controllers),
            "include_file_path": True,
            "include_file_name": False,
            # With stored offsets, known files resume where they stopped; `beginning` only
            # applies to files the agent has not seen, so none of their lines are skipped.
            "start_at": "beginning",
            "storage": storage,
            # While the pipeline refuses data the receiver waits instead of dropping: the
            # unread lines stay in the file and the offset stays where it is.
            "retry_on_failure": {"enabled": True, "max_elapsed_time": "0s"},
            "operators": flux_log_operators(),
        }
    }
    pipelines = {"logs": {"receivers": [receiver], "processors": list(processors), "exporters": [exporter_id]}}
    service: dict[str, Any] = {"extensions": [Component.HEALTH_CHECK, storage], "pipelines": pipelines}
    if pipeline_metrics_interval is not None:
        node = {NODE_LABEL: f"${{env:{NODE_NAME_ENV}}}"}
        receivers[Component.PROMETHEUS_RECEIVER] = {
            "config": {"scrape_configs": [own_metrics_scrape_job(AGENT_JOB, pipeline_metrics_interval, node)]}
        }
        pipelines["metrics"] = {
            "receivers": [Component.PROMETHEUS_RECEIVER],
            "processors": [Component.MEMORY_LIMITER, Component.BATCH],
            "exporters": [exporter_id],
        }
        service["telemetry"] = own_telemetry()
    exporter_body: dict[str, Any] = {"endpoint": gateway_otlp_grpc, "tls": {"insecure": True}}
    if authenticated:
        exporter_body["headers"] = receiver_auth.writer_headers()
    return {
        "extensions": {
            Component.HEALTH_CHECK: health_check(),
            storage: file_storage(CHECKPOINT_MOUNT),
        },
        "receivers": receivers,
        "processors": processors,
        "exporters": {exporter_id: {**exporter_body, **delivery(queue, storage)}},
        "service": service,
    }
