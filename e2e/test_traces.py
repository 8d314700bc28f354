"""Area 6: traces. The rendered Provider and Alert (and the auth Secret) go to the real API server;
events posted to the real notification-controller reach the real gateway as spans. The same
events, recorded as Kubernetes Events and watched by the gateway, and a kustomize-controller log
line through the log agent, carry the trace IDs of those spans: the package's correlation run
by the real collector against the IDs the real controller computes.

The events are written here, in the shape Flux's recorder gives them (core/v1 Events, metadata as
annotations), so that one module can cover an HTTPS Provider endpoint with a secret header and
the Alert's auth Secret; test_real_flux.py runs the same path with Flux's own controllers.
"""

from __future__ import annotations

import http.server
import json
import ssl
import threading
import urllib.request
from datetime import datetime, timezone

import pytest

from components import constants as c
from components.builders import receiver_auth
from e2e.harness.collector import (
    Collector,
    PodLog,
    Received,
    Sink,
    collector_configs,
    gateway_and_agent,
    kubelet_env,
    localize,
    loopback_address,
)
from e2e.harness.flux import apply_tracing, core_event, flux_event, flux_trace_id, notification_controller
from e2e.harness.kube import kubeconfig_auth, wait_until

STACK = "dev"
KUSTOMIZE = "kustomize.toolkit.fluxcd.io"
SOURCE = "source.toolkit.fluxcd.io"
HELM = "helm.toolkit.fluxcd.io"
GIT_REVISION = "main@sha1:3b1f0c8e9d2a4b6c8e0f1a3b5c7d9e1f2a4b6c8d"
CHART_VERSION = "6.5.1"
OCI_DIGEST = "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
APP_VERSION = "6.5.1"
TRACED = "ReconciliationSucceeded"
# The controller that records each group's Events (their `source.component`), and the version
# Flux 2.9 serves (helm-controller v1.6 serves only helm.toolkit.fluxcd.io/v2).
CONTROLLERS = {KUSTOMIZE: "kustomize-controller", SOURCE: "source-controller", HELM: "helm-controller"}
VERSIONS = {KUSTOMIZE: "v1", SOURCE: "v1", HELM: "v2"}
EVENT_TIME = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)


CASES = {
    # (kind, group, metadata posted/annotated, revision Flux hashes)
    "apps": ("Kustomization", KUSTOMIZE, {"revision": GIT_REVISION}, GIT_REVISION),
    "flux-system": ("GitRepository", SOURCE, {"revision": GIT_REVISION}, GIT_REVISION),
    "podinfo": ("HelmRelease", HELM, {"revision": CHART_VERSION, "app-version": APP_VERSION, "oci-digest": OCI_DIGEST},
                f"{APP_VERSION}@{OCI_DIGEST}"),
}


@pytest.fixture(scope="module")
def pipeline(kube, flux_namespace, notification_controller, tmp_path_factory):
    """Sink <- gateway (rendered, with the Alert's real UID) <- log agent; tracing objects applied."""
    workdir = tmp_path_factory.mktemp("traces")
    host = loopback_address()
    rendering, uid, alert = apply_tracing(kube, {}, gateway=f"http://{host}:{c.OTLP_HTTP_PORT}")
    gateway_config, agent_config = gateway_and_agent(collector_configs(rendering))
    sink = Sink(workdir / "sink")
    gateway_local = localize(gateway_config, workdir=workdir / "gateway", export_to=sink, without=("prometheus",))
    # Each collector with the receiver tokens its Secrets hold, as the kubelet hands them over; the
    # Provider sends the same token from its own Secret.
    gateway = Collector("gateway", kubeconfig_auth(gateway_local), workdir / "gateway", host=host,
                        env={"KUBECONFIG": str(kube.admin_kubeconfig), **kubelet_env(rendering)})
    pods = workdir / "pods"
    agent = Collector("agent", localize(agent_config, workdir=workdir / "agent", export_to=gateway.otlp_grpc_endpoint,
                                        pod_logs=pods), workdir / "agent", env=kubelet_env(rendering, agent_config))
    with sink, gateway, agent:
        yield {"sink": sink, "uid": uid, "alert": alert, "pods": pods, "gateway": gateway}


