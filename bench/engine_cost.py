"""The program's own cost on the real engine: `pulumi preview` and `pulumi up` of a stack (`prod`)
against the real tier's API server, beside the SDK floor, a plain pulumi-kubernetes program that
declares the same custom resources with the same inputs (bench/sdk_floor.py):

    .venv/bin/python -m bench.engine_cost [--runs 3] [--stack prod] [--decompose] [--profile DIR]
    # needs root and the real tier's builds (python -m e2e.build)

Starts the engine tier's cluster (etcd, kube-apiserver, kube-controller-manager, the kubelet
stand-in, Flux's controllers) and the loopback chart repository, as e2e/test_pulumi_engine.py
does. The floor's data comes from the program's own run under the renderer's mocks, with the
stack's config as the engine gets it, and is checked resource by resource against it before
anything is timed.

Each run gives each program a fresh stack and times, each in a fresh process
(bench/engine_cost_worker.py): `preview` of the empty stack, `up`, and `preview` again (no
change). After each `up` the objects in the API server (kind, namespace, name; Events and cluster
IPs left out) must be the same for every program; `destroy` then removes them, untimed. The order
of the programs alternates from run to run. Prints per phase the median wall time of each program
and their ratio, and the CPU time of the program's process and of the engine (the CLI and its
plugins). Exits with status 1 when a phase's wall-time ratio is above the goal.

`--decompose` adds two programs that split the difference: the floor with the package's
ComponentResource tree (the same components, parents and registered outputs, none of the package's
code), and the package's program with `components` imported before the clock starts.
`--profile DIR` runs each program once more with cProfile on its process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

from pulumi import automation as auto

from bench.sdk_floor import FLOOR_NAMESPACE, FLOOR_PROGRAM, Recording, checked_floor, record
from components import constants as c
from components.tooling.render import read_stack_file
from e2e.harness.charts import ChartRepository, chart_overrides
from e2e.harness.controllers import flux_cluster
from e2e.harness.engine import Engine
from e2e.harness.kube import ApiServer, child_env, run_bounded, wait_until

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PHASES = {"preview": "preview, empty stack", "up": "up", "preview-again": "preview after up (no change)"}
GOAL = 1.1
TOKEN = "engine-cost-token-5c1e"
SECRETS = {"exportToken": TOKEN}
FLOOR_PROJECT = "sdk-floor"
PHASE_TIMEOUT_SECONDS = 600
# Kinds whose objects come and go by themselves, or are named at random: Events, and the
# Services' cluster IPs.
UNCOMPARED_KINDS = {"events", "events.events.k8s.io", "ipaddresses.networking.k8s.io"}
CLEAN_TIMEOUT_SECONDS = 180
# What a controller appends to its owner's name: a pod-template hash.
HASH_SUFFIX = re.compile(r"[a-z0-9]{5,}")
SETTLE_TIMEOUT_SECONDS = 30
SETTLE_MARGIN = 0.1


@dataclass(frozen=True)
class Program:
    key: str
    label: str
    path: Path
    data: Optional[Path] = None
    """The floor's data file; None for the package's program, which runs on its own stack file."""
    preimport: tuple[str, ...] = ()


# --- configuration ------------------------------------------------------------------------------------
def program_config(stack: str, overrides: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The config the program runs with under the mocks: the stack file, the chart-repository
    overrides (whole sections, as e2e's render takes them) and the token as a secret."""
    stack_file = read_stack_file(ROOT, stack)
    config, secret_keys = dict(stack_file.config), list(stack_file.secret_keys)
    for section, value in overrides.items():
        config[f"{c.PROJECT}:{section}"] = json.dumps(value)
    for key, value in SECRETS.items():
        config[f"{c.PROJECT}:{key}"] = value
        if f"{c.PROJECT}:{key}" not in secret_keys:
            secret_keys.append(f"{c.PROJECT}:{key}")
    return config, secret_keys


def floor_stack(engine: Engine, stack: str, *, kubeconfig: Path, data_path: Path, secrets: list[Any]) -> auto.Stack:
    """The floor's stack: its own project, the same kubeconfig, its data file and its secrets."""
    project = engine.workdir / "project-floor"
    project.mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text(f"name: {FLOOR_PROJECT}\nruntime: python\n")
    created = auto.create_or_select_stack(
        stack_name=stack, project_name=FLOOR_PROJECT, program=lambda: None,
        opts=auto.LocalWorkspaceOptions(work_dir=str(project), env_vars=engine.env, pulumi_command=engine.command),
    )
    created.set_config("kubernetes:kubeconfig", auto.ConfigValue(str(kubeconfig)))
    created.set_config(f"{FLOOR_NAMESPACE}:data", auto.ConfigValue(str(data_path)))
    created.set_config(f"{FLOOR_NAMESPACE}:secrets", auto.ConfigValue(json.dumps(secrets), secret=True))
    return created


