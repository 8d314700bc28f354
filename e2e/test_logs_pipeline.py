"""Area 2: Flux controller logs through the real collectors, as the `dev` stack renders them.

Container log files laid out as kubelet does (`<root>/<ns>_<pod>_<uid>/<container>/0.log`), in CRI
and docker json-file format, are tailed by the localized log-agent config, which forwards to the
localized gateway config, which exports to a sink (the gateway's `debug` exporter becomes an OTLP
exporter to the sink; see e2e/harness/collector.py `localize`). What arrives is compared, record by record,
with what the docs promise (docs/what-it-deploys.md "Log agent" → Parsing, docs/verify.md "Logs"
and "Log-to-trace correlation", docs/failure-behaviour.md → Agent restart):

- only `manager` containers of the configured Flux controllers' pods in the Flux namespace;
- one record per line; JSON lines parsed into attributes, `ts` and `level` removed, `msg` copied to
  the body, severity from `level` (Flux's `trace` and zap's `Level(-2)` are trace; the severity
  text is the level as written), time from `ts`;
- resource: `k8s.namespace.name`, `k8s.pod.name` and the related container attributes from the
  file path, `service.name` = the controller, `k8s.cluster.name` = clusterName (gateway);
- the trace ID of a line with a revision of an object the Alert selects: the first 16 bytes of
  SHA-256 of `<Alert UID>:<revision>`; none for other lines. Only kinds whose controller logs the
  revision at info are linked (the package's rule, which the docs do not state; see `linked_kinds`);
- an agent restart neither re-sends nor skips lines; kubelet's rotation loses nothing.

To check lines captured from a real controller, call `assert_delivered_as_promised(pipeline,
rendering, {"notification-controller": [json_line, ...]})` from a test using the fixtures below.

The lines here are written by the test, in Flux's shape, because what is tested is the node's side
that no controller controls: docker json-file next to CRI, other pods' and containers' files, a
kubelet rotation, an agent restart at a chosen line, and the levels Flux writes only when asked
(`trace`, `Level(-2)`). Lines real controllers wrote arrive through the same agent in
test_real_flux.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from collections import Counter
from typing import Any, Iterable

import pytest

from components import constants as c
from components.tooling.render import mock_uid, read_stack_file
from e2e.harness.collector import (
    CRI,
    DOCKER,
    LogPipeline,
    PodLog,
    Received,
    collector_configs,
    gateway_and_agent,
    zap_ts_ns,
)
from e2e.harness.kube import wait_until
from e2e.harness.render import ROOT, run_stack

STACK = "dev"
DELIVERY_TIMEOUT_SECONDS = 90  # two 2 s batch intervals plus polling; generous for a busy machine
# OTLP severity numbers (opentelemetry-proto logs.proto SeverityNumber).
TRACE, DEBUG, INFO, WARN, ERROR = 1, 5, 9, 13, 17
# What docs/what-it-deploys.md promises for the levels Flux controllers write (fluxcd/pkg
# runtime/logger: trace, debug, info, error), and for zap's "Level(-2)", which it names too.
# zap's "warn" too, which Flux does not use but the rendered mapping covers.
SEVERITY_OF_LEVEL = {"trace": TRACE, "Level(-2)": TRACE, "debug": DEBUG, "info": INFO, "warn": WARN, "error": ERROR}

_ids = itertools.count(1)


# --- Flux lines ---------------------------------------------------------------------------------------
def flux_line(level: str, msg: str, *, kind: str, name: str, namespace: str = c.FLUX_NAMESPACE,
              second: float | None = None, **fields: Any) -> str:
    """A line as a Flux controller writes it: controller-runtime's zap JSON encoder, ISO8601 `ts`
    in milliseconds, the reconciler's key/values (fluxcd/pkg runtime/logger)."""
    serial = next(_ids)
    millis = round((second if second is not None else serial * 0.137) * 1000)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1_796_014_800 + millis // 1000)) + f".{millis % 1000:03d}Z"
    group = {"Kustomization": "kustomize", "HelmRelease": "helm", "GitRepository": "source",
             "HelmRepository": "source", "OCIRepository": "source", "Alert": "notification",
             "Provider": "notification"}[kind]
    line = {"level": level, "ts": ts, "msg": msg, "controller": kind.lower(),
            "controllerGroup": f"{group}.toolkit.fluxcd.io", "controllerKind": kind,
            kind: {"name": name, "namespace": namespace}, "namespace": namespace, "name": name,
            "reconcileID": f"{serial:08x}-6a1f-4c3e-9b1d-7f2e8c9a0b{serial % 100:02d}", **fields}
    return json.dumps(line, separators=(",", ":"))


