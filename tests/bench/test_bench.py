"""The cheap parts of bench/: the generated exposition, the scrape filter, the floor's modules and
the multi-cluster program. No timing here; `python bench/run.py` measures."""

import math
import textwrap
from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench import flux_load, flux_metrics, multi_cluster, scrape_filter, seed_collector
from bench.run import kubernetes_modules_used
from components import constants as c
from components.builders.collector_configs import CONTROLLERS_JOB
from components.tooling.render import RegisteredResource, render_stack
from e2e.harness.collector import collector_configs, gateway_and_agent
from e2e.harness.render import ROOT

# Bucket bounds of gotk_reconcile_duration_seconds as a source-controller serves them.
FLUX_RECONCILE_BOUNDS = [
    "0.01", "0.038363583488692544", "0.1471764538093883", "0.5646216173286169", "2.166090855590701",
    "8.309900738254731", "31.879757075478317", "122.30217221643493", "469.19495946736544", "1799.9999999999986",
]
FAMILIES_OF_EVERY_CONTROLLER = {
    "gotk_reconcile_duration_seconds", "controller_runtime_reconcile", "controller_runtime_reconcile_errors",
    "controller_runtime_reconcile_time_seconds", "controller_runtime_active_workers",
    "controller_runtime_max_concurrent_reconciles", "workqueue_adds", "workqueue_depth",
    "workqueue_queue_duration_seconds", "workqueue_work_duration_seconds", "rest_client_requests",
    "leader_election_master_status", "certwatcher_read_certificate", "go_goroutines", "go_gc_duration_seconds",
    "process_cpu_seconds", "process_resident_memory_bytes",
}
CONTROLLER_FAMILIES = {
    "source-controller": {"gotk_cache_events", "gotk_token_cache_events", "gotk_token_cached_items"},
    "notification-controller": {
        "gotk_event_http_request_duration_seconds", "gotk_receiver_http_request_duration_seconds"
    },
}


@pytest.fixture(scope="module")
def expositions():
    return flux_metrics.expositions()


@pytest.fixture(scope="module")
def families(expositions):
    return {controller: list(text_string_to_metric_families(text)) for controller, text in expositions.items()}


def test_four_default_controllers_with_about_200_objects(families):
    assert set(families) == {"source-controller", "kustomize-controller", "helm-controller", "notification-controller"}
    assert 190 <= flux_metrics.object_count() <= 210


def test_each_exposition_has_the_real_families(families):
    for controller, parsed in families.items():
        names = {family.name for family in parsed}
        expected = FAMILIES_OF_EVERY_CONTROLLER | CONTROLLER_FAMILIES.get(controller, set())
        assert expected <= names, f"{controller} lacks {sorted(expected - names)}"
        assert not {name for name in names if name.startswith("promhttp_")}


def test_every_reconciled_object_has_its_duration_histogram(families):
    for controller, parsed in families.items():
        durations, = (family for family in parsed if family.name == "gotk_reconcile_duration_seconds")
        objects = {(s.labels["kind"], s.labels["name"], s.labels["namespace"]) for s in durations.samples}
        reconciled = [o for o in flux_metrics.flux_objects(controller) if o.kind not in flux_metrics.STATIC_KINDS]
        assert objects == {(o.kind, o.name, o.namespace) for o in reconciled}
        bounds = [
            s.labels["le"] for s in durations.samples if s.name.endswith("_bucket")
        ][: len(FLUX_RECONCILE_BOUNDS) + 1]
        assert bounds == FLUX_RECONCILE_BOUNDS + ["+Inf"]


def test_histograms_are_cumulative_and_series_unique(families):
    for controller, parsed in families.items():
        series: Counter[tuple] = Counter()
        for family in parsed:
            buckets: dict[tuple, list[float]] = {}
            counts = {}
            for sample in family.samples:
                series[(sample.name, tuple(sorted(sample.labels.items())))] += 1
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                if sample.name.endswith("_bucket"):
                    buckets.setdefault(key, []).append(sample.value)
                elif sample.name.endswith("_count") and family.type == "histogram":
                    counts[key] = sample.value
            for key, values in buckets.items():
                assert values == sorted(values), f"{controller} {family.name} {key}: buckets not cumulative"
                assert values[-1] == counts[key], f"{controller} {family.name} {key}: +Inf bucket != _count"
        assert max(series.values()) == 1, f"{controller}: duplicate series"


