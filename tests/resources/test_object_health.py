"""FluxObjectHealth under Pulumi mocks and in the real program: where kube-state-metrics runs in
each mode, how its metrics get scraped, and the configuration keys that control it."""

import pytest

from components import ConfigError, FluxObjectHealth, FluxObjectHealthArgs
from components import constants as c
from components.builders import kube_state_metrics as ksm
from components.builders.collector_configs import OBJECT_HEALTH_JOB
from components.config import Dash0OperatorSettings, FluxSettings, ObjectHealthSettings, parse_stack_config
from e2e.harness.pod_security import kube_state_metrics_pod, violations
from e2e.harness.render import STACKS, by_kind, releases, run_stack
from tests.helpers import register, validate_custom_resource

RELEASE = "kubernetes:helm.sh/v3:Release"


def build(**kwargs):
    holder = {}

    def program():
        holder["health"] = FluxObjectHealth("health", FluxObjectHealthArgs(**kwargs))

    resources = register(program)
    return resources, holder.get("health")


def health_release(resources):
    (release,) = [r for r in releases(resources).values() if r["chart"] == c.KSM_CHART]
    return release


def gateway_jobs(resources):
    config = releases(resources)["flux-otel-gateway"]["values"]["alternateConfig"]
    return {job["job_name"]: job for job in config["receivers"]["prometheus"]["config"]["scrape_configs"]}


# --- the component ----------------------------------------------------------------------------------
def test_collector_mode_is_one_pinned_release_in_the_given_namespace():
    resources, health = build(namespace="flux-otel")
    assert [r.type for r in resources if r.custom] == [RELEASE]
    release = health_release(resources)
    assert (release["name"], release["namespace"]) == ("flux-object-health", "flux-otel")
    assert (release["version"], release["repositoryOpts"]) == (c.KSM_CHART_VERSION, {"repo": c.KSM_CHART_REPO})
    assert "podAnnotations" not in release["values"]
    assert health.scrape_target == "flux-object-health.flux-otel.svc:8080"


def test_operator_mode_adds_a_restricted_namespace_a_dash0_monitoring_and_scrape_annotations():
    resources, _ = build(namespace="flux-otel-health", operator=Dash0OperatorSettings())
    (namespace,) = by_kind(resources, "Namespace")
    assert namespace["metadata"]["name"] == "flux-otel-health"
    assert namespace["metadata"]["labels"][c.POD_SECURITY_ENFORCE_LABEL] == c.POD_SECURITY_RESTRICTED
    (monitoring,) = by_kind(resources, "Dash0Monitoring")
    validate_custom_resource(monitoring)
    assert monitoring["metadata"]["namespace"] == "flux-otel-health"
    assert monitoring["spec"]["prometheusScraping"] == {"enabled": True}
    assert monitoring["spec"]["logCollection"] == {"enabled": False}
    assert monitoring["spec"]["eventCollection"] == {"enabled": False}
    assert monitoring["spec"]["instrumentWorkloads"] == {"mode": "none"}
    release = health_release(resources)
    assert release["namespace"] == "flux-otel-health"
    assert release["values"]["podAnnotations"] == ksm.scrape_annotations()


def test_kube_state_metrics_never_lands_in_the_flux_namespace():
    with pytest.raises(ConfigError, match="objectHealth.namespace"):
        build(namespace="gitops", flux=FluxSettings(namespace="gitops"))


def test_settings_reach_the_chart():
    settings = ObjectHealthSettings(release_name="ksm-flux", image_tag="v2.16.0", chart_version="6.4.1",
                                    resources={"cpu_request": "5m", "cpu_limit": "50m", "memory_request": "32Mi",
                                               "memory_limit": "64Mi"})
    resources, health = build(namespace="obs", settings=settings, flux=FluxSettings(controllers=["helm-controller"]))
    release = health_release(resources)
    assert (release["name"], release["version"]) == ("ksm-flux", "6.4.1")
    assert release["values"]["image"]["tag"] == "v2.16.0"
    assert release["values"]["resources"] == {"requests": {"cpu": "5m", "memory": "32Mi"},
                                              "limits": {"cpu": "50m", "memory": "64Mi"}}
    kinds = [
        r["groupVersionKind"]["kind"]
        for r in release["values"]["customResourceState"]["config"]["spec"]["resources"]
    ]
    assert kinds == ["HelmRelease"]
    assert health.scrape_target == "ksm-flux.obs.svc:8080"


# --- the program --------------------------------------------------------------------------------------
def test_collector_mode_scrapes_kube_state_metrics_from_the_gateway_namespace():
    rendering = run_stack("dev")
    release = health_release(rendering.resources)
    assert release["namespace"] == "flux-otel"  # the gateway's own restricted namespace
    job = gateway_jobs(rendering.resources)[OBJECT_HEALTH_JOB]
    assert job["static_configs"] == [{"targets": ["flux-object-health.flux-otel.svc:8080"]}]
    assert rendering.outputs["objectHealth"] == "flux-otel/flux-object-health"
    plurals = {plural for rule in release["values"]["rbac"]["extraRules"] for plural in rule["resources"]}
    assert "imagepolicies" not in plurals and "kustomizations" in plurals


