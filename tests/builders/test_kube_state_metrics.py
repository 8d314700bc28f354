"""The kube-state-metrics builders: the custom-resource-state configuration's shape, the RBAC it
gets, the chart values and the pod they render, and the gateway's scrape of it. What the real
kube-state-metrics serves from the configuration, and the label names that reach the backend
through either scrape path, are judged in e2e/test_object_health.py."""

import re

import kubernetes_validate
import pytest
import yaml

from components import constants as c
from components.builders import kube_state_metrics as ksm
from components.builders.collector_configs import gateway_config
from components.config import ExporterSettings, GatewaySettings, ObjectHealthSettings, SignalSettings
from e2e.harness.pod_security import kube_state_metrics_pod, narrowest_level, violations
from tests.helpers import KUBERNETES_VERSIONS, assert_valid_collector_config

ALL_KINDS = ksm.flux_resources(c.FLUX_CONTROLLERS)
CONFIG = ksm.custom_resource_state_config(ALL_KINDS)
# The names Prometheus accepts for labels and metrics.
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


# --- the configuration ------------------------------------------------------------------------------
def families(resource):
    return {f"{resource['metricNamePrefix']}_{metric['name']}" for metric in resource["metrics"]}


def test_the_configuration_has_one_entry_per_kind_and_names_prometheus_accepts():
    # kube-state-metrics exits when a kind is configured twice, even at another version.
    assert CONFIG["kind"] == "CustomResourceStateMetrics"
    configured = [(r["groupVersionKind"]["group"], r["groupVersionKind"]["kind"]) for r in CONFIG["spec"]["resources"]]
    assert sorted(configured) == sorted({(r.group, r.kind) for r in ALL_KINDS})
    for resource in CONFIG["spec"]["resources"]:
        assert all(METRIC_NAME.match(name) for name in families(resource))
        for metric in resource["metrics"]:
            labels = {**resource.get("commonLabels", {}), **resource.get("labelsFromPath", {}),
                      **metric.get("commonLabels", {}), **metric.get("labelsFromPath", {})}
            assert all(LABEL_NAME.match(name) for name in labels), labels


def test_kinds_without_status_get_no_ready_transition_family_and_only_applied_sources_an_artifact_time():
    # Without a Ready condition to read, kube-state-metrics would log an error for each such object;
    # an artifact time is read only where a Kustomization's lead time can start.
    by_kind = {r["groupVersionKind"]["kind"]: families(r) for r in CONFIG["spec"]["resources"]}
    for resource in ALL_KINDS:
        expected = set(ksm.HEALTH_METRICS) - ({c.FLUX_READY_TRANSITION_METRIC} if resource.static else set())
        if resource.kind not in c.FLUX_ARTIFACT_TIME_KINDS:
            expected.discard(c.FLUX_ARTIFACT_TIME_METRIC)
        assert by_kind[resource.kind] == expected, resource.kind
    assert {r.kind for r in ALL_KINDS if r.static} == {"Alert", "Provider"}


def test_kinds_follow_the_configured_controllers():
    controllers = ["source-controller", "kustomize-controller"]
    resources = ksm.flux_resources(controllers)
    config = ksm.custom_resource_state_config(resources)
    kinds = {r["groupVersionKind"]["kind"] for r in config["spec"]["resources"]}
    assert kinds == {"GitRepository", "OCIRepository", "Bucket", "HelmRepository", "HelmChart", "ExternalArtifact",
                     "Kustomization"}
    readable = {plural for rule in ksm.rbac_rules(resources)[1:] for plural in rule["resources"]}
    assert readable == {r.plural for r in resources}


