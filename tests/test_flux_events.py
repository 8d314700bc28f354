"""Flux events as logs: the gateway's event pipeline, its RBAC, the operator's event collection,
and what the OTTL does to real Flux Event objects (evaluated by a minimal interpreter below)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any, Optional

import kubernetes_validate
import pytest

from components import CollectorGateway, CollectorGatewayArgs, ConfigError
from components.builders.collector_configs import gateway_config
from components.builders.flux_events import FILTER, PIPELINE, RECEIVER, TRANSFORM
from components.config import ExporterSettings, GatewaySettings, SignalSettings, parse_stack_config
from support import (
    assert_valid_collector_config,
    by_kind,
    register,
    releases,
    run_stack,
    validate_chart_values,
    validate_custom_resource,
)

GATEWAY = "flux-otel-gateway"
DEBUG = ExporterSettings(type="debug")
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")


def gateway_collector_config(**kwargs):
    return gateway_config(
        cluster_name="c1", signals=SignalSettings(), gateway=GatewaySettings(), exporter_settings=DEBUG,
        scrape_targets=["t.flux-system.svc:8080"], **kwargs,
    )


# --- a minimal OTTL interpreter for exactly the subset the event pipeline emits --------------------
# Paths log.attributes[..], log.body[..]..., log.severity_text, log.severity_number, log.time;
# string literals, nil, severity enums, [string, ...]; IsMatch, Time; ==, !=, not; set, keep_keys.
# Anything else fails to parse, so a statement outside the subset cannot pass unnoticed.
SEVERITY_NUMBERS = {"SEVERITY_NUMBER_INFO": 9, "SEVERITY_NUMBER_WARN": 13}
TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>==|!=)|(?P<punct>[()\[\],])'
    r'|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))'
)
LOG_FIELDS = ("attributes", "body", "severity_text", "severity_number", "time")
TIME_DIRECTIVES = {"%Y", "%m", "%d", "%H", "%M", "%S", "%f"}


class OttlRuntimeError(Exception):
    """What OTTL reports at run time; with error_mode ignore the statement is skipped."""


def tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        assert match and match.end() > position, f"cannot tokenize {text[position:]!r}"
        kind = match.lastgroup
        assert kind is not None  # every alternative of TOKEN is a named group
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


class Parser:
    def __init__(self, text: str):
        self.tokens, self.position = tokens(text), 0

    def peek(self) -> Optional[tuple[str, str]]:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: Optional[str] = None) -> tuple[str, str]:
        token = self.peek()
        assert token is not None and (value is None or token[1] == value), f"expected {value!r}, got {token}"
        self.position += 1
        return token

    def expression(self):
        kind, value = self.take()
        if kind == "string":
            return ("literal", json.loads(value))
        if value == "[":
            items = [self.expression()]
            while (token := self.peek()) is not None and token[1] == ",":
                self.take(",")
                items.append(self.expression())
            self.take("]")
            assert all(item[0] == "literal" for item in items), "only lists of literals"
            return ("literal", [item[1] for item in items])
        if value == "nil":
            return ("literal", None)
        if value in SEVERITY_NUMBERS:
            return ("literal", SEVERITY_NUMBERS[value])
        if value in ("IsMatch", "Time"):
            self.take("(")
            target = self.expression()
            self.take(",")
            kind, pattern = self.take()
            assert kind == "string"
            self.take(")")
            return (value, target, json.loads(pattern))
        assert kind == "word" and value.startswith("log."), f"unsupported expression {value!r}"
        field = value.removeprefix("log.")
        assert field in LOG_FIELDS, f"unsupported path {value!r}"
        keys = []
        while (token := self.peek()) and token[1] == "[":
            self.take("[")
            kind, key = self.take()
            assert kind == "string", "only string keys"
            keys.append(json.loads(key))
            self.take("]")
        return ("path", field, keys)

    def condition(self):
        token = self.peek()
        assert token is not None, "expected a condition"
        if token[1] == "not":
            self.take("not")
            return ("not", self.condition())
        if token[1] == "IsMatch":
            return self.expression()
        left = self.expression()
        _, op = self.take()
        assert op in ("==", "!="), f"unsupported operator {op!r}"
        return (op, left, self.expression())

    def statement(self):
        _, function = self.take()
        assert function in ("set", "keep_keys"), f"unsupported function {function!r}"
        self.take("(")
        target = self.expression()
        assert target[0] == "path"
        self.take(",")
        value = self.expression()
        self.take(")")
        where = None
        if self.peek():
            self.take("where")
            where = self.condition()
        assert self.peek() is None, f"trailing tokens {self.tokens[self.position:]}"
        return (function, target, value, where)

    def whole_condition(self):
        condition = self.condition()
        assert self.peek() is None, f"trailing tokens {self.tokens[self.position:]}"
        return condition


def ottl_time(value: str, layout: str) -> datetime:
    assert set(re.findall(r"%.", layout)) <= TIME_DIRECTIVES, layout
    return datetime.strptime(value, layout).replace(tzinfo=timezone.utc)


def evaluate(node, record):
    kind = node[0]
    if kind == "literal":
        return node[1]
    if kind == "path":
        _, field, keys = node
        value = record[field]
        for key in keys:
            if value is None:
                return None
            if not isinstance(value, dict):
                raise OttlRuntimeError(f"{type(value).__name__} does not support string indexing")
            value = value.get(key)
        return value
    if kind == "IsMatch":
        target = evaluate(node[1], record)
        return target is not None and re.search(node[2], target) is not None
    if kind == "Time":
        target = evaluate(node[1], record)
        if not isinstance(target, str):
            raise OttlRuntimeError("Time needs a string")
        return ottl_time(target, node[2])
    if kind == "not":
        return not evaluate(node[1], record)
    if kind in ("==", "!="):
        equal = evaluate(node[1], record) == evaluate(node[2], record)
        return equal if kind == "==" else not equal
    raise AssertionError(node)


def assign(target, value, record):
    _, field, keys = target
    if not keys:
        record[field] = value
        return
    container = record[field]
    for key in keys[:-1]:
        container = container.setdefault(key, {})
    container[keys[-1]] = value


def run_statement(statement, record):
    function, target, value_node, where = Parser(statement).statement()
    try:
        if where is not None and not evaluate(where, record):
            return
        if function == "set":
            value = evaluate(value_node, record)
            if value is not None:  # OTTL's set leaves the target alone for a nil value
                assign(target, value, record)
        else:
            kept = set(evaluate(value_node, record))
            assign(target, {k: v for k, v in evaluate(target, record).items() if k in kept}, record)
    except OttlRuntimeError:
        pass


def run_pipeline(config: dict[str, Any], watched: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The log record the gateway exports for one watch notification, or None if it is dropped."""
    record = {
        "attributes": {
            "k8s.resource.name": "events", "event.domain": "k8s", "event.name": watched["object"]["metadata"]["name"]
        },
        "body": watched,
        "severity_text": "",
        "severity_number": 0,
        "time": None,
    }
    processors = config["processors"]
    for condition in processors[FILTER]["logs"]["log_record"]:
        if evaluate(Parser(condition).whole_condition(), record):
            return None
    for statement in processors[TRANSFORM]["log_statements"]:
        run_statement(statement, record)
    return record


