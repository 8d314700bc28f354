"""Area 4: metrics as the real notification-controller serves them: its reconcilers are the
package's list, and the rendered scrape filter ships exactly the families it claims.

The alert rules and dashboard queries are judged on real faults by a real Prometheus in
test_real_flux.py, where every controller's real exposition also passes through the scrape filter.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest
from prometheus_client.parser import text_string_to_metric_families

from components import constants as c
from components.builders.collector_configs import CONTROLLERS_JOB
from components.builders.plan import Plan
from components.config import parse_stack_config
from components.tooling.render import read_stack_file
from e2e.harness.collector import Collector, Sink, collector_configs, gateway_and_agent, localize
from e2e.harness.kube import wait_until
from e2e.harness.render import ROOT, run_stack

CONTROLLER = "notification-controller"
# Series the Prometheus receiver adds per target, after metric relabelling (so the filter keeps them).
SCRAPE_META_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                       "scrape_samples_post_metric_relabeling", "scrape_series_added"}


def stack_config(stack: str):
    """The stack file's configuration, validated (secrets left out)."""
    stack_file = read_stack_file(ROOT, stack)
    raw = {}
    for key, text in stack_file.config.items():
        if key not in stack_file.secret_keys:
            try:
                raw[key.split(":", 1)[1]] = json.loads(text)
            except ValueError:
                raw[key.split(":", 1)[1]] = text
    return parse_stack_config(raw)


def exposition_series(text: str) -> dict[str, list[dict[str, str]]]:
    """Sample name -> label sets, exactly as the exposition has them."""
    series: dict[str, list[dict[str, str]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            series[sample.name].append(dict(sample.labels))
    return series


def reconciled_objects() -> list[dict]:
    """One object for each of notification-controller's reconcilers, so each queue sees an item:
    the priority queue serves `workqueue_depth` only for priorities it has held items of."""
    meta = {"namespace": c.FLUX_NAMESPACE}
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "webhook-token", **meta},
         "stringData": {"token": "e2e-webhook-token"}},
        {"apiVersion": c.NOTIFICATION_API_VERSION, "kind": "Provider", "metadata": {"name": "metrics", **meta},
         "spec": {"type": "generic", "address": "http://127.0.0.1:9/"}},
        # The Alert reconciler only queues Alerts that still carry Flux's finalizer, which it removes
        # (notification-controller@v1.9.3: internal/controller/finalizer_predicate.go).
        {"apiVersion": c.NOTIFICATION_API_VERSION, "kind": "Alert",
         "metadata": {"name": "metrics", "finalizers": ["finalizers.fluxcd.io"], **meta},
         "spec": {"providerRef": {"name": "metrics"}, "eventSources": [{"kind": "GitRepository", "name": "*"}]}},
        {"apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver", "metadata": {"name": "metrics", **meta},
         "spec": {"type": "generic", "secretRef": {"name": "webhook-token"},
                  "resources": [{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository", "name": "x"}]}},
    ]


@pytest.fixture(scope="module")
def real_series(kube, notification_controller) -> dict[str, list[dict[str, str]]]:
    """The controller's series once each reconciler has queued an item."""
    kube.apply(reconciled_objects())
    reconcilers = set(c.FLUX_RECONCILERS_BY_CONTROLLER[CONTROLLER])

    def queues_used():
        found = exposition_series(notification_controller.metrics())
        return found if {s["name"] for s in found.get(c.WORKQUEUE_DEPTH_METRIC, [])} >= reconcilers else None

    return wait_until(queues_used, timeout=60, what="notification-controller's work-queue metrics")


def test_every_reconciler_of_the_real_controller_is_known(kube, notification_controller):
    """Alerts and dashboards select Flux's reconcilers by name: all of them, and no others.
    (controller-runtime serves the reconcile counters once the controllers start, after /readyz.)"""
    kube.apply(reconciled_objects())
    served = wait_until(
        lambda: {labels["controller"] for labels in
                 exposition_series(notification_controller.metrics())[c.RECONCILE_TOTAL_METRIC]},
        timeout=60, what="notification-controller's reconcile counters")
    assert served == set(c.FLUX_RECONCILERS_BY_CONTROLLER[CONTROLLER])


def test_the_gateway_ships_exactly_the_families_its_scrape_filter_claims(notification_controller, real_series,
                                                                          tmp_path):
    """The rendered prod gateway scrapes the real controller; the sink gets every family whose name
    starts with a configured prefix or that the shipped rules and dashboards query, nothing else
    of the controller's, plus the scrape's own series (`up`, `scrape_*`), which the Prometheus
    receiver adds after metric relabelling."""
    rendering = run_stack("prod", secrets={"exportToken": "auth_e2e"})
    config = stack_config("prod")
    gateway, _ = gateway_and_agent(collector_configs(rendering))
    local = localize(gateway, workdir=tmp_path / "gateway", export_to=None, without=("k8s_objects",))
    target = notification_controller.metrics_url.split("/")[2]
    for job in local["receivers"]["prometheus"]["config"]["scrape_configs"]:
        job["scrape_interval"] = "1s"
        job["static_configs"] = [{"targets": [target]}] if job["job_name"] == CONTROLLERS_JOB else []
    local["receivers"]["prometheus"]["config"]["scrape_configs"] = [
        job for job in local["receivers"]["prometheus"]["config"]["scrape_configs"] if job["static_configs"]]
    with Sink(tmp_path / "sink") as sink:
        local = localize(local, workdir=tmp_path / "gateway", export_to=sink)
        with Collector("gateway", local, tmp_path / "gateway"):
            names = lambda: {m["name"] for m in sink.metrics()}  # noqa: E731
            wait_until(lambda: c.RECONCILE_TOTAL_METRIC in names() and len(names()) > 10, timeout=60,
                       what="scraped metrics at the sink")
            # A few more scrapes so that every family has been exported at least once.
            time.sleep(5)
            shipped = names()
    queried = set(Plan.of(config).queried_metrics)
    claimed = set()
    for family in text_string_to_metric_families(notification_controller.metrics()):
        # The receiver names a counter with its `_total`, a histogram or summary by its family.
        name = f"{family.name}_total" if family.type == "counter" else family.name
        if name.startswith(tuple(config.gateway.metric_prefixes)) or queried & {s.name for s in family.samples}:
            claimed.add(name)
    scrape_series = {name for name in shipped if name == "up" or name.startswith("scrape_")}
    assert shipped - scrape_series == claimed
    assert scrape_series == SCRAPE_META_METRICS
