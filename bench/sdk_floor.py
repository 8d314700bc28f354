"""The SDK floor of a Pulumi program: a plain pulumi-kubernetes program (`sdk_floor_program.py`)
that declares exactly the custom resources the program registers, read from the program's own run
under the renderer's recording mocks, so it cannot drift from the package.

Each resource keeps its type token, name, inputs, SDK class, provider and the options its class
adds (aliases, secret outputs); parents are flattened away, so no ComponentResource is left. A
resource `depends_on` what it waited for in the program: its own dependencies and those of its
ancestors (a component's `depends_on` holds back all its children). What ties one resource's
inputs to another's outputs stays an Output: a string holding the UID the mocks gave another
Kubernetes object (the gateway's event statements hold the Alert's) becomes an apply on that
object's `metadata`, any other input made from another resource's output (a Secret that copies
another's token) waits on that resource's ID, and a secret input stays a secret, read from the
floor stack's secret config (`floor:secrets`), so the data file holds no secret value. Options
that shape the engine's work (`ignore_changes`) are kept.

With `tree=True` the data also keeps the program's ComponentResources (type, name, parent, the
outputs each registers) and each resource's parent: the same resource tree without the package's
code, which tells the engine's and the SDK's cost of the components from the package's own.

`record` runs a program under the mocks and keeps every registration; `floor_data` turns that into
the floor's data; `differences` compares two recordings resource by resource, which is how the
floor is checked against the program before anything is timed.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.tooling.render import RecordingMocks, RegisteredResource, Rendering, masked, mock_uid, run_program
from e2e.harness.kube import first_difference

FLOOR_PROGRAM = Path(__file__).with_name("sdk_floor_program.py")
FLOOR_NAMESPACE = "floor"
STACK_TYPE = "pulumi:pulumi:Stack"
# Markers in the floor's data for values that are Outputs in the floor program.
SECRET_MARKER = "$secret"
UID_MARKER = "$uidOf"
# The fields of a registration request that say where it was made: what the floor flattens away.
# Dependencies and the provider are compared by the names of the resources they point at (their
# URNs hold the project's name).
WHERE_FIELDS = ("urn", "parent", "sourcePosition", "stackTrace", "object", "dependencies", "propertyDependencies",
                "provider", "providers")
CUSTOM_RESOURCE = "pulumi_kubernetes.apiextensions.CustomResource"
# Reads a registration request as a dict (protobuf ships no type stubs, hence the import by name).
json_format: Any = importlib.import_module("google.protobuf.json_format")


@dataclass
class Registration:
    """One resource as the program registered it."""

    type: str
    name: str
    custom: bool
    parent: Optional[str]
    sdk_class: str
    inputs: dict[str, Any]
    provider: Optional[str]
    providers: dict[str, Optional[str]]
    """A component's providers by package, which its children inherit."""
    own_dependencies: list[str]
    """What its request lists: its `depends_on` and the resources its inputs' Outputs come from."""
    dependencies: list[str]
    """What it waited for: its own dependencies and those of its ancestors."""
    property_dependencies: dict[str, list[str]]
    options: dict[str, Any]
    outputs: Optional[dict[str, Any]]


@dataclass
class Recording:
    registrations: list[Registration]
    rendering: Rendering

    @property
    def custom(self) -> list[Registration]:
        return [r for r in self.registrations if r.custom]

    @property
    def components(self) -> list[Registration]:
        return [r for r in self.registrations if not r.custom]


