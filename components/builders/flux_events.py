"""Pure builders for Flux events as logs (collector mode).

Kubernetes events about Flux objects reach the backend as log records that carry the controller
logs' attributes (`controllerKind`, `name`, `namespace`, `revision`), so one filter finds both.
The gateway watches events.k8s.io Events with the `k8s_objects` receiver, which delivers the
whole Event (annotations included), drops those whose object is not in a Flux API group, and
reshapes the rest with OTTL: attributes from the Event, severity from its type, time from its
last occurrence, body = its message. Plain Python, no Pulumi.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .. import constants as c
from .ottl import ottl_string
from .trace_correlation import linkable_sources, log_attribute, trace_id_statements

Component = c.Component
RECEIVER = f"{Component.K8S_OBJECTS_RECEIVER}/flux-events"
FILTER = f"{Component.FILTER}/flux-events"
TRANSFORM = f"{Component.TRANSFORM}/flux-events"
PIPELINE = "logs/flux-events"
# Where the receiver puts the Event in watch mode: the body is {"type": <watch type>, "object": <Event>}.
EVENT_PATH = 'log.body["object"]'
# Events expire after the API server's TTL; their deletion is not an occurrence.
IGNORED_WATCH_TYPES = ("DELETED",)
ATTRIBUTES = (
    c.FLUX_LOG_KIND_FIELD,
    c.FLUX_LOG_NAME_FIELD,
    c.FLUX_LOG_NAMESPACE_FIELD,
    c.FLUX_EVENT_REASON_ATTRIBUTE,
    c.FLUX_LOG_REVISION_FIELD,
)


def event_field(*keys: str) -> str:
    """OTTL path of a field of the watched Event, e.g. `regarding`, `kind`."""
    return EVENT_PATH + "".join(f"[{ottl_string(key)}]" for key in keys)


def api_version_regex(groups: tuple[str, ...]) -> str:
    """Matches `<one of the groups>/<version>`; `[.]` keeps the pattern free of escapes."""
    return "^(" + "|".join(group.replace(".", "[.]") for group in groups) + ")/"


def in_api_groups(groups: tuple[str, ...]) -> str:
    """OTTL condition: the Event's object belongs to one of these API groups."""
    return f"IsMatch({event_field('regarding', 'apiVersion')}, {ottl_string(api_version_regex(groups))})"


def events_receiver(namespaces: list[str]) -> dict[str, Any]:
    """Watch events.k8s.io Events in exactly these namespaces, with the pod's service account."""
    return {
        "auth_type": "serviceAccount",
        "objects": [
            {
                "name": c.EVENTS_RESOURCE,
                "group": c.EVENTS_API_GROUP,
                "mode": "watch",
                "namespaces": list(namespaces),
                "exclude_watch_type": list(IGNORED_WATCH_TYPES),
            }
        ],
    }


def events_filter() -> dict[str, Any]:
    """Drops every event whose object is not in a Flux API group (an absent one included)."""
    return {"error_mode": "ignore", "logs": {"log_record": [f"not {in_api_groups(c.FLUX_API_GROUPS)}"]}}


# Event metadata notification-controller hashes for OCI charts, kept on the record only while the
# trace ID is computed (keep_keys drops them).
TRANSIENT_ATTRIBUTES = {key: f"flux.{key}" for key in (c.FLUX_EVENT_APP_VERSION_KEY, c.FLUX_EVENT_OCI_DIGEST_KEY)}


def event_trace_statements(alert_uid: str, event_sources: Sequence[Mapping[str, Any]]) -> list[str]:
    """Statements that give an event record the trace ID of the span notification-controller makes
    from the same event. The Event's annotations carry the metadata it hashes: the revision or,
    when both are present, `<app-version>@<oci-digest>` (constants.FLUX_TRACE_ID_SEPARATOR)."""
    revision = log_attribute(c.FLUX_LOG_REVISION_FIELD)
    app_version, oci_digest = (log_attribute(name) for name in TRANSIENT_ATTRIBUTES.values())
    revisions = [
        (revision, f"{revision} != nil"),
        (f"Concat([{app_version}, {oci_digest}], {ottl_string(c.FLUX_OCI_REVISION_SEPARATOR)})",
         f"{app_version} != nil and {oci_digest} != nil"),
    ]
    return trace_id_statements(alert_uid, linkable_sources(event_sources), revisions)


def flux_event_statements(trace_statements: Sequence[str] = ()) -> list[str]:
    """OTTL statements (log context, flat style) from a watched Event to a Flux log record.

    `set` does nothing when its value is nil, so absent fields leave no attribute behind. The
    revision (and the OCI chart metadata) come from the annotations of the object's own API group.
    The Event's last occurrence wins over its eventTime. `trace_statements` (event_trace_statements)
    run once the attributes are set; the body is replaced last, since every other statement reads
    the Event from it.
    """
    regarding = {
        c.FLUX_LOG_KIND_FIELD: "kind",
        c.FLUX_LOG_NAME_FIELD: "name",
        c.FLUX_LOG_NAMESPACE_FIELD: "namespace",
    }
    statements = [f"set({log_attribute(name)}, {event_field('regarding', key)})" for name, key in regarding.items()]
    statements.append(f"set({log_attribute(c.FLUX_EVENT_REASON_ATTRIBUTE)}, {event_field('reason')})")
    annotations = {
        c.FLUX_LOG_REVISION_FIELD: c.FLUX_EVENT_REVISION_ANNOTATION,
        **{v: k for k, v in TRANSIENT_ATTRIBUTES.items()},
    }
    # The annotation's key is the object's own API group, then `/`, then the metadata key
    # (constants.flux_event_annotation), found by indexing with that expression.
    group = f'Split({event_field("regarding", "apiVersion")}, "/")[0]'
    statements += [
        f"set({log_attribute(name)}, {event_field('metadata', 'annotations')}"
        f"[Concat([{group}, {ottl_string(key)}], \"/\")]) where {in_api_groups(c.FLUX_API_GROUPS)}"
        for name, key in annotations.items()
    ]
    for event_type, (text, number) in c.EVENT_TYPE_SEVERITIES.items():
        is_type = f"{event_field('type')} == {ottl_string(event_type)}"
        statements += [
            f"set(log.severity_text, {ottl_string(text)}) where {is_type}",
            f"set(log.severity_number, {number}) where {is_type}",
        ]
    for field, layout in (
        ("eventTime", c.KUBERNETES_MICRO_TIME_FORMAT),
        ("deprecatedLastTimestamp", c.KUBERNETES_TIME_FORMAT),
    ):
        statements.append(
            f"set(log.time, Time({event_field(field)}, {ottl_string(layout)})) where {event_field(field)} != nil"
        )
    statements += list(trace_statements)
    statements += [
        f"keep_keys(log.attributes, [{', '.join(ottl_string(name) for name in ATTRIBUTES)}])",
        f"set(log.body, {event_field('note')})",
    ]
    return statements


def events_transform(statements: Any = None) -> dict[str, Any]:
    """`statements` defaults to flux_event_statements(); a caller passes its own (or an Output of
    them) to add the trace statements, which wait for the Alert's UID."""
    return {"error_mode": "ignore", "log_statements": flux_event_statements() if statements is None else statements}


def events_processors(statements: Any = None) -> dict[str, dict[str, Any]]:
    """The event pipeline's own processors, in pipeline order: drop early, then reshape."""
    return {FILTER: events_filter(), TRANSFORM: events_transform(statements)}
