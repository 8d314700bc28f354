"""The Pulumi engine for the real tier: the CLI and the Kubernetes provider built from their Go
modules (e2e/harness/programs.py), a file backend, a passphrase, and no plugin downloads.

The module proxy serves no Python language host (`sdk/python/cmd/pulumi-language-python/v3` is
refused at every version), so the program runs through the Automation API's inline runtime: the
Python SDK serves the language runtime from the test process and the built CLI drives
`preview`, `up` and `destroy` against it. Everything else is the engine's own: planning, the
provider plugin, server-side apply, secrets encryption, the state file, diffs.

For programs in other languages, `cli_with_language_hosts` puts the built YAML language host
beside the CLI, and `component_plugin` stands in for the Python language host where the engine
would have it run `provider/`.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components import constants as c
from components.builders import receiver_auth
from components.tooling.render import masked
from e2e.harness.flux import ClusterUids
from e2e.harness.kube import (
    HELM_RELEASE,
    ApiServer,
    child_env,
    contains,
    first_difference,
    rendered_manifest,
    run_bounded,
)
from e2e.harness.programs import KUBERNETES_PROVIDER_VERSION, require
from e2e.harness.render import RECEIVER_TOKENS, ROOT, run_stack

PASSPHRASE = "fluxcd-otel-engine-tier"


class Engine:
    """A PULUMI_HOME with only the built Kubernetes provider, a file backend, and stacks of the
    project's own stack files, each in a copy of the project so the checkout stays untouched."""

    def __init__(self, workdir: Path, cli: Path | None = None) -> None:
        self.workdir = Path(workdir)
        self.home = self.workdir / "pulumi-home"
        self.state = self.workdir / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        self.env = {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        }
        cli = cli or require("pulumi")
        self.command = auto.PulumiCommand(root=str(cli.parent.parent), version=None, skip_version_check=False)
        self.cli = str(cli)
        # The SDK asks for the provider at its own version (requirements.txt), the one built.
        self.run("plugin", "install", "resource", "kubernetes", KUBERNETES_PROVIDER_VERSION,
                 "--file", str(require("pulumi-resource-kubernetes")))

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = run_bounded([self.cli, *args], timeout=300, env=child_env(**self.env), cwd=cwd or self.workdir)
        if check and result.returncode != 0:
            raise AssertionError(f"pulumi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def plugins(self) -> list[str]:
        return sorted(path.name for path in (self.home / "plugins").iterdir() if path.is_dir())

    def stack(self, name: str, *, kubeconfig: Path, config: dict[str, str], secrets: dict[str, str]) -> auto.Stack:
        """The project's stack `name` (its stack file copied), pointed at `kubeconfig`, with extra
        `--path` config and secret values set as `pulumi config set [--secret]` would."""
        project = self.workdir / f"project-{name}"
        (project / "stacks").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        shutil.copyfile(ROOT / "stacks" / f"Pulumi.{name}.yaml", project / "stacks" / f"Pulumi.{name}.yaml")
        stack = auto.create_or_select_stack(
            stack_name=name, project_name=c.PROJECT, program=program,
            opts=auto.LocalWorkspaceOptions(work_dir=str(project), env_vars=self.env, pulumi_command=self.command),
        )
        stack.set_config("kubernetes:kubeconfig", auto.ConfigValue(str(kubeconfig)))
        for key, value in config.items():
            stack.set_config(f"{c.PROJECT}:{key}", auto.ConfigValue(value), path=True)
        for key, value in secrets.items():
            stack.set_config(f"{c.PROJECT}:{key}", auto.ConfigValue(value, secret=True), path=True)
        return stack

    def state_file(self, name: str) -> Path:
        return self.state / ".pulumi" / "stacks" / c.PROJECT / f"{name}.json"


def program() -> None:
    """The project's own program, as `pulumi up` runs it."""
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")


def cli_with_language_hosts(directory: Path) -> Path:
    """The built CLI with the built YAML language host beside it: the CLI looks for the language
    hosts it bundles (yaml among them) next to its own binary, since ambient plugins are ignored
    here (pulumi/pulumi sdk/v3@v3.274.0 `go/common/workspace/plugins.go: IsPluginBundled`). Hard links, so
    nothing is copied where the cache and `directory` share a file system."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in ("pulumi", "pulumi-language-yaml"):
        try:
            os.link(require(name), bin_dir / name)
        except OSError:
            shutil.copy2(require(name), bin_dir / name)
    return bin_dir / "pulumi"


def component_plugin(directory: Path) -> Path:
    """`provider/` as an executable plugin, `pulumi-resource-fluxcd-otel`: what the Python
    language host's RunPlugin does for PulumiPlugin.yaml (run `provider/__main__.py` with the
    package's virtualenv and the engine's arguments), as a script the engine runs itself."""
    directory.mkdir(parents=True, exist_ok=True)
    plugin = directory / f"pulumi-resource-{c.PROJECT}"
    plugin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "provider" / "__main__.py"}" "$@"\n')
    plugin.chmod(0o755)
    return plugin


def render_with_live_uids(cluster: ApiServer, stack: str, overrides: dict[str, Any], *, secrets: dict[str, str]):
    """The offline render of `stack`, with the UID the API server gave its Alert (the gateway's
    event statements carry it) in place of the mock's, and the receiver tokens the stack's first
    `up` generated in place of the harness's."""
    first = run_stack(stack, overrides=overrides, secrets=secrets)
    uids = {}
    tokens = []
    for resource in first.resources:
        if not resource.custom:
            continue
        if resource.type.endswith(":Alert"):
            live = cluster.live(rendered_manifest(resource))
            assert live is not None, f"{resource.name} is not in the cluster"
            uids[resource.name] = live["metadata"]["uid"]
        elif resource.type == "kubernetes:core/v1:Secret" and "data" in resource.inputs:
            live = cluster.live(rendered_manifest(resource))
            assert live is not None, f"{resource.name} is not in the cluster"
            tokens.append(base64.b64decode(live["data"][receiver_auth.TOKEN_KEY]).decode())
    return run_stack(stack, overrides=overrides, secrets=secrets, mocks=ClusterUids(uids),
                     receiver_tokens=tokens or RECEIVER_TOKENS)


