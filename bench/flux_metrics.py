"""A deterministic, realistic `/metrics` exposition of the four default Flux controllers.

    python -m bench.flux_metrics --out DIR   # writes DIR/<controller>.prom, one per controller

The gateway scrapes each controller as its own target, so there is one exposition per controller.
About 200 Flux objects are spread over the kinds the controllers reconcile (`FLUX_OBJECTS`).

Taken from upstream: the metric families each controller registers, their types, label names
and histogram buckets:
- Flux: `gotk_reconcile_duration_seconds` (fluxcd/pkg runtime/metrics), the token cache
  `gotk_token_*` (fluxcd/pkg cache, on by default since Flux 2.6), source-controller's Helm index
  cache `gotk_cache_events_total` (present when `--helm-cache-max-size` is set), and the
  notification-controller's event and receiver servers (slok/go-http-metrics with the prefixes
  `gotk_event` and `gotk_receiver`).
- controller-runtime: `controller_runtime_*`, `workqueue_*`, `rest_client_requests_total`,
  `leader_election_master_status`, `certwatcher_*`.
- client_golang's default Go and process collectors. This is the classic, smallest `go_*` set;
  controller-runtime releases that register more Go runtime metrics add further `go_*` series.
Not exposed by Flux controllers, hence absent: `promhttp_*` (controller-runtime serves its registry
with `promhttp.HandlerFor`, which adds no handler metrics), `rest_client_request_duration_seconds`
(not registered by controller-runtime by default), `gotk_reconcile_condition` and
`gotk_suspend_status` (removed in Flux 2.5).
Made up, from a seeded generator: object names, namespaces, label values such as HTTP codes and
the workload-identity users, and sample values.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Iterable

from components import constants as c

SEED = 2026

FLUX_OBJECTS: dict[str, dict[str, int]] = {
    "source-controller": {"Bucket": 2, "GitRepository": 20, "HelmChart": 40, "HelmRepository": 14, "OCIRepository": 24},
    "kustomize-controller": {"Kustomization": 50},
    "helm-controller": {"HelmRelease": 40},
    "notification-controller": {"Alert": 3, "Provider": 3, "Receiver": 4},
}
# notification.toolkit.fluxcd.io/v1beta3 Alerts and Providers have no reconciler and no status.
STATIC_KINDS = frozenset({"Alert", "Provider"})
NAMESPACES = ("flux-system", "apps", "infrastructure", "monitoring", "team-a", "team-b")
# Objects that authenticate with workload identity, so their controller's token cache serves them.
WORKLOAD_IDENTITY_OBJECTS = {"source-controller": ("OCIRepository", 6), "kustomize-controller": ("Kustomization", 3)}
TOKEN_CACHE_CONTROLLERS = ("source-controller", "kustomize-controller", "notification-controller")
HELM_INDEX_CACHE_KIND = "HelmChart"
# Median reconcile duration in seconds, for plausible histograms.
MEDIAN_RECONCILE_SECONDS = {
    "Bucket": 0.8, "GitRepository": 1.2, "HelmChart": 0.6, "HelmRepository": 0.4, "OCIRepository": 1.5,
    "Kustomization": 2.5, "HelmRelease": 4.0, "Receiver": 0.02,
}
API_SERVER = "10.96.0.1:443"
REST_CALLS = (("200", "GET"), ("200", "PATCH"), ("200", "PUT"), ("201", "POST"), ("404", "GET"), ("409", "PATCH"))
RECONCILE_RESULTS = ("error", "requeue", "requeue_after", "success")
GO_VERSION = "go1.25.3"


def exponential_buckets(start: float, factor: float, count: int) -> list[float]:
    """client_golang's ExponentialBuckets: each bound is the previous one times `factor`."""
    bounds, bound = [], start
    for _ in range(count):
        bounds.append(bound)
        bound *= factor
    return bounds


