"""The offline render, called as the function `python -m components render` runs: its exit codes,
its one-line messages and the files it writes. e2e/test_command_line.py runs the same as a command.
"""

from typing import NamedTuple

import pytest

from components.tooling.render import main
from e2e.harness.render import ROOT, project_with_stack


class Run(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def render(capsys, monkeypatch):
    """The render's main() as `python -m components render` calls it, in the project folder."""
    monkeypatch.chdir(ROOT)

    def run(*args) -> Run:
        returncode = main(list(args))
        out, err = capsys.readouterr()
        return Run(returncode, out, err)

    return run


def test_render_writes_one_file_per_resource(render, tmp_path):
    result = render("--stack", "dev", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in tmp_path.iterdir())
    assert "flux-observability-tracing-provider.yaml" in files
    assert "flux-observability-logs-release.collector-config.yaml" in files
    assert "stack-outputs.yaml" in files


def test_render_masks_secure_values(render):
    result = render("--stack", "prod")
    assert result.returncode == 0, result.stderr
    assert "placeholder" not in result.stdout and "stringData: '[secret]'" in result.stdout


def test_render_reports_bad_config_in_one_message(render, tmp_path):
    project = project_with_stack(
        tmp_path,
        "config:\n  fluxcd-otel:clusterName: x\n  fluxcd-otel:exporter:\n    type: otlp\n    endpoint: backend\n",
    )
    result = render("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2
    assert "fluxcd-otel:exporter.endpoint:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_render_names_the_stacks_when_one_is_missing(render):
    result = render("--stack", "nope")
    stack_files = sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in (ROOT / "stacks").glob("Pulumi.*.yaml")
    )
    assert result.returncode == 2 and f"(stacks: {', '.join(stack_files)})" in result.stderr


def test_render_reports_a_yaml_syntax_error_in_one_line(render, tmp_path):
    project = project_with_stack(tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n   fluxcd-otel:mode: collector\n")
    result = render("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (
        f"error: {project / 'stacks' / 'Pulumi.bad.yaml'}, line 3, column 20: "
        "not valid YAML: mapping values are not allowed here\n"
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ('config:\n  fluxcd-otel:clusterName: "dev\n  fluxcd-otel:mode: collector\n',
         "Pulumi.bad.yaml, line 4, column 1: not valid YAML: found unexpected end of stream"
         " (while scanning a quoted scalar at line 2, column 28)"),
        ("config:\n\tfluxcd-otel:clusterName: dev\n",
         "Pulumi.bad.yaml, line 2, column 1: not valid YAML: found character '\\t' that cannot start any token"),
        ("config:\n  fluxcd-otel:tracing:\n    eventSources:\n    - kind: Kustomization\n     name: apps\n",
         "Pulumi.bad.yaml, line 5, column 6: not valid YAML: expected <block end>, but found '<block mapping start>'"),
        ("config:\n",
         "Pulumi.bad.yaml: `config:` is empty; it must hold the stack's keys, at least `fluxcd-otel:clusterName: dev`"),
        ("config: {}\n", "Pulumi.bad.yaml: `config:` is empty"),
        ("", "Pulumi.bad.yaml: `config:` is missing"),
        ("encryptionsalt: abc\n", "Pulumi.bad.yaml: `config:` is missing"),
        ("config:\n  - fluxcd-otel:clusterName: dev\n",
         "Pulumi.bad.yaml: `config:` must be a map of `namespace:key: value` entries"
         " (such as `fluxcd-otel:clusterName: dev`), got a list"),
        ("config: fluxcd-otel:clusterName=dev\n", "`config:` must be a map of `namespace:key: value` entries"),
        ("- config\n", "Pulumi.bad.yaml: must be a map with a `config:` key, got a list"),
        ("environment: flux/prod\nconfig:\n  fluxcd-otel:clusterName: dev\n",
         "`environment:` must be a list of Pulumi ESC environment names"),
    ],
    ids=["unclosed-quote", "tab", "bad-indent-in-list", "empty-config", "empty-map", "empty-file", "no-config",
         "config-list", "config-string", "document-list", "environment-string"],
)
def test_render_reports_a_broken_stack_file_in_one_line(tmp_path, capsys, text, expected):
    project = project_with_stack(tmp_path, text)
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert expected in err


def test_render_reports_a_broken_project_file(tmp_path, capsys):
    project = project_with_stack(tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n")
    (project / "Pulumi.yaml").write_text("name: fluxcd-otel\nruntime: {name: python\n")
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    assert "Pulumi.yaml, line 3, column 1: not valid YAML" in capsys.readouterr().err
    (project / "Pulumi.yaml").unlink()
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    assert f"no Pulumi.yaml in {project}" in capsys.readouterr().err


def test_render_refuses_a_misspelt_namespace_and_leaves_other_namespaces_alone(render, tmp_path):
    project = project_with_stack(
        tmp_path,
        "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: debug}\n"
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcdotel:alerts: {enabled: false}\n"
        "  kubernetes:context: kind-flux\n  pulumi:disable-default-providers: ['*']\n",
    )
    result = render("--stack", "bad", "--project-dir", str(project))
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
    assert render("--stack", "bad", "--project-dir", str(project)).returncode == 0


def test_render_says_how_to_set_a_missing_secret(render, tmp_path):
    project = project_with_stack(
        tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n  fluxcd-otel:exporter: {type: dash0, region: eu-west-1}\n"
    )
    result = render("--stack", "bad", "--project-dir", str(project))
    assert result.returncode == 2
    assert (
        "fluxcd-otel:exportToken: required with exporter type dash0: set it with "
        "`pulumi config set --secret exportToken <value> --stack bad`; for the offline render, put "
        "`fluxcd-otel:exportToken: {secure: <any text>}` in the stack file"
    ) in result.stderr
    # What the hint says works offline.
    with (project / "stacks" / "Pulumi.bad.yaml").open("a") as stack_file:
        stack_file.write("  fluxcd-otel:exportToken: {secure: any text}\n")
    assert render("--stack", "bad", "--project-dir", str(project)).returncode == 0


def test_render_reports_a_misspelt_namespace_with_every_other_problem(render, tmp_path):
    """A near-miss namespace does not hide the stack's other mistakes: one run names them all."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text().replace("stackConfigDir: stacks\n", ""))
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (tmp_path / "Pulumi.typos.yaml").write_text(
        "config:\n  fluxcd-otel:clusterName: c\n  fluxcd-otel:exporter: {type: debug}\n"
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcd-otel:gateway: {scrapeInterval: 30}\n"
    )
    result = render("--stack", "typos", "--project-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert "(2 problems)" in result.stderr
    assert "fluxcd-otle:dashboards: the namespace `fluxcd-otle:` is not `fluxcd-otel:`" in result.stderr
    assert "fluxcd-otel:gateway.scrapeInterval: must be a duration" in result.stderr
