"""The seed guide's collector setup, and what the same Flux load costs through it and through ours.

The guide (shared/seed: "Monitor FluxCD ... with OpenTelemetry") adds to the collector chart's
default configuration a Prometheus receiver that scrapes the four controllers' metrics Services on
port 8080 and keeps the `gotk_` metrics, and a filelog receiver on the flux-system pods' logs; Flux
spans reach the chart's default OTLP receiver from the `otel` Provider. It gives those pieces in
prose and snippets, not a whole config, so this module assembles the smallest config that does
what it says, around the chart's own defaults (opentelemetry-helm-charts@opentelemetry-collector-0.170.0:
charts/opentelemetry-collector/values.yaml `config:`): memory_limiter by percentage, batch with
its defaults, and the same backend exporter as ours, so only the pipelines differ.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from bench.collector_probe import ByteCounter
from bench.flux_load import LogLoad, MetricsLoad, SpanLoad
from components import constants as c
from components.builders import receiver_auth
from components.builders.collector_configs import CONTROLLERS_JOB
from e2e.harness.collector import Collector, Sink, any_value, attributes, component_type, localize

SEED_SCRAPE_INTERVAL = "30s"
SEED_LOG_GLOB = f"/var/log/pods/{c.FLUX_NAMESPACE}_*/*/*.log"


def seed_config(gateway_config: dict[str, Any]) -> dict[str, Any]:
    """The guide's collector: chart defaults + Flux scrape keeping `gotk_` + filelog on flux-system,
    exporting with our rendered exporter (same backend, same headers, same compression)."""
    controllers = next(job for receiver_id, receiver in gateway_config["receivers"].items()
                       if component_type(receiver_id) == "prometheus"
                       for job in receiver["config"]["scrape_configs"] if job["job_name"] == CONTROLLERS_JOB)
    exporter_id, exporter = next((eid, copy.deepcopy(body)) for eid, body in gateway_config["exporters"].items())
    exporter.pop("sending_queue", None)  # the chart's default exporter keeps the in-memory queue
    chart_processors = ["memory_limiter", "batch"]
    return {
        "receivers": {
            "otlp": {"protocols": {"grpc": {"endpoint": "${env:MY_POD_IP}:4317"},
                                   "http": {"endpoint": "${env:MY_POD_IP}:4318"}}},
            "prometheus": {"config": {"scrape_configs": [{
                "job_name": "flux-system",
                "scrape_interval": SEED_SCRAPE_INTERVAL,
                "static_configs": copy.deepcopy(controllers["static_configs"]),
                "metric_relabel_configs": [{"source_labels": ["__name__"], "regex": "gotk_.*", "action": "keep"}],
            }]}},
            "filelog": {"include": [SEED_LOG_GLOB], "include_file_path": True, "operators": [{"type": "container"}]},
        },
        "processors": {
            "memory_limiter": {"check_interval": "5s", "limit_percentage": 80, "spike_limit_percentage": 25},
            "batch": {},
        },
        "exporters": {exporter_id: exporter},
        "extensions": {"health_check": {"endpoint": "${env:MY_POD_IP}:13133"}},
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "metrics": {"receivers": ["prometheus"], "processors": chart_processors, "exporters": [exporter_id]},
                "logs": {"receivers": ["filelog"], "processors": chart_processors, "exporters": [exporter_id]},
                "traces": {"receivers": ["otlp"], "processors": chart_processors, "exporters": [exporter_id]},
            },
        },
    }


def shipped(sink_path: Path) -> dict[str, Any]:
    """What reached the sink: metric series (name + attributes), log records and their attribute
    keys, spans."""
    series: set[tuple] = set()
    names: set[str] = set()
    log_keys: Counter = Counter()
    logs = spans = 0
    for line in sink_path.read_text().splitlines():
        request = json.loads(line)
        for resource in request.get("resourceMetrics", []):
            for scope in resource.get("scopeMetrics", []):
                for metric in scope.get("metrics", []):
                    names.add(metric["name"])
                    for data in ("gauge", "sum", "histogram", "summary", "exponentialHistogram"):
                        for point in metric.get(data, {}).get("dataPoints", []):
                            series.add((metric["name"], tuple(sorted(attributes(point.get("attributes", [])).items()))))
        for resource in request.get("resourceLogs", []):
            resource_keys = set(attributes(resource.get("resource", {}).get("attributes", [])))
            for scope in resource.get("scopeLogs", []):
                for record in scope.get("logRecords", []):
                    logs += 1
                    log_keys.update(resource_keys | set(attributes(record.get("attributes", []))))
                    body = any_value(record.get("body", {}))
                    if isinstance(body, str) and body.startswith("{"):
                        log_keys["(body: the raw JSON line)"] += 1
        for resource in request.get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                spans += len(scope.get("spans", []))
    return {"series": series, "names": names, "logs": logs, "log_keys": log_keys, "spans": spans}


def run_for(config: dict[str, Any], agent_config: dict[str, Any] | None, objects: int, rate: int, window: float,
            workdir: Path) -> tuple[dict[str, Any], float]:
    """Runs one setup under the load for `window` seconds; what it shipped and the bytes it sent."""
    sink = Sink(workdir / "sink")
    counter = ByteCounter(sink.otlp_grpc_endpoint)
    metrics = MetricsLoad(config, objects)
    pods = workdir / "pods"
    local = metrics.localized(localize(config, workdir=workdir / "main", export_to=counter.endpoint,
                                       without=("k8s_objects",), pod_logs=pods))
    main = Collector("main", local, workdir / "main")
    agent = None
    if agent_config is not None:
        agent = Collector("agent", localize(agent_config, workdir=workdir / "agent",
                                            export_to=main.otlp_grpc_endpoint, pod_logs=pods), workdir / "agent")
    logs, spans = LogLoad(pods, rate), SpanLoad(f"http://{main.host}:{c.OTLP_HTTP_PORT}", objects,
                                                  token=main.env.get(f"{receiver_auth.ENV}_CURRENT"))
    try:
        sink.start()
        metrics.start()
        main.start()
        if agent:
            agent.start()
        logs.start()
        spans.start()
        time.sleep(window)
        logs.stop()
        spans.stop()
        time.sleep(10)  # the last batches
        sent = counter.sent
    finally:
        for part in (agent, main, sink):
            if part:
                part.stop()
        metrics.stop()
        counter.close()
    return shipped(sink.path), sent


def compare(gateway_config: dict[str, Any], agent_config: dict[str, Any], settings: Any, *, window: float,
            log: Callable[[str], None], objects: int = 1000, rate: int = 100) -> str:
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-cost-") as ours_dir, \
            tempfile.TemporaryDirectory(prefix="fluxcd-otel-cost-seed-") as seed_dir:
        log("cost: ours")
        ours, ours_bytes = run_for(gateway_config, agent_config, objects, rate, window, Path(ours_dir))
        log("cost: the seed guide's")
        seed, seed_bytes = run_for(seed_config(gateway_config), None, objects, rate, window, Path(seed_dir))
    rows = [f"Same load for {window:.0f} s: {objects:,} Flux objects, {rate} log lines/s, spans from"
            f" {objects / 600:.1f}/s; scraped every {SEED_SCRAPE_INTERVAL} in the seed setup and every"
            f" {settings.gateway.scrape_interval} in ours.\n",
            "| per hour | seed guide | fluxcd-otel | ours / seed |", "|---|---:|---:|---:|"]
    for label, a, b in (("distinct metric series", len(seed["series"]), len(ours["series"])),
                        ("log records", seed["logs"] * 3600 / window, ours["logs"] * 3600 / window),
                        ("spans", seed["spans"] * 3600 / window, ours["spans"] * 3600 / window),
                        ("bytes sent (compressed OTLP)", seed_bytes * 3600 / window, ours_bytes * 3600 / window)):
        ratio = f"{b / a:.2f}" if a else "n/a"
        rows.append(f"| {label} | {a:,.0f} | {b:,.0f} | {ratio} |")
    only_ours = sorted(ours["names"] - seed["names"])
    only_seed = sorted(seed["names"] - ours["names"])
    rows.append("")
    rows.append(f"Metrics only ours ships ({len(only_ours)}): " + ", ".join(f"`{n}`" for n in only_ours))
    rows.append("")
    rows.append(
        f"Metrics only the seed ships ({len(only_seed)}): " + (", ".join(f"`{n}`" for n in only_seed) or "none")
    )
    rows.append("")
    ours_log_keys = {key for key, count in ours["log_keys"].items() if count}
    seed_log_keys = {key for key, count in seed["log_keys"].items() if count}
    rows.append(
        "Log record attributes only ours ships: " + ", ".join(f"`{k}`" for k in sorted(ours_log_keys - seed_log_keys))
    )
    rows.append("")
    rows.append(
        "Log record attributes only the seed ships: "
        + (", ".join(f"`{k}`" for k in sorted(seed_log_keys - ours_log_keys)) or "none")
    )
    return "\n".join(rows) + "\n"
