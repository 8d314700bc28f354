"""Create or update the one pull-request comment that starts with a hidden marker line.

    python3 sticky_comment.py --repository OWNER/REPO --head-sha SHA \
        --pr-number-file render-diff/pr-number --body-file render-diff/comment.md

Runs in the privileged `workflow_run` job with only the standard library. Everything it reads
from the artifact was written by pull-request code, so it is data, never code: the pull-request
number must be a number whose pull request's head is the commit that was rendered, the body must
start with an HTML comment marker, and only a comment by this workflow's own bot is edited.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator, Optional

API = "https://api.github.com"
BOT = "github-actions[bot]"
MARKER = re.compile(r"<!-- [\w:.-]+ -->")
MAX_BODY_CHARS = 65536


class GitHub:
    def __init__(self, token: str, api: str = API) -> None:
        self.token, self.api = token, api

    def request(self, method: str, path: str, body: Optional[dict[str, Any]] = None) -> Any:
        request = urllib.request.Request(
            f"{self.api}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def pages(self, path: str) -> Iterator[Any]:
        page = 1
        while True:
            items = self.request("GET", f"{path}?per_page=100&page={page}")
            yield from items
            if len(items) < 100:
                return
            page += 1


def pull_request_number(text: str, github: GitHub, repository: str, head_sha: str) -> int:
    """The artifact's pull-request number, trusted only if that pull request's head was rendered."""
    if not re.fullmatch(r"[1-9][0-9]{0,9}", text.strip()):
        raise ValueError(f"not a pull-request number: {text.strip()[:40]!r}")
    number = int(text)
    head = github.request("GET", f"/repos/{repository}/pulls/{number}")["head"]["sha"]
    if head != head_sha:
        raise ValueError(f"pull request #{number} is at {head}, not at the rendered commit {head_sha}")
    return number


def marker_of(body: str) -> str:
    first_line = body.split("\n", 1)[0]
    if not MARKER.fullmatch(first_line):
        raise ValueError("the comment must start with a marker line such as <!-- name -->")
    return first_line


def upsert(github: GitHub, repository: str, number: int, body: str) -> str:
    """Edits this bot's comment that starts with the body's marker, or creates it."""
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(f"the comment has {len(body)} characters; GitHub takes at most {MAX_BODY_CHARS}")
    marker = marker_of(body)
    for comment in github.pages(f"/repos/{repository}/issues/{number}/comments"):
        if comment["user"]["login"] == BOT and comment["body"].startswith(marker):
            github.request("PATCH", f"/repos/{repository}/issues/comments/{comment['id']}", {"body": body})
            return "updated"
    github.request("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
    return "created"


def main(argv: Optional[list[str]] = None, github: Optional[GitHub] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", required=True)
    parser.add_argument("--head-sha", required=True)
    parser.add_argument("--pr-number-file", type=Path, required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    args = parser.parse_args(argv)
    github = github or GitHub(os.environ["GITHUB_TOKEN"])
    try:
        number = pull_request_number(args.pr_number_file.read_text(), github, args.repository, args.head_sha)
        outcome = upsert(github, args.repository, number, args.body_file.read_text())
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{outcome} the comment on pull request #{number}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
