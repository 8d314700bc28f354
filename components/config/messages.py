"""Pydantic's errors in words: key paths, "did you mean", and misspelt namespaces."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Annotated, Any, Iterable, Optional, Union

from pydantic import (
    BaseModel,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

from .. import constants as c
from .errors import FullKey, InvalidKey
from .stack import StackConfig
from .values import Words


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn `a` into `b`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _squeezed(name: str) -> str:
    return re.sub(r"[-_.\s]", "", name).lower()


def is_near_miss(candidate: str, namespace: str) -> bool:
    """Whether a config namespace looks like a misspelling of `namespace` (edit distance up to 2,
    less for short names; case and separators aside)."""
    if candidate == namespace:
        return False
    allowed = min(2, len(namespace) // 4)
    return _squeezed(candidate) == _squeezed(namespace) or edit_distance(candidate.lower(), namespace) <= allowed


def namespace_near_misses(
    keys: Iterable[str], namespace: str = c.PROJECT, own: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Keys whose namespace is a near miss of `namespace`: the program would silently ignore them.

    Keys of other namespaces (`kubernetes:context`, `pulumi:...`) and of `own` (the running
    project's, when it is not `namespace`) are left alone."""
    own = set(own)
    problems: list[tuple[str, str]] = []
    for key in sorted(keys):
        prefix, colon, rest = key.partition(":")
        if not colon or prefix in own or not is_near_miss(prefix, namespace):
            continue
        problems.append(
            (
                FullKey(key),
                f"the namespace `{prefix}:` is not `{namespace}:`, so this key would be ignored;"
                f" did you mean `{namespace}:{rest}`?",
            )
        )
    return problems


def own_namespace_keys(keys: Iterable[str], namespace: str, project: str) -> list[tuple[str, str]]:
    """Keys of the package's that a program of its own (project `project`) set in its own namespace
    (`pulumi config set clusterName` there writes `<project>:clusterName`): the package reads only
    `namespace`, so each would be ignored unless it is given there too."""
    if project == namespace:
        return []
    keys = set(keys)
    ours = set(allowed_keys(StackConfig))
    return [
        (FullKey(key), f"the package reads only `{namespace}:` keys, so this one is ignored; set"
                       f" `{namespace}:{key.partition(':')[2]}` instead")
        for key in sorted(keys)
        if key.partition(":")[0] == project and key.partition(":")[2].split(".")[0] in ours
        and f"{namespace}:{key.partition(':')[2]}" not in keys
    ]


