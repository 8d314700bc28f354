"""The container runtime of the kubelet stand-in (e2e/harness/controllers.py): a pod whose every image is a
program built here (IMAGES) runs as processes, from its pod spec as the API server holds it.

- Network: a namespace of the pod's own, holding its IP; Services and their names through
  e2e/harness/network.py.
- Each container: a mount namespace and a root of its own (a tmpfs) holding the built binary at
  the image's entrypoint, the pod's volumes at their mount paths (ConfigMaps, Secrets and the
  projected ServiceAccount token as files, emptyDirs, hostPaths and claims as directories under
  the stand-in node's root), /etc/hosts and /etc/resolv.conf of the pod, /proc and /dev; read-only
  when the container's securityContext says so; started with `chroot` as the container's user
  (its runAsUser, else the image's USER), with the command, args and env the kubelet would give
  it: `$(VAR)` expanded, field, resource, Secret and ConfigMap references resolved, and the
  `kubernetes` Service's address.
- Output: each line written as containerd writes it (CRI format, `ContainerOutput`) to the node's
  `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restarts>.log`, where the log agent's
  hostPath mount reads it.
- Readiness: the container's readiness probe (httpGet or tcpSocket), run inside the pod's network;
  a container without one is ready once started. A container that exits is started again after
  RESTART_SECONDS, its restart counted, as restartPolicy Always does.

What is left out, and why it does not matter to what runs here: image layers (the binary is the
image's only file the programs use; kustomize-controller's `tini` entrypoint is skipped), liveness
and startup probes, resource limits (only read into env), the user namespace, seccomp and
capabilities. Requires root (namespaces, mounts, chroot).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import shlex
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from components import constants as c
from e2e.harness.collector import rfc3339_nano
from e2e.harness.kube import LOOPBACK, STOP_TIMEOUT_SECONDS, ApiServer
from e2e.harness.network import PodNetwork, Services, tool
from e2e.harness.programs import FLUX_CONTROLLERS, FLUX_IMAGE_REGISTRY, PROGRAMS, binary_path, built

RESTART_SECONDS = 5
PROBE_TIMEOUT_SECONDS = 1
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def pod_logs_dir(node: Path) -> Path:
    """The node's /var/log/pods, where containers' output is written and the log agent reads it."""
    return node / "var" / "log" / "pods"


@dataclass(frozen=True)
class Image:
    """What of an image a process needs: the program built here at the image's tag, where the
    image has it, its entrypoint's arguments and its USER and ENV."""

    program: str
    entrypoint: str
    user: int
    arguments: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()

    @property
    def tag(self) -> str:
        return PROGRAMS[self.program].version


# The images' Dockerfiles: Flux's controllers (e.g. fluxcd/source-controller@v1.9.3:Dockerfile:
# the binary in /usr/local/bin, USER 65534:65534; kustomize-controller also sets GNUPGHOME=/tmp);
# kube-state-metrics (kubernetes/kube-state-metrics@v2.20.0:Dockerfile: /kube-state-metrics
# --port=8080 --telemetry-port=8081, USER nobody); the collector's k8s distribution (the chart
# names its command, /otelcol-k8s; USER 10001).
IMAGES = {
    c.COLLECTOR_IMAGE_REPOSITORY: Image("otelcol", "/otelcol-k8s", 10001),
    f"{c.KSM_IMAGE_REGISTRY}/{c.KSM_IMAGE_REPOSITORY}": Image(
        "kube-state-metrics", "/kube-state-metrics", c.KSM_UID, ("--port=8080", "--telemetry-port=8081")),
    **{f"{FLUX_IMAGE_REGISTRY}/{name}": Image(
        name, f"/usr/local/bin/{name}", 65534, env=(("GNUPGHOME", "/tmp"),) if name == "kustomize-controller" else ())
       for name in FLUX_CONTROLLERS},
}


def image_of(container: dict[str, Any]) -> tuple[Image | None, str]:
    """The container's Image, or None when no program here is that image, and its tag."""
    repository, _, tag = container["image"].rpartition(":")
    return IMAGES.get(repository), tag


