"""How long each alert takes to fire on its real fault and to resolve after the fix:

    .venv/bin/python -m bench.detection [--runs 1]

Runs the real-Flux story of e2e/test_real_flux.py (real Flux controllers, the package's pipeline,
a real Prometheus evaluating the rendered rules with windows of 10-30 s) and prints, per alert,
the time from the fault (commit pushed, process stopped, Git host stalled) to firing and from the
fix to resolution, beside the floor the rule allows (`floor_seconds`) plus, at most, a scrape, a
batch and an evaluation interval for the fault to reach the rule. Faults that take a controller a
while to show (a build that fails, a clone that hangs) add that time. Alerts are timed from
Prometheus' own record: firing from the alert's `activeAt` plus its `for`, resolution from the last
`ALERTS` sample. Then the series each dashboard panel returned over the story (of the last run).
Needs root and the built programs (python -m e2e.build).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components import constants as c  # noqa: E402
from components.config import AlertSettings, prometheus_duration_seconds  # noqa: E402
from e2e.harness import real_flux as story  # noqa: E402
from e2e.harness.prometheus import EVALUATION_INTERVAL  # noqa: E402

EVALUATION_SECONDS = prometheus_duration_seconds(EVALUATION_INTERVAL)
ALERTS = AlertSettings.model_validate(story.ALERT_WINDOWS)
SCRAPE_SECONDS = prometheus_duration_seconds(story.SCRAPE_INTERVAL)
PIPELINE_SECONDS = SCRAPE_SECONDS + c.BATCH_TIMEOUT_SECONDS + EVALUATION_SECONDS


def floor_seconds(alerts: AlertSettings, alert: str, fault: str) -> int:
    """The least time the rule itself allows between a fault and firing: its `for`, plus the
    threshold of time the condition itself waits for (FluxWorkqueueStuck's processing time), or
    the time a slow reconciliation must have run (FluxReconcileSlow), or the range of
    absent_over_time (FluxControllerMetricsAbsent, which has no `for`), counted from
    the last sample, up to a scrape before the fault, and held back by nothing when the
    controller never reported."""
    seconds = prometheus_duration_seconds
    if alert == "FluxControllerMetricsAbsent":
        return 0 if fault.endswith(story.NEVER_RAN) else seconds(alerts.controller_absent.after) - SCRAPE_SECONDS
    if alert == "FluxWorkqueueStuck":
        return seconds(alerts.stuck_workqueue.after) + seconds(alerts.stuck_workqueue.sustained)
    if alert == "FluxReconcileSlow":
        # A reconciliation is counted when it ends, so a slow one has taken its threshold already.
        return seconds(alerts.slow_reconcile.threshold) + seconds(alerts.slow_reconcile.after)
    if alert == "FluxNotReconciling":
        # The window runs from the last reconciliation a scrape saw: up to one TICKING interval and
        # one scrape before the fault.
        return (seconds(alerts.not_reconciling.window) + seconds(alerts.not_reconciling.after)
                - seconds(story.TICKING) - SCRAPE_SECONDS)
    if alert.endswith("NotReady"):
        kind = alert.removeprefix("Flux").removesuffix("NotReady")
        return seconds(alerts.not_ready.per_kind.get(kind, alerts.not_ready.after))
    after = {"FluxObjectSuspended": alerts.suspended.after, "FluxControllerDown": alerts.controller_down.after,
             "FluxKustomizationBehindSource": alerts.behind_source.after,
             "FluxWorkersSaturated": alerts.workers_saturated.after,
             "FluxObjectHealthDown": alerts.object_health_down.after}[alert]
    return seconds(after)


def run_story(basetemp: Path) -> Path:
    """The story's working directory after one run of the module."""
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={basetemp}",
                    str(ROOT / "e2e" / "test_real_flux.py")], cwd=ROOT, check=True)
    found = sorted(basetemp.rglob(story.JUDGEMENT_FILE))
    if len(found) != 1:
        raise SystemExit(f"expected one {story.JUDGEMENT_FILE} under {basetemp}, found {found}")
    return found[0].parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="how many times to run the story (default 1)")
    args = parser.parse_args(argv)
    rows: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="detection-") as temp:
            workdir = run_story(Path(temp))
            panels = json.loads((workdir / story.PANELS_FILE).read_text())
            for each in json.loads((workdir / story.JUDGEMENT_FILE).read_text()):
                fired = each["fired_at"] - each["faulted_at"] if each["fired_at"] else float("nan")
                resolved = each["resolved_at"] - each["fixed_at"] if each["fixed_at"] else None
                rows.setdefault((each["alert"], each["fault"]), []).append((fired, resolved))
    print(f"# {dt.date.today()} on {platform.node()} ({platform.machine()}), {args.runs} run(s); "
          f"scrape {story.SCRAPE_INTERVAL}, batch {c.BATCH_TIMEOUT_SECONDS}s, evaluation {EVALUATION_SECONDS}s")
    print("| alert | fault | floor to fire | fired after | floor to resolve | resolved after the fix |")
    print("|---|---|---|---|---|---|")
    for (alert, fault), runs in rows.items():
        fired = " / ".join(f"{seconds:.0f} s" for seconds, _ in runs)
        resolved = (
            " / ".join(f"{seconds:.0f} s" for _, seconds in runs if seconds is not None) or "not fixed in the story"
        )
        window = floor_seconds(ALERTS, alert, fault)
        print(f"| {alert} | {fault} | {window} s to {window + PIPELINE_SECONDS} s | {fired} | "
              f"0 to {PIPELINE_SECONDS} s | {resolved} |")
    print()
    print("| dashboard | panel | series over the story |")
    print("|---|---|---|")
    for answer in panels:
        print(f"| {answer['dashboard']} | {answer['panel']} | {answer['series']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
