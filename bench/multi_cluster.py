"""One measurement of the multi-cluster benchmark, meant to run in a fresh process:

    python -m bench.multi_cluster --clusters 50 [--floor DATA]

Runs `multi_cluster_program.py` under the renderer's recording mocks and prints one JSON object:
the wall and CPU time of the program run (imports excluded), the process's peak RSS, and how many
resources were registered. Each cluster's objects must be registered through that cluster's own provider.
With `--floor`, runs instead the SDK floor (bench/sdk_floor.py) whose data bench/fleet_floor.py
wrote for that many clusters.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any, Optional

from bench.sdk_floor import FLOOR_PROGRAM, floor_config
from components import constants as c
from components.tooling.render import RegisteredResource, read_stack_file, run_program

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = Path(__file__).with_name("multi_cluster_program.py")
BASE_STACK = "prod"
PROVIDER_TYPE = "pulumi:providers:kubernetes"
TOKEN_PLACEHOLDER = "auth_BENCHMARK_PLACEHOLDER"
CLUSTER_IN_NAME = re.compile(r"cluster-\d{3}")
FLOOR_PROJECT = "sdk-floor"


def _decoded(text: str) -> Any:
    # The renderer hands structured stack values over as JSON text and plain strings as they are.
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def cluster_keys(stack: str = BASE_STACK) -> dict[str, Any]:
    """The stack file's plain `fluxcd-otel:` keys; secrets come from the program as Outputs."""
    stack_file = read_stack_file(ROOT, stack)
    prefix = f"{c.PROJECT}:"
    return {
        key[len(prefix):]: _decoded(text)
        for key, text in stack_file.config.items()
        if key.startswith(prefix) and key not in stack_file.secret_keys
    }


def check_one_provider_per_cluster(resources: list[RegisteredResource], clusters: int) -> None:
    """Each cluster has its provider, and every object of a cluster goes through that provider."""
    providers = sorted(r.name for r in resources if r.type == PROVIDER_TYPE)
    expected = [f"k8s-cluster-{index:03d}" for index in range(1, clusters + 1)]
    if providers != expected:
        raise AssertionError(f"providers {providers} are not one per cluster")
    for registered in resources:
        if not registered.custom or registered.type == PROVIDER_TYPE:
            continue
        cluster = CLUSTER_IN_NAME.search(registered.name)
        # A provider reference is "<provider URN>::<provider ID>"; the URN ends with the name.
        provider = (registered.provider or "").split("::")[-2:-1]
        if cluster is None or provider != [f"k8s-{cluster.group()}"]:
            raise AssertionError(f"{registered.type} {registered.name} is registered through {registered.provider!r}")


def program_config(clusters: int) -> tuple[dict[str, str], list[str]]:
    """The benchmark program's config for `clusters` clusters, and which keys are secret."""
    config = {
        "bench:clusters": str(clusters),
        "bench:clusterConfig": json.dumps(cluster_keys()),
        "bench:exportToken": TOKEN_PLACEHOLDER,
    }
    return config, ["bench:exportToken"]


def measure(clusters: int, floor: Optional[Path] = None) -> dict[str, Any]:
    program, project = PROGRAM, c.PROJECT
    config, secret_keys = program_config(clusters)
    if floor is not None:
        program, project = FLOOR_PROGRAM, FLOOR_PROJECT
        config, secret_keys = floor_config(floor, json.loads(floor.with_suffix(".secrets.json").read_text()))
    started, started_cpu = time.perf_counter(), time.process_time()
    rendering = run_program(program, project=project, stack="bench", config=config, secret_keys=secret_keys)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    check_one_provider_per_cluster(rendering.resources, clusters)
    return {
        "clusters": clusters,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "resources": len(rendering.resources),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, required=True)
    parser.add_argument("--floor", type=Path, help="run the SDK floor with this data file instead")
    args = parser.parse_args()
    print(json.dumps(measure(args.clusters, args.floor)))
    sys.stdout.flush()
    # As in components.tooling.render: skip the interpreter-exit noise of the mocks' event loops.
    os._exit(0)


if __name__ == "__main__":
    main()
