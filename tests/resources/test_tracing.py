"""FluxTracing under Pulumi mocks: Provider and Alert valid against the Flux CRDs."""

import pulumi
import yaml
from pulumi.runtime import rpc

from components import FluxTracing, FluxTracingArgs
from components.config import TracingSettings
from components.tooling.render import main
from e2e.harness.render import building_blocks_project, by_kind
from tests.helpers import register, validate_custom_resource


def build(args):
    return register(lambda: FluxTracing("tracing", args))


def test_provider_and_alert_match_the_crds():
    resources = build(FluxTracingArgs(address="http://gw.ns.svc:4318", cluster_name="c1",
                                      traced_kinds=["GitRepository", "Kustomization"]))
    provider, = by_kind(resources, "Provider")
    alert, = by_kind(resources, "Alert")
    for obj in (provider, alert):
        validate_custom_resource(obj)
        assert obj["metadata"]["namespace"] == "flux-system"
    assert provider["spec"] == {"type": "otel", "address": "http://gw.ns.svc:4318/v1/traces"}
    assert alert["spec"]["providerRef"] == {"name": "otel"}
    assert alert["spec"]["eventSources"] == [
        {"kind": "GitRepository", "name": "*", "namespace": "flux-system"},
        {"kind": "Kustomization", "name": "*", "namespace": "flux-system"},
    ]
    assert alert["spec"]["eventMetadata"] == {"cluster": "c1"}
    assert alert["spec"]["eventSeverity"] == "info"


def test_configured_selection_and_filters():
    tracing = TracingSettings(
        alert_name="flux-traces",
        event_severity="error",
        event_sources=[{"kind": "HelmRelease", "name": "*", "namespace": "apps", "matchLabels": {"team": "a"}}],
        exclusion_list=["^Dependencies do not meet"],
        inclusion_list=[".*"],
        event_metadata={"env": "prod", "cluster": "override"},
        timeout="30s",
    )
    resources = build(FluxTracingArgs(address="http://gw:4318/v1/traces", cluster_name="c1", tracing=tracing))
    provider, = by_kind(resources, "Provider")
    alert, = by_kind(resources, "Alert")
    validate_custom_resource(provider)
    validate_custom_resource(alert)
    assert provider["spec"]["timeout"] == "30s"
    assert alert["metadata"]["name"] == "flux-traces"
    assert alert["spec"]["eventSources"] == [
        {"kind": "HelmRelease", "name": "*", "namespace": "apps", "matchLabels": {"team": "a"}}
    ]
    assert alert["spec"]["eventMetadata"] == {"cluster": "override", "env": "prod"}
    assert alert["spec"]["exclusionList"] == ["^Dependencies do not meet"]
    assert alert["spec"]["eventSeverity"] == "error"


def test_auth_headers_go_into_the_headers_key_of_a_secret():
    headers = pulumi.Output.secret({"Authorization": "Bearer s3cr3t", "X-Scope": "flux"})
    resources = build(FluxTracingArgs(address="https://otlp.example.com", cluster_name="c1", headers=headers))
    secret = next(r for r in resources if r.type == "kubernetes:core/v1:Secret")
    assert rpc.is_rpc_secret(secret.inputs["stringData"])
    data = rpc.unwrap_rpc_secret(secret.inputs["stringData"])
    assert set(data) == {"headers"}, "Flux builds the Authorization header only from `headers`"
    assert yaml.safe_load(data["headers"]) == {"Authorization": "Bearer s3cr3t", "X-Scope": "flux"}
    provider, = by_kind(resources, "Provider")
    assert provider["spec"]["secretRef"] == {"name": "otel-auth"}
    assert "s3cr3t" not in str(provider)


def test_service_name_is_namespace_slash_alert():
    holder = {}

    def make():
        holder["t"] = FluxTracing(
            "t", FluxTracingArgs(address="http://x:4318", cluster_name="c", flux_namespace="flux")
        )

    register(make)
    assert holder["t"].service_name == "flux/otel-alert"


def test_a_program_of_building_blocks_alone_renders_without_any_of_the_packages_keys(tmp_path, capsys):
    """Rendered in-process; e2e/test_command_line.py runs the command."""
    building_blocks_project(tmp_path)
    assert main(["--stack", "s", "--project-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "address: http://otel-collector.observability.svc:4318/v1/traces" in out
    assert "traceServiceName: flux-system/otel-alert" in out