def kustomize_lines() -> list[str]:
    return [
        flux_line("info", "Reconciliation finished in 1.2s, next run in 10m0s", kind="Kustomization", name="apps",
                  revision="main@sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904"),
        flux_line("info", "server-side apply completed", kind="Kustomization", name="apps",
                  revision="main@sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904",
                  output={"Deployment/apps/podinfo": "configured", "Service/apps/podinfo": "unchanged"}),
        flux_line("error", "Reconciliation failed after 1.5s, next try in 10m0s", kind="Kustomization", name="infra",
                  revision="main@sha1:8f3e1a7d2c5b4e6f9a0b1c2d3e4f5a6b7c8d9e0f",
                  error="kustomize build failed: accumulating resources: open apps/missing: no such file"),
        flux_line("debug", "dependencies ready", kind="Kustomization", name="apps"),
        # fluxcd/pkg runtime/logger writes levels below debug as "trace"; the docs also name zap's
        # default encoding of that level, "Level(-2)".
        flux_line("trace", "watching source for changes", kind="Kustomization", name="apps"),
        flux_line("Level(-2)", "watching source for changes", kind="Kustomization", name="infra"),
        # An object the Alert does not select (another namespace): a revision but no trace ID.
        flux_line("info", "Reconciliation finished in 300ms, next run in 5m0s", kind="Kustomization", name="tenant",
                  namespace="tenant-a", revision="main@sha1:1111111111111111111111111111111111111111"),
        # With the CancelHealthCheckOnNewRevision gate, kustomize-controller logs no controllerKind.
        json.dumps({"level": "info", "ts": "2026-11-30T05:00:09.999Z", "msg": "Reconciliation finished in 2s",
                    "controller": "kustomization", "controllerGroup": "kustomize.toolkit.fluxcd.io",
                    "Kustomization": {"name": "apps", "namespace": "flux-system"}, "namespace": "flux-system",
                    "name": "apps", "reconcileID": "0000abcd-6a1f-4c3e-9b1d-7f2e8c9a0b99",
                    "revision": "main@sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904"}, separators=(",", ":")),
        # A line that is not JSON (a Go panic) passes unparsed.
        "panic: runtime error: invalid memory address or nil pointer dereference",
    ]


def helm_lines() -> list[str]:
    # helm-controller never logs `revision`.
    return [
        flux_line("info", "release in-sync with desired state", kind="HelmRelease", name="podinfo"),
        flux_line("error", "Reconciler error", kind="HelmRelease", name="podinfo",
                  error="install retries exhausted"),
    ]


def source_lines() -> list[str]:
    # source-controller logs `revision` only at debug: such a line gets no trace ID (only kinds
    # whose controller logs the revision at info are linked, see `linked_kinds`).
    return [
        flux_line("info", "stored artifact for commit 'Merge pull request #42'", kind="GitRepository",
                  name="flux-system"),
        flux_line("debug", "artifact up-to-date with remote revision", kind="GitRepository", name="flux-system",
                  revision="main@sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904"),
        flux_line("info", "stored fetched index", kind="HelmRepository", name="podinfo"),
    ]


# --- what the docs promise ---------------------------------------------------------------------------
def stack_cluster_name(stack: str) -> str:
    return read_stack_file(ROOT, stack).config[f"{c.PROJECT}:clusterName"]


# Kinds whose lines are linked to traces. docs/verify.md "Log-to-trace correlation" says a line is
# linked when it has a non-empty `revision` and its object is one the Alert selects; the package
# (since 0cecf1f) also requires the kind to be one whose controller logs `revision` at info, which
# the docs do not say: a source-controller debug line with a revision stays unlinked.
linked_kinds = c.FLUX_KINDS_LOGGING_REVISION