def release_values(cluster: ApiServer, name: str, namespace: str) -> dict[str, Any] | None:
    """The values Helm installed the release's deployed revision with, from the Secret it keeps it
    in (`sh.helm.release.v1.<name>.v<revision>`, labels owner=helm: the release as gzipped JSON,
    base64-encoded; helm/v3 pkg/storage/driver/secrets.go and util.go)."""
    secrets = cluster.get("secrets", "-n", namespace, "-l", f"owner=helm,name={name},status=deployed")["items"]
    if len(secrets) != 1:
        return None
    release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secrets[0]["data"]["release"]))))
    return release.get("config") or {}


def differences_from_render(cluster: ApiServer, rendering) -> list[str]:
    """Each object of `rendering` that the cluster does not hold as rendered: a live object must
    hold every rendered field, a Secret the rendered data, and a Release's deployed revision the
    rendered values. A DeploymentPatch is part of Flux's object and is left to its own test."""
    differences = []
    for resource in rendering.resources:
        if not resource.custom or resource.type.endswith("Patch"):
            continue
        if resource.type == HELM_RELEASE:
            inputs = masked(resource.inputs, reveal=True)
            got = release_values(cluster, inputs["name"], inputs["namespace"])
            if got != inputs["values"]:
                differences.append(f"{resource.name}: chart values differ: {first_difference(got, inputs['values'])}")
            continue
        manifest = rendered_manifest(resource)
        found = cluster.live(manifest)
        if found is None or not contains(found, {key: value for key, value in manifest.items() if key != "stringData"}):
            differences.append(f"{resource.name}: live object differs from the render")
        if "stringData" in manifest:
            decoded = {k: base64.b64decode(v).decode() for k, v in (found or {}).get("data", {}).items()}
            if decoded != manifest["stringData"]:
                differences.append(f"{resource.name}: Secret data differs from the render")
    return differences
