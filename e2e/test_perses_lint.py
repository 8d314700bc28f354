"""The rendered dashboards as Perses' own code reads them: `percli lint` of Perses v0.52.0, built here.

What the lint proves, and what it does not: it decodes each dashboard with Perses' own model and
validates it offline, so a layout that refers to a panel the dashboard lacks, or a variable of a
kind Perses does not know, is refused. Without
the plugins' schemas (`--plugin.path`) it does not check what a panel, query or variable plugin
holds, so a panel of a kind no plugin provides passes. The schemas of the plugins Perses v0.52.0
ships are in served Go modules (`github.com/perses/plugins/statchart` v0.9.0, `timeserieschart`
v0.10.1, `prometheus` v0.53.3; `table` v0.8.0 is refused), but each imports the CUE module
`github.com/perses/perses/cue`, which Perses fetches from the CUE registry (registry.cue.works),
out of reach here. Whether each query answers is judged by a real Prometheus in test_real_flux.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e.harness.programs import require
from e2e.harness.render import by_kind, run_stack

SECRETS = {"exportToken": "auth_e2e"}


@pytest.fixture(scope="module")
def dashboards() -> list[dict[str, Any]]:
    return by_kind(run_stack("prod", secrets=SECRETS).resources, "PersesDashboard")


def lint(dashboard: dict[str, Any], directory: Path) -> subprocess.CompletedProcess:
    """`percli lint` on the dashboard as a Perses resource (the PersesDashboard's `spec.config`)."""
    resource = {"kind": "Dashboard", "metadata": {"name": dashboard["metadata"]["name"], "project": "flux"},
                "spec": dashboard["spec"]["config"]}
    path = directory / f"{dashboard['metadata']['name']}.json"
    path.write_text(json.dumps(resource))
    return subprocess.run([str(require("percli")), "lint", "-f", str(path)], capture_output=True, text=True,
                          cwd=directory, timeout=60)


def test_percli_lint_accepts_every_rendered_dashboard(dashboards, tmp_path):
    assert dashboards
    for dashboard in dashboards:
        result = lint(dashboard, tmp_path)
        assert result.returncode == 0, f"{dashboard['metadata']['name']}: {result.stdout}{result.stderr}"


def test_percli_lint_refuses_a_broken_structure_and_passes_an_unknown_panel_kind(dashboards, tmp_path):
    """The edges of what the lint checks here, on a rendered dashboard."""
    dangling = copy.deepcopy(dashboards[0])
    panels = dangling["spec"]["config"]["panels"]
    panels.pop(next(iter(panels)))
    assert lint(dangling, tmp_path).returncode != 0
    unknown_variable = copy.deepcopy(dashboards[0])
    unknown_variable["spec"]["config"]["variables"][0]["kind"] = "NoSuchVariable"
    assert lint(unknown_variable, tmp_path).returncode != 0
    unknown = copy.deepcopy(dashboards[0])
    for panel in unknown["spec"]["config"]["panels"].values():
        panel["spec"]["plugin"]["kind"] = "NoSuchChart"
    assert lint(unknown, tmp_path).returncode == 0
