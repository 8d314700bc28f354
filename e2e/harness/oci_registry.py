"""An OCI registry on loopback: the Distribution registry (distribution/distribution/v3), the real
binary, with filesystem storage; and a push over the registry API (OCI distribution spec: a
monolithic blob upload, then the manifest), as `helm push` lays a chart out.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
import urllib.response
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import yaml

from e2e.harness.charts import Chart
from e2e.harness.kube import LOOPBACK, Process, child_env, free_port, wait_until
from e2e.harness.programs import require

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# Helm's OCI media types (helm/v3 pkg/registry/constants.go), which source-controller selects.
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART_CONTENT = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


@dataclass
class Registry:
    process: Process
    address: str

    def _request(self, method: str, path: str, data: bytes = b"", content_type: str = "") -> urllib.response.addinfourl:
        request = urllib.request.Request(f"http://{self.address}{path}", data=data or None, method=method,
                                         headers={"Content-Type": content_type} if content_type else {})
        return urllib.request.urlopen(request, timeout=30)

    def _blob(self, repository: str, data: bytes) -> dict[str, object]:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        with self._request("POST", f"/v2/{repository}/blobs/uploads/") as started:
            location = started.headers["Location"]
        separator = "&" if "?" in location else "?"
        path = location.removeprefix(f"http://{self.address}") + f"{separator}digest={digest}"
        with self._request("PUT", path, data, "application/octet-stream"):
            pass
        return {"digest": digest, "size": len(data)}

    def push_chart(self, repository: str, chart: Chart) -> str:
        """Pushes `chart` as `<repository>:<version>` as Helm does; returns the manifest digest."""
        metadata = {"apiVersion": "v2", "name": chart.name, "version": chart.version, "type": "application",
                    "description": chart.description}
        if chart.app_version:
            metadata["appVersion"] = chart.app_version
        config = {"mediaType": HELM_CONFIG, **self._blob(repository, json.dumps(metadata).encode())}
        layer = {"mediaType": HELM_CHART_CONTENT, **self._blob(repository, chart.package())}
        manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
                               "layers": [layer]}).encode()
        with self._request("PUT", f"/v2/{repository}/manifests/{chart.version}", manifest, OCI_MANIFEST):
            pass
        return f"sha256:{hashlib.sha256(manifest).hexdigest()}"


@contextmanager
def registry(workdir: Path) -> Iterator[Registry]:
    """The registry serving `<workdir>/storage` at a free loopback port; stopped on exit."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    address = f"{LOOPBACK}:{free_port()}"
    config = {"version": 0.1, "log": {"level": "warn"}, "http": {"addr": address},
              "storage": {"filesystem": {"rootdirectory": str(workdir / "storage")}}}
    (workdir / "config.yml").write_text(yaml.safe_dump(config))
    process = Process("registry", [str(require("registry")), "serve", str(workdir / "config.yml")], workdir,
                      env=child_env())
    running = Registry(process, address)
    try:
        def answers() -> bool:
            if not process.alive():
                raise RuntimeError(f"registry exited:\n{process.log_tail()}")
            with running._request("GET", "/v2/") as response:
                return response.status == 200
        wait_until(answers, timeout=60, what="the registry's /v2/")
        yield running
    finally:
        process.stop()
