"""Area 8, real runtime: every object the example stacks render, applied to a real API server.

Each stack's rendered objects (all but Helm releases, whose charts are out of reach here) go to a
real kube-apiserver with Flux's and the shared CRDs by server-side apply, as the Pulumi provider
sends them; all must be accepted. The namespaces get the Pod Security labels the render gives them,
and the pod each release's chart would make (derived from its values, as the offline tests do) is
admitted by the real PodSecurity admission at the level its namespace enforces and refused one
level stricter.

The dash0-operator stack patches Flux's own Deployments. Those tests put Flux's stock manager
Deployments (from the controllers' modules, applied the way kustomize-controller applies them) in
place first and check server-side apply's ownership: the patch conflicts with nothing, leaves
Flux's fields alone, and removing it (what deleting a Patch resource does) gives Flux's object
back as it was.

Cleanup: no kube-controller-manager runs, so a deleted namespace would stay `Terminating` forever.
Every object a test creates is deleted one by one, then its namespaces are deleted and finalized
through the `finalize` subresource, as the namespace controller does once a namespace is empty.
Flux's namespace is the session's `flux_namespace` fixture (as Flux creates it), kept for the other
tests.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

import pytest

from components import constants as c
from components.tooling.render import masked, read_stack_file
from e2e.harness.flux import flux_deployment
from e2e.harness.kube import FLUX_MANAGER, HELM_RELEASE, ApiServer, rendered_manifest
from e2e.harness.pod_security import LEVELS, collector_pod, kube_state_metrics_pod, violations
from e2e.harness.render import ROOT, STACKS, run_stack

KSM_CHART = "kube-state-metrics"
POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
IGNORED_METADATA = ("managedFields", "resourceVersion", "generation")


# --- rendering ----------------------------------------------------------------------------------------
def rendered(stack: str):
    """The stack's resources; a stack that ships with an export token gets a real-looking one."""
    has_token = f"{c.PROJECT}:exportToken" in read_stack_file(ROOT, stack).config
    return run_stack(stack, secrets={"exportToken": "auth_e2e_token"} if has_token else None).resources


def field_manager(resource) -> str:
    """The provider gives each resource its own manager `pulumi-kubernetes-<random>`; here the
    suffix is derived from the logical name, so a rerun reuses it."""
    return "pulumi-kubernetes-" + hashlib.sha256(resource.name.encode()).hexdigest()[:8]


