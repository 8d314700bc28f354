"""Least privilege across every stack: Pod Security levels, RBAC, Flux's objects patched and never
owned, and every core Kubernetes object valid against the Kubernetes API schemas."""

from functools import lru_cache

import kubernetes_validate
import pytest

from components import constants as c
from components.config import parse_stack_config
from components.tooling.render import masked, read_stack_file
from e2e.harness.pod_security import collector_pod, namespace_level, narrowest_level, violations
from e2e.harness.render import ROOT, STACKS, run_stack
from tests.helpers import KUBERNETES_VERSIONS

WORKLOAD_KINDS = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"}
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
CORE_API_VERSIONS = {"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "networking.k8s.io/v1", "policy/v1"}


def revealed(value):
    """Inputs as the API server receives them."""
    return masked(value, reveal=True)


@lru_cache(maxsize=None)
def resources(stack):
    return tuple(run_stack(stack).resources)


def collector_releases(stack):
    return [
        revealed(r.inputs) for r in resources(stack)
        if r.type == HELM_RELEASE and r.inputs["chart"] == c.COLLECTOR_CHART
    ]


def namespaces(stack):
    return {r.inputs["metadata"]["name"]: r.inputs for r in resources(stack) if r.inputs.get("kind") == "Namespace"}


def core_objects(stack):
    """Complete built-in objects (patches are partial by design and are checked separately)."""
    return [
        revealed(r.inputs) for r in resources(stack)
        if r.inputs.get("apiVersion") in CORE_API_VERSIONS and not r.type.endswith("Patch")
    ]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("stack", STACKS)
def test_core_objects_and_collector_pods_validate_against_the_kubernetes_schemas(stack, version):
    objects = core_objects(stack) + [collector_pod(release["values"]) for release in collector_releases(stack)]
    assert objects or not collector_releases(stack)
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_schema_validation_catches_a_misspelt_field():
    (service, *_) = [obj for obj in core_objects("dev") if obj["kind"] == "Service"]
    broken = {**service, "spec": {**service["spec"], "selektor": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("stack", STACKS)
def test_each_collector_runs_in_a_namespace_at_the_narrowest_level_that_admits_it(stack):
    for release in collector_releases(stack):
        pod = collector_pod(release["values"])
        level = namespace_level(namespaces(stack)[release["namespace"]])
        assert violations(pod, level) == [], f"{release['name']} breaks {level}"
        assert level == narrowest_level(pod), f"{release['name']} could run at {narrowest_level(pod)}"


def test_only_the_log_agent_needs_more_than_restricted():
    levels = {
        release["name"]: narrowest_level(collector_pod(release["values"])) for release in collector_releases("prod")
    }
    assert levels == {"flux-otel-gateway": "restricted", "flux-otel-logs": "privileged"}
    agent = collector_pod(next(r for r in collector_releases("prod") if r["name"] == "flux-otel-logs")["values"])
    # hostPath is the agent's only reason, and it still gives up every capability and escalation.
    assert violations(agent, "baseline") == ["hostPath volumes"]
    assert violations(agent, "restricted") == ["hostPath volumes", "running as non-root", "running as non-root user",
                                               "volume types"]


def test_pod_security_check_catches_a_privileged_container():
    (release, *_) = collector_releases("prod")
    values = release["values"]
    pod = collector_pod({**values, "securityContext": {**values["securityContext"], "privileged": True}})
    assert "privileged containers" in violations(pod, "baseline")


def stack_config(stack):
    """The stack file's validated configuration (secure values left out: they grant nothing)."""
    return parse_stack_config(read_stack_file(ROOT, stack).plain_settings())


EVENT_WATCH_RULES = [{"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["list", "watch"]}]


def grants(objects, releases):
    """(binding kind, namespace, rules) of every grant to a collector's service account."""
    accounts = {("ServiceAccount", r["values"]["fullnameOverride"], r["namespace"]) for r in releases}
    roles = {(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]): obj for obj in objects}
    found = []
    for binding in objects:
        if binding["kind"] not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        if not any((s["kind"], s["name"], s.get("namespace")) in accounts for s in binding["subjects"]):
            continue
        role_namespace = binding["metadata"].get("namespace") if binding["roleRef"]["kind"] == "Role" else None
        role = roles.get((binding["roleRef"]["kind"], role_namespace, binding["roleRef"]["name"]), {})
        found.append((binding["kind"], binding["metadata"].get("namespace"), role.get("rules")))
    return sorted(found, key=repr)


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_event_watching_gateway_gets_kubernetes_api_access(stack):
    # Static scrape targets, OTLP and log files need no API access. Watching Flux events needs
    # list and watch on events, in the watched namespaces only; never a ClusterRole.
    config = stack_config(stack)
    watched = config.event_namespaces if config.mode == "collector" else []
    releases = collector_releases(stack)
    for release in releases:
        assert release["values"]["clusterRole"] == {"create": False}
        watches_events = release["values"]["mode"] != "daemonset" and bool(watched)
        assert release["values"]["serviceAccount"]["automountServiceAccountToken"] is watches_events
    assert grants(core_objects(stack), releases) == [("RoleBinding", ns, EVENT_WATCH_RULES) for ns in watched]


def test_api_access_check_catches_a_cluster_wide_or_wider_grant():
    objects, releases = core_objects("dev"), collector_releases("dev")
    (binding,) = [
        obj for obj in objects
        if obj["kind"] == "RoleBinding" and obj["metadata"]["name"] == "flux-otel-gateway-events"
    ]
    cluster_wide = {**binding, "kind": "ClusterRoleBinding", "roleRef": {**binding["roleRef"], "kind": "ClusterRole"}}
    assert grants(objects + [cluster_wide], releases) != grants(objects, releases)
    (role,) = [
        obj for obj in objects if obj["kind"] == "Role" and obj["metadata"]["name"] == "flux-otel-gateway-events"
    ]
    wider = {**role, "rules": [{**role["rules"][0], "verbs": ["get", "list", "watch"]}]}
    assert grants([wider if obj is role else obj for obj in objects], releases) != [
        ("RoleBinding", "flux-system", EVENT_WATCH_RULES)
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_the_flux_namespace_gets_no_workloads(stack):
    for r in resources(stack):
        if r.type == HELM_RELEASE:
            assert r.inputs["namespace"] != c.FLUX_NAMESPACE, r.name
        elif r.inputs.get("kind") in WORKLOAD_KINDS and not r.type.endswith("Patch"):
            assert r.inputs["metadata"].get("namespace") != c.FLUX_NAMESPACE, r.name


@pytest.mark.parametrize("stack", STACKS)
def test_flux_objects_are_patched_never_owned(stack):
    flux_objects = {"Deployment": set(c.FLUX_CONTROLLERS), "Service": set(c.FLUX_SERVICES)}
    for r in resources(stack):
        metadata = r.inputs.get("metadata") or {}
        if (
            metadata.get("namespace") == c.FLUX_NAMESPACE
            and metadata.get("name") in flux_objects.get(r.inputs.get("kind"), ())
        ):
            assert r.type.endswith("Patch"), (
                f"{r.type} {metadata['name']} would own (and on destroy delete) Flux's object"
            )
        if r.type.endswith("Patch"):
            # A patch sets only pod-template annotations; deleting it removes just those fields.
            assert set(r.inputs) == {"apiVersion", "kind", "metadata", "spec"}
            assert r.inputs["spec"] == {
                "template": {"metadata": {"annotations": r.inputs["spec"]["template"]["metadata"]["annotations"]}}
            }
            assert set(r.inputs["spec"]["template"]["metadata"]["annotations"]) <= set(c.PROMETHEUS_SCRAPE_ANNOTATIONS)
