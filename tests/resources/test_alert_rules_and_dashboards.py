"""Alert rules and dashboards through the components and the real program: valid for their CRDs in
every stack, in the Flux namespace (where the Dash0 operator syncs them from), only while metrics
are on, and each can be switched off."""

from __future__ import annotations

import pytest

from components import constants as c
from components.config import AlertRuleSettings, AlertSettings, FluxSettings
from components.resources.alert_rules import FluxAlertRules, FluxAlertRulesArgs
from components.resources.dashboards import FluxDashboards
from e2e.harness.render import STACKS, by_kind, run_stack
from tests.helpers import register, validate_custom_resource

SHIPPED_KINDS = ("PrometheusRule", "PersesDashboard")


def shipped(resources) -> dict[str, list[dict]]:
    return {kind: by_kind(resources, kind) for kind in SHIPPED_KINDS}


# The dev stack turns both off for clusters without their CRDs; every stack must render them valid.
SHIPPING = {"alerts": {"enabled": True}, "dashboards": {"enabled": True}}


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_ships_rules_and_dashboards_valid_for_their_crds(stack):
    rendering = run_stack(stack, overrides=SHIPPING)
    objects = shipped(rendering.resources)
    # Overview, control plane and delivery.
    assert len(objects["PrometheusRule"]) == 1 and len(objects["PersesDashboard"]) == 3
    for obj in objects["PrometheusRule"] + objects["PersesDashboard"]:
        validate_custom_resource(obj)
        assert obj["metadata"]["namespace"] == c.FLUX_NAMESPACE
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == c.PROJECT
    assert rendering.outputs["alertRules"] == f"{c.FLUX_NAMESPACE}/{objects['PrometheusRule'][0]['metadata']['name']}"
    assert sorted(rendering.outputs["dashboards"]) == sorted(
        f"{c.FLUX_NAMESPACE}/{obj['metadata']['name']}" for obj in objects["PersesDashboard"]
    )


def test_in_dash0_operator_mode_the_operator_syncs_them_from_their_namespace():
    resources = run_stack("dash0-operator").resources
    namespaces = {obj["metadata"]["namespace"] for kind in SHIPPED_KINDS for obj in by_kind(resources, kind)}
    (monitoring,) = [m for m in by_kind(resources, "Dash0Monitoring") if m["metadata"]["namespace"] in namespaces]
    assert monitoring["spec"].get("synchronizePrometheusRules", True) is True
    assert monitoring["spec"].get("synchronizePersesDashboards", True) is True


@pytest.mark.parametrize("stack", ["prod", "dash0-operator"])
@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"signals": {"metrics": False}}, {"PrometheusRule": 0, "PersesDashboard": 0}),
        # The delivery recording rules still ship in the PrometheusRule.
        ({"alerts": {"enabled": False}}, {"PrometheusRule": 1, "PersesDashboard": 3}),
        ({"dashboards": {"enabled": False}}, {"PrometheusRule": 1, "PersesDashboard": 0}),
        ({"alerts": {field.alias or name: {"enabled": False} for name, field in AlertSettings.model_fields.items()
                     if isinstance(field.default, AlertRuleSettings)}},
         {"PrometheusRule": 1, "PersesDashboard": 3}),
        ({"delivery": {"enabled": False}}, {"PrometheusRule": 1, "PersesDashboard": 2}),
        ({"alerts": {"enabled": False}, "delivery": {"enabled": False}}, {"PrometheusRule": 0, "PersesDashboard": 2}),
        ({"objectHealth": {"enabled": False}}, {"PrometheusRule": 1, "PersesDashboard": 2}),
    ],
    ids=["metrics-off", "alerts-off", "dashboards-off", "every-alert-off", "delivery-off", "alerts-and-delivery-off",
         "object-health-off"],
)
def test_rules_and_dashboards_ship_only_while_metrics_are_on_and_they_are_enabled(stack, overrides, expected):
    resources = run_stack(stack, overrides=overrides).resources
    assert {kind: len(objects) for kind, objects in shipped(resources).items()} == expected


def test_they_follow_the_flux_namespace_and_controllers():
    resources = run_stack(
        "prod", overrides={"flux": {"namespace": "flux", "controllers": ["helm-controller"]}}
    ).resources
    objects = shipped(resources)
    assert {obj["metadata"]["namespace"] for kind in SHIPPED_KINDS for obj in objects[kind]} == {"flux"}
    (rule,) = objects["PrometheusRule"]
    exprs = " ".join(r["expr"] for group in rule["spec"]["groups"] for r in group["rules"])
    assert "helmrelease" in exprs and "kustomization" not in exprs


def test_the_components_stand_alone():
    flux = FluxSettings(namespace="gitops", controllers=["kustomize-controller"])

    def build():
        FluxAlertRules("rules", FluxAlertRulesArgs(flux=flux, alerts=AlertSettings(extra_labels={"team": "x"})))
        FluxDashboards("dashboards", flux)

    resources = register(build)
    (rule,) = by_kind(resources, "PrometheusRule")
    assert rule["apiVersion"] == c.PROMETHEUS_RULE_API_VERSION and rule["metadata"]["namespace"] == "gitops"
    assert all(r["labels"]["team"] == "x" for group in rule["spec"]["groups"] for r in group["rules"])
    dashboards = by_kind(resources, "PersesDashboard")
    assert {d["apiVersion"] for d in dashboards} == {c.PERSES_DASHBOARD_API_VERSION} and len(dashboards) == 2
    for obj in [rule, *dashboards]:
        validate_custom_resource(obj)
