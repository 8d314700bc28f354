"""Area 1: every collector config the package renders is one the real collector accepts and runs.

For every stack in stacks/ and for each one-option flip of the `dev` stack (`OPTION_FLIPS`, which
tests/properties/test_reviewable_previews.py uses too), each collector Release's `alternateConfig`:

- passes `otelcol validate` as rendered, every receiver included (env it refers to set to dummy
  values). `validate` decodes every component's config strictly (unknown keys, stanza operator
  types, OTTL statements are refused) and builds the pipelines without starting them; the
  `k8s_objects` receiver needs no API server for that (no KUBERNETES_SERVICE_HOST is set);
- starts, localized (e2e/harness/collector.py `localize`), and answers on its health_check endpoint.
  `k8s_objects` is left out of the started config: it needs an API server and a service-account
  token (e2e tests with a real API server cover it). The `prometheus` receiver runs with its
  scrape config as rendered, its static targets pointed at a loopback address where nothing listens.

And the binary is the distribution the package pins: every component type a rendered config uses
is in the build, and the build holds nothing beyond `components.constants.PINNED_DISTRIBUTION_COMPONENTS`
and the tests' `file` exporter. `otelcol components` lists each factory under its primary type
only: the deprecated aliases the binary still accepts in a config (`otlp` for the `otlp_grpc`
exporter, `filelog`, `k8sobjects`) are not reported, so the comparison is on primary types, and a
rendered config using an alias would fail it (the package renders primary types only).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from components import constants as c
from e2e.harness.collector import (
    Collector,
    collector_configs,
    component_type,
    components,
    localize,
    loopback_address,
    validate,
)
from e2e.harness.render import OPTION_FLIPS, STACKS, referenced_components, run_stack

SOURCES = [*STACKS, *(f"dev+{flip_id}" for flip_id in OPTION_FLIPS)]
# Modes without collectors render none; every other source must render some.
STACKS_WITHOUT_COLLECTORS = {"dash0-operator"}
# The sink and the guarded backend the tests build into the binary (e2e/otelcol-builder.yaml), beside the
# pinned distribution.
TEST_ONLY_COMPONENTS = {"exporters": {"file"}, "extensions": {"bearertokenauth"}}


@lru_cache(maxsize=None)
def configs_of(source: str) -> dict[str, dict[str, Any]]:
    stack, _, flip = source.partition("+")
    return collector_configs(run_stack(stack, overrides=OPTION_FLIPS[flip] if flip else None))


_checked: dict[str, str] = {}


def check_once(config: dict[str, Any], workdir: Path) -> None:
    """Validates and starts the config; an identical config rendered by another source is checked once."""
    key = json.dumps(config, sort_keys=True)
    if key in _checked:
        return
    result = validate(config, workdir)
    assert result.returncode == 0, f"otelcol validate failed ({result.returncode}):\n{result.stdout}{result.stderr}"
    local = localize(config, workdir=workdir, without=("k8s_objects",), scrape_host=loopback_address(ports=(8080,)))
    collector = Collector("collector", local, workdir)
    try:
        collector.start()
        assert collector.healthy()
    finally:
        collector.stop()
    _checked[key] = str(workdir)


@pytest.mark.parametrize("source", SOURCES)
def test_every_rendered_config_validates_and_starts(source, tmp_path):
    configs = configs_of(source)
    if source in STACKS_WITHOUT_COLLECTORS:
        assert configs == {}
        return
    assert configs, f"{source} renders no collector config"
    for release, config in sorted(configs.items()):
        workdir = tmp_path / release
        workdir.mkdir()
        try:
            check_once(config, workdir)
        except (AssertionError, RuntimeError, TimeoutError) as error:
            raise AssertionError(f"{source}: {release}: {error}") from None


def reported_components() -> dict[str, set[str]]:
    report = components()
    return {section: {entry["name"] for entry in report.get(section) or []}
            for section in ("receivers", "processors", "exporters", "extensions")}


def test_the_binary_is_the_pinned_distribution():
    built = reported_components()
    used: dict[str, set[str]] = {section: set() for section in built}
    for source in SOURCES:
        for config in configs_of(source).values():
            for section, ids in referenced_components(config).items():
                used[section] |= {component_type(cid) for cid in ids}
    for section in built:
        missing = used[section] - built[section]
        assert not missing, f"{section} used but not built: {sorted(missing)}"
        allowed = c.PINNED_DISTRIBUTION_COMPONENTS[section] | TEST_ONLY_COMPONENTS.get(section, set())
        beyond = built[section] - allowed
        assert not beyond, f"{section} built beyond the pinned distribution: {sorted(beyond)}"
