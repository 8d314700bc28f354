"""Reviewable previews, on the command itself: `python -m components render` gives the same bytes
on another machine, at another time, in another locale and with another hash seed (the clock is
moved by faketime, Debian package `faketime`). The fast suite checks the rest in-process
(tests/properties/test_reviewable_previews.py).

    .venv/bin/python -m pytest -q e2e/test_reviewable_previews.py
"""

import os
import shutil
import subprocess
import sys

from e2e.harness.render import ROOT

FAKETIME = shutil.which("faketime")


def render_cli(stack, *, env=None, cwd=ROOT, clock=None):
    command = [sys.executable, "-m", "components", "render", "--stack", stack, "--project-dir", str(ROOT)]
    if clock is not None:
        assert FAKETIME, "faketime is missing: install the Debian package `faketime` (.ci/run does)"
        command = [FAKETIME, clock, *command]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_render_does_not_depend_on_machine_clock_locale_or_hash_seed(tmp_path):
    reference = render_cli("prod")
    variations = [
        {"env": {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C"}},
        {"env": {"PYTHONHASHSEED": "4242", "TZ": "Pacific/Kiritimati", "LANG": "de_DE.UTF-8",
                 "HOME": str(tmp_path), "USER": "someone-else", "HOSTNAME": "another-machine"}, "cwd": tmp_path},
        {"clock": "2031-02-03 04:05:06", "env": {"PYTHONHASHSEED": "7"}},
    ]
    for variation in variations:
        assert render_cli("prod", **variation) == reference, variation
