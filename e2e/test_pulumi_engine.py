"""`pulumi preview`, `up`, a second `up`, `preview --diff` and `destroy` of the dev, prod and
dash0-operator stacks, run by the real Pulumi engine and Kubernetes provider against the real API
server and kube-controller-manager (e2e/harness/engine.py says how the program runs, e2e/harness/controllers.py
what stands in for the scheduler and kubelet).

What only the engine and the provider decide is checked against what the offline render shows:
the objects created, object by object; that a second `up` changes nothing; that the token is
encrypted in the state and held by no object but its Secret; that a one-key change previews as
that one change; that the dash0-operator stack's scrape patches roll Flux's controllers out with
their annotations; that `destroy` removes everything of ours and leaves Flux's own objects as they
were; and that the real charts, served from a loopback repository (e2e/harness/charts.py), roll out
the rendered configuration.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import yaml
from pulumi import automation as auto

from components import constants as c
from components.builders import manifests, receiver_auth
from components.builders.collector_configs import AGENT_JOB, NODE_LABEL
from components.config import parse_stack_config
from components.tooling.render import masked, read_stack_file
from e2e.harness.charts import chart_overrides
from e2e.harness.controllers import node_root, pod_output
from e2e.harness.engine import Engine, differences_from_render, render_with_live_uids
from e2e.harness.flux import rolled_out
from e2e.harness.kube import (
    FLUX_MANAGER,
    HELM_RELEASE,
    ApiServer,
    contains,
    kubectl_target,
    rendered_manifest,
    wait_until,
)
from e2e.harness.pods import pod_logs_dir
from e2e.harness.programs import KUBERNETES_PROVIDER_VERSION
from e2e.harness.render import ROOT

STACKS = ("dev", "prod", "dash0-operator")
TOKEN = "engine-tier-token-7d3f9a"
# Fields the API server sets or moves; the rest of a live object must hold what was rendered.
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
# Annotations the controllers move with every rollout, a patch's removal included: the deployment
# controller's revision count, and the endpoints controller's time of the pod change it followed.
ROLLOUT_ANNOTATIONS = ("deployment.kubernetes.io/revision", "endpoints.kubernetes.io/last-change-trigger-time")


def secrets_of(stack: str) -> dict[str, str]:
    return {"exportToken": TOKEN} if stack == "prod" else {}


def flux_objects(cluster: ApiServer) -> dict[str, Any]:
    """Flux's own Deployments, Services and Namespace as the API server holds them."""
    live = {}
    for kind in ("deployments", "services", "endpoints"):
        for obj in cluster.get(kind, "-n", c.FLUX_NAMESPACE)["items"]:
            if not obj["metadata"]["name"].endswith("-metrics"):
                live[f"{kind}/{obj['metadata']['name']}"] = comparable(obj)
    live["namespace"] = comparable(cluster.get("namespace", c.FLUX_NAMESPACE))
    return live


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    obj = json.loads(json.dumps(obj))
    for key in SERVER_METADATA:
        obj["metadata"].pop(key, None)
    annotations = obj["metadata"].get("annotations", {})
    for key in ROLLOUT_ANNOTATIONS:
        annotations.pop(key, None)
    if not annotations:
        obj["metadata"].pop("annotations", None)
    obj.pop("status", None)
    # A rollout gives the pods new IPs: an Endpoints object compares by its ports and how many
    # ready addresses it has.
    if obj["kind"] == "Endpoints":
        obj["subsets"] = [{"ports": subset.get("ports"), "addresses": len(subset.get("addresses", []))}
                          for subset in obj.get("subsets", [])]
    return obj


# What the tier changes in a stack beyond its chart repositories: the dev stack's debug exporter
# prints whole records and its gateway scrapes every 5 s, so what arrives can be read within seconds.
TUNING = {"dev": {"exporter": {"verbosity": "detailed"}, "gateway": {"scrapeInterval": "5s"}}}