def _go_integer_power(base: float, exponent: int) -> float:
    # Go's math.Pow raises to an integer power by repeated squaring of the mantissa; C's pow
    # rounds differently in the last bit, and the bounds are label values, so they must agree.
    result, result_exp = 1.0, 0
    mantissa, mantissa_exp = math.frexp(base)
    while exponent:
        if exponent & 1:
            result *= mantissa
            result_exp += mantissa_exp
        mantissa *= mantissa
        mantissa_exp <<= 1
        if mantissa < 0.5:
            mantissa += mantissa
            mantissa_exp -= 1
        exponent >>= 1
    return math.ldexp(result, result_exp)


def exponential_buckets_range(low: float, high: float, count: int) -> list[float]:
    """client_golang's ExponentialBucketsRange, bit for bit as a Go controller computes it."""
    # Go's math.Pow(high/low, 1/(count-1)) for a fractional exponent is Exp(exponent * Log(base)).
    growth = math.exp((1.0 / (count - 1)) * math.log(high / low))
    return [low * _go_integer_power(growth, index) for index in range(count)]


# fluxcd/pkg runtime/metrics: 10 buckets from 10 ms to 30 min.
RECONCILE_DURATION_BUCKETS = exponential_buckets_range(10e-3, 1800, 10)
CONTROLLER_RUNTIME_BUCKETS = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0,
    1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
]
WORKQUEUE_BUCKETS = exponential_buckets(10e-9, 10, 12)
HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]  # prometheus.DefBuckets
HTTP_SIZE_BUCKETS = exponential_buckets(100, 10, 8)

