"""Pure builder of log-to-trace correlation: the log agent stamps a Flux log line with the trace
ID that Flux's `otel` Provider gives the spans of the line's revision.

Flux derives that trace ID from the Alert's UID and the event's revision alone (see
`constants.FLUX_TRACE_ID_BYTES`). A Flux log line names the reconciled object (`controllerKind`,
`name`, `namespace`) and often the revision it works on, so the agent can compute the same ID
with OTTL for every line of an object the Alert selects. Objects selected by `matchLabels`
cannot be recognised from a log line, which carries no labels; they are left out.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import constants as c
from .collector_configs import escape_env

# Hex digits of a trace ID: two per byte.
TRACE_ID_HEX_DIGITS = 2 * c.FLUX_TRACE_ID_BYTES


def ottl_string(value: str) -> str:
    """An OTTL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def log_attribute(key: str) -> str:
    return f"attributes[{ottl_string(key)}]"


def linkable_sources(event_sources: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The Alert's event sources a log line can be matched against (all but `matchLabels` ones)."""
    return [source for source in event_sources if not source.get("matchLabels")]


def source_condition(source: Mapping[str, Any]) -> str:
    """OTTL condition: the log line is about an object this event source selects."""
    parts = [
        f"{log_attribute(c.FLUX_LOG_KIND_FIELD)} == {ottl_string(source['kind'])}",
        f"{log_attribute(c.FLUX_LOG_NAMESPACE_FIELD)} == {ottl_string(source['namespace'])}",
    ]
    if source["name"] != "*":
        parts.append(f"{log_attribute(c.FLUX_LOG_NAME_FIELD)} == {ottl_string(source['name'])}")
    return " and ".join(parts)


def trace_id_statements(alert_uid: str, event_sources: Sequence[Mapping[str, Any]]) -> list[str]:
    """One `set(trace_id.string, ...)` per linkable source, for log lines with a non-empty revision.

    `SHA256` returns lowercase hex, so its first 32 digits are the first 16 bytes Flux uses.
    """
    revision = log_attribute(c.FLUX_LOG_REVISION_FIELD)
    digest = f"SHA256(Concat([{ottl_string(alert_uid)}, {revision}], {ottl_string(c.FLUX_TRACE_ID_SEPARATOR)}))"
    trace_id = f"Substring({digest}, 0, {TRACE_ID_HEX_DIGITS})"
    has_revision = f'{revision} != nil and {revision} != ""'
    conditions = sorted({source_condition(source) for source in linkable_sources(event_sources)})
    return [escape_env(f"set(trace_id.string, {trace_id}) where {has_revision} and {condition}")
            for condition in conditions]


def transform_processor(statements: Any) -> dict[str, Any]:
    """The `transform` processor running `statements` (a list, or an Output of one) on log records.

    `ignore`: a record the statements cannot handle passes unchanged instead of failing its
    whole batch, which the file_log receiver would keep retrying.
    """
    return {"error_mode": "ignore", "log_statements": [{"context": "log", "statements": statements}]}