def tuned(stack: str, repository: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The overrides the offline render takes (whole sections) and the `--path` config the engine's
    stack takes, for the charts served at `repository` and TUNING."""
    overrides = chart_overrides(stack, repository)
    config = {f"{section}.chartRepository": repository for section in overrides}
    settings = read_stack_file(ROOT, stack).plain_settings()
    for section, keys in TUNING.get(stack, {}).items():
        overrides[section] = {**settings.get(section, {}), **overrides.get(section, {}), **keys}
        config.update({f"{section}.{key}": value for key, value in keys.items()})
    return overrides, config


@dataclass
class Deployment:
    name: str
    engine: Engine
    stack: Any
    rendering: Any
    preview: Any
    up: Any
    flux_before: dict[str, Any]


@pytest.fixture(scope="module", params=STACKS)
def deployed(request, cluster, charts, tmp_path_factory) -> Iterator[Deployment]:
    name = request.param
    engine = Engine(tmp_path_factory.mktemp(f"engine-{name}"))
    overrides, config = tuned(name, charts.url)
    stack = engine.stack(name, kubeconfig=cluster.admin_kubeconfig, config=config, secrets=secrets_of(name))
    before = flux_objects(cluster)
    preview = stack.preview()
    up = stack.up()
    rendering = render_with_live_uids(cluster, name, overrides, secrets=secrets_of(name))
    deployment = Deployment(name, engine, stack, rendering, preview, up, before)
    yield deployment
    exported = stack.export_stack().deployment
    assert exported is not None  # the stack has been deployed
    if exported.get("resources"):
        stack.destroy()


def custom_resources(rendering) -> dict[tuple[str, str], Any]:
    return {(r.type, r.name): r for r in rendering.resources if r.custom}


def state_resources(stack) -> dict[tuple[str, str], dict[str, Any]]:
    resources = stack.export_stack().deployment["resources"]
    return {(r["type"], r["urn"].rsplit("::", 1)[1]): r for r in resources
            if r.get("custom") and not r["type"].startswith("pulumi:providers:")}


# --- the tests, in the order a stack lives through them ---------------------------------------------
def test_preview_and_up_succeed_with_only_the_built_plugins(deployed):
    assert deployed.engine.plugins() == [f"resource-kubernetes-v{KUBERNETES_PROVIDER_VERSION}"]
    assert deployed.preview.change_summary == {"create": deployed.up.summary.resource_changes["create"]}


def test_up_creates_exactly_the_objects_the_offline_render_shows(deployed, cluster):
    assert set(state_resources(deployed.stack)) == set(custom_resources(deployed.rendering))
    assert not differences_from_render(cluster, deployed.rendering)


# The pod volumes the charts mount their configuration from (opentelemetry-collector-0.170.0
# templates/_pod.tpl; kube-state-metrics-8.4.0 templates/deployment.yaml).
CONFIG_VOLUMES = {c.COLLECTOR_CHART: "opentelemetry-collector-configmap", c.KSM_CHART: "customresourcestate-config"}


def chart_workload(cluster: ApiServer, release: str, namespace: str) -> dict[str, Any]:
    """The one workload the release's chart created (the charts label it with the release)."""
    found = [item for kind in ("deployments", "statefulsets", "daemonsets")
             for item in cluster.get(kind, "-n", namespace, "-l", f"app.kubernetes.io/instance={release}")["items"]]
    assert len(found) == 1, f"{release}: {[(w['kind'], w['metadata']['name']) for w in found]}"
    return found[0]


def mounted_config(cluster: ApiServer, workload: dict[str, Any], volume_name: str) -> dict[str, Any]:
    """The ConfigMap the workload's pods mount as `volume_name`, its one key parsed."""
    volumes = [v for v in workload["spec"]["template"]["spec"].get("volumes", []) if v["name"] == volume_name]
    assert len(volumes) == 1, f"{workload['kind']} {workload['metadata']['name']} mounts no {volume_name}"
    (volume,) = volumes
    configmap = cluster.get("configmap", volume["configMap"]["name"], "-n", workload["metadata"]["namespace"])
    (text,) = configmap["data"].values()
    return yaml.safe_load(text)


def test_the_real_charts_roll_out_the_rendered_configuration(deployed, cluster):
    """The packaged charts' own templates (../shared/charts) ran: each release's workload is of the
    rendered mode and rolled out, and the ConfigMap its pods mount holds exactly the rendered
    collector config, or kube-state-metrics' custom-resource-state config."""
    for resource in deployed.rendering.resources:
        if resource.type != HELM_RELEASE:
            continue
        inputs = masked(resource.inputs)
        values = inputs["values"]
        workload = chart_workload(cluster, inputs["name"], inputs["namespace"])
        if inputs["chart"] == c.COLLECTOR_CHART:
            assert workload["kind"].lower() == values["mode"]
            assert mounted_config(cluster, workload, CONFIG_VOLUMES[c.COLLECTOR_CHART]) == values["alternateConfig"]
        else:
            assert mounted_config(cluster, workload, CONFIG_VOLUMES[c.KSM_CHART]) == \
                values["customResourceState"]["config"]
        status, replicas = workload.get("status", {}), workload["spec"].get("replicas")
        ready = status.get("numberReady") if workload["kind"] == "DaemonSet" else status.get("readyReplicas")
        want = status.get("desiredNumberScheduled") if workload["kind"] == "DaemonSet" else replicas
        assert want and ready == want, f"{workload['kind']} {workload['metadata']['name']}: {status}"


NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def label_selector(selector: dict[str, Any]) -> str:
    return ",".join(f"{key}={value}" for key, value in selector["matchLabels"].items())


def test_the_network_policies_select_the_pods_the_real_charts_create(deployed, cluster):
    """Each NetworkPolicy the stack renders is accepted, selects pods the real charts created, and
    admits sources that exist: pods, and namespaces by the name label the API server gives every
    namespace. Nothing here enforces them (that takes a network plugin; docs/least-privilege.md)."""
    policies = [masked(r.inputs)["metadata"] for r in deployed.rendering.resources if r.type == NETWORK_POLICY]
    assert bool(policies) == (deployed.name != "dash0-operator")
    for metadata in policies:
        namespace = metadata["namespace"]
        live = cluster.get("networkpolicy", metadata["name"], "-n", namespace)["spec"]
        selected = cluster.get("pods", "-n", namespace, "-l", label_selector(live["podSelector"]))["items"]
        assert selected, f"NetworkPolicy {namespace}/{metadata['name']} selects no pod"
        for peer in (peer for rule in live["ingress"] for peer in rule["from"]):
            if "podSelector" in peer:
                assert cluster.get("pods", "-n", namespace, "-l", label_selector(peer["podSelector"]))["items"], peer
            else:
                assert cluster.get("namespaces", "-l", label_selector(peer["namespaceSelector"]))["items"], peer


def chart_pods(cluster: ApiServer, workload: dict[str, Any]) -> list[dict[str, Any]]:
    selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
    return cluster.get("pods", "-n", workload["metadata"]["namespace"], "-l", selector)["items"]


def unreachable(name: str) -> dict[str, Any]:
    """A GitRepository whose URL refuses connections: in source-controller's own network nothing
    listens on port 9. Each test fails its own: notification-controller drops an event whose object
    (kind, namespace, name) and message repeat one of the last five minutes, whatever the object's
    UID, so a second failure of the same object would send no span (notification-controller@v1.9.3:
    main.go `--rate-limit-interval`, internal/server/event_server.go `eventKeyFunc`)."""
    return {"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": name, "namespace": c.FLUX_NAMESPACE},
            "spec": {"url": "http://127.0.0.1:9/app.git", "interval": "1m", "timeout": "5s"}}