def _name_of_urn(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _provider_name(reference: Optional[str]) -> Optional[str]:
    # "<provider URN>::<provider ID>"; the URN ends with the provider's name.
    return reference.split("::")[-2] if reference else None


@contextmanager
def recording() -> Iterator[tuple[list[dict[str, Any]], dict[tuple[str, str], str], dict[str, Any]]]:
    """Keeps every registration request the mocks receive (as a dict, inputs left out), the SDK
    class each custom resource was made with and the outputs each component registers."""
    requests: list[dict[str, Any]] = []
    classes: dict[tuple[str, str], str] = {}
    outputs: dict[str, Any] = {}
    register = pulumi_mocks.MockMonitor.RegisterResource
    register_outputs = pulumi_mocks.MockMonitor.RegisterResourceOutputs
    construct = pulumi.CustomResource.__init__

    def recording_register(monitor: Any, request: Any) -> Any:
        found = json_format.MessageToDict(request)
        found.pop("object", None)
        response = register(monitor, request)
        requests.append({**found, "urn": response.urn})
        return response

    def recording_register_outputs(monitor: Any, request: Any) -> Any:
        outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return register_outputs(monitor, request)

    def recording_construct(resource: Any, t: str, name: str, *args: Any, **kwargs: Any) -> None:
        classes[(t, name)] = f"{type(resource).__module__}:{type(resource).__qualname__}"
        construct(resource, t, name, *args, **kwargs)

    # setattr: deliberate patches of methods, which mypy refuses as assignments.
    setattr(pulumi_mocks.MockMonitor, "RegisterResource", recording_register)
    setattr(pulumi_mocks.MockMonitor, "RegisterResourceOutputs", recording_register_outputs)
    setattr(pulumi.CustomResource, "__init__", recording_construct)
    try:
        yield requests, classes, outputs
    finally:
        setattr(pulumi_mocks.MockMonitor, "RegisterResource", register)
        setattr(pulumi_mocks.MockMonitor, "RegisterResourceOutputs", register_outputs)
        setattr(pulumi.CustomResource, "__init__", construct)


def waited_for(request: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> set[str]:
    """The custom resources a registration waits for: its own dependencies and those of every
    ancestor. A child is registered only once its parent's URN is known, and a component's URN
    only once its own `depends_on` exist, so the `depends_on` of a component holds back all its
    children (a namespace before the release in it) although their requests do not list it."""
    urns = set(request.get("dependencies", []))
    parent = by_urn.get(request.get("parent", ""))
    while parent is not None:
        urns |= set(parent.get("dependencies", []))
        parent = by_urn.get(parent.get("parent", ""))
    return urns


def record(program: Path, *, project: str, stack: str, config: dict[str, str], secret_keys: list[str]) -> Recording:
    """Runs `program` under the renderer's mocks (as after a clean `up`) and keeps its registrations."""
    with recording() as (requests, classes, outputs):
        rendering = run_program(program, project=project, stack=stack, config=config, secret_keys=secret_keys,
                                mocks=RecordingMocks(preview=False))
    by_key: dict[tuple[str, str], RegisteredResource] = {(r.type, r.name): r for r in rendering.resources}
    by_urn = {request["urn"]: request for request in requests}
    registrations = []
    for request in requests:
        key = (request["type"], request["name"])
        if request["type"] == STACK_TYPE:
            continue
        parent = by_urn.get(request.get("parent", ""))
        registered = by_key[key]
        registrations.append(Registration(
            type=registered.type,
            name=registered.name,
            custom=registered.custom,
            parent=parent["name"] if parent is not None and parent["type"] != STACK_TYPE else None,
            sdk_class=classes.get(key, ""),
            inputs=registered.inputs,
            provider=_provider_name(registered.provider),
            providers={package: _provider_name(ref) for package, ref in request.get("providers", {}).items()},
            own_dependencies=sorted({_name_of_urn(urn) for urn in request.get("dependencies", [])}),
            dependencies=sorted({_name_of_urn(urn) for urn in waited_for(request, by_urn)}),
            property_dependencies={key: sorted({_name_of_urn(urn) for urn in value.get("urns", [])})
                                   for key, value in request.get("propertyDependencies", {}).items()},
            options={key: value for key, value in request.items() if key not in WHERE_FIELDS},
            outputs=outputs.get(request["urn"]),
        ))
    names = [r.name for r in registrations]
    if len(set(names)) != len(names):
        raise AssertionError("the floor names resources by their names, which must differ")
    return Recording(registrations, rendering)


# --- the floor's data ----------------------------------------------------------------------------------
def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _sdk_class(path: str) -> Any:
    module, qualname = path.split(":")
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def arguments(sdk_class: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the SDK class that send `inputs`: a typed class takes the top-level
    keys in snake case (nested keys go as they are), apiextensions.CustomResource takes apiVersion,
    kind and metadata by name and the rest as they are. Inputs the class sets itself (a Release's
    `compat`) are left to it; the check against the program catches any other loss."""
    module, _ = sdk_class.split(":")
    if module == CUSTOM_RESOURCE:
        rest = {key: value for key, value in inputs.items() if key not in ("apiVersion", "kind", "metadata")}
        return {"api_version": inputs["apiVersion"], "kind": inputs["kind"], "metadata": inputs.get("metadata"), **rest}
    found = _sdk_class(sdk_class)
    # The generated classes take their arguments in `_internal_init`; `__init__` is overloaded.
    accepted = set(inspect.signature(getattr(found, "_internal_init", found.__init__)).parameters)
    converted = {snake_case(key): value for key, value in inputs.items()}
    return {key: value for key, value in converted.items() if key in accepted}


def floor_data(recorded: Recording, *, tree: bool = False) -> tuple[dict[str, Any], list[Any]]:
    """The floor program's data (resources in the order the program registered them, stack
    outputs; with `tree`, the components and each resource's parent) and the secret values it
    reads from its secret config, in marker order."""
    uids = {}
    for registration in recorded.custom:
        metadata = registration.inputs.get("metadata")
        if registration.type.startswith("kubernetes:") and isinstance(metadata, dict):
            uids[mock_uid(registration.type, registration.name, metadata)] = registration.name
    secrets: list[Any] = []

    def convert(value: Any) -> Any:
        if rpc.is_rpc_secret(value):
            secrets.append(masked(rpc.unwrap_rpc_secret(value), reveal=True))
            return {SECRET_MARKER: len(secrets) - 1}
        if isinstance(value, dict):
            if SECRET_MARKER in value or UID_MARKER in value:
                raise AssertionError(f"an input holds a key the floor uses as a marker: {sorted(value)}")
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        if isinstance(value, str):
            for uid, owner in uids.items():
                if uid in value:
                    return {UID_MARKER: owner, "parts": value.split(uid)}
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    resources = []
    for registration in recorded.registrations:
        # Flat, a resource lists all it waited for; in the tree, its parents hold it back as in the program.
        depends_on = registration.own_dependencies if tree else registration.dependencies
        if registration.custom:
            args = convert(arguments(registration.sdk_class, registration.inputs))
            entry = {"name": registration.name, "class": registration.sdk_class, "args": args,
                     "provider": registration.provider, "dependsOn": depends_on,
                     "waitsOn": _waits_on(registration, args)}
            if "ignoreChanges" in registration.options:
                entry["ignoreChanges"] = registration.options["ignoreChanges"]
        elif tree:
            entry = {"name": registration.name, "component": registration.type,
                     "outputs": convert(registration.outputs or {}), "dependsOn": depends_on,
                     "providers": sorted(name for name in registration.providers.values() if name)}
        else:
            continue
        if tree:
            entry["parent"] = registration.parent
        resources.append(entry)
    return {"resources": resources, "outputs": masked(recorded.rendering.outputs)}, secrets


def _waits_on(registration: Registration, args: dict[str, Any]) -> dict[str, list[str]]:
    """The arguments that come from other resources' outputs, other than through a UID (marked in
    the value itself), with the resources they wait for: a Secret that copies another's token."""
    found = {}
    for key, names in registration.property_dependencies.items():
        argument = key if key in args else snake_case(key)
        if names and argument in args and UID_MARKER not in json.dumps(args[argument]):
            found[argument] = names
    return found


def floor_config(data_path: Path, secrets: list[Any]) -> tuple[dict[str, str], list[str]]:
    """The floor stack's config for the mocks: the data file, and the secrets as a secret key."""
    config = {f"{FLOOR_NAMESPACE}:data": str(data_path), f"{FLOOR_NAMESPACE}:secrets": json.dumps(secrets)}
    return config, [f"{FLOOR_NAMESPACE}:secrets"]


# --- the check ---------------------------------------------------------------------------------------------
def _comparable(registration: Registration, reveal: bool, tree: bool) -> dict[str, Any]:
    found = {
        "sdk_class": registration.sdk_class,
        "inputs": masked(registration.inputs, reveal=reveal),
        "provider": registration.provider,
        "providers": registration.providers,
        "dependencies": registration.dependencies,
        "property_dependencies": {key: value for key, value in registration.property_dependencies.items() if value},
        "options": registration.options,
    }
    if tree:
        found["parent"] = registration.parent
        found["own_dependencies"] = registration.own_dependencies
        found["outputs"] = masked(registration.outputs, reveal=reveal)
    return found


def differences(ours: Recording, floor: Recording, *, tree: bool = False) -> list[str]:
    """Where the floor's resources differ from the program's: the same custom resources (type,
    name) and, with `tree`, the same components; for each the same class, inputs (with secrets
    masked and revealed, so a secret stays a secret), provider, dependencies and request options,
    and with `tree` the same parent and registered outputs."""
    found = []
    mine = {(r.type, r.name): r for r in (ours.registrations if tree else ours.custom)}
    theirs = {(r.type, r.name): r for r in floor.registrations}
    for key in sorted(set(mine) ^ set(theirs)):
        found.append(f"{key[0]} {key[1]}: only in {'the program' if key in mine else 'the floor'}")
    for key in sorted(set(mine) & set(theirs)):
        for reveal in (False, True):
            a, b = _comparable(mine[key], reveal, tree), _comparable(theirs[key], reveal, tree)
            for part in a:
                if a[part] != b[part]:
                    found.append(f"{key[0]} {key[1]}: {part} differs{' (revealed)' if reveal else ''}:"
                                 f" {first_difference(a[part], b[part], names=('program', 'floor'))}")
    return sorted(set(found))


def checked_floor(ours: Recording, data_path: Path, *, project: str, stack: str,
                  tree: bool = False) -> tuple[list[Any], Recording]:
    """Writes the floor's data for `ours` to `data_path`, runs the floor program under the same
    mocks and fails unless it registers the same resources; returns the secrets the floor's
    stack must hold and the floor's recording."""
    data, secrets = floor_data(ours, tree=tree)
    data_path.parent.mkdir(parents=True, exist_ok=True)
    data_path.write_text(json.dumps(data, sort_keys=True))
    config, secret_keys = floor_config(data_path, secrets)
    floor = record(FLOOR_PROGRAM, project=project, stack=stack, config=config, secret_keys=secret_keys)
    problems = differences(ours, floor, tree=tree)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise AssertionError("the SDK floor does not declare what the program declares:\n  " + "\n  ".join(shown))
    return secrets, floor
