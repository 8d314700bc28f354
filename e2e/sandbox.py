"""A Kubernetes control plane with Flux running, on this machine, to try the package without a
cluster:

    .venv/bin/python -m e2e.sandbox

It builds what it needs once from Go modules (etcd, kube-apiserver, kube-controller-manager,
kubectl, Flux's controllers, the collector and kube-state-metrics; e2e/build.py), starts them on
loopback, installs Flux as `flux install` would and runs its four default controllers, prints a
kubeconfig path, and runs until Ctrl-C, when it stops everything and deletes its data. Pods whose
images are built here run as real processes (e2e/harness/controllers.py and e2e/harness/pods.py say how), so after
`pulumi up` of a stack the gateway, the log agent and kube-state-metrics run too, and what they
deliver shows in the gateway's output under the printed pod logs directory (the dev stack's debug
exporter). It also serves the packaged charts the package deploys on a loopback chart repository
(e2e/harness/charts.py), so `pulumi up` needs no chart repository from the internet.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

from components import constants as c
from e2e import build
from e2e.harness.charts import ChartRepository
from e2e.harness.controllers import flux_cluster, node_root
from e2e.harness.pods import pod_logs_dir
from e2e.harness.programs import FLUX_CONTROLLERS

PROGRAMS = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl", *FLUX_CONTROLLERS, "otelcol",
            "kube-state-metrics")
READY = "sandbox ready"
CHARTS = "chart repository"
POD_LOGS = "pod logs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m e2e.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", type=Path, help="also write the admin kubeconfig here")
    args = parser.parse_args(argv)
    if build.main(list(PROGRAMS)) != 0:
        return 1
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    workdir = Path(tempfile.mkdtemp(prefix="fluxcd-otel-sandbox-"))
    try:
        with flux_cluster(workdir) as kube, ChartRepository(workdir / "charts") as charts:
            kubeconfig = kube.admin_kubeconfig
            if args.kubeconfig:
                shutil.copyfile(kubeconfig, args.kubeconfig)
                kubeconfig = args.kubeconfig.resolve()
            print(f"{READY}: {kube.url}, Flux installed and running\n"
                  f"kubeconfig: {kubeconfig}\n"
                  f"{CHARTS}: {charts.url}\n"
                  f"{POD_LOGS}: {pod_logs_dir(node_root(kube))}\n"
                  "in another shell, for a stack:\n"
                  f"  pulumi config set kubernetes:kubeconfig {kubeconfig} --stack <stack>\n"
                  f"  pulumi config set --path {c.PROJECT}:gateway.chartRepository {charts.url} --stack <stack>\n"
                  f"  pulumi config set --path {c.PROJECT}:objectHealth.chartRepository {charts.url} --stack <stack>\n"
                  "Ctrl-C stops it and deletes its data", flush=True)
            stop.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
