"""Build the real tier's upstream programs from their Go modules, cached by version.

    python -m e2e.build [program ...]     (all of them by default)

Everything comes through the Go module proxy; a program already built is a stamp check.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from e2e.harness.programs import (
    CACHE_DIR,
    OTELCOL_MANIFEST,
    PROGRAMS,
    CollectorBuild,
    GoProgram,
    KubernetesProviderBuild,
    NodejsSdkGeneratorBuild,
    binary_path,
    built,
    module_dir,
)

GO_VERSION_FLOOR = (1, 26)


class BuildError(RuntimeError):
    pass


def _go_env(gobin: Path | None = None, unlisted_checksums: tuple[str, ...] = ()) -> dict:
    env = dict(os.environ, CGO_ENABLED="0", GOTOOLCHAIN="local", GOFLAGS="-mod=mod -buildvcs=false")
    if gobin:
        env["GOBIN"] = str(gobin)
    if unlisted_checksums:
        env["GONOSUMDB"] = ",".join(unlisted_checksums)
    return env


def _run(cmd: list[str], cwd: Path, log: Path, env: dict) -> str:
    with log.open("a") as sink:
        sink.write(f"$ {' '.join(cmd)}\n")
        sink.flush()
        result = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sink.write(result.stdout)
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-25:])
        raise BuildError(f"`{' '.join(cmd)}` failed in {cwd} (full log: {log}):\n{tail}")
    return result.stdout


def check_go() -> None:
    if not shutil.which("go"):
        raise BuildError("Go is not on the PATH; install Go 1.26 or newer (https://go.dev/doc/install)")
    out = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    found = tuple(int(part) for part in re.findall(r"\d+", out)[:2])
    if found < GO_VERSION_FLOOR:
        raise BuildError(f"Go {out} is too old; the pinned programs need go1.{GO_VERSION_FLOOR[1]} or newer")


def _module_gomod(module: str, version: str, work: Path, log: Path) -> str:
    out = _run(["go", "mod", "download", "-json", f"{module}@{version}"], work, log, _go_env())
    return Path(json.loads(out)["GoMod"]).read_text()


def _replace_lines(gomod: str) -> list[tuple[str, str]]:
    """(left side, right side) of every replace directive in a go.mod text."""
    pairs = []
    for block in re.findall(r"^replace\s*\((.*?)^\)", gomod, flags=re.S | re.M):
        pairs += [tuple(part.strip() for part in line.split("=>")) for line in block.splitlines() if "=>" in line]
    pairs += [tuple(part.strip() for part in m.split("=>")) for m in re.findall(r"^replace\s+([^(\n].*)$", gomod, re.M)]
    return pairs


def _wrapper_replaces(module: str, version: str, work: Path, log: Path, *, staging: bool = False,
                      remote: bool = False) -> list[str]:
    """The module's replace directives as its wrapper needs them: `staging`, each local one by the
    module's version (Kubernetes' staging modules); `remote`, each non-local one copied."""
    if not (staging or remote):
        return []
    lines = []
    for left, right in _replace_lines(_module_gomod(module, version, work, log)):
        local = right.startswith(".")
        if staging and local:
            staging_version = re.sub(r"^v1\.", "v0.", version)
            lines.append(f"{left.split()[0]} => {left.split()[0]} {staging_version}")
        elif remote and not local:
            lines.append(f"{left} => {right}")
    return lines


def _wrapper_gomod(name: str, replaces: list[str]) -> str:
    gomod = f"module fluxcd-otel.e2e/{name}\n\ngo 1.26\n"
    if replaces:
        gomod += "\nreplace (\n" + "".join(f"\t{line}\n" for line in replaces) + ")\n"
    return gomod


def build_go_program(program: GoProgram, home: Path, log: Path) -> None:
    work = home / "wrapper"
    work.mkdir(parents=True, exist_ok=True)
    replaces = _wrapper_replaces(program.module, program.version, work, log,
                                 staging=bool(program.staging_replaces_from), remote=program.copy_remote_replaces)
    (work / "go.mod").write_text(_wrapper_gomod(program.name, replaces))
    env = _go_env(unlisted_checksums=program.unlisted_checksums)
    _run(["go", "get", f"{program.package}@{program.version}"], work, log, env)
    cmd = ["go", "build", "-trimpath", "-o", str(binary_path(program.name))]
    if program.ldflags:
        cmd += ["-ldflags", " ".join(program.ldflags)]
    _run(cmd + [program.package], work, log, env)


def build_collector(program: CollectorBuild, home: Path, log: Path) -> None:
    tools = home / "tools"
    _run(["go", "install", f"go.opentelemetry.io/collector/cmd/builder@v{program.version}"], home, log, _go_env(tools))
    manifest = yaml.safe_load(OTELCOL_MANIFEST.read_text())
    manifest["dist"].update(output_path=str(home / "src"), version=program.version)
    generated = home / "manifest.yaml"
    generated.write_text(yaml.safe_dump(manifest, sort_keys=False))
    _run([str(tools / "builder"), "--config", str(generated)], home, log,
         _go_env(unlisted_checksums=program.unlisted_checksums))
    binary_path(program.name).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(home / "src" / manifest["dist"]["name"], binary_path(program.name))


PROVIDER_MAIN = """// Serves the Kubernetes provider with the schema the module's generator wrote beside this file.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
"""


def build_kubernetes_provider(program: KubernetesProviderBuild, home: Path, log: Path) -> None:
    work = home / "wrapper"
    work.mkdir(parents=True, exist_ok=True)
    # The provider module replaces its SDK with a local path; the SDK of the same release stands in.
    sdk = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
    (work / "go.mod").write_text(_wrapper_gomod(program.name, [f"{sdk} => {sdk} v{program.version}"]))
    (work / "main.go").write_text(PROVIDER_MAIN)
    env = _go_env()
    _run(["go", "get", f"{program.module}/pkg/provider@{program.module_version}",
          f"{program.module}/pkg/version@{program.module_version}"], work, log, env)
    source = module_dir(program.module, program.module_version) / "cmd" / program.name
    for name in ("schema.json", "terraform-mapping.json", "generate.go"):
        shutil.copyfile(source / name, work / name)
    _run(["go", "run", "generate.go"], work, log, dict(env, VERSION=program.version))
    _run(["go", "build", "-trimpath", "-o", str(binary_path(program.name)), "-ldflags",
          f"-X {program.module}/pkg/version.Version={program.version}", "."], work, log, env)


# One Go source, written as two Python strings only so that no line is longer than 120 characters.
NODEJS_SDKGEN_MAIN = (
    """// Writes the Node.js SDK of a package schema: pulumi-nodejs-sdkgen SCHEMA.json OUT_DIR
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noDependencies refuses every other package: the schema refers to none.
type noDependencies struct{}