# --- what is in the cluster ----------------------------------------------------------------------------
def listable_kinds(cluster: ApiServer) -> list[str]:
    names = cluster.kubectl("api-resources", "--verbs=list,get", "-o", "name").stdout.split()
    return sorted(name for name in names if name not in UNCOMPARED_KINDS)


def object_key(item: dict[str, Any]) -> tuple[str, str, str]:
    """(kind.group, namespace, name). A generated name counts by its prefix, and so does a name a
    controller derives from its owner's and a hash (ReplicaSets, ControllerRevisions): the hash
    covers the pod template, whose config holds the Alert's UID, new with every `up`. A
    StatefulSet's pods keep their ordinals."""
    metadata = item["metadata"]
    owners = [owner["name"] for owner in metadata.get("ownerReferences", []) if owner.get("controller")]
    if metadata.get("generateName"):
        name = f"{metadata['generateName']}*"
    elif owners and HASH_SUFFIX.fullmatch(metadata["name"].removeprefix(f"{owners[0]}-")):
        name = f"{owners[0]}-*"
    else:
        name = metadata["name"]
    group = item["apiVersion"].split("/")[0] if "/" in item["apiVersion"] else ""
    return (f"{item['kind']}.{group}" if group else item["kind"], metadata.get("namespace", ""), name)


def cluster_objects(cluster: ApiServer, kinds: list[str]) -> set[tuple[str, str, str]]:
    items = json.loads(cluster.kubectl("get", ",".join(kinds), "-A", "-o", "json", timeout=120).stdout)["items"]
    return {object_key(item) for item in items}


# --- one phase, in a fresh process ------------------------------------------------------------------------
@dataclass
class Sample:
    wall: float
    sdk_import: float
    program_cpu: float
    engine_cpu: float
    changes: dict[str, int]

    @property
    def wall_with_sdk_import(self) -> float:
        """The phase as a language host runs it, whose Python process imports the SDK first."""
        return self.wall + self.sdk_import


