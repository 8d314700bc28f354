"""The real program (__main__.py) with each example stack, in update and preview mode. The offline
render of it is tested in tests/tooling/test_render.py, and as a command in e2e/test_command_line.py."""

import copy

import pytest
from pulumi.runtime import rpc

from components import constants as c
from components.builders import flux_events
from components.builders.collector_configs import TRACE_CORRELATION
from components.config import ConfigError
from components.tooling.render import UNKNOWN, RecordingMocks, Rendering, documents, masked, mock_uid
from e2e.harness.render import STACKS, by_kind, releases, run_stack
from tests.helpers import TOKEN, assert_valid_collector_config, validate_chart_values, validate_custom_resource

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
            continue  # kube-state-metrics: tests/resources/test_object_health.py
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
    # No export secret: only the receiver tokens, the log agent's copy and the Provider's headers.
    assert sorted(r.inputs["metadata"]["name"] for r in resources if r.type == "kubernetes:core/v1:Secret") == [
        "flux-otel-gateway-receiver-token-0", "flux-otel-gateway-receiver-token-1",
        "flux-otel-gateway-receiver-token-2", "flux-otel-logs-receiver-token-1", "otel-auth"]
    gateway = releases(resources)["flux-otel-gateway"]["values"]["alternateConfig"]
    assert list(gateway["exporters"]) == ["debug"]
    assert len(by_kind(resources, "Service")) == 4
    provider, = by_kind(resources, "Provider")
    assert provider["spec"]["address"] == rendering.outputs["providerAddress"] == "http://flux-otel-gateway.flux-otel.svc:4318/v1/traces"
    assert rendering.outputs["scrapeTargets"][0] == "source-controller-metrics.flux-system.svc:8080"
    assert rendering.outputs["gatewayOtlpGrpcEndpoint"] == "flux-otel-gateway.flux-otel.svc:4317"


def test_prod_stack_exports_to_dash0_with_the_token_from_its_secret():
    rendering = run_stack("prod", secrets={"exportToken": TOKEN})
    (secret,) = [r for r in rendering.resources if r.type == "kubernetes:core/v1:Secret"
                 and r.inputs["metadata"]["name"] == "flux-otel-gateway-export-credentials"]
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


def as_a_first_preview(update):
    """An update's rendering as a first preview shows it: unknown are the values derived from the
    Alert's UID, which the API server assigns only when it creates the Alert, and the copies of the
    receiver token (the log agent's, the Provider's), read from the token Secret once it exists;
    nothing else."""
    resources = copy.deepcopy(update.resources)
    for resource in resources:
        if resource.name.endswith(("-logs-receiver-token", "-tracing-provider-auth")):
            resource.inputs["stringData"] = UNKNOWN
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
    assert documents(run_stack(stack, preview=True)) == documents(as_a_first_preview(run_stack(stack)))


def test_every_chart_comes_from_the_configured_repository():
    """A mirror for clusters that cannot reach the public chart repositories."""
    def charts(rendering):
        return sorted((r.inputs["name"], r.inputs["chart"], masked(r.inputs)["repositoryOpts"]["repo"])
                      for r in rendering.resources if r.type == "kubernetes:helm.sh/v3:Release")

    mirrored = run_stack("prod", overrides={"gateway": {"chartRepository": "https://charts.example.com/otel"},
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
