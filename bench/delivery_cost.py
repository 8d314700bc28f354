"""What the delivery figures cost per Flux object, where they cost: at the scrape of object health
and in the backend's recorded series.

    .venv/bin/python -m bench.delivery_cost [--objects 50]

Real programs, as in the real tier: an API server holding `--objects` each of GitRepositories,
Kustomizations (applying them), HelmReleases and the HelmCharts helm-controller makes for them,
with the statuses Flux writes for healthy objects (written here, since the cost is in the shape
of a status, which e2e/test_object_health.py checks, not in who wrote it); kube-state-metrics with the `prod` stack's
rendered configuration, once with the delivery figures off (`delivery.enabled: false`) and once
on; and a Prometheus that scrapes the second and evaluates the rendered `flux-delivery` group.
Prints, per kind and object, the series and the bytes of sample lines that object health serves
without and with them, and the recorded series per object in the backend with the samples they
add per hour at the default `delivery.interval`. Needs the built programs (python -m e2e.build).
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components import constants as c  # noqa: E402
from components.builders import delivery  # noqa: E402
from components.config import DeliverySettings, prometheus_duration_seconds  # noqa: E402
from e2e.harness.flux import install_crds  # noqa: E402
from e2e.harness.kube import LOOPBACK, ApiServer, control_plane, wait_until  # noqa: E402
from e2e.harness.kube_state_metrics import (  # noqa: E402
    LABEL,
    SAMPLE,
    TEXT_ACCEPT,
    health_release,
    rbac_objects,
    start_kube_state_metrics,
)
from e2e.harness.prometheus import EVALUATION_INTERVAL, Prometheus  # noqa: E402
from e2e.harness.render import by_kind, releases, run_stack  # noqa: E402

NAMESPACE = "apps"
KINDS = ("GitRepository", "Kustomization", "HelmChart", "HelmRelease")
WHEN = "2026-05-04T08:15:00Z"
SETTLE_SECONDS = 120
# Evaluations each recorded series gets per hour at the default interval.
PER_HOUR = 3600 // prometheus_duration_seconds(DeliverySettings().interval)


def ready() -> dict[str, Any]:
    return {"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded", "lastTransitionTime": WHEN,
            "message": "Applied", "observedGeneration": 1}


def flux_objects(count: int) -> list[dict[str, Any]]:
    """`count` GitRepositories, each applied by a Kustomization, and `count` HelmReleases with
    their HelmCharts, healthy."""
    resources = {r.kind: r for kinds in c.FLUX_RESOURCES_BY_CONTROLLER.values() for r in kinds}

    def obj(kind: str, name: str, spec: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        resource = resources[kind]
        return {"apiVersion": f"{resource.group}/{resource.version}", "kind": kind,
                "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec, "status": status}

    objects = []
    for index in range(count):
        name, revision = f"app-{index:04d}", f"main@sha1:{index:040x}"
        objects += [
            obj("GitRepository", name, {"interval": "1m", "url": f"https://git.example.com/{name}",
                                        "ref": {"branch": "main"}},
                {"conditions": [ready()], "artifact": {
                    "revision": revision, "digest": "sha256:" + "ab" * 32, "lastUpdateTime": WHEN,
                    "path": f"gitrepository/{NAMESPACE}/{name}/x.tar.gz", "size": 1024,
                    "url": f"http://source-controller/{name}.tar.gz"}}),
            obj("Kustomization", name, {"interval": "10m", "prune": True, "path": "./",
                                        "sourceRef": {"kind": "GitRepository", "name": name}},
                {"conditions": [ready()], "lastAppliedRevision": revision, "lastAttemptedRevision": revision}),
            obj("HelmChart", f"{NAMESPACE}-{name}", {"interval": "10m", "chart": "podinfo", "version": "6.7.x",
                                                     "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}},
                {"conditions": [ready()], "artifact": {
                    "revision": "6.7.1", "digest": "sha256:" + "ab" * 32, "lastUpdateTime": WHEN,
                    "path": f"helmchart/{NAMESPACE}/{name}/podinfo-6.7.1.tgz", "size": 1024,
                    "url": f"http://source-controller/{name}.tgz"}}),
            obj("HelmRelease", name, {"interval": "10m", "chart": {"spec": {
                "chart": "podinfo", "version": "6.7.x", "sourceRef": {"kind": "HelmRepository", "name": "podinfo"}}}},
                {"conditions": [ready()], "history": [{
                    "chartName": "podinfo", "chartVersion": "6.7.1", "configDigest": "sha256:" + "cd" * 32,
                    "digest": "sha256:" + "ef" * 32, "firstDeployed": WHEN, "lastDeployed": WHEN, "name": name,
                    "namespace": NAMESPACE, "status": "deployed", "version": 3}]}),
        ]
    return objects


def served(url: str) -> dict[str, tuple[int, int]]:
    """Per kind: the health series served for this namespace's objects, and the bytes of their sample lines."""
    request = urllib.request.Request(f"{url}{c.KSM_METRICS_PATH}", headers={"Accept": TEXT_ACCEPT})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    series: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for line in text.splitlines():
        match = SAMPLE.match(line) if line and not line.startswith("#") else None
        if not match or match.group(1) not in c.FLUX_HEALTH_METRICS:
            continue
        labels = dict(LABEL.findall(match.group(2) or ""))
        if labels.get("exported_namespace") == NAMESPACE:
            series[labels["kind"]] += 1
            size[labels["kind"]] += len(line.encode()) + 1
    return {kind: (series[kind], size[kind]) for kind in KINDS}


