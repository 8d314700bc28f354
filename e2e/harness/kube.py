"""A real Kubernetes control plane on loopback: etcd and kube-apiserver, as controller-runtime's
envtest starts them, with certificates made for the run, RBAC on and Pod Security admission in
force. No kubelet: pods are admitted (or refused) but never run. Also what goes to it from a
render: `rendered_manifest` (a rendered resource as the provider sends it) and `kubeconfig_auth`
(a rendered collector config's `k8s_objects` receivers reading a kubeconfig instead).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import yaml

from components import constants as c
from components.tooling.render import masked
from e2e.harness.programs import require

LOOPBACK = "127.0.0.1"
# Generous: a cold API server on a busy 2-core machine takes ~10-20 s to serve every API group.
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15
SERVICE_CIDR = "10.0.0.0/24"
NAMESPACE_GONE_SECONDS = 30
# Flux applies its own manifests with server-side apply under this manager, forcing ownership
# (fluxcd/pkg ssa ResourceManager.apply: client.ForceOwnership), with these labels on every object
# of the install (fluxcd/flux2 manifests/install).
FLUX_MANAGER = "kustomize-controller"
FLUX_INSTALL_LABELS = {"app.kubernetes.io/instance": c.FLUX_NAMESPACE, "app.kubernetes.io/part-of": "flux"}


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2):
    """Polls `predicate` until it returns a truthy value; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - retried until the deadline, then reported
            last_error = error
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_error})" if last_error else "")
    )


