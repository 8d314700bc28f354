"""Flux-shaped load for the real collectors, on loopback: what a cluster with a given number of Flux
objects makes the gateway and the log agent handle.

- Metrics: one `/metrics` server per scrape target of the rendered gateway config, each at its own
  loopback address and the rendered port. The controllers serve `bench/flux_metrics.py`
  expositions scaled to the object count; the object-health target serves what kube-state-metrics
  serves for each object (`gotk_resource_info` and the Ready transition, labels as
  e2e/test_object_health.py shows the real program produces).
- Logs: kustomize-, helm- and source-controller JSON lines (the shape e2e/test_logs_pipeline.py
  feeds the real agent) appended to kubelet-laid-out pod log files at a steady rate. Each line
  carries its number and the time it was written, so the sink side can count and time it.
- Spans: Flux-event-shaped spans posted to the gateway's OTLP/HTTP receiver, one per object every
  ten minutes (a reconcile that emits an event), as the notification-controller's `otel` Provider
  would.
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import flux_metrics
from bench.periodic import Periodic
from components import constants as c
from components.builders.collector_configs import OBJECT_HEALTH_JOB
from components.config import TracingSettings
from e2e.harness.collector import PodLog, component_type, loopback_address

# Each Flux kind's API group and version, as kube-state-metrics labels its series.
FLUX_KINDS = {r.kind: r for resources in c.FLUX_RESOURCES_BY_CONTROLLER.values() for r in resources}
# How often a Flux object's reconcile emits an event that becomes a span.
SPAN_PERIOD_SECONDS = 600
# The notification-controller names a span's service after its Alert: `<namespace>/<name>`.
SPAN_SERVICE_NAME = f"{c.FLUX_NAMESPACE}/{TracingSettings().alert_name}"
LOG_CONTROLLERS = ("kustomize-controller", "helm-controller", "source-controller")


def object_health_exposition(inventory: dict[str, dict[str, int]]) -> str:
    """What kube-state-metrics serves for these objects: one info and one transition series each,
    every tenth object not ready."""
    info, since = [], []
    for controller in inventory:
        for index, obj in enumerate(flux_metrics.flux_objects(controller, inventory)):
            kind = FLUX_KINDS[obj.kind]
            identity = (f'customresource_group="{kind.group}",customresource_kind="{obj.kind}",'
                        f'customresource_version="{kind.version}",exported_namespace="{obj.namespace}",'
                        f'kind="{obj.kind}",name="{obj.name}"')
            ready, reason = (
                ("False", "ReconciliationFailed") if index % 10 == 9 else ("True", "ReconciliationSucceeded")
            )
            info.append(f'{c.FLUX_RESOURCE_INFO_METRIC}{{{identity},ready="{ready}",reason="{reason}",'
                        f'suspended="false"}} 1\n')
            since.append(f"{c.FLUX_READY_TRANSITION_METRIC}{{{identity}}} {1777882500 + index}\n")
    return (f"# HELP {c.FLUX_RESOURCE_INFO_METRIC} Flux object info\n# TYPE {c.FLUX_RESOURCE_INFO_METRIC} gauge\n"
            + "".join(info)
            + f"# HELP {c.FLUX_READY_TRANSITION_METRIC} Ready transition\n"
            f"# TYPE {c.FLUX_READY_TRANSITION_METRIC} gauge\n"
            + "".join(since))


class _Exposition(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 - BaseHTTPRequestHandler's name
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def samples(exposition: str) -> int:
    return sum(1 for line in exposition.splitlines() if line and not line.startswith("#"))


def scrape_targets(config: dict[str, Any]) -> list[tuple[str, str]]:
    """(job, host:port) of every static scrape target in a collector config."""
    return [(job["job_name"], target)
            for receiver_id, receiver in config.get("receivers", {}).items()
            if component_type(receiver_id) == "prometheus"
            for job in receiver["config"]["scrape_configs"]
            for static in job.get("static_configs", []) for target in static["targets"]]


@dataclass
class MetricsLoad:
    """A /metrics server for each scrape target of `config`; `localized(config)` points the
    config's targets at them."""

    config: dict[str, Any]
    objects: int
    servers: dict[str, ThreadingHTTPServer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.inventory = flux_metrics.scaled_inventory(self.objects)
        texts = flux_metrics.expositions(inventory=self.inventory)
        health = object_health_exposition(self.inventory).encode()
        for job, target in scrape_targets(self.config):
            host, port = target.rsplit(":", 1)
            if job == OBJECT_HEALTH_JOB:
                body = health
            else:
                controller = next(name for name in c.FLUX_CONTROLLERS if host.startswith(f"{name}-"))
                # Controllers bench/flux_metrics.py has no objects for (image automation) serve
                # their controller-runtime and process families only.
                text = texts.get(controller) or flux_metrics.controller_exposition(
                    controller, random.Random(flux_metrics.SEED), {controller: {}})
                texts[controller] = text
                body = text.encode()
            handler = type("Exposition", (_Exposition,), {"body": body})
            self.servers[target] = ThreadingHTTPServer((loopback_address((int(port),)), int(port)), handler)
        self.series = sum(samples(text) for text in [*texts.values(), health.decode()])

    def localized(self, config: dict[str, Any]) -> dict[str, Any]:
        for receiver_id, receiver in config.get("receivers", {}).items():
            if component_type(receiver_id) == "prometheus":
                for job in receiver["config"]["scrape_configs"]:
                    for static in job.get("static_configs", []):
                        static["targets"] = [self.address(target) for target in static["targets"]]
        return config

    def address(self, target: str) -> str:
        host, port = self.servers[target].server_address[:2]
        assert isinstance(host, str)  # an AF_INET server's address
        return f"{host}:{port}"

    def start(self) -> "MetricsLoad":
        for server in self.servers.values():
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


def flux_line(number: int, controller: str, written_ns: int) -> str:
    """A Flux controller's JSON log line at info, numbered and stamped with when it was written."""
    kind = {"kustomize-controller": "Kustomization", "helm-controller": "HelmRelease",
            "source-controller": "GitRepository"}[controller]
    group = {"kustomize-controller": "kustomize", "helm-controller": "helm", "source-controller": "source"}[controller]
    name = f"{kind.lower()}-{number % 97:02d}"
    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(written_ns / 1e9)) + f".{written_ns // 1_000_000 % 1000:03d}Z"
    entry = {"level": "info", "ts": ts, "msg": f"line {number} {written_ns}",
             "controller": kind.lower(), "controllerGroup": f"{group}.toolkit.fluxcd.io", "controllerKind": kind,
             kind: {"name": name, "namespace": "apps"}, "namespace": "apps", "name": name,
             "reconcileID": f"{number:08x}-0000-4000-8000-000000000000"}
    if kind == "Kustomization":
        entry["revision"] = f"main@sha1:{number:040x}"
    return json.dumps(entry, separators=(",", ":"))


