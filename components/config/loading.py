"""Reading the stack's configuration from Pulumi and validating it before any resource exists."""

from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
from pydantic import (
    ValidationError,
)

from .. import constants as c
from ..internals import is_secret_config, stack_config_entries
from .errors import ConfigError, format_errors
from .messages import error_problems, namespace_near_misses, own_namespace_keys
from .secrets import plain_secret_reason
from .stack import SECRET_KEYS, SECRET_MAPS, StackConfig


def _stack_entries(namespace: str) -> dict[str, str]:
    """Every `<namespace>:<key>` config value."""
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in stack_config_entries().items() if key.startswith(prefix)}


def decode_config_value(value: Any) -> Any:
    # Pulumi hands structured values over as JSON text; plain strings stay strings.
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _validated(raw: dict[str, Any]) -> tuple[Optional[StackConfig], list[tuple[str, str]]]:
    try:
        return StackConfig.model_validate(raw), []
    except ValidationError as err:
        return None, [problem for error in err.errors(include_url=False) for problem in error_problems(error, raw)]


def parse_stack_config(raw: dict[str, Any], namespace: str = c.PROJECT) -> StackConfig:
    """Validates already-decoded key/values; raises ConfigError naming every bad key path."""
    config, problems = _validated(raw)
    if problems:
        raise ConfigError(format_errors(namespace, problems))
    assert config is not None  # no problems: validated
    return config


def load_stack_config(namespace: str = c.PROJECT) -> StackConfig:
    """Reads and validates this stack's configuration before any resource is declared."""
    near_misses = namespace_near_misses(stack_config_entries(), namespace, own={pulumi.get_project()})
    near_misses += own_namespace_keys(stack_config_entries(), namespace, pulumi.get_project())
    entries = _stack_entries(namespace)
    plain_secrets = [
        (key, plain_secret_reason(key, namespace, entries=key in SECRET_MAPS))
        for key in SECRET_KEYS
        if key in entries and not is_secret_config(f"{namespace}:{key}")
    ]
    config, problems = _validated({key: decode_config_value(value) for key, value in entries.items()})
    if near_misses or plain_secrets or problems:
        raise ConfigError(format_errors(namespace, near_misses + plain_secrets + problems))
    assert config is not None  # no problems: validated
    return config
