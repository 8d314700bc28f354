"""PromQL read with a real parser (promql-parser, the Rust PromQL parser's Python binding), for the
tests: which metrics an expression selects, and with which label matchers."""

from __future__ import annotations

import promql_parser
from promql_parser import VectorSelector

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
