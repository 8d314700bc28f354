"""A backend outage with a gateway restart in the middle, through the real log agent and gateway:
the scenario e2e/test_nothing_lost.py runs compressed and bench/outage.py at full length."""

from __future__ import annotations

import time
from collections import Counter

from components import constants as c
from e2e.harness.collector import LogPipeline, PodLog
from e2e.harness.kube import wait_until

STACK = "prod"
# Generous: after an outage the drain can also wait for gRPC's own reconnect backoff (grpc-go's
# default: 1 s, x1.6 per failed attempt, up to 120 s), which retry_on_failure does not shorten.
DRAIN_TIMEOUT_SECONDS = 90
# Long enough for lines to pass the agent's 0.2 s poll and both 2 s batch intervals.
SETTLE_SECONDS = 6


def outage_line(number: int) -> str:
    return (f'{{"level":"info","ts":"2026-11-30T05:{number // 60000 % 60:02d}:{number // 1000 % 60:02d}.'
            f'{number % 1000:03d}Z","msg":"line {number}","controller":"kustomization",'
            f'"controllerGroup":"kustomize.toolkit.fluxcd.io","controllerKind":"Kustomization",'
            f'"Kustomization":{{"name":"apps","namespace":"flux-system"}},"namespace":"flux-system",'
            f'"name":"apps","reconcileID":"{number:08x}-0000-4000-8000-000000000000"}}')


class Lines:
    """Numbered Flux lines appended to one pod's log, counted at the sink."""

    def __init__(self, pipeline: LogPipeline, pod: PodLog) -> None:
        self.pipeline, self.pod, self.written = pipeline, pod, 0

    def write(self, count: int) -> None:
        self.pod.write(outage_line(n) for n in range(self.written, self.written + count))
        self.written += count

    def received(self) -> Counter:
        return Counter(int(r.body.split()[1]) for r in self.pipeline.sink.logs()
                       if r.resource.get("k8s.pod.name") == self.pod.pod)


def run_outage(pipeline: LogPipeline, *, outage_seconds: float, lines_per_second: float = 20,
               drain_timeout: float = DRAIN_TIMEOUT_SECONDS, log=lambda message: None) -> tuple[Lines, float | None]:
    """Runs the scenario: returns the lines and the drain time (seconds
    from the sink's restart until the last missing line arrived), None if some line had not
    arrived `drain_timeout` seconds after the sink's restart."""
    lines = Lines(pipeline, pipeline.pod_log(c.FLUX_NAMESPACE, "kustomize-controller-7d9f8b6c5d-x2x9q"))
    lines.write(20)
    wait_until(lambda: len(lines.received()) == 20, timeout=DRAIN_TIMEOUT_SECONDS, what="20 lines before the outage")
    log("backend down")
    pipeline.sink.stop()

    def write_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            lines.write(max(1, round(lines_per_second / 10)))
            time.sleep(0.1)

    write_for(outage_seconds / 3)
    log(f"gateway restart ({lines.written} lines written)")
    pipeline.gateway.stop()
    write_for(min(5, outage_seconds / 6))  # lines while the gateway is down: the agent queues them
    pipeline.gateway.start()
    write_for(outage_seconds * 2 / 3 - min(5, outage_seconds / 6))
    time.sleep(SETTLE_SECONDS)
    log(f"backend back ({lines.written} lines written)")
    pipeline.sink.start()
    returned = time.monotonic()
    try:
        wait_until(lambda: set(range(lines.written)) <= set(lines.received()), timeout=drain_timeout,
                   what=f"all {lines.written} lines after the outage", interval=0.5)
    except TimeoutError:
        return lines, None  # the caller counts what is missing
    drained = time.monotonic() - returned
    time.sleep(SETTLE_SECONDS)  # a duplicate would come with a later batch
    return lines, drained
