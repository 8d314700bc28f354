"""The package's dependency ranges (pyproject.toml), at both ends: the package installs with the
lowest and with the highest versions they allow and then renders exactly what the program renders
with its own pins (requirements.txt, the virtualenv running this test).

For each end, a fresh virtualenv gets the package built from this checkout (a wheel, not an
editable install), with pulumi, pulumi-kubernetes, pydantic and PyYAML forced to that end's
versions by a constraints file. In it, every module of `fluxcd_otel` must import, and from a copy
of the program (Pulumi.yaml, __main__.py importing `fluxcd_otel`, stacks/) the offline render of
each example stack must print the same bytes as the pinned render. A probe run in both
interpreters compares what a plain render does not reach: a preview under mocks after an update in
the same process, the multi-language package's schema, and the configuration reference built from
the model's docstrings.

Lowest: the `>=` bound of each range. Highest: the newest versions within the ranges that PyPI
offers when the test runs, as pip resolves them. This test therefore needs PyPI, and its highest
end depends on PyPI's state: a new release inside a range is tested (and may fail) the first time
the suite runs after it appears. pip's cache makes repeated runs fast.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from e2e.harness.render import ROOT, STACKS

PIP_TIMEOUT = 600

# Run in the pinned interpreter and in each test virtualenv, from the program's copy (argv[1]).
PROBE = r"""
import importlib, json, pkgutil, sys
from pathlib import Path

import fluxcd_otel
from fluxcd_otel.tooling import config_reference, render
from fluxcd_otel.resources.multi_language import HOSTED_COMPONENTS, PACKAGE_NAME
from pulumi.provider.experimental.component import ComponentProvider

project = Path(sys.argv[1])
modules = sorted(m.name for m in pkgutil.walk_packages(fluxcd_otel.__path__, "fluxcd_otel."))
for name in modules:
    importlib.import_module(name)
render.render_stack(project, "prod")
preview = render.render_stack(project, "prod", preview=True)
schema = json.loads(ComponentProvider(list(HOSTED_COMPONENTS), PACKAGE_NAME).schema)
json.dump({
    "modules of fluxcd_otel": "\n".join(modules),
    "preview of prod after an update in the same process": "---\n".join(text for _, text in render.documents(preview)),
    "multi-language schema": json.dumps(schema, indent=1, sort_keys=True),
    "configuration reference": config_reference.reference(),
}, sys.stdout)
"""


def ranges() -> dict[str, Requirement]:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {canonicalize_name(req.name): req for req in map(Requirement, dependencies)}


def pins() -> dict[str, str]:
    """The program's exact pins (requirements.txt)."""
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in lines)}


def lowest() -> dict[str, str]:
    """The `>=` bound of each range."""
    versions = {}
    for name, req in ranges().items():
        bounds = [spec.version for spec in req.specifier if spec.operator == ">="]
        assert len(bounds) == 1, f"{req}: the range needs one lower bound (>=)"
        versions[name] = bounds[0]
    return versions


def run(*args: object, cwd: Path | None = None, timeout: float = PIP_TIMEOUT) -> str:
    # The pip cache is left on: the versions of each end download once.
    env = {key: value for key, value in os.environ.items() if key != "PIP_NO_CACHE_DIR"}
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def pip(python: Path, *args: object) -> str:
    return run(python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args)


def installed(python: Path, names: list[str]) -> dict[str, str]:
    script = (
        "import json, sys; from importlib.metadata import version; "
        "print(json.dumps({n: version(n) for n in sys.argv[1:]}))"
    )
    return json.loads(run(python, "-c", script, *names))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The package built from a copy of this checkout, so no build/ or stale file lands in it."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    pip(Path(sys.executable), "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist", source)
    (built,) = (work / "dist").glob("fluxcd_otel-*.whl")
    return built


@pytest.fixture(scope="module")
def program(tmp_path_factory) -> Path:
    """The program without components/: Pulumi.yaml, stacks/ and __main__.py importing the package."""
    copy = tmp_path_factory.mktemp("program")
    shutil.copy(ROOT / "Pulumi.yaml", copy)
    shutil.copytree(ROOT / "stacks", copy / "stacks")
    main = (ROOT / "__main__.py").read_text()
    rewritten = re.sub(r"^(from|import) components\b", r"\1 fluxcd_otel", main, flags=re.MULTILINE)
    assert "components" not in rewritten, "__main__.py imports components in a way this test does not rewrite"
    (copy / "__main__.py").write_text(rewritten)
    return copy


def assert_same(got: str, want: str, what: str) -> None:
    """A short unified diff instead of pytest's rendering of two large values."""
    if got != want:
        diff = difflib.unified_diff(want.splitlines(), got.splitlines(), "pinned", "installed", lineterm="")
        pytest.fail(f"{what}:\n" + "\n".join(list(diff)[:80]), pytrace=False)


def probe(python: Path, program: Path) -> dict[str, str]:
    return json.loads(run(python, "-c", PROBE, program, cwd=program))


@pytest.fixture(scope="module")
def pinned(program) -> dict:
    """What the program renders with its pins: the renders and the probe in this interpreter."""
    assert installed(Path(sys.executable), list(pins())) == pins(), (
        "run this test in the virtualenv of requirements-dev.txt"
    )
    renders = {stack: run(sys.executable, "-m", "components", "render", "--stack", stack, cwd=ROOT) for stack in STACKS}
    return {"renders": renders, "probe": probe(Path(sys.executable), program)}


def test_the_program_pins_lie_inside_the_package_ranges():
    assert set(pins()) == set(ranges())
    for name, req in ranges().items():
        assert req.specifier.contains(pins()[name]), f"requirements.txt pins {name}=={pins()[name]} outside {req}"


@pytest.mark.parametrize("end", ["lowest", "highest"])
def test_the_package_renders_the_same_at_each_end_of_its_ranges(end, wheel, program, pinned, tmp_path):
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    if end == "lowest":
        versions = lowest()
    else:
        # What pip installs today from the ranges alone: the newest versions PyPI offers within them.
        report = tmp_path / "resolved.json"
        pip(python, "install", "--quiet", "--dry-run", "--ignore-installed", "--report", report, wheel)
        resolved: dict[str, str] = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
                                    for item in json.loads(report.read_text())["install"]}
        versions = {name: resolved[name] for name in ranges()}
    for name, req in ranges().items():
        assert req.specifier.contains(versions[name]), f"{name}=={versions[name]} is outside {req}"
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("".join(f"{name}=={version}\n" for name, version in versions.items()))

    pip(python, "install", "--quiet", "--constraint", constraints, wheel)

    assert installed(python, list(versions)) == versions
    location = run(python, "-c", "import fluxcd_otel; print(fluxcd_otel.__file__)", cwd=program).strip()
    assert Path(location).is_relative_to(env), f"fluxcd_otel imported from {location}, not from the installed package"
    for stack in STACKS:
        rendered = run(python, "-m", "fluxcd_otel", "render", "--stack", stack, cwd=program)
        assert_same(rendered, pinned["renders"][stack], f"render of {stack} with {versions}")
    probed = probe(python, program)
    for key, want in pinned["probe"].items():
        assert_same(probed[key], want, f"{key} with {versions}")
