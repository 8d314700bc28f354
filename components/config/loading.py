"""Reading the stack's configuration from Pulumi and validating it before any resource exists."""

from __future__ import annotations

import json
from typing import Any, Optional

import pulumi
from pulumi.runtime import config as pulumi_config
from pydantic import (
    ValidationError,
)

from .. import constants as c
from .errors import ConfigError, format_errors
from .messages import error_problems, namespace_near_misses, own_namespace_keys
from .secrets import plain_secret_reason
from .stack import SECRET_KEYS, SECRET_MAPS, StackConfig


def _config_entries() -> dict[str, str]:
    """Every config value of the stack, whether set by the CLI's environment or by tests."""
    return {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}


def _stack_entries(namespace: str) -> dict[str, str]:
    """Every `<namespace>:<key>` config value."""
    prefix = f"{namespace}:"
    return {key[len(prefix):]: value for key, value in _config_entries().items() if key.startswith(prefix)}


def _is_secret(full_key: str) -> bool:
    return pulumi_config.is_config_secret(full_key) or full_key in pulumi_config.get_config_secret_keys_env()


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
    near_misses = namespace_near_misses(_config_entries(), namespace, own={pulumi.get_project()})
    near_misses += own_namespace_keys(_config_entries(), namespace, pulumi.get_project())
    entries = _stack_entries(namespace)
    plain_secrets = [
        (key, plain_secret_reason(key, namespace, entries=key in SECRET_MAPS))
        for key in SECRET_KEYS
        if key in entries and not _is_secret(f"{namespace}:{key}")
    ]
    config, problems = _validated({key: decode_config_value(value) for key, value in entries.items()})
    if near_misses or plain_secrets or problems:
        raise ConfigError(format_errors(namespace, near_misses + plain_secrets + problems))
    assert config is not None  # no problems: validated
    return config
