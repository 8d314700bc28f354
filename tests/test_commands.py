"""`python -m <package>`: the developer commands' entry point, as the installed library and as the
checkout's package, called as the function the command runs. e2e/test_command_line.py runs them
as commands."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["fluxcd_otel", "components"])
def test_help_exits_zero_and_names_the_command_that_was_run(package, capsys):
    entry_point = importlib.import_module(f"{package}.__main__")
    assert entry_point.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m {package} {{render,review,regenerate}}")
    other = "components" if package == "fluxcd_otel" else "fluxcd_otel"
    assert f"python -m {package} render --stack dev" in out
    assert f"python -m {other} render" not in out


def test_an_unknown_command_prints_the_usage_and_exits_two(capsys):
    entry_point = importlib.import_module("fluxcd_otel.__main__")
    assert entry_point.main(["deploy"]) == 2
    assert capsys.readouterr().err.startswith("usage: python -m fluxcd_otel")