def object_health(kube: ApiServer, rendering, workdir: Path, count: int):
    """kube-state-metrics with the rendering's configuration, once it serves every object."""
    release = health_release(releases(rendering.resources))
    config = copy.deepcopy(release["values"]["customResourceState"]["config"])
    workdir.mkdir(parents=True, exist_ok=True)
    ksm = start_kube_state_metrics(kube, release, config, workdir)
    wait_until(lambda: all(n >= count for n, _ in served(ksm.url).values()), timeout=SETTLE_SECONDS,
               what="kube-state-metrics to serve every object", interval=1)
    return ksm


def recorded(prometheus: Prometheus) -> dict[str, int]:
    answer = prometheus.query(f'count by (__name__) ({{__name__=~"{delivery.PREFIX}:.+"}})')
    return {item["metric"]["__name__"]: int(float(item["value"][1])) for item in answer}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=50, help="of each kind (default 50)")
    count = parser.parse_args().objects
    with_them = run_stack("prod", secrets={"exportToken": "auth_bench"})
    without = run_stack("prod", secrets={"exportToken": "auth_bench"}, overrides={"delivery": {"enabled": False}})
    (rule,) = by_kind(with_them.resources, "PrometheusRule")
    (group,) = [g for g in rule["spec"]["groups"] if g["name"] == delivery.GROUP]
    group = {**group, "interval": EVALUATION_INTERVAL}
    workdir = Path(tempfile.mkdtemp(prefix="fluxcd-otel-delivery-cost-"))
    with control_plane(workdir / "kube") as kube:
        install_crds(kube)
        release = health_release(releases(with_them.resources))
        kube.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    for name in (release["namespace"], NAMESPACE)])
        kube.apply(rbac_objects(release))
        kube.apply_with_status(flux_objects(count), field_manager="fluxcd-otel-bench")
        ksm = object_health(kube, without, workdir / "without", count)
        before = served(ksm.url)
        ksm.process.stop()
        ksm = object_health(kube, with_them, workdir / "with", count)
        try:
            after = served(ksm.url)
            with Prometheus(workdir / "prometheus", [group], host=LOOPBACK,
                            scrape={"object-health": ksm.url.split("/")[2]}) as prometheus:
                # Kustomizations and HelmReleases each have one applied series once the rules saw them.
                wait_until(lambda: recorded(prometheus).get(delivery.APPLIED) == 2 * count, timeout=SETTLE_SECONDS,
                           what="the rules to record every object", interval=1)
                series = recorded(prometheus)
        finally:
            ksm.process.stop()
    print(f"Object health served per object ({count} of each kind), without and with the delivery figures:\n")
    print("| kind | series without | series with | bytes without | bytes with | bytes added per object |")
    print("|---|---|---|---|---|---|")
    for kind in KINDS:
        (n0, b0), (n1, b1) = before[kind], after[kind]
        print(f"| {kind} | {n0 / count:g} | {n1 / count:g} | {b0 / count:.0f} | {b1 / count:.0f} | "
              f"{(b1 - b0) / count:.0f} |")
    delivered = 2 * count
    print(f"\nRecorded series in the backend, {delivered} Kustomizations and HelmReleases, all healthy:\n")
    print(f"| series | series | per object | samples per object per hour at {DeliverySettings().interval} |")
    print("|---|---|---|---|")
    for name, number in sorted(series.items()):
        print(f"| `{name}` | {number} | {number / delivered:g} | {number / delivered * PER_HOUR:g} |")
    total = sum(series.values())
    print(f"| all | {total} | {total / delivered:g} | {total / delivered * PER_HOUR:g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