_GO_MEMSTATS = {
    "alloc_bytes": ("gauge", "Number of bytes allocated in heap and currently in use."),
    "alloc_bytes_total": ("counter", "Total number of bytes allocated in heap until now, even if released already."),
    "buck_hash_sys_bytes": ("gauge", "Number of bytes used by the profiling bucket hash table."),
    "frees_total": ("counter", "Total number of heap objects frees."),
    "gc_sys_bytes": ("gauge", "Number of bytes used for garbage collection system metadata."),
    "heap_alloc_bytes": ("gauge", "Number of heap bytes allocated and currently in use."),
    "heap_idle_bytes": ("gauge", "Number of heap bytes waiting to be used."),
    "heap_inuse_bytes": ("gauge", "Number of heap bytes that are in use."),
    "heap_objects": ("gauge", "Number of currently allocated objects."),
    "heap_released_bytes": ("gauge", "Number of heap bytes released to OS."),
    "heap_sys_bytes": ("gauge", "Number of heap bytes obtained from system."),
    "last_gc_time_seconds": ("gauge", "Number of seconds since 1970 of last garbage collection."),
    "mallocs_total": ("counter", "Total number of heap objects allocated, both live and gc-ed."),
    "mcache_inuse_bytes": ("gauge", "Number of bytes in use by mcache structures."),
    "mcache_sys_bytes": ("gauge", "Number of bytes used for mcache structures obtained from system."),
    "mspan_inuse_bytes": ("gauge", "Number of bytes in use by mspan structures."),
    "mspan_sys_bytes": ("gauge", "Number of bytes used for mspan structures obtained from system."),
    "next_gc_bytes": ("gauge", "Number of heap bytes when next garbage collection will take place."),
    "other_sys_bytes": ("gauge", "Number of bytes used for other system allocations."),
    "stack_inuse_bytes": ("gauge", "Number of bytes obtained from system for stack allocator in non-CGO environments."),
    "stack_sys_bytes": ("gauge", "Number of bytes obtained from system for stack allocator."),
    "sys_bytes": ("gauge", "Number of bytes obtained from system."),
}
_PROCESS = {
    "cpu_seconds_total": ("counter", "Total user and system CPU time spent in seconds."),
    "max_fds": ("gauge", "Maximum number of open file descriptors."),
    "network_receive_bytes_total": ("counter", "Number of bytes received by the process over the network."),
    "network_transmit_bytes_total": ("counter", "Number of bytes sent by the process over the network."),
    "open_fds": ("gauge", "Number of open file descriptors."),
    "resident_memory_bytes": ("gauge", "Resident memory size in bytes."),
    "start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds."),
    "virtual_memory_bytes": ("gauge", "Virtual memory size in bytes."),
    "virtual_memory_max_bytes": ("gauge", "Maximum amount of virtual memory available in bytes."),
}
GO_MEMSTATS = sorted(f"go_memstats_{name}" for name in _GO_MEMSTATS)
PROCESS_METRICS = sorted(f"process_{name}" for name in _PROCESS)
_CACHE_EVENTS_HELP = "Total number of cache retrieval events for a Gitops Toolkit resource reconciliation."
_UNFINISHED_HELP = (
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. "
    "Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate "
    "at which this increases."
)
_LEADER_HELP = (
    "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. "
    "'name' is the string used to identify the lease. Please make sure to group by name."
)
# Family name -> (type, HELP text) as the controllers declare them.
FAMILIES: dict[str, tuple[str, str]] = {
    "certwatcher_read_certificate_errors_total": ("counter", "Total number of certificate read errors"),
    "certwatcher_read_certificate_total": ("counter", "Total number of certificate reads"),
    "controller_runtime_active_workers": ("gauge", "Number of currently used workers per controller"),
    "controller_runtime_max_concurrent_reconciles": ("gauge", "Maximum number of concurrent reconciles per controller"),
    c.RECONCILE_ERRORS_METRIC: ("counter", "Total number of reconciliation errors per controller"),
    "controller_runtime_reconcile_panics_total": ("counter", "Total number of reconciliation panics per controller"),
    "controller_runtime_reconcile_time_seconds": ("histogram", "Length of time per reconciliation per controller"),
    c.RECONCILE_TOTAL_METRIC: ("counter", "Total number of reconciliations per controller"),
    "controller_runtime_terminal_reconcile_errors_total": (
        "counter", "Total number of terminal reconciliation errors per controller"
    ),
    "go_gc_duration_seconds": (
        "summary", "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles."
    ),
    "go_gc_gogc_percent": ("gauge", "Heap size target percentage configured by the user, otherwise 100."),
    "go_gc_gomemlimit_bytes": ("gauge", "Go runtime memory limit configured by the user, otherwise math.MaxInt64."),
    "go_goroutines": ("gauge", "Number of goroutines that currently exist."),
    "go_info": ("gauge", "Information about the Go environment."),
    **{f"go_memstats_{name}": value for name, value in _GO_MEMSTATS.items()},
    "go_sched_gomaxprocs_threads": ("gauge", "The current runtime.GOMAXPROCS setting."),
    "go_threads": ("gauge", "Number of OS threads created."),
    "gotk_cache_events_total": ("counter", _CACHE_EVENTS_HELP),
    c.RECONCILE_DURATION_METRIC: (
        "histogram", "The duration in seconds of a GitOps Toolkit resource reconciliation."
    ),
    "gotk_token_cache_evictions_total": ("counter", "Total number of cache evictions."),
    "gotk_token_cache_events_total": ("counter", _CACHE_EVENTS_HELP),
    "gotk_token_cache_requests_total": ("counter", "Total number of cache requests partioned by success or failure."),
    "gotk_token_cached_items": ("gauge", "Total number of items in the cache."),
    "leader_election_master_status": ("gauge", _LEADER_HELP),
    **{f"process_{name}": value for name, value in _PROCESS.items()},
    c.REST_CLIENT_REQUESTS_METRIC: (
        "counter", "Number of HTTP requests, partitioned by status code, method, and host."
    ),
    "workqueue_adds_total": ("counter", "Total number of adds handled by workqueue"),
    c.WORKQUEUE_DEPTH_METRIC: ("gauge", "Current depth of workqueue by workqueue and priority"),
    c.WORKQUEUE_LONGEST_RUNNING_METRIC: (
        "gauge", "How many seconds has the longest running processor for workqueue been running."
    ),
    c.WORKQUEUE_QUEUE_DURATION_METRIC: (
        "histogram", "How long in seconds an item stays in workqueue before being requested"
    ),
    "workqueue_retries_total": ("counter", "Total number of retries handled by workqueue"),
    "workqueue_unfinished_work_seconds": ("gauge", _UNFINISHED_HELP),
    "workqueue_work_duration_seconds": ("histogram", "How long in seconds processing an item from workqueue takes."),
}
# slok/go-http-metrics families, after the server's prefix.
HTTP_FAMILIES = {
    "http_request_duration_seconds": ("histogram", "The latency of the HTTP requests."),
    "http_requests_inflight": ("gauge", "The number of inflight requests being handled at the same time."),
    "http_response_size_bytes": ("histogram", "The size of the HTTP responses."),
}


