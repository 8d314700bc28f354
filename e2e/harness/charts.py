"""A Helm chart repository on loopback: by default the real packaged charts the package deploys
(`../shared/charts`, read where they are), or any charts a test makes.

The public chart repositories are out of reach here. The stacks point `gateway.chartRepository`
and `objectHealth.chartRepository` at this repository, so `pulumi up` installs the real chart
templates at the pinned versions.
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
from components.tooling.render import read_stack_file
from e2e.harness.kube import free_port
from e2e.harness.render import ROOT

SHARED_CHARTS = ROOT.parent / "shared" / "charts"
# The charts the package deploys, at the versions it pins.
DEPLOYED = {c.COLLECTOR_CHART: c.COLLECTOR_CHART_VERSION, c.KSM_CHART: c.KSM_CHART_VERSION}


def chart_overrides(stack: str, repository: str) -> dict[str, dict[str, Any]]:
    """The sections of `stack` that name a chart, with `repository` as their chart repository:
    whole sections, the stack file's own keys kept (an override replaces a whole section)."""
    settings = read_stack_file(ROOT, stack).plain_settings()
    sections = ["objectHealth"] + (["gateway"] if settings.get("mode", "collector") == "collector" else [])
    return {section: {**settings.get(section, {}), "chartRepository": repository} for section in sections}


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


def shared_archives() -> list[bytes]:
    """The packaged charts of DEPLOYED, as `../shared/charts` holds them."""
    paths = [SHARED_CHARTS / f"{name}-{version}.tgz" for name, version in DEPLOYED.items()]
    missing = [path.name for path in paths if not path.exists()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} missing in {SHARED_CHARTS}; "
                                "the engine tier needs ../shared/charts")
    return [path.read_bytes() for path in paths]


def chart_metadata(archive: bytes) -> dict[str, Any]:
    """The archive's `<name>/Chart.yaml`."""
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as unpacked:
        member = next(m for m in unpacked.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml"))
        chart_yaml = unpacked.extractfile(member)
        assert chart_yaml is not None, f"{member.name} is not a regular file"
        return yaml.safe_load(chart_yaml.read())


class ChartRepository:
    """Serves `index.yaml` and the chart archives (by default the real charts the package deploys)
    from `directory` at `url`."""

    def __init__(self, directory: Path, charts: Iterable[Chart] | None = None, host: str = "127.0.0.1") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        port = free_port(host)
        self.url = f"http://{host}:{port}"
        entries: dict[str, list[dict[str, Any]]] = {}
        archives = [chart.package() for chart in charts] if charts is not None else shared_archives()
        for archive in archives:
            metadata = chart_metadata(archive)
            filename = f"{metadata['name']}-{metadata['version']}.tgz"
            (self.directory / filename).write_bytes(archive)
            entry = {**metadata, "urls": [f"{self.url}/{filename}"], "digest": hashlib.sha256(archive).hexdigest(),
                     "created": "2026-11-30T00:00:00Z"}
            entries.setdefault(metadata["name"], []).append(entry)
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