class Process:
    """A child process whose output goes to a file, stopped with SIGTERM then SIGKILL. With
    `output`, its stdout and stderr go there instead (e.g. e2e.pods.ContainerOutput,
    which lays them out as a kubelet does), and `log_path` is that output's file."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict | None = None,
                 output: Any = None) -> None:
        self.name = name
        if output is None:
            self.log_path = log_dir / f"{name}.log"
            self._log = self.log_path.open("ab")
            stdout, stderr = self._log, subprocess.STDOUT
        else:
            self.log_path, self._log = output.path, output
            stdout, stderr = output.stdout, output.stderr
        self.popen = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
        if output is not None:
            output.started()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(STOP_TIMEOUT_SECONDS)
        self._log.close()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path) -> None:
    """CA, serving certificate for 127.0.0.1/localhost, admin client certificate
    (O=system:masters) and the service-account signing key."""
    if not shutil.which("openssl"):
        raise FileNotFoundError("openssl is not on the PATH; install it: apt-get install -y openssl")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
             "-days", "2", "-subj", "/CN=fluxcd-otel-e2e-ca", cwd=directory)
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    (directory / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, subject, ext in (
        ("server", "/CN=kube-apiserver", "server.ext"),
        ("admin", "/O=system:masters/CN=e2e-admin", "client.ext"),
    ):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", subject, cwd=directory)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", "-extfile", ext, cwd=directory)
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)


def kubeconfig(server: str, ca: Path, *, user: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": "e2e", "user": user}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e"}}],
        "current-context": "e2e",
    }


@dataclass
class ApiServer:
    """A running control plane: its URL, an admin kubeconfig, and helpers to use it."""

    url: str
    workdir: Path
    admin_kubeconfig: Path
    ca: Path

    def kubectl(self, *args: str, kubeconfig_path: Path | None = None, stdin: str | None = None,
                check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """kubectl against this server; its discovery and HTTP cache stay in the workdir (never the
        shared ~/.kube/cache)."""
        argv = [str(require("kubectl")), f"--kubeconfig={kubeconfig_path or self.admin_kubeconfig}", *args]
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout,
                                env=child_env(KUBECACHEDIR=str(self.workdir / "kube-cache")))
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def apply(self, objects: list[dict[str, Any]], *, field_manager: str = "fluxcd-otel-e2e",
              force_conflicts: bool = False, check: bool = True) -> subprocess.CompletedProcess:
        """Server-side apply, as the Pulumi Kubernetes provider does."""
        args = ["apply", "--server-side", f"--field-manager={field_manager}", "-f", "-"]
        if force_conflicts:
            args.append("--force-conflicts")
        return self.kubectl(*args, stdin=yaml.safe_dump_all(objects, sort_keys=True), check=check)

    def apply_with_status(self, objects: list[dict[str, Any]], *, field_manager: str) -> None:
        """Applies the objects, then writes each status through the status subresource, as a
        controller does (a status in the object itself is dropped by the API server)."""
        self.apply([{k: v for k, v in obj.items() if k != "status"} for obj in objects], field_manager=field_manager)
        statuses = [{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "status": obj["status"],
                     "metadata": {"name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"]}}
                    for obj in objects if "status" in obj]
        if statuses:
            self.kubectl("apply", "--server-side", "--subresource=status", f"--field-manager={field_manager}",
                         "-f", "-", stdin=yaml.safe_dump_all(statuses, sort_keys=True))

    def get(self, *args: str, kubeconfig_path: Path | None = None) -> dict[str, Any]:
        return json.loads(self.kubectl("get", *args, "-o", "json", kubeconfig_path=kubeconfig_path).stdout)

    def live(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        """The object `manifest` names as the API server holds it, or None."""
        result = self.kubectl("get", *kubectl_target(manifest), "-o", "json", "--ignore-not-found", check=False)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def create(self, obj: dict[str, Any], *, check: bool = True) -> subprocess.CompletedProcess:
        return self.kubectl("create", "-f", "-", stdin=json.dumps(obj), check=check)

    def delete(self, objects: list[dict[str, Any]]) -> None:
        """Deletes the objects, last first, without waiting (nothing runs to finalize them)."""
        if objects:
            self.kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-",
                         stdin=yaml.safe_dump_all(list(reversed(objects))))

    def delete_namespace(self, name: str) -> None:
        """Deletes an emptied namespace and finalizes it (PUT /api/v1/namespaces/<name>/finalize),
        as the namespace controller of the absent kube-controller-manager would; waits until it is
        gone."""
        def exists() -> bool:
            return bool(self.kubectl("get", "namespace", name, "--ignore-not-found").stdout)

        if not exists():
            return
        self.kubectl("delete", "namespace", name, "--wait=false")
        namespace = self.get("namespace", name)
        namespace["spec"]["finalizers"] = []
        self.kubectl("replace", "--raw", f"/api/v1/namespaces/{name}/finalize", "-f", "-", stdin=json.dumps(namespace))
        wait_until(lambda: not exists(), timeout=NAMESPACE_GONE_SECONDS, what=f"namespace {name} to be gone")

    def service_account_kubeconfig(self, namespace: str, name: str, path: Path) -> Path:
        """A kubeconfig holding a token the API server issued for the ServiceAccount (TokenRequest)."""
        token = self.kubectl("create", "token", name, "-n", namespace, "--duration=1h").stdout.strip()
        path.write_text(yaml.safe_dump(kubeconfig(self.url, self.ca, user={"token": token})))
        return path

    def crds_established(self, names: list[str]) -> None:
        wait_until(
            lambda: self.kubectl("wait", "--for=condition=Established", "--timeout=5s",
                                 *[f"crd/{name}" for name in names], check=False).returncode == 0,
            timeout=60, what=f"CRDs {', '.join(names)} to be established",
        )


def kubectl_target(obj: dict[str, Any]) -> list[str]:
    """`kind.group name [-n namespace]`: how kubectl names the object `obj` describes."""
    metadata = obj["metadata"]
    api_version = obj["apiVersion"]
    kind = obj["kind"].lower() + (f".{api_version.split('/')[0]}" if "/" in api_version else "")
    return [kind, metadata["name"]] + (["-n", metadata["namespace"]] if metadata.get("namespace") else [])


# A rendered Helm release has no manifest of its own (its chart is out of reach here).
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def contains(live_value: Any, rendered_value: Any) -> bool:
    """Whether the live object holds every field the render set (the server adds defaults)."""
    if isinstance(rendered_value, dict):
        return isinstance(live_value, dict) and all(contains(live_value.get(k), v) for k, v in rendered_value.items())
    if isinstance(rendered_value, list):
        return (isinstance(live_value, list) and len(live_value) == len(rendered_value)
                and all(contains(a, b) for a, b in zip(live_value, rendered_value)))
    return live_value == rendered_value or str(live_value) == str(rendered_value)


def first_difference(got: Any, want: Any, path: str = "", names: tuple[str, str] = ("live", "rendered")) -> str:
    """Where two values first differ, each named (`names`: what `got` and `want` are)."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want), key=str):
            if got.get(key) != want.get(key):
                return first_difference(got.get(key), want.get(key), f"{path}.{key}", names)
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for index, (a, b) in enumerate(zip(got, want)):
            if a != b:
                return first_difference(a, b, f"{path}[{index}]", names)
    return f"{path or '.'}: {names[0]} {got!r}, {names[1]} {want!r}"


def api_version_and_kind(resource_type: str) -> tuple[str, str]:
    """`kubernetes:apps/v1:DeploymentPatch` -> (`apps/v1`, `Deployment`); `core/v1` is `v1`."""
    _, group_version, kind = resource_type.split(":")
    return group_version.removeprefix("core/"), kind.removesuffix("Patch")


def rendered_manifest(resource) -> dict[str, Any]:
    """The object the Pulumi Kubernetes provider sends for a rendered resource: its inputs
    (secrets revealed), whose apiVersion/kind must be those of its type."""
    body = masked(resource.inputs, reveal=True)
    api_version, kind = api_version_and_kind(resource.type)
    assert (body["apiVersion"], body["kind"]) == (api_version, kind), resource.type
    return body


