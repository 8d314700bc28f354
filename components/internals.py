"""Every use of another library's private API, in one place, each with what no public API offers.

If an upgrade of Python or the Pulumi SDK moves one of these, this module is the only one to mend;
the fast suite exercises each of them.
"""

from __future__ import annotations

import re
from typing import Any, Coroutine, Iterator, TypeVar

from pulumi.runtime import config as pulumi_config
from pulumi.runtime.sync_await import _sync_await

T = TypeVar("T")

# Python's regular-expression parser (`re._parser`, private but unchanged since 3.11) is the only
# one that tells which operators a pattern uses. These three are Python's own; Go's RE2 lacks them.
# typeshed has no stubs for re's private modules, hence the ignores.
PYTHON_ONLY_REGEX_OPERATORS = frozenset({
    re._constants.ATOMIC_GROUP,  # type: ignore[attr-defined]
    re._constants.POSSESSIVE_REPEAT,  # type: ignore[attr-defined]
    re._constants.GROUPREF_EXISTS,  # type: ignore[attr-defined]
})


def regex_operators(pattern: str) -> set[Any]:
    """The operators of a pattern Python compiles (re.error otherwise)."""
    def walk(node: Any) -> Iterator[Any]:
        if isinstance(node, re._parser.SubPattern):  # type: ignore[attr-defined]
            for operator, argument in node.data:
                yield operator
                yield from walk(argument)
        elif isinstance(node, (list, tuple)):
            for item in node:
                yield from walk(item)

    return set(walk(re._parser.parse(pattern)))  # type: ignore[attr-defined]


def stack_config_entries() -> dict[str, str]:
    """Every config value of the stack, from the CLI's environment or set by tests (the SDK's
    `Config` reads one key at a time and cannot list them, which the near-miss hints need)."""
    return {**pulumi_config.get_config_env(), **pulumi_config.CONFIG.get()}


def is_secret_config(full_key: str) -> bool:
    """Whether the stack holds `full_key` as a secret (the SDK's `Config` answers this only by
    wrapping the value it returns in an Output)."""
    return pulumi_config.is_config_secret(full_key) or full_key in pulumi_config.get_config_secret_keys_env()


def run_to_completion(coroutine: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine on the SDK's own event loop, as its mocked test runs do (the offline render
    drives the program the way `pulumi.runtime.test` does, outside a test)."""
    return _sync_await(coroutine)