def release_pod(release: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod a release's chart renders (as tests/ derive it) and the ServiceAccount it runs as."""
    values = release["values"]
    build = {c.COLLECTOR_CHART: collector_pod, KSM_CHART: kube_state_metrics_pod}[release["chart"]]
    pod = copy.deepcopy(build(values))
    account = values.get("serviceAccount", {}).get("name") or values["fullnameOverride"]
    pod["metadata"]["namespace"] = release["namespace"]
    pod["spec"]["serviceAccountName"] = account
    service_account = {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": account, "namespace": release["namespace"]}}
    return pod, service_account


# --- cluster helpers -------------------------------------------------------------------------------------
# e2e/harness/pod_security.py's control names -> the check names PodSecurity admission reports
# (k8s.io/pod-security-admission policy checks; restricted reports hostPath as a volume type).
PSA_CHECKS = {
    "host namespaces": "host namespaces",
    "hostPath volumes": "hostPath volumes",
    "privileged containers": "privileged",
    "host ports": "hostPort",
    "seccomp": "seccompProfile",
    "privilege escalation": "allowPrivilegeEscalation != false",
    "running as non-root": "runAsNonRoot != true",
    "running as non-root user": "runAsUser=0",
    "volume types": "restricted volume types",
}


def psa_check(control: str, level: str) -> str:
    if control == "capabilities":
        return "unrestricted capabilities" if level == "restricted" else "non-default capabilities"
    if control == "hostPath volumes" and level == "restricted":
        return "restricted volume types"
    return PSA_CHECKS[control]


def psa_checks(stderr: str, pod_name: str, level: str) -> set[str]:
    """The checks named in the API server's refusal: `violates PodSecurity "<level>:latest":
    <check> (<detail>), <check> (<detail>), ...`."""
    prefix = f'pods "{pod_name}" is forbidden: violates PodSecurity "{level}:latest": '
    assert prefix in stderr, stderr
    detail = stderr.split(prefix, 1)[1].strip()
    return set(re.findall(r"(?:^|\), )([^()]+?) \(", detail))


def stricter(level: str) -> str | None:
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def without(obj: dict[str, Any], annotations: tuple[str, ...] = ()) -> dict[str, Any]:
    """The object minus what the API server changes on every write, and minus these pod-template
    annotations."""
    obj = copy.deepcopy(obj)
    for key in IGNORED_METADATA:
        obj["metadata"].pop(key, None)
    template_annotations = obj["spec"]["template"]["metadata"].get("annotations", {})
    for key in annotations:
        template_annotations.pop(key, None)
    return obj


def owned_template_annotations(deployment: dict[str, Any], manager: str) -> set[str]:
    """Pod-template annotations the manager owns through server-side apply (managedFields)."""
    owned = set()
    for entry in deployment["metadata"].get("managedFields", []):
        if entry["manager"] != manager or entry["operation"] != "Apply":
            continue
        fields = (entry.get("fieldsV1", {}).get("f:spec", {}).get("f:template", {})
                  .get("f:metadata", {}).get("f:annotations", {}))
        owned |= {key.removeprefix("f:") for key in fields if key.startswith("f:")}
    return owned


def live_object(kube: ApiServer, body: dict[str, Any]) -> dict[str, Any]:
    """The object as the API server holds it, managedFields included (kubectl hides them)."""
    namespace = ["-n", body["metadata"]["namespace"]] if "namespace" in body["metadata"] else []
    return kube.get(body["kind"], body["metadata"]["name"], *namespace, "--show-managed-fields")


def managers(obj: dict[str, Any]) -> set[str]:
    return {entry["manager"] for entry in obj["metadata"].get("managedFields", [])}


# --- every object of every stack ------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", STACKS)
def test_every_rendered_object_is_accepted_and_every_pod_admitted_where_it_runs(kube, flux_namespace, stack):
    resources = rendered(stack)
    namespace_resources = [r for r in resources if r.type == "kubernetes:core/v1:Namespace"]
    namespaces = [rendered_manifest(r) for r in namespace_resources]
    objects = [r for r in resources if r.custom and r.type != HELM_RELEASE and r not in namespace_resources]
    patches = [r for r in objects if r.type.endswith("Patch")]
    releases = [masked(r.inputs, reveal=True) for r in resources if r.type == HELM_RELEASE]
    assert namespaces and objects and releases
    assert c.FLUX_NAMESPACE not in {ns["metadata"]["name"] for ns in namespaces}, "Flux's namespace is never ours"
    for namespace in namespaces:
        assert namespace["metadata"]["labels"][c.POD_SECURITY_ENFORCE_LABEL] in LEVELS

    flux_deployments = [flux_deployment(rendered_manifest(p)["metadata"]["name"]) for p in patches]
    created: list[dict[str, Any]] = []
    check_namespaces: list[str] = []
    try:
        if flux_deployments:
            kube.apply(flux_deployments, field_manager=FLUX_MANAGER)
            created += flux_deployments
        for resource in namespace_resources:
            kube.apply([rendered_manifest(resource)], field_manager=field_manager(resource))
        # One request per object, each under its own manager and never forced, as the provider does.
        for resource in objects:
            body = rendered_manifest(resource)
            if not resource.type.endswith("Patch"):
                created.append(body)
            kube.apply([body], field_manager=field_manager(resource))
            live = live_object(kube, body)
            assert field_manager(resource) in managers(live), resource.name
        for namespace in namespaces:
            live = kube.get("namespace", namespace["metadata"]["name"])
            rendered_labels = {
                k: v for k, v in namespace["metadata"]["labels"].items() if k.startswith(POD_SECURITY_PREFIX)
            }
            live_labels = {k: v for k, v in live["metadata"]["labels"].items() if k.startswith(POD_SECURITY_PREFIX)}
            assert live_labels == rendered_labels

        levels = {ns["metadata"]["name"]: ns["metadata"]["labels"][c.POD_SECURITY_ENFORCE_LABEL] for ns in namespaces}
        for release in releases:
            pod, service_account = release_pod(release)
            level = levels[release["namespace"]]
            kube.create(service_account)
            created.append(service_account)
            admitted = kube.create(pod, check=False)
            assert admitted.returncode == 0, f"{release['name']} refused at {level}: {admitted.stderr}"
            assert "Warning" not in admitted.stderr, admitted.stderr
            created.append(pod)

            refusing_level = stricter(level)
            if refusing_level is None:
                continue  # restricted is the strictest level there is
            check_namespace = f"{release['namespace']}-psa-{refusing_level}"
            check_namespaces.append(check_namespace)
            kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {
                "name": check_namespace, "labels": {c.POD_SECURITY_ENFORCE_LABEL: refusing_level}}})
            moved_account = {
                **service_account, "metadata": {**service_account["metadata"], "namespace": check_namespace}
            }
            kube.create(moved_account)
            created.append(moved_account)
            moved_pod = {**pod, "metadata": {**pod["metadata"], "namespace": check_namespace}}
            refused = kube.create(moved_pod, check=False)
            assert refused.returncode != 0, f"{release['name']} was admitted at {refusing_level}"
            # The real admission names exactly the controls e2e/harness/pod_security.py finds broken.
            offline = violations(pod, refusing_level)
            assert offline, f"the offline check finds nothing wrong with {release['name']} at {refusing_level}"
            assert psa_checks(refused.stderr, pod["metadata"]["name"], refusing_level) == {
                psa_check(control, refusing_level) for control in offline
            }, refused.stderr
            host_path_volumes = [v["name"] for v in pod["spec"]["volumes"] if "hostPath" in v]
            if host_path_volumes and refusing_level == "baseline":
                names = ", ".join(f'"{name}"' for name in host_path_volumes)
                plural = "s" if len(host_path_volumes) > 1 else ""
                assert f"hostPath volumes (volume{plural} {names})" in refused.stderr, refused.stderr
    finally:
        kube.delete(created)
        for name in check_namespaces + [ns["metadata"]["name"] for ns in namespaces]:
            kube.delete_namespace(name)


