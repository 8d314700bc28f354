"""JSON Schema of a whole stack file (`stacks/Pulumi.<stack>.yaml`), generated from StackConfig.

Editors that speak yaml-language-server read it from the first line of each stack file and then
complete, describe and check every `fluxcd-otel:` key while it is typed:

    # yaml-language-server: $schema=../docs/stack-config.schema.json


The schema checks what one key at a time can show (names, types, allowed values, patterns,
secrets written as `secure:` ciphertexts); rules across keys (mode, exporter type) are left to
the program, which reports them on `pulumi preview` and in the offline render.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import constants as c
from ..config import SECRET_KEYS, StackConfig
from .descriptions import DescribedFields

SCHEMA_FILE = Path("docs") / "stack-config.schema.json"
SECURE_VALUE = "SecureValue"
_SECURE_REF = {"$ref": f"#/$defs/{SECURE_VALUE}"}


class _UntitledFields(DescribedFields):
    """Field titles would only repeat the key in other words; editors show the description."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _closed_maps(node: Any) -> Any:
    """Maps whose keys have a pattern refuse other keys, as the model does."""
    if isinstance(node, dict):
        result = {key: _closed_maps(value) for key, value in node.items()}
        if "patternProperties" in result and "additionalProperties" not in result and "properties" not in result:
            result["additionalProperties"] = False
        return result
    if isinstance(node, list):
        return [_closed_maps(item) for item in node]
    return node


def _encrypted(node: Any) -> Any:
    """Secret strings as the stack file holds them: `{secure: <ciphertext>}`, never plain text."""
    if isinstance(node, dict):
        if node.get("format") == "password" and node.get("writeOnly"):
            return dict(_SECURE_REF)
        return {key: _encrypted(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_encrypted(item) for item in node]
    return node


def _secret_property(prop: dict[str, Any]) -> dict[str, Any]:
    """A secret key: one ciphertext, or (for a map) a ciphertext per entry as `--path` writes it."""
    branches = [branch for branch in prop.get("anyOf", [prop]) if branch.get("type") != "null"]
    value = _encrypted(
        {key: item for key, item in branches[0].items() if key not in ("default", "description", "secret")}
    )
    schema = value if value == _SECURE_REF else {"anyOf": [dict(_SECURE_REF), value]}
    return {**schema, "description": prop["description"]}


def stack_file_schema(namespace: str = c.PROJECT) -> dict[str, Any]:
    model = _closed_maps(StackConfig.model_json_schema(by_alias=True, schema_generator=_UntitledFields))
    keys = {}
    for key, prop in model["properties"].items():
        keys[f"{namespace}:{key}"] = _secret_property(prop) if key in SECRET_KEYS else prop
    # A key without a namespace is the project's own (`clusterName:` is `fluxcd-otel:clusterName`).
    keys.update({key.removeprefix(f"{namespace}:"): {"$ref": f"#/properties/config/properties/{key.replace('/', '~1')}"}
                 for key in list(keys)})
    config = {
        "type": "object",
        "description": f"Stack configuration. `{namespace}:` keys, and keys without a namespace (the project's"
        " own), are checked here; other namespaces (such as `kubernetes:context`) belong to their packages.",
        "properties": keys,
        "patternProperties": {f"^(?!{namespace}:)[^:\\s]+:.+$": {}},
        "additionalProperties": False,
    }
    required = [{"if": {"not": {"required": [key]}}, "then": {"required": [f"{namespace}:{key}"]}}
                for key in model.get("required", [])]
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"Pulumi stack file of the {namespace} project",
        "description": "Generated from components/config/ by `python -m components regenerate`.",
        "type": "object",
        "properties": {
            "config": config,
            "environment": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "description": "Pulumi ESC environments whose `values.pulumiConfig` the stack imports, "
                "in order; a key set in this file wins over the environments' value.",
            },
            "secretsprovider": {
                "type": "string", "description": "Secrets provider of this stack (set by the Pulumi CLI).",
            },
            "encryptedkey": {
                "type": "string", "description": "Data key of a cloud secrets provider (set by the Pulumi CLI).",
            },
            "encryptionsalt": {
                "type": "string", "description": "Salt of the passphrase secrets provider (set by the Pulumi CLI).",
            },
        },
        "additionalProperties": False,
        # Without an ESC environment the file itself must hold the required keys.
        "if": {"not": {"required": ["environment"]}},
        "then": {"required": ["config"], "properties": {"config": {"allOf": required}}},
        "$defs": {
            **model["$defs"],
            SECURE_VALUE: {
                "type": "object",
                "description": "A secret, encrypted by `pulumi config set --secret`.",
                "properties": {"secure": {"type": "string", "minLength": 1}},
                "required": ["secure"],
                "additionalProperties": False,
            },
        },
    }


def schema_text() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"

