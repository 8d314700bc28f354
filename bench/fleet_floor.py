"""The fleet program against its SDK floor, per added cluster, under the renderer's mocks:

    .venv/bin/python -m bench.fleet_floor [--clusters 10 50] [--runs 3]

`bench/multi_cluster_program.py` composes FluxObservability for N clusters, each with its own
provider. Its SDK floor (bench/sdk_floor.py) declares the same custom resources with the same
inputs, providers and dependencies, flat; the floor with the component tree also keeps the
program's 8 ComponentResources per cluster (parents, registered outputs) without the package's
code. Each floor is generated from the program's own run at each N and checked against it.

Each program runs at each N in a fresh process (`python -m bench.multi_cluster`), `--runs` times,
alternating; the figure is the CPU time of the program run (imports excluded) added per cluster
between the two counts, and its ratio to the floor's in the same run (the median over the runs).
This process imports neither pulumi nor the package, and writes the floors in a child of its own:
a child's peak RSS starts at its parent's size when it was forked.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GOAL = 1.1
PROGRAMS = {"ours": "fluxcd-otel", "floor": "SDK floor", "floor-tree": "floor + components"}


def floor_path(directory: Path, key: str, clusters: int) -> Path:
    return directory / f"{key}-{clusters}.json"


def write_floors(clusters: int, directory: Path) -> None:
    """The floor's data files for `clusters` clusters (flat, and with the component tree), each
    with its secrets beside it, checked against the program."""
    from bench import multi_cluster
    from bench.sdk_floor import checked_floor, record
    from components import constants as c

    config, secret_keys = multi_cluster.program_config(clusters)
    ours = record(multi_cluster.PROGRAM, project=c.PROJECT, stack="bench", config=config, secret_keys=secret_keys)
    for key in ("floor", "floor-tree"):
        path = floor_path(directory, key, clusters)
        secrets, _ = checked_floor(ours, path, project=multi_cluster.FLOOR_PROJECT, stack="bench",
                                   tree=key == "floor-tree")
        path.with_suffix(".secrets.json").write_text(json.dumps(secrets))


def run_once(clusters: int, floor: Optional[Path]) -> dict[str, float]:
    command = [PYTHON, "-m", "bench.multi_cluster", "--clusters", str(clusters)]
    if floor is not None:
        command += ["--floor", str(floor)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, nargs=2, default=[10, 50], metavar=("LOW", "HIGH"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-floors", nargs=2, metavar=("CLUSTERS", "DIRECTORY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write_floors:
        write_floors(int(args.write_floors[0]), Path(args.write_floors[1]))
        return 0
    low, high = args.clusters
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-fleet-floor-") as workdir:
        for count in (low, high):
            subprocess.run([PYTHON, "-m", "bench.fleet_floor", "--write-floors", str(count), workdir], cwd=ROOT,
                           check=True)
        samples: dict[tuple[str, int], list[dict[str, float]]] = {}
        order = list(PROGRAMS)
        for run in range(args.runs):
            for key in order if run % 2 == 0 else order[::-1]:
                for count in (low, high):
                    floor = floor_path(Path(workdir), key, count) if key != "ours" else None
                    samples.setdefault((key, count), []).append(run_once(count, floor))

    def median(key: str, count: int, field: str) -> float:
        return statistics.median(sample[field] for sample in samples[(key, count)])

    def slopes(key: str) -> list[float]:
        """CPU s added per cluster in each run: the two counts of a run ran back to back."""
        return [(b["cpu_seconds"] - a["cpu_seconds"]) / (high - low)
                for a, b in zip(samples[(key, low)], samples[(key, high)])]

    print(f"The fleet program against its SDK floor ({args.runs} runs of each, alternating; median; program run,"
          " imports excluded)")
    print(f"   program              resources at {low:>3} / {high:<3}   CPU s at {low:>3} / {high:<3}"
          "   CPU per added cluster   memory per added cluster")
    for key, label in PROGRAMS.items():
        resources = [samples[(key, count)][0]["resources"] for count in (low, high)]
        cpu = [median(key, count, "cpu_seconds") for count in (low, high)]
        memory = [median(key, count, "peak_rss_kib") for count in (low, high)]
        print(f"   {label:<20} {resources[0]:>12} / {resources[1]:<8} {cpu[0]:>9.3f} / {cpu[1]:<7.3f}"
              f" {statistics.median(slopes(key)) * 1000:>18.1f} ms {(memory[1] - memory[0]) / (high - low):>21.0f} KiB")
    # Each run's programs ran one after the other: their ratio in the same run leaves out the machine's drift.
    ratios = {key: [mine / floor for mine, floor in zip(slopes(key), slopes("floor"))]
              for key in ("ours", "floor-tree")}
    for key in ratios:
        print(f"   {PROGRAMS[key]} per added cluster against the SDK floor, run by run:"
              f" {', '.join(f'{ratio:.2f}x' for ratio in ratios[key])}; median {statistics.median(ratios[key]):.2f}x")
    passed = statistics.median(ratios["ours"]) <= GOAL
    print(f"   goal: at most {GOAL}x the SDK floor per added cluster (median of the runs)"
          f"   {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    exit_code = main()
    sys.stdout.flush()
    # As in bench/run.py: the mocks' event loops make interpreter exit print ignored errors.
    os._exit(exit_code)
