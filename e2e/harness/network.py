"""Pod networking for the kubelet stand-in (e2e/harness/pods.py): what the container runtime's network
plugin, kube-proxy and cluster DNS give pods in a cluster, on loopback only.

- `PodNetwork`: a network namespace of the pod's own, held by a `sleep` process as the pause
  container holds a pod's. Its only interface is its own loopback, which holds the pod's IP; so
  each pod listens on its ports as in a cluster (Flux's controllers all bind `:8080`) and none
  collide with another or with the host.
- `Services`: in each pod's namespace, what kube-proxy's rules do: a connection to a Service's
  cluster IP and port is redirected (nftables DNAT, as kube-proxy's nftables mode does; a `local`
  route makes the service range routable) to a listener on the namespace's 127.0.0.1 at a port
  of the Service port's own (PROXY_PORTS), which forwards it to a ready endpoint of the Service:
  into that pod's namespace at its IP and target port, or, for the `kubernetes` Service, to the
  API server on the host's loopback. Listening at the cluster IP itself would collide with any
  pod that listens on all addresses at the Service's port, as Flux's controllers do on 8080. And each pod's /etc/hosts,
  naming every Service as cluster DNS would (`name` in its own namespace, `name.ns`, `name.ns.svc`,
  `name.ns.svc.cluster.local`), rewritten in place as Services come and go.

Requires root (namespaces), iproute2's `ip` and nftables' `nft`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

from e2e.harness.kube import SERVICE_CIDR, wait_until

CLONE_NEWNET = 0x40000000  # linux/sched.h
CLUSTER_DOMAIN = "cluster.local"
CONNECT_TIMEOUT_SECONDS = 5
# Below Linux's ephemeral range (32768-60999), so no outgoing connection of a pod holds one.
PROXY_PORTS = range(20000, 30000)
NAT_TABLE = "services"
_libc = ctypes.CDLL(None, use_errno=True)
T = TypeVar("T")


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} is not on the PATH; the kubelet stand-in needs it (util-linux, iproute2)")
    return found


def in_network(netns: Path, make: Callable[[], T]) -> T:
    """`make()`, run in a thread that joined the network namespace at `netns` (setns acts per
    thread); a socket it creates stays in that namespace wherever it is used afterwards."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            fd = os.open(netns, os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns {netns}")
            finally:
                os.close(fd)
            outcome["value"] = make()
        except BaseException as error:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class PodNetwork:
    """A pod's network namespace: loopback up, holding `ip`, with the service range local."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        self._holder = subprocess.Popen([tool("unshare"), "--net", "--", tool("sleep"), "infinity"],
                                        start_new_session=True)
        self.netns = Path(f"/proc/{self._holder.pid}/ns/net")
        ours = os.readlink("/proc/self/ns/net")
        wait_until(lambda: os.readlink(self.netns) != ours, timeout=10, what=f"the network namespace of pod {ip}")
        subprocess.run([tool("nsenter"), f"--net={self.netns}", "--", tool("sh"), "-c",
                        f"ip link set lo up && ip addr add {ip}/32 dev lo && ip route add local {SERVICE_CIDR} dev lo"],
                       check=True, capture_output=True)

    def redirect(self, rules: list[tuple[str, int, int]]) -> None:
        """Makes (cluster IP, port, proxy port) the namespace's only redirections, atomically."""
        lines = [f"ip daddr {ip} tcp dport {port} dnat to 127.0.0.1:{proxy}" for ip, port, proxy in rules]
        script = "\n".join([f"add table ip {NAT_TABLE}", f"delete table ip {NAT_TABLE}", f"table ip {NAT_TABLE} {{",
                             "  chain output {", "    type nat hook output priority -100; policy accept;",
                             *(f"    {line}" for line in lines), "  }", "}", ""])
        subprocess.run([tool("nsenter"), f"--net={self.netns}", "--", tool("nft"), "-f", "-"], input=script,
                       text=True, check=True, capture_output=True)

    def connect(self, port: int, host: str | None = None) -> socket.socket:
        return in_network(
            self.netns, lambda: socket.create_connection((host or self.ip, port), CONNECT_TIMEOUT_SECONDS)
        )

    def listen(self, host: str, port: int) -> socket.socket:
        def bound() -> socket.socket:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen()
            return sock
        return in_network(self.netns, bound)

    def close(self) -> None:
        self._holder.kill()
        self._holder.wait()


def _pump(source: socket.socket, target: socket.socket, on_chunk: Callable[[int], None] | None = None) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
            if on_chunk is not None:
                on_chunk(len(data))
    except OSError:
        pass
    finally:
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def splice(client: socket.socket, upstream: socket.socket, on_sent: Callable[[int], None] | None = None) -> None:
    """Copies both ways until either side closes; closes both. `on_sent` is told the size of each
    chunk the client sends upstream."""
    threads = [threading.Thread(target=_pump, args=(client, upstream, on_sent), daemon=True),
               threading.Thread(target=_pump, args=(upstream, client), daemon=True)]
    for thread in threads:
        thread.start()

    def close_when_done() -> None:
        for thread in threads:
            thread.join()
        client.close()
        upstream.close()
    threading.Thread(target=close_when_done, daemon=True).start()