def spans_by_object(sink, alert_uid: str | None = None) -> dict[str, Received]:
    """Spans by object name; with `alert_uid`, only those of that Alert."""
    return {span.attributes.get("object.name"): span for span in sink.spans()
            if alert_uid is None or span.resource.get("service.instance.id") == alert_uid}


@pytest.fixture(scope="module")
def delivered(pipeline, notification_controller, kube):
    """Each case posted to notification-controller and recorded as a Kubernetes Event."""
    for name, (kind, group, metadata, _) in CASES.items():
        status = notification_controller.post_event(
            flux_event(kind, name, group=group, metadata=metadata, reason=TRACED, message=f"{kind} {name} ready",
                       version=VERSIONS[group])
        )
        assert status == 202, f"notification-controller answered {status}"
        annotations = {c.flux_event_annotation(group, key): value for key, value in metadata.items()}
        kube.apply([core_event(kind, name, f"{group}/{VERSIONS[group]}", reason=TRACED, message=f"{kind} {name} ready",
                               annotations=annotations, at=EVENT_TIME, component=CONTROLLERS[group])])
    sink = pipeline["sink"]
    wait_until(lambda: set(CASES) <= set(spans_by_object(sink)), timeout=60,
               what=f"spans of {sorted(CASES)} at the sink (gateway log:\n{pipeline['gateway'].log_tail(10)})")
    wait_until(lambda: set(CASES) <= {r.attributes.get("name") for r in sink.logs()}, timeout=60,
               what="the event records at the sink")
    return pipeline


def test_events_become_spans_with_the_documented_name_resource_and_attributes(delivered):
    spans = spans_by_object(delivered["sink"])
    alert = delivered["alert"]
    for name, (kind, _, metadata, _) in CASES.items():
        span = spans[name]
        assert span["name"] == f"{kind}: {c.FLUX_NAMESPACE}/{name}"
        assert span.resource["service.name"] == f"{c.FLUX_NAMESPACE}/{alert['metadata']['name']}"
        assert span.resource["service.namespace"] == c.FLUX_NAMESPACE
        assert span.resource["service.instance.id"] == delivered["uid"]
        assert span.attributes["object.kind"] == kind and span.attributes["object.namespace"] == c.FLUX_NAMESPACE
        assert span.attributes["revision"] == metadata["revision"]
        # The Alert's eventMetadata reaches every span (the rendered Alert sets `cluster`).
        assert span.attributes["cluster"] == alert["spec"]["eventMetadata"]["cluster"]
        assert span.resource["k8s.cluster.name"] == STACK


def test_span_trace_ids_are_flux_hash_of_alert_uid_and_revision(delivered):
    spans = spans_by_object(delivered["sink"])
    for name, (*_, revision) in CASES.items():
        assert spans[name]["traceId"] == flux_trace_id(delivered["uid"], revision), name


def test_event_records_carry_the_trace_id_of_their_span(delivered):
    """The gateway's event transform, run by the real collector on the real Events, gives each
    record exactly the trace ID the real notification-controller gave the span of that event;
    for the OCI HelmRelease that is the `<app-version>@<oci-digest>` form."""
    sink = delivered["sink"]
    spans = spans_by_object(sink)
    records = {r.attributes["name"]: r for r in sink.logs() if r.attributes.get("reason") == TRACED}
    for name in CASES:
        assert records[name]["traceId"] == spans[name]["traceId"], name
        # The OCI metadata used for the ID does not stay on the record.
        assert not any(key.startswith("flux.") for key in records[name].attributes)