# --- the operator mode's patches of Flux's Deployments -------------------------------------------------------
def operator_patches() -> list:
    patches = [r for r in rendered("dash0-operator") if r.type == "kubernetes:apps/v1:DeploymentPatch"]
    assert {rendered_manifest(p)["metadata"]["name"] for p in patches} == set(c.FLUX_DEFAULT_CONTROLLERS)
    return patches


def relinquish(kube: ApiServer, body: dict[str, Any], manager: str) -> None:
    """What deleting a Patch resource does (pulumi-kubernetes provider/pkg/ssa Relinquish): apply
    only the object's identity under the patch's manager, not forced, so it owns nothing after."""
    identity = {"apiVersion": body["apiVersion"], "kind": body["kind"],
                "metadata": {"name": body["metadata"]["name"], "namespace": body["metadata"]["namespace"]}}
    kube.apply([identity], field_manager=manager)


@pytest.mark.parametrize("patch", operator_patches(), ids=lambda p: p.inputs["metadata"]["name"])
def test_a_scrape_patch_shares_flux_fields_and_its_removal_gives_flux_its_deployment_back(kube, flux_namespace, patch):
    body = rendered_manifest(patch)
    ours = body["spec"]["template"]["metadata"]["annotations"]
    assert set(ours) == set(c.PROMETHEUS_SCRAPE_ANNOTATIONS)
    controller = body["metadata"]["name"]
    stock = flux_deployment(controller)
    flux_annotations = stock["spec"]["template"]["metadata"]["annotations"]
    # The stock install already sets two of the three, to the same values.
    shared = {key for key in ours if key in flux_annotations}
    assert shared == {"prometheus.io/scrape", "prometheus.io/port"}
    assert all(flux_annotations[key] == ours[key] for key in shared)
    only_ours = tuple(sorted(set(ours) - shared))
    manager = field_manager(patch)

    try:
        kube.apply([stock], field_manager=FLUX_MANAGER, force_conflicts=True)
        before = live_object(kube, stock)
        assert owned_template_annotations(before, FLUX_MANAGER) == set(flux_annotations)

        # The provider applies a Patch without forcing (pulumi.com/patchForce unset): no conflict.
        kube.apply([body], field_manager=manager)
        patched = live_object(kube, stock)
        assert patched["spec"]["template"]["metadata"]["annotations"] == {**flux_annotations, **ours}
        assert without(patched, only_ours) == without(before), "the patch changed a field of Flux's"
        # Every annotation the patch sets is ours; the two Flux set too are shared, not taken over.
        assert owned_template_annotations(patched, manager) == set(ours)
        assert owned_template_annotations(patched, FLUX_MANAGER) == set(flux_annotations)
        # A new pod template: in a cluster, Flux's controller rolls out once when the patch comes...
        assert patched["metadata"]["generation"] == before["metadata"]["generation"] + 1

        # Flux reconciles its manifest again (forcing ownership): the patch's own annotation stays.
        kube.apply([stock], field_manager=FLUX_MANAGER, force_conflicts=True)
        reconciled = live_object(kube, stock)
        assert reconciled["spec"]["template"]["metadata"]["annotations"] == {**flux_annotations, **ours}
        assert owned_template_annotations(reconciled, manager) == set(ours)
        assert reconciled["metadata"]["generation"] == patched["metadata"]["generation"]

        relinquish(kube, body, manager)
        after = live_object(kube, stock)
        # Fields only the patch owned are gone; the shared ones stay, since Flux still owns them.
        assert after["spec"]["template"]["metadata"]["annotations"] == flux_annotations
        assert without(after) == without(before), "removing the patch left Flux's Deployment changed"
        assert manager not in managers(after)
        assert owned_template_annotations(after, FLUX_MANAGER) == set(flux_annotations)
        # ...and once more when it goes, since `prometheus.io/path` leaves the pod template.
        assert after["metadata"]["generation"] == patched["metadata"]["generation"] + 1
    finally:
        kube.delete([stock])


def test_a_scrape_patch_never_overrides_a_value_flux_sets_differently(kube, flux_namespace):
    """Without patchForce, a Flux install that sets a scrape annotation to another value makes the
    patch fail on a conflict instead of silently taking the field from Flux."""
    patch = operator_patches()[0]
    body = rendered_manifest(patch)
    controller = body["metadata"]["name"]
    customised = flux_deployment(controller)
    customised["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "9797"

    try:
        kube.apply([customised], field_manager=FLUX_MANAGER, force_conflicts=True)
        before = live_object(kube, customised)
        refused = kube.apply([body], field_manager=field_manager(patch), check=False)
        assert refused.returncode != 0
        assert 'Apply failed with 1 conflict: conflict with "kustomize-controller"' in refused.stderr, refused.stderr
        assert ".spec.template.metadata.annotations.prometheus.io/port" in refused.stderr, refused.stderr
        assert live_object(kube, customised) == before
    finally:
        kube.delete([customised])
