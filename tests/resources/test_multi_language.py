"""The multi-language package (provider/): its schema, built in-process by the SDK's component
provider code from what the entry point hosts, and its component constructed under mocks."""

import json
import re
import runpy
import sys
import types
import typing
from functools import lru_cache
from typing import Any, Callable
from unittest import mock

import pulumi
import pulumi.provider
import pytest
import yaml
from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pydantic import BaseModel, SecretStr

from components import FluxObservability, parse_stack_config
from components import constants as c
from components.config import SECRET_KEYS, StackConfig
from components.tooling.descriptions import descriptions
from components.tooling.multi_language_codegen import ARGS_MODULE, module_source
from components.tooling.render import RecordingMocks, Rendering, documents
from e2e.harness.render import ROOT
from tests.helpers import TOKEN, register

RESOURCE = f"{c.PROJECT}:index:FluxObservability"
SCALARS = {str: "string", SecretStr: "string", int: "integer", float: "number", bool: "boolean"}
COLLECTOR = {"clusterName": "eu-1", "exporter": {"type": "dash0", "region": "eu-west-1"}}
OPERATOR = {"clusterName": "eu-1", "mode": "dash0-operator"}


@lru_cache(maxsize=None)
def provider() -> ComponentProvider:
    """What provider/__main__.py serves to the engine."""
    served = []
    with mock.patch.object(pulumi.provider, "main", lambda provider, args: served.append(provider)):
        runpy.run_path(str(ROOT / "provider" / "__main__.py"), run_name="__main__")
    (served_provider,) = served
    return served_provider


@lru_cache(maxsize=None)
def schema() -> dict:
    text = provider().schema
    assert text is not None
    return json.loads(text)


def ref_type(prop: dict) -> dict:
    return schema()["types"][prop["$ref"].removeprefix("#/types/")]


def one_line(text: str) -> str:
    return " ".join(text.split())


def bare(annotation):
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return bare(args[0])
    if origin in (typing.Union, types.UnionType):
        return bare(next(arg for arg in args if arg is not type(None)))
    return annotation


