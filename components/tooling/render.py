"""Offline render: run a Pulumi program under mocks and print what `pulumi up` would create.

No cluster, no credentials, no Pulumi CLI. The program runs with a stack file's configuration;
every custom resource is printed as the manifest Pulumi would send, collector configs are
printed on their own, secret values are masked, and the output is sorted and stable so a
pull-request pipeline can diff two renders.

    python -m components render --stack dev                # all documents to stdout
    python -m components render --stack prod --out build/  # one file per resource
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, cast

import pulumi
import yaml
from pulumi.runtime import rpc
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.stack import Stack, run_pulumi_func

from .. import constants as c
from ..config import ConfigError
from ..config.loading import decode_config_value
from ..internals import run_to_completion

MASK = "[secret]"
UNKNOWN = "[unknown]"
SECRET_PLACEHOLDER = "offline-render-placeholder"
COLLECTOR_CONFIG_KEY = "alternateConfig"


@dataclass
class RegisteredResource:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: Optional[str]
    custom: bool


class RecordingMocks(pulumi.runtime.Mocks):
    """Records every registration.

    Update: a resource's outputs are its inputs, as after a clean create, and a Kubernetes object
    gets the `metadata.uid` the API server would assign (derived from its type and names, so
    renders stay stable). Preview: nothing the provider computes is known yet (no ID, no state,
    no UID), so a program that needs such a value before it exists shows it as unknown here.
    """

    def __init__(self, preview: bool = False) -> None:
        self.preview = preview
        self.resources: list[RegisteredResource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[Optional[str], dict]:
        self.resources.append(RegisteredResource(args.typ, args.name, args.inputs, args.provider, bool(args.custom)))
        if self.preview:
            return None, {}
        outputs = dict(args.inputs)
        metadata = outputs.get("metadata")
        if args.typ.startswith("kubernetes:") and isinstance(metadata, dict):
            outputs["metadata"] = {**metadata, "uid": mock_uid(args.typ, args.name, metadata)}
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, Optional[list[tuple[str, str]]]]:
        return {}, None


def mock_uid(resource_type: str, logical_name: str, metadata: dict[str, Any]) -> str:
    """A stable stand-in for the UID the API server assigns; a renamed object gets another one."""
    names = [str(metadata.get("namespace", "")), str(metadata.get("name", ""))]
    identity = "::".join([resource_type, logical_name, *names])
    return str(uuid.uuid5(uuid.NAMESPACE_URL, identity))


@dataclass
class StackFile:
    project: str
    config: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    # Pulumi ESC environments the stack imports; their values reach the program only through the CLI.
    environments: list[str] = field(default_factory=list)

    def plain_settings(self) -> dict[str, Any]:
        """The project's own keys as the program reads them, `secure:` ones left out: what
        parse_stack_config takes."""
        prefix = f"{self.project}:"
        return {key.removeprefix(prefix): decode_config_value(value) for key, value in self.config.items()
                if key.startswith(prefix) and key not in self.secret_keys}


def _config_text(value: Any) -> str:
    """How the Pulumi CLI hands a stack-file value to the program: strings as they are, rest JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def replace_secrets(value: Any, marker: str, replace: Callable[[Any], Any]) -> tuple[Any, bool]:
    """Replaces every one-key mapping `{marker: x}` (a secret in a config file) by `replace(x)`,
    and tells whether there was any."""
    if isinstance(value, dict):
        if set(value) == {marker}:
            return replace(value[marker]), True
        pairs = {key: replace_secrets(item, marker, replace) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, any(secret for _, secret in pairs.values())
    if isinstance(value, list):
        results = [replace_secrets(item, marker, replace) for item in value]
        return [item for item, _ in results], any(secret for _, secret in results)
    return value, False


def _location(path: Path) -> str:
    """A file as the user named it: relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_yaml(path: Path) -> Any:
    """A YAML file's content; a syntax error becomes one line naming the file, line and column."""
    try:
        text = path.read_text()
    except OSError as err:
        raise ConfigError(f"cannot read {_location(path)}: {err.strerror or err}") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        def at(mark: Any) -> str:
            return f"line {mark.line + 1}, column {mark.column + 1}"

        mark = err.problem_mark or err.context_mark
        where = f"{_location(path)}, {at(mark)}" if mark else _location(path)
        said = err.problem or err.context or "unreadable"
        if err.problem and err.context:
            # Such as an unclosed quote: the parser stops at the end, the context says where it began.
            said += f" ({err.context}{f' at {at(err.context_mark)}' if err.context_mark else ''})"
        raise ConfigError(f"{where}: not valid YAML: {said}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{_location(path)}: not valid YAML: {err}") from None


def _project(project_dir: Path) -> tuple[str, Path]:
    """The project name and the folder of its stack files, from Pulumi.yaml."""
    project_path = project_dir / "Pulumi.yaml"
    if not project_path.is_file():
        raise ConfigError(f"no Pulumi.yaml in {_location(project_dir)} (pass the project folder with --project-dir)")
    project_file = load_yaml(project_path)
    if not isinstance(project_file, dict) or not isinstance(project_file.get("name"), str):
        raise ConfigError(f"{_location(project_path)}: must be a map with the project's `name:`")
    return project_file["name"], project_dir / str(project_file.get("stackConfigDir", "."))


def read_stack_file(project_dir: Path, stack: str) -> StackFile:
    project, stack_dir = _project(project_dir)
    path = stack_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ConfigError(f"no stack file {path} (stacks: {', '.join(available_stacks(project_dir))})")
    return parse_stack_file(project, load_yaml(path), source=_location(path))


def _kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the value {value!r}"


def parse_stack_file(project: str, document: Any, *, source: str = "the stack file") -> StackFile:
    """The config a stack file hands the program, with `secure:` values as secret placeholders."""
    document = {} if document is None else document
    if not isinstance(document, dict):
        raise ConfigError(f"{source}: must be a map with a `config:` key, got {_kind_of(document)}")
    environments = document.get("environment") or []
    if not isinstance(environments, list) or not all(isinstance(name, str) for name in environments):
        raise ConfigError(f"{source}: `environment:` must be a list of Pulumi ESC environment names")
    config = document.get("config")
    example = f"`{c.PROJECT}:clusterName: dev`"
    if config is not None and not isinstance(config, dict):
        raise ConfigError(
            f"{source}: `config:` must be a map of `namespace:key: value` entries (such as {example}),"
            f" got {_kind_of(config)}"
        )
    if not config and not environments:
        raise ConfigError(
            f"{source}: `config:` is {'missing' if 'config' not in document else 'empty'};"
            f" it must hold the stack's keys, at least {example}"
        )
    stack_file = StackFile(project=project, config={}, environments=list(environments))
    for key, value in (config or {}).items():
        key = str(key)
        full_key = key if ":" in key else f"{project}:{key}"
        # `secure:` ciphertexts cannot be decrypted offline.
        plain, secret = replace_secrets(value, "secure", lambda _: SECRET_PLACEHOLDER)
        stack_file.config[full_key] = _config_text(plain)
        if secret:
            stack_file.secret_keys.append(full_key)
    return stack_file


def available_stacks(project_dir: Path) -> list[str]:
    _, stack_dir = _project(project_dir)
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in stack_dir.glob("Pulumi.*.yaml"))


