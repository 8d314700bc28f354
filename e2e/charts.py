"""A Helm chart repository on loopback: stand-in charts for the engine tier, or any charts given.

The public chart repositories are out of reach here, and the real charts' workloads would need a
kubelet. Each stand-in has the real chart's name and pinned version, so the Releases resolve
exactly what they ask for, and one template: a ConfigMap `<release>-stand-in-values` holding the
values the Release passed (a test reads them back from the API server). The real charts' own
checks stay where they are: tests/test_helm_values.py validates every rendered values object
against the collector chart's values schema.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable

import yaml

from components import constants as c
from e2e.kube import free_port
from tests.support import ROOT

STAND_INS = {c.COLLECTOR_CHART: c.COLLECTOR_CHART_VERSION, c.KSM_CHART: c.KSM_CHART_VERSION}
VALUES_CONFIGMAP = "stand-in-values"
TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-%s
  namespace: {{ .Release.Namespace }}
data:
  values.yaml: {{ toYaml .Values | quote }}
""" % VALUES_CONFIGMAP



def chart_overrides(stack: str, repository: str) -> dict[str, dict[str, Any]]:
    """The sections of `stack` that name a chart, with `repository` as their chart repository:
    whole sections, the stack file's own keys kept (an override replaces a whole section)."""
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    sections = ["objectHealth"] + (["collector"] if config.get(f"{c.PROJECT}:mode", "collector") == "collector" else [])
    return {section: {**config.get(f"{c.PROJECT}:{section}", {}), "chartRepository": repository} for section in sections}

def _add(archive: tarfile.TarFile, name: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    archive.addfile(info, io.BytesIO(data))


@dataclass(frozen=True)
class Chart:
    """A chart to serve: its templates (file name -> text) and, optionally, its appVersion."""

    name: str
    version: str
    templates: tuple[tuple[str, str], ...]
    description: str
    app_version: str | None = None

    def package(self) -> bytes:
        """The archive as `helm package` lays it out: `<name>/Chart.yaml`, `<name>/templates/...`."""
        chart = {"apiVersion": "v2", "name": self.name, "version": self.version, "type": "application",
                 "description": self.description}
        if self.app_version:
            chart["appVersion"] = self.app_version
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            _add(archive, f"{self.name}/Chart.yaml", yaml.safe_dump(chart, sort_keys=True))
            for filename, text in self.templates:
                _add(archive, f"{self.name}/templates/{filename}", text)
        return buffer.getvalue()


def stand_in(name: str, version: str) -> Chart:
    return Chart(name, version, (("values.yaml", TEMPLATE),),
                 f"Stand-in for {name} {version} in fluxcd-otel's engine tier: renders its values only.")


class ChartRepository:
    """Serves `index.yaml` and the chart archives (by default the stand-ins) from `directory` at `url`."""

    def __init__(self, directory: Path, charts: Iterable[Chart] | None = None, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        port = free_port(host)
        self.url = f"http://{host}:{port}"
        entries: dict[str, list[dict[str, Any]]] = {}
        for chart in charts if charts is not None else [stand_in(*item) for item in STAND_INS.items()]:
            archive = chart.package()
            filename = f"{chart.name}-{chart.version}.tgz"
            (self.directory / filename).write_bytes(archive)
            entry = {"apiVersion": "v2", "name": chart.name, "version": chart.version, "type": "application",
                     "urls": [f"{self.url}/{filename}"], "digest": hashlib.sha256(archive).hexdigest(),
                     "created": "2026-11-30T00:00:00Z"}
            if chart.app_version:
                entry["appVersion"] = chart.app_version
            entries.setdefault(chart.name, []).append(entry)
        index = {"apiVersion": "v1", "entries": entries, "generated": "2026-11-30T00:00:00Z"}
        (self.directory / "index.yaml").write_text(yaml.safe_dump(index, sort_keys=True))
        handler = partial(_QuietFiles, directory=str(self.directory))
        self.server = ThreadingHTTPServer((host, port), handler)

    def __enter__(self) -> "ChartRepository":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