def flux_event(*, api_version, kind, name, namespace="flux-system", event_type="Normal", reason, note,
               annotations=None, last="2026-05-04T10:11:12Z", event_time=None):
    """An Event as events.k8s.io/v1 serves one that a Flux controller recorded (core/v1 recorder)."""
    metadata = {"name": f"{name}.18a2b3c4d5e6f708", "namespace": namespace, "uid": "0b5c", "resourceVersion": "4242",
                "creationTimestamp": "2026-05-04T10:00:00Z"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {
        "type": "MODIFIED",
        "object": {
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": metadata,
            "eventTime": event_time,
            "reportingController": kind.lower() + "-controller",
            "reportingInstance": "",
            "action": "",
            "reason": reason,
            "regarding": {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace,
                          "uid": "7f3e", "resourceVersion": "99"},
            "note": note,
            "type": event_type,
            "deprecatedSource": {"component": kind.lower() + "-controller"},
            "deprecatedFirstTimestamp": last,
            "deprecatedLastTimestamp": last,
            "deprecatedCount": 3,
        },
    }


@pytest.fixture(scope="module")
def events_config():
    return gateway_collector_config(event_namespaces=["flux-system"])


def test_a_kustomization_event_becomes_a_log_record_with_the_controller_logs_attributes(events_config):
    event = flux_event(
        api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization", name="apps",
        reason="ReconciliationSucceeded",
        note="Reconciliation finished in 1.2s, next run in 10m0s",
        annotations={"kustomize.toolkit.fluxcd.io/revision": "main@sha1:5f1e9c3"},
    )
    record = run_pipeline(events_config, event)
    assert record is not None, "dropped"
    assert record["attributes"] == {
        "controllerKind": "Kustomization", "name": "apps", "namespace": "flux-system",
        "reason": "ReconciliationSucceeded", "revision": "main@sha1:5f1e9c3",
    }
    assert record["body"] == "Reconciliation finished in 1.2s, next run in 10m0s"
    assert (record["severity_text"], record["severity_number"]) == ("INFO", 9)
    assert record["time"] == datetime(2026, 5, 4, 10, 11, 12, tzinfo=timezone.utc)


def test_a_warning_takes_its_revision_from_its_own_api_group_and_its_object_namespace(events_config):
    event = flux_event(
        api_version="helm.toolkit.fluxcd.io/v2", kind="HelmRelease", name="podinfo", namespace="apps",
        event_type="Warning", reason="UpgradeFailed", note="Helm upgrade failed: timed out",
        annotations={"helm.toolkit.fluxcd.io/revision": "6.7.1", "helm.toolkit.fluxcd.io/token": "a1b2",
                     "kustomize.toolkit.fluxcd.io/revision": "not this one"},
    )
    record = run_pipeline(events_config, event)
    assert record is not None, "dropped"
    assert record["attributes"] == {
        "controllerKind": "HelmRelease", "name": "podinfo", "namespace": "apps", "reason": "UpgradeFailed",
        "revision": "6.7.1",
    }
    assert (record["severity_text"], record["severity_number"]) == ("WARN", 13)


def test_an_event_without_revision_annotation_gets_no_revision(events_config):
    event = flux_event(api_version="source.toolkit.fluxcd.io/v1", kind="GitRepository", name="flux-system",
                       event_type="Warning", reason="GitOperationFailed", note="failed to checkout")
    record = run_pipeline(events_config, event)
    assert record is not None, "dropped"
    assert "revision" not in record["attributes"]
    assert record["attributes"]["controllerKind"] == "GitRepository"
    assert record["body"] == "failed to checkout"


def test_an_events_api_event_takes_its_time_from_event_time(events_config):
    event = flux_event(api_version="source.extensions.fluxcd.io/v1beta1", kind="ArtifactGenerator", name="gen",
                       reason="Succeeded", note="generated", last=None, event_time="2026-05-04T10:11:12.345678Z")
    record = run_pipeline(events_config, event)
    assert record is not None, "dropped"
    assert record["time"] == datetime(2026, 5, 4, 10, 11, 12, 345678, tzinfo=timezone.utc)


@pytest.mark.parametrize("api_version", [
    "source.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1", "helm.toolkit.fluxcd.io/v2",
    "notification.toolkit.fluxcd.io/v1beta3", "image.toolkit.fluxcd.io/v1", "source.extensions.fluxcd.io/v1beta1",
])
def test_events_of_every_flux_api_group_are_kept_with_their_revision(events_config, api_version):
    group = api_version.split("/")[0]
    event = flux_event(api_version=api_version, kind="Anything", name="x", reason="R", note="n",
                       annotations={f"{group}/revision": "rev-1"})
    record = run_pipeline(events_config, event)
    assert record is not None and record["attributes"]["revision"] == "rev-1"


@pytest.mark.parametrize("api_version", [
    "v1", "apps/v1", "kustomize.toolkit.fluxcd.io.evil.example/v1", "toolkit.fluxcd.io/v1", "fluxcd.controlplane.io/v1",
    None,
])
def test_events_about_other_objects_are_dropped(events_config, api_version):
    event = flux_event(api_version=api_version, kind="Pod", name="web-0", reason="BackOff", note="Back-off restarting")
    if api_version is None:
        del event["object"]["regarding"]["apiVersion"]
    assert run_pipeline(events_config, event) is None


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
    ({"signals": {"metrics": False}, "collector": {"replicas": 2}}, "collector.replicas"),
])
def test_invalid_event_settings_name_their_key(raw, path):
    base = (
        {"clusterName": "c1"} if raw.get("mode") == "dash0-operator"
        else {"clusterName": "c1", "exporter": {"type": "debug"}}
    )
    with pytest.raises(ConfigError) as error:
        parse_stack_config({**base, **raw})
    assert f"fluxcd-otel:{path}:" in str(error.value)