def alert_trace_id(rendering: Any) -> Any:
    """A function giving a line's expected trace ID from the rendered Alert (its event sources and
    the UID the mock API server gave it), per docs/verify.md "Log-to-trace correlation": the first
    16 bytes of SHA-256 of `<Alert UID>:<revision>`."""
    alert, = (r for r in rendering.resources if r.custom and r.inputs.get("kind") == "Alert")
    uid = mock_uid(alert.type, alert.name, alert.inputs["metadata"])
    sources = alert.inputs["spec"]["eventSources"]

    def trace_id(attributes: dict[str, Any]) -> str:
        revision = attributes.get("revision")
        selected = any(s["kind"] == attributes.get("controllerKind") and s["namespace"] == attributes.get("namespace")
                       and s["name"] in ("*", attributes.get("name")) for s in sources)
        if not revision or not selected or attributes.get("controllerKind") not in linked_kinds:
            return ""
        return hashlib.sha256(f"{uid}{c.FLUX_TRACE_ID_SEPARATOR}{revision}".encode()).hexdigest()[:32]
    return trace_id


def expected_record(line: str, pod: PodLog, controller: str, *, cluster: str, trace_id: Any) -> dict[str, Any]:
    resource = {
        "k8s.namespace.name": pod.namespace, "k8s.pod.name": pod.pod, "k8s.pod.uid": pod.uid,
        "k8s.container.name": pod.container, "k8s.container.restart_count": "0",
        "service.name": controller, "k8s.cluster.name": cluster,
    }
    # Record attributes the container operator adds (docs/what-it-deploys.md: "and related
    # attributes"): the stream, the file (include_file_path) and, for CRI, the partial/full tag of
    # the line.
    attributes: dict[str, Any] = {"log.iostream": pod.stream, "log.file.path": str(pod.path)}
    if pod.fmt == CRI:
        attributes["logtag"] = "F"
    try:
        parsed = json.loads(line)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        # Not JSON: the line as the runtime wrote it, with the runtime's timestamp. The container
        # operator keeps docker json-file's trailing newline in the body (CRI lines have none).
        body = line + "\n" if pod.fmt == DOCKER else line
        return {"resource": resource, "time": pod.runtime_ns(line), "severity_number": 0, "severity_text": "",
                "body": body, "attributes": attributes, "trace_id": ""}
    attributes.update({key: value for key, value in parsed.items() if key not in ("ts", "level")})
    return {
        "resource": resource,
        "time": zap_ts_ns(parsed["ts"]),
        "severity_number": SEVERITY_OF_LEVEL[parsed["level"]],
        "severity_text": parsed["level"],
        "body": parsed.get("msg", line),
        "attributes": attributes,
        "trace_id": trace_id(attributes),
    }


def actual_record(record: Received) -> dict[str, Any]:
    item = record.item
    return {
        "resource": record.resource,
        "time": int(item.get("timeUnixNano", 0)),
        "severity_number": item.get("severityNumber", 0),
        "severity_text": item.get("severityText", ""),
        "body": record.body,
        "attributes": record.attributes,
        "trace_id": item.get("traceId", ""),
    }


def canonical(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True)


def records_of(pipeline: LogPipeline, pods: Iterable[PodLog]) -> list[Received]:
    names = {pod.pod for pod in pods}
    return [r for r in pipeline.sink.logs() if r.resource.get("k8s.pod.name") in names]


def wait_for_count(pipeline: LogPipeline, pods: list[PodLog], count: int, what: str) -> list[Received]:
    try:
        wait_until(lambda: len(records_of(pipeline, pods)) >= count, timeout=DELIVERY_TIMEOUT_SECONDS,
                   what=f"{count} records of {what} at the sink", interval=0.5)
    except TimeoutError as error:
        raise AssertionError(f"{error}: got {len(records_of(pipeline, pods))}\n{pipeline.logs_tail()}") from None
    # Anything extra (a duplicate) would arrive with the same batch or the next one.
    time.sleep(2.5)
    return records_of(pipeline, pods)


