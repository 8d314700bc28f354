"""The real-Flux story's settings and what it writes (e2e/test_real_flux.py), which the detection
benchmark (bench/detection.py) runs and reads."""

# The gateway scrapes this often instead of the rendered interval.
SCRAPE_INTERVAL = "2s"

# The alert windows a team would tune, shortened through their stack keys so that each fault fires
# within seconds; thresholds that would not be crossed in that time are lowered with them.
ALERT_WINDOWS = {
    "notReady": {"after": "10s", "perKind": {"HelmRelease": "10s"}},
    "suspended": {"after": "10s"},
    "controllerDown": {"after": "10s"},
    "controllerAbsent": {"after": "30s"},
    "objectHealthDown": {"after": "10s"},
    "stuckWorkqueue": {"after": "10s", "sustained": "5s"},
    "workersSaturated": {"after": "10s"},
    "slowReconcile": {"threshold": "15s", "window": "1m", "after": "5s"},
    # Shorter than the story's 1h intervals, so idle reconcilers match it too: it is judged on
    # kustomize-controller with a Kustomization that reconciles every few seconds (TICKING), and
    # left out of the quiet stretches.
    "notReconciling": {"window": "30s", "after": "5s"},
    "behindSource": {"after": "10s"},
}
# The delivery rules run as often as Prometheus evaluates here (e2e/harness/prometheus.py), so
# each event is recorded within a second of its scrape.
DELIVERY_INTERVAL = "1s"
# The interval of the Kustomization that reconciles all along (FluxNotReconciling is judged on it).
TICKING = "2s"
# The fault of a configured controller that never runs here (the image controllers).
NEVER_RAN = "configured, never running"
# Where the story's alert timings are written, in its working directory.
JUDGEMENT_FILE = "judgement.json"
PANELS_FILE = "panels.json"
# The delivery figures as computed beside those the story's history gives.
DELIVERY_FILE = "delivery.json"
