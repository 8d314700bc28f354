"""The pull-request render diff: render trees of every stack and one markdown comment of their difference.
Rendering a project's stacks with its own code runs a process per stack: e2e/test_command_line.py."""

import json
import shutil

import pytest

from components.tooling.render import read_stack_file, write
from components.tooling.render_diff import COMMENT_MARKER, ERROR_FILE, changed_files, comment, main
from e2e.harness.render import ROOT, STACKS, run_stack


def _render_every_stack(tree):
    for stack in STACKS:
        write(run_stack(stack), tree / stack)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    tree = tmp_path_factory.mktemp("render") / "base"
    _render_every_stack(tree)
    return tree


def _head(base, tmp_path, stack, overrides):
    """The base tree with one stack rendered again with overrides."""
    head = tmp_path / "head"
    shutil.copytree(base, head)
    write(run_stack(stack, overrides=overrides), head / stack)
    return head


def _changed_lines(diff: str) -> list[str]:
    return [line for line in diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_rendering_the_same_tree_twice_has_no_diff(base, tmp_path):
    _render_every_stack(tmp_path / "head")
    assert changed_files(base, tmp_path / "head") == {}
    text = comment(base, tmp_path / "head")
    assert text.startswith(COMMENT_MARKER)
    assert "No changes" in text and "```" not in text


def test_one_key_changes_only_the_collector_files(base, tmp_path):
    collector = json.loads(read_stack_file(ROOT, "dev").config["fluxcd-otel:gateway"])
    assert collector["scrapeInterval"] != "45s"
    head = _head(base, tmp_path, "dev", {"gateway": {**collector, "scrapeInterval": "45s"}})
    changes = changed_files(base, head)
    assert changes, "the scrape interval reaches no rendered file"
    assert {name.split("/")[0] for name in changes} == {"dev"}
    # The gateway scrapes at that interval, and the log agents scrape their own metrics at it.
    assert all(
        name.startswith(("dev/flux-observability-gateway-", "dev/flux-observability-logs-")) for name in changes
    ), sorted(changes)
    for diff in changes.values():
        removed = [line for line in _changed_lines(diff) if line.startswith("-")]
        added = [line for line in _changed_lines(diff) if line.startswith("+")]
        assert len(removed) == len(added) > 0
        assert all(collector["scrapeInterval"] in line for line in removed), removed
        assert all("45s" in line for line in added), added
    text = comment(base, head)
    assert "- `dev`: changed `flux-observability-gateway-" in text and "```diff" in text
    for name in changes:
        assert f"<code>{name}</code>" in text


def test_added_and_removed_files_diff_against_nothing(tmp_path):
    (tmp_path / "base" / "dev").mkdir(parents=True)
    (tmp_path / "head" / "dev").mkdir(parents=True)
    (tmp_path / "base" / "dev" / "gone.yaml").write_text("kind: Service\n")
    (tmp_path / "head" / "dev" / "new.yaml").write_text("kind: Alert\n")
    changes = changed_files(tmp_path / "base", tmp_path / "head")
    assert "--- a/dev/gone.yaml\n+++ /dev/null\n" in changes["dev/gone.yaml"]
    assert "--- /dev/null\n+++ b/dev/new.yaml\n" in changes["dev/new.yaml"]
    assert changed_files(tmp_path / "missing", tmp_path / "head").keys() == {"dev/new.yaml"}


def test_a_rendered_fence_cannot_close_the_comment_code_block(tmp_path):
    for side, text in (("base", "a: 1\n"), ("head", "a: |\n  ```\n  x\n")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "doc.yaml").write_text(text)
    text = comment(tmp_path / "base", tmp_path / "head")
    assert "````diff" in text and text.count("````") == 2


def test_a_long_diff_is_cut_to_what_github_accepts(tmp_path):
    for index in range(5):
        for side in ("base", "head"):
            (tmp_path / side).mkdir(exist_ok=True)
            (tmp_path / side / f"file-{index}.yaml").write_text("".join(f"{side}-{line}\n" for line in range(100)))
    text = comment(tmp_path / "base", tmp_path / "head", max_chars=3000)
    assert len(text) <= 3000
    assert "Truncated" in text and "`file-4.yaml`" in text.split("Not shown:")[1]
    assert f"the whole render trees are `{tmp_path / 'base'}` and `{tmp_path / 'head'}`" in text
    assert comment(tmp_path / "base", tmp_path / "head").count("<details") == 5


def test_diff_cli_writes_the_comment(base, tmp_path):
    head = _head(base, tmp_path, "prod", {"tracing": {"eventSeverity": "error"}})
    assert main(["diff", str(base), str(head), "--output", str(tmp_path / "comment.md")]) == 0
    text = (tmp_path / "comment.md").read_text()
    assert text.startswith(COMMENT_MARKER) and "prod/flux-observability-tracing-alert.yaml" in text


def test_stacks_cli_lists_the_stacks_for_a_ci_matrix(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["stacks"]) == 0
    assert json.loads(capsys.readouterr().out) == STACKS


def test_a_stack_that_stops_rendering_leads_the_comment_even_when_it_is_cut(tmp_path):
    for side in ("base", "head"):
        for stack in ("a-stack", "z-stack"):
            (tmp_path / side / stack).mkdir(parents=True)
        for index in range(5):
            (tmp_path / side / "a-stack" / f"file-{index}.yaml").write_text(
                "".join(f"{side}-{line}\n" for line in range(100)))
    (tmp_path / "base" / "z-stack" / "gateway.yaml").write_text("kind: ConfigMap\n")
    (tmp_path / "head" / "z-stack" / ERROR_FILE).write_text("error: invalid stack configuration (1 problem)\n")
    text = comment(tmp_path / "base", tmp_path / "head", max_chars=3000)
    summary = text.split("changed:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert summary[0] == f"- `z-stack`: **does not render** (`z-stack/{ERROR_FILE}` below); removed `gateway`"
    assert summary[1].startswith("- `a-stack`: changed `file-0`, `file-1`")
    first = text.index("<details")
    assert text.index(f"<code>z-stack/{ERROR_FILE}</code>") == text.index("<code>", first)
    assert "invalid stack configuration" in text and f"z-stack/{ERROR_FILE}" not in text.split("Not shown:")[1]
