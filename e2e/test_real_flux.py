"""Real Flux end to end: Flux's own controllers reconcile real sources on loopback, with real faults,
and every signal is checked where a user sees it, at the backend, after the package's pipeline.

Flux: source-, kustomize-, helm- and notification-controller, the real binaries (e2e/harness/flux_controllers.py),
against a real API server, their output in kubelet's CRI layout under the pods directory.
Sources: a Git server (`git http-backend`, e2e/harness/git_server.py), a Helm repository and an OCI
registry (the Distribution registry), all on loopback.
The package: the `prod` stack's rendered gateway and log agent (the real collector),
kube-state-metrics with the rendered custom-resource-state configuration, and the rendered
Provider and Alert in the API server; the gateway exports to a sink (a second collector).

The story, driven once for the module (`history`), each step waited on in the API server:
- GitRepository `app` and Kustomization `app` apply commit A (healthy), then B (an invalid
  manifest: BuildFailed), then C (healthy again);
- Kustomization `dependent` depends on `app` (DependencyNotReady while B is applied);
- Kustomization `paused` is suspended; GitRepository `unreachable` points where nothing listens;
- HelmRelease `demo` from the Helm repository installs chart 1.0.0, fails to upgrade to 1.1.0 (the
  chart fails to render), upgrades to 1.2.0 and then to new values; HelmRelease `oci-demo` installs a chart from
  the OCI registry (e2e/harness/oci_registry.py) through OCIRepository `oci-demo`;
- `app` reconciled more than ten times at C, so that client-go's EventCorrelator combines its
  success events;
- Kustomization `delivery`, from a repository of its own, starts without an artifact, applies a
  baseline and then five revisions: one applies, one does not build, one applies, one waits on a
  Deployment that never becomes ready until its health check fails, and the last one applies
  (the delivery figures).
The API server is read only to know what to expect; what is asserted is what reached the sink.

The sink also hands every metric to a real Prometheus (e2e/harness/prometheus.py), which evaluates the
rendered PrometheusRule, its windows shortened through their stack keys (`ALERT_WINDOWS`). After
the story, more faults, each fixed again: a HelmRelease upgrade that waits for a Deployment that
never becomes ready; a Git host that accepts and never answers (holding source-controller's
workers); kube-state-metrics stopped; helm-controller stopped; kustomize-controller watching a
label no object carries while commit D arrives. Each alert is waited on in Prometheus' own alert
state (`Judged`); the dashboards' queries run against it at the end.

Time is compressed in two places: the gateway scrapes every 2 s instead of the rendered interval,
and the alert windows are seconds instead of minutes.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from components import constants as c
from components.builders import delivery
from components.builders.collector_configs import OBJECT_HEALTH_JOB
from components.builders.plan import Plan
from components.config import parse_stack_config, prometheus_duration_seconds
from components.tooling.render import read_stack_file
from e2e.harness.charts import Chart, ChartRepository
from e2e.harness.collector import (
    Collector,
    Received,
    Sink,
    attributes,
    collector_configs,
    gateway_and_agent,
    kubelet_env,
    localize,
    loopback_address,
    zap_ts_ns,
)
from e2e.harness.flux import apply_tracing, flux_trace_id, install_crds, install_flux_namespace
from e2e.harness.flux_controllers import flux_controllers, metrics_hosts
from e2e.harness.git_server import GitServer, SilentServer
from e2e.harness.kube import ApiServer, control_plane, kubeconfig_auth, wait_until
from e2e.harness.kube_state_metrics import (
    TEXT_ACCEPT,
    health_release,
    rbac_objects,
    start_kube_state_metrics,
)
from e2e.harness.oci_registry import HELM_CHART_CONTENT, registry
from e2e.harness.prometheus import Prometheus, PrometheusError, wait_firing, wait_resolved
from e2e.harness.real_flux import (
    ALERT_WINDOWS,
    DELIVERY_FILE,
    DELIVERY_INTERVAL,
    JUDGEMENT_FILE,
    NEVER_RAN,
    PANELS_FILE,
    SCRAPE_INTERVAL,
    TICKING,
)
from e2e.harness.render import ROOT, by_kind, releases

STACK = "prod"
SECRETS = {"exportToken": "auth_e2e"}
NS = c.FLUX_NAMESPACE
# Generous bounds for one reconciliation, or for a signal to cross agent, gateway and sink, on a
# busy 2-core machine.
RECONCILE_SECONDS = 90
ARRIVAL_SECONDS = 90
COMBINED_PREFIX = "(combined from similar events): "
# More than client-go's EventCorrelator lets through alone (maxEvents 10 within 10 minutes).
SIMILAR_EVENTS = 12

# A bound for an alert to fire or resolve: its window, plus a scrape, a batch and an evaluation,
# on a busy 2-core machine.
ALERT_SECONDS = 120
# The Git host that never answers: enough GitRepositories on it to hold every source-controller
# worker (`--concurrent`, 2 by default), and a clone timeout the test never reaches.
STALLED_SOURCES = ("stalled-1", "stalled-2")
STALLED_TIMEOUT = "10m"

# Every Flux kind at the version Flux 2.9 serves.
RESOURCES = {r.kind: r for kinds in c.FLUX_RESOURCES_BY_CONTROLLER.values() for r in kinds}


def configmap(name: str, step: str) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"},
                           "data": {"step": step}})


COMMITS = {
    "A": {"deploy/app.yaml": configmap("app", "A"), "dependent/dependent.yaml": configmap("dependent", "A")},
    # Not a Kubernetes object: kustomize cannot build the directory (BuildFailed).
    "B": {"deploy/app.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: [not, an, object]\n",
          "dependent/dependent.yaml": configmap("dependent", "B")},
    "C": {"deploy/app.yaml": configmap("app", "C"), "dependent/dependent.yaml": configmap("dependent", "C")},
    # Pushed while kustomize-controller watches nothing (drive_unwatched_objects): held behind.
    "D": {"deploy/app.yaml": configmap("app", "D"), "dependent/dependent.yaml": configmap("dependent", "D")},
}

# A Deployment no controller ever marks available (nothing here runs its pods).
NEVER_READY_DEPLOYMENT = yaml.safe_dump({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "never-ready", "namespace": "default"},
    "spec": {"selector": {"matchLabels": {"app": "never-ready"}},
             "template": {"metadata": {"labels": {"app": "never-ready"}},
                          "spec": {"containers": [{"name": "app", "image": "registry.invalid/never:1"}]}}}})
# Kustomization `delivery`'s history: (what the commit is, its files, the Ready reason it ends in).
APPLIED, BUILD_FAILED, HEALTH_CHECK_FAILED = "ReconciliationSucceeded", "BuildFailed", "HealthCheckFailed"
DELIVERY_COMMITS = [
    ("baseline", {"deploy/app.yaml": configmap("delivery", "1")}, APPLIED),
    ("second", {"deploy/app.yaml": configmap("delivery", "2")}, APPLIED),
    ("not an object", {"deploy/app.yaml": COMMITS["B"]["deploy/app.yaml"]}, BUILD_FAILED),
    ("fixed", {"deploy/app.yaml": configmap("delivery", "4")}, APPLIED),
    ("never ready", {"deploy/app.yaml": configmap("delivery", "5"), "deploy/never-ready.yaml": NEVER_READY_DEPLOYMENT},
     HEALTH_CHECK_FAILED),
    ("fixed again", {"deploy/app.yaml": configmap("delivery", "6")}, APPLIED),
]
# kustomize-controller waits this long for the health checks, and retries a failure as often, so
# Ready goes Unknown and False again while `delivery` is broken.
DELIVERY_TIMEOUT = "5s"
CONFIGMAP_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}
data:
  chart: {{ .Chart.Version | quote }}
"""
CHARTS = [
    Chart("demo", "1.0.0", (("configmap.yaml", CONFIGMAP_TEMPLATE),), "Renders one ConfigMap.", "1.0.0"),
    Chart("demo", "1.1.0", (("configmap.yaml", '{{ fail "demo 1.1.0 refuses to render" }}\n'),),
          "Fails to render.", "1.1.0"),
    Chart("demo", "1.2.0", (("configmap.yaml", CONFIGMAP_TEMPLATE),), "Renders one ConfigMap.", "1.2.0"),
]
# A Deployment no controller ever marks available (nothing here runs its pods), so an upgrade that
# waits for it takes until its timeout.
NEVER_READY_TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      containers: [{name: app, image: registry.invalid/never:1}]
"""
CHARTS += [
    Chart("waits", "1.0.0", (("configmap.yaml", CONFIGMAP_TEMPLATE),), "Renders one ConfigMap.", "1.0.0"),
    Chart("waits", "1.1.0", (("configmap.yaml", CONFIGMAP_TEMPLATE), ("deployment.yaml", NEVER_READY_TEMPLATE)),
          "Adds a Deployment that never becomes ready.", "1.1.0"),
    Chart("waits", "1.2.0", (("configmap.yaml", CONFIGMAP_TEMPLATE),), "Renders one ConfigMap again.", "1.2.0"),
]
# How long helm-controller waits for the `waits` 1.1.0 upgrade: longer than the slow threshold.
WAIT_TIMEOUT = "30s"
# Pushed to the OCI registry; a HelmRelease installs it through an OCIRepository.
OCI_CHART = Chart("oci-demo", "1.0.0", (("configmap.yaml", CONFIGMAP_TEMPLATE),), "Renders one ConfigMap.", "1.0.0")
OCI_REPOSITORY = "charts/oci-demo"


def plural(kind: str) -> str:
    """The kind as kubectl names it unambiguously: `<plural>.<group>`."""
    return f"{RESOURCES[kind].plural}.{RESOURCES[kind].group}"


def flux_object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    resource = RESOURCES[kind]
    return {"apiVersion": f"{resource.group}/{resource.version}", "kind": kind,
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


def delivery_objects(url: str) -> list[dict[str, Any]]:
    """GitRepository and Kustomization `delivery`; the source suspended, so that the Kustomization
    starts without an artifact (ArtifactFailed), as a new one whose source is not ready yet."""
    return [
        flux_object("GitRepository", "delivery", {"url": url, "ref": {"branch": "main"}, "interval": "1h",
                                                  "suspend": True}),
        flux_object("Kustomization", "delivery", {
            "sourceRef": {"kind": "GitRepository", "name": "delivery"}, "path": "./deploy", "prune": True,
            "interval": "1h", "wait": True, "timeout": DELIVERY_TIMEOUT, "retryInterval": DELIVERY_TIMEOUT}),
    ]


def scenario_objects(git_url: str, helm_url: str, registry: str) -> list[dict[str, Any]]:
    # Long intervals: every reconciliation here is one the test asks for, so each step is known.
    source = {"kind": "GitRepository", "name": "app"}
    return [
        flux_object("GitRepository", "app", {"url": git_url, "ref": {"branch": "main"}, "interval": "1h"}),
        # An address of its own, where nothing listens.
        flux_object("GitRepository", "unreachable", {"url": f"http://{loopback_address((80,))}/gone.git",
                                                     "ref": {"branch": "main"}, "interval": "1h"}),
        flux_object("Kustomization", "app", {"sourceRef": source, "path": "./deploy", "prune": True,
                                             "interval": "1h"}),
        flux_object("Kustomization", "dependent", {"sourceRef": source, "path": "./dependent", "prune": True,
                                                   "interval": "1h", "dependsOn": [{"name": "app"}]}),
        flux_object("Kustomization", "paused", {"sourceRef": source, "path": "./deploy", "prune": True,
                                                "interval": "1h", "suspend": True}),
        flux_object("HelmRepository", "charts", {"url": helm_url, "interval": "1h"}),
        flux_object("HelmRelease", "demo", {"interval": "1h", "targetNamespace": "default", "chart": {"spec": {
            "chart": "demo", "version": "1.0.0", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}),
        flux_object("OCIRepository", "oci-demo", {
            "url": f"oci://{registry}/{OCI_REPOSITORY}", "ref": {"tag": OCI_CHART.version}, "insecure": True,
            "interval": "1h", "layerSelector": {"mediaType": HELM_CHART_CONTENT, "operation": "copy"}}),
        flux_object("HelmRelease", "oci-demo", {"interval": "1h", "targetNamespace": "default",
                                                "chartRef": {"kind": "OCIRepository", "name": "oci-demo"}}),
    ]


# --- reading the API server -------------------------------------------------------------------------
def live(kube: ApiServer, kind: str, name: str) -> dict[str, Any]:
    return kube.get(plural(kind), name, "-n", NS)


def ready_condition(obj: dict[str, Any]) -> dict[str, Any]:
    return next((cond for cond in obj.get("status", {}).get("conditions", []) if cond["type"] == "Ready"), {})


def reconcile(kube: ApiServer, kind: str, name: str) -> str:
    """Asks the controller to reconcile now (`flux reconcile` does the same); returns the token."""
    token = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kube.kubectl("annotate", "--overwrite", plural(kind), name, "-n", NS, f"reconcile.fluxcd.io/requestedAt={token}")
    return token


def handled(kube: ApiServer, kind: str, name: str, token: str) -> dict[str, Any] | None:
    obj = live(kube, kind, name)
    return obj if obj.get("status", {}).get("lastHandledReconcileAt") == token else None


def wait_for(kube: ApiServer, kind: str, name: str, what: str, predicate) -> dict[str, Any]:
    """The object once `predicate(obj)` holds."""
    def check():
        obj = live(kube, kind, name)
        return obj if predicate(obj) else None
    return wait_until(check, timeout=RECONCILE_SECONDS, what=f"{kind} {name}: {what}", interval=0.5)


def is_ready(status: str, reason: str | None = None):
    def check(obj: dict[str, Any]) -> bool:
        cond = ready_condition(obj)
        return cond.get("status") == status and (reason is None or cond.get("reason") == reason) \
            and cond.get("observedGeneration", obj["metadata"]["generation"]) == obj["metadata"]["generation"]
    return check


def health_labels(obj: dict[str, Any]) -> dict[str, str]:
    """What gotk_resource_info should say of `obj`: its Ready status and reason, suspension and
    revision as the API server has them (labels with empty values are absent in Prometheus)."""
    resource = RESOURCES[obj["kind"]]
    cond = ready_condition(obj)
    # Without a Ready condition (never reconciled, as a suspended object created suspended) the
    # documented series says Unknown (builders/kube_state_metrics.py commonLabels).
    labels = {"ready": cond.get("status", "Unknown"), "reason": cond.get("reason", ""),
              "suspended": str(obj["spec"].get("suspend", False)).lower(),
              "revision": at_path(obj, resource.revision), c.FLUX_RELEASE_LABEL: at_path(obj, resource.release)}
    return {k: v for k, v in labels.items() if v}


def at_path(obj: dict[str, Any], path: tuple[str, ...]) -> str:
    """The value at a kube-state-metrics path (`[key=value]` picks a list's first such item), as
    a label shows it; empty where there is none."""
    value: Any = obj if path else None
    for step in path:
        if step.startswith("[") and isinstance(value, list):
            key, _, want = step[1:-1].partition("=")
            value = next((item for item in value if item.get(key) == want), {})
        else:
            value = value.get(step, {}) if isinstance(value, dict) else {}
    return str(value) if isinstance(value, (str, int)) else ""


# --- reading the sink -------------------------------------------------------------------------------
def data_points(metric: Received) -> list[dict[str, Any]]:
    for kind in ("gauge", "sum", "histogram", "summary"):
        if kind in metric.item:
            return metric.item[kind].get("dataPoints", [])
    return []


def health_at_sink(sink: Sink) -> dict[tuple[str, str], dict[str, str]]:
    """(kind, name) -> labels of the newest gotk_resource_info point of each Flux-namespace object
    (staleness markers, which the receiver sends for a series that went away, left out)."""
    newest: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
    for metric in sink.metrics():
        if metric["name"] != c.FLUX_RESOURCE_INFO_METRIC:
            continue
        for point in data_points(metric):
            if point.get("flags", 0) & 1:
                continue
            labels = attributes(point.get("attributes", []))
            if labels.get("exported_namespace") != NS:
                continue
            key, at = (labels["kind"], labels["name"]), int(point["timeUnixNano"])
            if key not in newest or at >= newest[key][0]:
                newest[key] = (at, {k: labels[k] for k in ("ready", "reason", "suspended", "revision",
                                                           c.FLUX_RELEASE_LABEL) if k in labels})
    return {key: labels for key, (_, labels) in newest.items()}


# --- judging the alerts ----------------------------------------------------------------------------
@dataclass
class Judged:
    """One alert on its fault: when the fault began and was fixed, and when Prometheus fired the
    alert and resolved it (seconds since the epoch, as this machine saw each)."""

    alert: str
    labels: dict[str, str]
    """Labels the alert must carry to be this fault's (a subset of its labels)."""
    fault: str
    faulted_at: float
    fired_at: float = 0.0
    fixed_at: float = 0.0
    resolved_at: float = 0.0
    fired: dict[str, Any] = field(default_factory=dict)
    """The alert as Prometheus fired it: labels and expanded annotations."""


def write_judgement(path: Path, judged: list[Judged]) -> None:
    """The timings, for bench/detection.py."""
    path.write_text(json.dumps([{key: value for key, value in vars(each).items() if key != "fired"}
                                for each in judged], indent=1))


def judge_fired(prometheus: Prometheus, judged: Judged) -> Judged:
    """Waits for the alert to fire; one that does not is left with `fired_at` 0 for the test to show."""
    try:
        judged.fired = wait_firing(prometheus, judged.alert, ALERT_SECONDS, **judged.labels)
        judged.fired_at = prometheus.fired_at(judged.fired)
    except TimeoutError:
        pass
    return judged


def judge_resolved(prometheus: Prometheus, judged: Judged, fixed_at: float) -> None:
    judged.fixed_at = fixed_at
    try:
        wait_resolved(prometheus, judged.alert, ALERT_SECONDS, **judged.labels)
        judged.resolved_at = prometheus.resolved_at(judged.alert, judged.labels, fixed_at)
    except TimeoutError:
        pass


def object_judged(kind: str, name: str, fault: str, faulted_at: float) -> Judged:
    alert = "FluxHelmReleaseNotReady" if kind == "HelmRelease" else "FluxObjectNotReady"
    return Judged(alert, {"kind": kind, "name": name}, fault, faulted_at)


def expected(judged: list[Judged]) -> list[dict[str, str]]:
    return [{"alertname": each.alert, **each.labels} for each in judged]


@dataclass
class Quiet:
    """A stretch of the run in which only the `expected` alerts (subsets of their labels) may fire."""

    name: str
    start: float
    end: float
    expected: list[dict[str, str]]


# --- the run ----------------------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    want: dict[tuple[str, str], dict[str, str]]
    seen: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


@dataclass
class Delivered:
    """Kustomization `delivery`'s history as the API server told it, each time as the object says
    it (conditions and artifacts carry whole seconds)."""

    baseline: str
    deployed: dict[str, float] = field(default_factory=dict)
    """Each revision applied after the baseline -> when (Ready turned True with it)."""
    stored: dict[str, float] = field(default_factory=dict)
    """Each revision -> when source-controller stored its artifact."""
    incidents: list[tuple[float, float]] = field(default_factory=list)
    """(Ready turned False, Ready turned True again) of each failure."""
    retries: list[bool] = field(default_factory=list)
    """For each failure: the backend saw a retry move Ready's transition time on."""
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    """The Kustomization's status.history at the end."""


@dataclass
class History:
    """What the run left at the sink, and what the API server and the controllers said."""

    sink: Sink
    alert_uid: str
    config: Any
    """The stack's validated configuration (what its rules and dashboards read)."""
    revisions: dict[str, str]
    steps: list[Step]
    lines: dict[str, list[str]]
    exposed: dict[str, set[str]]
    """Series names each controller and kube-state-metrics served at the end."""
    events: list[dict[str, Any]]
    oci_digest: str
    """The digest of the OCI chart's manifest, as the registry stored it."""
    prometheus: Prometheus
    judged: list[Judged]
    quiet: list[Quiet]
    started_at: float
    dashboards: list[dict[str, Any]]
    """The rendered PersesDashboard objects."""
    workdir: Path
    delivered: Delivered
    demo_incident: tuple[float, float]
    """HelmRelease `demo`: Ready turned False on chart 1.1.0, and True again on 1.2.0."""
    demo_chart_stored: float
    """When `demo`'s HelmChart stored chart 1.2.0."""
    demo_releases: list[str]
    """The numbers of the Helm releases `demo` deployed after its install: chart 1.2.0, then new values."""
    similar_events: tuple[float, float]
    """When `app` was reconciled again and again at one revision."""


TRACKED = [("GitRepository", "app"), ("GitRepository", "unreachable"), ("Kustomization", "app"),
           ("Kustomization", "dependent"), ("Kustomization", "paused"), ("HelmRelease", "demo"),
           ("OCIRepository", "oci-demo"), ("HelmRelease", "oci-demo")]


def record_step(kube: ApiServer, sink: Sink, name: str, reasons: dict[tuple[str, str], str]) -> Step:
    """The step's health as the API server has it and as the sink has it, once the two agree while
    each object of `reasons` is in that Ready reason (or the last seen, for the assertion to show).
    Both are read afresh each time: a failing HelmRelease flaps between `Progressing` and its
    failure while helm-controller retries, a render failure counting as no attempt."""
    step = Step(name, {})

    def agrees() -> bool:
        step.want = {key: health_labels(live(kube, *key)) for key in TRACKED}
        health = health_at_sink(sink)
        step.seen = {key: health.get(key, {}) for key in TRACKED}
        in_step = all(step.want[key].get("reason") == reason for key, reason in reasons.items())
        return in_step and step.seen == step.want

    try:
        wait_until(agrees, timeout=ARRIVAL_SECONDS, what=f"step {name}'s object health at the sink", interval=1)
    except TimeoutError:
        pass
    return step


def pipeline_config(rendering, hosts: dict[str, str], ksm_host: str, sink: Sink,
                    workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rendered gateway config localized (scraping this run's controllers and
    kube-state-metrics, exporting to the sink), and the rendered agent config."""
    gateway, agent = gateway_and_agent(collector_configs(rendering))
    local = copy.deepcopy(gateway)
    resolve = {f"{name}-metrics.{NS}.svc": host for name, host in hosts.items()}
    for job in local["receivers"]["prometheus"]["config"]["scrape_configs"]:
        job["scrape_interval"] = SCRAPE_INTERVAL
        if job["job_name"] == OBJECT_HEALTH_JOB:
            resolve.update({target.rsplit(":", 1)[0]: ksm_host
                            for static in job["static_configs"] for target in static["targets"]})
    local = kubeconfig_auth(localize(local, workdir=workdir / "gateway", export_to=sink, scrape_host=resolve))
    return local, agent


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Iterator[History]:
    workdir = tmp_path_factory.mktemp("real-flux")
    pods = workdir / "pods"
    with control_plane(workdir / "kube") as kube, GitServer(workdir / "git") as git, \
            ChartRepository(workdir / "charts", CHARTS) as charts, registry(workdir / "registry") as oci:
        oci_digest = oci.push_chart(OCI_REPOSITORY, OCI_CHART)
        install_crds(kube)
        install_flux_namespace(kube)
        gateway_host, ksm_host, hosts = loopback_address(), loopback_address((c.KSM_METRICS_PORT,)), metrics_hosts()
        settings = read_stack_file(ROOT, STACK).plain_settings()
        overrides = {"alerts": ALERT_WINDOWS, "delivery": {"interval": DELIVERY_INTERVAL}}
        rendering, uid, _ = apply_tracing(kube, overrides, secrets=SECRETS, stack=STACK,
                                          gateway=f"http://{gateway_host}:{c.OTLP_HTTP_PORT}")
        release = health_release(releases(rendering.resources))
        kube.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": release["namespace"]}}])
        kube.apply(rbac_objects(release))
        (rule,) = by_kind(rendering.resources, "PrometheusRule")
        prometheus = Prometheus(workdir / "prometheus", rule["spec"]["groups"], host=loopback_address(()))
        sink = Sink(workdir / "sink", metrics_to=prometheus.otlp_endpoint)
        gateway_local, agent_config = pipeline_config(rendering, hosts, ksm_host, sink, workdir)
        # Each collector with its Secrets' values, as the kubelet hands them over (the receiver tokens).
        gateway = Collector("gateway", gateway_local, workdir / "gateway", host=gateway_host,
                            env={"KUBECONFIG": str(kube.admin_kubeconfig), **kubelet_env(rendering)})
        agent = Collector("agent", localize(agent_config, workdir=workdir / "agent",
                                            export_to=gateway.otlp_grpc_endpoint, pod_logs=pods), workdir / "agent",
                          env=kubelet_env(rendering, agent_config))
        ksm_config = copy.deepcopy(release["values"]["customResourceState"]["config"])

        def start_ksm():
            (workdir / "kube-state-metrics").mkdir(exist_ok=True)
            return start_kube_state_metrics(kube, release, copy.deepcopy(ksm_config), workdir / "kube-state-metrics",
                                            host=ksm_host, port=c.KSM_METRICS_PORT)

        ksm = [start_ksm()]
        try:
            with prometheus, sink, gateway, agent:
                with flux_controllers(kube, workdir / "flux", pods, hosts) as flux:
                    started_at = time.time()
                    git_url = git.repository("app")
                    revisions = {"A": git.commit("app", COMMITS["A"], "A: healthy")}
                    kube.apply(scenario_objects(git_url, charts.url, oci.address), field_manager="e2e-flux-user")
                    steps = [drive_a(kube, sink, revisions)]
                    judged, quiet_a = judge_a(prometheus, started_at, [
                        name for name in settings["flux"]["controllers"] if name not in c.FLUX_DEFAULT_CONTROLLERS])
                    faulted_at = time.time()
                    revisions["B"] = git.commit("app", COMMITS["B"], "B: an invalid manifest")
                    step, demo_failed = drive_b(kube, sink, revisions)
                    steps.append(step)
                    broken = judge_b(prometheus, faulted_at)
                    quiet_a.end = faulted_at
                    fixed_at = time.time()
                    revisions["C"] = git.commit("app", COMMITS["C"], "C: fixed")
                    step, demo_restored = drive_c(kube, sink, revisions)
                    steps.append(step)
                    demo_chart = wait_for(kube, "HelmChart", f"{NS}-demo", "stored chart 1.2.0",
                                          lambda o: o.get("status", {}).get("artifact", {}).get("revision") == "1.2.0")
                    demo_releases = drive_values_change(kube, prometheus)
                    for each in broken:
                        judge_resolved(prometheus, each, fixed_at)
                    quiet_c = Quiet("C", time.time(), 0.0, quiet_a.expected)
                    drive_similar_events(kube)
                    quiet_c.end = time.time()
                    delivered = drive_delivery(kube, git, prometheus)
                    judged += broken + drive_slow_release(kube, prometheus) + drive_stalled_source(kube, prometheus)
                    judged.append(drive_object_health_down(prometheus, ksm, start_ksm))
                    exposed = {name: series_names(running.metrics()) for name, running in flux.running.items()}
                    exposed["kube-state-metrics"] = {name for name, _, _ in ksm[0].scrape(TEXT_ACCEPT).samples}
                    events = kube.get("events", "-n", NS)["items"]
                    wait_for_spans(sink, uid, lambda: flux.outputs["notification-controller"].lines())
                    judged += drive_controller_down(prometheus, flux, hosts["helm-controller"])
                    judged += drive_unwatched_objects(kube, prometheus, flux, git)
                # The controllers have stopped: their files are complete.
                lines = {name: output.lines() for name, output in flux.outputs.items()}
                wait_for_spans(sink, uid, lambda: lines["notification-controller"])
                wait_until(lambda: all(len(service_logs(sink, name)) >= len(lines[name]) for name in lines),
                           timeout=ARRIVAL_SECONDS, what="every controller line at the sink", interval=1)
                wait_until(lambda: event_keys(events) <= event_keys_at(sink), timeout=ARRIVAL_SECONDS,
                           what="every Event at the sink", interval=1)
                write_judgement(workdir / JUDGEMENT_FILE, judged)
                config = parse_stack_config({**settings, **overrides})
                yield History(sink, uid, config, revisions, steps, lines, exposed, events, oci_digest, prometheus,
                              judged, [quiet_a, quiet_c], started_at, by_kind(rendering.resources, "PersesDashboard"),
                              workdir, delivered, (demo_failed, demo_restored),
                              stamp(demo_chart["status"]["artifact"]["lastUpdateTime"]), demo_releases,
                              (quiet_c.start, quiet_c.end))
        finally:
            ksm[0].process.stop()
            for part in (agent, gateway, sink, prometheus):
                part.stop()


def applied(revision: str):
    def check(obj: dict[str, Any]) -> bool:
        return obj.get("status", {}).get("lastAppliedRevision") == revision and is_ready("True")(obj)
    return check


def failed(revision: str, reason: str):
    def check(obj: dict[str, Any]) -> bool:
        return obj.get("status", {}).get("lastAttemptedRevision") == revision and is_ready("False", reason)(obj)
    return check


def stamp(time_text: str) -> float:
    """An API server time (RFC 3339, whole seconds) in Unix seconds."""
    return datetime.fromisoformat(time_text.replace("Z", "+00:00")).timestamp()


def turned(obj: dict[str, Any]) -> float:
    """When the object's Ready condition last changed."""
    return stamp(ready_condition(obj)["lastTransitionTime"])


def upgrade(kube: ApiServer, name: str, version: str, outcome) -> float:
    """Moves the HelmRelease to chart `version`, as a commit to its spec would; waits for `outcome`
    and returns when Ready turned to it, as first seen."""
    kube.kubectl("patch", plural("HelmRelease"), name, "-n", NS, "--type=merge",
                 "-p", json.dumps({"spec": {"chart": {"spec": {"version": version}}}}))
    return turned(wait_for(kube, "HelmRelease", name, f"the outcome of chart {version}", outcome))


def drive_a(kube: ApiServer, sink: Sink, revisions: dict[str, str]) -> Step:
    wait_for(kube, "Kustomization", "app", "applied A", applied(revisions["A"]))
    wait_for(kube, "Kustomization", "dependent", "applied A", is_ready("True"))
    wait_for(kube, "GitRepository", "unreachable", "refused", is_ready("False", "GitOperationFailed"))
    wait_for(kube, "HelmRelease", "demo", "installed 1.0.0", is_ready("True", "InstallSucceeded"))
    wait_for(kube, "HelmRelease", "oci-demo", "installed from the OCI chart", is_ready("True", "InstallSucceeded"))
    return record_step(kube, sink, "A", {("Kustomization", "app"): "ReconciliationSucceeded",
                                         ("GitRepository", "unreachable"): "GitOperationFailed",
                                         ("HelmRelease", "demo"): "InstallSucceeded",
                                         ("HelmRelease", "oci-demo"): "InstallSucceeded"})


def drive_b(kube: ApiServer, sink: Sink, revisions: dict[str, str]) -> tuple[Step, float]:
    """Step B, and when `demo` turned not Ready."""
    reconcile(kube, "GitRepository", "app")
    wait_for(kube, "GitRepository", "app", "stored B",
             lambda o: o.get("status", {}).get("artifact", {}).get("revision") == revisions["B"])
    wait_for(kube, "Kustomization", "app", "failed on B",
             lambda o: o.get("status", {}).get("lastAttemptedRevision") == revisions["B"]
             and is_ready("False", "BuildFailed")(o))
    reconcile(kube, "Kustomization", "dependent")
    wait_for(kube, "Kustomization", "dependent", "waiting on app", is_ready("False", "DependencyNotReady"))
    demo_failed = upgrade(kube, "demo", "1.1.0", is_ready("False", "UpgradeFailed"))
    return record_step(kube, sink, "B", {("Kustomization", "app"): "BuildFailed",
                                         ("Kustomization", "dependent"): "DependencyNotReady",
                                         ("HelmRelease", "demo"): "UpgradeFailed"}), demo_failed


def drive_c(kube: ApiServer, sink: Sink, revisions: dict[str, str]) -> tuple[Step, float]:
    """Step C, and when `demo` turned Ready again."""
    reconcile(kube, "GitRepository", "app")
    for name in ("app", "dependent"):
        wait_for(kube, "Kustomization", name, "applied C", applied(revisions["C"]))
    demo_restored = upgrade(kube, "demo", "1.2.0", is_ready("True", "UpgradeSucceeded"))
    return record_step(kube, sink, "C", {("Kustomization", "app"): "ReconciliationSucceeded",
                                         ("Kustomization", "dependent"): "ReconciliationSucceeded",
                                         ("HelmRelease", "demo"): "UpgradeSucceeded"}), demo_restored


def judge_a(prometheus: Prometheus, started_at: float, absent_controllers: list[str]) -> tuple[list[Judged], Quiet]:
    """At A the faults are a source where nothing listens, a suspended object and the configured
    controllers that do not run here; each pages, and from then on nothing else does."""
    judged = [object_judged("GitRepository", "unreachable", "a Git host where nothing listens", started_at),
              Judged("FluxObjectSuspended", {"kind": "Kustomization", "name": "paused"}, "a suspended Kustomization",
                     started_at)]
    # Absent since Prometheus started: absent_over_time holds at its first evaluation.
    judged += [Judged("FluxControllerMetricsAbsent", {"flux_controller": name}, f"{name} {NEVER_RAN}",
                      prometheus.started_at) for name in absent_controllers]
    for each in judged:
        judge_fired(prometheus, each)
    return judged, Quiet("A", time.time(), 0.0, expected(judged))


def judge_b(prometheus: Prometheus, faulted_at: float) -> list[Judged]:
    """B breaks `app` and `demo`; `dependent` waits on `app` and must not page."""
    return [judge_fired(prometheus, object_judged("Kustomization", "app", "commit B does not build", faulted_at)),
            judge_fired(prometheus, object_judged("HelmRelease", "demo", "chart 1.1.0 fails to render", faulted_at))]


def drive_slow_release(kube: ApiServer, prometheus: Prometheus) -> list[Judged]:
    """HelmRelease `waits` installs quickly, then upgrades to a chart whose Deployment never becomes
    ready and waits until its timeout; the fix is the next chart version, without it."""
    spec = {"interval": "1h", "timeout": WAIT_TIMEOUT, "targetNamespace": "default", "chart": {"spec": {
        "chart": "waits", "version": "1.0.0", "sourceRef": {"kind": "HelmRepository", "name": "charts"}}}}
    kube.apply([flux_object("HelmRelease", "waits", spec)], field_manager="e2e-flux-user")
    wait_for(kube, "HelmRelease", "waits", "installed 1.0.0", is_ready("True", "InstallSucceeded"))
    faulted_at = time.time()
    fault = "an upgrade that waits for a Deployment that never becomes ready"
    upgrade(kube, "waits", "1.1.0", is_ready("False", "UpgradeFailed"))
    judged = [judge_fired(prometheus, Judged("FluxReconcileSlow", {"kind": "HelmRelease", "name": "waits"}, fault,
                                             faulted_at)),
              judge_fired(prometheus, object_judged("HelmRelease", "waits", fault, faulted_at))]
    fixed_at = time.time()
    upgrade(kube, "waits", "1.2.0", is_ready("True", "UpgradeSucceeded"))
    for each in judged:
        judge_resolved(prometheus, each, fixed_at)
    return judged


def drive_stalled_source(kube: ApiServer, prometheus: Prometheus) -> list[Judged]:
    """GitRepositories on a Git host that never answers hold every source-controller worker while
    `app` waits in the queue; the host going away (connections closed) is the fix."""
    fault = "a Git host that accepts and never answers"
    with SilentServer() as silent:
        faulted_at = time.time()
        kube.apply([flux_object("GitRepository", name, {"url": silent.url, "ref": {"branch": "main"}, "interval": "1h",
                                                        "timeout": STALLED_TIMEOUT}) for name in STALLED_SOURCES],
                   field_manager="e2e-flux-user")
        wait_until(lambda: silent.held >= len(STALLED_SOURCES), timeout=RECONCILE_SECONDS,
                   what="every source-controller worker held by the silent Git host")
        reconcile(kube, "GitRepository", "app")
        judged = [judge_fired(prometheus, Judged("FluxWorkqueueStuck", {"name": "gitrepository"}, fault, faulted_at)),
                  judge_fired(prometheus, Judged("FluxWorkersSaturated", {"controller": "gitrepository"}, fault,
                                                 faulted_at))]
        fixed_at = time.time()
    for each in judged:
        judge_resolved(prometheus, each, fixed_at)
    kube.kubectl("delete", plural("GitRepository"), *STALLED_SOURCES, "-n", NS)
    return judged


def drive_unwatched_objects(kube: ApiServer, prometheus: Prometheus, flux, git: GitServer) -> list[Judged]:
    """Kustomization `ticking` reconciles every few seconds; kustomize-controller is restarted with
    a label selector no Kustomization carries, so it runs, is scraped and reconciles nothing, and
    commit D, which source-controller fetches, is applied nowhere; the fix is a restart with the
    controller's usual flags."""
    name, alert, labels = "kustomize-controller", "FluxNotReconciling", {"controller": "kustomization"}
    kube.apply([flux_object("Kustomization", "ticking", {
        "sourceRef": {"kind": "GitRepository", "name": "app"}, "path": "./deploy", "namePrefix": "ticking-",
        "prune": True, "interval": TICKING})], field_manager="e2e-flux-user")
    # Healthy: the reconciler finishes reconciliations within every window, so the alert (active
    # until now: the story's Kustomizations reconcile hourly) resolves.
    wait_resolved(prometheus, alert, ALERT_SECONDS, **labels)
    faulted_at = time.time()
    flux.running[name].process.stop()
    flux.restart(name, args={"watch-label-selector": "e2e.fluxcd-otel/shard=none"})
    fault = "kustomize-controller watching a label no object carries"
    revision = git.commit("app", COMMITS["D"], "D: held behind")
    reconcile(kube, "GitRepository", "app")
    wait_for(kube, "GitRepository", "app", "stored D",
             lambda o: o.get("status", {}).get("artifact", {}).get("revision") == revision)
    judged = [judge_fired(prometheus, Judged(alert, labels, fault, faulted_at)),
              judge_fired(prometheus, Judged("FluxKustomizationBehindSource", {"kind": "Kustomization", "name": "app"},
                                             f"{fault}, commit D fetched", faulted_at))]
    fixed_at = time.time()
    flux.running[name].process.stop()
    flux.restart(name)
    for each in judged:
        judge_resolved(prometheus, each, fixed_at)
    kube.kubectl("delete", plural("Kustomization"), "ticking", "-n", NS)
    return judged


def drive_object_health_down(prometheus: Prometheus, ksm: list, start_ksm) -> Judged:
    """kube-state-metrics stopped, then started again (`ksm` holds the running one)."""
    faulted_at = time.time()
    ksm[0].process.stop()
    judged = judge_fired(prometheus, Judged("FluxObjectHealthDown", {"job": OBJECT_HEALTH_JOB},
                                            "kube-state-metrics stopped", faulted_at))
    fixed_at = time.time()
    ksm[0] = start_ksm()
    judge_resolved(prometheus, judged, fixed_at)
    return judged


def drive_controller_down(prometheus: Prometheus, flux, metrics_host: str) -> list[Judged]:
    """helm-controller stopped, then started again."""
    name, fault = "helm-controller", "helm-controller stopped"
    faulted_at = time.time()
    flux.running[name].process.stop()
    judged = [judge_fired(prometheus, Judged("FluxControllerDown",
                                             {"instance": f"{metrics_host}:{c.FLUX_METRICS_PORT}"},
                                             fault, faulted_at)),
              judge_fired(prometheus, Judged("FluxControllerMetricsAbsent", {"flux_controller": name},
                                             fault, faulted_at))]
    fixed_at = time.time()
    flux.restart(name)
    for each in judged:
        judge_resolved(prometheus, each, fixed_at)
    return judged


def deployed_release(obj: dict[str, Any]) -> str:
    """The number of the Helm release a HelmRelease runs, as `helm_revision` says it."""
    return at_path(obj, RESOURCES["HelmRelease"].release)


def drive_values_change(kube: ApiServer, prometheus: Prometheus) -> list[str]:
    """`demo`, at chart 1.2.0, upgraded with new values only (a new Helm release of the same chart);
    returns the release numbers it deployed since its install."""
    upgraded = deployed_release(live(kube, "HelmRelease", "demo"))
    recorded(prometheus, f'{delivery.APPLIED}{{name="demo",{c.FLUX_RELEASE_LABEL}="{upgraded}"}}')
    kube.kubectl("patch", plural("HelmRelease"), "demo", "-n", NS, "--type=merge",
                 "-p", json.dumps({"spec": {"values": {"note": "a values change"}}}))
    changed = wait_for(kube, "HelmRelease", "demo", "upgraded with new values",
                       lambda o: is_ready("True", "UpgradeSucceeded")(o) and deployed_release(o) != upgraded)
    recorded(prometheus, f'{delivery.APPLIED}{{name="demo",{c.FLUX_RELEASE_LABEL}="{deployed_release(changed)}"}}')
    return [upgraded, deployed_release(changed)]


def drive_similar_events(kube: ApiServer) -> None:
    """Reconciles `app` at C until its success events are combined by client-go."""
    for _ in range(SIMILAR_EVENTS):
        token = reconcile(kube, "Kustomization", "app")
        wait_until(lambda: handled(kube, "Kustomization", "app", token), timeout=RECONCILE_SECONDS,
                   what="Kustomization app to handle a reconcile request", interval=0.2)
    wait_until(lambda: any(e["message"].startswith(COMBINED_PREFIX) for e in kube.get("events", "-n", NS)["items"]),
               timeout=RECONCILE_SECONDS, what="a combined Event")


def recorded(prometheus: Prometheus, query: str) -> None:
    """Waits until Prometheus holds what `query` selects (a scraped or a recorded series); a miss is
    left for the test to show."""
    try:
        wait_until(lambda: prometheus.query(query), timeout=ARRIVAL_SECONDS, what=query, interval=0.5)
    except TimeoutError:
        pass


def suspend(kube: ApiServer, kind: str, name: str, suspended: bool) -> None:
    """`flux suspend` / `flux resume`."""
    kube.kubectl("patch", plural(kind), name, "-n", NS, "--type=merge",
                 "-p", json.dumps({"spec": {"suspend": suspended}}))


def drive_delivery(kube: ApiServer, git: GitServer, prometheus: Prometheus) -> Delivered:
    """Kustomization `delivery` through DELIVERY_COMMITS, each outcome waited on in the API server and
    then in the rules' own series: a state shorter than one scrape interval can go unseen
    (docs/delivery.md), and the story is about what is seen. It starts not Ready, its source not
    fetched yet, which is no failure. Each revision after the baseline is held back, the
    Kustomization suspended, until the backend has its artifact, so that every lead time is
    seconds long and not the same second as its artifact."""
    url = git.repository("delivery")
    what, files, _ = DELIVERY_COMMITS[0]
    baseline = git.commit("delivery", files, what)
    kube.apply(delivery_objects(url), field_manager="e2e-flux-user")
    wait_for(kube, "Kustomization", "delivery", "waiting for its source's artifact",
             is_ready("False", "ArtifactFailed"))
    recorded(prometheus, f'{delivery.READY}{{name="delivery"}} == 0')
    suspend(kube, "GitRepository", "delivery", False)
    wait_for(kube, "Kustomization", "delivery", "applied the baseline", applied(baseline))
    recorded(prometheus, f'{delivery.APPLIED}{{name="delivery",revision="{baseline}"}}')
    delivered = Delivered(baseline)
    failed_at = 0.0
    for what, files, outcome in DELIVERY_COMMITS[1:]:
        suspend(kube, "Kustomization", "delivery", True)
        revision = git.commit("delivery", files, what)
        reconcile(kube, "GitRepository", "delivery")
        source = wait_for(kube, "GitRepository", "delivery", f"stored {what}",
                          lambda o: o.get("status", {}).get("artifact", {}).get("revision") == revision)
        delivered.stored[revision] = stamp(source["status"]["artifact"]["lastUpdateTime"])
        recorded(prometheus, f'{c.FLUX_ARTIFACT_TIME_METRIC}{{name="delivery",revision="{revision}"}}')
        suspend(kube, "Kustomization", "delivery", False)
        if outcome == APPLIED:
            delivered.deployed[revision] = turned(wait_for(kube, "Kustomization", "delivery", f"applied {what}",
                                                           applied(revision)))
            if failed_at:
                delivered.incidents.append((failed_at, delivered.deployed[revision]))
                failed_at = 0.0
            recorded(prometheus, f'{delivery.APPLIED}{{name="delivery",revision="{revision}"}}')
        else:
            failed_at = turned(wait_for(kube, "Kustomization", "delivery", f"failed on {what}",
                                        failed(revision, outcome)))
            recorded(prometheus, f'{delivery.NOT_READY_SINCE}{{name="delivery"}}')
            # Held until kustomize-controller has retried and the backend has seen the retry move
            # Ready's transition time on: the failure still starts at the first.
            retried = turned(wait_for(kube, "Kustomization", "delivery", f"retried {what}",
                                      lambda o: failed(revision, outcome)(o) and turned(o) > failed_at))
            moved_on = f'{c.FLUX_READY_TRANSITION_METRIC}{{kind="Kustomization",name="delivery"}} >= {retried:.0f}'
            recorded(prometheus, moved_on)
            delivered.retries.append(bool(prometheus.query(moved_on)))
    delivered.snapshots = live(kube, "Kustomization", "delivery")["status"]["history"]
    return delivered


def event_annotation(event: dict[str, Any], key: str) -> str | None:
    """The Event's `<API group>/<key>` annotation, as Flux sets them."""
    group = event["involvedObject"]["apiVersion"].split("/")[0]
    return (event["metadata"].get("annotations") or {}).get(f"{group}/{key}")


def event_revision(event: dict[str, Any]) -> str | None:
    """The revision notification-controller hashes for the event's object (FACTS: app-version@oci-digest,
    else revision), from the Event's annotations."""
    app_version, digest = event_annotation(event, "app-version"), event_annotation(event, "oci-digest")
    return f"{app_version}@{digest}" if app_version and digest else event_annotation(event, "revision")


def traced_events(events: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    """(kind, name, revision) of every Event notification-controller turns into a span for the
    Alert (every kind but HelmRepository, which its otel notifier skips)."""
    return {(e["involvedObject"]["kind"], e["involvedObject"]["name"], revision) for e in events
            if (revision := event_revision(e)) and e["involvedObject"]["kind"] != "HelmRepository"}


def span_keys(sink: Sink, alert_uid: str) -> dict[tuple[str | None, str | None, str], str]:
    """(kind, name, trace ID) of every span of the Alert -> span name."""
    return {(s.attributes.get("object.kind"), s.attributes.get("object.name"), s["traceId"]): s["name"]
            for s in sink.spans() if s.resource.get("service.instance.id") == alert_uid}


# notification-controller@v1.9.3 internal/server/event_handlers.go: logged once per event it hands
# to the Alerts that select the event's object.
DISPATCHED = "dispatching event"
# The one event Flux marks as a commit status update (`<group>/commit_status: update`):
# kustomize-controller's success event (kustomize-controller@v1.9.4
# internal/controller/kustomization_controller.go:158-165). notification-controller sends such
# events only to git and generic providers, never to an `otel` one (notification-controller@v1.9.3
# internal/server/event_handlers.go:319-324), so they have no span.
COMMIT_STATUS = "commit_status"
COMMIT_STATUS_MESSAGE = "Reconciliation finished in "


def dispatched(notification_lines: list[str]) -> Counter:
    """(kind, name) of each event notification-controller dispatched to the otel Provider, as it
    logged them, less the commit status updates it does not send there."""
    return Counter((line["eventInvolvedObject"]["kind"], line["eventInvolvedObject"]["name"])
                   for line in map(json.loads, (text for text in notification_lines if text.startswith("{")))
                   if line["msg"] == DISPATCHED and not (line["eventInvolvedObject"]["kind"] == "Kustomization"
                                                         and line["message"].startswith(COMMIT_STATUS_MESSAGE)))


def spans_by_object(sink: Sink, alert_uid: str) -> Counter:
    return Counter((s.attributes.get("object.kind"), s.attributes.get("object.name"))
                   for s in sink.spans() if s.resource.get("service.instance.id") == alert_uid)


def wait_for_spans(sink: Sink, alert_uid: str, notification_lines) -> None:
    """Until the sink has a span for every event notification-controller dispatched so far (or
    the bound passes: the test then shows the difference)."""
    try:
        wait_until(lambda: spans_by_object(sink, alert_uid) == dispatched(notification_lines()),
                   timeout=ARRIVAL_SECONDS, what="a span for every dispatched event", interval=1)
    except TimeoutError:
        pass


def service_logs(sink: Sink, service: str) -> list[Received]:
    return [r for r in sink.logs() if r.resource.get("service.name") == service]


# --- the tests --------------------------------------------------------------------------------------
def test_object_health_follows_each_step_through_the_pipeline(history):
    """gotk_resource_info at the sink says what the API server says at A, B and C."""
    for step in history.steps:
        assert step.seen == step.want, f"step {step.name}"
    a, b, c_ = (step.want for step in history.steps)
    assert (a[("Kustomization", "app")]["ready"], b[("Kustomization", "app")]["reason"],
            c_[("Kustomization", "app")]["ready"]) == ("True", "BuildFailed", "True")
    assert b[("Kustomization", "dependent")]["reason"] == "DependencyNotReady"
    assert b[("HelmRelease", "demo")]["reason"] == "UpgradeFailed"
    assert a[("GitRepository", "unreachable")]["reason"] == "GitOperationFailed"
    assert a[("Kustomization", "paused")]["suspended"] == "true"


LINE_FIELDS = ("controllerKind", "name", "namespace", "error", "reconcileID", "revision")


def line_key(line: str) -> tuple:
    """What a record made of `line` must hold: a JSON line's time, message, level and the fields
    that name the object and the failure; anything else (a Go library writing to stderr, such as
    the OpenTelemetry SDK's "traces export: failed" when the endpoint refuses) as it is."""
    try:
        fields = json.loads(line)
    except ValueError:
        return (None, line, "", *("null",) * len(LINE_FIELDS))
    return (zap_ts_ns(fields["ts"]), fields["msg"], fields["level"], *(json.dumps(fields.get(k)) for k in LINE_FIELDS))


def record_key(record: Received) -> tuple:
    severity = record.get("severityText", "").lower()
    return (int(record["timeUnixNano"]) if severity else None, record.body, severity,
            *(json.dumps(record.attributes.get(k)) for k in LINE_FIELDS))


def test_every_controller_line_arrives_once_parsed(history):
    """Each line a controller wrote is one record of its service, parsed."""
    for service, lines in history.lines.items():
        want = Counter(map(line_key, lines))
        got = Counter(map(record_key, service_logs(history.sink, service)))
        assert got == want, f"{service}: {sum(got.values())} records for {len(lines)} lines; " \
                            f"missing {list((want - got).elements())[:3]}, extra {list((got - want).elements())[:3]}"


def test_kustomization_lines_with_a_revision_carry_its_trace_id(history):
    lines = [r for r in service_logs(history.sink, "kustomize-controller")
             if r.attributes.get("revision") and r.attributes.get("controllerKind") == "Kustomization"]
    assert {r.attributes["revision"] for r in lines} >= set(history.revisions.values())
    for record in lines:
        assert record["traceId"] == flux_trace_id(history.alert_uid, record.attributes["revision"]), record.body
    failed = [r for r in lines if r.attributes["revision"] == history.revisions["B"] and r.attributes.get("error")]
    assert failed, "the failing line of revision B"


def span_revision(span: Received) -> str:
    """The revision notification-controller hashed for the span, from the metadata it attached."""
    attrs = span.attributes
    if attrs.get("app-version") and attrs.get("oci-digest"):
        return f"{attrs['app-version']}@{attrs['oci-digest']}"
    return attrs.get("revision") or "unknown"


def test_every_dispatched_event_became_a_span_with_flux_s_trace_id(history):
    """One span per event notification-controller dispatched; each revision an Event names has its
    span; every span's trace ID is Flux's for the revision it carries (events without one, such as
    a refused clone's, hash `unknown`)."""
    marked = {e["message"].removeprefix(COMBINED_PREFIX) for e in history.events
              if any(key.endswith(f"/{COMMIT_STATUS}") for key in (e["metadata"].get("annotations") or {}))}
    assert marked and all(message.startswith(COMMIT_STATUS_MESSAGE) for message in marked), marked
    assert spans_by_object(history.sink, history.alert_uid) == dispatched(history.lines["notification-controller"])
    want = {(kind, name, flux_trace_id(history.alert_uid, rev)) for kind, name, rev in traced_events(history.events)}
    assert want <= set(span_keys(history.sink, history.alert_uid))
    spans = [s for s in history.sink.spans() if s.resource.get("service.instance.id") == history.alert_uid]
    for span in spans:
        assert span["name"] == f"{span.attributes['object.kind']}: {NS}/{span.attributes['object.name']}"
        assert span["traceId"] == flux_trace_id(history.alert_uid, span_revision(span)), span["name"]


def event_records(sink: Sink) -> list[Received]:
    """The gateway's records of Kubernetes Events (no service: they come from the API server)."""
    return [r for r in sink.logs() if "reason" in r.attributes and r.resource.get("service.name") is None]


def event_keys_at(sink: Sink) -> set[tuple[str, str, str, str]]:
    return {(r.attributes["controllerKind"], r.attributes["name"], r.attributes["reason"], r.body)
            for r in event_records(sink)}


def event_keys(events: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {(e["involvedObject"]["kind"], e["involvedObject"]["name"], e["reason"], e["message"]) for e in events}


def test_every_event_arrives_as_a_record_with_its_trace_id(history):
    """Flux's core/v1 Events reach the backend with the object's attributes and, where the Event
    names a revision, the exact trace ID of its span; combined Events carry neither."""
    assert event_keys(history.events) <= event_keys_at(history.sink)
    # One message can recur for another revision (an object waiting on its dependency at B, and again at D).
    by_message = {
        (e["involvedObject"]["name"], e["message"], event_annotation(e, "revision")): e for e in history.events
    }
    checked = 0
    for record in event_records(history.sink):
        event = by_message.get((record.attributes["name"], record.body, record.attributes.get("revision")))
        if event is None:
            continue
        revision = event_revision(event)
        traced = revision and event["involvedObject"]["kind"] != "HelmRepository"
        assert record.get("traceId", "") == (
            flux_trace_id(history.alert_uid, revision) if traced and revision else ""
        ), record.body
        checked += bool(traced)
    assert checked, "no record with a trace ID"
    oci_trace = flux_trace_id(history.alert_uid, f"{OCI_CHART.app_version}@{history.oci_digest}")
    assert any(r.attributes["name"] == "oci-demo" and r.attributes["controllerKind"] == "HelmRelease"
               and r.get("traceId") == oci_trace for r in event_records(history.sink)), "the OCI HelmRelease's trace"
    combined = [r for r in event_records(history.sink) if r.body.startswith(COMBINED_PREFIX)]
    assert combined and all(not r.get("traceId") and "revision" not in r.attributes for r in combined)


def series_names(exposition: str) -> set[str]:
    return {line.split("{")[0].split(" ")[0] for line in exposition.splitlines() if line and not line.startswith("#")}


def scraped_family(series: str) -> str:
    """The metric a series arrives in: the receiver names a histogram or summary by its family."""
    for suffix in ("_bucket", "_count", "_sum"):
        if series.endswith(suffix):
            return series[: -len(suffix)]
    return series


def test_the_scrape_filter_keeps_every_series_the_rules_and_dashboards_read(history):
    """Of the series the shipped rules and dashboards read, every one that a real controller or
    kube-state-metrics serves reaches the backend."""
    read = set(Plan.of(history.config).queried_metrics)
    served = set().union(*history.exposed.values())
    shipped = {m["name"] for m in history.sink.metrics()}
    missing = {name for name in read & served if name not in shipped and scraped_family(name) not in shipped}
    assert not missing, f"read and served but not shipped: {sorted(missing)}"
    assert read & served, "no series the rules and dashboards read was served"


# --- the backend's judgement ------------------------------------------------------------------------
def seconds(since: float, at: float) -> str:
    return f"{at - since:.0f} s" if at else "never"


def judgement(judged: list[Judged]) -> str:
    """The per-rule table: fault, fired after, resolved after the fix."""
    rows = [f"{each.alert} {each.labels}: {each.fault}; fired after {seconds(each.faulted_at, each.fired_at)}"
            + (f", resolved {seconds(each.fixed_at, each.resolved_at)} after the fix" if each.fixed_at else "")
            for each in judged]
    return "\n".join(rows)


def test_each_alert_fires_on_its_real_fault_and_resolves_after_the_fix(history):
    failed = [each for each in history.judged if not each.fired_at or (each.fixed_at and not each.resolved_at)]
    assert not failed, judgement(history.judged)
    alerts = {each.alert for each in history.judged}
    assert alerts >= {"FluxObjectNotReady", "FluxHelmReleaseNotReady", "FluxObjectSuspended", "FluxReconcileSlow",
                      "FluxWorkqueueStuck",
                      "FluxWorkersSaturated", "FluxObjectHealthDown", "FluxControllerDown",
                      "FluxControllerMetricsAbsent", "FluxNotReconciling", "FluxKustomizationBehindSource"}


def test_an_object_alert_names_the_object_its_reason_and_where_to_look(history):
    (broken,) = [each for each in history.judged
                 if each.alert == "FluxObjectNotReady" and each.labels == {"kind": "Kustomization", "name": "app"}]
    labels, annotations = broken.fired["labels"], broken.fired["annotations"]
    assert labels["namespace"] == labels["exported_namespace"] == NS
    # The gateway adds the cluster's name; the backend promotes it to a label (e2e/harness/prometheus.py).
    assert labels["k8s_cluster_name"] == history.config.cluster_name
    assert annotations["summary"] == f"Kustomization {NS}/app is not Ready: BuildFailed"
    assert f"flux events --for Kustomization/app -n {NS}" in annotations["description"]
    assert annotations["runbook_url"] == f"{c.RUNBOOK_URL}#fluxobjectnotready"


def fired_series(prometheus: Prometheus, start: float, end: float, selector: str = "") -> list[dict[str, str]]:
    """The labels of every alert that fired between `start` and `end`."""
    series = prometheus.query_range(f'ALERTS{{alertstate="firing"{selector}}}', start, end, "1s")
    return [item["metric"] for item in series]


def test_no_alert_fires_where_its_fault_is_absent(history):
    """In the healthy stretches only the standing faults page; `dependent`, which only waits on a
    broken `app`, never pages as not Ready on its own."""
    for quiet in history.quiet:
        unexpected = [labels for labels in fired_series(history.prometheus, quiet.start, quiet.end,
                                                        ',alertname!="FluxNotReconciling"')
                      if not any(all(labels.get(k) == v for k, v in want.items()) for want in quiet.expected)]
        assert not unexpected, f"step {quiet.name}: {unexpected}"
    assert not fired_series(history.prometheus, history.started_at, time.time(),
                            ',name="dependent",alertname=~"Flux.*NotReady"')


def test_every_rule_evaluates_without_error(history):
    assert history.prometheus.rule_health() == {}


def variable_values(prometheus: Prometheus, variable: dict[str, Any]) -> list[str]:
    """What Perses lists for a label-values variable: the label's values on its matchers."""
    plugin = variable["spec"]["plugin"]["spec"]
    return prometheus.api(f"label/{plugin['labelName']}/values", **{"match[]": plugin["matchers"][0]})


def interpolated(expr: str, variables: list[dict[str, Any]], prometheus: Prometheus) -> str:
    """The query as Perses sends it with every variable at its default, all of its values: its
    default interpolation joins them, unescaped, as `(a|b)` (perses/perses@v0.52.0
    ui/plugin-system/src/utils/variables.ts: interpolate)."""
    for variable in sorted(variables, key=lambda v: -len(v["spec"]["name"])):
        values = variable_values(prometheus, variable)
        expr = expr.replace(f"${variable['spec']['name']}", "(" + "|".join(values) + ")")
    return expr


def test_every_dashboard_variable_lists_the_story_s_values(history):
    for dashboard in history.dashboards:
        for variable in dashboard["spec"]["config"]["variables"]:
            values = variable_values(history.prometheus, variable)
            want = {"cluster": [history.config.cluster_name], "namespace": [NS]}[variable["spec"]["name"]]
            assert values == want, variable["spec"]["name"]


def test_every_dashboard_query_runs_and_answers(history):
    """Each panel query of the rendered dashboards, its variables at their defaults, run over the
    whole story: Prometheus accepts it and returns series (every panel's subject exists in the story)."""
    empty, refused, answers = [], [], []
    for dashboard in history.dashboards:
        config = dashboard["spec"]["config"]
        for key, panel in config["panels"].items():
            for query in panel["spec"]["queries"]:
                expr = interpolated(query["spec"]["plugin"]["spec"]["query"], config["variables"], history.prometheus)
                try:
                    series = history.prometheus.query_range(expr, history.started_at, time.time(), "5s")
                except PrometheusError as error:
                    refused.append((key, expr, str(error)))
                    continue
                answers.append({"dashboard": dashboard["metadata"]["name"], "panel": key, "series": len(series)})
                if not series:
                    empty.append((key, expr))
    # The answers, for bench/detection.py.
    (history.workdir / PANELS_FILE).write_text(json.dumps(answers, indent=1))
    assert not refused and not empty, f"refused: {refused}\nempty: {empty}"


def test_reconcile_errors_miss_a_failed_build_and_count_a_failing_source(history):
    """Why FluxReconcileErrors is off by default: over the story, in which `app` failed to build at
    B, kustomize-controller counted no reconcile error, while source-controller counted those of
    the source where nothing listens."""
    window = f"{int(time.time() - history.started_at) + 60}s"

    def errors(reconciler: str) -> float:
        (result,) = history.prometheus.query(
            f'sum(max_over_time({c.RECONCILE_ERRORS_METRIC}{{controller="{reconciler}"}}[{window}]))')
        return float(result["value"][1])

    assert errors("kustomization") == 0
    assert errors("gitrepository") > 0


# --- the delivery figures ----------------------------------------------------------------------------
def recorded_values(prometheus: Prometheus, selector: str, since: float, at: float | None = None,
                    by: str = "revision") -> dict[str, list]:
    """The samples of a recorded delivery series from `since` to `at` (now), in time order, by the
    label `by` (or "" where they have none): each event is one sample."""
    at = at or time.time()
    data = prometheus.api("query", query=f"{selector}[{int(at - since) + 1}s]", time=f"{at:.3f}")
    samples: dict[str, list] = {}
    for item in data["result"]:
        samples.setdefault(item["metric"].get(by, ""), []).extend(item["values"])
    return {key: [float(value) for _, value in sorted(values)] for key, values in samples.items()}


def figure(prometheus: Prometheus, expr: str) -> float:
    (result,) = prometheus.query(expr)
    return float(result["value"][1])


def test_the_delivery_figures_are_the_history_the_api_server_kept(history):
    """Over the whole story (object health stopped once, controllers restarted, `delivery` reconciled
    by every restart): one deployment for each revision applied after the baseline, one failure
    for each time Ready turned False after it was True (however often kustomize-controller retried
    it; not before the baseline, when the source had no artifact yet), each restore
    time and lead time to the second as the conditions and the artifacts say, and the documented
    queries summing them up."""
    delivered, prometheus = history.delivered, history.prometheus
    scope = ',name="delivery"'

    def values(series: str) -> dict[str, list]:
        return recorded_values(prometheus, f"{series}{{{scope.lstrip(',')}}}", history.started_at)

    starts = [start for start, _ in delivered.incidents]
    restores = [end - start for start, end in delivered.incidents]
    leads = {revision: at - delivered.stored[revision] for revision, at in delivered.deployed.items()}
    assert len(delivered.deployed) == 3 and len(delivered.incidents) == 2 and delivered.retries == [True, True]
    assert values(delivery.DEPLOYMENTS) == {revision: [1.0] for revision in delivered.deployed}
    assert values(delivery.FAILURES) == {"": starts}
    assert values(delivery.RESTORE_SECONDS) == {"": restores}
    assert values(delivery.LEAD_TIME_SECONDS) == {revision: [lead] for revision, lead in leads.items()}

    window = f"{int(time.time() - history.started_at) + 1}s"
    computed = {key: figure(prometheus, expr) for key, expr in delivery.window_queries(window, scope).items()}
    known = {"deployments": 3, "failures": 2, "changeFailureRate": 2 / 5,
             "meanTimeToRestore": sum(restores) / len(restores), "meanLeadTime": sum(leads.values()) / len(leads)}
    (history.workdir / DELIVERY_FILE).write_text(json.dumps({"known": known, "computed": computed,
                                                             "restores": restores, "leads": leads}, indent=1))
    assert computed == pytest.approx(known)


def test_flux_s_own_history_misses_the_build_failure_that_ready_shows(history):
    """Why the figures follow the Ready condition, not status.history: kustomize-controller records
    a snapshot for what it built, so a revision that does not build leaves none
    (kustomize-controller@v1.9.4 internal/controller/kustomization_controller.go: History.Upsert
    comes after the build)."""
    by_revision: dict[str, list[str]] = {}
    for snapshot in history.delivered.snapshots:
        by_revision.setdefault(snapshot["metadata"]["revision"], []).append(snapshot["lastReconciledStatus"])
    revisions = {what: revision for (what, _, _), revision in zip(DELIVERY_COMMITS[1:], history.delivered.stored)}
    assert by_revision[revisions["never ready"]] == [HEALTH_CHECK_FAILED]
    assert revisions["not an object"] not in by_revision
    assert {revision for revision, statuses in by_revision.items() if APPLIED in statuses} == \
        {history.delivered.baseline, *history.delivered.deployed}


def test_a_helm_release_counts_its_upgrade_and_its_failed_one(history):
    """`demo`: installed (an object's first release is no deployment), its upgrade to 1.1.0 failing
    to render until 1.2.0 restored it, then new values for 1.2.0: two deployments, one lead time,
    from the HelmChart helm-controller made for it storing chart 1.2.0 (new values have no
    artifact). helm-controller retries the failing upgrade within seconds, each retry
    moving Ready's transition time, so the failure starts at the transition of the first scrape
    that shows it: within one scrape interval of the first, as the test saw it."""
    failed, restored = history.demo_incident
    scrape = prometheus_duration_seconds(SCRAPE_INTERVAL)

    def values(series: str) -> dict[str, list]:
        return recorded_values(history.prometheus, f'{series}{{kind="HelmRelease",name="demo"}}',
                               history.started_at)

    assert values(delivery.DEPLOYMENTS) == {"1.2.0": [1.0, 1.0]}
    assert recorded_values(history.prometheus, f'{delivery.DEPLOYMENTS}{{kind="HelmRelease",name="demo"}}',
                           history.started_at, by=c.FLUX_RELEASE_LABEL) == {
        release: [1.0] for release in history.demo_releases}
    ((started,),) = values(delivery.FAILURES).values()
    ((restore,),) = values(delivery.RESTORE_SECONDS).values()
    assert failed <= started <= failed + scrape
    assert restore == restored - started
    assert values(delivery.LEAD_TIME_SECONDS) == {"1.2.0": [restored - history.demo_chart_stored]}


def test_reconciling_one_revision_again_is_neither_a_deployment_nor_a_failure(history):
    """`app` reconciled again and again at C: Ready goes Unknown and True at each, its revision stays."""
    start, end = history.similar_events
    for series in (delivery.DEPLOYMENTS, delivery.FAILURES):
        assert recorded_values(history.prometheus, f'{series}{{name="app"}}', start, end) == {}
