"""What the benchmarks read off a running collector, from outside it and from its own telemetry.

- `ProcessSampler`: CPU seconds (utime + stime) and peak RSS (VmHWM) of the process, from /proc.
- `with_self_telemetry` / `self_telemetry`: the collector's internal metrics on a loopback Prometheus
  endpoint (`service.telemetry.metrics`), for refused, failed and dropped items.
- `ByteCounter`: a TCP relay between an exporter and the sink that counts the bytes the exporter
  sends, compressed as on the wire: what a backend would bill for ingest traffic.
- `SinkTail`: reads the sink's file exporter output as it grows and times each Flux log line
  from the moment it was written (its body carries that time) to its arrival.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.periodic import Periodic
from e2e.harness.collector import any_value, loopback_address
from e2e.harness.network import splice

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TELEMETRY_PORT = 8888
# Internal metrics that count items a collector did not deliver, whatever the signal.
LOSS_METRIC = re.compile(r"^otelcol_(receiver_refused|receiver_failed|exporter_send_failed|exporter_enqueue_failed"
                         r"|processor_refused|processor_dropped)_\w+")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for {pid}")


class ProcessSampler:
    """CPU used between creation and `read()`; the peak RSS over the process's life."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._cpu, self._at = cpu_seconds(pid), time.monotonic()

    def read(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._at
        return {"cpu_cores": (cpu_seconds(self.pid) - self._cpu) / elapsed, "peak_rss_mib": peak_rss_mib(self.pid)}


def with_self_telemetry(config: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The config with its internal metrics served on a fresh loopback address; and their URL."""
    host = loopback_address((TELEMETRY_PORT,))
    config["service"].setdefault("telemetry", {})["metrics"] = {
        "level": "normal",
        "readers": [{"pull": {"exporter": {"prometheus": {"host": host, "port": TELEMETRY_PORT,
                                                          "without_scope_info": True, "without_units": True,
                                                          "without_type_suffix": False}}}}],
    }
    return config, f"http://{host}:{TELEMETRY_PORT}/metrics"


def self_telemetry(url: str) -> dict[str, float]:
    """Every internal metric sample, summed over its labels, by name."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.split(r"[{ ]", line, maxsplit=1)[0]
            totals[name] = totals.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return totals


def losses(telemetry: dict[str, float]) -> dict[str, float]:
    """The non-zero refused, failed and dropped counts."""
    return {name: value for name, value in telemetry.items() if LOSS_METRIC.match(name) and value}


class ByteCounter:
    """Listens on a loopback address and relays every connection to `upstream` (host:port),
    counting the bytes that flow towards it."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server((loopback_address((int(port),)), int(port)))
        self.sent = 0
        self._lock = threading.Lock()
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def endpoint(self) -> str:
        host, port = self.listener.getsockname()[:2]
        return f"{host}:{port}"

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()  # the sink is down: the exporter sees a refused connection, as with a backend
                continue
            server.settimeout(None)
            splice(client, server, on_sent=self._count)

    def _count(self, size: int) -> None:
        with self._lock:
            self.sent += size

    def close(self) -> None:
        self._closing = True
        self.listener.close()


class SinkTail(Periodic):
    """Follows the sink's JSON-lines file; for each Flux log line (body `line <n> <written_ns>`)
    keeps its number and the seconds from writing to arrival, as seen here."""

    def __init__(self, path: Path) -> None:
        super().__init__(0.1)
        self.path = path
        self.offset = 0
        self.pending = ""
        self.arrived: dict[int, float] = {}
        self.duplicates = 0

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open() as handle:
            handle.seek(self.offset)
            text = handle.read()
            self.offset = handle.tell()
        now_ns = time.time_ns()
        *complete, self.pending = (self.pending + text).split("\n")
        for line in complete:
            # Only log requests carry the timed lines; metric and span requests are not parsed.
            if line.startswith('{"resourceLogs"'):
                self._count_logs(json.loads(line), now_ns)

    def _count_logs(self, request: dict[str, Any], now_ns: int) -> None:
        for resource in request.get("resourceLogs", []):
            for scope in resource.get("scopeLogs", []):
                for record in scope.get("logRecords", []):
                    body = any_value(record.get("body", {}))
                    parts = body.split() if isinstance(body, str) else []
                    if len(parts) == 3 and parts[0] == "line":
                        number = int(parts[1])
                        if number in self.arrived:
                            self.duplicates += 1
                        else:
                            self.arrived[number] = (now_ns - int(parts[2])) / 1e9

    def tick(self) -> None:
        self._read()

    def stop(self) -> None:
        super().stop()
        self._read()

    def latency_percentiles(self, first: int, last: int) -> tuple[float, float]:
        """p50 and p99 seconds of the lines numbered first..last-1 that arrived."""
        values = sorted(self.arrived[n] for n in range(first, last) if n in self.arrived)
        if not values:
            return float("nan"), float("nan")
        return values[len(values) // 2], values[min(len(values) - 1, int(len(values) * 0.99))]
