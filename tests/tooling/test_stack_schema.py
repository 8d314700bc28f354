"""The stack-file JSON Schema: generated from the model, committed, wired into every stack file."""

from pathlib import Path

import jsonschema
import pytest
import yaml

from components.tooling.stack_schema import SCHEMA_FILE, schema_text, stack_file_schema
from e2e.harness.render import ROOT

SCHEMA_COMMENT = "# yaml-language-server: $schema="
# Example stack files of this project; an example beside its own Pulumi.yaml is another project.
STACK_FILES = sorted((ROOT / "stacks").glob("Pulumi.*.yaml")) + sorted(
    path for path in (ROOT / "examples").rglob("Pulumi.*.yaml") if not (path.parent / "Pulumi.yaml").exists()
)


def _errors(document):
    validator = jsonschema.Draft7Validator(stack_file_schema())
    return sorted(error.message for error in validator.iter_errors(document))


def test_schema_is_a_valid_draft_7_schema():
    jsonschema.Draft7Validator.check_schema(stack_file_schema())


def test_committed_schema_is_current():
    committed = ROOT / SCHEMA_FILE
    assert committed.is_file() and committed.read_text() == schema_text(), (
        "run: python -m components regenerate"
    )


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_stack_file_names_the_schema_and_validates(path: Path):
    first_line = path.read_text().splitlines()[0]
    assert first_line.startswith(SCHEMA_COMMENT), f"{path.name}: first line must be the yaml-language-server comment"
    assert (path.parent / first_line[len(SCHEMA_COMMENT):]).resolve() == (ROOT / SCHEMA_FILE).resolve()
    assert _errors(yaml.safe_load(path.read_text())) == []


def test_every_stack_directory_is_checked():
    assert {p.parent.relative_to(ROOT).as_posix() for p in STACK_FILES} >= {"stacks", "examples/esc"}


GOOD = {"config": {"fluxcd-otel:clusterName": "c1", "fluxcd-otel:exporter": {"type": "debug"}}}


def _with(**config):
    return {"config": {**GOOD["config"], **config}}


def test_keys_of_other_namespaces_and_secure_secrets_are_accepted():
    assert _errors(GOOD) == []
    assert _errors(_with(**{"kubernetes:context": "kind-flux", "kubernetes:kubeconfig": {"secure": "v1:abc"}})) == []
    assert _errors(_with(**{"fluxcd-otel:exportToken": {"secure": "v1:abc"}})) == []
    # `--secret` on the whole map encrypts it at once; `--secret --path` encrypts each value.
    assert _errors(_with(**{"fluxcd-otel:tracingHeaders": {"secure": "v1:abc"}})) == []
    assert _errors(_with(**{"fluxcd-otel:tracingHeaders": {"Authorization": {"secure": "v1:abc"}}})) == []


@pytest.mark.parametrize(
    "document, message",
    [
        (_with(**{"fluxcd-otel:exportToken": "auth_plain_text"}), "is not of type 'object'"),
        (_with(**{"fluxcd-otel:tracingHeaders": {"Authorization": "Bearer plain"}}),
         "is not valid under any of the given schemas"),
        (_with(**{"fluxcd-otel:clusterNmae": "typo"}), "does not match any of the regexes"),
        (_with(**{"fluxcd-otel:mode": "daemonset"}), "'daemonset' is not one of"),
        (_with(**{"fluxcd-otel:gateway": {"replicas": 0}}), "0 is less than the minimum of 1"),
        (_with(**{"fluxcd-otel:gateway": {"scrapeIntervall": "30s"}}), "Additional properties are not allowed"),
        (_with(**{"fluxcd-otel:tracing": {"eventMetadata": {"bad key!": "x"}}}), "does not match any of the regexes"),
        ({**GOOD, "environments": ["flux/prod"]}, "Additional properties are not allowed"),
        ({"config": {"fluxcd-otel:mode": "collector"}}, "'fluxcd-otel:clusterName' is a required property"),
        ({"encryptionsalt": "v1:salt"}, "'config' is a required property"),
        ({"environment": "flux/prod"}, "is not of type 'array'"),
    ],
    ids=[
        "plain-token", "plain-header", "unknown-key", "bad-enum", "below-minimum", "unknown-nested-key",
        "bad-map-key", "unknown-top-level-key", "missing-required-key", "no-config", "environment-not-a-list",
    ],
)
def test_bad_stack_files_are_rejected(document, message):
    errors = _errors(document)
    assert any(message in error for error in errors), errors


def test_keys_without_a_namespace_are_the_projects_own_and_checked_alike():
    # Pulumi reads `clusterName:` in this project's stack file as `fluxcd-otel:clusterName`.
    assert _errors({"config": {"clusterName": "dev", "exporter": {"type": "debug"}}}) == []
    assert any("'daemonset' is not one of" in error for error in _errors(_with(mode="daemonset")))
    assert any(
        "'clusterNmae' does not match any of the regexes" in error for error in _errors(_with(clusterNmae="typo"))
    )


def test_a_stack_with_an_esc_environment_may_leave_required_keys_to_it():
    assert _errors({"environment": ["flux/prod"]}) == []
    assert _errors({"environment": ["flux/prod"], "config": {"fluxcd-otel:mode": "collector"}}) == []
