"""Flux events as logs: the gateway's event pipeline, its RBAC and the operator's event collection.
What the pipeline's OTTL makes of Flux Event objects is judged by the real collector in
e2e/test_flux_event_records.py."""

from __future__ import annotations

import kubernetes_validate
import pytest

from components import CollectorGateway, CollectorGatewayArgs, ConfigError
from components.builders.collector_configs import gateway_config
from components.builders.flux_events import FILTER, PIPELINE, RECEIVER, TRANSFORM
from components.config import ExporterSettings, GatewaySettings, SignalSettings, parse_stack_config
from e2e.harness.render import by_kind, releases, run_stack
from tests.helpers import (
    KUBERNETES_VERSIONS,
    assert_valid_collector_config,
    register,
    validate_chart_values,
    validate_custom_resource,
)

GATEWAY = "flux-otel-gateway"
DEBUG = ExporterSettings(type="debug")


def gateway_collector_config(**kwargs):
    return gateway_config(
        cluster_name="c1", signals=SignalSettings(), gateway=GatewaySettings(), exporter_settings=DEBUG,
        scrape_targets=["t.flux-system.svc:8080"], **kwargs,
    )


# --- the gateway's collector config ------------------------------------------------------------------
def test_the_event_pipeline_watches_only_the_given_namespaces_and_shares_the_exporter():
    config = gateway_collector_config(event_namespaces=["apps", "flux-system"])
    assert_valid_collector_config(config)
    assert config["receivers"][RECEIVER] == {
        "auth_type": "serviceAccount",
        "objects": [{"name": "events", "group": "events.k8s.io", "mode": "watch", "namespaces": ["apps", "flux-system"],
                     "exclude_watch_type": ["DELETED"]}],
    }
    pipelines = config["service"]["pipelines"]
    assert pipelines[PIPELINE] == {
        "receivers": [RECEIVER],
        "processors": ["memory_limiter", FILTER, TRANSFORM, "resource", "batch"],
        "exporters": pipelines["logs"]["exporters"],
    }


def test_without_event_namespaces_the_gateway_has_no_event_parts():
    config = gateway_collector_config()
    assert_valid_collector_config(config)
    assert PIPELINE not in config["service"]["pipelines"]
    assert RECEIVER not in config["receivers"] and {FILTER, TRANSFORM}.isdisjoint(config["processors"])


# --- the component and the program ---------------------------------------------------------------------
def gateway_values(resources):
    return releases(resources)[GATEWAY]["values"]


def test_component_grants_each_watched_namespace_its_own_role():
    resources = register(lambda: CollectorGateway("gw", CollectorGatewayArgs(
        cluster_name="c1", exporter=DEBUG, event_namespaces=["apps", "flux-system"])))
    roles = by_kind(resources, "Role")
    bindings = by_kind(resources, "RoleBinding")
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["apps", "flux-system"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["apps", "flux-system"]
    for obj in roles + bindings:
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(obj, version, strict=True)
    for role in roles:
        assert role["rules"] == [
            {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["list", "watch"]}
        ]
    for binding in bindings:
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{GATEWAY}-events"
        }
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": GATEWAY, "namespace": "flux-otel"}]
    values = gateway_values(resources)
    validate_chart_values(values)
    assert values["serviceAccount"] == {"create": True, "automountServiceAccountToken": True}
    assert values["clusterRole"] == {"create": False}


def test_dev_stack_watches_the_flux_namespace_by_default():
    resources = run_stack("dev").resources
    config = gateway_values(resources)["alternateConfig"]
    assert_valid_collector_config(config)
    assert config["receivers"][RECEIVER]["objects"][0]["namespaces"] == ["flux-system"]
    assert [r["metadata"]["namespace"] for r in by_kind(resources, "Role")] == ["flux-system"]


def test_configured_namespaces_reach_the_receiver_and_the_roles():
    resources = run_stack("dev", overrides={"events": {"namespaces": ["flux-system", "apps"]}}).resources
    config = gateway_values(resources)["alternateConfig"]
    assert config["receivers"][RECEIVER]["objects"][0]["namespaces"] == ["apps", "flux-system"]
    assert sorted(r["metadata"]["namespace"] for r in by_kind(resources, "Role")) == ["apps", "flux-system"]
    assert sorted(b["metadata"]["namespace"] for b in by_kind(resources, "RoleBinding")) == ["apps", "flux-system"]


@pytest.mark.parametrize(
    "overrides", [{"events": {"enabled": False}}, {"signals": {"logs": False}}], ids=["events-off", "logs-off"]
)
def test_events_off_means_no_role_and_no_token(overrides):
    resources = run_stack("dev", overrides=overrides).resources
    values = gateway_values(resources)
    assert values["serviceAccount"]["automountServiceAccountToken"] is False
    assert RECEIVER not in values["alternateConfig"]["receivers"]
    assert by_kind(resources, "Role") == [] and by_kind(resources, "RoleBinding") == []


# --- dash0-operator mode -------------------------------------------------------------------------------
def flux_monitoring(overrides=None):
    (monitoring,) = [m for m in by_kind(run_stack("dash0-operator", overrides=overrides).resources, "Dash0Monitoring")
                     if m["metadata"]["namespace"] == "flux-system"]
    validate_custom_resource(monitoring)
    return monitoring


@pytest.mark.parametrize("overrides, enabled", [
    (None, True),
    ({"events": {"enabled": False}}, False),
    ({"signals": {"logs": False}}, False),
], ids=["default", "events-off", "logs-off"])
def test_operator_event_collection_follows_the_config(overrides, enabled):
    assert flux_monitoring(overrides)["spec"]["eventCollection"] == {"enabled": enabled}


# --- configuration ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, path", [
    ({"signals": {"logs": False}, "events": {"enabled": True}}, "events.enabled"),
    ({"mode": "dash0-operator", "events": {"namespaces": ["apps"]}}, "events.namespaces"),
    ({"events": {"namespaces": ["apps", "apps"]}}, "events.namespaces"),
    ({"events": {"namespaces": []}}, "events.namespaces"),
    ({"events": {"namespaces": ["Apps"]}}, "events.namespaces[0]"),
    ({"signals": {"metrics": False}, "gateway": {"replicas": 2}}, "gateway.replicas"),
])
def test_invalid_event_settings_name_their_key(raw, path):
    base = (
        {"clusterName": "c1"} if raw.get("mode") == "dash0-operator"
        else {"clusterName": "c1", "exporter": {"type": "debug"}}
    )
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**base, **raw})
    assert f"fluxcd-otel:{path}:" in str(error.value)