# --- RBAC ---------------------------------------------------------------------------------------------
def test_rbac_is_list_and_watch_on_the_flux_kinds_and_the_crds_only():
    rules = ksm.rbac_rules(ALL_KINDS)
    assert all(rule["verbs"] == ["list", "watch"] for rule in rules)
    granted = {(group, resource) for rule in rules for group in rule["apiGroups"] for resource in rule["resources"]}
    assert granted == {(r.group, r.plural) for r in ALL_KINDS} | {
        ("apiextensions.k8s.io", "customresourcedefinitions")
    }
    assert all(
        group.endswith(".fluxcd.io") for group, _ in granted - {("apiextensions.k8s.io", "customresourcedefinitions")}
    )
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}, "rules": rules
    }
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(role, version, strict=True)


# --- chart values and the pod they render ------------------------------------------------------------
SETTINGS = ObjectHealthSettings()


def values(annotate=False, kinds=ALL_KINDS):
    return ksm.chart_values(fullname=SETTINGS.release_name, image_tag=SETTINGS.image_tag, resources=SETTINGS.resources,
                            flux_kinds=kinds, annotate_for_scraping=annotate)


# Keys of the pinned chart's values.yaml (plus nameOverride/fullnameOverride, read by _helpers.tpl,
# and priorityClassName/updateStrategy, read by the templates). The chart ships no values schema,
# so a misspelt key would be ignored silently: every key set here must be one of these.
CHART_VALUES = {
    "prometheusScrape", "image", "imagePullSecrets", "global", "autosharding", "replicas", "revisionHistoryLimit",
    "extraArgs", "automountServiceAccountToken", "service", "customLabels", "selectorOverride", "releaseLabel",
    "hostNetwork", "hostUsers", "rbac", "authFilter", "kubeRBACProxy", "serviceAccount", "env", "prometheus",
    "networkPolicy", "securityContext", "containerSecurityContext", "nodeSelector", "affinity", "tolerations",
    "topologySpreadConstraints", "annotations", "labels", "podAnnotations", "podLabels", "podDisruptionBudget",
    "metricAllowlist", "metricDenylist", "metricLabelsAllowlist", "metricAnnotationsAllowList", "collectors",
    "collectorsExclude", "collectorsExtra", "kubeconfig", "customResourceState", "releaseNamespace", "namespaces",
    "namespacesDenylist", "namespaceOverride", "resources", "selfMonitor", "verticalPodAutoscaler", "volumeMounts",
    "volumes", "extraManifests", "containers", "initContainers", "dnsPolicy", "dnsConfig", "startupProbe",
    "livenessProbe", "readinessProbe", "nameOverride", "fullnameOverride", "priorityClassName", "updateStrategy",
}

CHART_NESTED_VALUES = {
    "image": {"registry", "repository", "tag", "sha", "pullPolicy"},
    "service": {"port", "type", "ipDualStack", "nodePort", "loadBalancerIP", "loadBalancerSourceRanges", "clusterIP",
                "annotations"},
    "rbac": {"create", "customResourceState", "useExistingRole", "useClusterRole", "extraRules",
             "clusterRoleSelectors"},
    "customResourceState": {"enabled", "create", "name", "key", "config"},
    "selfMonitor": {"enabled", "telemetryHost", "telemetryPort", "telemetryNodePort"},
}



def test_chart_values_use_only_keys_the_chart_reads():
    chosen = values(annotate=True)
    assert set(chosen) <= CHART_VALUES
    for name, known in CHART_NESTED_VALUES.items():
        assert set(chosen.get(name, {})) <= known, name
    # No built-in collectors: the chart then passes no --resources and grants nothing for them.
    assert chosen["collectors"] == [] and chosen["extraArgs"] == ["--custom-resource-state-only=true"]
    assert chosen["image"] == {"registry": "registry.k8s.io", "repository": "kube-state-metrics/kube-state-metrics",
                               "tag": c.KSM_IMAGE_TAG}
    # The CRD rule is in extraRules; the chart's own copy of it (templates/role.yaml) is off.
    assert chosen["rbac"]["customResourceState"] == {"createClusterRoleRules": False}
    assert c.KSM_CRD_DISCOVERY_RULE in chosen["rbac"]["extraRules"]