@dataclass
class Rendering:
    resources: list[RegisteredResource]
    outputs: dict[str, Any]


def run_program(
    program: Path,
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool = False,
    mocks: Optional[RecordingMocks] = None,
) -> Rendering:
    """Runs a Pulumi program file under recording mocks with the given configuration."""
    mocks = mocks or RecordingMocks(preview=preview)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview)
    pulumi.runtime.set_all_config(config, secret_keys)
    # The mocks keep one root Stack per process; start each run with no exports of an earlier one.
    cast(Stack, get_root_resource()).outputs.clear()

    async def _outputs() -> dict[str, Any]:
        stack_outputs = cast(Stack, get_root_resource()).outputs
        resolved = {}
        for key in sorted(stack_outputs):
            output = pulumi.Output.from_input(stack_outputs[key])
            value = await output.future()
            resolved[key] = MASK if await output.is_secret() else value
        return resolved

    def _program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    run_to_completion(run_pulumi_func(_program))
    outputs = run_to_completion(_outputs())
    return Rendering(resources=mocks.resources, outputs=outputs)


def render_stack(project_dir: Path, stack: str, *, preview: bool = False) -> Rendering:
    stack_file = read_stack_file(project_dir, stack)
    try:
        return run_program(
            project_dir / "__main__.py",
            project=stack_file.project,
            stack=stack,
            config=stack_file.config,
            secret_keys=stack_file.secret_keys,
            preview=preview,
        )
    except ConfigError as err:
        if not stack_file.environments:
            raise
        raise ConfigError(unresolved_environments_message(stack, stack_file.environments, str(err))) from None


