"""Secrets stay secret: every example stack, rendered with recognisable secrets, holds them only in
Kubernetes Secret data, as secret Outputs; no other input, no stack output and no render shows them."""

import base64
import json
from typing import Any

import pytest
from pulumi.runtime import rpc

from components import constants as c
from components.builders.export_credentials import basic_credentials
from components.config import SECRET_KEYS
from components.tooling.render import MASK, documents, masked, read_stack_file
from e2e.harness.render import ROOT, STACKS, run_stack
from tests.helpers import TOKEN

PROVIDER_TOKEN = "PROVIDER_RECOGNISABLE_SECRET_9876"
PASSWORD = "PASSWORD_RECOGNISABLE_SECRET_5432"
HEADER_SECRET = "HEADER_RECOGNISABLE_SECRET_{}"
SECRET_TYPE = "kubernetes:core/v1:Secret"
COLLECTOR_STACKS = [stack for stack in STACKS
                    if read_stack_file(ROOT, stack).config.get(f"{c.PROJECT}:mode", "collector") == "collector"]


def with_every_secret(stack):
    """Overrides, secrets, and the values that must be found only in Secret data (`needles`) or
    nowhere at all (`hidden`), for the stack's own export credentials plus the Provider's header."""
    config = read_stack_file(ROOT, stack).config
    overrides = {"tracing": {"address": "https://otlp.example.com/v1/traces"}}
    secrets: dict[str, Any] = {"tracingHeaders": {c.AUTHORIZATION_HEADER: f"Bearer {PROVIDER_TOKEN}"}}
    needles, hidden = [PROVIDER_TOKEN], []
    if config.get(f"{c.PROJECT}:mode", "collector") == "collector":
        exporter = json.loads(config[f"{c.PROJECT}:exporter"])
        header_names = json.loads(config.get(f"{c.PROJECT}:exportHeaders", "{}"))
        if "username" in exporter:
            secrets["exportPassword"] = PASSWORD
            # The Secret holds the Basic credentials the header carries, never the password alone.
            needles.append(basic_credentials(exporter["username"], PASSWORD))
            hidden.append(PASSWORD)
        elif header_names:
            secrets["exportHeaders"] = {name: HEADER_SECRET.format(index) for index, name in enumerate(header_names)}
            needles += secrets["exportHeaders"].values()
        else:
            secrets["exportToken"] = TOKEN
            needles.append(TOKEN)
            if exporter["type"] == "debug":  # the debug exporter takes no token
                overrides["exporter"] = {"type": "otlp", "endpoint": "https://otlp.example.com:4317"}
    return overrides, secrets, needles, hidden


def test_the_example_stacks_cover_every_kind_of_export_secret():
    kinds = {key for stack in STACKS for key in with_every_secret(stack)[1]}
    assert kinds == {"tracingHeaders", *(key for key in SECRET_KEYS if key.startswith("export"))}


@pytest.mark.parametrize("stack", STACKS)
def test_secrets_live_only_in_kubernetes_secret_data(stack):
    overrides, secrets, needles, hidden = with_every_secret(stack)
    rendering = run_stack(stack, overrides=overrides, secrets=secrets)
    secret_holders = set()
    for needle in needles:
        holders = [r for r in rendering.resources if needle in str(r.inputs)]
        assert [r.type for r in holders] == [SECRET_TYPE], f"{needle} held by {[r.name for r in holders]}"
        (holder,) = holders
        secret_holders.add(holder.name)
        assert rpc.is_rpc_secret(holder.inputs["stringData"])
        assert needle not in str({key: value for key, value in holder.inputs.items() if key != "stringData"})
        assert needle not in str(rendering.outputs)
    assert not [needle for needle in hidden if needle in str([r.inputs for r in rendering.resources])]
    rendered = "".join(text for _, text in documents(rendering))
    assert not [needle for needle in needles + hidden if needle in rendered]
    files = dict(documents(rendering))
    assert all(f"stringData: '{MASK}'" in files[f"{holder}.yaml"] for holder in secret_holders)


def receiver_tokens(rendering) -> dict[str, str]:
    """The tokens the gateway's token Secrets were generated with, by Secret name."""
    return {
        r.name: base64.b64decode(masked(r.inputs["data"], reveal=True)["token"]).decode()
        for r in rendering.resources if r.type == SECRET_TYPE and "data" in r.inputs
    }


@pytest.mark.parametrize("stack", COLLECTOR_STACKS)
def test_receiver_tokens_live_only_in_kubernetes_secrets(stack):
    rendering = run_stack(stack)
    tokens = receiver_tokens(rendering)
    assert len(tokens) == 3 and len(set(tokens.values())) == 3
    current = tokens[next(name for name in tokens if name.endswith("-receiver-token-1"))]
    for token in tokens.values():
        encoded = base64.b64encode(token.encode()).decode()
        holders = [r for r in rendering.resources if token in str(r.inputs) or encoded in str(r.inputs)]
        assert {r.type for r in holders} == {SECRET_TYPE}
        for holder in holders:
            stored = [value for key, value in holder.inputs.items() if key in ("data", "stringData")]
            assert stored and all(rpc.is_rpc_secret(value) for value in stored)
            assert token not in str({key: value for key, value in holder.inputs.items()
                                     if key not in ("data", "stringData")})
        # The log agent's Secret and Flux's Provider Secret carry the current token, and only it.
        writers = {r.name for r in holders if "stringData" in r.inputs}
        assert writers == ({"flux-observability-logs-receiver-token", "flux-observability-tracing-provider-auth"}
                           if token == current else set())
    rendered = "".join(text for _, text in documents(rendering)) + str(rendering.outputs)
    assert not [token for token in tokens.values() if token in rendered]


def test_the_check_finds_a_leaked_token():
    # The same search that the test above relies on, pointed at a token that does leak: the
    # Dash0 dataset travels as a plain header, so a token put there must be found outside Secrets.
    rendering = run_stack("prod", overrides={"exporter": {"type": "dash0", "region": "eu-west-1", "dataset": TOKEN}})
    holders = {r.type for r in rendering.resources if TOKEN in str(r.inputs)}
    assert holders - {SECRET_TYPE}
