"""The developer commands, one entry point:

    python -m {command} render --stack dev      # what `pulumi up` would create, offline
    python -m {command} review render|diff|stacks   # the pull-request render diff
    python -m {command} regenerate              # rewrite the files generated from the model

In a checkout the package is `components`; installed as a library, `fluxcd_otel`.
"""

from __future__ import annotations

import os
import sys

from .tooling import regenerate, render, render_diff

COMMANDS = {"render": render.main, "review": render_diff.main, "regenerate": regenerate.main}


def usage() -> str:
    """The usage and the commands, named as this package was run (`components` or `fluxcd_otel`)."""
    doc = (__doc__ or "").strip().format(command=__package__)
    return f"usage: python -m {__package__} {{{','.join(COMMANDS)}}} ...\n\n{doc}"


def main(argv: list[str]) -> int:
    if argv[:1] in (["-h"], ["--help"]):
        print(usage())
        return 0
    if not argv or argv[0] not in COMMANDS:
        print(usage(), file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # The offline render's mock monitor leaves per-thread event loops that garbage collection at
    # interpreter exit reports as ignored exceptions; nothing is left to clean up, so leave quietly.
    os._exit(exit_code)
