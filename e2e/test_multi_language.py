"""The multi-language component package (`provider/`) from a YAML and a TypeScript program, run
by the real engine against the real API server and kube-controller-manager (e2e/harness/consumers.py says
how each program gets the package without `pulumi package add`).

Each program declares the dev stack's configuration through the component. It must preview and
create exactly the Kubernetes objects that the Python program renders for the dev stack, and
destroy them. A configuration mistake must reach the program as the one ConfigError message,
without the provider's Python stack trace.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from components import constants as c
from components.config import ConfigError, parse_stack_config
from e2e.harness.charts import chart_overrides
from e2e.harness.consumers import COMPONENT, COMPONENT_NAME, TypeScriptProgram, yaml_project
from e2e.harness.engine import (
    Engine,
    cli_with_language_hosts,
    component_plugin,
    differences_from_render,
    render_with_live_uids,
)
from e2e.harness.kube import ApiServer
from e2e.harness.render import run_stack

MISTAKE = "Flux_System"
PYTHON_TRACE_MARKS = ("Traceback", 'File "', "Unexpected <class")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    workdir = tmp_path_factory.mktemp("consumers-engine")
    return Engine(workdir, cli=cli_with_language_hosts(workdir / "cli"))


@pytest.fixture(scope="module")
def plugin(engine):
    return component_plugin(engine.workdir / "plugin")


@pytest.fixture(scope="module")
def overrides(charts) -> dict[str, Any]:
    return chart_overrides("dev", charts.url)


@pytest.fixture(scope="module")
def rendering(overrides):
    """The Python program's render of the dev stack with this tier's chart repository."""
    return run_stack("dev", overrides=overrides)


@pytest.fixture(scope="module")
def mistake_message() -> str:
    """The line the validation gives a misspelt Flux namespace, from the model itself."""
    with pytest.raises(ConfigError) as caught:
        parse_stack_config({"clusterName": "dev", "exporter": {"type": "debug"}, "flux": {"namespace": MISTAKE}})
    (line,) = [line.strip() for line in str(caught.value).splitlines() if "flux.namespace" in line]
    return line


@pytest.fixture(scope="module")
def expected(rendering) -> list[tuple[str, str]]:
    """(type, name) of each resource the program in another language must create: those of the
    Python program, under the package's own FluxObservability of the same name."""
    return sorted([(r.type, r.name) for r in rendering.resources] + [(COMPONENT, COMPONENT_NAME)])


def planned_count(expected: list[tuple[str, str]]) -> int:
    return len(expected) + 2  # and the stack and the program's Kubernetes provider