def test_the_same_seed_gives_the_same_bytes_and_another_seed_the_same_series(expositions):
    assert flux_metrics.expositions() == expositions
    other = flux_metrics.expositions(seed=flux_metrics.SEED + 1)
    assert other != expositions
    for controller in expositions:
        assert _series(other[controller]) == _series(expositions[controller]) != []


def _series(text):
    return sorted(tuple(sorted(labels.items())) for labels in scrape_filter.series_labels(text) if "le" not in labels)


@pytest.mark.parametrize(
    "value, text",
    [(20.0, "20"), (3068.0, "3068"), (9969232.0, "9.969232e+06"), (1703084644.66357, "1.70308464466357e+09"),
     (9.999999999999999e-06, "9.999999999999999e-06"), (0.00016175, "0.00016175"),
     (258.2682547870001, "258.2682547870001"),
     (math.inf, "+Inf"), (0.0, "0")],
)
def test_numbers_are_written_as_go_writes_them(value, text):
    assert flux_metrics.go_float(value) == text


TINY = textwrap.dedent(
    """\
    # TYPE gotk_reconcile_duration_seconds histogram
    gotk_reconcile_duration_seconds_bucket{kind="GitRepository",name="a",namespace="flux-system",le="1"} 1
    gotk_reconcile_duration_seconds_bucket{kind="GitRepository",name="a",namespace="flux-system",le="+Inf"} 2
    gotk_reconcile_duration_seconds_sum{kind="GitRepository",name="a",namespace="flux-system"} 3.5
    gotk_reconcile_duration_seconds_count{kind="GitRepository",name="a",namespace="flux-system"} 2
    # TYPE go_goroutines gauge
    go_goroutines 200
    # TYPE workqueue_depth gauge
    workqueue_depth{controller="gitrepository",name="gitrepository",priority=""} 0
    # TYPE my_gotk_total counter
    my_gotk_total 1
    """
)
KEEP_GOTK = [{"source_labels": ["__name__"], "regex": "(gotk_).*", "action": "keep"}]


def test_keep_rule_counts_every_sample_line_and_anchors_the_regex():
    # my_gotk_total contains gotk_ but does not start with it: Prometheus anchors at both ends.
    assert scrape_filter.kept_series(TINY, KEEP_GOTK) == (4, 7)


def test_relabel_rules_apply_in_order_with_separator_drop_and_collector_escapes():
    rules = KEEP_GOTK + [
        {"source_labels": ["__name__", "le"], "separator": "@", "regex": ".*_bucket@\\+Inf", "action": "drop"}
    ]
    assert scrape_filter.kept_series(TINY, rules) == (3, 7)
    escaped = [{"source_labels": ["__name__"], "regex": "go_goroutines$$|x", "action": "keep"}]
    assert scrape_filter.relabel_keeps({"__name__": "go_goroutines"}, escaped)
    with pytest.raises(ValueError, match="labelmap"):
        scrape_filter.relabel_keeps({"__name__": "x"}, [{"action": "labelmap", "regex": "(.*)"}])


def test_prod_gateway_filter_keeps_flux_series_and_drops_go_runtime(expositions):
    rules = scrape_filter.flux_controllers_scrape_config("prod")["metric_relabel_configs"]
    assert scrape_filter.relabel_keeps({"__name__": "gotk_reconcile_duration_seconds_bucket", "le": "+Inf"}, rules)
    assert not scrape_filter.relabel_keeps({"__name__": "go_goroutines"}, rules)
    kept, total = map(sum, zip(*(scrape_filter.kept_series(text, rules) for text in expositions.values())))
    assert 0 < kept < total


