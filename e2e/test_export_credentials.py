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

import pytest

from components import constants as c
from components.builders import receiver_auth
from components.tooling.render import read_stack_file
from e2e.harness.collector import (
    HEADER_ATTRIBUTE_PREFIX,
    Collector,
    Sink,
    collector_configs,
    gateway_and_agent,
    kubelet_env,
    localize,
    post_span,
)
from e2e.harness.kube import wait_until
from e2e.harness.render import ROOT, run_stack

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


@pytest.mark.parametrize("stack", ["grafana-cloud", "honeycomb", "prod"])
def test_the_backend_receives_the_stack_credentials(stack, tmp_path):
    secrets, expected = expected_headers(stack)
    rendering = run_stack(stack, secrets=secrets)
    gateway_config, _ = gateway_and_agent(collector_configs(rendering))
    with Sink(tmp_path / "sink", recorded_headers=RECORDED) as sink:
        local = localize(
            gateway_config, workdir=tmp_path / "gateway", export_to=sink, without={"k8s_objects", "prometheus"}
        )
        env = kubelet_env(rendering)
        with Collector("gateway", local, tmp_path / "gateway", env=env) as gateway:
            post_span(f"http://{gateway.host}:{c.OTLP_HTTP_PORT}", token=env[f"{receiver_auth.ENV}_CURRENT"])
            wait_until(lambda: sink.spans(), timeout=60, what="the span at the sink")
    (span,) = sink.spans()
    received = {key.removeprefix(HEADER_ATTRIBUTE_PREFIX): value for key, value in span.attributes.items()
                if key.startswith(HEADER_ATTRIBUTE_PREFIX)}
    assert received == expected
