"""One timed phase of bench/engine_cost.py, in a fresh process, as a `pulumi` command would start
the program in one:

    python -m bench.engine_cost_worker '{"program": "__main__.py", "phase": "up", ...}'

Imports nothing of the package or of pulumi_kubernetes before the clock starts (unless the spec
lists modules to `preimport`): the program imports them itself while the engine runs it, as under
a language host. Prints one JSON object: the phase's wall time, the CPU time of this process (the
program, served through the Automation API's inline runtime) and of the CLI with its plugins, the
engine's change summary, and how long `import pulumi` took, which a language host's Python process
pays before the program runs.
"""

from __future__ import annotations

import cProfile
import importlib
import json
import os
import resource
import runpy
import sys
import time
from typing import Any


def _timed_import(module: str) -> float:
    started = time.perf_counter()
    importlib.import_module(module)
    return time.perf_counter() - started


# Before anything else imports it: a language host's Python process imports the SDK too.
SDK_IMPORT = _timed_import("pulumi")

from pulumi import automation as auto  # noqa: E402


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run(spec: dict[str, Any]) -> dict[str, Any]:
    path = spec["program"]
    for module in spec.get("preimport", []):
        importlib.import_module(module)
    profiler = cProfile.Profile() if spec.get("profile") else None

    def program() -> None:
        if profiler is None:
            runpy.run_path(str(path), run_name="__main__")
        else:
            profiler.runcall(runpy.run_path, str(path), run_name="__main__")

    stack = auto.select_stack(
        stack_name=spec["stack"], project_name=spec["project"], program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=spec["work_dir"],
            pulumi_command=auto.PulumiCommand(root=spec["cli_root"], version=None, skip_version_check=True),
        ),
    )
    cpu_self, cpu_children, started = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    if spec["phase"] == "up":
        changes = dict(stack.up().summary.resource_changes or {})
    else:
        changes = dict(stack.preview().change_summary)
    wall = time.perf_counter() - started
    result = {
        "wall": wall,
        "sdk_import": SDK_IMPORT,
        "program_cpu": _cpu(resource.RUSAGE_SELF) - cpu_self,
        "engine_cpu": _cpu(resource.RUSAGE_CHILDREN) - cpu_children,
        "changes": {str(getattr(key, "value", key)): value for key, value in changes.items()},
    }
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
    return result


def main() -> None:
    print(json.dumps(run(json.loads(sys.argv[1]))))
    sys.stdout.flush()
    # The inline runtime's gRPC server and event loop make interpreter exit slow and noisy.
    os._exit(0)


if __name__ == "__main__":
    main()
