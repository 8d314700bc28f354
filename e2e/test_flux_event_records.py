"""What the gateway's event statements make of Flux Event objects, judged by the real collector.

The rendered `logs/flux-events` processors (filter, transform and the rest, in rendered order) run
in the real collector behind an OTLP receiver in place of the `k8s_objects` one: each case posts
one watch notification as that receiver delivers it (body `{"type", "object"}`, its attributes),
under a resource attribute naming the case, and the sink shows the record the gateway would
export, or its absence. The Events are written here to cover every Flux API group and the edge
cases at once; e2e/test_events_rbac.py runs the same pipeline from the real receiver on a real API
server, and e2e/test_real_flux.py on the Events Flux's own controllers record.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest

from components.builders.collector_configs import gateway_config
from components.builders.flux_events import PIPELINE
from components.config import ExporterSettings, GatewaySettings, SignalSettings
from e2e.harness.collector import Collector, Received, Sink, loopback_address
from e2e.harness.kube import wait_until

CASE = "e2e.case"
DELIVERY_SECONDS = 60
FLUX_GROUP_VERSIONS = (
    "source.toolkit.fluxcd.io/v1", "kustomize.toolkit.fluxcd.io/v1", "helm.toolkit.fluxcd.io/v2",
    "notification.toolkit.fluxcd.io/v1beta3", "image.toolkit.fluxcd.io/v1", "source.extensions.fluxcd.io/v1beta1",
)
OTHER_GROUP_VERSIONS = ("v1", "apps/v1", "kustomize.toolkit.fluxcd.io.evil.example/v1", "toolkit.fluxcd.io/v1",
                        "fluxcd.controlplane.io/v1", None)


def flux_event(*, api_version, kind, name, namespace="flux-system", event_type="Normal", reason, note,
               annotations=None, last="2026-05-04T10:11:12Z", event_time=None) -> dict[str, Any]:
    """An Event as events.k8s.io/v1 serves one that a Flux controller recorded (core/v1 recorder)."""
    metadata: dict[str, Any] = {"name": f"{name}.18a2b3c4d5e6f708", "namespace": namespace, "uid": "0b5c",
                                "resourceVersion": "4242", "creationTimestamp": "2026-05-04T10:00:00Z"}
    if annotations is not None:
        metadata["annotations"] = annotations
    regarding = {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace, "uid": "7f3e",
                 "resourceVersion": "99"}
    if api_version is None:
        del regarding["apiVersion"]
    event = {
        "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": metadata, "eventTime": event_time,
        "reportingController": kind.lower() + "-controller", "reportingInstance": "", "action": "",
        "reason": reason, "regarding": regarding, "note": note, "type": event_type,
        "deprecatedSource": {"component": kind.lower() + "-controller"},
        "deprecatedFirstTimestamp": last, "deprecatedLastTimestamp": last, "deprecatedCount": 3,
    }
    return {"type": "MODIFIED", "object": {key: value for key, value in event.items() if value is not None}}


CASES = {
    "kustomization": flux_event(
        api_version="kustomize.toolkit.fluxcd.io/v1", kind="Kustomization", name="apps",
        reason="ReconciliationSucceeded", note="Reconciliation finished in 1.2s, next run in 10m0s",
        annotations={"kustomize.toolkit.fluxcd.io/revision": "main@sha1:5f1e9c3"}),
    "own-group-warning": flux_event(
        api_version="helm.toolkit.fluxcd.io/v2", kind="HelmRelease", name="podinfo", namespace="apps",
        event_type="Warning", reason="UpgradeFailed", note="Helm upgrade failed: timed out",
        annotations={"helm.toolkit.fluxcd.io/revision": "6.7.1", "helm.toolkit.fluxcd.io/token": "a1b2",
                     "kustomize.toolkit.fluxcd.io/revision": "not this one"}),
    "no-revision": flux_event(
        api_version="source.toolkit.fluxcd.io/v1", kind="GitRepository", name="flux-system", event_type="Warning",
        reason="GitOperationFailed", note="failed to checkout"),
    "event-time": flux_event(
        api_version="source.extensions.fluxcd.io/v1beta1", kind="ArtifactGenerator", name="gen", reason="Succeeded",
        note="generated", last=None, event_time="2026-05-04T10:11:12.345678Z"),
    **{f"group {api_version}": flux_event(api_version=api_version, kind="Anything", name="x", reason="R", note="n",
                                          annotations={f"{api_version.split('/')[0]}/revision": "rev-1"})
       for api_version in FLUX_GROUP_VERSIONS},
    **{f"other {api_version}": flux_event(api_version=api_version, kind="Pod", name="web-0", reason="BackOff",
                                          note="Back-off restarting")
       for api_version in OTHER_GROUP_VERSIONS},
}


def otlp_value(value: Any) -> dict[str, Any]:
    """A JSON value as an OTLP AnyValue, as the k8s_objects receiver turns an object into a body."""
    if isinstance(value, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": otlp_value(v)} for k, v in value.items()]}}
    if isinstance(value, list):
        return {"arrayValue": {"values": [otlp_value(v) for v in value]}}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    return {"stringValue": str(value)}


def notification(case: str, watched: dict[str, Any]) -> dict[str, Any]:
    attributes = {"k8s.resource.name": "events", "event.domain": "k8s",
                  "event.name": watched["object"]["metadata"]["name"]}
    record = {"body": otlp_value(watched),
              "attributes": [{"key": k, "value": otlp_value(v)} for k, v in attributes.items()]}
    return {"resource": {"attributes": [{"key": CASE, "value": otlp_value(case)}]},
            "scopeLogs": [{"logRecords": [record]}]}


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, Received]:
    """The record the sink got for each case that was not dropped, once every case went through."""
    rendered = gateway_config(
        cluster_name="c1", signals=SignalSettings(), gateway=GatewaySettings(), exporter_settings=ExporterSettings(
            type="debug"), scrape_targets=["t.flux-system.svc:8080"], event_namespaces=["flux-system"])
    chain = rendered["service"]["pipelines"][PIPELINE]["processors"]
    workdir = tmp_path_factory.mktemp("flux-event-records")
    host = loopback_address()
    with Sink(workdir / "sink") as sink:
        config = {
            "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"{host}:4318"}}}},
            "processors": {name: rendered["processors"][name] for name in chain},
            "exporters": {"otlp_http/sink": {"endpoint": sink.otlp_http_endpoint}},
            "extensions": {"health_check": {"endpoint": f"{host}:13133"}},
            "service": {"extensions": ["health_check"], "telemetry": {"metrics": {"level": "none"}},
                        "pipelines": {"logs": {"receivers": ["otlp"], "processors": chain,
                                               "exporters": ["otlp_http/sink"]}}},
        }
        with Collector("gateway-events", config, workdir / "gateway", host=host) as collector:
            body = {"resourceLogs": [notification(case, watched) for case, watched in CASES.items()]}
            request = urllib.request.Request(f"http://{host}:4318/v1/logs", data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30):
                pass
            kept = [case for case in CASES if not case.startswith("other ")]

            def arrived() -> dict[str, Received]:
                got = {record.resource[CASE]: record for record in sink.logs()}
                return got if set(kept) <= set(got) else {}
            found = wait_until(arrived, timeout=DELIVERY_SECONDS, what=f"the records of {kept}")
            assert "error" not in collector.log_tail(200).lower(), collector.log_tail(200)
            return found


def time_of(record: Received) -> datetime:
    return datetime.fromtimestamp(int(record["timeUnixNano"]) / 1e9, tz=timezone.utc)


def test_a_kustomization_event_becomes_a_log_record_with_the_controller_logs_attributes(records):
    record = records["kustomization"]
    assert record.attributes == {
        "controllerKind": "Kustomization", "name": "apps", "namespace": "flux-system",
        "reason": "ReconciliationSucceeded", "revision": "main@sha1:5f1e9c3",
    }
    assert record.body == "Reconciliation finished in 1.2s, next run in 10m0s"
    assert (record["severityText"], record["severityNumber"]) == ("INFO", 9)
    assert time_of(record) == datetime(2026, 5, 4, 10, 11, 12, tzinfo=timezone.utc)


def test_a_warning_takes_its_revision_from_its_own_api_group_and_its_object_namespace(records):
    record = records["own-group-warning"]
    assert record.attributes == {
        "controllerKind": "HelmRelease", "name": "podinfo", "namespace": "apps", "reason": "UpgradeFailed",
        "revision": "6.7.1",
    }
    assert (record["severityText"], record["severityNumber"]) == ("WARN", 13)


def test_an_event_without_revision_annotation_gets_no_revision(records):
    record = records["no-revision"]
    assert "revision" not in record.attributes
    assert record.attributes["controllerKind"] == "GitRepository"
    assert record.body == "failed to checkout"


def test_an_events_api_event_takes_its_time_from_event_time(records):
    assert time_of(records["event-time"]) == datetime(2026, 5, 4, 10, 11, 12, 345678, tzinfo=timezone.utc)


@pytest.mark.parametrize("api_version", FLUX_GROUP_VERSIONS)
def test_events_of_every_flux_api_group_are_kept_with_their_revision(records, api_version):
    assert records[f"group {api_version}"].attributes["revision"] == "rev-1"


@pytest.mark.parametrize("api_version", OTHER_GROUP_VERSIONS)
def test_events_about_other_objects_are_dropped(records, api_version):
    # The sink got every kept case, which were posted in the same request as these.
    assert f"other {api_version}" not in records