def arrived(name: str) -> dict[str, tuple[str, ...]]:
    """What the gateway's debug exporter (detailed) prints once each signal of that failure
    arrived: lines that one resource's block of its output holds together."""
    return {
        "source-controller's error line, through the log agent": (
            "service.name: Str(source-controller)", "Body: Str(Reconciler error)", "SeverityText: error",
            f"name: Str({name})"),
        "its Event, through the events receiver": (
            "k8sobjectsreceiver", "reason: Str(GitOperationFailed)", f"name: Str({name})"),
        "notification-controller's span for the Event": (
            f"Name           : GitRepository: {c.FLUX_NAMESPACE}/{name}", "Status code    : Error"),
        "source-controller's metrics, scraped": ("gotk_reconcile_duration_seconds", "kind: Str(GitRepository)"),
        "kube-state-metrics' object health, scraped": (
            "gotk_resource_info", f"name: Str({name})", "reason: Str(GitOperationFailed)"),
    }


# Where the debug exporter starts a resource's block.
BLOCK_START = re.compile(r"\b(?:ResourceLog|ResourceSpans|ResourceMetrics) #\d+$", re.MULTILINE)


def exporter_blocks(output: str) -> list[str]:
    """The debug exporter's blocks in a container's CRI log, one per resource it printed."""
    text = "\n".join(line.split(" ", 3)[3] for line in output.splitlines() if line.count(" ") >= 3)
    starts = [match.start() for match in BLOCK_START.finditer(text)]
    return [text[start:end] for start, end in zip(starts, starts[1:] + [len(text)])]


