"""The typed arguments of the multi-language package, generated from the StackConfig model.

The Pulumi SDK's component provider host derives the package schema from type annotations and
reads each property's description from the attribute docstring in the source file, so the
arguments must exist as source code. This module writes them to `multi_language_args.py`:
one TypedDict per configuration section, an Enum per single-choice key, and `pulumi.Input` only
for the secret keys (every other key decides which resources exist, so it must be a plain value).
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, SecretStr

from ..config import SECRET_KEYS, StackConfig

ARGS_MODULE = Path(__file__).parents[1] / "resources" / "multi_language_args.py"
ARGS_CLASS = "FluxObservabilityArgs"
ARGS_DOC = "Arguments of FluxObservability: the keys of a stack's `fluxcd-otel:` configuration."

HEADER = '''"""Typed arguments of the multi-language FluxObservability (multi_language.py).

Generated from the StackConfig model (components/config/) by `python -m components
regenerate`; do not edit. No `from __future__ import annotations`: the component provider host reads
these annotations as types.
"""
'''


def _unwrapped(annotation: Any) -> Any:
    """The annotation without Annotated constraints and without Optional."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _unwrapped(args[0])
    if origin in (typing.Union, types.UnionType):
        choices = [arg for arg in args if arg is not type(None)]
        if len(choices) != 1:
            raise TypeError(f"{annotation!r}: the component provider host supports no unions besides Optional")
        return _unwrapped(choices[0])
    return annotation


def _literal_values(annotation: Any) -> Optional[tuple[str, ...]]:
    annotation = _unwrapped(annotation)
    return typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else None


def _choices_note(annotation: Any) -> str:
    """The allowed list items or map keys, which the schema types as plain strings."""
    annotation = _unwrapped(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and (values := _literal_values(args[0])):
        return " Items: " + ", ".join(f"`{value}`" for value in values) + "."
    if origin is dict and (values := _literal_values(args[0])):
        return " Keys: " + ", ".join(f"`{value}`" for value in values) + "."
    return ""


def _pascal(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def _member_name(value: str) -> str:
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", value)
    return re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").upper()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _docstring(text: str) -> str:
    if '"""' in text or "\\" in text or text.endswith('"'):
        return repr(text)
    return f'"""{text}"""'


class _ArgsModule:
    """Collects class definitions in dependency order: a class comes after the ones it refers to."""

    def __init__(self) -> None:
        self.classes: dict[str, str] = {}
        self.uses_enum = self.uses_input = self.uses_not_required = False

    def enum(self, name: str, description: str, values: tuple[str, ...]) -> str:
        lines = [f"class {name}(Enum):", f"    {_docstring(description)}", ""]
        lines += [f'    {_member_name(value)} = "{value}"' for value in values]
        source = "\n".join(lines)
        if self.classes.setdefault(name, source) != source:
            raise TypeError(f"two different enums would be named {name}")
        self.uses_enum = True
        return name

    def typed_dict(self, model: type[BaseModel], name: str, description: str) -> str:
        if name in self.classes:
            if not model.__doc__:
                # The schema has one description per type; a field's would be wrong for the others.
                raise TypeError(f"{model.__name__} is used by several keys: give it a docstring")
            return name
        enum_prefix = "" if model is StackConfig else model.__name__.removesuffix("Settings")
        lines = [f"class {name}(TypedDict):", f"    {_docstring(description)}", ""]
        for field_name, field in model.model_fields.items():
            field_description = _one_line(field.description or "") + _choices_note(field.annotation)
            annotation = self.type_text(
                field.annotation, enum_name=f"{enum_prefix}{_pascal(field_name)}", description=field_description
            )
            if (field.alias or field_name) in SECRET_KEYS:
                annotation = f"pulumi.Input[{annotation}]"
                self.uses_input = True
            if not field.is_required():
                annotation = f"NotRequired[{annotation}]"
                self.uses_not_required = True
            lines += [f"    {field_name}: {annotation}", f"    {_docstring(field_description)}"]
        self.classes[name] = "\n".join(lines)
        return name

    def type_text(self, annotation: Any, *, enum_name: str, description: str) -> str:
        annotation = _unwrapped(annotation)
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is typing.Literal:
            return self.enum(enum_name, description, args)
        if origin is list:
            # The host hands list items of an enum type over as empty objects, so such items stay strings.
            if _literal_values(args[0]):
                return "list[str]"
            return f"list[{self.type_text(args[0], enum_name=enum_name, description=description)}]"
        if origin is dict:
            if (
                not _literal_values(args[0])
                and self.type_text(args[0], enum_name=enum_name, description=description) != "str"
            ):
                raise TypeError(f"{annotation!r}: map keys must be strings")
            return f"dict[str, {self.type_text(args[1], enum_name=enum_name, description=description)}]"
        if annotation is SecretStr:
            return "str"
        if annotation in (str, int, float, bool):
            return annotation.__name__
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return self.typed_dict(annotation, annotation.__name__, _one_line(annotation.__doc__ or description))
        raise TypeError(f"{annotation!r} has no counterpart in a Pulumi package schema")

    def source(self) -> str:
        typing_names = ["NotRequired"] * self.uses_not_required + ["TypedDict"]
        imports = ["from enum import Enum"] * self.uses_enum + [f"from typing import {', '.join(typing_names)}"]
        if self.uses_input:
            imports += ["", "import pulumi"]
        return "\n\n\n".join([HEADER + "\n" + "\n".join(imports), *self.classes.values()]) + "\n"


def module_source() -> str:
    module = _ArgsModule()
    module.typed_dict(StackConfig, ARGS_CLASS, ARGS_DOC)
    return module.source()

