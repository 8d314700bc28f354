"""Benchmarks of fluxcd-otel, measured in one run and printed as ratios with the raw numbers:

    .venv/bin/python bench/run.py [--render-runs 9] [--cluster-runs 3]

1. The offline render of the `prod` stack against the floor: a bare Python process that only
   imports pulumi and the pulumi_kubernetes modules the package uses. Target: at most 1.3x.
2. One program composing FluxObservability for N clusters (1, 10, 50, 100), each with its own
   provider: time and peak memory per added cluster. Target: linear growth, judged by the
   per-cluster cost of going from 50 to 100 clusters against that of going from 10 to 50.
3. The share of a realistic Flux `/metrics` exposition (bench/flux_metrics.py) that the gateway's
   scrape filter keeps, counted in series.

Targets are judged on CPU time (user + system) of the measured process; wall time is printed
beside it. On a shared machine, CPU time leaves out the time spent waiting for other processes.
Exits with status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pulumi  # noqa: E402

from bench import flux_metrics, scrape_filter  # noqa: E402
from components.config import parse_stack_config  # noqa: E402
from components.tooling.render import available_stacks, read_stack_file, render_stack  # noqa: E402

PYTHON = sys.executable
PACKAGE = ROOT / "components"
KUBERNETES = "pulumi_kubernetes"
RENDER_COMMAND = [PYTHON, "-m", "components", "render", "--stack", "prod"]
RENDER_TARGET = 1.3
CLUSTER_COUNTS = (1, 10, 50, 100)
# Judged step against reference step: per-cluster cost of 50->100 against that of 10->50.
LINEARITY_STEPS = ((50, 100), (10, 50))
LINEARITY_TOLERANCE = 1.3


# --- 1. render against the floor -------------------------------------------------------------------
def _attribute_chain(node: ast.AST) -> list[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return parts[::-1]
    return []


def _outermost_attributes(tree: ast.AST) -> Iterator[ast.Attribute]:
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    return (node for node in ast.walk(tree) if isinstance(node, ast.Attribute) and id(node) not in inner)


def kubernetes_modules_used(package: Path = PACKAGE) -> list[str]:
    """The pulumi_kubernetes modules the package's code reaches, read from its source.

    `import pulumi_kubernetes as k8s` plus `k8s.core.v1.Service` means the module
    `pulumi_kubernetes.core.v1` (its sub-packages are imported lazily on attribute access);
    `from pulumi_kubernetes.x import Y` means `pulumi_kubernetes.x`. Each module is checked to
    have the attribute the package takes from it.
    """
    uses: set[tuple[str, str]] = set()
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        bound: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == KUBERNETES:
                        bound[alias.asname or KUBERNETES] = alias.name if alias.asname else KUBERNETES
            elif (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").split(".")[0] == KUBERNETES
            ):
                module = node.module
                assert module is not None  # its first part is KUBERNETES
                uses.update((module, alias.name) for alias in node.names)
        for node in _outermost_attributes(tree):
            chain = _attribute_chain(node)
            if chain and chain[0] in bound:
                dotted = bound[chain[0]].split(".") + chain[1:]
                uses.add((".".join(dotted[:-1]), dotted[-1]))
    for module, attribute in sorted(uses):
        if not hasattr(importlib.import_module(module), attribute):
            raise AssertionError(f"{module} has no attribute {attribute}; the derivation of the floor is wrong")
    return sorted({module for module, _ in uses})


def floor_code(modules: list[str]) -> str:
    return "\n".join(["import pulumi"] + [f"import {module}" for module in modules])


def kubernetes_modules_instantiated() -> set[str]:
    """The pulumi_kubernetes modules whose resource classes the program creates, over every stack."""
    created: set[str] = set()
    original_init = pulumi.CustomResource.__init__

    def recording_init(custom, *args, **kwargs):
        if type(custom).__module__.split(".")[0] == KUBERNETES:
            created.add(type(custom).__module__.rsplit(".", 1)[0])
        original_init(custom, *args, **kwargs)

    # setattr: a deliberate patch of a method, which mypy refuses as an assignment.
    setattr(pulumi.CustomResource, "__init__", recording_init)
    try:
        for stack in available_stacks(ROOT):
            render_stack(ROOT, stack)
    finally:
        setattr(pulumi.CustomResource, "__init__", original_init)
    return created


def _executed_kubernetes_modules(code: str) -> set[str]:
    """pulumi_kubernetes modules a fresh process has run (lazily imported ones not yet loaded excluded)."""
    report = (
        "\nimport json, os, sys\n"
        "print(json.dumps(sorted(name for name, module in list(sys.modules.items())"
        f" if name.split('.')[0] == {KUBERNETES!r}"
        " and type(module).__name__ != '_LazyModule')))\n"
        "sys.stdout.flush()\nos._exit(0)\n"
    )
    result = subprocess.run([PYTHON, "-c", code + report], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout))


def render_extra_modules(modules: list[str]) -> list[str]:
    """pulumi_kubernetes modules the render runs and the floor does not, apart from the package
    __init__ files above the floor's modules (which only set up lazy imports)."""
    render = (
        "import contextlib, io\nfrom components.tooling.render import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--stack', 'prod'])"
    )
    extra = _executed_kubernetes_modules(render) - _executed_kubernetes_modules(floor_code(modules))
    return sorted(name for name in extra if not any(module.startswith(name + ".") for module in modules))


