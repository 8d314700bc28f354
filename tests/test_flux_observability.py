"""FluxObservability: composition per mode, and one program composing it for a fleet."""

import pulumi
import pulumi_kubernetes as k8s
from support import TOKEN, by_kind, register, releases

from components import ConfigError, FluxObservability, parse_stack_config

COLLECTOR = {"clusterName": "c", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN}
OPERATOR = {"clusterName": "c", "mode": "dash0-operator"}


def test_collector_mode_composes_services_gateway_agent_and_tracing():
    holder = {}

    def build():
        holder["o"] = FluxObservability("obs", parse_stack_config(COLLECTOR))
        return pulumi.Output.from_input(holder["o"].outputs["scrapeTargets"]).apply(
            lambda targets: assert_equal(len(targets), 4)
        )

    resources = register(build)
    types = {r.type for r in resources}
    assert {"fluxcd-otel:index:FluxMetricsServices", "fluxcd-otel:index:CollectorGateway",
            "fluxcd-otel:index:FluxLogAgent", "fluxcd-otel:index:FluxTracing"} <= types
    assert "fluxcd-otel:index:Dash0FluxMonitoring" not in types
    assert set(releases(resources)) == {"flux-otel-gateway", "flux-otel-logs", "flux-object-health"}


def test_operator_mode_composes_monitoring_and_tracing_only():
    resources = register(lambda: FluxObservability("obs", parse_stack_config(OPERATOR)))
    types = {r.type for r in resources}
    assert {"fluxcd-otel:index:Dash0FluxMonitoring", "fluxcd-otel:index:FluxTracing"} <= types
    assert not types & {"fluxcd-otel:index:CollectorGateway", "fluxcd-otel:index:FluxLogAgent",
                        "fluxcd-otel:index:FluxMetricsServices"}


def test_operator_mode_with_only_traces_needs_no_monitoring_resource():
    config = parse_stack_config({**OPERATOR, "signals": {"metrics": False, "logs": False}})
    resources = register(lambda: FluxObservability("obs", config))
    assert by_kind(resources, "Dash0Monitoring") == []
    assert len(by_kind(resources, "Alert")) == 1


def test_a_fleet_gets_one_composition_per_cluster_provider():
    clusters = ["eu-1", "us-1", "ap-1"]

    def build():
        for cluster in clusters:
            provider = k8s.Provider(f"k8s-{cluster}", context=cluster)
            config = parse_stack_config({**COLLECTOR, "clusterName": cluster})
            FluxObservability(f"flux-{cluster}", config, opts=pulumi.ResourceOptions(provider=provider))

    resources = register(build)
    custom = [r for r in resources if r.custom and r.type != "pulumi:providers:kubernetes"]
    for cluster in clusters:
        mine = [r for r in custom if r.name.startswith(f"flux-{cluster}-")]
        assert len(mine) == len(custom) // len(clusters)
        assert all(r.provider and f"k8s-{cluster}" in r.provider for r in mine)
    gateways = [r.inputs["values"]["alternateConfig"]["processors"]["resource"]["attributes"][0]["value"]
                for r in resources if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["name"] == "flux-otel-gateway"]
    assert sorted(gateways) == sorted(clusters)


def assert_equal(actual, expected):
    assert actual == expected


def test_a_program_can_pass_its_own_secret_outputs():
    config = parse_stack_config({"clusterName": "c", "exporter": {"type": "dash0", "region": "eu-west-1"},
                                 "tracing": {"address": "https://otlp.example.com"}})
    resources = register(lambda: FluxObservability(
        "obs", config,
        export_token=pulumi.Output.secret(TOKEN),
        tracing_headers=pulumi.Output.secret({"Authorization": "Bearer other"}),
    ))
    secrets = [r for r in resources if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 2
    assert all(TOKEN not in str(r.inputs) for r in resources if r not in secrets)


def test_missing_token_fails_before_the_component_registers():
    config = parse_stack_config({"clusterName": "c", "exporter": {"type": "dash0", "region": "eu-west-1"}})
    holder = {}

    def build():
        try:
            FluxObservability("obs", config)
        except ConfigError as err:
            holder["error"] = str(err)

    assert register(build) == []
    assert "fluxcd-otel:exportToken: required" in holder["error"]