class LogLoad(Periodic):
    """Appends Flux lines to the controllers' pod logs at `rate` lines per second, in ten slices a
    second, from a thread; `written` counts them."""

    def __init__(self, pods: Path, rate: float) -> None:
        super().__init__(0.1)
        self.logs = [PodLog(pods, c.FLUX_NAMESPACE, f"{controller}-7d9f8b6c5d-x2x9q") for controller in LOG_CONTROLLERS]
        self.rate = rate
        self.written = 0

    def tick(self) -> None:
        due = int((time.monotonic() - self.started) * self.rate)
        for number in range(self.written, due):
            controller_log = self.logs[number % len(self.logs)]
            controller = LOG_CONTROLLERS[number % len(self.logs)]
            controller_log.write([flux_line(number, controller, time.time_ns())])
        self.written = max(self.written, due)


class SpanLoad(Periodic):
    """Posts one span per Flux object every SPAN_PERIOD_SECONDS to an OTLP/HTTP endpoint, batched
    each second as the Provider's exporter batches."""

    def __init__(self, endpoint: str, objects: int, token: str | None = None) -> None:
        """`token`: the receiver token the gateway requires, as the Provider sends it."""
        super().__init__(1.0)
        self.url = f"{endpoint}/v1/traces"
        self.headers = {"Content-Type": "application/json"}
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"
        self.rate = objects / SPAN_PERIOD_SECONDS
        self.sent = 0
        self._rng = random.Random(flux_metrics.SEED)

    def _span(self, number: int) -> dict[str, Any]:
        now = time.time_ns()
        return {"traceId": f"{self._rng.getrandbits(128):032x}", "spanId": f"{self._rng.getrandbits(64):016x}",
                "name": f"Kustomization/apps/app-{number % 997}", "kind": 1,
                "startTimeUnixNano": str(now - 1_000_000_000), "endTimeUnixNano": str(now),
                "attributes": [{"key": "revision", "value": {"stringValue": f"main@sha1:{number:040x}"}}]}

    def tick(self) -> None:
        due = int((time.monotonic() - self.started) * self.rate)
        spans = [self._span(number) for number in range(self.sent, due)]
        if not spans:
            return
        body = {"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": SPAN_SERVICE_NAME}}]},
            "scopeSpans": [{"spans": spans}]}]}
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=10):
                pass
        except OSError:
            pass  # a refusal also counts in the gateway's own telemetry, which the benchmark reads
        self.sent = due