class Services:
    """The cluster's Services, as every running pod reaches and names them."""

    def __init__(self, api_server: tuple[str, int]) -> None:
        self.api_server = api_server
        self._lock = threading.Lock()
        # (cluster IP, port) -> the ready endpoints, as (pod IP, target port); None is the API server.
        self._routes: dict[tuple[str, int], list[tuple[str, int]] | None] = {}
        self._names: list[tuple[str, str, str]] = []  # (cluster IP, name, namespace)
        self._pods: dict[str, tuple[PodNetwork, str, Path]] = {}  # pod IP -> (network, namespace, hosts file)
        self._listeners: dict[tuple[str, str, int], socket.socket] = {}  # (pod IP, cluster IP, port)
        self._proxy_ports: dict[tuple[str, int], int] = {}  # (cluster IP, port) -> its proxy port

    def update(self, services: list[dict[str, Any]], endpoints: list[dict[str, Any]]) -> None:
        """Takes the Services and Endpoints as the API server holds them now."""
        ready: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item in endpoints:
            ready[(item["metadata"]["namespace"], item["metadata"]["name"])] = item.get("subsets") or []
        routes: dict[tuple[str, int], list[tuple[str, int]] | None] = {}
        names = []
        for service in services:
            metadata, spec = service["metadata"], service["spec"]
            cluster_ip = spec.get("clusterIP")
            if not cluster_ip or cluster_ip == "None":
                continue
            names.append((cluster_ip, metadata["name"], metadata["namespace"]))
            is_api = (metadata["namespace"], metadata["name"]) == ("default", "kubernetes")
            for port in spec.get("ports", []):
                routes[(cluster_ip, port["port"])] = None if is_api else [
                    (address["ip"], endpoint_port["port"])
                    for subset in ready.get((metadata["namespace"], metadata["name"]), [])
                    for endpoint_port in subset.get("ports", []) if endpoint_port.get("name") == port.get("name")
                    for address in subset.get("addresses", [])
                ]
        with self._lock:
            renamed = sorted(names) != self._names
            self._routes, self._names = routes, sorted(names)
            pods = list(self._pods)
        for pod_ip in pods:
            self._listen(pod_ip)
            if renamed:
                self._write_hosts(pod_ip)

    def add_pod(self, network: PodNetwork, namespace: str, hosts: Path) -> None:
        with self._lock:
            self._pods[network.ip] = (network, namespace, hosts)
        self._write_hosts(network.ip)
        self._listen(network.ip)

    def remove_pod(self, pod_ip: str) -> None:
        with self._lock:
            self._pods.pop(pod_ip, None)
            gone = [key for key in self._listeners if key[0] == pod_ip]
            sockets = [self._listeners.pop(key) for key in gone]
        for sock in sockets:
            sock.close()

    def close(self) -> None:
        for pod_ip in list(self._pods):
            self.remove_pod(pod_ip)

    def hosts_file(self, namespace: str) -> str:
        """What cluster DNS answers, as a hosts file, for a pod in `namespace`."""
        lines = ["127.0.0.1 localhost"]
        for cluster_ip, name, service_namespace in self._names:
            fqdn = f"{name}.{service_namespace}.svc.{CLUSTER_DOMAIN}"
            aliases = [fqdn, f"{name}.{service_namespace}.svc", f"{name}.{service_namespace}"]
            if service_namespace == namespace:
                aliases.append(name)
            lines.append(f"{cluster_ip} {' '.join(aliases)}")
        return "\n".join(lines) + "\n"

    def _write_hosts(self, pod_ip: str) -> None:
        with self._lock:
            _, namespace, path = self._pods[pod_ip]
            text = self.hosts_file(namespace)
        # Written in place: the container's /etc/hosts is a bind mount of this very file.
        with path.open("w") as hosts:
            hosts.write(text)

    def _listen(self, pod_ip: str) -> None:
        with self._lock:
            if pod_ip not in self._pods:
                return
            network = self._pods[pod_ip][0]
            for address in self._routes:
                self._proxy_ports.setdefault(address, PROXY_PORTS[len(self._proxy_ports)])
            wanted = {(pod_ip, *address) for address in self._routes}
            stale = [key for key in self._listeners if key[0] == pod_ip and key not in wanted]
            missing = wanted - set(self._listeners)
            for key in stale:
                self._listeners.pop(key).close()
            rules = sorted((ip, port, self._proxy_ports[(ip, port)]) for _, ip, port in wanted)
        for key in sorted(missing):
            sock = network.listen("127.0.0.1", self._proxy_ports[(key[1], key[2])])
            with self._lock:
                self._listeners[key] = sock
            threading.Thread(target=self._accept, args=(sock, (key[1], key[2])), daemon=True).start()
        if missing or stale:
            network.redirect(rules)

    def _accept(self, listener: socket.socket, address: tuple[str, int]) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: the Service or the pod is gone
            threading.Thread(target=self._forward, args=(client, address), daemon=True).start()

    def _forward(self, client: socket.socket, address: tuple[str, int]) -> None:
        """Connects `client` to a ready endpoint of the Service at `address`; with none that runs
        here, refuses it as kube-proxy does a Service without endpoints."""
        with self._lock:
            route = self._routes.get(address, [])
            endpoints = [(self._pods[ip][0], port) for ip, port in route or [] if ip in self._pods]
        try:
            if route is None:
                upstream = socket.create_connection(self.api_server, CONNECT_TIMEOUT_SECONDS)
            elif endpoints:
                network, port = endpoints[0]
                upstream = network.connect(port)
            else:
                client.close()
                return
        except OSError:
            client.close()
            return
        splice(client, upstream)
