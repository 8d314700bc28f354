"""Shared test helpers: run components and the program under recording mocks, validate schemas."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

import jsonschema
import pulumi
import yaml

from components import constants as c
from components.tooling.render import (
    RecordingMocks,
    RegisteredResource,
    Rendering,
    available_stacks,
    masked,
    read_stack_file,
    run_program,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT.parent / "shared" / "schemas"
STACKS = available_stacks(ROOT)
TOKEN = "auth_RECOGNISABLE_TOKEN_0123456789"


def register(build: Callable[[], Any], *, preview: bool = False) -> list[RegisteredResource]:
    """Runs `build` as a Pulumi test (outputs it returns are awaited) and returns what it registered."""
    mocks = RecordingMocks(preview=preview)
    pulumi.runtime.set_mocks(mocks, project=c.PROJECT, stack="test", preview=preview)
    pulumi.runtime.test(build)()
    return mocks.resources


def run_stack(
    stack: str,
    *,
    overrides: Optional[dict[str, Any]] = None,
    secrets: Optional[dict[str, Any]] = None,
    preview: bool = False,
    mocks: Optional[RecordingMocks] = None,
) -> Rendering:
    """Runs the real __main__.py with a stack file's config, plus overrides and secret values.

    Overrides are plain (non-secret) config, even for a key the stack file encrypts; an override
    of None removes the key."""
    stack_file = read_stack_file(ROOT, stack)
    config = dict(stack_file.config)
    secret_keys = list(stack_file.secret_keys)
    for key, value in (overrides or {}).items():
        full_key = f"{c.PROJECT}:{key}"
        config.pop(full_key, None)
        if full_key in secret_keys:
            secret_keys.remove(full_key)
        if value is not None:
            config[full_key] = value if isinstance(value, str) else json.dumps(value)
    for key, value in (secrets or {}).items():
        full_key = f"{c.PROJECT}:{key}"
        config[full_key] = value if isinstance(value, str) else json.dumps(value)
        secret_keys.append(full_key)
    return run_program(
        ROOT / "__main__.py", project=c.PROJECT, stack=stack, config=config, secret_keys=secret_keys, preview=preview,
        mocks=mocks,
    )


def by_kind(resources: list[RegisteredResource], kind: str) -> list[dict[str, Any]]:
    return [masked(r.inputs) for r in resources if r.custom and r.inputs.get("kind") == kind]


def releases(resources: list[RegisteredResource]) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["name"]: masked(r.inputs) for r in resources if r.type == "kubernetes:helm.sh/v3:Release"
    }


# --- schemas ----------------------------------------------------------------------------------------
def _strip_extensions(node: Any) -> Any:
    if isinstance(node, dict):
        result = {k: _strip_extensions(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
        if node.get("x-kubernetes-int-or-string"):
            result.pop("type", None)
            result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        return result
    if isinstance(node, list):
        return [_strip_extensions(v) for v in node]
    return node


def _schemas() -> Path:
    if not SCHEMAS.is_dir():
        raise AssertionError(f"schemas not found at {SCHEMAS}; tests need ../shared/schemas")
    return SCHEMAS


@lru_cache(maxsize=None)
def _crd_index() -> dict[tuple[str, str], dict[str, Any]]:
    index = {}
    for path in _schemas().glob("*.crd.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            index[(f"{group}/{version['name']}", kind)] = _strip_extensions(version["schema"]["openAPIV3Schema"])
    return index


def validate_custom_resource(obj: dict[str, Any]) -> None:
    """Validates a custom resource against the CRD version its apiVersion names."""
    schema = _crd_index().get((obj["apiVersion"], obj["kind"]))
    assert schema is not None, f"no CRD schema for {obj['apiVersion']} {obj['kind']}"
    jsonschema.Draft202012Validator(schema).validate(obj)


@lru_cache(maxsize=None)
def _values_schema() -> dict[str, Any]:
    return json.loads(
        (_schemas() / f"opentelemetry-collector-{c.COLLECTOR_CHART_VERSION}.values.schema.json").read_text()
    )


def validate_chart_values(values: dict[str, Any]) -> None:
    """Helm validates the merged values; the chart's defaults supply apiVersion."""
    merged = copy.deepcopy(values)
    merged.setdefault("apiVersion", "apps/v1")
    jsonschema.Draft202012Validator(_values_schema()).validate(merged)


# --- collector configs ------------------------------------------------------------------------------
def referenced_components(config: dict[str, Any]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline in config["service"]["pipelines"].values():
        for section in used:
            used[section].update(pipeline.get(section, []))
    used["extensions"] = set(config["service"].get("extensions", []))
    return used


def unescaped_dollars(config: dict[str, Any]) -> list[str]:
    """`$` signs that the collector would read as something other than `$$` or `${env:...}`."""
    text = json.dumps(config).replace("$$", "")
    return re.findall(r"\$(?!\{env:[A-Z_][A-Z0-9_]*\})[^\"]{0,20}", text)


def assert_valid_collector_config(config: dict[str, Any]) -> None:
    for section, ids in referenced_components(config).items():
        defined = set(config.get(section, {}))
        assert ids <= defined, f"{section} used but not defined: {sorted(ids - defined)}"
        assert defined <= ids, f"{section} defined but unused: {sorted(defined - ids)}"
        types = {component_id.split("/", 1)[0] for component_id in defined}
        allowed = c.PINNED_DISTRIBUTION_COMPONENTS[section]
        assert types <= allowed, f"{section} not in the pinned distribution: {sorted(types - allowed)}"
    for name, pipeline in config["service"]["pipelines"].items():
        assert pipeline["processors"][0] == c.Component.MEMORY_LIMITER, f"{name}: memory_limiter must come first"
    assert c.Component.HEALTH_CHECK in config["extensions"], "the chart's probes need health_check"
    assert unescaped_dollars(config) == []
