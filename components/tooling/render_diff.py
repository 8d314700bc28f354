"""Review a change by what it renders: render every stack into a tree of files, diff two trees.

A pull-request pipeline renders the base branch and the branch, each with its own code, and
posts the difference as one markdown comment:

    python -m components review render --out /tmp/render/head
    python -m components review render --project-dir /tmp/base --out /tmp/render/base
    python -m components review diff /tmp/render/base /tmp/render/head --output comment.md
    python -m components review stacks      # ["dash0-operator", "dev", ...], for a CI matrix

`render` runs `python -m components render --stack <stack> --out <tree>/<stack>` inside the
project folder for each of its stacks, so each side is rendered by its own code; a stack that
fails leaves its error message in `<tree>/<stack>/render-error.txt`, which the diff then shows.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Optional

from .render import available_stacks

COMMENT_MARKER = "<!-- fluxcd-otel:render-diff -->"
ERROR_FILE = "render-error.txt"
# GitHub refuses comments longer than 65536 characters; leave room for the truncation note.
MAX_COMMENT_CHARS = 60_000


def render_tree(project_dir: Path, out: Path, python: str = sys.executable) -> list[str]:
    """Renders every stack of the project into `out/<stack>/`; returns the stacks that failed."""
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} is not empty; render into a new directory")
    failed = []
    for stack in available_stacks(project_dir):
        stack_dir = out / stack
        result = subprocess.run(
            [python, "-m", "components", "render", "--stack", stack, "--out", str(stack_dir.resolve())],
            cwd=project_dir,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            stack_dir.mkdir(parents=True, exist_ok=True)
            (stack_dir / ERROR_FILE).write_text(result.stderr)
            failed.append(stack)
    return failed


def _files(tree: Path) -> dict[str, str]:
    if not tree.is_dir():
        return {}
    return {path.relative_to(tree).as_posix(): path.read_text() for path in sorted(tree.rglob("*")) if path.is_file()}


def changed_files(base: Path, head: Path) -> dict[str, str]:
    """Unified diff text per file that differs between the trees (added and removed files too)."""
    before, after = _files(base), _files(head)
    changes = {}
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        lines = difflib.unified_diff(
            (old or "").splitlines(keepends=True),
            (new or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}" if new is not None else "/dev/null",
        )
        changes[name] = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    return changes


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in the text, so rendered YAML cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _summary(changes: dict[str, str], base: Path, head: Path) -> list[str]:
    """One line per stack with what changed in it: a stack that does not render first, then the
    objects added, removed and changed, by logical name."""
    before, after = _files(base), _files(head)
    by_stack: dict[str, dict[str, list[str]]] = {}
    for name in changes:
        stack, _, file = name.partition("/")
        kinds = by_stack.setdefault(stack, {"added": [], "removed": [], "changed": []})
        if file == ERROR_FILE:
            kinds["error"] = ["new" if name not in before else "still" if name in after else "fixed"]
            continue
        kinds["added" if name not in before else "removed" if name not in after else "changed"].append(
            file.removesuffix(".yaml"))
    lines = []
    for stack in sorted(by_stack, key=lambda s: ("error" not in by_stack[s] or by_stack[s]["error"] == ["fixed"], s)):
        kinds = by_stack[stack]
        parts = []
        if kinds.get("error") in (["new"], ["still"]):
            parts.append(f"**does not render** (`{stack}/{ERROR_FILE}` below)")
        elif kinds.get("error") == ["fixed"]:
            parts.append("renders again")
        parts += [f"{kind} {', '.join(f'`{name}`' for name in names)}" for kind, names in kinds.items()
                  if kind != "error" and names]
        lines.append(f"- `{stack}`: {'; '.join(parts)}")
    return lines


def _error_first(name: str) -> tuple[bool, str]:
    return (not name.endswith(f"/{ERROR_FILE}"), name)


def comment(base: Path, head: Path, *, max_chars: int = MAX_COMMENT_CHARS) -> str:
    """One markdown comment: what changed per stack (a stack that does not render first), then the
    unified diffs, render errors first; cut to `max_chars`, saying where the whole trees are."""
    changes = changed_files(base, head)
    lines = [COMMENT_MARKER, "### Rendered diff", ""]
    if not changes:
        lines.append("No changes: every stack renders exactly as on the base branch.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(changes)} file{'s' if len(changes) != 1 else ''} changed:")
    lines += [*_summary(changes, base, head), ""]
    header = "\n".join(lines)
    sections = []
    for name in sorted(changes, key=_error_first):
        diff = changes[name]
        fence = _fence(diff)
        sections.append(
            f"<details open><summary><code>{name}</code></summary>\n\n{fence}diff\n{diff}{fence}\n</details>\n"
        )
    body = header + "\n".join(sections)
    if len(body) <= max_chars:
        return body
    note = (f"\n**Truncated:** the whole render trees are `{base}` and `{head}`; for a pull request, in its run's"
            " `render-diff` artifact (`base/` and `head/`).\n")
    kept, size = [], len(header) + len(note)
    for section in sections:
        if size + len(section) + 1 > max_chars:
            break
        kept.append(section)
        size += len(section) + 1
    omitted = sorted(changes, key=_error_first)[len(kept):]
    note += "Not shown: " + ", ".join(f"`{name}`" for name in omitted) + "\n"
    return header + "\n".join(kept) + note


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"python -m {__package__.split('.')[0]} review", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="render every stack into OUT/<stack>/")
    render.add_argument("--out", type=Path, required=True, help="a new or empty directory")
    render.add_argument("--project-dir", type=Path, default=Path.cwd(), help="folder with Pulumi.yaml")
    render.add_argument("--python", default=sys.executable, help="interpreter with the project's requirements")
    commands.add_parser("stacks", help="the project's stacks as a JSON list (a CI matrix)")
    diff = commands.add_parser("diff", help="markdown comment with the differences of two render trees")
    diff.add_argument("base", type=Path)
    diff.add_argument("head", type=Path)
    diff.add_argument("--output", type=Path, help="write the comment here instead of stdout")
    args = parser.parse_args(argv)
    if args.command == "render":
        try:
            failed = render_tree(args.project_dir, args.out, args.python)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        for stack in failed:
            print(f"error: stack {stack} did not render; see {args.out / stack / ERROR_FILE}", file=sys.stderr)
        return 1 if failed else 0
    if args.command == "stacks":
        print(json.dumps(available_stacks(Path.cwd())))
        return 0
    text = comment(args.base, args.head)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
    return 0

