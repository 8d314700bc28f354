"""The gateway's scrape filter, taken from a rendered stack and applied as Prometheus applies it.

The filter is not restated here: `flux_controllers_scrape_config` renders the stack with the
package's own program and returns the scrape job that targets the Flux controllers' metrics
Services, so the benchmark follows any change of `gateway.metricPrefixes` or of the builders.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from prometheus_client.parser import text_string_to_metric_families

from components import constants as c
from components.tooling.render import COLLECTOR_CONFIG_KEY, masked, render_stack

ROOT = Path(__file__).resolve().parents[1]
SUPPORTED_ACTIONS = ("keep", "drop")


def flux_controllers_scrape_config(stack: str = "prod") -> dict[str, Any]:
    """The gateway's scrape job whose static targets are the stack's `scrapeTargets` output."""
    rendering = render_stack(ROOT, stack)
    targets = sorted(rendering.outputs["scrapeTargets"])
    jobs = [
        job
        for resource in rendering.resources
        if resource.custom
        for receiver_id, receiver in ((masked(resource.inputs).get("values") or {}).get(COLLECTOR_CONFIG_KEY) or {})
        .get("receivers", {})
        .items()
        if receiver_id.split("/")[0] == c.Component.PROMETHEUS_RECEIVER
        for job in receiver["config"]["scrape_configs"]
        if sorted(target for static in job.get("static_configs", []) for target in static["targets"]) == targets
    ]
    if len(jobs) != 1:
        raise AssertionError(f"expected one scrape job for the Flux controllers {targets}, found {len(jobs)}")
    return jobs[0]


def _collector_literal(value: str) -> str:
    # The collector reads `$$` in its config as a literal `$` before Prometheus sees the value.
    return value.replace("$$", "$")


def relabel_keeps(labels: dict[str, str], relabel_configs: list[dict[str, Any]]) -> bool:
    """Whether a series with these labels (`__name__` included) survives `metric_relabel_configs`.

    As Prometheus does: the source label values are joined by the separator and the regex must
    match the whole of that text.
    """
    for rule in relabel_configs:
        action = rule.get("action", "replace")
        if action not in SUPPORTED_ACTIONS:
            raise ValueError(f"relabel action {action!r} is not modelled (only {', '.join(SUPPORTED_ACTIONS)})")
        text = rule.get("separator", ";").join(labels.get(name, "") for name in rule.get("source_labels", []))
        matched = re.fullmatch(_collector_literal(rule.get("regex", "(.*)")), text) is not None
        if matched != (action == "keep"):
            return False
    return True


def series_labels(exposition: str) -> Iterable[dict[str, str]]:
    """Every series of a text exposition (one per sample line: histogram buckets, _sum and _count
    count separately), as the label set Prometheus relabels, `__name__` included."""
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            yield {"__name__": sample.name, **sample.labels}


def kept_series(exposition: str, relabel_configs: list[dict[str, Any]]) -> tuple[int, int]:
    """(series kept, series scraped) for one target's exposition."""
    kept = total = 0
    for labels in series_labels(exposition):
        total += 1
        kept += relabel_keeps(labels, relabel_configs)
    return kept, total


def kept_by_name(exposition: str, relabel_configs: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Series name -> (series kept, bytes of their sample lines in the exposition)."""
    lines = [line for line in exposition.splitlines() if line and not line.startswith("#")]
    kept: dict[str, tuple[int, int]] = {}
    for labels, line in zip(series_labels(exposition), lines, strict=True):
        if relabel_keeps(labels, relabel_configs):
            series, size = kept.get(labels["__name__"], (0, 0))
            kept[labels["__name__"]] = (series + 1, size + len(line) + 1)
    return kept