def printed(cluster: ApiServer, pod: dict[str, Any], lines: tuple[str, ...]) -> bool:
    """Whether one resource's block of the pod's debug exporter output holds all `lines`."""
    return any(all(line in block for line in lines) for block in exporter_blocks(pod_output(cluster, pod)))


def fail_and_follow(cluster: ApiServer, gateway: dict[str, Any], name: str, signals: list[str]) -> None:
    """Fails the GitRepository `name` until the gateway pod printed each of `signals` (keys of
    `arrived`), then deletes it."""
    cluster.apply([unreachable(name)])
    try:
        def missing() -> list[str]:
            return [what for what in signals if not printed(cluster, gateway, arrived(name)[what])]
        try:
            wait_until(lambda: not missing(), timeout=120, what=f"each signal of {name}'s failure at the gateway pod")
        except TimeoutError:
            raise AssertionError(f"never arrived: {missing()}") from None
    finally:
        cluster.kubectl("delete", "gitrepository", name, "-n", c.FLUX_NAMESPACE, "--wait=false")


def test_the_chart_pods_run_and_deliver_a_flux_failure_to_the_exporter(deployed, cluster):
    """The releases' pods run from the real charts' pod specs (the kubelet stand-in, e2e/harness/pods.py)
    and are ready by their own probes. Then a GitRepository that cannot be fetched makes the real
    source-controller fail, and the gateway's own debug exporter prints what the real programs
    delivered along the rendered paths: the controller's log line (file_log on the node's pod
    logs, then OTLP to the gateway's Service), its Event (the events receiver), the span
    notification-controller sent for it (the Provider's address, the gateway's Service), and the
    metrics scraped from Flux's controllers and from kube-state-metrics."""
    if deployed.name not in TUNING:
        pytest.skip("only the dev stack exports to a debug exporter of its own")
    gateway = None
    for resource in deployed.rendering.resources:
        if resource.type != HELM_RELEASE:
            continue
        inputs = masked(resource.inputs)
        workload = chart_workload(cluster, inputs["name"], inputs["namespace"])
        pods = chart_pods(cluster, workload)
        assert pods, f"{inputs['name']}: no pods"
        for pod in pods:
            statuses = pod["status"]["containerStatuses"]
            assert all(s["ready"] and "running" in s["state"] for s in statuses), (pod["metadata"]["name"], statuses)
        if inputs["chart"] == c.COLLECTOR_CHART and inputs["values"]["mode"] != "daemonset":
            (gateway,) = pods
    assert gateway is not None
    fail_and_follow(cluster, gateway, "unreachable", list(arrived("unreachable")))


def test_the_log_agent_labels_its_own_metrics_with_its_node(deployed, cluster):
    """The agent's pod learns its node's name from the kubelet (`fieldRef: spec.nodeName`), and its
    own metrics reach the gateway with it as the `node` label."""
    if deployed.name not in TUNING:
        pytest.skip("only the dev stack exports to a debug exporter of its own")
    config = parse_stack_config(read_stack_file(ROOT, deployed.name).plain_settings())
    (agent,) = chart_pods(cluster, chart_workload(cluster, config.log_agent.release_name, config.log_agent.namespace))
    node = agent["spec"]["nodeName"]
    assert node
    (gateway,) = chart_pods(cluster, chart_workload(cluster, config.gateway.release_name, config.gateway.namespace))
    wanted = (f"service.name: Str({AGENT_JOB})", f"{NODE_LABEL}: Str({node})")
    wait_until(lambda: printed(cluster, gateway, wanted), timeout=120,
               what=f"the agent's own metrics labelled {NODE_LABEL}={node} at the gateway")


