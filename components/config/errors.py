"""How configuration problems are reported: every bad key path at once, as one message."""

from __future__ import annotations

import pulumi


class ConfigError(pulumi.RunError):
    """A user mistake in the stack configuration: shown as one message, never as a traceback."""


class InvalidKey(ValueError):
    """Raised by cross-field checks to name the offending keys relative to the model checked."""

    def __init__(self, key: str, reason: str, *others: tuple[str, str]):
        super().__init__(reason)
        self.problems = [(key, reason), *others]

    @classmethod
    def each(cls, problems: list[tuple[str, str]]) -> "InvalidKey":
        """One error naming every (key, reason) a check found, so none waits for the next run."""
        return cls(*problems[0], *problems[1:])


class FullKey(str):
    """A problem's key given with its own namespace (such as a misspelt `fluxcd-otle:dashboards`),
    shown as it is rather than under the namespace being checked."""


def format_errors(namespace: str, errors: list[tuple[str, str]]) -> str:
    lines = [f"invalid stack configuration ({len(errors)} problem{'s' if len(errors) != 1 else ''}):"]
    for path, reason in errors:
        if isinstance(path, FullKey):
            lines.append(f"  {path}: {reason}")
        else:
            lines.append(f"  {namespace}:{path}: {reason}" if path else f"  {namespace}: {reason}")
    return "\n".join(lines)
