"""Secrets stay secret: every example stack, rendered with recognisable secrets, holds them only in
Kubernetes Secret data, as secret Outputs; no other input, no stack output and no render shows them."""

import json

import pytest
from pulumi.runtime import rpc
from support import ROOT, STACKS, TOKEN, run_stack

from components import constants as c
from components.tooling.render import MASK, documents, read_stack_file

PROVIDER_TOKEN = "PROVIDER_RECOGNISABLE_SECRET_9876"
SECRET_TYPE = "kubernetes:core/v1:Secret"


def with_every_secret(stack):
    """Overrides and secrets that make the stack use both secrets the package knows."""
    config = read_stack_file(ROOT, stack).config
    overrides = {"tracing": {"address": "https://otlp.example.com/v1/traces"}}
    secrets = {"tracingHeaders": {c.AUTHORIZATION_HEADER: f"Bearer {PROVIDER_TOKEN}"}}
    if config.get(f"{c.PROJECT}:mode", "collector") == "collector":
        secrets["exportToken"] = TOKEN
        if json.loads(config[f"{c.PROJECT}:exporter"])["type"] == "debug":  # the debug exporter takes no token
            overrides["exporter"] = {"type": "otlp", "endpoint": "https://otlp.example.com:4317"}
    return overrides, secrets


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_live_only_in_kubernetes_secret_data(stack):
    overrides, secrets = with_every_secret(stack)
    rendering = run_stack(stack, overrides=overrides, secrets=secrets)
    needles = [PROVIDER_TOKEN] + ([TOKEN] if "exportToken" in secrets else [])
    for needle in needles:
        holders = [r for r in rendering.resources if needle in str(r.inputs)]
        assert [r.type for r in holders] == [SECRET_TYPE], f"{needle} held by {[r.name for r in holders]}"
        (holder,) = holders
        assert rpc.is_rpc_secret(holder.inputs["stringData"])
        assert needle not in str({key: value for key, value in holder.inputs.items() if key != "stringData"})
        assert needle not in str(rendering.outputs)
    rendered = "".join(text for _, text in documents(rendering))
    assert not [needle for needle in needles if needle in rendered]
    assert rendered.count(f"stringData: '{MASK}'") == len(needles)


def test_the_check_finds_a_leaked_token():
    # The same search that the test above relies on, pointed at a token that does leak: the
    # Dash0 dataset travels as a plain header, so a token put there must be found outside Secrets.
    rendering = run_stack("prod", overrides={"exporter": {"type": "dash0", "region": "eu-west-1", "dataset": TOKEN}})
    holders = {r.type for r in rendering.resources if TOKEN in str(r.inputs)}
    assert holders - {SECRET_TYPE}
