"""Literals for collector configs: OTTL strings, and `$` escaped from the collector's env expansion."""

from __future__ import annotations


def escape_env(value: str) -> str:
    """A literal for the collector config: `$` would start an env reference, `$$` is one `$`."""
    return value.replace("$", "$$")


def ottl_string(value: str) -> str:
    """An OTTL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
