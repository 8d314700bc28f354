"""The README's configuration table, generated from the StackConfig model.

    python -m components.config_reference            # print the table
    python -m components.config_reference --write README.md
"""

from __future__ import annotations

import argparse
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

from . import constants as c
from .config import StackConfig

START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


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


def _rows(model: type[BaseModel], prefix: str, defaults: BaseModel | None = None) -> Iterator[str]:
    """One row per key; a nested object's keys show the values of the object's default."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        if defaults is not None:
            value = getattr(defaults, name)
        else:
            value = PydanticUndefined if field.is_required() else field.get_default(call_default_factory=True)
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        yield f"| `{key}` | {_type_name(field.annotation)} | {_shown(value)} | {description} |"
        nested = _nested(field.annotation)
        if nested is not None:
            model_type, separator = nested
            yield from _rows(model_type, f"{key}{separator}", value if isinstance(value, BaseModel) else None)


def config_table() -> str:
    header = ["| key | type | default | description |", "|---|---|---|---|"]
    return "\n".join(header + list(_rows(StackConfig, f"{c.PROJECT}:")))


def with_table(text: str) -> str:
    start, end = text.index(START) + len(START), text.index(END)
    return f"{text[:start]}\n{config_table()}\n{text[end:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.config_reference")
    parser.add_argument("--write", type=Path, help="replace the table between the markers in this file")
    args = parser.parse_args(argv)
    if args.write is None:
        print(config_table())
        return 0
    args.write.write_text(with_table(args.write.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
