"""Reviewable previews: the same configuration renders the same bytes on any machine, at any time,
in any key order, and one changed option changes only what depends on it."""

import os
import shutil
import subprocess
import sys

import pytest

from components import constants as c
from components.tooling.render import documents, read_stack_file, run_program
from support import ROOT, STACKS, run_stack

FAKETIME = shutil.which("faketime")


def render_cli(stack, *, env=None, cwd=ROOT, clock=None):
    command = [sys.executable, "-m", "components", "render", "--stack", stack, "--project-dir", str(ROOT)]
    if clock is not None:
        assert FAKETIME, "faketime is missing: install the Debian package `faketime` (.ci/run does)"
        command = [FAKETIME, clock, *command]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@pytest.mark.parametrize("stack", STACKS)
def test_rendering_twice_gives_the_same_bytes_and_stable_names(stack):
    first, second = documents(run_stack(stack)), documents(run_stack(stack))
    assert first == second
    names = [name for name, _ in first]
    assert len(names) == len(set(names))


def test_render_does_not_depend_on_machine_clock_locale_or_hash_seed(tmp_path):
    reference = render_cli("prod")
    variations = [
        {"env": {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C"}},
        {"env": {"PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati", "LANG": "de_DE.UTF-8",
                 "HOME": str(tmp_path), "USER": "someone-else", "HOSTNAME": "another-machine"}, "cwd": tmp_path},
        {"clock": "2031-02-03 04:05:06", "env": {"PYTHONHASHSEED": "7"}},
    ]
    for variation in variations:
        assert render_cli("prod", **variation) == reference, variation


@pytest.mark.parametrize("stack", STACKS)
def test_key_order_of_the_stack_file_does_not_matter(stack):
    stack_file = read_stack_file(ROOT, stack)

    def render(config):
        return documents(run_program(ROOT / "__main__.py", project=c.PROJECT, stack=stack, config=config,
                                     secret_keys=stack_file.secret_keys))

    reordered = {key: reversed_keys(value) for key, value in reversed(list(stack_file.config.items()))}
    assert render(reordered) == render(dict(stack_file.config))


def changed_files(overrides):
    base = dict(documents(run_stack("dev")))
    changed = dict(documents(run_stack("dev", overrides=overrides)))
    return sorted(name for name in base.keys() | changed.keys() if base.get(name) != changed.get(name))


GATEWAY = ["flux-observability-gateway-release.collector-config.yaml", "flux-observability-gateway-release.yaml"]
LOGS = ["flux-observability-logs-release.collector-config.yaml", "flux-observability-logs-release.yaml"]
ALERT = ["flux-observability-tracing-alert.yaml"]
OUTPUTS = ["stack-outputs.yaml"]


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"tracing": {"eventSeverity": "error"}}, ALERT),
        # The log agents scrape their own metrics at the gateway's interval too.
        ({"collector": {"scrapeInterval": "1m"}}, sorted(GATEWAY + LOGS)),
        ({"logAgent": {"resources": {"cpuRequest": "50m", "cpuLimit": "1", "memoryRequest": "128Mi",
                                     "memoryLimit": "512Mi"}}}, LOGS),
        ({"exporter": {"type": "debug", "verbosity": "detailed"}}, GATEWAY),
        ({"flux": {"controllers": [*c.FLUX_DEFAULT_CONTROLLERS, "image-reflector-controller"]}},
         sorted(ALERT + GATEWAY + LOGS + OUTPUTS + ["flux-observability-health-release.yaml",
                                                    "flux-observability-metrics-image-reflector-controller.yaml"])),
    ],
    ids=["severity", "scrape-interval", "agent-resources", "verbosity", "one-more-controller"],
)
def test_one_option_changes_only_what_depends_on_it(overrides, expected):
    assert changed_files(overrides) == expected
