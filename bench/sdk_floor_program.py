"""The SDK floor (bench/sdk_floor.py): a plain pulumi-kubernetes program declaring, with the SDK's
own classes, the custom resources listed in the data file `floor:data`. Inputs marked `$secret`
come from the secret config `floor:secrets`; inputs marked `$uidOf` are built from that resource's
UID, as the program builds them; the arguments under `waitsOn` wait for those resources' IDs, as
the program's wait for their outputs. Flat, unless the data lists components and parents."""

import importlib
import json
from pathlib import Path
from typing import Any

import pulumi

config = pulumi.Config("floor")
data = json.loads(Path(config.require("data")).read_text())
secrets = config.get_secret_object("secrets") or pulumi.Output.secret([])
created: dict[str, Any] = {}


def uid_of(metadata: Any) -> str:
    return metadata["uid"] if isinstance(metadata, dict) else metadata.uid


def value(item: Any) -> Any:
    if isinstance(item, dict):
        if "$secret" in item:
            index = item["$secret"]
            return secrets.apply(lambda values: values[index])
        if "$uidOf" in item:
            parts = item["parts"]
            return created[item["$uidOf"]].metadata.apply(lambda metadata: uid_of(metadata).join(parts))
        return {key: value(entry) for key, entry in item.items()}
    if isinstance(item, list):
        return [value(entry) for entry in item]
    return item


def waiting(made: Any, resources: list[Any]) -> pulumi.Output[Any]:
    """`made`, once each of `resources` has an ID."""
    return pulumi.Output.all(*[resource.id for resource in resources]).apply(lambda _: made)


for resource in data["resources"]:
    parent = created[resource["parent"]] if resource.get("parent") else None
    if "component" in resource:
        opts = pulumi.ResourceOptions(parent=parent, depends_on=[created[name] for name in resource["dependsOn"]],
                                      providers=[created[name] for name in resource["providers"]])
        component = pulumi.ComponentResource(resource["component"], resource["name"], None, opts)
        component.register_outputs(value(resource["outputs"]))
        created[resource["name"]] = component
        continue
    module, name = resource["class"].split(":")
    sdk_class = getattr(importlib.import_module(module), name)
    opts = pulumi.ResourceOptions(
        parent=parent,
        depends_on=[created[dependency] for dependency in resource["dependsOn"]],
        provider=created[resource["provider"]] if resource["provider"] else None,
        ignore_changes=resource.get("ignoreChanges"),
    )
    args = value(resource["args"])
    for argument, names in resource.get("waitsOn", {}).items():
        args[argument] = waiting(args[argument], [created[name] for name in names])
    created[resource["name"]] = sdk_class(resource["name"], **args, opts=opts)

for key, output in data["outputs"].items():
    pulumi.export(key, output)