def kubeconfig_auth(collector_config: dict[str, Any]) -> dict[str, Any]:
    """Outside a pod there is no in-cluster ServiceAccount: every rendered `k8s_objects` receiver
    (`auth_type: serviceAccount`) of the collector config is switched to the kubeconfig the
    collector finds in KUBECONFIG. Changes the config in place and returns it."""
    for receiver_id, receiver in collector_config.get("receivers", {}).items():
        if receiver_id.split("/", 1)[0] == c.Component.K8S_OBJECTS_RECEIVER:
            assert receiver["auth_type"] == "serviceAccount", receiver_id
            receiver["auth_type"] = "kubeConfig"
    return collector_config


def _ready(url: str, context: ssl.SSLContext) -> bool:
    with urllib.request.urlopen(f"{url}/readyz", context=context, timeout=5) as response:
        return response.status == 200


@contextmanager
def control_plane(workdir: Path | None = None) -> Iterator[ApiServer]:
    """Starts etcd and kube-apiserver on loopback; stops both (and removes their data) on exit."""
    etcd_binary, apiserver_binary = require("etcd"), require("kube-apiserver")
    require("kubectl")
    owned = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="fluxcd-otel-kube-"))
    certs = workdir / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    make_certificates(certs)
    etcd_port, etcd_peer_port, api_port = free_port(), free_port(), free_port()
    processes: list[Process] = []
    try:
        etcd = Process("etcd", [
            str(etcd_binary), f"--data-dir={workdir / 'etcd'}",
            f"--listen-client-urls=http://{LOOPBACK}:{etcd_port}",
            f"--advertise-client-urls=http://{LOOPBACK}:{etcd_port}",
            f"--listen-peer-urls=http://{LOOPBACK}:{etcd_peer_port}",
            f"--initial-advertise-peer-urls=http://{LOOPBACK}:{etcd_peer_port}",
            f"--initial-cluster=default=http://{LOOPBACK}:{etcd_peer_port}",
            "--unsafe-no-fsync",
        ], workdir)
        processes.append(etcd)
        url = f"https://{LOOPBACK}:{api_port}"
        apiserver = Process("kube-apiserver", [
            str(apiserver_binary),
            f"--etcd-servers=http://{LOOPBACK}:{etcd_port}",
            f"--bind-address={LOOPBACK}", f"--advertise-address={LOOPBACK}", f"--secure-port={api_port}",
            f"--tls-cert-file={certs / 'server.crt'}", f"--tls-private-key-file={certs / 'server.key'}",
            f"--client-ca-file={certs / 'ca.crt'}",
            f"--service-account-issuer={url}",
            f"--service-account-key-file={certs / 'sa.pub'}",
            f"--service-account-signing-key-file={certs / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            # PodSecurity and the rest of the default admission chain stay on.
            "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity",
            f"--cert-dir={certs}",
        ], workdir)
        processes.append(apiserver)
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        context.load_cert_chain(str(certs / "admin.crt"), str(certs / "admin.key"))

        def ready() -> bool:
            for process in processes:
                if not process.alive():
                    raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
            return _ready(url, context)

        wait_until(ready, timeout=START_TIMEOUT_SECONDS, what=f"kube-apiserver at {url}/readyz")
        admin = workdir / "admin.kubeconfig"
        admin.write_text(yaml.safe_dump(kubeconfig(url, certs / "ca.crt", user={
            "client-certificate": str(certs / "admin.crt"), "client-key": str(certs / "admin.key"),
        })))
        server = ApiServer(url=url, workdir=workdir, admin_kubeconfig=admin, ca=certs / "ca.crt")
        # The default ServiceAccount is made by kube-controller-manager, which does not run here.
        wait_until(lambda: server.kubectl("get", "namespace", "default", check=False).returncode == 0,
                   timeout=60, what="the default namespace")
        yield server
    finally:
        for process in reversed(processes):
            process.stop()
        if owned:
            shutil.rmtree(workdir, ignore_errors=True)


def descendants(pid: int) -> list[int]:
    """The process IDs below `pid`, parents before children, from /proc (a child that started a
    session of its own is still found by its parent ID)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL for `pid` and every process below it, children first."""
    for target in [*reversed(descendants(pid)), pid]:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_bounded(argv: list[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess:
    """subprocess.run, except that a timeout kills everything the command started (plugins, the
    language runtime), not only the command itself."""
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.PIPE if "input" in kwargs else None,
                          **{k: v for k, v in kwargs.items() if k != "input"}) as process:
        try:
            stdout, stderr = process.communicate(kwargs.get("input"), timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def child_env(**extra: str) -> dict[str, str]:
    """The test process's environment without proxies (everything is on loopback)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env.update(extra)
    return env
