"""Export credentials arrive at the backend: the real gateway, run with the rendered config and the
environment Kubernetes would give it from the rendered credentials Secret, sends each backend's
headers (Bearer token, Basic auth, an API-key header) with every export.

The Secret's keys, the container's `secretKeyRef`s and the config's `${env:...}` references are
three names that must agree; here the collector itself expands them, and a sink that records its
client metadata shows what reached it. A span posted to the gateway's OTLP/HTTP receiver is the
export that carries them.
"""

from __future__ import annotations

import base64
import json
import urllib.request

import pytest

from components import constants as c
from components.tooling.render import masked, read_stack_file
from e2e.collector import HEADER_ATTRIBUTE_PREFIX, Collector, Sink, collector_configs, gateway_and_agent, localize
from e2e.kube import wait_until
from tests.support import ROOT, run_stack

TOKEN = "TOKEN_THAT_MUST_ARRIVE_1234"
PASSWORD = "PASSWORD_THAT_MUST_ARRIVE_5678"
API_KEY = "KEY_THAT_MUST_ARRIVE_9012"
RECORDED = ("Authorization", "x-honeycomb-team", "Dash0-Dataset")


def exporter_of(stack: str) -> dict:
    return json.loads(read_stack_file(ROOT, stack).config[f"{c.PROJECT}:exporter"])


def expected_headers(stack: str) -> tuple[dict, dict[str, str]]:
    """The secrets a stack is rendered with, and the headers the backend must then receive."""
    if stack == "grafana-cloud":
        username = exporter_of(stack)["username"]
        # RFC 7617, written out here rather than with the package's own basic_credentials.
        encoded = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
        return {"exportPassword": PASSWORD}, {"authorization": f"Basic {encoded}"}
    if stack == "honeycomb":
        return {"exportHeaders": {"x-honeycomb-team": API_KEY}}, {"x-honeycomb-team": API_KEY}
    return {"exportToken": TOKEN}, {"authorization": f"Bearer {TOKEN}", "dash0-dataset": exporter_of(stack)["dataset"]}


def kubelet_env(rendering) -> dict[str, str]:
    """The gateway container's secret environment, resolved the way the kubelet resolves it: each
    `extraEnvs` entry's secretKeyRef looked up in the rendered Secret of that name."""
    secrets = {
        masked(r.inputs)["metadata"]["name"]: masked(r.inputs["stringData"], reveal=True)
        for r in rendering.resources if r.type == "kubernetes:core/v1:Secret"
    }
    gateway, _ = gateway_and_agent(collector_configs(rendering))
    (values,) = [masked(r.inputs)["values"] for r in rendering.resources if r.type == "kubernetes:helm.sh/v3:Release"
                 and masked(r.inputs)["values"].get("alternateConfig") == gateway]
    env = {}
    for entry in values["extraEnvs"]:
        reference = entry["valueFrom"]["secretKeyRef"]
        env[entry["name"]] = secrets[reference["name"]][reference["key"]]
    return env


def post_span(endpoint: str) -> None:
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "credentials",
            "kind": 1, "startTimeUnixNano": "1764482400000000000", "endTimeUnixNano": "1764482401000000000"}
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    request = urllib.request.Request(f"{endpoint}/v1/traces", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.mark.parametrize("stack", ["grafana-cloud", "honeycomb", "prod"])
def test_the_backend_receives_the_stack_credentials(stack, tmp_path):
    secrets, expected = expected_headers(stack)
    rendering = run_stack(stack, secrets=secrets)
    gateway_config, _ = gateway_and_agent(collector_configs(rendering))
    with Sink(tmp_path / "sink", recorded_headers=RECORDED) as sink:
        local = localize(
            gateway_config, workdir=tmp_path / "gateway", export_to=sink, without={"k8s_objects", "prometheus"}
        )
        with Collector("gateway", local, tmp_path / "gateway", env=kubelet_env(rendering)) as gateway:
            post_span(f"http://{gateway.host}:{c.OTLP_HTTP_PORT}")
            wait_until(lambda: sink.spans(), timeout=60, what="the span at the sink")
    (span,) = sink.spans()
    received = {key.removeprefix(HEADER_ATTRIBUTE_PREFIX): value for key, value in span.attributes.items()
                if key.startswith(HEADER_ATTRIBUTE_PREFIX)}
    assert received == expected