def assert_property(prop: dict, annotation, path: str) -> None:
    annotation = bare(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        assert [value["value"] for value in ref_type(prop)["enum"]] == list(args), path
    elif origin is list:
        assert prop["type"] == "array", path
        if typing.get_origin(bare(args[0])) is typing.Literal:
            assert prop["items"]["type"] == "string", path
        else:
            assert_property(prop["items"], args[0], f"{path}[]")
    elif origin is dict:
        assert prop["type"] == "object", path
        assert_property(prop["additionalProperties"], args[1], f"{path}.*")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        nested = ref_type(prop)
        assert_model(annotation, nested["properties"], nested.get("required", []), path)
    else:
        assert prop["type"] == SCALARS[annotation], path


def assert_model(model: type[BaseModel], properties: dict, required: list[str], path: str) -> None:
    aliases = {name: field.alias or name for name, field in model.model_fields.items()}
    assert set(properties) == set(aliases.values()), path
    assert sorted(required) == sorted(
        aliases[name] for name, field in model.model_fields.items() if field.is_required()
    )
    for name, field in model.model_fields.items():
        key = f"{path}.{aliases[name]}" if path else aliases[name]
        description = descriptions(model)[name]
        assert description, key
        assert properties[aliases[name]]["description"].startswith(one_line(description)), key
        assert_property(properties[aliases[name]], field.annotation, key)


def test_the_entry_point_hosts_flux_observability_as_the_package():
    # The entry point imports the package by its installed name, `fluxcd_otel`: the same files as
    # `components` loaded a second time.
    served = provider()
    assert isinstance(served, sys.modules["fluxcd_otel.resources.multi_language"].FluxComponentProvider)
    assert schema()["name"] == c.PROJECT
    assert list(schema()["resources"]) == [RESOURCE]
    assert schema()["resources"][RESOURCE]["isComponent"]


def test_inputs_are_the_configuration_keys_with_their_types_and_descriptions():
    resource = schema()["resources"][RESOURCE]
    assert_model(StackConfig, resource["inputProperties"], resource["requiredInputs"], "")


def test_only_the_secret_keys_accept_outputs():
    # The schema has no secret flag; secret keys are the Inputs, every other key a plain value.
    inputs = schema()["resources"][RESOURCE]["inputProperties"]
    assert {key for key, prop in inputs.items() if not prop.get("plain")} == set(SECRET_KEYS)


def test_every_type_and_property_has_a_description():
    resource = schema()["resources"][RESOURCE]
    assert resource["description"]
    for key, prop in {**resource["inputProperties"], **resource["properties"]}.items():
        assert prop.get("description"), key
    for token, definition in schema()["types"].items():
        assert definition.get("description"), token
        for key, prop in definition.get("properties", {}).items():
            assert prop.get("description"), f"{token}.{key}"


def library_outputs(config: dict) -> dict:
    holder: dict[str, Any] = {}
    register(lambda: holder.update(outputs=FluxObservability("obs", parse_stack_config(config)).outputs))
    return holder["outputs"]


def test_outputs_are_everything_flux_observability_exports():
    produced = set(library_outputs({**COLLECTOR, "exportToken": TOKEN})) | set(library_outputs(OPERATOR))
    resource = schema()["resources"][RESOURCE]
    assert set(resource["properties"]) == produced
    assert resource["required"] == ["clusterName", "mode"]


def construct(inputs: Callable[[], dict], mocks: RecordingMocks) -> dict:
    """Constructs the component the way the host does for a program in another language."""
    holder: dict[str, Any] = {}

    def build():
        result = provider().construct("flux", RESOURCE, inputs(), pulumi.ResourceOptions())
        return pulumi.Output.all(**result.state).apply(lambda state: holder.update(state=state))

    pulumi.runtime.set_mocks(mocks, project="consumer", stack="test")
    pulumi.runtime.test(build)()
    return holder["state"]


def test_constructed_component_composes_flux_observability_and_keeps_the_token_secret():
    def inputs():
        # Enums arrive as their values and integers as floats, as over the wire.
        token = pulumi.Output.secret(TOKEN)
        return {
            **COLLECTOR, "gateway": {"replicas": 1.0}, "tracing": {"eventSeverity": "error"}, "exportToken": token
        }

    mocks = RecordingMocks()
    state = construct(inputs, mocks)
    expected = library_outputs({**COLLECTOR, "exportToken": TOKEN, "tracing": {"eventSeverity": "error"}})
    assert state == expected
    types_registered = [r.type for r in mocks.resources]
    assert types_registered.count(RESOURCE) == 2, "the package component and the FluxObservability it composes"
    assert "fluxcd-otel:index:CollectorGateway" in types_registered
    (alert,) = [r for r in mocks.resources if r.inputs.get("kind") == "Alert"]
    assert alert.inputs["spec"]["eventSeverity"] == "error"
    holders = [r for r in mocks.resources if TOKEN in json.dumps(r.inputs, default=str)]
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]
    assert not [name for name, text in documents(Rendering(mocks.resources, outputs={})) if TOKEN in text]


def test_a_plain_token_is_kept_secret_like_any_secret_input():
    # The schema marks it secret, so every SDK sends it as a secret; the component keeps it one.
    text = provider().schema
    assert text is not None
    schema = json.loads(text)
    inputs = schema["resources"][RESOURCE]["inputProperties"]
    assert {key for key, spec in inputs.items() if spec.get("secret")} == {
        "exportToken", "exportPassword", "tracingHeaders"
    }
    mocks = RecordingMocks()
    construct(lambda: {**COLLECTOR, "exportToken": TOKEN}, mocks)
    holders = [r for r in mocks.resources if TOKEN in json.dumps(r.inputs, default=str)]
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]


HONEYCOMB = {"clusterName": "eu-1", "exporter": {"type": "otlp", "endpoint": "https://api.honeycomb.io:443"}}


def test_export_headers_arrive_as_a_map_of_secrets_and_stay_in_the_secret():
    mocks = RecordingMocks()
    construct(lambda: {**HONEYCOMB, "exportHeaders": {"x-honeycomb-team": pulumi.Output.secret(TOKEN)}}, mocks)
    holders = [r for r in mocks.resources if TOKEN in json.dumps(r.inputs, default=str)]
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]
    (release,) = [
        r for r in mocks.resources
        if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs["name"] == "flux-otel-gateway"
    ]
    config = release.inputs["values"]["alternateConfig"]
    assert config["exporters"]["otlp_grpc/backend"]["headers"] == {
        "x-honeycomb-team": "${env:FLUXCD_OTEL_EXPORT_HEADER_X_HONEYCOMB_TEAM}"
    }