def assert_delivered_as_promised(pipeline: LogPipeline, rendering: Any, lines_by_controller: dict[str, list[str]],
                                 *, fmt: str = CRI, stack: str = STACK) -> list[dict[str, Any]]:
    """Writes each controller's lines to the manager container of a fresh pod of it and checks
    that exactly the records the docs promise arrive, one per line. Returns them."""
    cluster, trace_id = stack_cluster_name(stack), alert_trace_id(rendering)
    pods, expected = [], []
    for controller, lines in lines_by_controller.items():
        pod = pipeline.pod_log(c.FLUX_NAMESPACE, f"{controller}-{_pod_suffix()}", fmt=fmt)
        pod.write(lines)
        pods.append(pod)
        expected += [expected_record(line, pod, controller, cluster=cluster, trace_id=trace_id) for line in lines]
    arrived = wait_for_count(pipeline, pods, len(expected), f"{sorted(lines_by_controller)}")
    received = [actual_record(record) for record in arrived]
    missing = Counter(map(canonical, expected)) - Counter(map(canonical, received))
    unexpected = Counter(map(canonical, received)) - Counter(map(canonical, expected))
    assert not missing and not unexpected, (
        "records differ from the documented ones (docs/what-it-deploys.md, docs/verify.md)\n"
        "--- expected, not received:\n" + "\n".join(missing)
        + "\n--- received, not expected:\n" + "\n".join(unexpected))
    return received


_pod_serial = itertools.count(1)


def _pod_suffix() -> str:
    """A ReplicaSet hash and pod suffix, as kubelet names a Deployment's pod."""
    serial = next(_pod_serial)
    return f"7d9f8b6c{serial:02d}-x{serial:03d}q"


# --- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rendering():
    return run_stack(STACK)


@pytest.fixture(scope="module")
def pipeline(rendering, tmp_path_factory):
    gateway, agent = gateway_and_agent(collector_configs(rendering))
    with LogPipeline(tmp_path_factory.mktemp("logs-pipeline"), gateway, agent) as running:
        yield running


# --- tests ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [CRI, DOCKER])
def test_flux_lines_arrive_once_each_as_readme_promises(pipeline, rendering, fmt):
    assert_delivered_as_promised(pipeline, rendering, {
        "kustomize-controller": kustomize_lines(),
        "helm-controller": helm_lines(),
        "source-controller": source_lines(),
    }, fmt=fmt)


def test_only_manager_containers_of_flux_controllers_in_the_flux_namespace(pipeline, rendering):
    flux_json = flux_line("info", "Reconciliation finished in 1s, next run in 10m0s", kind="Kustomization",
                          name="apps", revision="main@sha1:4b825dc642cb6eb9a060e54bf8d69288fbee4904")
    ignored = [
        # A pod of another application.
        pipeline.pod_log("default", "nginx-5d8f9c7b6d-q2w3e", container="nginx"),
        # Another container of a Flux controller's pod.
        pipeline.pod_log(c.FLUX_NAMESPACE, "kustomize-controller-7d9f8b6c5d-a1b2c", container="istio-proxy"),
        # A controller-named pod outside the Flux namespace.
        pipeline.pod_log("tenant-a", "kustomize-controller-7d9f8b6c5d-d4e5f"),
        # A Flux controller this stack does not observe (dev: the four default controllers).
        pipeline.pod_log(c.FLUX_NAMESPACE, "image-reflector-controller-6b7c8d9e5f-g6h7i"),
    ]
    assert "image-reflector-controller" not in c.FLUX_DEFAULT_CONTROLLERS
    for pod in ignored:
        pod.write([flux_json, '{"level":"info","msg":"GET /healthz 200"}'])
    # Lines of an observed controller, written after the ignored ones, show the agent has read past them.
    assert_delivered_as_promised(pipeline, rendering, {"notification-controller": [
        flux_line("info", "dispatching event", kind="Alert", name="otel-alert")]})
    names = {pod.pod for pod in ignored}
    leaked = [r.resource for r in pipeline.sink.logs() if r.resource.get("k8s.pod.name") in names]
    assert leaked == [], "records from pods or containers the agent must not tail"


