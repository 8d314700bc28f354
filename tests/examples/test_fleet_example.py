"""examples/fleet: the pip-installed package composed for three clusters in one stack."""

import json
import tomllib
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

import fluxcd_otel
from components.tooling.render import MASK, RecordingMocks, documents, masked, read_stack_file, run_program
from e2e.harness.render import ROOT
from tests.helpers import TOKEN

EXAMPLE = ROOT / "examples" / "fleet"
STACK = "prod"
STACK_FILE = read_stack_file(EXAMPLE, STACK)
CLUSTERS = yaml.safe_load((EXAMPLE / f"Pulumi.{STACK}.yaml").read_text())["config"][f"{STACK_FILE.project}:clusters"]


def run_fleet(clusters=None, mocks=None):
    config = {**STACK_FILE.config, f"{STACK_FILE.project}:exportToken": TOKEN}
    if clusters is not None:
        config[f"{STACK_FILE.project}:clusters"] = json.dumps(clusters)
    return run_program(
        EXAMPLE / "__main__.py", project=STACK_FILE.project, stack=STACK, config=config,
        secret_keys=STACK_FILE.secret_keys, mocks=mocks,
    )


@lru_cache(maxsize=None)
def fleet():
    """The example with its stack file (and a recognisable token), run once for the read-only tests."""
    return run_fleet()


def cluster_of(resource_name):
    owners = [name for name in CLUSTERS if resource_name.startswith(f"flux-observability-{name}-")]
    assert len(owners) == 1, f"{resource_name} belongs to {owners}"
    return owners[0]


def gateway_config(resources, cluster):
    release, = [r for r in resources if r.name == f"flux-observability-{cluster}-gateway-release"]
    return masked(release.inputs)["values"]["alternateConfig"]


def test_the_package_imported_by_the_example_is_this_checkout():
    assert Path(fluxcd_otel.__file__).parent == ROOT / "components"


def test_the_example_installs_this_distribution_from_git():
    distribution = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    requirements = [
        line for line in (EXAMPLE / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert [line.split("@", 1)[0].strip() for line in requirements] == [distribution]
    assert "@ git+https://" in requirements[0]


def test_the_stack_has_three_clusters():
    assert len(CLUSTERS) == 3


def test_every_cluster_gets_its_own_kubernetes_provider():
    resources = fleet().resources
    providers = {r.name: r.inputs for r in resources if r.type == "pulumi:providers:kubernetes"}
    assert providers == {f"k8s-{name}": {"context": cluster["context"]} for name, cluster in CLUSTERS.items()}


def test_a_kubeconfig_reaches_its_provider_only_as_a_secret():
    contents = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: kubeconfig-credential\n"
    clusters = {**CLUSTERS, "prod-eu-1": {**CLUSTERS["prod-eu-1"], "kubeconfig": contents}}
    providers = {r.name: r.inputs for r in run_fleet(clusters).resources if r.type == "pulumi:providers:kubernetes"}
    assert masked(providers["k8s-prod-eu-1"]) == {"context": CLUSTERS["prod-eu-1"]["context"], "kubeconfig": MASK}
    assert "kubeconfig-credential" not in json.dumps(masked(providers))


def test_each_cluster_resources_go_through_its_provider_under_distinct_names():
    resources = fleet().resources
    assert len({(r.type, r.name) for r in resources}) == len(resources)
    workloads = [r for r in resources if r.type != "pulumi:providers:kubernetes"]
    assert {cluster_of(r.name) for r in workloads if r.type != "fluxcd-otel:index:FluxObservability"} == set(CLUSTERS)
    for resource in workloads:
        if resource.custom:
            assert f"::k8s-{cluster_of(resource.name)}::" in resource.provider, resource.name


def test_cluster_names_and_per_cluster_keys_reach_each_gateway():
    resources = fleet().resources
    for cluster in CLUSTERS:
        config = gateway_config(resources, cluster)
        attributes = {a["key"]: a["value"] for a in config["processors"]["resource"]["attributes"]}
        assert attributes["k8s.cluster.name"] == cluster
    assert "us-west-2" in json.dumps(gateway_config(resources, "prod-us-1")["exporters"])
    assert "eu-west-1" in json.dumps(gateway_config(resources, "prod-eu-1")["exporters"])
    log_releases = {r.name for r in resources if r.name.endswith("-logs-release")}
    assert log_releases == {f"flux-observability-{name}-logs-release" for name in ("prod-eu-1", "prod-us-1")}


def test_the_token_stays_in_the_gateway_secrets():
    rendering = fleet()
    holders = [r for r in rendering.resources if TOKEN in json.dumps(r.inputs, default=str)]
    assert sorted(r.name for r in holders) == sorted(
        f"flux-observability-{name}-gateway-export-credentials" for name in CLUSTERS
    )
    assert all(r.type == "kubernetes:core/v1:Secret" and TOKEN not in json.dumps(masked(r.inputs)) for r in holders)
    assert not [name for name, text in documents(rendering) if TOKEN in text]


def test_a_mistake_names_the_cluster_and_registers_nothing():
    clusters = {
        **CLUSTERS,
        "prod-us-1": {
            **CLUSTERS["prod-us-1"], "observability": {"exporter": {"type": "dash0", "regoin": "us-west-2"}}
        },
    }
    mocks = RecordingMocks()
    with pytest.raises(fluxcd_otel.ConfigError) as caught:
        run_fleet(clusters, mocks=mocks)
    assert "fluxcd-otel-fleet:clusters.prod-us-1:exporter.regoin: unknown key" in str(caught.value)
    assert mocks.resources == []


def test_a_cluster_without_a_context_is_refused():
    clusters = {**CLUSTERS, "prod-eu-1": {"observability": {}}}
    with pytest.raises(fluxcd_otel.ConfigError, match="fluxcd-otel-fleet:clusters.prod-eu-1.context: required"):
        run_fleet(clusters)
