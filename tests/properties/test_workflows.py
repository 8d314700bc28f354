"""The GitHub workflows: consistent with each other, and the privileged comment job's script handles
untrusted artifact data safely. actionlint (with shellcheck) lints them in e2e/test_workflow_lint.py."""

import importlib.util

import pytest
import yaml

from components.tooling.render_diff import COMMENT_MARKER
from e2e.harness.render import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def _workflow(name):
    return yaml.safe_load((WORKFLOWS / name).read_text())


def test_the_comment_workflow_follows_the_pull_request_workflow_and_its_artifact():
    pull_request, commenting = _workflow("pull-request.yml"), _workflow("render-diff-comment.yml")
    assert commenting[True]["workflow_run"]["workflows"] == [pull_request["name"]]
    uploads = [
        s for s in pull_request["jobs"]["render-diff"]["steps"]
        if s.get("uses", "").startswith("actions/upload-artifact")
    ]
    downloads = [
        s for job in commenting["jobs"].values() for s in job["steps"]
        if s.get("uses", "").startswith("actions/download-artifact")
    ]
    assert [s["with"]["name"] for s in uploads] == [s["with"]["name"] for s in downloads] == ["render-diff"]


def test_the_privileged_workflow_runs_no_pull_request_code():
    commenting = _workflow("render-diff-comment.yml")
    assert commenting["permissions"] == {}
    for job in commenting["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["ref"] == "${{ github.event.repository.default_branch }}"
            assert "pip install" not in step.get("run", "")


@pytest.mark.parametrize("name", ["checks.yml", "pull-request.yml", "render-diff-comment.yml", "deploy.yml"])
def test_every_workflow_starts_from_least_privilege(name):
    workflow = _workflow(name)
    assert workflow["permissions"] in ({}, {"contents": "read"})
    for job in workflow["jobs"].values():
        assert "write-all" not in str(job.get("permissions", ""))


def test_deploys_are_gated_by_an_environment_per_stack_one_at_a_time():
    up = _workflow("deploy.yml")["jobs"]["up"]
    assert up["environment"] == "${{ matrix.stack }}"
    assert up["concurrency"] == {"group": "deploy-${{ matrix.stack }}", "cancel-in-progress": False}
    pulumi, = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions")]
    assert pulumi["with"]["command"] == "up"


# --- the comment script -------------------------------------------------------------------------------
def _sticky_comment():
    spec = importlib.util.spec_from_file_location("sticky_comment", ROOT / ".github" / "scripts" / "sticky_comment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sticky = _sticky_comment()


class FakeGitHub:
    def __init__(self, head_sha, comments):
        self.head_sha, self.comments, self.calls = head_sha, comments, []

    def request(self, method, path, body=None):
        self.calls.append((method, path, body))
        if method == "GET":
            return {"head": {"sha": self.head_sha}}
        return {}

    def pages(self, path):
        self.calls.append(("GET", path, None))
        return iter(self.comments)


def _comment(comment_id, login, body):
    return {"id": comment_id, "user": {"login": login}, "body": body}


def test_the_render_diff_marker_is_one_the_script_accepts():
    assert sticky.marker_of(f"{COMMENT_MARKER}\n### Rendered diff") == COMMENT_MARKER


def test_the_bots_own_marked_comment_is_updated():
    body = f"{COMMENT_MARKER}\nnew diff\n"
    github = FakeGitHub("abc", [
        _comment(1, "someone", f"{COMMENT_MARKER}\nquoted by a person"),
        _comment(2, sticky.BOT, "another bot comment"),
        _comment(3, sticky.BOT, f"{COMMENT_MARKER}\nold diff"),
    ])
    assert sticky.upsert(github, "o/r", 7, body) == "updated"
    assert github.calls[-1] == ("PATCH", "/repos/o/r/issues/comments/3", {"body": body})


def test_without_a_marked_comment_one_is_created():
    github = FakeGitHub("abc", [_comment(1, "someone", f"{COMMENT_MARKER}\nquoted by a person")])
    assert sticky.upsert(github, "o/r", 7, f"{COMMENT_MARKER}\nx") == "created"
    assert github.calls[-1][:2] == ("POST", "/repos/o/r/issues/7/comments")


@pytest.mark.parametrize("text", ["7; rm -rf /", "-1", "", "0x7", "7 8"])
def test_a_pull_request_number_must_be_a_number(text):
    with pytest.raises(ValueError, match="not a pull-request number"):
        sticky.pull_request_number(text, FakeGitHub("abc", []), "o/r", "abc")


def test_a_pull_request_number_must_name_the_rendered_commit():
    assert sticky.pull_request_number("7\n", FakeGitHub("abc", []), "o/r", "abc") == 7
    with pytest.raises(ValueError, match="not at the rendered commit"):
        sticky.pull_request_number("8", FakeGitHub("other", []), "o/r", "abc")


def test_main_refuses_a_body_without_a_marker_and_posts_nothing(tmp_path, capsys):
    (tmp_path / "pr-number").write_text("7\n")
    (tmp_path / "comment.md").write_text("### no marker\n")
    github = FakeGitHub("abc", [])
    args = ["--repository", "o/r", "--head-sha", "abc", "--pr-number-file", str(tmp_path / "pr-number"),
            "--body-file", str(tmp_path / "comment.md")]
    assert sticky.main(args, github=github) == 1
    assert "marker" in capsys.readouterr().err
    assert [call for call in github.calls if call[0] != "GET"] == []


def test_the_workflow_installs_every_debian_package_ci_run_installs():
    ci_run = (ROOT / ".ci" / "run").read_text()
    needed = {
        package
        for line in ci_run.splitlines()
        for command in line.split("apt-get install")[1:]
        for package in command.split(">")[0].split(";")[0].split()
        if not package.startswith("-")
    }
    assert needed, "no apt-get install found in .ci/run"
    steps = _workflow("checks.yml")["jobs"]["test"]["steps"]
    installed = {word for step in steps if "apt-get install" in step.get("run", "") for word in step["run"].split()}
    assert needed <= installed, f"checks.yml must install {sorted(needed - installed)} (the runner is not root)"
