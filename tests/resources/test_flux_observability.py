"""FluxObservability: composition per mode, and one program composing it for a fleet."""

from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import ConfigError, FluxObservability, parse_stack_config
from components.builders.plan import HELM_RELEASE, KubernetesObject, Plan
from components.tooling.render import masked
from e2e.harness.render import by_kind, releases
from tests.helpers import TOKEN, register

COLLECTOR = {"clusterName": "c", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN}
OPERATOR = {"clusterName": "c", "mode": "dash0-operator"}


def test_collector_mode_composes_services_gateway_agent_and_tracing():
    holder = {}

    def build():
        holder["o"] = FluxObservability("obs", parse_stack_config(COLLECTOR))
        # FluxMetricsServices.scrape_targets: a list of `host:port`.
        return pulumi.Output.from_input(cast(list[str], holder["o"].outputs["scrapeTargets"])).apply(
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
                for r in resources
                if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["name"] == "flux-otel-gateway"]
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
    assert [r.name for r in secrets if TOKEN in str(r.inputs)] == ["obs-gateway-export-credentials"]
    assert [r.name for r in secrets if "Bearer other" in str(r.inputs)] == ["obs-tracing-provider-auth"]


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


# --- two instances must not create the same object through one provider -------------------------------------
def created_objects(resources):
    """The Kubernetes objects a run registered, as FluxObservability plans them."""
    objects = set()
    for resource in resources:
        if not (resource.custom and resource.type.startswith("kubernetes:")):
            continue
        inputs = masked(resource.inputs)
        if resource.type == "kubernetes:helm.sh/v3:Release":
            objects.add(KubernetesObject(*HELM_RELEASE, inputs["namespace"], inputs["name"]))
            continue
        kind = inputs["kind"] + ("Patch" if resource.type.endswith("Patch") else "")
        metadata = inputs["metadata"]
        objects.add(KubernetesObject(inputs["apiVersion"], kind, metadata.get("namespace", ""), metadata["name"]))
    return objects


PLAN_CASES = {
    "collector-dash0-with-secrets": (
        {**COLLECTOR, "tracing": {"address": "https://otlp.example.com"},
         "events": {"namespaces": ["flux-system", "apps"]}},
        True, True),
    "collector-debug": ({"clusterName": "c", "exporter": {"type": "debug"}}, False, False),
    "collector-without-logs-and-alerts": (
        {"clusterName": "c", "exporter": {"type": "debug"}, "signals": {"logs": False}, "alerts": {"enabled": False}},
        False, False),
    "collector-without-metrics": (
        {"clusterName": "c", "exporter": {"type": "debug"}, "signals": {"metrics": False}}, False, False),
    "operator": (OPERATOR, False, False),
    "operator-traces-only": ({**OPERATOR, "signals": {"metrics": False, "logs": False}}, False, False),
    "operator-without-traces": (
        {**OPERATOR, "signals": {"traces": False}, "dashboards": {"enabled": False}}, False, False),
}


@pytest.mark.parametrize("raw, with_token, with_headers", PLAN_CASES.values(), ids=PLAN_CASES.keys())
def test_the_planned_objects_are_those_the_components_register(raw, with_token, with_headers):
    raw = {key: value for key, value in raw.items() if key != "exportToken"}
    config = parse_stack_config(raw)
    secrets: dict[str, Any] = {}
    if with_token:
        secrets["export_token"] = pulumi.Output.secret(TOKEN)
    if with_headers:
        secrets["tracing_headers"] = pulumi.Output.secret({"Authorization": "Bearer x"})
    resources = register(lambda: FluxObservability("obs", config, **secrets))
    planned = set(Plan.of(config, export_secrets=with_token, tracing_headers=with_headers).objects)
    # kube-state-metrics' ClusterRole and ClusterRoleBinding come from its chart, named after the release.
    in_chart = {obj for obj in planned if obj.kind in ("ClusterRole", "ClusterRoleBinding")}
    assert len(in_chart) == (2 if config.object_health_enabled else 0)
    assert planned - in_chart == created_objects(resources)


def build_failing(build):
    """Runs `build` under mocks; returns the ConfigError it raised and what was registered."""
    holder = {}

    def run():
        try:
            build()
        except ConfigError as err:
            holder["error"] = str(err)

    resources = register(run)
    return holder.get("error"), resources


