"""Prometheus as the backend: the real program judges the alert rules and the dashboard queries.

Built from its module (e2e/harness/programs.py), run on loopback with its OTLP receiver and configured as
a user of a Prometheus-compatible backend would configure it for this package (docs/verify.md):
- `k8s.cluster.name` promoted from a resource attribute to the label `k8s_cluster_name`, so the
  cluster shows on every series and alert (by default it would stay in `target_info` only);
- the default name translation (`UnderscoreEscapingWithSuffixes`), which keeps the names the Flux
  controllers and kube-state-metrics expose;
- an out-of-order window, as Prometheus' OTLP guide advises: OTLP batches from one gateway can
  arrive out of order after a retry.
Rules are evaluated every second so that a test waits for `for` windows, not evaluation rounds.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from components.config import prometheus_duration_seconds
from e2e.harness.kube import Process, child_env, free_port, wait_until
from e2e.harness.programs import require

EVALUATION_INTERVAL = "1s"
CONFIG = {
    "global": {"evaluation_interval": EVALUATION_INTERVAL},
    "otlp": {"promote_resource_attributes": ["k8s.cluster.name"]},
    "storage": {"tsdb": {"out_of_order_time_window": "30m"}},
}
START_SECONDS = 60


class PrometheusError(RuntimeError):
    """Prometheus refused a query; the message is its own."""


class Prometheus:
    """One Prometheus on `host`, its data and log under `workdir`, evaluating `rule_groups`."""

    def __init__(self, workdir: Path, rule_groups: list[dict[str, Any]], host: str,
                 scrape: dict[str, str] | None = None, scrape_interval: str = EVALUATION_INTERVAL) -> None:
        """`scrape`: job name -> `host:port` it scrapes itself every `scrape_interval`, beside what
        arrives over OTLP."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.address = f"{host}:{free_port(host)}"
        (self.workdir / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups}, sort_keys=False))
        config = {**CONFIG, "rule_files": [str(self.workdir / "rules.yaml")]}
        if scrape:
            config["scrape_configs"] = [{"job_name": job, "scrape_interval": scrape_interval,
                                         "static_configs": [{"targets": [target]}]}
                                        for job, target in scrape.items()]
        (self.workdir / "prometheus.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.process: Process | None = None
        self.started_at = 0.0

    @property
    def otlp_endpoint(self) -> str:
        """Where an OTLP/HTTP exporter sends metrics (`/v1/metrics` is appended by the exporter)."""
        return f"http://{self.address}/api/v1/otlp"

    def start(self) -> "Prometheus":
        argv = [str(require("prometheus")), f"--config.file={self.workdir / 'prometheus.yaml'}",
                f"--storage.tsdb.path={self.workdir / 'data'}", f"--web.listen-address={self.address}",
                "--web.enable-otlp-receiver", "--log.format=json"]
        self.process = Process("prometheus", argv, self.workdir, env=child_env())

        def ready() -> bool:
            assert self.process is not None  # set just above
            if not self.process.alive():
                raise RuntimeError(f"prometheus exited:\n{self.process.log_tail()}")
            with urllib.request.urlopen(f"http://{self.address}/-/ready", timeout=5) as response:
                return response.status == 200

        wait_until(ready, timeout=START_SECONDS, what="Prometheus /-/ready")
        self.started_at = time.time()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> "Prometheus":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def api(self, path: str, **params: str) -> Any:
        """The `data` of an HTTP API answer; a refused query raises PrometheusError with Prometheus' error."""
        url = f"http://{self.address}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as error:
            answer = json.load(error)
        if answer.get("status") != "success":
            raise PrometheusError(f"{answer.get('errorType')}: {answer.get('error')}")
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query now: the vector's elements (`metric`, `value`)."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] == "vector" else [{"metric": {}, "value": data["result"]}]

    def query_range(self, expr: str, start: float, end: float, step: str) -> list[dict[str, Any]]:
        return self.api("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=step)["result"]

    def alerts(self) -> list[dict[str, Any]]:
        """The active alerts (pending and firing), with their labels and expanded annotations."""
        return self.api("alerts")["alerts"]

    def pending_for(self) -> dict[str, float]:
        """Each alert rule's `for`, in seconds."""
        return {rule["name"]: rule["duration"] for group in self.api("rules")["groups"] for rule in group["rules"]
                if rule["type"] == "alerting"}

    def fired_at(self, alert: dict[str, Any]) -> float:
        """When an active alert started firing: it turned pending at `activeAt` and fired one `for` later."""
        active = dt.datetime.fromisoformat(alert["activeAt"].replace("Z", "+00:00")).timestamp()
        return active + self.pending_for()[alert["labels"]["alertname"]]

    def resolved_at(self, alert: str, labels: dict[str, str], since: float) -> float:
        """When the alert stopped firing after `since`: one evaluation after the last `ALERTS`
        sample that still shows it firing (`since` if none does)."""
        matchers = "".join(f',{key}="{value}"' for key, value in labels.items())
        series = self.query_range(f'ALERTS{{alertname="{alert}",alertstate="firing"{matchers}}}', since, time.time(),
                                  EVALUATION_INTERVAL)
        last = max((float(at) for item in series for at, _ in item["values"]), default=None)
        return since if last is None else last + prometheus_duration_seconds(EVALUATION_INTERVAL)

    def rule_health(self) -> dict[str, str]:
        """Each alert rule's name -> its last evaluation error, for rules whose evaluation failed."""
        return {rule["name"]: rule.get("lastError", "") for group in self.api("rules")["groups"]
                for rule in group["rules"] if rule.get("health") not in ("ok", "unknown")}


def firing(prometheus: Prometheus, alert: str, **labels: str) -> dict[str, Any] | None:
    """The firing alert named `alert` whose labels include `labels`, if there is one."""
    for candidate in prometheus.alerts():
        if candidate["state"] == "firing" and candidate["labels"].get("alertname") == alert \
                and all(candidate["labels"].get(k) == v for k, v in labels.items()):
            return candidate
    return None


def wait_firing(prometheus: Prometheus, alert: str, timeout: float, **labels: str) -> dict[str, Any]:
    return wait_until(lambda: firing(prometheus, alert, **labels), timeout=timeout,
                      what=f"{alert} {labels} to fire", interval=0.5)


def wait_resolved(prometheus: Prometheus, alert: str, timeout: float, **labels: str) -> None:
    """Waits until no active alert (pending or firing) named `alert` has `labels`."""
    def gone() -> bool:
        return not any(candidate["labels"].get("alertname") == alert
                       and all(candidate["labels"].get(k) == v for k, v in labels.items())
                       for candidate in prometheus.alerts())
    wait_until(gone, timeout=timeout, what=f"{alert} {labels} to resolve", interval=0.5)