class Writer(threading.Thread):
    """Appends numbered Flux lines to a pod's log, one every `interval` seconds, until stopped."""

    def __init__(self, pod: PodLog, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pod, self.interval, self.written = pod, interval, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.pod.write([numbered_line(self.written)])
            self.written += 1
            time.sleep(self.interval)

    def finish(self) -> int:
        self._stop_event.set()
        self.join(10)
        return self.written


def numbered_line(number: int) -> str:
    return flux_line("info", f"line {number}", kind="Kustomization", name="apps", second=number / 1000,
                     revision=f"main@sha1:{number:040x}")


def numbers_received(pipeline: LogPipeline, pod: PodLog) -> Counter:
    return Counter(int(r.body.split()[1]) for r in records_of(pipeline, [pod]))


def assert_each_exactly_once(pipeline: LogPipeline, pod: PodLog, written: int) -> None:
    wait_for_count(pipeline, [pod], written, f"{written} numbered lines")
    received = numbers_received(pipeline, pod)
    missing = sorted(set(range(written)) - set(received))
    duplicates = sorted(n for n, count in received.items() if count > 1)
    unknown = sorted(set(received) - set(range(written)))
    assert (missing, duplicates, unknown) == ([], [], []), (
        f"{written} lines written: missing {missing}, duplicated {duplicates}, unknown {unknown}\n"
        f"{pipeline.logs_tail()}")


def test_agent_restart_mid_stream_neither_resends_nor_skips(pipeline):
    """docs/failure-behaviour.md → Agent restart: offsets in file_storage; `start_at: beginning`
    only for files without one. Lines keep being written while the agent stops and starts."""
    pod = pipeline.pod_log(c.FLUX_NAMESPACE, "kustomize-controller-5f6d7c8b9a-r3s4t")
    writer = Writer(pod)
    writer.start()
    try:
        wait_until(lambda: len(records_of(pipeline, [pod])) > 0, timeout=DELIVERY_TIMEOUT_SECONDS,
                   what="the first lines at the sink", interval=0.2)
        pipeline.agent.stop()
        time.sleep(1)  # lines appended while the agent is down
        pipeline.agent.start()
        time.sleep(1)
    finally:
        written = writer.finish()
    assert written > 100
    assert_each_exactly_once(pipeline, pod, written)


def test_kubelet_rotation_loses_nothing(pipeline):
    """kubelet renames 0.log to 0.log.<timestamp>, then the runtime writes a new 0.log. Lines not
    yet read from the renamed file, and the new file's, all arrive once."""
    pod = pipeline.pod_log(c.FLUX_NAMESPACE, "helm-controller-8c9d7e6f5a-u5v6w")
    pod.write(numbered_line(n) for n in range(0, 50))
    wait_until(lambda: len(records_of(pipeline, [pod])) > 0, timeout=DELIVERY_TIMEOUT_SECONDS,
               what="the first lines at the sink", interval=0.2)
    pod.write(numbered_line(n) for n in range(50, 100))  # written, then rotated before the next poll
    rotated = pod.rotate()
    pod.write(numbered_line(n) for n in range(100, 150))
    assert rotated.exists() and pod.path.exists()
    assert_each_exactly_once(pipeline, pod, 150)


def test_the_real_notification_controllers_own_lines_arrive_as_promised(pipeline, rendering, notification_controller):
    """Lines the real notification-controller wrote to stderr (JSON, its startup and reconciler
    lines), in both runtime formats, go through the rendered agent and gateway as the docs
    promise."""
    def json_lines():
        lines = [line for line in notification_controller.log_lines() if line.startswith("{")]
        return lines if any('"controller":' in line for line in lines) else None

    lines = wait_until(json_lines, timeout=60, what="notification-controller's reconciler log lines")
    for fmt in (CRI, DOCKER):
        assert_delivered_as_promised(pipeline, rendering, {"notification-controller": lines}, fmt=fmt)
