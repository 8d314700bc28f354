"""The developer commands as a user runs them, each a process of its own: `python -m components`
and `python -m fluxcd_otel` (the checkout's package and the installed library), the offline render
with its exit codes, messages and files, and the review command's render of every stack, each with
the project's own code. The fast suite calls the same commands as functions (tests/test_commands.py,
tests/tooling/test_render.py, tests/tooling/test_render_diff.py).

    .venv/bin/python -m pytest -q e2e/test_command_line.py
"""

import subprocess
import sys

import pytest
import yaml

from components import constants as c
from components.tooling.render import documents, read_stack_file
from components.tooling.render import main as render
from components.tooling.render_diff import ERROR_FILE, main, render_tree
from e2e.harness.render import ROOT, building_blocks_project, project_with_stack, run_stack

# The invalid-configuration corpus of the fast suite (tests/properties/test_invalid_configs.py).
CASES = yaml.safe_load((ROOT / "tests" / "properties" / "invalid_configs.yaml").read_text())["cases"]


# --- python -m components|fluxcd_otel -------------------------------------------------------------------
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


# --- render ------------------------------------------------------------------------------------------
# Each invocation as a user types it. What each says is the fast suite's to check
# (tests/tooling/test_render.py calls the same function); here the command, as a process, exits
# and prints exactly what its function returns and prints, and never a traceback.
def _dev_to_folder(tmp_path):
    return ["--stack", "dev", "--out", str(tmp_path / "rendered")]


def _broken_project(stack_text):
    return lambda tmp_path: ["--stack", "bad", "--project-dir", str(project_with_stack(tmp_path, stack_text))]


INVOCATIONS = {
    "prod-to-stdout": lambda tmp_path: ["--stack", "prod"],
    "dev-to-a-folder": _dev_to_folder,
    "missing-stack": lambda tmp_path: ["--stack", "nope"],
    "yaml-syntax-error": _broken_project("config:\n  fluxcd-otel:clusterName: dev\n   fluxcd-otel:mode: collector\n"),
    "misspelt-namespace": _broken_project(
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: debug}\n"
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcd-otel:gateway: {scrapeInterval: 30}\n"),
    "missing-secret": _broken_project(
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: dash0, region: eu-west-1}\n"),
}


@pytest.mark.parametrize("invocation", INVOCATIONS.values(), ids=INVOCATIONS.keys())
def test_the_render_command_says_what_its_function_says(invocation, tmp_path, capsys, monkeypatch):
    (tmp_path / "process").mkdir()
    (tmp_path / "function").mkdir()
    process = subprocess.run([sys.executable, "-m", "components", "render", *invocation(tmp_path / "process")],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    monkeypatch.chdir(ROOT)
    returncode = render(invocation(tmp_path / "function"))
    out, err = capsys.readouterr()
    assert "Traceback" not in process.stderr
    folders = (tmp_path / "process", tmp_path / "function")
    assert (process.returncode, process.stdout, process.stderr) == (returncode, *(
        text.replace(str(folders[1]), str(folders[0])) for text in (out, err)))
    written = [{path.relative_to(folder): path.read_text() for path in folder.rglob("*.yaml")} for folder in folders]
    assert written[0] == written[1]


def leaf_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in leaf_strings(item)]
    return [value] if isinstance(value, str) else []


def _stack_file_text(case) -> str:
    """The case as a stack file: the base stack's entries with the case's keys set in plain text."""
    stack = case.get("stack", "dev")
    base = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert read_stack_file(ROOT, stack).secret_keys == [], "pick a case whose stack has no secrets"
    for key, value in {**(case.get("set") or {}), **(case.get("plain") or {})}.items():
        full_key = f"{c.PROJECT}:{key}"
        base.pop(full_key, None)
        if value is not None:
            base[full_key] = value
    return yaml.safe_dump({"config": base}, sort_keys=True)


@pytest.mark.parametrize("case_id", ["several-sections-at-once", "several-plain-token-and-empty-controllers"])
def test_render_cli_exits_2_and_names_every_path(tmp_path, case_id):
    case, = [case for case in CASES if case["id"] == case_id]
    assert not case.get("secrets")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(_stack_file_text(case))
    result = subprocess.run(
        [sys.executable, "-m", "components", "render", "--stack", "bad", "--project-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for path in case["paths"]:
        assert f"{c.PROJECT}:{path}: " in result.stderr
    for value in leaf_strings(case.get("plain")):
        assert value not in result.stderr


def test_render_cli_reports_two_instances_on_one_cluster(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "stacks" / "Pulumi.two.yaml").write_text(
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: debug}\n"
    )
    (tmp_path / "__main__.py").write_text(
        "from components import FluxObservability, load_stack_config\n"
        "config = load_stack_config()\n"
        "FluxObservability('flux-blue', config)\n"
        "FluxObservability('flux-green', config)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "components", "render", "--stack", "two", "--project-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "error: FluxObservability instances flux-blue and flux-green would create the same Kubernetes objects"
    )


def test_a_program_of_building_blocks_alone_renders_as_the_installed_library(tmp_path):
    """The FluxTracing example rendered by `python -m fluxcd_otel` (tests/resources/test_tracing.py
    renders it in-process)."""
    project = building_blocks_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "fluxcd_otel", "render", "--stack", "s", "--project-dir", str(project)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "address: http://otel-collector.observability.svc:4318/v1/traces" in result.stdout
    assert "traceServiceName: flux-system/otel-alert" in result.stdout


# --- review render ------------------------------------------------------------------------------------
def test_render_tree_renders_each_stack_with_the_projects_own_code(tmp_path, capsys):
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    for name in ("Pulumi.yaml", "__main__.py", "stacks/Pulumi.dev.yaml"):
        (project / name).write_text((ROOT / name).read_text())
    (project / "components").symlink_to(ROOT / "components")
    (project / "stacks" / "Pulumi.broken.yaml").write_text("config:\n  fluxcd-otel:mode: collector\n")
    tree = tmp_path / "tree"
    assert main(["render", "--project-dir", str(project), "--out", str(tree), "--python", sys.executable]) == 1
    assert sorted(p.name for p in tree.iterdir()) == ["broken", "dev"]
    assert {p.name: p.read_text() for p in (tree / "dev").iterdir()} == dict(documents(run_stack("dev")))
    assert "fluxcd-otel:clusterName: required" in (tree / "broken" / ERROR_FILE).read_text()
    assert "stack broken did not render" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not empty"):
        render_tree(project, tree)
