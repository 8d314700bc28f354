"""The SDK floor of bench/engine_cost.py and bench/fleet_floor.py, without timing: it declares what
the program declares, and the engine benchmark compares the objects two `up`s leave as it should."""

import json
from typing import Any

import pytest

from bench import engine_cost, multi_cluster
from bench.sdk_floor import checked_floor, record, snake_case, waited_for
from components import constants as c
from e2e.harness.render import ROOT


@pytest.fixture(scope="module")
def prod():
    config, secret_keys = engine_cost.program_config("prod", {})
    return record(ROOT / "__main__.py", project=c.PROJECT, stack="prod", config=config, secret_keys=secret_keys)


@pytest.mark.parametrize("tree", [False, True], ids=["flat", "with the component tree"])
def test_the_floor_declares_what_the_prod_program_declares(prod, tmp_path, tree):
    secrets, floor = checked_floor(prod, tmp_path / "floor.json", project="sdk-floor", stack="prod", tree=tree)
    assert [r.name for r in floor.custom] and len(floor.custom) == len(prod.custom)
    assert len(floor.components) == (len(prod.components) if tree else 0)
    # The token stays a secret: in the floor stack's secret config, not in the data file.
    assert engine_cost.TOKEN not in (tmp_path / "floor.json").read_text()
    assert engine_cost.TOKEN in json.dumps(secrets)


def test_the_floor_declares_what_the_fleet_program_declares(tmp_path):
    config, secret_keys = multi_cluster.program_config(2)
    fleet = record(multi_cluster.PROGRAM, project=c.PROJECT, stack="bench", config=config, secret_keys=secret_keys)
    _, floor = checked_floor(fleet, tmp_path / "floor.json", project="sdk-floor", stack="bench")
    multi_cluster.check_one_provider_per_cluster(floor.rendering.resources, 2)


def test_a_resource_waits_for_what_its_ancestors_depend_on():
    requests: list[dict[str, Any]] = [
        {"urn": "stack", "type": "pulumi:pulumi:Stack"},
        {"urn": "outer", "parent": "stack", "dependencies": ["namespace"]},
        {"urn": "inner", "parent": "outer", "dependencies": ["role"]},
        {"urn": "release", "parent": "inner", "dependencies": ["secret"]},
    ]
    by_urn = {request["urn"]: request for request in requests}
    assert waited_for(by_urn["release"], by_urn) == {"secret", "role", "namespace"}


def test_arguments_are_the_sdk_classes_keyword_names():
    assert [snake_case(key) for key in ("apiVersion", "stringData", "roleRef", "metadata")] == [
        "api_version", "string_data", "role_ref", "metadata"]


def test_objects_compare_by_kind_namespace_and_name_without_what_each_up_makes_new():
    def item(kind, name, *, api_version="v1", namespace="flux-otel", **metadata):
        return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": namespace, **metadata}}

    owner = [{"name": "flux-otel-gateway", "controller": True}]
    assert engine_cost.object_key(item("Secret", "token")) == ("Secret", "flux-otel", "token")
    assert engine_cost.object_key(item("Pod", "flux-otel-logs-agent-x7k2p", generateName="flux-otel-logs-agent-")) \
        == ("Pod", "flux-otel", "flux-otel-logs-agent-*")
    assert engine_cost.object_key(item("ControllerRevision", "flux-otel-gateway-766f4c48f5", api_version="apps/v1",
                                       ownerReferences=owner)) \
        == ("ControllerRevision.apps", "flux-otel", "flux-otel-gateway-*")
    assert engine_cost.object_key(item("Pod", "flux-otel-gateway-0", ownerReferences=owner)) \
        == ("Pod", "flux-otel", "flux-otel-gateway-0")