# --- a quiet machine between programs ----------------------------------------------------------------------
def busy_share(seconds: float = 1.0) -> float:
    """The share of all CPUs' time spent busy over `seconds` (/proc/stat)."""
    def read() -> tuple[int, int]:
        values = [int(field) for field in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total

    idle, total = read()
    time.sleep(seconds)
    idle_after, total_after = read()
    return 1 - (idle_after - idle) / max(1, total_after - total)


def settle(baseline: float, timeout: float = SETTLE_TIMEOUT_SECONDS) -> None:
    """Waits until the machine is about as quiet as when the cluster had just started: the last
    program's pods stopping and its namespaces going away would otherwise slow the next one."""
    deadline = time.monotonic() + timeout
    while busy_share() > baseline + SETTLE_MARGIN and time.monotonic() < deadline:
        pass


def expected_changes(phase: str, resources: int) -> dict[str, int]:
    """The first preview and the up create every resource; the second preview changes nothing."""
    return {"same": resources} if phase == "preview-again" else {"create": resources}


def engine_resources(recorded: Recording) -> int:
    """What the engine counts in a change summary: the stack, the components and the custom
    resources (providers are left out)."""
    return 1 + len(recorded.registrations)


# --- the runs ------------------------------------------------------------------------------------------------
@dataclass
class Results:
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    created: Optional[set[tuple[str, str, str]]] = None

    def of(self, program: Program, phase: str) -> list[Sample]:
        return self.samples.get((program.key, phase), [])


class Bench:
    def __init__(self, workdir: Path, cluster: ApiServer, charts: ChartRepository, stack: str,
                 decompose: bool) -> None:
        self.cluster, self.stack_name = cluster, stack
        overrides = chart_overrides(stack, charts.url)
        self.path_config = {f"{section}.chartRepository": charts.url for section in overrides}
        config, secret_keys = program_config(stack, overrides)
        main = ROOT / "__main__.py"
        self.ours = record(main, project=c.PROJECT, stack=stack, config=config, secret_keys=secret_keys)
        self.programs = [Program("ours", "fluxcd-otel", main),
                         Program("floor", "SDK floor", FLOOR_PROGRAM, workdir / "floor.json")]
        if decompose:
            self.programs += [Program("floor-tree", "floor + components", FLOOR_PROGRAM, workdir / "floor-tree.json"),
                              Program("ours-imported", "fluxcd-otel, imported", main, preimport=("components",))]
        self.recordings: dict[str, Recording] = {}
        self.secrets: list[Any] = []
        for program in self.programs:
            if program.data is None:
                self.recordings[program.key] = self.ours
                continue
            self.secrets, self.recordings[program.key] = checked_floor(
                self.ours, program.data, project=FLOOR_PROJECT, stack=stack, tree=program.key == "floor-tree")
        self.engine = Engine(workdir / "engine")
        self.kinds = listable_kinds(cluster)
        self.baseline = cluster_objects(cluster, self.kinds)
        self.results = Results()
        self.quiet = statistics.median(busy_share() for _ in range(3))

    def fresh_stack(self, program: Program) -> tuple[auto.Stack, Path, str]:
        if program.data is None:
            stack = self.engine.stack(self.stack_name, kubeconfig=self.cluster.admin_kubeconfig,
                                      config=self.path_config, secrets=SECRETS)
            return stack, self.engine.workdir / f"project-{self.stack_name}", c.PROJECT
        stack = floor_stack(self.engine, self.stack_name, kubeconfig=self.cluster.admin_kubeconfig,
                            data_path=program.data, secrets=self.secrets)
        return stack, self.engine.workdir / "project-floor", FLOOR_PROJECT

    def timed_phase(self, program: Program, phase: str, work_dir: Path, project: str,
                    profile: Optional[Path] = None) -> Sample:
        spec: dict[str, Any] = {
            "program": str(program.path), "preimport": list(program.preimport),
            "phase": "up" if phase == "up" else "preview", "stack": self.stack_name, "project": project,
            "work_dir": str(work_dir), "cli_root": str(Path(self.engine.cli).parent.parent),
        }
        if profile is not None:
            spec["profile"] = str(profile)
        # Byte code is written on the warm-up and reused, as an installed package's is: where the
        # environment sets PYTHONDONTWRITEBYTECODE, every timed process would compile the package.
        env = child_env(**self.engine.env, PYTHONPYCACHEPREFIX=str(self.engine.workdir / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        result = run_bounded([PYTHON, "-m", "bench.engine_cost_worker", json.dumps(spec)],
                             timeout=PHASE_TIMEOUT_SECONDS, env=env, cwd=ROOT)
        if result.returncode != 0:
            raise AssertionError(f"{program.key} {phase} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        sample = Sample(**json.loads(result.stdout.strip().splitlines()[-1]))
        expected = expected_changes(phase, engine_resources(self.recordings[program.key]))
        if sample.changes != expected:
            raise AssertionError(f"{program.key} {phase}: changes {sample.changes}, expected {expected}")
        return sample

    def created(self) -> set[tuple[str, str, str]]:
        return cluster_objects(self.cluster, self.kinds) - self.baseline

    def one(self, program: Program, profile: Optional[Path] = None) -> None:
        """Preview, up, preview again on a fresh stack; then destroy, untimed."""
        stack, work_dir, project = self.fresh_stack(program)
        try:
            for phase in PHASES:
                sample = self.timed_phase(program, phase, work_dir, project,
                                          profile / f"{program.key}-{phase}.prof" if profile else None)
                print(f"   {program.key:<14} {phase:<13} {sample.wall:7.2f} s", file=sys.stderr, flush=True)
                if profile is None:
                    self.results.samples.setdefault((program.key, phase), []).append(sample)
                if phase == "up":
                    self.check_created(program)
        finally:
            stack.destroy()
            stack.workspace.remove_stack(self.stack_name)
            wait_until(lambda: not self.created(), timeout=CLEAN_TIMEOUT_SECONDS,
                       what=f"the cluster to be as before {program.key}'s up")
            settle(self.quiet)

    def warm_up(self, program: Program) -> None:
        """One untimed preview: byte-code caches and the page cache, for every program alike."""
        stack, work_dir, project = self.fresh_stack(program)
        try:
            self.timed_phase(program, "preview", work_dir, project)
        finally:
            stack.workspace.remove_stack(self.stack_name)
            settle(self.quiet)

    def check_created(self, program: Program) -> None:
        created = self.created()
        if self.results.created is None:
            self.results.created = created
        elif created != self.results.created:
            raise AssertionError(f"{program.key}'s up left other objects than the first up: "
                                 f"only after {program.key}: {sorted(created - self.results.created)[:20]}, "
                                 f"missing: {sorted(self.results.created - created)[:20]}")


def alternating(programs: list[Program], runs: int) -> Iterator[Program]:
    """Each run, every program once; the order reverses from one run to the next."""
    for run in range(runs):
        yield from (programs if run % 2 == 0 else programs[::-1])


# --- the report ------------------------------------------------------------------------------------------------
def median(samples: list[Sample], key: str) -> float:
    return statistics.median(getattr(sample, key) for sample in samples)


def report(bench: Bench, runs: int) -> bool:
    results, (ours, floor) = bench.results, bench.programs[:2]
    print(f"`pulumi preview` and `up` of the {bench.stack_name} stack on the real engine against the SDK floor"
          f" ({runs} runs of each, alternating; median)")
    recorded = bench.recordings
    print(f"   fluxcd-otel: {len(recorded['ours'].custom)} custom resources + {len(recorded['ours'].components)}"
          f" components ({engine_resources(recorded['ours'])} in the engine's summary, with the stack)")
    print(f"   SDK floor:   {len(recorded['floor'].custom)} custom resources, no component"
          f" ({engine_resources(recorded['floor'])}); the same types, names, inputs, secrets, providers and"
          " dependencies")
    assert results.created is not None
    print(f"   every up left the same {len(results.created)} objects in the API server (kind, namespace, name)")
    print(f"   the machine was {bench.quiet:.0%} busy with the cluster alone; each program starts once it is"
          f" within {SETTLE_MARGIN:.0%} of that again")
    print("   phase                         wall s: ours  floor  ratio  with SDK import  program CPU s: ours  floor"
          "  ratio  engine CPU s: ours  floor")
    passed = True
    for phase, label in PHASES.items():
        a, b = results.of(ours, phase), results.of(floor, phase)
        wall, cpu = (median(a, "wall"), median(b, "wall")), (median(a, "program_cpu"), median(b, "program_cpu"))
        ratio = wall[0] / wall[1]
        passed &= ratio <= GOAL
        hosted = median(a, "wall_with_sdk_import") / median(b, "wall_with_sdk_import")
        print(f"   {label:<28} {wall[0]:>12.2f} {wall[1]:>6.2f} {ratio:>5.2f}x {hosted:>15.2f}x"
              f" {cpu[0]:>19.2f} {cpu[1]:>6.2f} {cpu[0] / cpu[1]:>5.2f}x"
              f" {median(a, 'engine_cpu'):>18.2f} {median(b, 'engine_cpu'):>6.2f}")
    print("   wall s of each run (ours / floor):")
    for phase, label in PHASES.items():
        pairs = zip(results.of(ours, phase), results.of(floor, phase))
        print(f"   {label:<30} " + "  ".join(f"{x.wall:.2f}/{y.wall:.2f}" for x, y in pairs))
    print(f"   goal: each phase's wall time at most {GOAL}x the floor's   {'PASS' if passed else 'FAIL'}")
    if len(bench.programs) > 2:
        print()
        print("   decomposition (median wall s / program CPU s / engine CPU s):")
        print("   phase                         " + "".join(f"{p.label:>26}" for p in bench.programs))
        for phase, label in PHASES.items():
            cells = [f"{median(results.of(p, phase), 'wall'):.2f} / {median(results.of(p, phase), 'program_cpu'):.2f}"
                     f" / {median(results.of(p, phase), 'engine_cpu'):.2f}" for p in bench.programs]
            print(f"   {label:<30}" + "".join(f"{cell:>26}" for cell in cells))
    return passed


@dataclass
class Args:
    runs: int
    stack: str
    decompose: bool
    profile: Optional[Path]


def parse(argv: Optional[list[str]] = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each program")
    parser.add_argument("--stack", default="prod", help="stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--decompose", action="store_true",
                        help="also time the floor with the package's component tree, and the program with the"
                             " package imported before the clock starts")
    parser.add_argument("--profile", type=Path,
                        help="then run each program once more with cProfile on its process; write the profiles here")
    args = parser.parse_args(argv)
    return Args(args.runs, args.stack, args.decompose, args.profile)


def main(argv: Optional[list[str]] = None) -> int:
    args = parse(argv)
    print(f"fluxcd-otel engine cost: Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-engine-cost-") as workdir, ExitStack() as running:
        cluster = running.enter_context(flux_cluster(Path(workdir) / "cluster"))
        charts = running.enter_context(ChartRepository(Path(workdir) / "charts"))
        bench = Bench(Path(workdir), cluster, charts, args.stack, args.decompose)
        print(f"   cluster up in {time.monotonic() - started:.0f} s; each floor checked against the program")
        sys.stdout.flush()
        for program in bench.programs:
            bench.warm_up(program)
        for program in alternating(bench.programs, args.runs):
            bench.one(program)
        passed = report(bench, args.runs)
        if args.profile:
            args.profile.mkdir(parents=True, exist_ok=True)
            for program in bench.programs:
                bench.one(program, profile=args.profile.resolve())
            print(f"   cProfile of each program's process per phase: {args.profile}/<program>-<phase>.prof")
    print(f"   ({time.monotonic() - started:.0f} s in all)")
    return 0 if passed else 1


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    # As in bench/run.py: the mocks' event loops make interpreter exit print ignored errors.
    os._exit(exit_code)
