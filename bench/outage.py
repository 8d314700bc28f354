"""A backend outage of realistic length through the real collectors (not run by tests):

    .venv/bin/python bench/outage.py [--outage SECONDS] [--rate LINES_PER_SECOND]

The scenario of e2e/harness/outage.py (compressed in e2e/test_nothing_lost.py) with the `prod` stack's configs,
localized: Flux log lines flow log agent -> gateway -> sink; the sink stops for `--outage` seconds
(default 900, the shortest
outage the configuration accepts), the gateway restarts a third of the way in, lines keep being
written at `--rate` (default 20/s, the expected Flux volume), then the sink comes back. Prints lines
written, records received, duplicates, lines missing and the drain time after the backend returned.
Only the exporters' retry backoff is shortened (as in the test); queues are as rendered.
Needs the collector binary: .venv/bin/python -m e2e.build otelcol
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components import constants as c  # noqa: E402
from components.tooling.render import render_stack  # noqa: E402
from e2e.harness.collector import LogPipeline, collector_configs, gateway_and_agent  # noqa: E402
from e2e.harness.outage import STACK, run_outage  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=c.MIN_BRIDGED_OUTAGE_SECONDS, help="seconds (default 900)")
    parser.add_argument("--rate", type=float, default=20, help="Flux log lines per second (default 20)")
    parser.add_argument("--drain-timeout", type=float, default=600,
                        help="seconds to wait for every line after the backend returns (default 600; gRPC's "
                             "reconnect backoff alone can reach 120 s after a long outage)")
    args = parser.parse_args(argv)
    gateway, agent = gateway_and_agent(collector_configs(render_stack(ROOT, STACK)))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fluxcd-otel-outage-") as workdir, \
            LogPipeline(Path(workdir), gateway, agent, fast_retry=True) as pipeline:
        lines, drained = run_outage(pipeline, outage_seconds=args.outage, lines_per_second=args.rate,
                                    drain_timeout=args.drain_timeout,
                                    log=lambda message: print(f"[{time.monotonic() - started:7.1f} s] {message}",
                                                              flush=True))
        received = lines.received()
    missing = lines.written - len(set(received) & set(range(lines.written)))
    print(f"outage:           {args.outage:.0f} s (gateway restarted during it)")
    print(f"lines written:    {lines.written}")
    print(f"records received: {sum(received.values())}")
    print(f"duplicates:       {sum(count - 1 for count in received.values())}")
    print(f"missing:          {missing}")
    print("drain time:       " + (f"{drained:.1f} s after the backend returned" if drained is not None
                                  else f"not drained within {args.drain_timeout:.0f} s"))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
