"""Area 3: nothing is lost through a backend outage during which the gateway restarts.

docs/failure-behaviour.md ("When things fail"): the gateway's exporter keeps a persistent sending
queue (file_storage) and retries for as long as the configured outage; each log agent keeps its
own persistent queue while the gateway is down. With the `prod` stack's configs (OTLP exporter
with `sending_queue.storage`), logs flow agent -> gateway -> sink; then the sink stops (backend
outage), lines keep being written, the gateway restarts in the middle of the outage (lines are
written while it is down too), and the sink comes back. Every line must arrive.

Delivery is exactly-once here: no line arrives twice. (If the collectors ever re-send a request
whose delivery they did not see acknowledged, that would be at-least-once; the assertion below
reports duplicates separately from losses.)

Time is compressed only in the exporters' retry backoff (`fast_retry`: 0.2-1 s instead of 5-30 s,
so the queues drain within seconds after the sink returns); queue size, `block_on_overflow`,
storage and `max_elapsed_time` are as rendered. bench/outage.py runs the same scenario with a
realistic outage length.
"""

from __future__ import annotations

import pytest

from e2e.harness.collector import LogPipeline, collector_configs, gateway_and_agent
from e2e.harness.outage import STACK, run_outage
from e2e.harness.render import run_stack


@pytest.fixture
def pipeline(tmp_path):
    gateway, agent = gateway_and_agent(collector_configs(run_stack(STACK)))
    with LogPipeline(tmp_path, gateway, agent, fast_retry=True) as running:
        yield running


def test_backend_outage_with_gateway_restart_loses_nothing(pipeline):
    exporter, = pipeline.gateway.config["exporters"].values()
    assert exporter["sending_queue"]["storage"] in pipeline.gateway.config["extensions"], "persistent queue"
    try:
        lines, _ = run_outage(pipeline, outage_seconds=12)
    except TimeoutError as error:  # before the outage: the pipeline does not deliver at all
        raise AssertionError(f"{error}\n{pipeline.logs_tail()}") from None
    received = lines.received()
    missing = sorted(set(range(lines.written)) - set(received))
    duplicates = sorted(n for n, count in received.items() if count > 1)
    assert lines.written > 100
    assert missing == [], f"{len(missing)} of {lines.written} lines lost: {missing[:20]}...\n{pipeline.logs_tail()}"
    assert duplicates == [], f"at-least-once, not exactly-once: {len(duplicates)} lines twice: {duplicates[:20]}"
