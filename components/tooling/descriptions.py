"""Each configuration key's description: the docstring under its field in components/config/.

The models do not read these docstrings themselves (config.values.Model): pydantic's
`use_attribute_docstrings` reads the source of every model as the package is imported, which
every `pulumi preview` and `pulumi up` would pay for, while only the generated files show them.
"""

from __future__ import annotations

import ast
import inspect
from functools import lru_cache
from typing import cast

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema


@lru_cache(maxsize=None)
def _attribute_docstrings(cls: type) -> dict[str, str]:
    """The docstrings of a class body's attributes, as pydantic's `use_attribute_docstrings` reads
    them: a string statement right after `name: type [= value]`, its indentation removed."""
    (class_def,) = ast.parse(inspect.getsource(cls)).body
    assert isinstance(class_def, ast.ClassDef)
    body = class_def.body
    return {
        statement.target.id: inspect.cleandoc(following.value.value)
        for statement, following in zip(body, body[1:])
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
        and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    }


@lru_cache(maxsize=None)
def descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    """Each field's description by field name: a `Field(description=...)`, else the docstring in the
    class that declares the field (a subclass that redeclares a field without one has none)."""
    result = {}
    for name, field in model.model_fields.items():
        owner = next(cls for cls in model.__mro__ if name in inspect.get_annotations(cls))
        result[name] = field.description if field.description is not None else _attribute_docstrings(owner).get(name)
    return result


class DescribedFields(GenerateJsonSchema):
    """A model's JSON Schema with the description of each field, as `use_attribute_docstrings` would
    give it."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        model = cast("type[BaseModel]", schema["cls"])
        for name, description in descriptions(model).items():
            key = (model.model_fields[name].alias or name) if self.by_alias else name
            if description is not None:
                json_schema["properties"][key]["description"] = description
        return json_schema