def test_export_headers_may_be_plain_but_not_one_secret_holding_the_whole_map():
    mocks = RecordingMocks()
    construct(lambda: {**HONEYCOMB, "exportHeaders": {"x-honeycomb-team": TOKEN}}, mocks)
    holders = [r for r in mocks.resources if TOKEN in json.dumps(r.inputs, default=str)]
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]
    mocks = RecordingMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct(lambda: {**HONEYCOMB, "exportHeaders": pulumi.Output.secret({"x-honeycomb-team": TOKEN})}, mocks)
    assert "fluxcd-otel:exportHeaders: must be a map of header names to values" in str(caught.value)
    assert TOKEN not in str(caught.value) and mocks.resources == []


def test_bad_arguments_fail_with_one_config_error_before_anything_is_registered():
    mocks = RecordingMocks()
    with pytest.raises(InputPropertiesError) as caught:
        construct(lambda: {"clusterName": "eu-1", "exporter": {"type": "otlp"}}, mocks)
    assert caught.value.message.startswith("invalid stack configuration (1 problem):")
    assert "fluxcd-otel:exporter.endpoint: required with type otlp" in caught.value.message
    # The SDK sends an InputPropertiesError as its message alone, without the component's stack.
    assert caught.value.errors == [] and caught.value.__suppress_context__
    assert mocks.resources == []


def test_generated_arguments_are_current():
    assert ARGS_MODULE.read_text() == module_source(), "run: python -m components regenerate"


# --- docs/programs.md consumers -------------------------------------------------------------------
CONSUMERS_DOC = ROOT / "docs" / "programs.md"
CONSUMERS_SECTION = "## TypeScript, Go, C# and YAML: `pulumi package add`\n"


def consumer_blocks(language: str) -> list[str]:
    """The `language` code blocks of the multi-language section of docs/programs.md."""
    doc = CONSUMERS_DOC.read_text()
    assert CONSUMERS_SECTION in doc, f"{CONSUMERS_DOC.relative_to(ROOT)} lost its section {CONSUMERS_SECTION!r}"
    section = doc.split(CONSUMERS_SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def assert_input_path(path: list[str]) -> None:
    properties = schema()["resources"][RESOURCE]["inputProperties"]
    for depth, key in enumerate(path):
        assert key in properties, f"docs/programs.md uses {'.'.join(path[:depth + 1])}, which the schema lacks"
        prop = properties[key]
        if "$ref" in prop and "properties" in ref_type(prop):
            properties = ref_type(prop)["properties"]
        elif "additionalProperties" in prop:
            return
        elif depth < len(path) - 1:
            raise AssertionError(f"docs/programs.md nests keys under {'.'.join(path[:depth + 1])}, a scalar")


def object_literal_paths(source: str) -> list[list[str]]:
    """Key paths of a TypeScript object literal, e.g. `{ a: { b: 1 } }` -> [[a], [a, b]]."""
    source = re.sub(r'"[^"]*"', '""', source)
    paths: list[list[str]] = []
    stack: list[str] = []
    last = None
    for token in re.finditer(r"(\w+)\s*:|[{}]", source):
        if token.group(1):
            last = token.group(1)
            paths.append([*stack, last])
        elif token.group(0) == "{":
            assert last is not None, "an object literal follows its key"
            stack.append(last)
        else:
            stack.pop()
    return paths


def test_docs_typescript_consumer_uses_schema_names():
    (block,) = consumer_blocks("typescript")
    start = block.index("{", block.index("new fluxcdOtel.FluxObservability("))
    depth = 0
    for end, char in enumerate(block[start:], start):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            break
    paths = object_literal_paths(block[start + 1:end])
    assert ["clusterName"] in paths
    for path in paths:
        assert_input_path(path)
    outputs = re.findall(r"\bflux\.(\w+)", block)
    assert outputs and set(outputs) <= set(schema()["resources"][RESOURCE]["properties"])


def test_docs_yaml_consumer_uses_schema_names():
    (block,) = consumer_blocks("yaml")
    program = yaml.safe_load(block)
    (component,) = [r for r in program["resources"].values() if r["type"] == RESOURCE.replace(":index:", ":")]

    def walk(values: dict, path: list[str]) -> None:
        for key, value in values.items():
            assert_input_path([*path, key])
            if isinstance(value, dict):
                walk(value, [*path, key])

    walk(component["properties"], [])
    outputs = re.findall(r"\$\{flux\.(\w+)\}", block)
    assert outputs and set(outputs) <= set(schema()["resources"][RESOURCE]["properties"])