def test_prod_also_reads_the_image_automation_kinds():
    release = health_release(run_stack("prod").resources)
    plurals = {plural for rule in release["values"]["rbac"]["extraRules"] for plural in rule["resources"]}
    assert {"imagerepositories", "imagepolicies", "imageupdateautomations"} <= plurals
    assert "artifactgenerators" not in plurals


def test_operator_mode_runs_it_in_its_own_monitored_namespace():
    rendering = run_stack("dash0-operator")
    release = health_release(rendering.resources)
    assert release["namespace"] == "flux-otel-health"
    monitorings = {m["metadata"]["namespace"]: m for m in by_kind(rendering.resources, "Dash0Monitoring")}
    assert set(monitorings) == {"flux-system", "flux-otel-health"}
    assert monitorings["flux-otel-health"]["spec"]["prometheusScraping"] == {"enabled": True}
    assert release["values"]["podAnnotations"]["prometheus.io/port"] == "8080"
    assert rendering.outputs["objectHealth"] == "flux-otel-health/flux-object-health"


def test_operator_mode_namespace_can_be_renamed():
    rendering = run_stack("dash0-operator", overrides={"objectHealth": {"namespace": "observability"}})
    assert health_release(rendering.resources)["namespace"] == "observability"
    assert [ns["metadata"]["name"] for ns in by_kind(rendering.resources, "Namespace")] == ["observability"]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("overrides", [{"signals": {"metrics": False}}, {"objectHealth": {"enabled": False}}],
                         ids=["metrics-off", "disabled"])
def test_no_kube_state_metrics_without_metrics_or_when_disabled(stack, overrides):
    rendering = run_stack(stack, overrides=overrides)
    assert [r for r in releases(rendering.resources).values() if r["chart"] == c.KSM_CHART] == []
    assert "objectHealth" not in rendering.outputs
    assert [
        m for m in by_kind(rendering.resources, "Dash0Monitoring") if m["metadata"]["namespace"] != "flux-system"
    ] == []
    if "flux-otel-gateway" in releases(rendering.resources) and "prometheus" in (
        releases(rendering.resources)["flux-otel-gateway"]["values"]["alternateConfig"]["receivers"]
    ):
        assert OBJECT_HEALTH_JOB not in gateway_jobs(rendering.resources)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_runs_it_restricted_reading_only_flux(stack):
    resources = run_stack(stack).resources
    release = health_release(resources)
    assert violations(kube_state_metrics_pod(release["values"]), c.POD_SECURITY_RESTRICTED) == []
    namespaces = {ns["metadata"]["name"]: ns for ns in by_kind(resources, "Namespace")}
    labels = namespaces[release["namespace"]]["metadata"]["labels"]
    assert labels[c.POD_SECURITY_ENFORCE_LABEL] == c.POD_SECURITY_RESTRICTED
    for rule in release["values"]["rbac"]["extraRules"]:
        assert rule["verbs"] == ["list", "watch"]
        assert rule == c.KSM_CRD_DISCOVERY_RULE or rule["apiGroups"][0].endswith(".fluxcd.io")


# --- configuration ------------------------------------------------------------------------------------
COLLECTOR = {"clusterName": "c", "exporter": {"type": "debug"}}
OPERATOR = {"clusterName": "c", "mode": "dash0-operator"}


def test_defaults():
    config = parse_stack_config(COLLECTOR)
    assert config.object_health_enabled and config.object_health_namespace == "flux-otel"
    assert config.object_health.chart_version == c.KSM_CHART_VERSION
    assert config.object_health.image_tag == c.KSM_IMAGE_TAG
    assert parse_stack_config(OPERATOR).object_health_namespace == "flux-otel-health"
    assert not parse_stack_config({**COLLECTOR, "signals": {"metrics": False}}).object_health_enabled


@pytest.mark.parametrize(
    "raw, message",
    [
        ({**COLLECTOR, "signals": {"metrics": False}, "objectHealth": {"enabled": True}},
         "fluxcd-otel:objectHealth.enabled: needs signals.metrics"),
        ({**COLLECTOR, "objectHealth": {"namespace": "elsewhere"}},
         "fluxcd-otel:objectHealth.namespace: only in mode dash0-operator"),
        ({**COLLECTOR, "objectHealth": {"releaseName": "flux-otel-gateway"}},
         "fluxcd-otel:objectHealth.releaseName: must differ from gateway.releaseName"),
        ({**OPERATOR, "objectHealth": {"namespace": "flux-system"}},
         "fluxcd-otel:objectHealth.namespace: must not be the Flux namespace"),
        ({**OPERATOR, "objectHealth": {"resources": {"cpuRequest": "1", "cpuLimit": "100m", "memoryRequest": "64Mi",
                                                     "memoryLimit": "128Mi"}}},
         "fluxcd-otel:objectHealth.resources.cpuRequest: must not exceed cpuLimit"),
        ({**OPERATOR, "objectHealth": {"imageTag": "latest"}}, "fluxcd-otel:objectHealth.imageTag:"),
    ],
    ids=["enabled-without-metrics", "namespace-in-collector-mode", "release-clash", "flux-namespace", "resources",
         "unpinned-image"],
)
def test_bad_settings_name_the_key(raw, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        parse_stack_config(raw)