@dataclass
class Timing:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def _timed(command: list[str], timing: Timing) -> None:
    """Wall time and CPU time (user + system) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    timing.wall.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timing.cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)


def render_against_floor(runs: int) -> bool:
    modules = kubernetes_modules_used()
    uncovered = kubernetes_modules_instantiated() - set(modules)
    if uncovered:
        raise AssertionError(f"the program creates resources of {sorted(uncovered)}, which the floor does not import")
    extra = render_extra_modules(modules)
    commands = {"floor": [PYTHON, "-c", floor_code(modules)], "render": RENDER_COMMAND}
    for command in commands.values():
        _timed(command, Timing())  # warm-up: byte-code caches and the page cache
    timings = {name: Timing() for name in commands}
    for run in range(runs):
        for name in sorted(commands, reverse=run % 2 == 1):
            _timed(commands[name], timings[name])
    cpu = {name: statistics.median(timing.cpu) for name, timing in timings.items()}
    wall = {name: statistics.median(timing.wall) for name, timing in timings.items()}
    print(f"1. Offline render of the prod stack against the floor ({runs} runs of each, alternating, median)")
    print(f"   floor:  python -c 'import pulumi; import {'; import '.join(modules)}'")
    print("           (modules read from components/**/*.py; they cover every resource class the stacks create)")
    print(f"   render: python {' '.join(RENDER_COMMAND[1:])} > /dev/null")
    if extra:
        groups = sorted({".".join(name.split(".")[:2]) for name in extra})
        print(f"           also runs {len(extra)} modules of {', '.join(groups)} (Pulumi resolving output types)")
    print("             CPU s   wall s")
    for name in commands:
        print(f"   {name:<7} {cpu[name]:>7.3f}  {wall[name]:>7.3f}")
    ratio, wall_ratio = cpu["render"] / cpu["floor"], wall["render"] / wall["floor"]
    passed = ratio <= RENDER_TARGET
    print(f"   ratio   {ratio:>6.2f}x {wall_ratio:>6.2f}x"
          f"   target: CPU time <= {RENDER_TARGET}x the floor   {_verdict(passed)}")
    return passed


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


# --- 2. N clusters -----------------------------------------------------------------------------------
def _cluster_run(clusters: int) -> dict[str, float]:
    command = [PYTHON, "-m", "bench.multi_cluster", "--clusters", str(clusters)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def _per_cluster(values: dict[int, float], low: int, high: int) -> float:
    return (values[high] - values[low]) / (high - low)


def clusters_scaling(runs: int) -> bool:
    samples: dict[int, list[dict[str, float]]] = {count: [] for count in CLUSTER_COUNTS}
    for _ in range(runs):
        for count in CLUSTER_COUNTS:
            samples[count].append(_cluster_run(count))

    def median(key: str) -> dict[int, float]:
        return {count: statistics.median(run[key] for run in done) for count, done in samples.items()}

    cpu, wall = median("cpu_seconds"), median("seconds")
    rss_mib = {count: kib / 1024 for count, kib in median("peak_rss_kib").items()}
    resources = {count: done[0]["resources"] for count, done in samples.items()}
    print("2. FluxObservability for N clusters, each with its own provider, in one program")
    print(f"   (a fresh process per run, {runs} runs per N, median; the program run, imports excluded)")
    print("   clusters  resources    CPU s   wall s  peak RSS MiB")
    for count in CLUSTER_COUNTS:
        print(f"   {count:>8}  {resources[count]:>9}  {cpu[count]:>7.3f}  {wall[count]:>7.3f}  {rss_mib[count]:>12.1f}")
    print("   added clusters   CPU per cluster   wall per cluster   memory per cluster")
    for low, high in zip(CLUSTER_COUNTS, CLUSTER_COUNTS[1:]):
        print(
            f"   {low:>5} -> {high:<5}  {_per_cluster(cpu, low, high) * 1000:>12.1f} ms"
            f"  {_per_cluster(wall, low, high) * 1000:>14.1f} ms  {_per_cluster(rss_mib, low, high) * 1024:>15.0f} KiB"
        )
    judged, reference = LINEARITY_STEPS
    print(
        f"   linear: the per-cluster cost of {judged[0]}->{judged[1]} is within {LINEARITY_TOLERANCE}x of that of"
        f" {reference[0]}->{reference[1]} (quadratic growth gives 2.5x)"
    )
    passed = True
    for label, values in (("CPU", cpu), ("memory", rss_mib)):
        ratio = _per_cluster(values, *judged) / _per_cluster(values, *reference)
        ok = 1 / LINEARITY_TOLERANCE <= ratio <= LINEARITY_TOLERANCE
        passed &= ok
        print(f"   {label:<7} {ratio:.2f}x   {_verdict(ok)}")
    return passed


# --- 3. scrape filter share ---------------------------------------------------------------------------
def scrape_filter_share() -> bool:
    job = scrape_filter.flux_controllers_scrape_config("prod")
    rules = job["metric_relabel_configs"]
    print("3. Series of a realistic Flux /metrics exposition kept by the prod gateway's scrape filter")
    print(f"   job {job['job_name']!r}, metric_relabel_configs: {json.dumps(rules, sort_keys=True)}")
    print(f"   {flux_metrics.object_count()} Flux objects (bench/flux_metrics.py, seed {flux_metrics.SEED})")
    print("   controller                 objects   series     kept   share")
    kept_total = series_total = 0
    for controller, text in flux_metrics.expositions().items():
        kept, total = scrape_filter.kept_series(text, rules)
        kept_total += kept
        series_total += total
        objects = sum(flux_metrics.FLUX_OBJECTS[controller].values())
        print(f"   {controller:<25} {objects:>8} {total:>8} {kept:>8}  {kept / total:>6.1%}")
    print(f"   {'all':<25} {flux_metrics.object_count():>8} {series_total:>8} {kept_total:>8}"
          f"  {kept_total / series_total:>6.1%}")
    prefixes = tuple(parse_stack_config(read_stack_file(ROOT, "prod").plain_settings()).gateway.metric_prefixes)
    print(f"   kept beyond the prefixes {', '.join(prefixes)}, for the shipped rules and dashboards (all controllers):")
    print("   series name                                      series    bytes")
    beyond: dict[str, tuple[int, int]] = {}
    for text in flux_metrics.expositions().values():
        for name, (series, size) in scrape_filter.kept_by_name(text, rules).items():
            if not name.startswith(prefixes):
                beyond[name] = (beyond.get(name, (0, 0))[0] + series, beyond.get(name, (0, 0))[1] + size)
    for name, (series, size) in sorted(beyond.items()):
        print(f"   {name:<48} {series:>6} {size:>8}")
    print("   (a measurement; no target)")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render-runs", type=int, default=9, help="timed runs of the render and of the floor")
    parser.add_argument("--cluster-runs", type=int, default=3, help="runs per cluster count")
    args = parser.parse_args()
    print(f"fluxcd-otel benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    sections: list[Callable[[], bool]] = [
        lambda: render_against_floor(args.render_runs),
        lambda: clusters_scaling(args.cluster_runs),
        scrape_filter_share,
    ]
    results = []
    for section in sections:
        print()
        sys.stdout.flush()
        results.append(section())
    sys.stdout.flush()
    return 0 if all(results) else 1


if __name__ == "__main__":
    exit_code = main()
    # As in components.tooling.render: the mocks' event loops make interpreter exit print ignored errors.
    os._exit(exit_code)
