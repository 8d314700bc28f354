"""The developer commands, one entry point:

    python -m components render --stack dev      # what `pulumi up` would create, offline
    python -m components review render|diff|stacks   # the pull-request render diff
    python -m components regenerate              # rewrite the files generated from the model

Installed as a library, the same commands run as `python -m fluxcd_otel <command>`.
"""

from __future__ import annotations

import os
import sys

from .tooling import regenerate, render, render_diff

COMMANDS = {"render": render.main, "review": render_diff.main, "regenerate": regenerate.main}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m {__package__} {{{','.join(COMMANDS)}}} ...\n\n{__doc__.strip()}", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The offline render's mock monitor leaves per-thread event loops that garbage collection at
    # interpreter exit reports as ignored exceptions; nothing is left to clean up, so leave quietly.
    os._exit(exit_code)