def go_float(value: float) -> str:
    """A number as Go's strconv.FormatFloat(value, 'g', -1, 64) writes it, as client_golang does:
    the shortest digits that round-trip, in exponent form below 1e-4 and from 1e+06 on."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == 0:
        return "0"
    # repr gives the same shortest round-trip digits as Go's precision -1.
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)  # a finite number: infinities and NaN returned above
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent
    prefix = "-" if sign else ""
    if not -4 <= point - 1 < 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{prefix}{mantissa}e{point - 1:+03d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return prefix + digits + "0" * (point - len(digits))
    return f"{prefix}{digits[:point]}.{digits[point:]}"


@dataclass
class Family:
    name: str
    type: str
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, labels: dict[str, str], value: float, suffix: str = "") -> None:
        self.samples.append((self.name + suffix, labels, value))

    def observe(self, labels: dict[str, str], bounds: list[float], observations: list[float]) -> None:
        """One histogram series: cumulative buckets (le last), then _sum and _count."""
        ordered = sorted(observations)
        position = 0
        for bound in bounds:
            while position < len(ordered) and ordered[position] <= bound:
                position += 1
            self.add({**labels, "le": go_float(bound)}, position, "_bucket")
        self.add({**labels, "le": "+Inf"}, len(ordered), "_bucket")
        self.add(labels, math.fsum(ordered), "_sum")
        self.add(labels, len(ordered), "_count")

    def text(self) -> str:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.type}"]
        lines += [f"{name}{_labels(labels)} {go_float(value)}" for name, labels, value in self.samples]
        return "\n".join(lines) + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for value in labels.values())
    return "{" + ",".join(f'{name}="{value}"' for name, value in zip(labels, escaped)) + "}"


@dataclass(frozen=True)
class FluxObject:
    kind: str
    name: str
    namespace: str

    @property
    def labels(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace}


def flux_objects(controller: str, inventory: dict[str, dict[str, int]] = FLUX_OBJECTS) -> list[FluxObject]:
    return [
        FluxObject(kind, f"{kind.lower()}-{index:02d}", NAMESPACES[index % len(NAMESPACES)])
        for kind, count in sorted(inventory[controller].items())
        for index in range(count)
    ]


def object_count(inventory: dict[str, dict[str, int]] = FLUX_OBJECTS) -> int:
    return sum(sum(kinds.values()) for kinds in inventory.values())


def scaled_inventory(objects: int) -> dict[str, dict[str, int]]:
    """`FLUX_OBJECTS` scaled to about `objects` Flux objects, every kind kept in proportion (at least one)."""
    factor = objects / object_count()
    return {controller: {kind: max(1, round(count * factor)) for kind, count in kinds.items()}
            for controller, kinds in FLUX_OBJECTS.items()}


class Exposition:
    """The families of one controller, written sorted by name as client_golang does; a family
    without samples is left out, as a vector nobody has set is."""

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def family(self, name: str, declared: tuple[str, str] | None = None) -> Family:
        if name not in self.families:
            kind, help_text = declared or FAMILIES[name]
            self.families[name] = Family(name, kind, help_text)
        return self.families[name]

    def text(self) -> str:
        return "".join(family.text() for name, family in sorted(self.families.items()) if family.samples)


def _durations(rng: random.Random, median: float, count: int) -> list[float]:
    return [rng.lognormvariate(math.log(median), 0.6) for _ in range(count)]


def _controller_runtime(exposition: Exposition, rng: random.Random, runs: dict[str, list[float]]) -> None:
    """controller-runtime's per-controller metrics and the workqueue each controller owns."""
    for controller, durations in sorted(runs.items()):
        one = {"controller": controller}
        queue = {"controller": controller, "name": controller}
        errors = rng.randint(0, len(durations) // 20)
        requeues = rng.randint(0, len(durations) // 10)
        results = {"error": errors, "requeue": requeues, "requeue_after": len(durations) - errors - requeues}
        exposition.family("controller_runtime_active_workers").add(one, rng.randint(0, 2))
        exposition.family("controller_runtime_max_concurrent_reconciles").add(one, 10)
        exposition.family(c.RECONCILE_ERRORS_METRIC).add(one, errors)
        exposition.family("controller_runtime_reconcile_panics_total").add(one, 0)
        exposition.family("controller_runtime_terminal_reconcile_errors_total").add(one, 0)
        exposition.family("controller_runtime_reconcile_time_seconds").observe(
            one, CONTROLLER_RUNTIME_BUCKETS, durations
        )
        for result in RECONCILE_RESULTS:
            exposition.family(c.RECONCILE_TOTAL_METRIC).add({**one, "result": result}, results.get(result, 0))
        exposition.family("workqueue_adds_total").add(queue, len(durations))
        exposition.family(c.WORKQUEUE_DEPTH_METRIC).add({**queue, "priority": ""}, 0)
        exposition.family(c.WORKQUEUE_LONGEST_RUNNING_METRIC).add(queue, 0)
        waits = _durations(rng, 5e-5, len(durations))
        exposition.family(c.WORKQUEUE_QUEUE_DURATION_METRIC).observe(queue, WORKQUEUE_BUCKETS, waits)
        exposition.family("workqueue_retries_total").add(queue, errors + requeues)
        exposition.family("workqueue_unfinished_work_seconds").add(queue, 0)
        exposition.family("workqueue_work_duration_seconds").observe(queue, WORKQUEUE_BUCKETS, durations)


def _process_and_runtime(exposition: Exposition, rng: random.Random, controller: str) -> None:
    """client_golang's Go and process collectors, leader election, certwatcher and the REST client."""
    pauses = sorted(rng.uniform(2e-5, 4e-3) for _ in range(200))
    gc = exposition.family("go_gc_duration_seconds")
    for quantile, index in (("0", 0), ("0.25", 49), ("0.5", 99), ("0.75", 149), ("1", 199)):
        gc.add({"quantile": quantile}, pauses[index])
    gc.add({}, math.fsum(pauses), "_sum")
    gc.add({}, len(pauses), "_count")
    exposition.family("go_gc_gogc_percent").add({}, 100)
    exposition.family("go_gc_gomemlimit_bytes").add({}, 1e9)
    exposition.family("go_goroutines").add({}, rng.randint(150, 400))
    exposition.family("go_info").add({"version": GO_VERSION}, 1)
    for name in GO_MEMSTATS:
        exposition.family(name).add({}, float(rng.randint(10_000, 90_000_000)))
    exposition.family("go_sched_gomaxprocs_threads").add({}, 2)
    exposition.family("go_threads").add({}, rng.randint(10, 20))
    for name in PROCESS_METRICS:
        exposition.family(name).add({}, float(rng.randint(10, 90_000_000)))
    exposition.family("leader_election_master_status").add({"name": f"{controller}-leader-election"}, 1)
    exposition.family("certwatcher_read_certificate_errors_total").add({}, 0)
    exposition.family("certwatcher_read_certificate_total").add({}, 0)
    for code, method in REST_CALLS:
        labels = {"code": code, "host": API_SERVER, "method": method}
        exposition.family(c.REST_CLIENT_REQUESTS_METRIC).add(labels, rng.randint(1, 5000))


def _token_cache(exposition: Exposition, rng: random.Random, controller: str, objects: list[FluxObject]) -> None:
    """fluxcd/pkg cache with the prefix gotk_token_: events only for objects that use workload identity."""
    kind, count = WORKLOAD_IDENTITY_OBJECTS.get(controller, ("", 0))
    users = [obj for obj in objects if obj.kind == kind][:count]
    exposition.family("gotk_token_cached_items").add({}, len(users))
    exposition.family("gotk_token_cache_evictions_total").add({}, 0)
    for obj in users:
        for event in ("cache_hit", "cache_miss"):
            labels = {"event_type": event, **obj.labels, "operation": "reconcile"}
            exposition.family("gotk_token_cache_events_total").add(labels, rng.randint(1, 500))
    if users:
        exposition.family("gotk_token_cache_requests_total").add({"status": "failure"}, rng.randint(0, 50))
        exposition.family("gotk_token_cache_requests_total").add({"status": "success"}, rng.randint(50, 5000))


def _http_server(exposition: Exposition, rng: random.Random, prefix: str, handlers: list[tuple[str, str]]) -> None:
    """slok/go-http-metrics' Prometheus recorder for one server: (handler, code) pairs, all POST."""
    duration, inflight, size = (
        exposition.family(f"{prefix}_{name}", HTTP_FAMILIES[name]) for name in sorted(HTTP_FAMILIES)
    )
    for handler, code in handlers:
        labels = {"code": code, "handler": handler, "method": "POST"}
        requests = rng.randint(20, 2000)
        duration.observe(labels, HTTP_DURATION_BUCKETS, _durations(rng, 0.004, requests))
        size.observe(labels, HTTP_SIZE_BUCKETS, [float(rng.randint(0, 64)) for _ in range(requests)])
    for handler in sorted({handler for handler, _ in handlers}):
        inflight.add({"handler": handler}, 0)


def controller_exposition(controller: str, rng: random.Random,
                          inventory: dict[str, dict[str, int]] = FLUX_OBJECTS) -> str:
    objects = flux_objects(controller, inventory)
    reconciled = [obj for obj in objects if obj.kind not in STATIC_KINDS]
    exposition = Exposition()
    runs: dict[str, list[float]] = {}
    for obj in reconciled:
        observations = _durations(rng, MEDIAN_RECONCILE_SECONDS[obj.kind], rng.randint(20, 300))
        exposition.family(c.RECONCILE_DURATION_METRIC).observe(obj.labels, RECONCILE_DURATION_BUCKETS, observations)
        runs.setdefault(obj.kind.lower(), []).extend(observations)
    _controller_runtime(exposition, rng, runs)
    _process_and_runtime(exposition, rng, controller)
    if controller in TOKEN_CACHE_CONTROLLERS:
        _token_cache(exposition, rng, controller, objects)
    if controller == "source-controller":
        for obj in reconciled:
            if obj.kind == HELM_INDEX_CACHE_KIND:
                for event in ("cache_hit", "cache_miss"):
                    labels = {"event_type": event, "name": obj.name, "namespace": obj.namespace}
                    exposition.family("gotk_cache_events_total").add(labels, rng.randint(1, 300))
    if controller == "notification-controller":
        _http_server(exposition, rng, "gotk_event", [("/", "200"), ("/", "429")])
        receivers = [obj for obj in reconciled if obj.kind == "Receiver"]
        hooks = [f"/hook/{hashlib.sha256(obj.name.encode()).hexdigest()}" for obj in receivers]
        _http_server(exposition, rng, "gotk_receiver", [(hook, "200") for hook in hooks])
    return exposition.text()


def expositions(seed: int = SEED, inventory: dict[str, dict[str, int]] = FLUX_OBJECTS) -> dict[str, str]:
    """controller name -> its /metrics text; the same seed gives the same bytes."""
    rng = random.Random(seed)
    return {controller: controller_exposition(controller, rng, inventory) for controller in inventory}


def write(out: Path, texts: Iterable[tuple[str, str]]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for controller, text in texts:
        path = out / f"{controller}.prom"
        path.write_text(text)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for <controller>.prom files")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    for path in write(args.out, expositions(args.seed).items()):
        print(path)


if __name__ == "__main__":
    main()
