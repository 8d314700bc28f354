"""The configuration reference, generated from the StackConfig model.

`docs/configuration.md` is wholly generated: every key grouped by section, with its type,
constraints, default and description.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .. import constants as c
from ..config import SECRET_KEYS, StackConfig, unwrap, words_of
from .descriptions import descriptions


def _type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(arg) for arg in args if arg is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if annotation is SecretStr:
        return "secret string"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return getattr(annotation, "__name__", str(annotation))


def _nested(annotation: Any) -> tuple[type[BaseModel], str] | None:
    """The model a field holds (directly, optionally or as list items) and its key separator."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, "."
        if typing.get_origin(candidate) is list:
            inner = typing.get_args(candidate)[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner, "[]."
    return None


def _shown(value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "-"
    if isinstance(value, BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`"


@dataclass(frozen=True)
class Key:
    path: str
    """Key path below the namespace, e.g. `gateway.image.tag` or `tracing.eventSources[].kind`."""
    type: str
    default: str
    description: str
    constraints: str
    secret: bool


@lru_cache(maxsize=None)
def _properties(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)["properties"]


def _code(text: str) -> str:
    """A code span inside a table cell; a pattern holding a backtick needs a longer fence."""
    escaped = text.replace("|", "\\|")
    return f"`` {escaped} ``" if "`" in escaped else f"`{escaped}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _type_words(field: FieldInfo) -> tuple[str | None, str | None, str | None]:
    """The words (config.Words) of a key's own type, of its list items and of its map keys."""
    annotation, metadata = unwrap(field.annotation)
    own = words_of([*field.metadata, *metadata])
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    items = words_of(unwrap(args[0])[1]) if origin is list else None
    map_keys = words_of(unwrap(args[0])[1]) if origin is dict else None
    return own, items, map_keys


def _constraints(prop: dict[str, Any], field: FieldInfo | None = None) -> str:
    """What a key allows beyond its type: the words of its constrained type where it has them
    (config.Words), else the JSON Schema's patterns and lengths; ranges and list sizes."""
    own, items, map_keys = _type_words(field) if field is not None else (None, None, None)
    branches = [branch for branch in prop.get("anyOf", [prop]) if branch.get("type") != "null"]
    node = branches[0] if len(branches) == 1 else {}
    parts = []
    if own is not None:
        parts.append(_cell(own))
    else:
        if "pattern" in node:
            parts.append(f"matches {_code(node['pattern'])}")
        if "minLength" in node and node["minLength"] > 1:
            parts.append(f"at least {node['minLength']} characters")
        if "maxLength" in node:
            parts.append(f"at most {node['maxLength']} characters")
    if "minimum" in node and "maximum" in node:
        parts.append(f"{node['minimum']} to {node['maximum']}")
    elif "minimum" in node:
        parts.append(f"at least {node['minimum']}")
    if "minItems" in node:
        parts.append(f"at least {node['minItems']} item{'s' if node['minItems'] != 1 else ''}")
    if items is not None:
        parts.append(f"items: {_cell(items)}")
    elif "pattern" in node.get("items", {}):
        parts.append(f"items match {_code(node['items']['pattern'])}")
    if map_keys is not None:
        parts.append(f"keys: {_cell(map_keys)}")
    else:
        for key_pattern in node.get("patternProperties", {}):
            parts.append(f"keys match {_code(key_pattern)}")
    return "; ".join(parts)


def keys(model: type[BaseModel] = StackConfig, prefix: str = "", defaults: BaseModel | None = None) -> Iterator[Key]:
    """Every key in model order; a nested object's keys show the values of the object's default."""
    for name, field in model.model_fields.items():
        alias = field.alias or name
        path = f"{prefix}{alias}"
        if defaults is not None:
            value = getattr(defaults, name)
        else:
            value = PydanticUndefined if field.is_required() else field.get_default(call_default_factory=True)
        yield Key(
            path=path,
            type=_type_name(field.annotation),
            default=_shown(value),
            description=(descriptions(model)[name] or "").replace("|", "\\|").replace("\n", " "),
            constraints=_constraints(_properties(model)[alias], field),
            secret=model is StackConfig and alias in SECRET_KEYS,
        )
        nested = _nested(field.annotation)
        if nested is not None:
            model_type, separator = nested
            yield from keys(model_type, f"{path}{separator}", value if isinstance(value, BaseModel) else None)


REFERENCE_INTRO = f"""# Configuration reference

<!-- Generated from components/config/ by `python -m components regenerate`. Do not edit. -->

Every key lives under the `{c.PROJECT}:` namespace of a stack file (`stacks/Pulumi.<stack>.yaml`),
or comes from a [Pulumi ESC environment](esc.md) the stack imports. The program validates the
whole configuration before it declares any resource; how to set keys and secrets, and the rules
that span several keys (mode, exporter type, secrets), are in [Setting values](setting-values.md).
Editors check stack files against [stack-config.schema.json](stack-config.schema.json), generated
from the same model.

- **type**: `object` keys are sections whose own keys follow; `a` \\| `b` lists the allowed
  values. Keys marked *secret* must be set with `pulumi config set --secret` (or `fn::secret`
  in ESC); a plain-text value is rejected.
- **default**: `required` keys have none; `-` means unset.
"""


def _reference_table(rows: list[Key]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    for key in rows:
        secret = " *secret*" if key.secret else ""
        kind = f"{key.type}<br>{key.constraints}" if key.constraints else key.type
        lines.append(f"| `{c.PROJECT}:{key.path}`{secret} | {kind} | {key.default} | {key.description} |")
    return lines


def reference() -> str:
    """docs/configuration.md: top-level keys first, then one section per top-level object."""
    all_keys = list(keys())
    sections = {key.path: key for key in all_keys if key.type == "object" and "." not in key.path}
    top_level = [key for key in all_keys if "." not in key.path and "[" not in key.path and key.path not in sections]
    lines = [REFERENCE_INTRO, "## Top-level keys", ""] + _reference_table(top_level)
    for section, key in sections.items():
        members = [other for other in all_keys if other.path.startswith((f"{section}.", f"{section}["))]
        lines += ["", f"## `{c.PROJECT}:{section}`", "", key.description, ""]
        lines += _reference_table(members)
    return "\n".join(lines) + "\n"