def test_scrape_patches_roll_flux_out_with_their_annotations_beside_flux_fields(deployed, cluster):
    patches = [r for r in custom_resources(deployed.rendering).values() if r.type.endswith(":DeploymentPatch")]
    if not patches:
        pytest.skip("only the dash0-operator stack patches Flux's Deployments")
    for resource in patches:
        manifest = rendered_manifest(resource)
        wanted = manifest["spec"]["template"]["metadata"]["annotations"]
        deployment = cluster.live(manifest)
        assert rolled_out(deployment) and contains(deployment["spec"]["template"]["metadata"]["annotations"], wanted)
        fields = cluster.get(*kubectl_target(manifest), "--show-managed-fields")["metadata"]["managedFields"]
        assert FLUX_MANAGER in {entry["manager"] for entry in fields}
        selector = ",".join(f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items())
        pods = [pod for pod in cluster.get("pods", "-n", c.FLUX_NAMESPACE, "-l", selector)["items"]
                if not pod["metadata"].get("deletionTimestamp")]
        assert pods and all(contains(pod["metadata"].get("annotations"), wanted) for pod in pods), manifest["metadata"]


def test_a_second_up_changes_nothing(deployed):
    again = deployed.stack.up()
    assert set(again.summary.resource_changes) == {"same"}, again.summary.resource_changes


def live_tokens(cluster: ApiServer, namespace: str, release: str) -> dict[int, str]:
    """The receiver tokens the gateway's namespace holds, by generation."""
    prefix = receiver_auth.token_secret_name(release, 0)[:-1]
    return {int(secret["metadata"]["name"].removeprefix(prefix)):
            base64.b64decode(secret["data"][receiver_auth.TOKEN_KEY]).decode()
            for secret in cluster.get("secrets", "-n", namespace)["items"]
            if secret["metadata"]["name"].startswith(prefix)}


def namespace_output(cluster: ApiServer, namespace: str) -> str:
    """All that every pod of the namespace wrote, those deleted by a rollout included."""
    pods = pod_logs_dir(node_root(cluster))
    return "".join(path.read_text(errors="replace") for path in sorted(pods.glob(f"{namespace}_*/*/*.log")))


def readable(obj: dict[str, Any]) -> str:
    """An object as JSON, with a Secret's data decoded too."""
    decoded = [base64.b64decode(value).decode(errors="replace") for value in obj.get("data", {}).values()]
    return json.dumps(obj) + "".join(decoded) if obj["kind"] == "Secret" else json.dumps(obj)


def test_the_receiver_tokens_are_encrypted_in_the_state_and_held_only_by_their_secrets(deployed, cluster):
    if deployed.name == "dash0-operator":
        pytest.skip("the operator's collector takes no receiver token")
    config = parse_stack_config(read_stack_file(ROOT, deployed.name).plain_settings())
    gateway, agent = config.gateway, config.log_agent
    tokens = live_tokens(cluster, gateway.namespace, gateway.release_name)
    assert sorted(tokens) == [0, 1, 2]
    state = deployed.engine.state_file(deployed.name).read_text()
    writers = {f"Secret/{agent.namespace}/{receiver_auth.token_secret_name(agent.release_name, 1)}",
               f"Secret/{c.FLUX_NAMESPACE}/{manifests.provider_secret_name(config.tracing.provider_name)}"}
    objects = [obj for kind in ("secrets", "configmaps", "deployments", "statefulsets", "daemonsets", "services")
               for obj in cluster.get(kind, "-A")["items"]]
    for generation, token in tokens.items():
        assert token not in state and base64.b64encode(token.encode()).decode() not in state
        holders = {f"{obj['kind']}/{obj['metadata']['namespace']}/{obj['metadata']['name']}"
                   for obj in objects if token in readable(obj)}
        own = f"Secret/{gateway.namespace}/{receiver_auth.token_secret_name(gateway.release_name, generation)}"
        assert holders == ({own} | writers if generation == 1 else {own})
        for namespace in (gateway.namespace, agent.namespace, c.FLUX_NAMESPACE):
            assert token not in namespace_output(cluster, namespace)


