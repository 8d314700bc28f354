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
from components.tooling.render_diff import ERROR_FILE, main, render_tree
from e2e.harness.render import ROOT, project_with_stack, run_stack

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
def _render_cli(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "components", "render", *args], cwd=cwd, capture_output=True, text=True
    )


def test_render_cli_writes_one_file_per_resource(tmp_path):
    result = _render_cli("--stack", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "flux-observability-tracing-provider.yaml" in files
    assert "flux-observability-logs-release.collector-config.yaml" in files
    assert "stack-outputs.yaml" in files


def test_render_cli_masks_secure_values():
    result = _render_cli("--stack", "prod")
    assert result.returncode == 0, result.stderr
    assert "placeholder" not in result.stdout and "stringData: '[secret]'" in result.stdout


def test_render_cli_reports_bad_config_in_one_message(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(
        "config:\n  fluxcd-otel:clusterName: x\n  fluxcd-otel:exporter:\n    type: otlp\n    endpoint: backend\n"
    )
    result = _render_cli("--stack", "bad", "--project-dir", str(tmp_path))
    assert result.returncode == 2
    assert "fluxcd-otel:exporter.endpoint:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_render_cli_names_the_stacks_when_one_is_missing():
    result = _render_cli("--stack", "nope")
    stack_files = sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    assert result.returncode == 2 and f"(stacks: {', '.join(stack_files)})" in result.stderr


def test_render_cli_reports_a_yaml_syntax_error_in_one_line(tmp_path):
    project = project_with_stack(tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n   fluxcd-otel:mode: collector\n")
    result = _render_cli("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: {project / 'stacks' / 'Pulumi.bad.yaml'}, line 3, column 20: "
        "not valid YAML: mapping values are not allowed here\n"
    )


def test_render_cli_refuses_a_misspelt_namespace_and_leaves_other_namespaces_alone(tmp_path):
    project = project_with_stack(
        tmp_path,
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: debug}\n"
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcdotel:alerts: {enabled: false}\n"
        "  kubernetes:context: kind-flux\n  pulumi:disable-default-providers: ['*']\n",
    )
    result = _render_cli("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        "error: invalid stack configuration (2 problems):\n"
        "  fluxcd-otle:dashboards: the namespace `fluxcd-otle:` is not `fluxcd-otel:`, so this key would be ignored;"
        " did you mean `fluxcd-otel:dashboards`?\n"
        "  fluxcdotel:alerts: the namespace `fluxcdotel:` is not `fluxcd-otel:`, so this key would be ignored;"
        " did you mean `fluxcd-otel:alerts`?\n"
    )
    (project / "stacks" / "Pulumi.bad.yaml").write_text(
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: debug}\n"
        "  kubernetes:context: kind-flux\n"
    )
    assert _render_cli("--stack", "bad", "--project-dir", str(project)).returncode == 0


def test_render_cli_says_how_to_set_a_missing_secret(tmp_path):
    project = project_with_stack(
        tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: dash0, region: eu-west-1}\n"
    )
    result = _render_cli("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2
    assert (
        "fluxcd-otel:exportToken: required with exporter type dash0: set it with "
        "`pulumi config set --secret exportToken <value> --stack bad`; for the offline render, put "
        "`fluxcd-otel:exportToken: {secure: <any text>}` in the stack file"
    ) in result.stderr
    # What the hint says works offline.
    with (project / "stacks" / "Pulumi.bad.yaml").open("a") as stack_file:
        stack_file.write("  fluxcd-otel:exportToken: {secure: any text}\n")
    assert _render_cli("--stack", "bad", "--project-dir", str(project)).returncode == 0


def test_render_cli_reports_a_misspelt_namespace_with_every_other_problem(tmp_path):
    """A near-miss namespace does not hide the stack's other mistakes: one run names them all."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks\n", ""))
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.typos.yaml").write_text(
        "config:\n  fluxcd-otel:clusterName: c\n  fluxcd-otel:exporter: {type: debug}\n"
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcd-otel:gateway: {scrapeInterval: 30}\n"
    )
    result = _render_cli("--stack", "typos", "--project-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert "(2 problems)" in result.stderr
    assert "fluxcd-otle:dashboards: the namespace `fluxcd-otle:` is not `fluxcd-otel:`" in result.stderr
    assert "fluxcd-otel:gateway.scrapeInterval: must be a duration" in result.stderr


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


def test_a_program_of_building_blocks_alone_renders_without_any_of_the_packages_keys(tmp_path):
    """docs/programs.md's FluxTracing example, in a project of its own whose stack sets only its
    own keys: nothing asks for a `fluxcd-otel:` key."""
    (tmp_path / "Pulumi.yaml").write_text("name: staging-obs\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text("config:\n  staging-obs:region: eu\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "from fluxcd_otel import FluxTracing, FluxTracingArgs\n"
        "from fluxcd_otel.config import TracingSettings\n"
        "tracing = FluxTracing('flux-tracing', FluxTracingArgs(\n"
        "    address='http://otel-collector.observability.svc:4318', cluster_name='staging-eu-1',\n"
        "    tracing=TracingSettings(alert_name='otel-alert', event_severity='error')))\n"
        "pulumi.export('traceServiceName', tracing.service_name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "fluxcd_otel", "render", "--stack", "s", "--project-dir", str(tmp_path)],
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