def missing_images(pod: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(container, image, why) for each container whose image is one of IMAGES at a tag not built
    here: a pin that moved without its build, which must show, not pass as a pod with nothing in it."""
    missing = []
    for container in pod["spec"]["containers"]:
        image, tag = image_of(container)
        if image is not None and (tag != image.tag or not built(image.program)):
            missing.append((container["name"], container["image"],
                            f"{image.program} is built here at {image.tag}" if tag != image.tag
                            else f"{image.program} {image.tag} is not built: python -m e2e.build {image.program}"))
    return missing


def runnable(pod: dict[str, Any]) -> bool:
    """Whether every container of the pod is one of IMAGES, built here at its tag."""
    return not pod["spec"].get("initContainers") and not missing_images(pod) and all(
        image_of(container)[0] is not None for container in pod["spec"]["containers"])


def quantity(value: str) -> int:
    """A resource quantity as a whole number (bytes, or cores rounded up), as resourceFieldRef
    gives it with the default divisor of 1."""
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in suffixes.items():
        if value.endswith(suffix):
            return int(float(value[: -len(suffix)]) * factor)
    if value.endswith("m"):
        return -(-int(value[:-1]) // 1000)
    return int(float(value))


def expand(text: str, env: dict[str, str]) -> str:
    """`$(VAR)` replaced by VAR's value when defined; `$$` is a literal `$` (the kubelet's
    expansion of command, args and env values)."""
    out, index = [], 0
    while index < len(text):
        if text.startswith("$$", index):
            out.append("$")
            index += 2
        elif text.startswith("$(", index) and (end := text.find(")", index)) != -1 and text[index + 2:end] in env:
            out.append(env[text[index + 2:end]])
            index = end + 1
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


class ContainerOutput:
    """A container's stdout and stderr, each line written to its pod log file in the CRI format
    (`<RFC 3339 time> <stream> F <line>`) as containerd writes it, at
    `<pods>/<namespace>_<pod>_<uid>/<container>/<restarts>.log`. Give the child `stdout` and
    `stderr`, then call `started()`."""

    def __init__(self, pods: Path, namespace: str, pod: str, container: str = c.FLUX_CONTAINER_NAME, *,
                 uid: str | None = None, restarts: int = 0) -> None:
        self.path = Path(pods) / f"{namespace}_{pod}_{uid or uuid.uuid4()}" / container / f"{restarts}.log"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a")
        self._lock = threading.Lock()
        self._pipes = {stream: os.pipe() for stream in ("stdout", "stderr")}
        self._threads = [threading.Thread(target=self._copy, args=(stream, read), daemon=True)
                         for stream, (read, _) in self._pipes.items()]

    @property
    def stdout(self) -> int:
        return self._pipes["stdout"][1]

    @property
    def stderr(self) -> int:
        return self._pipes["stderr"][1]

    def started(self) -> None:
        """The child holds the write ends now; ours are closed, so each pipe ends with the child."""
        for _, write in self._pipes.values():
            os.close(write)
        for thread in self._threads:
            thread.start()

    def _copy(self, stream: str, read: int) -> None:
        with os.fdopen(read, "r", errors="replace") as lines:
            for line in lines:
                with self._lock:
                    self._file.write(f"{rfc3339_nano(time.time_ns())} {stream} F {line.rstrip(chr(10))}\n")
                    self._file.flush()

    def close(self) -> None:
        for thread in self._threads:
            if thread.ident is not None:
                thread.join(timeout=10)
        self._file.close()

    def lines(self) -> list[str]:
        """The container's lines as it wrote them (the CRI prefix taken off)."""
        return [line.split(" ", 3)[3] for line in self.path.read_text().splitlines()]


@dataclass
class Container:
    """A container of a running pod: its spec, its process and output now, its restarts."""

    spec: dict[str, Any]
    process: subprocess.Popen | None = None
    log: ContainerOutput | None = None
    restarts: int = 0
    started_at: str = ""
    exited_at: float = 0.0
    last_exit: dict[str, Any] | None = None


@dataclass
class RunningPod:
    """A pod's network and containers, and the directory that holds its volumes."""

    pod: dict[str, Any]
    network: PodNetwork
    directory: Path
    containers: list[Container] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.pod["metadata"]["uid"]


