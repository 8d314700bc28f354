"""The pipeline watches itself: the real gateway and log agent ship their own metrics, and the
pipeline alerts fire in a real Prometheus on real faults of the backend behind them.

The `prod` stack's gateway and agent configs run as rendered (localized), with the scrape interval
and the alert windows shortened through their stack keys, and every sending queue compressed to
QUEUE_SIZE requests, so that filling one takes seconds instead of the rendered outage's length.
The backend is two real collectors: `sink` takes what the gateway exports, forwards the metrics to
Prometheus and the log records, at once and with their answer, to `backend`, which requires a
bearer token as a backend does. So the faults are the backend's logs endpoint, while the metrics,
the pipeline's own among them, keep reaching Prometheus:
- the logs backend is down (connection refused): the gateway retries and queues, its queue fills,
  it holds the agent back, the agent's queue fills: FluxPipelineQueueFilling and
  FluxLogAgentNotReading fire, nothing is dropped, and every line arrives once the backend is back;
- the logs backend refuses the token (401): the gateway drops what it cannot send:
  FluxPipelineExportFailing fires for the gateway's logs.
Each alert also resolves once the backend is healthy again.

The log lines are hand-written Flux lines at a steady rate: they are load, not what is judged,
and a known rate is what fills a queue in bounded time; the telemetry judged is the collectors' own.
"""

from __future__ import annotations

import threading
from typing import Any, Iterator

import pytest

from components import constants as c
from components.builders.alert_rules import PIPELINE_GROUP
from components.builders.collector_configs import AGENT_JOB, GATEWAY_JOB, NODE_LABEL
from components.builders.dashboards import CONTROL_PLANE, dashboard_queries
from e2e.harness.collector import LogPipeline, Sink, collector_configs, gateway_and_agent, loopback_address
from e2e.harness.kube import wait_until
from e2e.harness.outage import outage_line
from e2e.harness.prometheus import Prometheus, firing, wait_firing, wait_resolved
from e2e.harness.render import ROOT, by_kind, run_stack

STACK = "prod"
QUEUE_SIZE = 4
TOKEN = "the-backend-token"
PIPELINE_ALERTS = ("FluxPipelineExportFailing", "FluxPipelineQueueFilling", "FluxLogAgentNotReading")
OVERRIDES = {
    "gateway": {"scrapeInterval": "2s"},
    "alerts": {
        "exportFailing": {"window": "10s", "after": "5s"},
        "queueFilling": {"after": "5s"},
        "agentNotReading": {"window": "10s", "after": "5s"},
    },
}
LINES_PER_TICK, TICK_SECONDS = 2, 0.1
# What docs/troubleshooting.md quotes from each collector's log for each fault.
RETRYING = "Exporting failed. Will retry the request after interval."
DROPPING = "Exporting failed. Dropping data."
QUOTED = {
    "gateway, backend down": (RETRYING, "code = Unavailable"),
    "agent, backend down": (RETRYING, "code = DeadlineExceeded desc = context deadline exceeded"),
    "gateway, backend refusing": (DROPPING, "code = Unauthenticated"),
}
# A fault reaches an alert through a 2 s scrape, two 2 s batches, the retries and the `for`; a
# recovery also waits for gRPC's reconnect backoff (e2e/harness/outage.py).
ALERT_TIMEOUT_SECONDS = 120


class Writer:
    """Numbered Flux lines appended to one controller's log at a steady rate, on a thread."""

    def __init__(self, pipeline: LogPipeline) -> None:
        self.pod = pipeline.pod_log(c.FLUX_NAMESPACE, "kustomize-controller-7d9f8b6c5d-x2x9q")
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.pod.write(outage_line(n) for n in range(self.written, self.written + LINES_PER_TICK))
            self.written += LINES_PER_TICK

    def __enter__(self) -> "Writer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def received_lines(backend: Sink) -> set[int]:
    return {int(record.body.split()[1]) for record in backend.logs()}


@pytest.fixture
def world(tmp_path) -> Iterator[dict[str, Any]]:
    rendering = run_stack(STACK, overrides=OVERRIDES)
    (rule,) = by_kind(rendering.resources, "PrometheusRule")
    (group,) = (group for group in rule["spec"]["groups"] if group["name"] == PIPELINE_GROUP)
    # Only the rules on the collectors' own metrics: no Flux controller or object health runs here.
    rules = [{"name": PIPELINE_GROUP, "rules": [r for r in group["rules"] if r["alert"] in PIPELINE_ALERTS]}]
    (dashboard,) = (
        d for d in by_kind(rendering.resources, "PersesDashboard") if d["metadata"]["name"] == CONTROL_PLANE
    )
    gateway, agent = gateway_and_agent(collector_configs(rendering))
    backend = Sink(tmp_path / "backend", name="backend", token=TOKEN)
    # The same backend address, refusing the token the sink sends.
    refusing = Sink(tmp_path / "refusing", name="backend", host=backend.host, token="another-token")
    with Prometheus(tmp_path / "prometheus", rules, host=loopback_address(())) as prometheus:
        sink = Sink(tmp_path / "sink", metrics_to=prometheus.otlp_endpoint, logs_to=backend.otlp_http_endpoint,
                    logs_token=TOKEN)
        try:
            with backend, LogPipeline(tmp_path, gateway, agent, fast_retry=True, queue_size=QUEUE_SIZE,
                                      sink=sink) as pipeline, Writer(pipeline) as writer:
                yield {"prometheus": prometheus, "pipeline": pipeline, "writer": writer, "backend": backend,
                       "refusing": refusing, "rules": rules, "dashboard": dashboard["spec"]["config"]}
        finally:
            refusing.stop()


