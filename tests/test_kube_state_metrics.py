"""The kube-state-metrics builders: what the custom-resource-state configuration makes of real Flux
objects, the RBAC it gets, the chart values and the pod they render, and the label names that
reach the backend through either scrape path."""

import re
from pathlib import Path
from typing import NamedTuple, Optional

import kubernetes_validate
import pytest
import yaml

from components import constants as c
from components.builders import kube_state_metrics as ksm
from components.builders.collector_configs import gateway_config
from components.config import ExporterSettings, GatewaySettings, ObjectHealthSettings, SignalSettings
from ksm_evaluator import GVK_LABELS, evaluate
from pod_security import narrowest_level, violations
from support import assert_valid_collector_config
from test_least_privilege import KUBERNETES_VERSIONS

FIXTURE = Path(__file__).parent / "fixtures" / "flux_objects.yaml"
OBJECTS = list(yaml.safe_load_all(FIXTURE.read_text()))
ALL_KINDS = ksm.flux_resources(c.FLUX_CONTROLLERS)
CONFIG = ksm.custom_resource_state_config(ALL_KINDS)

GIT_MAIN = "main@sha1:6e1f3b2a9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
GIT_PODINFO = "6.7.0@sha1:2c6b8d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"


class Expected(NamedTuple):
    ready: str
    suspended: str
    reason: Optional[str]
    revision: Optional[str]
    ready_since: Optional[int]
    """Ready's lastTransitionTime in Unix seconds; None without a Ready condition."""


# (kind, namespace, name) of every fixture object, read off its status block by hand.
EXPECTED = {
    ("GitRepository", "flux-system", "flux-system"): Expected("True", "false", "Succeeded", GIT_MAIN, 1777882500),
    ("GitRepository", "apps", "podinfo"): Expected("False", "false", "GitOperationFailed", GIT_PODINFO, 1777887012),
    ("OCIRepository", "flux-system", "manifests"): Expected(
        "True", "true", "Succeeded",
        "latest@sha256:9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b", 1777845705),
    ("Bucket", "tenant-a", "assets"): Expected("Unknown", "false", "Progressing", None, 1777888800),
    ("HelmRepository", "flux-system", "bitnami"): Expected("Unknown", "false", None, None, None),
    ("HelmRepository", "flux-system", "podinfo"): Expected(
        "True", "false", "Succeeded", "sha256:5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f",
        1777880730),
    ("HelmChart", "flux-system", "apps-podinfo"): Expected("True", "false", "ChartPullSucceeded", "6.7.1", 1777880730),
    ("ExternalArtifact", "apps", "podinfo-manifests"): Expected(
        "True", "false", "Succeeded",
        "latest@sha256:8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e", 1777882500),
    ("Kustomization", "flux-system", "infrastructure"): Expected(
        "True", "false", "ReconciliationSucceeded", GIT_MAIN, 1777882500),
    # Failing health checks: the revision is the one still applied, not the one attempted.
    ("Kustomization", "apps", "podinfo"): Expected("False", "false", "HealthCheckFailed", GIT_PODINFO, 1777888799),
    ("Kustomization", "tenant-a", "tenant-apps"): Expected("Unknown", "false", None, None, None),
    ("HelmRelease", "apps", "podinfo"): Expected("True", "false", "UpgradeSucceeded", "6.7.1", 1777880730),
    # The failed upgrade to 20.1.0 left 20.0.5 deployed.
    ("HelmRelease", "apps", "redis"): Expected("False", "false", "UpgradeFailed", "20.0.5", 1777887012),
    ("HelmRelease", "tenant-a", "cache"): Expected("Unknown", "true", "Progressing", None, 1777888800),
    ("Alert", "flux-system", "otel-alert"): Expected("True", "false", None, None, None),
    ("Provider", "flux-system", "otel"): Expected("True", "true", None, None, None),
    ("Receiver", "flux-system", "github"): Expected("True", "false", "Succeeded", None, 1777723200),
    ("ImageRepository", "flux-system", "podinfo"): Expected("False", "false", "AuthenticationFailed", None, 1777887012),
    ("ImagePolicy", "flux-system", "podinfo"): Expected("True", "false", "Succeeded", "6.7.1", 1777845705),
    ("ImageUpdateAutomation", "flux-system", "flux-system"): Expected(
        "True", "false", "Succeeded", "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8", 1777882500),
    ("ArtifactGenerator", "apps", "podinfo"): Expected("True", "false", "Succeeded", None, 1777882500),
}


# The Kustomizations' sourceRefs, as labels; a source in another namespace names it.
SOURCES = {
    ("Kustomization", "flux-system", "infrastructure"): {"source_kind": "GitRepository", "source_name": "flux-system"},
    ("Kustomization", "apps", "podinfo"): {"source_kind": "GitRepository", "source_name": "podinfo"},
    ("Kustomization", "tenant-a", "tenant-apps"): {"source_kind": "GitRepository", "source_name": "tenant-a",
                                                   "source_namespace": "flux-system"},
}