def unresolved_environments_message(stack: str, environments: list[str], problems: str) -> str:
    """One line: the keys may well come from ESC, which only the Pulumi CLI can open."""
    details = "; ".join(line.strip() for line in problems.splitlines()[1:]) or problems
    names = ", ".join(environments)
    return (
        f"stack {stack} imports the Pulumi ESC environment{'s' if len(environments) > 1 else ''} {names}, "
        f"which the offline render cannot open; without its values: {details} "
        f"(set these keys in the stack file to render offline, or run `pulumi preview --stack {stack}`)"
    )


def masked(value: Any, *, reveal: bool = False) -> Any:
    """Plain data with secret values masked (or, with `reveal`, unwrapped as the API server gets
    them), values unknown in a preview marked, and mock floats turned back into integers."""
    if rpc.is_rpc_secret(value):
        unwrapped = rpc.unwrap_rpc_secret(value)
        # An unknown secret shows as unknown: pulumi 3.260, the lowest the package takes, sends it
        # without the secret mark.
        if isinstance(unwrapped, pulumi.output.Unknown):
            return UNKNOWN
        return masked(unwrapped, reveal=True) if reveal else MASK
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {key: masked(item, reveal=reveal) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, reveal=reveal) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=True, default_flow_style=False, width=120)


def documents(rendering: Rendering) -> list[tuple[str, str]]:
    """(file name, YAML text) for every custom resource, collector config and the stack outputs."""
    result = []
    for resource in sorted(rendering.resources, key=lambda r: (r.name, r.type)):
        if not resource.custom:
            continue
        body = masked(resource.inputs)
        header = f"# {resource.type} {resource.name}\n"
        result.append((f"{resource.name}.yaml", header + _dump(body)))
        collector_config = (body.get("values") or {}).get(COLLECTOR_CONFIG_KEY)
        if collector_config is not None:
            result.append(
                (
                    f"{resource.name}.collector-config.yaml",
                    f"# collector config of {resource.name}\n" + _dump(collector_config),
                )
            )
    result.append(("stack-outputs.yaml", "# stack outputs\n" + _dump(masked(rendering.outputs))))
    return result


def write(rendering: Rendering, out: Optional[Path]) -> None:
    docs = documents(rendering)
    if out is None:
        sys.stdout.write("---\n".join(text for _, text in docs))
        return
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.yaml"):
        stale.unlink()
    for name, text in docs:
        (out / name).write_text(text)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__.split('.')[0]} render", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--stack", required=True, help="stack name: stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="write one file per resource into this directory")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="folder with Pulumi.yaml")
    parser.add_argument("--preview", action="store_true", help="render as in `pulumi preview` (dry run)")
    args = parser.parse_args(argv)
    try:
        rendering = render_stack(args.project_dir, args.stack, preview=args.preview)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write(rendering, args.out)
    return 0

