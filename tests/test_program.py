"""The real program (__main__.py) with each example stack, in update and preview mode."""

import copy
import subprocess
import sys

import pytest
from pulumi.runtime import rpc

from components import constants as c
from components.builders import flux_events
from components.builders.collector_configs import TRACE_CORRELATION
from components.config import ConfigError
from components.tooling.render import UNKNOWN, RecordingMocks, Rendering, documents, masked, mock_uid
from support import (
    ROOT,
    STACKS,
    TOKEN,
    assert_valid_collector_config,
    by_kind,
    releases,
    run_stack,
    validate_chart_values,
    validate_custom_resource,
)

CUSTOM_KINDS = {"Provider", "Alert", "Dash0Monitoring"}


def test_example_stacks_are_the_three_the_readme_names():
    assert set(STACKS) >= {"dev", "prod", "dash0-operator"}


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_renders_valid_objects(stack, preview):
    rendering = run_stack(stack, preview=preview)
    resources = rendering.resources
    assert resources, "the program registered nothing"
    for kind in CUSTOM_KINDS:
        for obj in by_kind(resources, kind):
            validate_custom_resource(obj)
    for release in releases(resources).values():
        if release["chart"] != c.COLLECTOR_CHART:
            continue  # kube-state-metrics: tests/test_flux_health.py
        validate_chart_values(release["values"])
        assert_valid_collector_config(release["values"]["alternateConfig"])
    alerts = by_kind(resources, "Alert")
    if alerts:
        alert = alerts[0]["metadata"]
        assert rendering.outputs["traceServiceName"] == f"{alert['namespace']}/{alert['name']}"


def test_dev_stack_is_collector_mode_with_debug_and_no_secret():
    rendering = run_stack("dev")
    resources = rendering.resources
    assert set(releases(resources)) == {"flux-otel-gateway", "flux-otel-logs", "flux-object-health"}
    assert not [r for r in resources if r.type == "kubernetes:core/v1:Secret"]
    gateway = releases(resources)["flux-otel-gateway"]["values"]["alternateConfig"]
    assert list(gateway["exporters"]) == ["debug"]
    assert len(by_kind(resources, "Service")) == 4
    provider, = by_kind(resources, "Provider")
    assert provider["spec"]["address"] == rendering.outputs["providerAddress"] == "http://flux-otel-gateway.flux-otel.svc:4318/v1/traces"
    assert rendering.outputs["scrapeTargets"][0] == "source-controller-metrics.flux-system.svc:8080"
    assert rendering.outputs["gatewayOtlpGrpcEndpoint"] == "flux-otel-gateway.flux-otel.svc:4317"


def test_prod_stack_exports_to_dash0_with_the_token_from_its_secret():
    rendering = run_stack("prod", secrets={"exportToken": TOKEN})
    (secret,) = [r for r in rendering.resources if r.type == "kubernetes:core/v1:Secret"]
    assert rpc.unwrap_rpc_secret(secret.inputs["stringData"]) == {"token": TOKEN}
    gateway = releases(rendering.resources)["flux-otel-gateway"]["values"]
    assert gateway["extraEnvs"][0]["valueFrom"]["secretKeyRef"]["name"] == secret.inputs["metadata"]["name"]
    exporter = gateway["alternateConfig"]["exporters"]["otlp_grpc/dash0"]
    assert exporter["endpoint"] == "ingress.eu-west-1.aws.dash0.com:4317"
    assert exporter["headers"] == {"Authorization": "Bearer ${env:FLUXCD_OTEL_EXPORT_TOKEN}", "Dash0-Dataset": "flux"}


def test_dash0_operator_stack_deploys_no_collector():
    rendering = run_stack("dash0-operator")
    resources = rendering.resources
    # Only kube-state-metrics for Flux object health, in a namespace of its own.
    assert [release["chart"] for release in releases(resources).values()] == [c.KSM_CHART]
    assert by_kind(resources, "Service") == []
    assert [ns["metadata"]["name"] for ns in by_kind(resources, "Namespace")] == ["flux-otel-health"]
    monitoring, = [m for m in by_kind(resources, "Dash0Monitoring") if m["metadata"]["namespace"] == "flux-system"]
    assert monitoring["spec"]["instrumentWorkloads"] == {"mode": "none"}
    provider, = by_kind(resources, "Provider")
    assert provider["spec"]["address"] == (
        "http://dash0-operator-opentelemetry-collector-service.dash0-system.svc.cluster.local:4318/v1/traces"
    )
    assert len([r for r in resources if r.type == "kubernetes:apps/v1:DeploymentPatch"]) == 4


@pytest.mark.parametrize("signal", ["metrics", "traces", "logs"])
def test_each_signal_can_be_switched_off(signal):
    rendering = run_stack("dev", overrides={"signals": {signal: False}})
    resources = rendering.resources
    kinds = {r.inputs.get("kind") for r in resources if r.custom}
    names = set(releases(resources))
    gateway_pipelines = releases(resources)["flux-otel-gateway"]["values"]["alternateConfig"]["service"]["pipelines"]
    assert signal not in gateway_pipelines
    if signal == "metrics":
        assert "Service" not in kinds and "scrapeTargets" not in rendering.outputs
    if signal == "traces":
        assert not kinds & {"Provider", "Alert"} and "traceServiceName" not in rendering.outputs
    if signal == "logs":
        assert names == {"flux-otel-gateway", "flux-object-health"}


