"""Capacity, cost and recovery of the shipped pipeline, measured on the real collector (not run by tests):

    .venv/bin/python -m bench.pipeline                       # everything, about an hour
    .venv/bin/python -m bench.pipeline --only capacity --window 60

The gateway and the log agent run the configs the `prod` stack renders with the default collector
sizes (its own `collector` section left out), localized to loopback (bench/flux_load.py serves the
scrape targets; the sink is the real collector's OTLP receiver with a file exporter; the events
receiver is left out, as it needs an API server). The gateway gets the environment the chart gives
it: GOMEMLIMIT at 80% of the memory limit, and GOMAXPROCS at the CPU limit rounded up, standing in
for the cgroup quota this machine cannot set.

1. capacity: for each number of Flux objects and log rate, the gateway's CPU, peak RSS against its
   memory limit, refused/failed/dropped items (its own telemetry), lines lost, line latency p50/p99
   (written to arrived at the sink), and bytes sent to the sink per Flux object per hour.
2. goals: the defaults hold 1,000 objects and 100 lines/s with 2x memory headroom and no refusals.
3. sizing: memory and CPU to set per load, from the measurements.
4. recovery: the configured outage (30 min by default) at 1,000 objects and 100 lines/s with a
   gateway restart halfway: lines lost, queue disk used against `sendingQueue.volumeSize`, drain time.
5. cost: the same load for the same time through the seed guide's collector (bench/seed_collector.py)
   and through ours: series, log records and bytes per hour, and what each ships that the other does not.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import seed_collector  # noqa: E402
from bench.collector_probe import (  # noqa: E402
    ByteCounter,
    ProcessSampler,
    SinkTail,
    losses,
    self_telemetry,
    with_self_telemetry,
)
from bench.flux_load import LogLoad, MetricsLoad, SpanLoad  # noqa: E402
from components import constants as c  # noqa: E402
from components.builders import receiver_auth  # noqa: E402
from components.config import duration_seconds, memory_mib, parse_stack_config  # noqa: E402
from components.config.values import cpu_millicores  # noqa: E402
from components.tooling.render import read_stack_file, run_program  # noqa: E402
from e2e.harness.collector import Collector, Sink, collector_configs, gateway_and_agent, localize  # noqa: E402
from e2e.harness.kube import wait_until  # noqa: E402

STACK = "prod"
OBJECTS = (100, 1000, 5000)
LINE_RATES = (10, 100, 1000)
GOAL_OBJECTS, GOAL_LINES, GOAL_HEADROOM = 1000, 100, 2.0
# Long enough for the first scrape of every target and for the batches to settle.
WARMUP_SECONDS = 45
DRAIN_SECONDS = 60


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    return (f"{platform.node()}: {os.cpu_count()} x {cpu}, {memory_kib / 2**20:.0f} GiB RAM, "
            f"Linux {platform.release()}, Python {platform.python_version()}")


def default_sized_configs() -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The gateway and agent configs of the stack with the default gateway section, and that config."""
    stack_file = read_stack_file(ROOT, STACK)
    config = {key: value for key, value in stack_file.config.items() if key != f"{c.PROJECT}:gateway"}
    rendering = run_program(ROOT / "__main__.py", project=c.PROJECT, stack=STACK, config=config,
                            secret_keys=stack_file.secret_keys)
    gateway, agent = gateway_and_agent(collector_configs(rendering))
    settings = parse_stack_config(
        {key: value for key, value in stack_file.plain_settings().items() if key != "gateway"}
    )
    return gateway, agent, settings


def chart_env(memory_limit: str, cpu_limit: str) -> dict[str, str]:
    """What the collector chart and the container runtime give the gateway process."""
    return {"GOMEMLIMIT": f"{int(memory_mib(memory_limit) * 0.8)}MiB",
            "GOMAXPROCS": str(max(1, math.ceil(cpu_millicores(cpu_limit) / 1000)))}


