"""The upstream programs the real tier runs, each pinned once, and where their binaries live.

Programs the package deploys take their versions from `components.constants`, so the tier always
runs what the stacks ship; the rest (the API server under test, its etcd) are pinned here.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from components import constants

E2E_DIR = Path(__file__).resolve().parents[1]
OTELCOL_MANIFEST = E2E_DIR / "otelcol-builder.yaml"
CACHE_DIR = Path(os.environ.get("FLUXCD_OTEL_CACHE", Path.home() / ".cache" / "fluxcd-otel"))

KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.16"
# Flux's controllers, built from their modules (each wrapper copies the module's remote replace
# directives). Flux 2.9.4 ships notification-controller v1.9.3 and kustomize-controller v1.9.4
# (fluxcd/flux2@v2.9.4 manifests/bases); helm-controller v1.6.4 is Flux 2.9.5's (v1.6.3 replaces
# helm with a fork the proxy refuses); source-controller v1.9.3 is Flux 2.9.2 and 2.9.3's (v1.9.4 and v1.9.5
# need fluxcd/pkg/artifact v0.18.2 and v0.18.3, whose module zips the proxy refuses).
FLUX_CONTROLLERS = {
    "source-controller": ("github.com/fluxcd/source-controller", "v1.9.3"),
    "kustomize-controller": ("github.com/fluxcd/kustomize-controller", "v1.9.4"),
    "helm-controller": ("github.com/fluxcd/helm-controller", "v1.6.4"),
    "notification-controller": ("github.com/fluxcd/notification-controller", "v1.9.3"),
}
NOTIFICATION_CONTROLLER_VERSION = FLUX_CONTROLLERS["notification-controller"][1]
# How `flux install` lays the controllers out: Flux 2.9.4's manifests (manifests/bases: each
# controller's ServiceAccount and the patches on its Deployment; manifests/rbac), read from the
# flux2 module, and where its images are (manifests/install/kustomization.yaml: images).
FLUX_DISTRIBUTION = ("github.com/fluxcd/flux2/v2", "v2.9.4")
FLUX_IMAGE_REGISTRY = "ghcr.io/fluxcd"
# The modules whose config/crd/bases hold Flux's CRDs: the four controllers above and the optional
# image controllers and source-watcher, which the proxy serves at these versions (Flux 2.9's).
FLUX_CRD_MODULES = {
    **dict(FLUX_CONTROLLERS.values()),
    "github.com/fluxcd/image-reflector-controller": "v1.2.4",
    "github.com/fluxcd/image-automation-controller": "v1.2.4",
    "github.com/fluxcd/source-watcher/v2": "v2.2.3",
}
KUBE_STATE_METRICS_VERSION = constants.KSM_IMAGE_TAG
# The OCI registry the real-Flux scenarios pull an OCI chart from (the newest release the proxy serves).
REGISTRY_VERSION = "v3.1.2"
# The backend the alert rules and dashboard queries are judged by: Prometheus 3.16 (module versions
# v0.3xx.y are Prometheus 3.xx) with its OTLP receiver; the web UI's assets are not built.
PROMETHEUS_VERSION = "v0.316.0"
# Perses' own CLI, whose `lint` checks a dashboard as Perses reads it (structure only: the plugins'
# schemas are in no module or package served here).
PERSES_VERSION = "v0.52.0"
# The Pulumi engine: pkg/v3 v3.271.0 to v3.273.0 are refused by the proxy; v3.274.0 is the nearest
# served release to the Python SDK pin (requirements.txt: pulumi==3.272.0), which it can run.
PULUMI_VERSION = "v3.274.0"
# The proxy serves provider/v4 only at this pseudo-version, which is the commit of tag v4.25.0
# (pulumi/pulumi-kubernetes@v4.25.0); the Python SDK pin is moved to match it.
KUBERNETES_PROVIDER_VERSION = "4.25.0"
KUBERNETES_PROVIDER_MODULE_VERSION = "v4.0.0-20260115033456-f47bc2d6f199"
# The YAML language host: the newest release of github.com/pulumi/pulumi-yaml the proxy serves
# (it lists v1.11.1 and v1.25.0). The proxy serves no Python or Node.js language host.
PULUMI_YAML_VERSION = "v1.25.0"


@dataclass(frozen=True)
class GoProgram:
    """A binary built from a Go module through a wrapper module of our own."""

    name: str
    module: str
    version: str
    package: str
    ldflags: tuple[str, ...] = ()
    # Modules whose own go.mod replaces them with local paths: each gets this module's version,
    # with the leading "v1." of Kubernetes releases mapped to the staging modules' "v0.".
    staging_replaces_from: str | None = None
    copy_remote_replaces: bool = False
    unlisted_checksums: tuple[str, ...] = ()
    """Modules the proxy serves but its checksum database mirror does not list (lookups answer
    404); they are taken from the proxy without that second check (GONOSUMDB)."""

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class CollectorBuild:
    """The collector built with the OpenTelemetry Collector Builder from our manifest."""

    name: str = "otelcol"
    version: str = constants.COLLECTOR_IMAGE_TAG
    unlisted_checksums: tuple[str, ...] = tuple(
        f"github.com/open-telemetry/opentelemetry-collector-contrib/{path}"
        for path in ("receiver/k8sobjectsreceiver", "extension/k8sleaderelector", "internal/k8sinventory",
                     "internal/k8sleaderelectortest", "pkg/xk8stest")
    )

    @property
    def key(self) -> str:
        digest = hashlib.sha256(OTELCOL_MANIFEST.read_bytes()).hexdigest()[:12]
        return f"{self.name}-{self.version}-{digest}"


@dataclass(frozen=True)
class KubernetesProviderBuild:
    """The Pulumi Kubernetes provider plugin. Its main package embeds a schema that upstream's
    `go generate` writes from the module's schema.json, so the wrapper runs the module's own
    generator and builds a main of ours that serves the provider."""

    name: str = "pulumi-resource-kubernetes"
    version: str = KUBERNETES_PROVIDER_VERSION
    module: str = "github.com/pulumi/pulumi-kubernetes/provider/v4"
    module_version: str = KUBERNETES_PROVIDER_MODULE_VERSION

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


@dataclass(frozen=True)
class NodejsSdkGeneratorBuild:
    """The Node.js SDK code generator of the CLI's own release (pkg/v3 `codegen/nodejs`) behind a
    main of ours, since `pulumi package add` hands SDK generation to the Node.js language host,
    which the proxy does not serve."""

    name: str = "pulumi-nodejs-sdkgen"
    version: str = PULUMI_VERSION
    module: str = "github.com/pulumi/pulumi/pkg/v3"

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def _kubernetes_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    base = "k8s.io/component-base/version"
    return (f"-X {base}.gitVersion={version}", f"-X {base}.gitMajor={major}", f"-X {base}.gitMinor={minor}")


Program = GoProgram | CollectorBuild | KubernetesProviderBuild | NodejsSdkGeneratorBuild

PROGRAMS: dict[str, Program] = {
    "otelcol": CollectorBuild(),
    "etcd": GoProgram("etcd", "go.etcd.io/etcd/server/v3", ETCD_VERSION, "go.etcd.io/etcd/server/v3"),
    "kube-apiserver": GoProgram(
        "kube-apiserver",
        "k8s.io/kubernetes",
        KUBERNETES_VERSION,
        "k8s.io/kubernetes/cmd/kube-apiserver",
        ldflags=_kubernetes_ldflags(KUBERNETES_VERSION),
        staging_replaces_from="k8s.io/kubernetes",
    ),
    # The deployment, ReplicaSet, garbage-collector, namespace and endpoints controllers, which
    # the engine tier's rollouts and deletions wait on.
    "kube-controller-manager": GoProgram(
        "kube-controller-manager",
        "k8s.io/kubernetes",
        KUBERNETES_VERSION,
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        ldflags=_kubernetes_ldflags(KUBERNETES_VERSION),
        staging_replaces_from="k8s.io/kubernetes",
    ),
    # The client the tests apply objects with (server-side apply, tokens, auth checks).
    "kubectl": GoProgram(
        "kubectl",
        "k8s.io/kubernetes",
        KUBERNETES_VERSION,
        "k8s.io/kubernetes/cmd/kubectl",
        ldflags=_kubernetes_ldflags(KUBERNETES_VERSION),
        staging_replaces_from="k8s.io/kubernetes",
    ),
    "kube-state-metrics": GoProgram(
        "kube-state-metrics", "k8s.io/kube-state-metrics/v2", KUBE_STATE_METRICS_VERSION,
        "k8s.io/kube-state-metrics/v2",
        unlisted_checksums=("k8s.io/kube-state-metrics/v2", "k8s.io/sample-controller"),
    ),
    "pulumi": GoProgram(
        "pulumi",
        "github.com/pulumi/pulumi/pkg/v3",
        PULUMI_VERSION,
        "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        ldflags=(f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={PULUMI_VERSION}",),
        copy_remote_replaces=True,
    ),
    "pulumi-resource-kubernetes": KubernetesProviderBuild(),
    "pulumi-language-yaml": GoProgram(
        "pulumi-language-yaml",
        "github.com/pulumi/pulumi-yaml",
        PULUMI_YAML_VERSION,
        "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml",
        ldflags=(f"-X github.com/pulumi/pulumi-yaml/pkg/version.Version={PULUMI_YAML_VERSION}",),
    ),
    "pulumi-nodejs-sdkgen": NodejsSdkGeneratorBuild(),
    "registry": GoProgram("registry", "github.com/distribution/distribution/v3", REGISTRY_VERSION,
                          "github.com/distribution/distribution/v3/cmd/registry", copy_remote_replaces=True),
    "prometheus": GoProgram(
        "prometheus",
        "github.com/prometheus/prometheus",
        PROMETHEUS_VERSION,
        "github.com/prometheus/prometheus/cmd/prometheus",
        ldflags=(f"-X github.com/prometheus/common/version.Version={PROMETHEUS_VERSION}",),
        copy_remote_replaces=True,
    ),
    "percli": GoProgram("percli", "github.com/perses/perses", PERSES_VERSION, "github.com/perses/perses/cmd/percli",
                        copy_remote_replaces=True),
    **{
        name: GoProgram(name, module, version, module, copy_remote_replaces=True)
        for name, (module, version) in FLUX_CONTROLLERS.items()
    },
}


def module_dir(module: str, version: str) -> Path:
    """The module's source in the Go module cache, downloaded through the proxy if missing."""
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], capture_output=True, text=True,
                         env=dict(os.environ, GOFLAGS="-mod=mod"), cwd=CACHE_DIR if CACHE_DIR.exists() else None)
    if out.returncode != 0:
        raise FileNotFoundError(f"go mod download {module}@{version} failed: {out.stdout}{out.stderr}")
    return Path(json.loads(out.stdout)["Dir"])


def flux_crds() -> list[Path]:
    """Flux's CRD manifests, as its controllers' modules ship them."""
    return sorted(
        path for module, version in FLUX_CRD_MODULES.items()
        for path in (module_dir(module, version) / "config" / "crd" / "bases").glob("*.yaml")
    )


def binary_path(name: str) -> Path:
    program = PROGRAMS[name]
    return CACHE_DIR / program.key / "bin" / name


def built(name: str) -> bool:
    return (CACHE_DIR / PROGRAMS[name].key / "ok").exists() and binary_path(name).exists()


def require(name: str) -> Path:
    """The program's binary, or a failure that names the command that builds it."""
    if not built(name):
        raise FileNotFoundError(
            f"{name} {PROGRAMS[name].version} is not built in {CACHE_DIR}; run: .venv/bin/python -m e2e.build {name}"
        )
    return binary_path(name)