def test_bad_configuration_registers_nothing():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError) as caught:
        run_stack("dev", overrides={"exporter": {"type": "dash0", "regoin": "eu-west-1"}}, mocks=mocks)
    assert "fluxcd-otel:exporter.regoin: unknown key" in str(caught.value)
    assert mocks.resources == []


def test_missing_token_registers_nothing():
    mocks = RecordingMocks()
    with pytest.raises(ConfigError, match="fluxcd-otel:exportToken: required with exporter type dash0"):
        run_stack("dev", overrides={"exporter": {"type": "dash0", "region": "eu-west-1"}}, mocks=mocks)
    assert mocks.resources == []


def with_alert_uid_unknown(update):
    """An update's rendering as a first preview shows it: the values derived from the Alert's UID,
    which the API server assigns only when it creates the Alert, are unknown, and nothing else."""
    resources = copy.deepcopy(update.resources)
    for resource in resources:
        processors = ((resource.inputs.get("values") or {}).get("alternateConfig") or {}).get("processors", {})
        if TRACE_CORRELATION in processors:
            processors[TRACE_CORRELATION]["log_statements"][0]["statements"] = UNKNOWN
        if flux_events.TRANSFORM in processors and resource.inputs["name"] == "flux-otel-gateway":
            processors[flux_events.TRANSFORM]["log_statements"] = UNKNOWN
    preview = Rendering(resources=resources, outputs=update.outputs)
    for alert in (r for r in update.resources if r.custom and r.inputs.get("kind") == "Alert"):
        assert mock_uid(alert.type, alert.name, alert.inputs["metadata"]) not in str(documents(preview))
    return preview


@pytest.mark.parametrize("stack", STACKS)
def test_preview_shows_the_same_objects_while_computed_values_are_unknown(stack):
    assert documents(run_stack(stack, preview=True)) == documents(with_alert_uid_unknown(run_stack(stack)))


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


def _project_with_stack(tmp_path, stack_text, program=None):
    """A temporary copy of the project whose stack `bad` has the given stack file text."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text(program or (ROOT / "__main__.py").read_text())
    (tmp_path / "stacks" / "Pulumi.bad.yaml").write_text(stack_text)
    return tmp_path


def test_render_cli_reports_a_yaml_syntax_error_in_one_line(tmp_path):
    project = _project_with_stack(tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n   fluxcd-otel:mode: collector\n")
    result = _render_cli("--stack", "bad", "--project-dir", str(project))
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
    from components.tooling.render import main

    project = _project_with_stack(tmp_path, text)
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert expected in err


def test_render_reports_a_broken_project_file(tmp_path, capsys):
    from components.tooling.render import main

    project = _project_with_stack(tmp_path, "config:\n  fluxcd-otel:clusterName: dev\n")
    (project / "Pulumi.yaml").write_text("name: fluxcd-otel\nruntime: {name: python\n")
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    assert "Pulumi.yaml, line 3, column 1: not valid YAML" in capsys.readouterr().err
    (project / "Pulumi.yaml").unlink()
    assert main(["--stack", "bad", "--project-dir", str(project)]) == 2
    assert f"no Pulumi.yaml in {project}" in capsys.readouterr().err


def test_render_cli_refuses_a_misspelt_namespace_and_leaves_other_namespaces_alone(tmp_path):
    project = _project_with_stack(
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
    project = _project_with_stack(
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
        "  fluxcd-otle:dashboards: {enabled: false}\n  fluxcd-otel:collector: {scrapeInterval: 30}\n"
    )
    result = _render_cli("--stack", "typos", "--project-dir", str(tmp_path))
    assert result.returncode == 2 and result.stdout == ""
    assert "(2 problems)" in result.stderr
    assert "fluxcd-otle:dashboards: the namespace `fluxcd-otle:` is not `fluxcd-otel:`" in result.stderr
    assert "fluxcd-otel:collector.scrapeInterval: must be a duration" in result.stderr


def test_every_chart_comes_from_the_configured_repository():
    """A mirror for clusters that cannot reach the public chart repositories."""
    def charts(rendering):
        return sorted((r.inputs["name"], r.inputs["chart"], masked(r.inputs)["repositoryOpts"]["repo"])
                      for r in rendering.resources if r.type == "kubernetes:helm.sh/v3:Release")

    mirrored = run_stack("prod", overrides={"collector": {"chartRepository": "https://charts.example.com/otel"},
                                            "objectHealth": {"chartRepository": "http://mirror.internal:8080/ksm"}})
    assert charts(mirrored) == [
        ("flux-object-health", c.KSM_CHART, "http://mirror.internal:8080/ksm"),
        ("flux-otel-gateway", c.COLLECTOR_CHART, "https://charts.example.com/otel"),
        ("flux-otel-logs", c.COLLECTOR_CHART, "https://charts.example.com/otel"),
    ]
    assert {repo for *_, repo in charts(run_stack("prod"))} == {c.COLLECTOR_CHART_REPO, c.KSM_CHART_REPO}


@pytest.mark.parametrize("stack", ["prod", "dash0-operator"])
def test_every_release_hands_empty_lists_to_the_chart_as_empty_lists(stack):
    """Without allowNullValues the provider drops an empty list from the values it hands Helm
    (not null: the key is gone), so Helm fills in the chart's default: kube-state-metrics'
    `collectors: []` would become the chart's 28 built-in collectors, with `--resources` and
    ClusterRole rules for all of them (components/resources/helm_release.py says how; the engine
    tier showed the list lost, docs/real-tier.md)."""
    releases = [r for r in run_stack(stack).resources if r.type == "kubernetes:helm.sh/v3:Release"]
    assert releases and all(r.inputs.get("allowNullValues") is True for r in releases)