def test_a_kustomize_controller_line_links_to_its_trace_and_a_helm_controller_line_does_not(delivered):
    """kustomize-controller logs `revision` at info; helm-controller never does
    (constants.FLUX_KINDS_LOGGING_REVISION), so only the first line can be linked."""
    sink = delivered["sink"]
    kustomize = PodLog(delivered["pods"], c.FLUX_NAMESPACE, "kustomize-controller-7d9f8b6c5d-x2x9q")
    kustomize.write([json.dumps({
        "level": "info", "ts": "2026-11-30T05:00:01.000Z", "msg": "Reconciliation finished in 1.2s, next run in 10m0s",
        "controller": "kustomization", "controllerGroup": KUSTOMIZE, "controllerKind": "Kustomization",
        "Kustomization": {"name": "apps", "namespace": c.FLUX_NAMESPACE}, "namespace": c.FLUX_NAMESPACE,
        "name": "apps", "reconcileID": "6a1f4b2c-0d3e-4f5a-8b6c-7d8e9f0a1b2c", "revision": GIT_REVISION,
    })])
    helm = PodLog(delivered["pods"], c.FLUX_NAMESPACE, "helm-controller-5b6c7d8e9f-abcde")
    helm.write([json.dumps({
        "level": "info", "ts": "2026-11-30T05:00:02.000Z", "msg": "release in-sync with desired state",
        "controller": "helmrelease", "controllerGroup": HELM, "controllerKind": "HelmRelease",
        "HelmRelease": {"name": "podinfo", "namespace": c.FLUX_NAMESPACE}, "namespace": c.FLUX_NAMESPACE,
        "name": "podinfo", "reconcileID": "7b2a5c3d-1e4f-4a6b-9c7d-8e9f0a1b2c3d",
    })])
    lines = lambda: {r.body: r for r in sink.logs() if r.attributes.get("reconcileID")}  # noqa: E731
    found = wait_until(lambda: len(lines()) >= 2 and lines(), timeout=60, what="both controller lines at the sink")
    spans = spans_by_object(sink)
    assert found["Reconciliation finished in 1.2s, next run in 10m0s"]["traceId"] == spans["apps"]["traceId"]
    assert not found["release in-sync with desired state"].get("traceId")


class HeaderRecorder(http.server.BaseHTTPRequestHandler):
    """An HTTPS endpoint in front of the gateway: records each request's headers, forwards the body
    with the gateway's receiver token (`forward_with`), as a writer the gateway admits."""

    forward_to = ""
    forward_with = ""
    seen: list[dict[str, str]] = []

    def do_POST(self):  # noqa: N802 - BaseHTTPRequestHandler's name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(dict(self.headers))
        request = urllib.request.Request(self.forward_to + self.path, data=body,
                                         headers={"Content-Type": self.headers.get("Content-Type", ""),
                                                  "Authorization": f"Bearer {self.forward_with}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            payload = response.read()
            self.send_response(response.status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def test_spans_to_an_authenticated_endpoint_carry_the_secret_header(kube, flux_namespace, delivered, tmp_path):
    """`tracing.address` over https with `tracingHeaders`: the header lives only in the Provider's
    Secret and arrives with every span."""
    certs = kube.workdir / "certs"
    HeaderRecorder.forward_to = f"http://{delivered['gateway'].host}:{c.OTLP_HTTP_PORT}"
    HeaderRecorder.forward_with = delivered["gateway"].env[f"{receiver_auth.ENV}_CURRENT"]
    HeaderRecorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HeaderRecorder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs / "server.crt"), str(certs / "server.key"))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    token = "Bearer e2e-tracing-token-0123456789"
    try:
        overrides = {"tracing": {"address": f"https://127.0.0.1:{server.server_address[1]}/v1/traces",
                                 "providerName": "otel-authenticated", "alertName": "otel-authenticated"}}
        rendering, uid, _ = apply_tracing(kube, overrides, secrets={"tracingHeaders": {"Authorization": token}})
        # notification-controller trusts the test CA (Go reads SSL_CERT_FILE); a controller of its own.
        with notification_controller(kube, tmp_path, extra_env={"SSL_CERT_FILE": str(certs / "ca.crt")}) as controller:
            controller.post_event(flux_event("Kustomization", "secured", group=KUSTOMIZE, revision=GIT_REVISION))
            wait_until(lambda: HeaderRecorder.seen, timeout=60, what="a span request at the HTTPS endpoint")
        assert all(headers.get("Authorization") == token for headers in HeaderRecorder.seen)
        span = wait_until(lambda: spans_by_object(delivered["sink"], uid).get("secured"), timeout=30,
                          what="the authenticated span at the sink")
        assert span["traceId"] == flux_trace_id(uid, GIT_REVISION)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
