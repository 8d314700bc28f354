"""Pure builder of log-to-trace correlation: OTTL that stamps a Flux record with the trace ID
that Flux's `otel` Provider gives the spans of the record's revision.

Flux derives that trace ID from the Alert's UID and the event's revision alone (see
`constants.FLUX_TRACE_ID_BYTES`). Flux events carry the very metadata the Provider hashes, so the
gateway stamps event records exactly (flux_events). Log lines name the reconciled object
(`controllerKind`, `name`, `namespace`) but carry a `revision` at info level only for the kinds in
`constants.FLUX_KINDS_LOGGING_REVISION`, so the log agent links only those. Objects selected by
`matchLabels` cannot be recognised from a record, which carries no labels; they are left out.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .. import constants as c
from .ottl import escape_env, ottl_string

# Hex digits of a trace ID: two per byte.
TRACE_ID_HEX_DIGITS = 2 * c.FLUX_TRACE_ID_BYTES


def log_attribute(key: str) -> str:
    """A log record attribute, with the context prefix the transform processor expects."""
    return f"log.attributes[{ottl_string(key)}]"


def linkable_sources(
    event_sources: Sequence[Mapping[str, Any]], kinds: Sequence[str] | None = None
) -> list[Mapping[str, Any]]:
    """The Alert's event sources a record can be matched against: all but `matchLabels` ones (a
    record carries no labels), and only of `kinds` when given."""
    return [
        source for source in event_sources
        if not source.get("matchLabels") and (kinds is None or source["kind"] in kinds)
    ]


def source_condition(source: Mapping[str, Any]) -> str:
    """OTTL condition: the record is about an object this event source selects."""
    parts = [
        f"{log_attribute(c.FLUX_LOG_KIND_FIELD)} == {ottl_string(source['kind'])}",
        f"{log_attribute(c.FLUX_LOG_NAMESPACE_FIELD)} == {ottl_string(source['namespace'])}",
    ]
    if source["name"] != "*":
        parts.append(f"{log_attribute(c.FLUX_LOG_NAME_FIELD)} == {ottl_string(source['name'])}")
    return " and ".join(parts)


def trace_id(alert_uid: str, revision: str) -> str:
    """OTTL value of Flux's trace ID for `revision` (an OTTL expression). `SHA256` returns
    lowercase hex, so its first 32 digits are the first 16 bytes Flux uses."""
    digest = f"SHA256(Concat([{ottl_string(alert_uid)}, {revision}], {ottl_string(c.FLUX_TRACE_ID_SEPARATOR)}))"
    return f"Substring({digest}, 0, {TRACE_ID_HEX_DIGITS})"


def trace_id_statements(
    alert_uid: str,
    event_sources: Sequence[Mapping[str, Any]],
    revisions: Sequence[tuple[str, str]],
) -> list[str]:
    """`set(log.trace_id.string, ...)` per revision form, for records about any linkable source.
    `revisions` are (OTTL revision expression, condition that it is present), weakest first: a later
    form that is present overrides an earlier one, as notification-controller prefers
    `<app-version>@<oci-digest>`."""
    conditions = sorted({source_condition(source) for source in event_sources})
    if not conditions:
        return []
    selected = conditions[0] if len(conditions) == 1 else "(" + " or ".join(f"({one})" for one in conditions) + ")"
    return [
        escape_env(f"set(log.trace_id.string, {trace_id(alert_uid, revision)}) where {present} and {selected}")
        for revision, present in revisions
    ]


def log_line_statements(alert_uid: str, event_sources: Sequence[Mapping[str, Any]]) -> list[str]:
    """Log-agent statements (log context): lines with a non-empty `revision`, of kinds whose
    controller logs it (constants.FLUX_KINDS_LOGGING_REVISION)."""
    revision = log_attribute(c.FLUX_LOG_REVISION_FIELD)
    sources = linkable_sources(event_sources, c.FLUX_KINDS_LOGGING_REVISION)
    return trace_id_statements(alert_uid, sources, [(revision, f'{revision} != nil and {revision} != ""')])


def transform_processor(statements: Any) -> dict[str, Any]:
    """The `transform` processor running `statements` (a list, or an Output of one) on log records.

    `ignore`: a record the statements cannot handle passes unchanged instead of failing its
    whole batch, which the file_log receiver would keep retrying.
    """
    return {"error_mode": "ignore", "log_statements": [{"context": "log", "statements": statements}]}