def key(obj):
    return obj["kind"], obj["metadata"]["namespace"], obj["metadata"]["name"]


def identity(obj):
    group, version = obj["apiVersion"].split("/")
    return {
        "name": obj["metadata"]["name"],
        "exported_namespace": obj["metadata"]["namespace"],
        "kind": obj["kind"],
        **dict(zip(GVK_LABELS, (group, version, obj["kind"]))),
    }


def series_of(obj, config=CONFIG):
    series, _ = evaluate(config, obj)
    return series


# --- the configuration against the fixture ---------------------------------------------------------
def test_the_fixture_has_every_flux_kind_at_its_configured_version_and_every_state():
    assert sorted(key(obj) for obj in OBJECTS) == sorted(EXPECTED)
    configured = {(r.group, r.version, r.kind) for r in ALL_KINDS}
    assert {(*obj["apiVersion"].split("/"), obj["kind"]) for obj in OBJECTS} == configured
    assert {e.ready for e in EXPECTED.values()} == {"True", "False", "Unknown"}
    assert {e.suspended for e in EXPECTED.values()} == {"true", "false"}


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: "/".join(key(obj)))
def test_each_object_has_one_info_series_with_exactly_the_contract_labels(obj):
    expected = EXPECTED[key(obj)]
    info = [s for s in series_of(obj) if s.metric == c.FLUX_RESOURCE_INFO_METRIC]
    state = {"ready": expected.ready, "suspended": expected.suspended}
    state.update(
        {name: value for name, value in (("reason", expected.reason), ("revision", expected.revision)) if value}
    )
    state.update(SOURCES.get(key(obj), {}))
    assert [(s.labels, s.value) for s in info] == [({**identity(obj), **state}, 1.0)]


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: "/".join(key(obj)))
def test_ready_transition_time_is_the_ready_conditions_in_unix_seconds(obj):
    expected = EXPECTED[key(obj)]
    series, errors = evaluate(CONFIG, obj)
    since = [(s.labels, s.value) for s in series if s.metric == c.FLUX_READY_TRANSITION_METRIC]
    if expected.ready_since is None:
        assert since == []
        resource = next(r for r in ALL_KINDS if r.kind == obj["kind"])
        # kube-state-metrics logs a missing Ready condition, except for kinds that never have one.
        assert errors == (
            [] if resource.static else [f"{c.FLUX_READY_TRANSITION_METRIC}: got nil while resolving path"]
        )
    else:
        assert since == [(identity(obj), float(expected.ready_since))] and errors == []


def test_the_families_and_labels_are_the_published_contract():
    every = [s for obj in OBJECTS for s in series_of(obj)]
    assert {s.metric for s in every} == set(ksm.HEALTH_METRICS) == {
        "gotk_resource_info", "gotk_resource_ready_transition_timestamp_seconds"}
    info_labels = set().union(*(s.labels for s in every if s.metric == c.FLUX_RESOURCE_INFO_METRIC))
    assert info_labels == set(ksm.INFO_LABELS) | set(ksm.SOURCE_LABELS) | set(GVK_LABELS)
    since_labels = {frozenset(s.labels) for s in every if s.metric == c.FLUX_READY_TRANSITION_METRIC}
    assert since_labels == {frozenset(ksm.TRANSITION_LABELS) | set(GVK_LABELS)}


def test_kinds_follow_the_configured_controllers():
    controllers = ["source-controller", "kustomize-controller"]
    resources = ksm.flux_resources(controllers)
    config = ksm.custom_resource_state_config(resources)
    kinds = {r["groupVersionKind"]["kind"] for r in config["spec"]["resources"]}
    assert kinds == {"GitRepository", "OCIRepository", "Bucket", "HelmRepository", "HelmChart", "ExternalArtifact",
                     "Kustomization"}
    assert {key(obj)[0] for obj in OBJECTS if series_of(obj, config)} == kinds
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


def pod(chart_values):
    """The pod the chart's deployment.yaml renders from these values, as far as Pod Security and
    the Kubernetes schema are concerned."""
    fullname = chart_values["fullnameOverride"]
    image = chart_values["image"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": fullname, "annotations": chart_values.get("podAnnotations", {})},
        "spec": {
            "automountServiceAccountToken": chart_values.get("automountServiceAccountToken", True),
            "hostNetwork": chart_values.get("hostNetwork", False),
            "securityContext": {k: v for k, v in chart_values["securityContext"].items() if k != "enabled"},
            "containers": [{
                "name": "kube-state-metrics",
                "image": f"{image['registry']}/{image['repository']}:{image['tag']}",
                "args": [*chart_values["extraArgs"], f"--port={chart_values['service']['port']}",
                         "--custom-resource-state-config-file=/etc/customresourcestate/config.yaml"],
                "ports": [{"containerPort": chart_values["service"]["port"], "name": "http"}],
                "resources": chart_values["resources"],
                "securityContext": chart_values["containerSecurityContext"],
                "volumeMounts": [{"name": "customresourcestate-config", "mountPath": "/etc/customresourcestate",
                                  "readOnly": True}],
            }],
            "volumes": [{"name": "customresourcestate-config",
                         "configMap": {"name": f"{fullname}-customresourcestate-config"}}],
        },
    }