class Runtime:
    """Runs pods whose images are built here, under the node's root `node`."""

    def __init__(self, kube: ApiServer, node: Path, services: Services) -> None:
        self.kube = kube
        self.node = node
        self.services = services
        self.pods_dir = pod_logs_dir(node)
        self.running: dict[str, RunningPod] = {}

    # --- what the kubelet reads from the API server ------------------------------------------------
    def _object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        result = self.kube.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found",
                                   check=False)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def _data(self, kind: str, namespace: str, name: str) -> dict[str, str] | None:
        """A ConfigMap's or Secret's data as text, or None when it does not exist."""
        found = self._object(kind, namespace, name)
        if found is None:
            return None
        if kind == "secret":
            return {key: base64.b64decode(value).decode() for key, value in (found.get("data") or {}).items()}
        return dict(found.get("data") or {})

    def _token(self, pod: dict[str, Any], expiration: int) -> str:
        """A token for the pod's ServiceAccount, bound to the pod (TokenRequest), as the kubelet
        asks for a projected serviceAccountToken."""
        metadata = pod["metadata"]
        return self.kube.kubectl(
            "create", "token", pod["spec"].get("serviceAccountName", "default"), "-n", metadata["namespace"],
            "--bound-object-kind=Pod", f"--bound-object-name={metadata['name']}",
            # The API server issues no token shorter than 10 minutes.
            f"--bound-object-uid={metadata['uid']}", f"--duration={max(expiration, 600)}s").stdout.strip()

    def field_value(self, pod: dict[str, Any], path: str, ip: str) -> str:
        """A fieldRef's value; the pod's IP is the one its network holds (the status is patched
        after the pod starts)."""
        metadata = pod["metadata"]
        if path.startswith(("metadata.labels['", "metadata.annotations['")):
            group, key = path[len("metadata."):].split("['", 1)
            return metadata.get(group, {}).get(key.rstrip("']"), "")
        values = {"metadata.name": metadata["name"], "metadata.namespace": metadata["namespace"],
                  "metadata.uid": metadata["uid"], "spec.nodeName": pod["spec"].get("nodeName", ""),
                  "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
                  "status.podIP": ip, "status.podIPs": ip, "status.hostIP": LOOPBACK, "status.hostIPs": LOOPBACK}
        return values[path]

    # --- volumes --------------------------------------------------------------------------------------
    def _files(self, directory: Path, data: dict[str, str], items: list[dict[str, Any]] | None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for key, path in ([(item["key"], item["path"]) for item in items] if items else [(k, k) for k in data]):
            target = directory / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(data[key])
            target.chmod(0o644)

    def _volume(self, pod: dict[str, Any], volume: dict[str, Any], directory: Path, ip: str) -> Path | None:
        """The volume's content at `directory` (or the host path it is); None while a source it
        needs does not exist yet."""
        namespace = pod["metadata"]["namespace"]
        if "emptyDir" in volume:
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o777)
            return directory
        if "hostPath" in volume:
            host = self.node / volume["hostPath"]["path"].lstrip("/")
            host.mkdir(parents=True, exist_ok=True)
            return host
        if "persistentVolumeClaim" in volume:
            claim = self.node / "claims" / namespace / volume["persistentVolumeClaim"]["claimName"]
            claim.mkdir(parents=True, exist_ok=True)
            claim.chmod(0o777)
            return claim
        sources = volume["projected"]["sources"] if "projected" in volume else [volume]
        for source in sources:
            for kind in ("configMap", "secret"):
                if kind in source:
                    spec = source[kind]
                    name = spec.get("name") or spec.get("secretName")
                    data = self._data(kind.lower(), namespace, name)
                    if data is None:
                        if spec.get("optional"):
                            continue
                        return None
                    self._files(directory, data, spec.get("items"))
            if "serviceAccountToken" in source:
                token = source["serviceAccountToken"]
                self._files(directory, {"token": self._token(pod, token.get("expirationSeconds", 3600))},
                            [{"key": "token", "path": token["path"]}])
            if "downwardAPI" in source:
                items = source["downwardAPI"]["items"]
                self._files(directory, {item["path"]: self.field_value(pod, item["fieldRef"]["fieldPath"], ip)
                                        for item in items}, None)
        return directory

    # --- env ------------------------------------------------------------------------------------------
    def _env(self, pod: dict[str, Any], container: dict[str, Any], image: Image, ip: str) -> dict[str, str] | None:
        namespace = pod["metadata"]["namespace"]
        api_host, api_port = "10.0.0.1", "443"  # the `kubernetes` Service (first IP of SERVICE_CIDR)
        env = {"PATH": DEFAULT_PATH, "HOSTNAME": pod["metadata"]["name"], **dict(image.env),
               "KUBERNETES_SERVICE_HOST": api_host, "KUBERNETES_SERVICE_PORT": api_port,
               "KUBERNETES_SERVICE_PORT_HTTPS": api_port, "KUBERNETES_PORT": f"tcp://{api_host}:{api_port}"}
        for source in container.get("envFrom", []):
            kind = "configmap" if "configMapRef" in source else "secret"
            ref = source.get("configMapRef") or source.get("secretRef")
            data = self._data(kind, namespace, ref["name"])
            if data is None and not ref.get("optional"):
                return None
            env.update({source.get("prefix", "") + key: value for key, value in (data or {}).items()})
        for variable in container.get("env", []):
            if "value" in variable:
                env[variable["name"]] = expand(variable["value"], env)
                continue
            source = variable.get("valueFrom", {})
            if "fieldRef" in source:
                env[variable["name"]] = self.field_value(pod, source["fieldRef"]["fieldPath"], ip)
            elif "resourceFieldRef" in source:
                group, resource = source["resourceFieldRef"]["resource"].split(".")
                amount = container.get("resources", {}).get(group, {}).get(resource)
                env[variable["name"]] = str(quantity(amount)) if amount else "0"
            else:
                kind = "secret" if "secretKeyRef" in source else "configmap"
                ref = source.get("secretKeyRef") or source.get("configMapKeyRef")
                data = self._data(kind, namespace, ref["name"])
                if data is None or ref["key"] not in data:
                    if ref.get("optional"):
                        continue
                    return None
                env[variable["name"]] = data[ref["key"]]
        return env

    # --- processes -------------------------------------------------------------------------------------
    def _user(self, pod: dict[str, Any], container: dict[str, Any], image: Image) -> str:
        pod_context, context = pod["spec"].get("securityContext") or {}, container.get("securityContext") or {}
        uid = context.get("runAsUser", pod_context.get("runAsUser", image.user))
        gid = context.get("runAsGroup", pod_context.get("runAsGroup", uid))
        groups = [str(g) for g in [pod_context.get("fsGroup"), *pod_context.get("supplementalGroups", [])] if g]
        return f"--userspec={uid}:{gid}" + (f" --groups={','.join(groups)}" if groups else "")

    def _script(self, root: Path, mounts: list[tuple[Path, str, bool]], binary: Path, image: Image,
                read_only: bool, user: str) -> str:
        """The shell that, in the container's new mount namespace, builds its root and execs the
        entrypoint as the container's user; the container's argv follows as "$@"."""
        q = shlex.quote
        lines = ["set -e", f"mount -t tmpfs tmpfs {q(str(root))}"]
        for target in ("proc", "dev"):
            lines += [f"mkdir -p {q(str(root / target))}", f"mount --rbind /{target} {q(str(root / target))}"]
        entries = [(source, destination, only) for source, destination, only in mounts]
        entries.append((binary, image.entrypoint, True))
        for source, destination, only in sorted(entries, key=lambda entry: entry[1]):
            target = q(str(root / destination.lstrip("/")))
            make = f"mkdir -p {target}" if source.is_dir() else f"mkdir -p $(dirname {target}) && touch {target}"
            lines += [make, f"mount --bind {q(str(source))} {target}"]
            if only:
                lines.append(f"mount -o remount,bind,ro {target}")
        if read_only:
            lines.append(f"mount -o remount,ro {q(str(root))}")
        lines.append(f"exec chroot {user} {q(str(root))} \"$@\"")
        return "\n".join(lines)

    def _start(self, running: RunningPod, container: Container) -> bool:
        """Starts the container; False while something it needs (a ConfigMap, a Secret, a key)
        does not exist yet."""
        pod, spec = running.pod, container.spec
        image, _ = image_of(spec)
        assert image is not None
        ip = running.network.ip
        volumes = {}
        for volume in pod["spec"].get("volumes", []):
            path = self._volume(pod, volume, running.directory / "volumes" / volume["name"], ip)
            if path is None:
                return False
            volumes[volume["name"]] = path
        env = self._env(pod, spec, image, ip)
        if env is None:
            return False
        mounts = [(volumes[mount["name"]] / mount.get("subPath", ""), mount["mountPath"], bool(mount.get("readOnly")))
                  for mount in spec.get("volumeMounts", [])]
        mounts += [(running.directory / "etc" / name, f"/etc/{name}", True) for name in ("hosts", "resolv.conf")]
        command = [expand(part, env) for part in spec.get("command") or [image.entrypoint, *image.arguments]]
        argv = command + [expand(part, env) for part in spec.get("args", [])]
        root = running.directory / "roots" / f"{spec['name']}-{container.restarts}"
        root.mkdir(parents=True)
        read_only = bool((spec.get("securityContext") or {}).get("readOnlyRootFilesystem"))
        script = self._script(root, mounts, binary_path(image.program), image, read_only,
                              self._user(pod, spec, image))
        metadata = pod["metadata"]
        container.log = ContainerOutput(self.pods_dir, metadata["namespace"], metadata["name"], spec["name"],
                                        uid=metadata["uid"], restarts=container.restarts)
        container.process = subprocess.Popen(
            [tool("nsenter"), f"--net={running.network.netns}", "--", tool("unshare"), "--mount",
             "--propagation", "private", "--", tool("sh"), "-c", script, "sh", *argv],
            stdout=container.log.stdout, stderr=container.log.stderr, env=env, start_new_session=True)
        container.log.started()
        container.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return True

    def start(self, pod: dict[str, Any], ip: str) -> bool:
        """Starts the pod's network and containers; False (nothing left running) while a
        ConfigMap, Secret or key a container needs does not exist."""
        metadata = pod["metadata"]
        directory = self.node / "var" / "lib" / "kubelet" / "pods" / metadata["uid"]
        (directory / "etc").mkdir(parents=True, exist_ok=True)
        namespace = metadata["namespace"]
        (directory / "etc" / "resolv.conf").write_text(
            f"nameserver 127.0.0.1\nsearch {namespace}.svc.cluster.local svc.cluster.local cluster.local\n"
            "options ndots:5\n")
        (directory / "etc" / "hosts").touch()
        running = RunningPod(pod, PodNetwork(ip), directory,
                             [Container(spec) for spec in pod["spec"]["containers"]])
        self.services.add_pod(running.network, namespace, directory / "etc" / "hosts")
        for container in running.containers:
            if not self._start(running, container):
                self._stop(running, grace=0)
                return False
        self.running[running.key] = running
        return True

    def _stop_container(self, container: Container, grace: float) -> None:
        process = container.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_SECONDS)
        if container.log is not None:
            container.log.close()

    def _stop(self, running: RunningPod, grace: float) -> None:
        for container in running.containers:
            self._stop_container(container, grace)
        self.services.remove_pod(running.network.ip)
        running.network.close()

    def stop(self, uid: str) -> None:
        """Stops the pod's containers within its grace period, then its network."""
        running = self.running.pop(uid, None)
        if running is not None:
            grace = running.pod["spec"].get("terminationGracePeriodSeconds", 30)
            self._stop(running, min(grace, STOP_TIMEOUT_SECONDS))

    def close(self) -> None:
        for uid in list(self.running):
            self.stop(uid)

    # --- status ---------------------------------------------------------------------------------------
    def _ready(self, running: RunningPod, container: Container) -> bool:
        probe = container.spec.get("readinessProbe")
        if probe is None:
            return True
        action = probe.get("httpGet") or probe.get("tcpSocket")
        if action is None:
            return True  # exec probes: nothing here runs a command inside the container
        port = action["port"]
        if isinstance(port, str):
            port = next(p["containerPort"] for p in container.spec.get("ports", []) if p.get("name") == port)
        try:
            sock = running.network.connect(port, action.get("host"))
        except OSError:
            return False
        sock.settimeout(PROBE_TIMEOUT_SECONDS)
        if "tcpSocket" in probe:
            sock.close()
            return True
        connection = http.client.HTTPConnection(running.network.ip, port, timeout=PROBE_TIMEOUT_SECONDS)
        connection.sock = sock
        try:
            connection.request("GET", action.get("path", "/"))
            return 200 <= connection.getresponse().status < 400
        except OSError:
            return False
        finally:
            connection.close()

    def status(self, uid: str) -> list[dict[str, Any]]:
        """Each container's status; restarts what exited, RESTART_SECONDS after it did."""
        running = self.running[uid]
        statuses = []
        for container in running.containers:
            spec, process = container.spec, container.process
            assert process is not None
            code = process.poll()
            if code is not None and not container.exited_at:
                container.exited_at = time.monotonic()
                container.last_exit = {"terminated": {"exitCode": code, "reason": "Error" if code else "Completed",
                                                      "startedAt": container.started_at}}
            if container.exited_at and time.monotonic() - container.exited_at >= RESTART_SECONDS:
                self._stop_container(container, 0)
                container.restarts += 1
                container.exited_at = 0.0
                self._start(running, container)
                code = None
            status: dict[str, Any] = {"name": spec["name"], "image": spec["image"], "imageID": "",
                                      "restartCount": container.restarts}
            if container.last_exit:
                status["lastState"] = container.last_exit
            if code is None and not container.exited_at:
                status.update(started=True, ready=self._ready(running, container),
                              state={"running": {"startedAt": container.started_at}})
            else:
                status.update(started=False, ready=False, state={"waiting": {"reason": "CrashLoopBackOff"}})
            statuses.append(status)
        return statuses
