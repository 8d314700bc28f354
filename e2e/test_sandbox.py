"""`python -m e2e.sandbox`, the README's way to try the package without a cluster: it comes up with
Flux's controllers running, rolls a DaemonSet out as the log agent's would be, and Ctrl-C stops it
and every process its pods ran."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from components import constants as c
from e2e.harness.charts import DEPLOYED
from e2e.harness.engine import ROOT
from e2e.harness.flux import rolled_out
from e2e.harness.kube import child_env, kill_tree, wait_until
from e2e.harness.programs import require
from e2e.sandbox import CHARTS, POD_LOGS, READY

START_SECONDS = 300
STOP_SECONDS = 60
NAMESPACE = "sandbox-check"
# What controller-runtime logs once the controller leads (Flux's controllers run with leader election).
LEADING = '"msg":"Successfully acquired lease"'


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    # Discovery cache beside the kubeconfig, never the shared ~/.kube/cache.
    result = subprocess.run([str(require("kubectl")), f"--kubeconfig={kubeconfig}", *args], input=stdin,
                            capture_output=True, text=True, timeout=60,
                            env=child_env(KUBECACHEDIR=str(kubeconfig.parent / "kube-cache")))
    assert result.returncode == 0, result.stderr
    return result.stdout


def pod_processes() -> list[str]:
    """Processes in a network namespace other than this test's (the host's): a pod's (its holder and its
    containers), none of which may outlive the sandbox."""
    host = os.readlink("/proc/self/ns/net")
    found = []
    for path in Path("/proc").iterdir():
        try:
            if path.name.isdigit() and os.readlink(path / "ns" / "net") != host:
                found.append(f"{path.name}: {(path / 'cmdline').read_bytes().replace(bytes(1), b' ').decode()}")
        except OSError:
            continue  # gone meanwhile
    return found


def daemon_set() -> dict:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NAMESPACE},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"containers": [{"name": "agent", "image": "example.invalid/agent:1"}]}}}}


def test_the_sandbox_serves_flux_rolls_workloads_out_and_stops_on_ctrl_c(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    sandbox = subprocess.Popen([sys.executable, "-m", "e2e.sandbox", "--kubeconfig", str(kubeconfig)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env())
    try:
        printed: list[str] = []
        assert sandbox.stdout is not None  # stdout=PIPE
        deadline = time.monotonic() + START_SECONDS
        while not any(line.startswith(POD_LOGS) for line in printed):
            remaining = deadline - time.monotonic()
            # The lines after READY come in the same write, already in the reader's buffer, where
            # select does not see them.
            ready = any(line.startswith(READY) for line in printed)
            assert ready or (remaining > 0 and select.select([sandbox.stdout], [], [], remaining)[0]), "".join(printed)
            line = sandbox.stdout.readline()
            assert line, "".join(printed)
            printed.append(line)
        url = next(line for line in printed if line.startswith(READY)).split(": ")[1].split(",")[0]
        charts = next(line for line in printed if line.startswith(CHARTS)).split(": ", 1)[1].strip()
        pod_logs = Path(next(line for line in printed if line.startswith(POD_LOGS)).split(": ", 1)[1].strip())
        with urllib.request.urlopen(f"{charts}/index.yaml", timeout=10) as response:
            index = yaml.safe_load(response.read())
        assert {name: [e["version"] for e in entries] for name, entries in index["entries"].items()} == \
            {name: [version] for name, version in DEPLOYED.items()}

        deployments = json.loads(
            kubectl(kubeconfig, "get", "deployments", "-n", c.FLUX_NAMESPACE, "-o", "json")
        )["items"]
        assert sorted(d["metadata"]["name"] for d in deployments) == sorted(c.FLUX_DEFAULT_CONTROLLERS)
        assert all(rolled_out(d) for d in deployments)
        # Each controller runs: it leads its own lease, as its output in the pod logs says.
        wait_until(lambda: all(any(LEADING in path.read_text() for path in pod_logs.glob(
            f"{c.FLUX_NAMESPACE}_{name}-*/{c.FLUX_CONTAINER_NAME}/*.log")) for name in c.FLUX_DEFAULT_CONTROLLERS),
                   timeout=60, what="each Flux controller to lead its lease")

        kubectl(kubeconfig, "create", "namespace", NAMESPACE)
        kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(daemon_set()))

        def agent_ready() -> bool:
            status = json.loads(
                kubectl(kubeconfig, "get", "daemonset", "agent", "-n", NAMESPACE, "-o", "json")
            )["status"]
            return status.get("desiredNumberScheduled") == status.get("numberReady") == 1

        wait_until(agent_ready, timeout=60, what="the DaemonSet to roll out")
    finally:
        sandbox.send_signal(signal.SIGINT)
        try:
            code = sandbox.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            kill_tree(sandbox.pid)  # its control plane's processes run in sessions of their own
            raise
    assert code == 0
    left = pod_processes()
    assert not left, f"processes of the sandbox's pods still running: {left}"
    refused = subprocess.run([str(require("kubectl")), f"--kubeconfig={kubeconfig}", "get", "--raw", "/readyz",
                              "--request-timeout=5s"], capture_output=True, text=True, env=child_env())
    assert refused.returncode != 0, f"{url} still answers"
