"""kube-state-metrics as the rendered release runs it: the chart's container arguments, the
custom-resource-state configuration the chart's ConfigMap holds, a ServiceAccount bound to exactly
the rendered rules; and the Prometheus text it serves, parsed sample by sample."""

from __future__ import annotations

import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components import constants as c
from e2e.harness.kube import LOOPBACK, ApiServer, Process, child_env, free_port, wait_until
from e2e.harness.programs import require

# kube-state-metrics lists and watches asynchronously, after it has found the kinds among the CRDs.
# It finds the kinds within seconds (it polls the CRDs every 3 s); a generous bound still.
SETTLE_SECONDS = 30
INFO, SINCE, STORED = ("gotk_resource_info", "gotk_resource_ready_transition_timestamp_seconds",
                       "gotk_resource_artifact_timestamp_seconds")
HEALTH_FAMILIES = {INFO, SINCE, STORED}


def series_key(metric: str, labels: dict[str, str]) -> tuple:
    return metric, tuple(sorted(labels.items()))


# Values from which the chart's deployment.yaml renders further arguments; none may be set, or they
# would have to be passed here too.
ARGUMENT_VALUES = ("metricLabelsAllowlist", "metricAnnotationsAllowList", "metricAllowlist", "metricDenylist",
                   "namespaces", "releaseNamespace", "namespacesDenylist")
ARGUMENT_SWITCHES = ("autosharding", "kubeconfig", "kubeRBACProxy")


def health_release(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (release,) = [r for r in rendered.values() if r["chart"] == c.KSM_CHART]
    return release


def chart_args(values: dict[str, Any], config_file: Path, port: int) -> list[str]:
    """The kube-state-metrics container's arguments as the chart's deployment.yaml renders them
    (extraArgs, --port, --resources, --custom-resource-state-config-file), with this run's
    configuration file and port in place of the ConfigMap mount and the Service's port."""
    assert [k for k in ARGUMENT_VALUES if values.get(k)] == []
    assert [k for k in ARGUMENT_SWITCHES if values.get(k, {}).get("enabled")] == []
    assert not {"telemetryHost", "telemetryPort"} & set(values.get("selfMonitor", {}))
    assert values["service"]["port"] == c.KSM_METRICS_PORT
    args = [*values.get("extraArgs", []), f"--port={port}"]
    if values.get("collectors"):
        args.append(f"--resources={','.join(values['collectors'])}")
    if values["customResourceState"]["enabled"]:
        args.append(f"--custom-resource-state-config-file={config_file}")
    return args


def rbac_objects(release: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's ServiceAccount, ClusterRole and binding (fullname = the release's fullnameOverride)."""
    values, namespace = release["values"], release["namespace"]
    name = values["fullnameOverride"]
    assert values["rbac"]["create"] and values["rbac"]["useClusterRole"] and values["collectors"] == []
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": name},
         "rules": values["rbac"]["extraRules"]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": name},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
    ]


# The Accept header of a Prometheus scrape with the default scrape_protocols (OpenMetrics 1.0.0,
# OpenMetrics 0.0.1, Prometheus text 1.0.0, 0.0.4), as prometheus/scrape acceptHeader builds it: what
# the gateway's receiver sends, its job setting no scrape_protocols.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                     "application/openmetrics-text;version=0.0.1;q=0.5,"
                     "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
TEXT_ACCEPT = "text/plain;version=0.0.4"
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


@dataclass
class Scrape:
    content_type: str
    types: dict[str, str]
    samples: list[tuple[str, dict[str, str], float]]

    def health(self) -> dict[tuple, float]:
        got = [(series_key(metric, labels), value) for metric, labels, value in self.samples
               if metric in HEALTH_FAMILIES]
        keys = [k for k, _ in got]
        assert len(keys) == len(set(keys)), "kube-state-metrics served a series twice"
        return dict(got)


def parse(text: str, content_type: str) -> Scrape:
    """Every sample line as served. Not prometheus_client's parsers: kube-state-metrics repeats a
    family's header once per kind, and those parsers then keep only the first kind's samples."""
    types, samples = {}, []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            match = SAMPLE.match(line)
            assert match, f"unparsable sample: {line!r}"
            name, body, value = match.groups()
            labels = {k: bytes(v, "utf-8").decode("unicode_escape") for k, v in LABEL.findall(body or "")}
            samples.append((name, labels, float(value)))
    return Scrape(content_type, types, samples)


@dataclass
class KubeStateMetrics:
    process: Process
    url: str
    telemetry_url: str

    def telemetry(self) -> Scrape:
        """Its own metrics (list and watch counters, ...)."""
        with urllib.request.urlopen(f"{self.telemetry_url}/metrics", timeout=5) as response:
            return parse(response.read().decode(), response.headers.get("Content-Type", ""))

    def scrape(self, accept: str = PROMETHEUS_ACCEPT) -> Scrape:
        """/metrics as a scraper sending `accept` gets it (by default, as the gateway's
        Prometheus receiver asks for it)."""
        if not self.process.alive():
            raise RuntimeError(f"kube-state-metrics exited:\n{self.process.log_tail()}")
        request = urllib.request.Request(f"{self.url}{c.KSM_METRICS_PATH}", headers={"Accept": accept})
        with urllib.request.urlopen(request, timeout=5) as response:
            return parse(response.read().decode(), response.headers.get("Content-Type", ""))

    def settle(self, want: dict[tuple, float], select=lambda key: True) -> dict[tuple, float]:
        """The served health series (those `select` keeps) once they equal `want`, or the last
        ones seen after SETTLE_SECONDS, for the assertion to show the difference."""
        seen: dict[str, dict] = {}

        def equal() -> bool:
            seen["last"] = {k: v for k, v in self.scrape().health().items() if select(k)}
            return seen["last"] == want

        try:
            wait_until(equal, timeout=SETTLE_SECONDS, what="kube-state-metrics to serve the expected series",
                       interval=0.5)
        except TimeoutError:
            pass
        return seen.get("last", {})


def start_kube_state_metrics(kube: ApiServer, release: dict[str, Any], config: dict[str, Any],
                             workdir: Path, host: str = LOOPBACK, port: int | None = None) -> KubeStateMetrics:
    """Starts it serving at `host`:`port` (a free port by default), its own telemetry on a free
    loopback port; the caller stops `.process`."""
    values = release["values"]
    config_file = workdir / "config.yaml"
    # The chart's ConfigMap holds `toYaml .Values.customResourceState.config`.
    config_file.write_text(yaml.safe_dump(config))
    kubeconfig = kube.service_account_kubeconfig(release["namespace"], values["fullnameOverride"],
                                                 workdir / "kube-state-metrics.kubeconfig")
    port, telemetry_port = port or free_port(host), free_port()
    argv = [str(require("kube-state-metrics")), *chart_args(values, config_file, port),
            f"--kubeconfig={kubeconfig}", f"--host={host}",
            f"--telemetry-host={LOOPBACK}", f"--telemetry-port={telemetry_port}"]
    process = Process("kube-state-metrics", argv, workdir, env=child_env())
    return KubeStateMetrics(process, f"http://{host}:{port}", f"http://{LOOPBACK}:{telemetry_port}")