@dataclass
class Point:
    objects: int
    lines_per_second: int
    series: int
    cpu_cores: float
    peak_rss_mib: float
    limit_mib: int
    agent_cpu_cores: float
    agent_peak_rss_mib: float
    refused: dict[str, float]
    lines_lost: int
    duplicates: int
    p50: float
    p99: float
    bytes_per_object_hour: float

    @property
    def headroom(self) -> float:
        return self.limit_mib / self.peak_rss_mib


class Pipeline:
    """sink <- byte counter <- gateway (scraping MetricsLoad, receiving spans) <- log agent, on loopback."""

    def __init__(self, workdir: Path, gateway_config: dict[str, Any], agent_config: dict[str, Any], settings: Any,
                 objects: int, rate: float):
        self.sink = Sink(workdir / "sink")
        self.counter = ByteCounter(self.sink.otlp_grpc_endpoint)
        self.metrics = MetricsLoad(gateway_config, objects)
        local = localize(gateway_config, workdir=workdir / "gateway", export_to=self.counter.endpoint,
                         without=("k8s_objects",))
        local, self.telemetry_url = with_self_telemetry(self.metrics.localized(local))
        resources = settings.gateway.resources
        self.gateway = Collector("gateway", local, workdir / "gateway",
                                 env=chart_env(resources.memory_limit, resources.cpu_limit))
        self.pods = workdir / "pods"
        agent_resources = settings.log_agent.resources
        self.agent = Collector("agent", localize(agent_config, workdir=workdir / "agent",
                                                 export_to=self.gateway.otlp_grpc_endpoint, pod_logs=self.pods),
                               workdir / "agent",
                               env=chart_env(agent_resources.memory_limit, agent_resources.cpu_limit))
        self.logs = LogLoad(self.pods, rate)
        self.spans = SpanLoad(f"http://{self.gateway.host}:{c.OTLP_HTTP_PORT}", objects,
                              token=self.gateway.env.get(f"{receiver_auth.ENV}_CURRENT"))
        self.tail = SinkTail(self.sink.path)

    def __enter__(self) -> "Pipeline":
        # A part that fails to start stops the ones already running: `with` calls __exit__ only
        # after __enter__ returned.
        with ExitStack() as started:
            started.callback(self.counter.close)
            started.enter_context(self.sink)
            self.metrics.start()
            started.callback(self.metrics.stop)
            started.enter_context(self.gateway)
            started.enter_context(self.agent)
            for periodic in (self.tail, self.logs, self.spans):
                started.callback(periodic.start().stop)
            self._stack = started.pop_all()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stack.__exit__(*exc_info)


def measure_point(settings: Any, gateway_config: dict, agent_config: dict, objects: int, rate: int,
                  window: float, log: Callable[[str], None]) -> Point:
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-capacity-") as workdir, \
            Pipeline(Path(workdir), gateway_config, agent_config, settings, objects, rate) as pipeline:
        time.sleep(WARMUP_SECONDS)
        assert pipeline.gateway.process is not None and pipeline.agent.process is not None  # started on enter
        gateway = ProcessSampler(pipeline.gateway.process.popen.pid)
        agent = ProcessSampler(pipeline.agent.process.popen.pid)
        first_line, first_bytes = pipeline.logs.written, pipeline.counter.sent
        time.sleep(window)
        sent = pipeline.counter.sent - first_bytes
        last_line = pipeline.logs.written
        used, agent_used = gateway.read(), agent.read()
        pipeline.logs.stop()
        try:
            wait_until(lambda: all(n in pipeline.tail.arrived for n in range(last_line)), timeout=DRAIN_SECONDS,
                       what="every line at the sink", interval=0.5)
        except TimeoutError:
            pass
        refused = losses(self_telemetry(pipeline.telemetry_url))
        p50, p99 = pipeline.tail.latency_percentiles(first_line, last_line)
        point = Point(
            objects=objects, lines_per_second=rate, series=pipeline.metrics.series,
            cpu_cores=used["cpu_cores"], peak_rss_mib=used["peak_rss_mib"],
            limit_mib=memory_mib(settings.gateway.resources.memory_limit),
            agent_cpu_cores=agent_used["cpu_cores"], agent_peak_rss_mib=agent_used["peak_rss_mib"],
            refused=refused, lines_lost=sum(1 for n in range(last_line) if n not in pipeline.tail.arrived),
            duplicates=pipeline.tail.duplicates, p50=p50, p99=p99,
            bytes_per_object_hour=sent / window * 3600 / objects)
    log(f"{objects} objects, {rate} lines/s: {point.cpu_cores:.2f} cores, peak {point.peak_rss_mib:.0f} MiB"
        f" of {point.limit_mib}, lost {point.lines_lost}, refused {sum(refused.values()):.0f}")
    return point