def pipeline_alerts(prometheus: Prometheus) -> list[dict[str, Any]]:
    return [alert for alert in prometheus.alerts() if alert["labels"]["alertname"] in PIPELINE_ALERTS]


def test_the_pipeline_reports_a_backend_down_and_a_backend_refusing(world):
    prometheus, pipeline, writer = world["prometheus"], world["pipeline"], world["writer"]
    backend, refusing = world["backend"], world["refusing"]
    assert [r["alert"] for r in world["rules"][0]["rules"]] == list(PIPELINE_ALERTS), "every pipeline alert ships"

    # Healthy: both collectors' own metrics arrive, with the agent's node; no pipeline alert is active.
    def arrived() -> bool:
        sent = prometheus.query(f'{c.EXPORTER_SENT_METRICS["logs"]}{{job="{GATEWAY_JOB}"}} > 0')
        read = prometheus.query(f'{c.RECEIVER_ACCEPTED_LOG_RECORDS_METRIC}{{job="{AGENT_JOB}"}} > 0')
        return bool(sent and read)
    wait_until(arrived, timeout=ALERT_TIMEOUT_SECONDS, what="the collectors' own metrics in Prometheus")
    (read,) = prometheus.query(f'{c.RECEIVER_ACCEPTED_LOG_RECORDS_METRIC}{{job="{AGENT_JOB}"}}')
    assert read["metric"][NODE_LABEL], read
    pipeline_row = [query.replace("$cluster", ".+") for query in dashboard_queries(world["dashboard"])
                    if "otelcol_" in query]
    assert pipeline_row, "the control plane has a pipeline row"
    # No span is sent here: the queries on spans alone stay empty.
    expected = [query for query in pipeline_row if "spans" not in query]
    wait_until(lambda: all(prometheus.query(query) for query in expected), timeout=ALERT_TIMEOUT_SECONDS,
               what=f"data for every pipeline panel: {expected}")
    assert pipeline_alerts(prometheus) == []

    # The logs backend is down: queues fill, the agent stops reading, nothing is dropped.
    backend.stop()
    queue = wait_firing(prometheus, "FluxPipelineQueueFilling", ALERT_TIMEOUT_SECONDS, job=GATEWAY_JOB,
                        data_type="logs")
    agent = wait_firing(prometheus, "FluxLogAgentNotReading", ALERT_TIMEOUT_SECONDS, job=AGENT_JOB)
    assert "logs export queue is filling" in queue["annotations"]["summary"], queue
    assert agent["labels"][NODE_LABEL] in agent["annotations"]["summary"], agent
    assert firing(prometheus, "FluxPipelineExportFailing") is None, "a backend that is down drops nothing"
    logs = {
        "gateway, backend down": pipeline.gateway.log_tail(200),
        "agent, backend down": pipeline.agent.log_tail(200),
    }
    backend.start()
    written = writer.written
    wait_resolved(prometheus, "FluxPipelineQueueFilling", ALERT_TIMEOUT_SECONDS)
    wait_resolved(prometheus, "FluxLogAgentNotReading", ALERT_TIMEOUT_SECONDS)
    wait_until(lambda: set(range(written)) <= received_lines(backend), timeout=ALERT_TIMEOUT_SECONDS,
               what=f"all {written} lines written until the backend came back")

    # The logs backend refuses the token: the gateway drops the logs it cannot send.
    backend.stop()
    refusing.start()
    failing = wait_firing(prometheus, "FluxPipelineExportFailing", ALERT_TIMEOUT_SECONDS, job=GATEWAY_JOB,
                          signal="logs")
    assert failing["labels"]["exporter"] == "otlp_grpc/dash0", failing
    logs["gateway, backend refusing"] = pipeline.gateway.log_tail(200)
    refusing.stop()
    backend.start()
    wait_resolved(prometheus, "FluxPipelineExportFailing", ALERT_TIMEOUT_SECONDS)
    assert prometheus.rule_health() == {}

    # What a user reads in the collectors' logs is what docs/troubleshooting.md quotes.
    doc = (ROOT / "docs" / "troubleshooting.md").read_text()
    for fault, quotes in QUOTED.items():
        lines = [line for line in logs[fault].splitlines() if all(quote in line for quote in quotes)]
        assert lines, f"{fault}: no log line says {quotes}:\n{logs[fault]}"
        assert all(quote in doc for quote in quotes), f"docs/troubleshooting.md does not quote {quotes}"