func (noDependencies) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s is not available", name)
}

func (noDependencies) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s is not available", d.Name)
}

func (noDependencies) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s is not available", name)
}

func (noDependencies) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) """
    """(schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s is not available", d.Name)
}

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: %s SCHEMA.json OUT_DIR", os.Args[0]))
	}
	raw, err := os.ReadFile(os.Args[1])
	fail(err)
	var spec schema.PackageSpec
	fail(json.Unmarshal(raw, &spec))
	pkg, diags, err := schema.BindSpec(spec, noDependencies{}, schema.ValidationOptions{})
	fail(err)
	if diags.HasErrors() {
		fail(diags)
	}
	files, err := nodejs.GeneratePackage("pulumi-nodejs-sdkgen", pkg, nil, nil, true, noDependencies{})
	fail(err)
	for name, data := range files {
		path := filepath.Join(os.Args[2], name)
		fail(os.MkdirAll(filepath.Dir(path), 0o755))
		fail(os.WriteFile(path, data, 0o644))
	}
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"""
)


def build_nodejs_sdk_generator(program: NodejsSdkGeneratorBuild, home: Path, log: Path) -> None:
    work = home / "wrapper"
    work.mkdir(parents=True, exist_ok=True)
    # pkg/v3's remote replace directives (atotto/clipboard), as for the CLI.
    replaces = _wrapper_replaces(program.module, program.version, work, log, remote=True)
    (work / "go.mod").write_text(_wrapper_gomod(program.name, replaces))
    (work / "main.go").write_text(NODEJS_SDKGEN_MAIN)
    env = _go_env()
    _run(["go", "get", f"{program.module}/codegen/nodejs@{program.version}",
          f"{program.module}/codegen/schema@{program.version}"],
         work, log, env)
    _run(["go", "build", "-trimpath", "-o", str(binary_path(program.name)), "."], work, log, env)


def build(name: str) -> float:
    program = PROGRAMS[name]
    home = CACHE_DIR / program.key
    if built(name):
        print(f"{name} {program.version}: cached ({binary_path(name)})", flush=True)
        return 0.0
    home.mkdir(parents=True, exist_ok=True)
    log = home / "build.log"
    log.write_text("")
    print(f"{name} {program.version}: building (log: {log}) ...", flush=True)
    started = time.monotonic()
    if isinstance(program, CollectorBuild):
        build_collector(program, home, log)
    elif isinstance(program, KubernetesProviderBuild):
        build_kubernetes_provider(program, home, log)
    elif isinstance(program, NodejsSdkGeneratorBuild):
        build_nodejs_sdk_generator(program, home, log)
    else:
        build_go_program(program, home, log)
    elapsed = time.monotonic() - started
    (home / "ok").write_text(f"{elapsed:.0f}s\n")
    print(f"{name} {program.version}: built in {elapsed:.0f} s", flush=True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.build", description=__doc__.splitlines()[0])
    parser.add_argument("programs", nargs="*", metavar="program", help=f"any of: {', '.join(PROGRAMS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.programs) - set(PROGRAMS))
    if unknown:
        parser.error(f"unknown program {', '.join(unknown)}; choose from {', '.join(PROGRAMS)}")
    try:
        check_go()
        started = time.monotonic()
        for name in args.programs or PROGRAMS:
            build(name)
    except BuildError as error:
        print(f"e2e.build: {error}", file=sys.stderr)
        return 1
    print(f"all built in {time.monotonic() - started:.0f} s; cache: {CACHE_DIR}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