def _key_path(loc: tuple[Any, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":
            name = str(part) or '""'
            path += f".{name}" if path else name
    return path


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The type under Optional and Annotated, with the Annotated metadata found on the way."""
    metadata: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata += extra
        elif origin in (Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _model_field(model: type[BaseModel], key: Any) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def type_at(loc: tuple[Any, ...], model: type[BaseModel] = StackConfig) -> tuple[Any, list[Any]]:
    """The declared type at a pydantic error location, and the metadata (constraints, Words) it
    carries; (None, []) where the location leaves the model."""
    current: Any = model
    metadata: list[Any] = []
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        if _is_model(current):
            field = _model_field(current, part)
            if field is None:
                return None, []
            current, inner = unwrap(field.annotation)
            # Pydantic moves the Annotated metadata of a field's own type into the field.
            metadata = [*field.metadata, *inner]
        elif typing.get_origin(current) is list and isinstance(part, int):
            current, metadata = unwrap(typing.get_args(current)[0])
        elif typing.get_origin(current) is dict:
            key_type, value_type = typing.get_args(current)
            if parts and parts[0] == "[key]":
                parts.pop(0)
                current, metadata = unwrap(key_type)
            else:
                current, metadata = unwrap(value_type)
        else:
            return None, []
    return current, metadata


def words_of(metadata: Iterable[Any]) -> Optional[str]:
    return next((item.text for item in metadata if isinstance(item, Words)), None)


def allowed_keys(model: type[BaseModel]) -> list[str]:
    """The keys of a model level as users write them (camelCase)."""
    return [field.alias or name for name, field in model.model_fields.items()]


def closest(word: str, candidates: Iterable[str]) -> Optional[str]:
    """The candidate `word` most likely misspells, if one is close (case and separators aside)."""
    by_squeezed = {_squeezed(candidate): candidate for candidate in candidates}
    squeezed = _squeezed(word)
    if squeezed in by_squeezed:
        return by_squeezed[squeezed]
    matches = difflib.get_close_matches(squeezed, list(by_squeezed), n=1, cutoff=0.75)
    return by_squeezed[matches[0]] if matches else None


def _value_at(raw: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(raw, dict):
            raw = raw.get(part)
        elif isinstance(raw, list) and isinstance(part, int) and part < len(raw):
            raw = raw[part]
        else:
            return None
    return raw


# Keys of the namespace that were renamed, by their old name: a stack file written for an older
# release is told where its settings went.
RENAMED_KEYS = {"collector": "gateway"}


def _unknown_key_reason(loc: tuple[Any, ...], raw: Any) -> str:
    model, _ = type_at(loc[:-1])
    if len(loc) == 1 and loc[0] in RENAMED_KEYS:
        new = RENAMED_KEYS[loc[0]]
        return f"renamed to `{new}`: the same settings, now under `{c.PROJECT}:{new}`"
    if len(loc) == 1 and "." in str(loc[0]) and _model_field(StackConfig, str(loc[0]).split(".")[0]) is not None:
        # `pulumi config set fluxcd-otel:exporter.protocol http` stores that dotted name as one key.
        return (f"a dotted name stored as one key, which is never read: set the value inside its section with"
                f" `pulumi config set --path {c.PROJECT}:{loc[0]} <value>` and remove this one with"
                f" `pulumi config rm {c.PROJECT}:{loc[0]}`")
    if not _is_model(model):
        return "unknown key (check the spelling; every key is listed in docs/configuration.md)"
    siblings = _value_at(raw, loc[:-1])
    given = set(siblings) if isinstance(siblings, dict) else set()
    keys = allowed_keys(model)
    # A key already given is not what the unknown one misspells (gpuLimit next to cpuLimit), and
    # neither is a key further from it than the given one (clusterLabel for clusterNmae).
    suggestion = closest(str(loc[-1]), keys)
    if suggestion is not None and suggestion not in given:
        return f"unknown key; did you mean `{suggestion}`?"
    return f"unknown key (allowed here: {', '.join(keys)})"


def _input_in_words(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return repr(value)


_SHAPE_ERRORS = {"string_pattern_mismatch", "string_too_long", "string_too_short"}


def _described_reason(error: ErrorDetails, words: str, annotation: Any, metadata: list[Any]) -> Optional[str]:
    """A type's words in place of pydantic's regex or "valid string" message."""
    value = error["input"]
    if error["type"] in _SHAPE_ERRORS and isinstance(value, str):
        got = "an empty string" if value == "" else repr(value)
        if error["type"] == "string_too_long":
            got += f" ({len(value)} characters)"
        return f"must be {words}; got {got}"
    if error["type"] == "string_type":
        reason = f"must be {words}; got {_input_in_words(value)}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                TypeAdapter(Annotated[(annotation, *metadata)]).validate_python(str(value))
            except ValidationError:
                return reason
            return f'{reason}; write it in quotes: "{value}"'
        return reason
    return None


def _reason(error: ErrorDetails, raw: Any = None) -> str:
    loc = tuple(error["loc"])
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return _unknown_key_reason(loc, raw)
    if error["type"] == "literal_error":
        reason = f"must be one of {error['ctx']['expected']}"
        options = re.findall(r"'([^']*)'", error["ctx"]["expected"])
        suggestion = closest(error["input"], options) if isinstance(error["input"], str) else None
        return f"{reason}; did you mean '{suggestion}'?" if suggestion else reason
    if error["type"] == "model_type":
        return "must be a map of keys (see docs/configuration.md)"
    annotation, metadata = type_at(loc)
    words = words_of(metadata)
    if words is not None:
        described = _described_reason(error, words, annotation, metadata)
        if described is not None:
            return described
    if error["type"] == "string_pattern_mismatch":
        return f"{error['input']!r} does not match {error['ctx']['pattern']}"
    # A secret's value is never echoed, not even a wrong one.
    got = "" if _is_secret(loc) else f"; got {_input_in_words(error['input'])}"
    kind = _KINDS.get(error["type"])
    if kind is not None:
        return f"must be {kind}{got}"
    if error["type"] in ("too_short", "too_long"):
        ctx = error["ctx"]
        most = "at least" if error["type"] == "too_short" else "at most"
        count = ctx.get("min_length", ctx.get("max_length"))
        return f"must have {most} {count} item{'s' if count != 1 else ''}; got {ctx['actual_length']}"
    bound = _BOUNDS.get(error["type"])
    if bound is not None:
        limit = next(iter((error.get("ctx") or {}).values()), None)
        return f"must be {bound} {limit}{got}"
    return error["msg"].removeprefix("Value error, ")


def _is_secret(loc: tuple[Any, ...]) -> bool:
    field = _model_field(StackConfig, loc[0]) if loc else None
    return field is not None and bool((field.json_schema_extra or {}).get("secret"))


# Pydantic's type errors, in the words the rest of the messages use.
_KINDS = {
    "dict_type": "a map of names to values",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "string_type": "text", "list_type": "a list",
}
_BOUNDS = {
    "greater_than_equal": "at least", "greater_than": "more than",
    "less_than_equal": "at most", "less_than": "less than",
}


def error_problems(error: ErrorDetails, raw: Any = None) -> list[tuple[str, str]]:
    """(key path, reason) of one pydantic error; a cross-field check may name several keys."""
    loc = tuple(error["loc"])
    invalid_key = (error.get("ctx") or {}).get("error")
    if isinstance(invalid_key, InvalidKey):
        return [(_key_path(loc + tuple(key.split("."))), reason) for key, reason in invalid_key.problems]
    return [(_key_path(loc), _reason(error, raw))]
