"""The fast suite's helpers: components run as a Pulumi test, objects and chart values validated
against their schemas, collector configs checked for completeness, and PromQL read with a real
parser (promql-parser, the Rust PromQL parser's Python binding): which metrics an expression
selects, and with which label matchers."""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import jsonschema
import promql_parser
import pulumi
import yaml
from promql_parser import VectorSelector

from components import constants as c
from components.tooling.render import RecordingMocks, RegisteredResource
from e2e.harness.render import SCHEMAS, referenced_components

TOKEN = "auth_RECOGNISABLE_TOKEN_0123456789"
# The oldest and newest Kubernetes minors the rendered objects must be valid for.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")


def register(build: Callable[[], Any], *, preview: bool = False) -> list[RegisteredResource]:
    """Runs `build` as a Pulumi test (outputs it returns are awaited) and returns what it registered."""
    mocks = RecordingMocks(preview=preview)
    pulumi.runtime.set_mocks(mocks, project=c.PROJECT, stack="test", preview=preview)
    pulumi.runtime.test(build)()
    return mocks.resources


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


# --- PromQL -----------------------------------------------------------------------------------------
MATCH_OPS = (
    (promql_parser.MatchOp.Equal, "="),
    (promql_parser.MatchOp.NotEqual, "!="),
    (promql_parser.MatchOp.Re, "=~"),
    (promql_parser.MatchOp.NotRe, "!~"),
)


def vector_selectors(expr: str) -> list[VectorSelector]:
    found: list[VectorSelector] = []

    def visit(node) -> None:
        if isinstance(node, VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def metric_name(selector: VectorSelector) -> str:
    if selector.name:
        return selector.name
    (name,) = [
        m.value for m in selector.matchers.matchers if m.name == "__name__" and m.op == promql_parser.MatchOp.Equal
    ]
    return name


def selected_metrics(expr: str) -> set[str]:
    return {metric_name(selector) for selector in vector_selectors(expr)}


def _operator(op) -> str:
    (symbol,) = [symbol for candidate, symbol in MATCH_OPS if candidate == op]
    return symbol


def label_matchers(selector: VectorSelector) -> set[tuple[str, str, str]]:
    return {(m.name, _operator(m.op), m.value) for m in selector.matchers.matchers if m.name != "__name__"}