@pytest.mark.parametrize("annotate", [False, True], ids=["collector", "dash0-operator"])
def test_the_pod_is_valid_and_admitted_by_restricted(annotate):
    rendered = kube_state_metrics_pod(values(annotate))
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(rendered, version, strict=True)
    assert violations(rendered, c.POD_SECURITY_RESTRICTED) == []
    assert narrowest_level(rendered) == c.POD_SECURITY_RESTRICTED


def test_the_restricted_check_sees_a_relaxed_security_context():
    relaxed = values()
    relaxed["containerSecurityContext"] = {**relaxed["containerSecurityContext"], "allowPrivilegeEscalation": True}
    assert violations(kube_state_metrics_pod(relaxed), c.POD_SECURITY_RESTRICTED) == ["privilege escalation"]


def test_scrape_annotations_only_for_the_dash0_operator():
    assert "podAnnotations" not in values(annotate=False)
    assert values(annotate=True)["podAnnotations"] == {
        "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"}


def test_the_configuration_ships_in_the_values_and_survives_a_yaml_round_trip():
    # The chart writes customResourceState.config into its ConfigMap with toYaml.
    shipped = yaml.safe_load(yaml.safe_dump(values()["customResourceState"]["config"]))
    assert shipped == CONFIG


# --- the gateway's scrape ----------------------------------------------------------------------------
def gateway_job(target):
    config = gateway_config(
        cluster_name="c", signals=SignalSettings(), gateway=GatewaySettings(),
        exporter_settings=ExporterSettings(type="debug"), scrape_targets=["x.flux-system.svc:8080"],
        object_health_target=target,
    )
    assert_valid_collector_config(config)
    jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    return next(job for job in jobs if job["static_configs"] == [{"targets": [target]}])


def test_the_gateway_keeps_exactly_the_health_families():
    job = gateway_job(ksm.scrape_target("flux-object-health", "flux-otel"))
    assert job["job_name"] == "flux-object-health" and job["metrics_path"] == "/metrics"
    (keep,) = job["metric_relabel_configs"]
    # Prometheus anchors relabel regexes at both ends.
    kept = [name for name in (*ksm.HEALTH_METRICS, "kube_customresource_gotk_resource_info", "gotk_resource_info_x")
            if re.fullmatch(keep["regex"], name)]
    assert keep["action"] == "keep" and kept == list(ksm.HEALTH_METRICS)


def test_the_gateway_scrapes_no_health_target_unless_given():
    config = gateway_config(
        cluster_name="c", signals=SignalSettings(), gateway=GatewaySettings(),
        exporter_settings=ExporterSettings(type="debug"), scrape_targets=["x.flux-system.svc:8080"],
    )
    assert [
        job["job_name"] for job in config["receivers"]["prometheus"]["config"]["scrape_configs"]
    ] == ["flux-controllers"]



def test_without_the_delivery_figures_object_health_serves_neither_artifact_times_nor_release_numbers():
    config = ksm.custom_resource_state_config(ALL_KINDS, delivery=False)
    assert all(families(resource) <= {c.FLUX_RESOURCE_INFO_METRIC, c.FLUX_READY_TRANSITION_METRIC}
               for resource in config["spec"]["resources"])
    labels = {label for resource in config["spec"]["resources"] for metric in resource["metrics"]
              for label in metric.get("labelsFromPath", {})}
    assert c.FLUX_RELEASE_LABEL not in labels
    (release,) = [resource for resource in config["spec"]["resources"]
                  if resource["groupVersionKind"]["kind"] == "HelmRelease"]
    assert not any(label.startswith("source_") for metric in release["metrics"]
                   for label in metric.get("labelsFromPath", {}))
    with_them = {label for resource in CONFIG["spec"]["resources"] for metric in resource["metrics"]
                 for label in metric.get("labelsFromPath", {})}
    assert c.FLUX_RELEASE_LABEL in with_them
