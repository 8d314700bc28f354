"""How a user gives a secret key its value, said the same way wherever a secret is missing or plain."""

from __future__ import annotations

from typing import Optional

import pulumi
from pulumi.runtime import settings as pulumi_settings

from .. import constants as c


def _in_a_pulumi_run() -> bool:
    return pulumi_settings.get_monitor() is not None


def how_to_set_secret(key: str, namespace: Optional[str] = None, *, entries: bool = False) -> str:
    """How to give a secret key a value, with the Pulumi CLI and for the offline render; `entries`:
    the key is a map of headers, each its own secret."""
    project = pulumi.get_project() if _in_a_pulumi_run() else c.PROJECT
    stack = pulumi.get_stack() if _in_a_pulumi_run() else "<stack>"
    namespace = namespace or project
    cli_key = key if namespace == project else f"{namespace}:{key}"
    if entries:
        return (
            f"set each header with `pulumi config set --secret --path '{cli_key}.<Header-Name>' <value>"
            f" --stack {stack}`; for the offline render, put"
            f" `{namespace}:{key}: {{<Header-Name>: {{secure: <any text>}}}}` in the stack file"
        )
    return (
        f"set it with `pulumi config set --secret {cli_key} <value> --stack {stack}`;"
        f" for the offline render, put `{namespace}:{key}: {{secure: <any text>}}` in the stack file"
    )


def plain_secret_reason(key: str, namespace: Optional[str] = None, *, entries: bool = False) -> str:
    return (
        "is plain text, which Pulumi would store unencrypted; "
        f"{how_to_set_secret(key, namespace, entries=entries)}"
        " (in a Pulumi ESC environment, wrap the value in `fn::secret`)"
    )
