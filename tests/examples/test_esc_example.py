"""The Pulumi ESC example: an environment's `pulumiConfig` configures the real program, unchanged."""

from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc

from components import constants as c
from components.config import ConfigError
from components.tooling.render import _config_text, main, parse_stack_file, replace_secrets, run_program
from e2e.harness.render import ROOT, by_kind, releases
from tests.helpers import assert_valid_collector_config, validate_chart_values, validate_custom_resource

EXAMPLE = ROOT / "examples" / "esc"
ENVIRONMENT_FILE = EXAMPLE / "flux-prod.env.yaml"
STACK_FILE = EXAMPLE / "Pulumi.prod-esc.yaml"
SECRET_FUNCTION = "fn::secret"


def _opened(value: Any) -> tuple[Any, bool]:
    """A value as ESC hands it over when the environment is opened, and whether it is secret."""
    return replace_secrets(value, SECRET_FUNCTION, lambda plain: plain)


def _functions(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {key for key in value if key.startswith("fn::")} | set().union(*map(_functions, value.values()))
    if isinstance(value, list):
        return set().union(*map(_functions, value))
    return set()


def _environment_values() -> dict[str, Any]:
    return yaml.safe_load(ENVIRONMENT_FILE.read_text())["values"]


def esc_configuration(*, secrets_as_secrets: bool = True) -> tuple[dict[str, str], list[str]]:
    """What `pulumi up` gives the program: the environment's pulumiConfig, the stack file's keys on top."""
    stack_file = parse_stack_file(c.PROJECT, yaml.safe_load(STACK_FILE.read_text()))
    config, secret_keys = {}, []
    for key, value in _environment_values()["pulumiConfig"].items():
        plain, secret = _opened(value)
        config[key] = _config_text(plain)
        if secret and secrets_as_secrets:
            secret_keys.append(key)
    config.update(stack_file.config)
    return config, secret_keys + stack_file.secret_keys


def _run(**kwargs):
    config, secret_keys = esc_configuration(**kwargs)
    return run_program(
        ROOT / "__main__.py", project=c.PROJECT, stack="prod-esc", config=config, secret_keys=secret_keys
    )


def test_the_example_stack_imports_the_example_environment():
    stack_file = parse_stack_file(c.PROJECT, yaml.safe_load(STACK_FILE.read_text()))
    assert stack_file.environments == ["flux/prod"]
    assert "`flux/prod`" in ENVIRONMENT_FILE.read_text().splitlines()[0]
    # Only fn::secret is opened here; other ESC functions would need the ESC service.
    assert _functions(_environment_values()) == {SECRET_FUNCTION}


def test_the_stack_file_alone_lacks_what_the_environment_supplies():
    stack_file = parse_stack_file(c.PROJECT, yaml.safe_load(STACK_FILE.read_text()))
    with pytest.raises(ConfigError, match="fluxcd-otel:clusterName: required"):
        run_program(ROOT / "__main__.py", project=c.PROJECT, stack="prod-esc", config=stack_file.config, secret_keys=[])


def test_environment_values_configure_the_program_with_the_token_only_in_a_secret():
    token = _opened(_environment_values()["pulumiConfig"]["fluxcd-otel:exportToken"])[0]
    rendering = _run()
    resources = rendering.resources
    assert rendering.outputs["clusterName"] == "prod-eu-1"
    for kind in ("Provider", "Alert"):
        for obj in by_kind(resources, kind):
            validate_custom_resource(obj)
    collector_releases = [r for r in releases(resources).values() if "alternateConfig" in r["values"]]
    assert collector_releases
    for release in collector_releases:
        validate_chart_values(release["values"])
        assert_valid_collector_config(release["values"]["alternateConfig"])
    gateway = releases(resources)["flux-otel-gateway"]["values"]["alternateConfig"]
    assert gateway["exporters"]["otlp_grpc/dash0"]["endpoint"] == "ingress.eu-west-1.aws.dash0.com:4317"
    alert, = by_kind(resources, "Alert")
    assert alert["spec"]["eventMetadata"]["environment"] == "production", "the stack file's own key is lost"
    holders = [r for r in resources if token in str(r.inputs)]
    assert [r.type for r in holders] == ["kubernetes:core/v1:Secret"]
    assert rpc.is_rpc_secret(holders[0].inputs["stringData"])


def test_an_environment_value_without_fn_secret_is_refused_as_a_token():
    with pytest.raises(ConfigError, match="fluxcd-otel:exportToken: is plain text.*wrap the value in `fn::secret`"):
        _run(secrets_as_secrets=False)


def test_offline_render_says_in_one_line_that_it_cannot_open_the_environment(tmp_path, capsys):
    (tmp_path / "stacks").mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "stacks" / STACK_FILE.name).write_text(STACK_FILE.read_text())
    assert main(["--stack", "prod-esc", "--project-dir", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert "Pulumi ESC environment flux/prod" in err and "cannot open" in err
    assert "fluxcd-otel:clusterName: required" in err and "Traceback" not in err