def test_two_instances_on_the_default_provider_fail_in_one_message_naming_both():
    config = parse_stack_config(COLLECTOR)
    error, resources = build_failing(lambda: [FluxObservability(name, config) for name in ("flux-a", "flux-b")])
    assert error.startswith(
        "FluxObservability instances flux-a and flux-b would create the same Kubernetes objects through the default"
        " Kubernetes provider:\n"
    )
    assert "  Namespace flux-otel (v1), named by gateway.namespace\n" in error
    assert "  Release flux-otel/flux-otel-gateway (helm.sh/v3), named by gateway.releaseName\n" in error
    assert (
        "  Provider flux-system/otel (notification.toolkit.fluxcd.io/v1beta3), named by tracing.providerName\n" in error
    )
    assert (
        "  ClusterRole flux-object-health (rbac.authorization.k8s.io/v1), named by objectHealth.releaseName\n" in error
    )
    assert error.endswith(
        "give each cluster its own provider (opts=pulumi.ResourceOptions(provider=...)), or set these keys differently"
        " in flux-b's configuration"
    )
    assert TOKEN not in error
    assert resources and not [r for r in resources if r.name.startswith("flux-b")], "flux-b registered something"


def test_instances_sharing_a_provider_object_or_inheriting_it_clash_too():
    config = parse_stack_config(OPERATOR)

    def same_provider():
        provider = k8s.Provider("k8s-shared", context="shared")
        FluxObservability("flux-a", config, opts=pulumi.ResourceOptions(provider=provider))
        FluxObservability("flux-b", config, opts=pulumi.ResourceOptions(providers=[provider]))

    error, _ = build_failing(same_provider)
    assert error.startswith("FluxObservability instances flux-a and flux-b would create the same Kubernetes objects"
                            " through provider k8s-shared:\n")

    def inherited():
        provider = k8s.Provider("k8s-parent", context="shared")
        parent = pulumi.ComponentResource(
            "test:index:Fleet", "fleet", None, pulumi.ResourceOptions(providers={"kubernetes": provider})
        )
        FluxObservability("flux-a", config, opts=pulumi.ResourceOptions(parent=parent))
        FluxObservability("flux-b", config, opts=pulumi.ResourceOptions(provider=provider))

    error, _ = build_failing(inherited)
    assert "flux-a and flux-b" in error and "through provider k8s-parent" in error


def test_a_third_instance_names_every_instance_it_clashes_with():
    collector, operator = parse_stack_config(COLLECTOR), parse_stack_config(OPERATOR)
    separate = parse_stack_config({**COLLECTOR, "gateway": {"namespace": "otel-b"},
                                   "logAgent": {"namespace": "otel-b-logs"}, "flux": {"namespace": "flux-b"},
                                   "objectHealth": {"releaseName": "health-b"}})
    error, _ = build_failing(lambda: [FluxObservability("flux-a", collector), FluxObservability("flux-b", separate),
                                      FluxObservability("flux-c", operator)])
    assert error.startswith("FluxObservability instances flux-a and flux-c would create")
    assert (
        "  Provider flux-system/otel (notification.toolkit.fluxcd.io/v1beta3), named by tracing.providerName\n" in error
    )


def test_instances_with_their_own_names_or_providers_share_a_program():
    first = parse_stack_config(COLLECTOR)
    second = parse_stack_config({**COLLECTOR, "gateway": {"namespace": "otel-b"},
                                 "logAgent": {"namespace": "otel-b-logs"}, "flux": {"namespace": "flux-b"},
                                 "objectHealth": {"releaseName": "health-b"}})

    def build():
        FluxObservability("flux-a", first)
        FluxObservability("flux-b", second)
        FluxObservability("flux-c", first, opts=pulumi.ResourceOptions(provider=k8s.Provider("k8s-c", context="c")))

    error, resources = build_failing(build)
    assert error is None and len([r for r in resources if r.type == "fluxcd-otel:index:FluxObservability"]) == 3


def test_each_pulumi_run_starts_with_no_claimed_objects():
    """Tests (and the Automation API) run many programs in one process: each run is its own."""
    config = parse_stack_config(COLLECTOR)
    for _ in range(2):
        error, resources = build_failing(lambda: FluxObservability("flux-a", config))
        assert error is None and resources
