"""`python -m <package>`: the developer commands' entry point, run as the installed library and as
the checkout's package."""

import subprocess
import sys

import pytest

from support import ROOT


@pytest.mark.parametrize("package", ["fluxcd_otel", "components"])
def test_help_exits_zero_and_names_the_command_that_was_run(package):
    result = subprocess.run([sys.executable, "-m", package, "--help"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {package} {{render,review,regenerate}}")
    other = "components" if package == "fluxcd_otel" else "fluxcd_otel"
    assert f"python -m {package} render --stack dev" in result.stdout
    assert f"python -m {other} render" not in result.stdout


def test_an_unknown_command_prints_the_usage_and_exits_two():
    result = subprocess.run([sys.executable, "-m", "fluxcd_otel", "deploy"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert result.returncode == 2 and result.stderr.startswith("usage: python -m fluxcd_otel")
