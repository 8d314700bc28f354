"""Programs in other languages that use the fluxcd-otel component package, as users write them:
a YAML project, and the TypeScript program in e2e/typescript with the SDK generated from the
package's schema.

`pulumi package add` cannot run here for either (docs/real-tier.md): it hands SDK generation and
linking to the program's language host, and the proxy serves no Node.js host, while the YAML host
it serves (pulumi-yaml v1.25.0) has no `Link`. So each step it takes is taken apart: the schema
comes from the plugin through `pulumi package get-schema`, the Node.js SDK from the CLI release's
own generator, and the project records the package in `packages:`, as `package add` writes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from components import constants as c
from e2e.harness.engine import Engine
from e2e.harness.kube import child_env, run_bounded
from e2e.harness.programs import CACHE_DIR, require

TYPESCRIPT_DIR = Path(__file__).resolve().parents[1] / "typescript"
NPM_TIMEOUT_SECONDS = 600
COMPONENT = f"{c.PROJECT}:index:FluxObservability"
COMPONENT_NAME = "flux-observability"


def yaml_project(directory: Path, plugin_dir: Path, changed: dict[str, Any] | None = None) -> Path:
    """The dev stack's configuration (stacks/Pulumi.dev.yaml) as a YAML program, the cluster and
    chart repository taken from the stack's config; `changed` replaces some of its arguments."""
    directory.mkdir(parents=True, exist_ok=True)
    repository = "${chartRepository}"
    project = {
        "name": "fluxcd-otel-yaml-consumer",
        "runtime": "yaml",
        "packages": {c.PROJECT: str(plugin_dir)},
        "config": {"kubeconfigPath": {"type": "string"}, "chartRepository": {"type": "string"},
                   "fluxNamespace": {"type": "string", "default": c.FLUX_NAMESPACE}},
        "resources": {
            "cluster": {"type": "pulumi:providers:kubernetes", "properties": {"kubeconfig": "${kubeconfigPath}"}},
            COMPONENT_NAME: {
                "type": f"{c.PROJECT}:FluxObservability",
                "properties": {
                    "clusterName": "dev",
                    "mode": "collector",
                    "exporter": {"type": "debug", "verbosity": "basic"},
                    "flux": {"namespace": "${fluxNamespace}"},
                    "gateway": {"replicas": 1, "scrapeInterval": "30s", "chartRepository": repository},
                    "objectHealth": {"chartRepository": repository},
                    "alerts": {"enabled": False},
                    "dashboards": {"enabled": False},
                    **(changed or {}),
                },
                "options": {"providers": ["${cluster}"]},
            },
        },
        "outputs": {"traceServiceName": f"${{{COMPONENT_NAME}.traceServiceName}}"},
    }
    (directory / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return directory


def npm_dependencies() -> Path:
    """node_modules of e2e/typescript/package.json, installed once per version of that file.
    `--ignore-scripts`: @pulumi/kubernetes' install script would download the provider plugin."""
    digest = hashlib.sha256((TYPESCRIPT_DIR / "package.json").read_bytes()).hexdigest()[:12]
    home = CACHE_DIR / f"typescript-consumer-{digest}"
    if not (home / "ok").exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TYPESCRIPT_DIR / "package.json", home / "package.json")
        result = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=home,
                                capture_output=True, text=True, timeout=NPM_TIMEOUT_SECONDS)
        if result.returncode != 0:
            raise AssertionError(f"npm install in {home} failed:\n{result.stdout}\n{result.stderr}")
        (home / "ok").write_text("")
    return home / "node_modules"


def _link_modules(installed: Path, into: Path) -> None:
    """A node_modules whose packages are links to `installed`, with a real `@pulumi` scope, so the
    generated SDK can sit beside them and share their one copy of @pulumi/pulumi."""
    into.mkdir(parents=True)
    for entry in installed.iterdir():
        if entry.name == "@pulumi":
            (into / entry.name).mkdir()
            for package in entry.iterdir():
                (into / entry.name / package.name).symlink_to(package)
        else:
            (into / entry.name).symlink_to(entry)


class TypeScriptProgram:
    """e2e/typescript compiled in `directory` against the SDK generated from `plugin`'s schema."""

    def __init__(self, directory: Path, engine: Engine, plugin: Path) -> None:
        self.directory = directory
        self.engine = engine
        self.plugin = plugin
        modules = directory / "node_modules"
        _link_modules(npm_dependencies(), modules)
        schema = directory / "schema.json"
        schema.write_text(engine.run("package", "get-schema", str(plugin)).stdout)
        sdk = modules / "@pulumi" / c.PROJECT
        self._run([str(require("pulumi-nodejs-sdkgen")), str(schema), str(sdk)])
        # The SDK's own install step: tsc, then package.json beside the output for its version.
        self._run(["node", "scripts/postinstall.js"], cwd=sdk)
        for name in ("index.ts", "tsconfig.json"):
            shutil.copyfile(TYPESCRIPT_DIR / name, directory / name)
        self._run(["tsc", "-p", "tsconfig.json"])

    def _run(self, argv: list[str], cwd: Path | None = None) -> str:
        path = f"{self.directory / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}"
        result = run_bounded(argv, cwd=cwd or self.directory, timeout=300, env=child_env(PATH=path))
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def run(self, action: str, stack: str, config: dict[str, str]) -> dict[str, Any]:
        """`preview`, `up` or `destroy` of `stack`; the program's JSON result line."""
        settings = self.directory / f"{stack}-{action}.json"
        settings.write_text(json.dumps({
            "action": action, "project": "fluxcd-otel-typescript-consumer", "stack": stack,
            "workDir": str(self.directory / "project"), "cliRoot": str(Path(self.engine.cli).parent.parent),
            "pluginDir": str(self.plugin.parent), "envVars": self.engine.env, "config": config,
        }))
        (self.directory / "project").mkdir(exist_ok=True)
        return json.loads(self._run(["node", "bin/index.js", str(settings)]).splitlines()[-1])