def test_floor_modules_are_read_from_the_package_source(tmp_path):
    (tmp_path / "one.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "from pulumi_kubernetes.helm.v3 import Release\n"
        "k8s.core.v1.Service('s')\n"
        "ref = k8s.apiextensions.CustomResource\n"
    )
    (tmp_path / "two.py").write_text("import pulumi_kubernetes.apps.v1 as apps\napps.DeploymentPatch('p')\n")
    assert kubernetes_modules_used(tmp_path) == [
        "pulumi_kubernetes.apiextensions", "pulumi_kubernetes.apps.v1", "pulumi_kubernetes.core.v1",
        "pulumi_kubernetes.helm.v3",
    ]
    (tmp_path / "three.py").write_text("import pulumi_kubernetes as k8s\nk8s.core.v1.NoSuchKind('x')\n")
    with pytest.raises(AssertionError, match="NoSuchKind"):
        kubernetes_modules_used(tmp_path)


def test_the_package_floor_includes_what_the_components_import():
    assert {"pulumi_kubernetes.core.v1", "pulumi_kubernetes.helm.v3"} <= set(kubernetes_modules_used())


def test_multi_cluster_program_gives_each_cluster_its_own_provider():
    one, two = multi_cluster.measure(1), multi_cluster.measure(2)
    assert two["resources"] == 2 * one["resources"] > 0


def test_provider_check_rejects_an_object_of_another_cluster():
    provider = "urn:pulumi:bench::fluxcd-otel::pulumi:pulumi:Stack$pulumi:providers:kubernetes::k8s-cluster-002::id"
    resources = [
        RegisteredResource("pulumi:providers:kubernetes", "k8s-cluster-001", {}, None, True),
        RegisteredResource("pulumi:providers:kubernetes", "k8s-cluster-002", {}, None, True),
        RegisteredResource("kubernetes:core/v1:Namespace", "flux-observability-cluster-001-ns", {}, provider, True),
    ]
    with pytest.raises(AssertionError, match="cluster-001-ns"):
        multi_cluster.check_one_provider_per_cluster(resources, 2)


@pytest.mark.parametrize("objects", [100, 1000, 5000])
def test_the_scaled_inventory_keeps_every_kind_in_proportion(objects):
    inventory = flux_metrics.scaled_inventory(objects)
    assert {c: set(kinds) for c, kinds in inventory.items()} == {
        c: set(kinds) for c, kinds in flux_metrics.FLUX_OBJECTS.items()
    }
    assert abs(flux_metrics.object_count(inventory) - objects) <= objects * 0.02 + 3
    share = inventory["kustomize-controller"]["Kustomization"] / flux_metrics.object_count(inventory)
    assert share == pytest.approx(50 / flux_metrics.object_count(), rel=0.1)


def test_the_object_health_load_serves_what_kube_state_metrics_serves_per_object():
    inventory = flux_metrics.scaled_inventory(100)
    families = {f.name: f for f in text_string_to_metric_families(flux_load.object_health_exposition(inventory))}
    assert set(families) == {c.FLUX_RESOURCE_INFO_METRIC, c.FLUX_READY_TRANSITION_METRIC}
    info = families[c.FLUX_RESOURCE_INFO_METRIC].samples
    assert len(info) == len(families[c.FLUX_READY_TRANSITION_METRIC].samples) == flux_metrics.object_count(inventory)
    assert set(info[0].labels) == {"customresource_group", "customresource_kind", "customresource_version",
                                   "exported_namespace", "kind", "name", "ready", "reason", "suspended"}


def test_the_seed_setup_scrapes_the_same_controllers_keeps_gotk_and_tails_flux_system():
    gateway, _ = gateway_and_agent(collector_configs(render_stack(ROOT, "prod")))
    seed = seed_collector.seed_config(gateway)
    (job,) = seed["receivers"]["prometheus"]["config"]["scrape_configs"]
    ours = [target for name, target in flux_load.scrape_targets(gateway) if name == CONTROLLERS_JOB]
    assert [target for _, target in flux_load.scrape_targets(seed)] == ours
    assert job["metric_relabel_configs"] == [{"source_labels": ["__name__"], "regex": "gotk_.*", "action": "keep"}]
    assert seed["receivers"]["filelog"]["include"] == ["/var/log/pods/flux-system_*/*/*.log"]
    assert seed["exporters"].keys() == gateway["exporters"].keys()
