"""The program rendered under recording mocks, as both tiers read it: a stack's run with overrides
and secret values, its objects by kind and its Helm releases, and the collector components a
config uses."""

from __future__ import annotations

import itertools
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional, Sequence

from components import constants as c
from components.builders import receiver_auth
from components.tooling.render import (
    RecordingMocks,
    RegisteredResource,
    Rendering,
    available_stacks,
    masked,
    read_stack_file,
    run_program,
)

# The receiver tokens each render here generates, in the order a gateway makes them (previous,
# current, next generation). The package makes fresh ones at every run and the engine keeps those
# of a stack's first `up` (`ignore_changes`); a render stands for one run of a deployed stack, so
# renders agree with each other: the objects applied from one match the collectors run from the next.
RECEIVER_TOKENS = ("e2e-receiver-token-previous-0a1b2c", "e2e-receiver-token-current-3d4e5f",
                   "e2e-receiver-token-next-6a7b8c")

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT.parent / "shared" / "schemas"
STACKS = available_stacks(ROOT)

# One-option changes of the `dev` stack, by name: the fast suite checks that each changes only the
# files that depend on it (tests/properties/test_reviewable_previews.py), the real tier that the
# collector runs every config they give (e2e/test_collector_configs.py).
OPTION_FLIPS: dict[str, dict[str, Any]] = {
    "severity": {"tracing": {"eventSeverity": "error"}},
    "scrape-interval": {"gateway": {"scrapeInterval": "1m"}},
    "agent-resources": {"logAgent": {"resources": {"cpuRequest": "50m", "cpuLimit": "1", "memoryRequest": "128Mi",
                                                   "memoryLimit": "512Mi"}}},
    "verbosity": {"exporter": {"type": "debug", "verbosity": "detailed"}},
    "one-more-controller": {"flux": {"controllers": [*c.FLUX_DEFAULT_CONTROLLERS, "image-reflector-controller"]}},
}


def run_stack(
    stack: str,
    *,
    overrides: Optional[dict[str, Any]] = None,
    secrets: Optional[dict[str, Any]] = None,
    preview: bool = False,
    mocks: Optional[RecordingMocks] = None,
    receiver_tokens: Sequence[str] = RECEIVER_TOKENS,
) -> Rendering:
    """Runs the real __main__.py with a stack file's config, plus overrides and secret values.

    Overrides are plain (non-secret) config, even for a key the stack file encrypts; an override
    of None removes the key. `receiver_tokens` are the tokens the gateway's token Secrets hold
    (those a live stack holds, to compare with it)."""
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
    with stored_tokens(receiver_tokens):
        return run_program(
            ROOT / "__main__.py", project=c.PROJECT, stack=stack, config=config, secret_keys=secret_keys,
            preview=preview, mocks=mocks,
        )


@contextmanager
def stored_tokens(tokens: Sequence[str]) -> Iterator[None]:
    """Each receiver token Secret made meanwhile holds the next of `tokens` (RECEIVER_TOKENS)."""
    made = itertools.cycle(tokens)
    original = receiver_auth.new_token
    # setattr: a deliberate patch of a function, which mypy refuses as an assignment.
    setattr(receiver_auth, "new_token", lambda: next(made))
    try:
        yield
    finally:
        setattr(receiver_auth, "new_token", original)


def by_kind(resources: list[RegisteredResource], kind: str) -> list[dict[str, Any]]:
    return [masked(r.inputs) for r in resources if r.custom and r.inputs.get("kind") == kind]


def releases(resources: list[RegisteredResource]) -> dict[str, dict[str, Any]]:
    return {
        r.inputs["name"]: masked(r.inputs) for r in resources if r.type == "kubernetes:helm.sh/v3:Release"
    }


def referenced_components(config: dict[str, Any]) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline in config["service"]["pipelines"].values():
        for section in used:
            used[section].update(pipeline.get(section, []))
    used["extensions"] = set(config["service"].get("extensions", []))
    return used


def project_with_stack(directory: Path, stack_text: str, program: Optional[str] = None) -> Path:
    """A copy of the project in `directory` whose stack `bad` has the given stack file text."""
    (directory / "stacks").mkdir()
    (directory / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (directory / "__main__.py").write_text(program or (ROOT / "__main__.py").read_text())
    (directory / "stacks" / "Pulumi.bad.yaml").write_text(stack_text)
    return directory


def building_blocks_project(directory: Path) -> Path:
    """docs/programs.md's FluxTracing example in a project of its own (stack `s`), whose stack sets
    only the project's own keys: nothing may ask for a `fluxcd-otel:` key."""
    (directory / "Pulumi.yaml").write_text("name: staging-obs\nruntime: python\n")
    (directory / "Pulumi.s.yaml").write_text("config:\n  staging-obs:region: eu\n")
    (directory / "__main__.py").write_text(
        "import pulumi\n"
        "from fluxcd_otel import FluxTracing, FluxTracingArgs\n"
        "from fluxcd_otel.config import TracingSettings\n"
        "tracing = FluxTracing('flux-tracing', FluxTracingArgs(\n"
        "    address='http://otel-collector.observability.svc:4318', cluster_name='staging-eu-1',\n"
        "    tracing=TracingSettings(alert_name='otel-alert', event_severity='error')))\n"
        "pulumi.export('traceServiceName', tracing.service_name)\n"
    )
    return directory