def created(deployment: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, name) of each resource in an exported state, the stack and providers left out."""
    return sorted((r["type"], r["urn"].rsplit("::", 1)[1]) for r in deployment.get("resources", [])
                  if not r["type"].startswith("pulumi:"))


def assert_one_clean_config_error(output: str, message: str) -> None:
    assert output.count(message) == 1, output
    assert "invalid stack configuration (1 problem):" in output, output
    assert not [mark for mark in PYTHON_TRACE_MARKS if mark in output], output


def assert_deployed_as_rendered(cluster: ApiServer, overrides: dict[str, Any]) -> None:
    """Every object holds what the Python program renders for the dev stack (with the Alert's live
    UID), chart values included."""
    assert not differences_from_render(cluster, render_with_live_uids(cluster, "dev", overrides, secrets={}))


def test_the_plugin_serves_the_package_schema_to_the_engine(engine, plugin):
    schema = json.loads(engine.run("package", "get-schema", str(plugin)).stdout)
    assert schema["name"] == c.PROJECT and list(schema["resources"]) == [COMPONENT]


def test_a_yaml_program_previews_creates_and_destroys_the_dev_stack_objects(engine, plugin, cluster, charts, expected,
                                                                           overrides):
    project = yaml_project(engine.workdir / "yaml", plugin.parent)
    engine.run("stack", "init", "dev", cwd=project)
    engine.run("config", "set", "kubeconfigPath", str(cluster.admin_kubeconfig), cwd=project)
    engine.run("config", "set", "chartRepository", charts.url, cwd=project)
    preview = json.loads(engine.run("preview", "--json", cwd=project).stdout)
    assert preview["changeSummary"] == {"create": planned_count(expected)}, preview["changeSummary"]
    engine.run("up", "--yes", "--skip-preview", cwd=project)
    state = json.loads(engine.run("stack", "export", cwd=project).stdout)
    assert created(state["deployment"]) == expected
    assert_deployed_as_rendered(cluster, overrides)
    again = json.loads(engine.run("preview", "--json", cwd=project).stdout)
    assert set(again["changeSummary"]) == {"same"}, again["changeSummary"]
    engine.run("destroy", "--yes", "--skip-preview", cwd=project)
    assert created(json.loads(engine.run("stack", "export", cwd=project).stdout)["deployment"]) == []


def test_a_yaml_program_gets_one_config_error_without_a_python_stack_trace(engine, plugin, cluster, charts,
                                                                          mistake_message):
    project = yaml_project(engine.workdir / "yaml", plugin.parent)
    engine.run("stack", "init", "mistake", cwd=project)
    for key, value in {"kubeconfigPath": str(cluster.admin_kubeconfig), "chartRepository": charts.url,
                       "fluxNamespace": MISTAKE}.items():
        engine.run("config", "set", key, value, "--stack", "mistake", cwd=project)
    result = engine.run("preview", "--stack", "mistake", cwd=project, check=False)
    assert result.returncode != 0
    assert_one_clean_config_error(result.stdout + result.stderr, mistake_message)


def test_a_yaml_program_s_plain_token_is_kept_secret_by_the_engine(engine, plugin, cluster, charts):
    """A plain token is treated as a secret, as a plain value given to any provider's secret input:
    neither the preview nor the state shows it (the engine keeps no inputs of a component a provider
    constructs), and it reaches the cluster only in the gateway's credentials Secret."""
    plain = "a-plain-token-in-a-yaml-program"
    project = yaml_project(engine.workdir / "yaml-token", plugin.parent, changed={
        "exporter": {"type": "otlp", "endpoint": "https://otlp.example.com:4317"}, "exportToken": plain})
    engine.run("stack", "init", "token", cwd=project)
    engine.run("config", "set", "kubeconfigPath", str(cluster.admin_kubeconfig), cwd=project)
    engine.run("config", "set", "chartRepository", charts.url, cwd=project)
    assert plain not in engine.run("preview", "--json", cwd=project).stdout
    engine.run("up", "--yes", "--skip-preview", cwd=project)
    try:
        state = engine.run("stack", "export", cwd=project).stdout
        assert plain not in state
        secret = cluster.kubectl("get", "secret", "-n", "flux-otel", "flux-otel-gateway-export-credentials",
                                 "-o", "jsonpath={.data.token}").stdout
        assert base64.b64decode(secret).decode() == plain
    finally:
        engine.run("destroy", "--yes", "--skip-preview", cwd=project)


@pytest.fixture(scope="module")
def typescript(engine, plugin) -> TypeScriptProgram:
    return TypeScriptProgram(engine.workdir / "typescript", engine, plugin)


def test_a_typescript_program_previews_creates_and_destroys_the_dev_stack_objects(typescript, engine, cluster, charts,
                                                                                 expected, rendering, overrides):
    config = {"kubeconfigPath": str(cluster.admin_kubeconfig), "chartRepository": charts.url}
    preview = typescript.run("preview", "dev", config)
    assert preview["ok"], preview
    assert preview["changeSummary"] == {"create": planned_count(expected)}, preview["changeSummary"]
    up = typescript.run("up", "dev", config)
    assert up["ok"], up
    assert up["outputs"]["traceServiceName"]["value"] == rendering.outputs["traceServiceName"]
    state = json.loads(engine.run("stack", "export", "--stack", "dev", cwd=typescript.directory / "project").stdout)
    assert created(state["deployment"]) == expected
    assert_deployed_as_rendered(cluster, overrides)
    destroyed = typescript.run("destroy", "dev", config)
    assert destroyed["ok"] and destroyed["changeSummary"]["delete"] == planned_count(expected), destroyed


def test_a_typescript_program_gets_one_config_error_without_a_python_stack_trace(typescript, cluster, charts,
                                                                                mistake_message):
    config = {"kubeconfigPath": str(cluster.admin_kubeconfig), "chartRepository": charts.url, "fluxNamespace": MISTAKE}
    result = typescript.run("preview", "mistake", config)
    assert not result["ok"]
    assert_one_clean_config_error(result["output"], mistake_message)
    assert not [mark for mark in PYTHON_TRACE_MARKS if mark in result["error"]], result["error"]
