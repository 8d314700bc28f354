"""Reviewable previews: the same configuration renders the same bytes every time and in any key
order, and one changed option changes only what depends on it. That the render does not depend on
the machine's clock, locale or hash seed is checked on the command itself, in
e2e/test_reviewable_previews.py."""

import pytest

from components import constants as c
from components.tooling.render import documents, read_stack_file, run_program
from e2e.harness.render import OPTION_FLIPS, ROOT, STACKS, run_stack


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reversed_keys(item) for item in value]
    return value


@pytest.mark.parametrize("stack", STACKS)
def test_rendering_twice_gives_the_same_bytes_and_stable_names(stack):
    first, second = documents(run_stack(stack)), documents(run_stack(stack))
    assert first == second
    names = [name for name, _ in first]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("stack", STACKS)
def test_key_order_of_the_stack_file_does_not_matter(stack):
    stack_file = read_stack_file(ROOT, stack)

    def render(config):
        return documents(run_program(ROOT / "__main__.py", project=c.PROJECT, stack=stack, config=config,
                                     secret_keys=stack_file.secret_keys))

    reordered = {key: reversed_keys(value) for key, value in reversed(list(stack_file.config.items()))}
    assert render(reordered) == render(dict(stack_file.config))


def changed_files(overrides):
    base = dict(documents(run_stack("dev")))
    changed = dict(documents(run_stack("dev", overrides=overrides)))
    return sorted(name for name in base.keys() | changed.keys() if base.get(name) != changed.get(name))


GATEWAY = ["flux-observability-gateway-release.collector-config.yaml", "flux-observability-gateway-release.yaml"]
LOGS = ["flux-observability-logs-release.collector-config.yaml", "flux-observability-logs-release.yaml"]
ALERT = ["flux-observability-tracing-alert.yaml"]
OUTPUTS = ["stack-outputs.yaml"]


@pytest.mark.parametrize(
    "overrides, expected",
    [
        (OPTION_FLIPS["severity"], ALERT),
        # The log agents scrape their own metrics at the gateway's interval too.
        (OPTION_FLIPS["scrape-interval"], sorted(GATEWAY + LOGS)),
        (OPTION_FLIPS["agent-resources"], LOGS),
        (OPTION_FLIPS["verbosity"], GATEWAY),
        (OPTION_FLIPS["one-more-controller"],
         sorted(ALERT + GATEWAY + LOGS + OUTPUTS + ["flux-observability-health-release.yaml",
                                                    "flux-observability-metrics-image-reflector-controller.yaml"])),
    ],
    ids=["severity", "scrape-interval", "agent-resources", "verbosity", "one-more-controller"],
)
def test_one_option_changes_only_what_depends_on_it(overrides, expected):
    assert changed_files(overrides) == expected