def capacity_table(points: list[Point]) -> str:
    rows = ["| Flux objects | lines/s | series per scrape | gateway CPU (cores) | gateway peak RSS / limit | headroom"
            " | refused, failed, dropped | lines lost | line latency p50 / p99 | bytes to backend per object-hour"
            " | agent CPU | agent peak RSS |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for p in points:
        rows.append(f"| {p.objects:,} | {p.lines_per_second:,} | {p.series:,} | {p.cpu_cores:.2f} |"
                    f" {p.peak_rss_mib:.0f} / {p.limit_mib} MiB | {p.headroom:.1f}x | {sum(p.refused.values()):.0f} |"
                    f" {p.lines_lost} | {p.p50:.1f} s / {p.p99:.1f} s | {p.bytes_per_object_hour / 1024:,.1f} KiB |"
                    f" {p.agent_cpu_cores:.2f} | {p.agent_peak_rss_mib:.0f} MiB |")
    return "\n".join(rows)


def goal_verdict(points: list[Point]) -> tuple[bool, str]:
    goal = next((p for p in points if (p.objects, p.lines_per_second) == (GOAL_OBJECTS, GOAL_LINES)), None)
    if goal is None:
        return False, "goal point not measured"
    ok = goal.headroom >= GOAL_HEADROOM and not goal.refused and goal.lines_lost == 0
    return ok, (f"{'MET' if ok else 'NOT MET'}: {GOAL_OBJECTS:,} objects and {GOAL_LINES} lines/s on the defaults:"
                f" {goal.headroom:.1f}x memory headroom (goal {GOAL_HEADROOM:.0f}x), refusals"
                f" {sum(goal.refused.values()):.0f}, lines lost {goal.lines_lost}")


def round_up(value: float, step: int) -> int:
    return int(math.ceil(value / step) * step)


def sizing_table(points: list[Point]) -> str:
    rows = ["| Flux objects | lines/s | set `gateway.resources.memoryLimit` | set `cpuLimit` |"
            " set `logAgent.resources.memoryLimit` |", "|---:|---:|---:|---:|---:|"]
    for p in points:
        memory = round_up(p.peak_rss_mib * GOAL_HEADROOM, 64)
        cpu = round_up(p.cpu_cores * 1000 * 2, 100)
        agent = round_up(p.agent_peak_rss_mib * GOAL_HEADROOM, 64)
        rows.append(f"| {p.objects:,} | {p.lines_per_second:,} | {memory}Mi | {cpu}m | {agent}Mi |")
    return "\n".join(rows)


def directory_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def recovery(settings: Any, gateway_config: dict, agent_config: dict, outage: float,
             log: Callable[[str], None]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-recovery-") as workdir, \
            Pipeline(Path(workdir), gateway_config, agent_config, settings, GOAL_OBJECTS, GOAL_LINES) as pipeline:
        queue_dir = Path(workdir) / "gateway" / "storage"
        time.sleep(WARMUP_SECONDS)
        log("backend down")
        pipeline.sink.stop()
        started, peak_queue = time.monotonic(), 0.0
        restarted = False
        while (elapsed := time.monotonic() - started) < outage:
            peak_queue = max(peak_queue, directory_mib(queue_dir))
            if not restarted and elapsed >= outage / 2:
                log(f"gateway restart ({pipeline.logs.written} lines written)")
                pipeline.gateway.stop()
                pipeline.gateway.start()
                restarted = True
            time.sleep(5)
        written = pipeline.logs.written
        log(f"backend back ({written} lines written, queue {peak_queue:.0f} MiB)")
        pipeline.sink.start()
        back = time.monotonic()
        drained = None
        try:
            wait_until(lambda: all(n in pipeline.tail.arrived for n in range(written)), timeout=900,
                       what="every line written during the outage", interval=1)
            drained = time.monotonic() - back
        except TimeoutError:
            pass
        time.sleep(10)
        return {"outage_seconds": outage, "lines_written": written,
                "lines_lost": sum(1 for n in range(written) if n not in pipeline.tail.arrived),
                "duplicates": pipeline.tail.duplicates, "peak_queue_mib": peak_queue,
                "volume_mib": memory_mib(settings.gateway.sending_queue.volume_size), "drain_seconds": drained}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("capacity", "recovery", "cost"), action="append",
                        help="run only these parts (repeatable); default: all")
    parser.add_argument("--window", type=float, default=90, help="measured seconds per capacity point (default 90)")
    parser.add_argument("--outage", type=float,
                        help="recovery outage in seconds (default: the configured sendingQueue.outage)")
    parser.add_argument("--objects", type=int, nargs="*", default=list(OBJECTS))
    parser.add_argument("--rates", type=int, nargs="*", default=list(LINE_RATES))
    args = parser.parse_args(argv)
    parts = set(args.only or ("capacity", "recovery", "cost"))
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    gateway_config, agent_config, settings = default_sized_configs()
    print(f"# fluxcd-otel pipeline benchmark, {time.strftime('%Y-%m-%d')}\n")
    print(f"Machine: {machine()}\n")
    resources = settings.gateway.resources
    print(f"Gateway defaults: {resources.cpu_limit} CPU, {resources.memory_limit} memory limit; collector"
          f" {c.COLLECTOR_IMAGE_TAG}; scrape every {settings.gateway.scrape_interval}.\n")
    ok = True
    if "capacity" in parts:
        points = [measure_point(settings, gateway_config, agent_config, objects, rate, args.window, log)
                  for objects in args.objects for rate in args.rates]
        met, verdict = goal_verdict(points)
        ok &= met
        print("## Capacity\n\n" + capacity_table(points) + "\n")
        print(f"Goal: {verdict}\n")
        print("## Sizing (2x the measured peak memory, 2x the measured CPU)\n\n" + sizing_table(points) + "\n")
    if "recovery" in parts:
        outage = args.outage or duration_seconds(settings.gateway.sending_queue.outage)
        result = recovery(settings, gateway_config, agent_config, outage, log)
        ok &= result["lines_lost"] == 0
        print("## Recovery\n")
        print(f"- outage: {result['outage_seconds'] / 60:.0f} min at {GOAL_OBJECTS:,} objects and {GOAL_LINES} lines/s,"
              f" gateway restarted halfway")
        print(f"- lines written {result['lines_written']:,}, lost {result['lines_lost']},"
              f" duplicated {result['duplicates']}")
        print(f"- queue on disk at most {result['peak_queue_mib']:.0f} MiB of the {result['volume_mib']} MiB volume")
        drained = result["drain_seconds"]
        print(f"- drained {'in ' + format(drained, '.0f') + ' s' if drained is not None else 'NOT within 900 s'}"
              " after the backend returned\n")
    if "cost" in parts:
        print("## Cost beside the seed guide's collector\n")
        print(seed_collector.compare(gateway_config, agent_config, settings, window=args.window, log=log))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
