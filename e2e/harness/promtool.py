"""promtool (Debian package `prometheus`) for the real tier: rule checks and rule unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

MISSING = (
    "promtool is not installed: install the Debian package `prometheus` "
    "(apt-get update && apt-get install -y prometheus), as .ci/run does"
)


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Runs promtool; a missing promtool fails the test rather than skipping it."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail(MISSING)
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def check_rules(groups: list[dict[str, Any]], directory: Path) -> None:
    path = directory / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    result = promtool("check", "rules", path.name, cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr


def run_rule_tests(groups: list[dict[str, Any]], tests: list[dict[str, Any]], directory: Path) -> None:
    """`promtool test rules` on these groups with these unit tests (1m evaluation interval)."""
    (directory / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    unit_tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (directory / "tests.yaml").write_text(yaml.safe_dump(unit_tests, sort_keys=False))
    result = promtool("test", "rules", "tests.yaml", cwd=directory)
    assert result.returncode == 0, result.stdout + result.stderr