def test_a_rotation_keeps_the_tokens_made_and_refuses_no_writer(deployed, cluster):
    """`gateway.receiverAuth.generation` raised by one: the engine keeps the tokens it made (the
    current becomes the previous, the next the current), makes one new, and the writers switch;
    the real log agent and notification-controller, restarted or not, are never refused, and
    deliver through the gateway pod the rotation started."""
    if deployed.name not in TUNING:
        pytest.skip("only the dev stack's pods print what arrives")
    config = parse_stack_config(read_stack_file(ROOT, deployed.name).plain_settings())
    namespace, release = config.gateway.namespace, config.gateway.release_name
    before = live_tokens(cluster, namespace, release)
    assert sorted(before) == [0, 1, 2] and len(set(before.values())) == 3
    deployed.stack.set_config(f"{c.PROJECT}:gateway.receiverAuth.generation", auto.ConfigValue("2"), path=True)
    deployed.stack.up()
    after = live_tokens(cluster, namespace, release)
    assert sorted(after) == [1, 2, 3] and {1: before[1], 2: before[2]} == {n: after[n] for n in (1, 2)}
    assert after[3] not in before.values()
    agent_namespace, agent_release = config.log_agent.namespace, config.log_agent.release_name
    copies = {secret["metadata"]["name"]: base64.b64decode(secret["data"][receiver_auth.TOKEN_KEY]).decode()
              for secret in cluster.get("secrets", "-n", agent_namespace)["items"]
              if secret["metadata"]["name"].startswith(f"{agent_release}-receiver-token-")}
    assert copies == {receiver_auth.token_secret_name(agent_release, 2): after[2]}
    provider_secret = cluster.get("secret", "otel-auth", "-n", c.FLUX_NAMESPACE)
    headers = yaml.safe_load(base64.b64decode(provider_secret["data"][c.PROVIDER_SECRET_HEADERS_KEY]))
    assert headers == {c.AUTHORIZATION_HEADER: f"Bearer {after[2]}"}
    (pod,) = [pod for pod in chart_pods(cluster, chart_workload(cluster, release, namespace))
              if not pod["metadata"].get("deletionTimestamp")]
    fail_and_follow(cluster, pod, "unreachable-after-rotation",
                    ["source-controller's error line, through the log agent",
                     "notification-controller's span for the Event"])
    # The collector's exporter logs a refusal as `code = Unauthenticated`, Flux's otel notifier
    # as the HTTP status `401 Unauthorized`.
    assert "Unauthenticated" not in namespace_output(cluster, agent_namespace)
    assert "Unauthorized" not in namespace_output(cluster, c.FLUX_NAMESPACE)
    preview = deployed.stack.preview()
    assert set(preview.change_summary) == {"same"}, preview.stdout


def test_the_token_is_encrypted_in_the_state_and_held_only_by_its_secret(deployed, cluster):
    if deployed.name != "prod":
        pytest.skip("only the prod stack has an export token")
    state = deployed.engine.state_file(deployed.name).read_text()
    assert TOKEN not in state and base64.b64encode(TOKEN.encode()).decode() not in state
    assert "ciphertext" in state
    encoded = base64.b64encode(TOKEN.encode()).decode()
    holders = []
    for kind in ("secrets", "configmaps", "deployments", "daemonsets", "services"):
        for obj in cluster.get(kind, "-A")["items"]:
            text = json.dumps(obj)
            if TOKEN in text or encoded in text:
                holders.append(f"{kind}/{obj['metadata']['namespace']}/{obj['metadata']['name']}")
    (secret,) = [manifest for r in custom_resources(deployed.rendering).values()
                 if r.type == "kubernetes:core/v1:Secret"
                 for manifest in [rendered_manifest(r)] if TOKEN in manifest.get("stringData", {}).values()]
    assert holders == [f"secrets/{secret['metadata']['namespace']}/{secret['metadata']['name']}"]


def test_a_one_key_change_previews_as_that_change_only(deployed):
    deployed.stack.set_config(f"{c.PROJECT}:tracing.eventSeverity", auto.ConfigValue("error"), path=True)
    try:
        preview = deployed.stack.preview(diff=True)
    finally:
        deployed.stack.remove_config(f"{c.PROJECT}:tracing.eventSeverity", path=True)
    changes = {key: count for key, count in preview.change_summary.items() if key != "same"}
    assert changes == {"update": 1}, preview.stdout
    assert '~ eventSeverity: "info" => "error"' in preview.stdout, preview.stdout


def test_destroy_removes_ours_and_leaves_flux_as_it_was(deployed, cluster):
    deployed.stack.destroy()
    left = [resource.name for resource in custom_resources(deployed.rendering).values()
            if resource.type != HELM_RELEASE and not resource.type.endswith("Patch")
            and cluster.live(rendered_manifest(resource)) is not None]
    assert not left
    # Removing a scrape patch rolls Flux's controllers out again: their pods start afresh and
    # become ready, and the Endpoints follow.
    try:
        wait_until(lambda: flux_objects(cluster) == deployed.flux_before, timeout=120,
                   what="Flux's objects to be as they were")
    except TimeoutError:
        assert flux_objects(cluster) == deployed.flux_before