@pytest.mark.parametrize("annotate", [False, True], ids=["collector", "dash0-operator"])
def test_the_pod_is_valid_and_admitted_by_restricted(annotate):
    rendered = pod(values(annotate))
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(rendered, version, strict=True)
    assert violations(rendered, c.POD_SECURITY_RESTRICTED) == []
    assert narrowest_level(rendered) == c.POD_SECURITY_RESTRICTED


def test_the_restricted_check_sees_a_relaxed_security_context():
    relaxed = values()
    relaxed["containerSecurityContext"] = {**relaxed["containerSecurityContext"], "allowPrivilegeEscalation": True}
    assert violations(pod(relaxed), c.POD_SECURITY_RESTRICTED) == ["privilege escalation"]


def test_scrape_annotations_only_for_the_dash0_operator():
    assert "podAnnotations" not in values(annotate=False)
    assert values(annotate=True)["podAnnotations"] == {
        "prometheus.io/scrape": "true", "prometheus.io/port": "8080", "prometheus.io/path": "/metrics"}


def test_the_configuration_ships_in_the_values_and_survives_a_yaml_round_trip():
    # The chart writes customResourceState.config into its ConfigMap with toYaml.
    shipped = yaml.safe_load(yaml.safe_dump(values()["customResourceState"]["config"]))
    assert shipped == CONFIG
    assert [series_of(obj, shipped) for obj in OBJECTS] == [series_of(obj) for obj in OBJECTS]


# --- the label names at the backend -----------------------------------------------------------------
def scraped(series_labels, target_labels, honor_labels):
    """Prometheus' label merge at scrape time (the collector's prometheus receiver uses it)."""
    labels = dict(series_labels)
    for name, value in target_labels.items():
        if honor_labels:
            labels.setdefault(name, value)
            continue
        if name in labels:
            exported = f"exported_{name}"
            while exported in labels:
                exported = f"exported_{exported}"
            labels[exported] = labels[name]
        labels[name] = value
    return labels


def gateway_job(target):
    config = gateway_config(
        cluster_name="c", signals=SignalSettings(), gateway=GatewaySettings(),
        exporter_settings=ExporterSettings(type="debug"), scrape_targets=["x.flux-system.svc:8080"],
        object_health_target=target,
    )
    assert_valid_collector_config(config)
    jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]
    return next(job for job in jobs if job["static_configs"] == [{"targets": [target]}])


def gateway_target_labels(job):
    (target,) = job["static_configs"][0]["targets"]
    return {"job": job["job_name"], "instance": target}, job.get("honor_labels", False)


# The Dash0 operator's pod scrape job (its daemonset collector config): honor_labels, and target
# labels for the namespace, pod and node plus every pod label (labelmap), here the chart's labels.
DASH0_OPERATOR_TARGET = {
    "job": "dash0-kubernetes-pods-scrape-config", "instance": "10.1.2.3:8080",
    "namespace": "flux-otel-health", "pod": "flux-object-health-6d5f7c9b8-x2x7q", "node": "node-1",
    "app_kubernetes_io_name": "kube-state-metrics", "app_kubernetes_io_instance": "flux-object-health",
    "app_kubernetes_io_component": "metrics", "app_kubernetes_io_part_of": "kube-state-metrics",
    "app_kubernetes_io_managed_by": "Helm", "app_kubernetes_io_version": c.KSM_IMAGE_TAG.removeprefix("v"),
    "helm_sh_chart": f"kube-state-metrics-{c.KSM_CHART_VERSION}",
}


def test_object_labels_reach_the_backend_unchanged_in_both_modes():
    target = ksm.scrape_target("flux-object-health", "flux-otel")
    gateway_labels, gateway_honors = gateway_target_labels(gateway_job(target))
    paths = {"collector": (gateway_labels, gateway_honors), "dash0-operator": (DASH0_OPERATOR_TARGET, True)}
    for obj in OBJECTS:
        for series in series_of(obj):
            for mode, (target_labels, honor) in paths.items():
                stored = scraped(series.labels, target_labels, honor)
                assert {name: stored[name] for name in series.labels} == series.labels, mode
                assert stored["exported_namespace"] == obj["metadata"]["namespace"], mode


def test_a_plain_namespace_label_would_not_arrive_as_exported_namespace():
    # Why kube-state-metrics writes exported_namespace itself: left to the scrape, `namespace`
    # stays `namespace` in both modes (static target / honor_labels), never exported_namespace.
    target = ksm.scrape_target("flux-object-health", "flux-otel")
    gateway_labels, gateway_honors = gateway_target_labels(gateway_job(target))
    series = {"name": "podinfo", "namespace": "apps"}
    for target_labels, honor in ((gateway_labels, gateway_honors), (DASH0_OPERATOR_TARGET, True)):
        assert "exported_namespace" not in scraped(series, target_labels, honor)


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
