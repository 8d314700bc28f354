"""docs/troubleshooting.md, "My backend shows nothing": each export fault its table lists, made for
real, and the real collector's log quoted right.

The gateway runs from a rendered configuration (the `prod` stack's Dash0 gRPC exporter, or
`grafana-cloud`'s OTLP/HTTP one), with only the exporter's endpoint moved to the fault: a backend
that refuses the credentials (a gRPC server answering Unauthenticated; an HTTP server answering
401), a plaintext port where the rendered exporter speaks TLS, a port where nothing listens, a
host no DNS resolves. A span posted to the gateway is the export that meets the fault; the message
the doc's table quotes for it (with `...` for what varies) must be what the gateway logs.
"""

from __future__ import annotations

import http.server
import re
import threading
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import grpc
import pytest

from components import constants as c
from components.builders import receiver_auth
from e2e.harness.collector import (
    Collector,
    collector_configs,
    gateway_and_agent,
    kubelet_env,
    localize,
    loopback_address,
    post_span,
)
from e2e.harness.kube import wait_until
from e2e.harness.render import ROOT, run_stack

SECTION = "## My backend shows nothing"
ERROR_FIELD = re.compile(r'"error": "((?:[^"\\]|\\.)*)"')


class Unauthenticated(grpc.GenericRpcHandler):
    """Every call refused as a backend refuses a wrong token."""

    def service(self, handler_call_details):
        def refuse(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid token")
        return grpc.unary_unary_rpc_method_handler(refuse)


class Refuses401(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def refusing_backend() -> Iterator[str]:
    """A plaintext backend on a loopback address of its own: gRPC on 4317, HTTP on 4318."""
    host = loopback_address(ports=(c.OTLP_GRPC_PORT, c.OTLP_HTTP_PORT))
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers([Unauthenticated()])
    server.add_insecure_port(f"{host}:{c.OTLP_GRPC_PORT}")
    server.start()
    httpd = http.server.ThreadingHTTPServer((host, c.OTLP_HTTP_PORT), Refuses401)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield host
    finally:
        httpd.shutdown()
        httpd.server_close()
        server.stop(None).wait()


@dataclass(frozen=True)
class Fault:
    row: str  # words of the cause column that pick the table row
    stack: str
    endpoint: str  # {backend} is the refusing backend's host, {nowhere} a loopback address with nothing
    tls_as_rendered: bool = False


FAULTS = {
    "grpc-credentials-refused": Fault("refused the token (gRPC", "prod", "{backend}:4317"),
    "http-credentials-refused": Fault("the same over `protocol: http`", "grafana-cloud", "http://{backend}:4318/otlp"),
    "tls-to-plaintext": Fault("speaks TLS", "prod", "{backend}:4317", tls_as_rendered=True),
    "connection-refused": Fault("nothing listens", "prod", "{nowhere}:4317"),
    "no-dns": Fault("found no address", "prod", "backend.invalid:4317"),
}
SECRETS = {"prod": {"exportToken": "troubleshooting-token"}, "grafana-cloud": {"exportPassword": "troubleshooting"}}


def quoted_message(row_words: str) -> str:
    """The message the doc's table quotes in the row whose cause holds `row_words`."""
    section = (ROOT / "docs" / "troubleshooting.md").read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.strip().startswith("| `") and row_words in line]
    assert len(rows) == 1, f"{row_words!r} picks {len(rows)} rows of the table"
    match = re.match(r"\s*\| `([^`]+)` \|", rows[0])
    assert match, f"no quoted message in {rows[0]!r}"
    return match.group(1)


def logged_errors(log: Path) -> list[str]:
    """The `error` field of every line the gateway logged, unescaped."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return [match.group(1).replace('\\"', '"') for match in ERROR_FIELD.finditer(text)]


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_the_gateway_logs_what_the_table_quotes(fault, tmp_path):
    pattern = re.compile(".*".join(re.escape(part) for part in quoted_message(fault.row).split("...")))
    rendering = run_stack(fault.stack, secrets=SECRETS[fault.stack])
    gateway_config, _ = gateway_and_agent(collector_configs(rendering))
    with refusing_backend() as backend:
        endpoint = fault.endpoint.format(backend=backend, nowhere=loopback_address(ports=(c.OTLP_GRPC_PORT,)))
        config = localize(gateway_config, workdir=tmp_path, without={"k8s_objects", "prometheus"}, fast_retry=True)
        (exporter,) = [e for name, e in config["exporters"].items() if name.startswith(("otlp_grpc", "otlp_http"))]
        exporter["endpoint"] = endpoint
        if fault.tls_as_rendered:
            tls = gateway_config["exporters"]
            (rendered,) = [e for name, e in tls.items() if name.startswith("otlp_grpc")]
            exporter["tls"] = dict(rendered.get("tls", {}))
        env = kubelet_env(rendering)
        with Collector("gateway", config, tmp_path, env=env) as gateway:
            post_span(f"http://{gateway.host}:{c.OTLP_HTTP_PORT}", token=env[f"{receiver_auth.ENV}_CURRENT"])
            try:
                wait_until(lambda: any(pattern.search(error) for error in logged_errors(gateway.log_path)),
                           timeout=60, what=f"the gateway to log {pattern.pattern}")
            except TimeoutError:
                raise AssertionError(f"logged instead: {sorted(set(logged_errors(gateway.log_path)))}") from None
