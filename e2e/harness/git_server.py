"""A Git server on loopback: Git's own smart HTTP server (`git http-backend`, Debian's git) behind
a small HTTP front, serving bare repositories that the test commits to through a work tree.

source-controller clones with go-git over HTTP exactly as it would from a Git host; nothing is
reached off the machine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from e2e.harness.kube import LOOPBACK, free_port

HTTP_BACKEND = Path("/usr/lib/git-core/git-http-backend")
BRANCH = "main"
# Fixed identity and dates: the same files give the same commit, run after run.
COMMIT_ENV = {"GIT_AUTHOR_NAME": "fluxcd-otel e2e", "GIT_AUTHOR_EMAIL": "e2e@fluxcd-otel.invalid",
              "GIT_COMMITTER_NAME": "fluxcd-otel e2e", "GIT_COMMITTER_EMAIL": "e2e@fluxcd-otel.invalid",
              "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def _git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **COMMIT_ENV, **(env or {})})
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout.strip()


class _Backend(BaseHTTPRequestHandler):
    """Hands each request to `git http-backend` as CGI (git-http-backend(1)) and relays its answer."""

    server: "GitServer._Http"

    def do_GET(self) -> None:  # noqa: N802 - the http.server interface
        self._cgi(b"")

    def do_POST(self) -> None:  # noqa: N802
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = bytearray()
            while (size := int(self.rfile.readline().strip(), 16)) > 0:
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
            self._cgi(bytes(body))
        else:
            self._cgi(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _cgi(self, body: bytes) -> None:
        url = urlsplit(self.path)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.server.root), "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command, "PATH_INFO": url.path, "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0], "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        }
        for header, variable in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL")):
            if self.headers.get(header):
                env[variable] = self.headers[header]
        result = subprocess.run([str(HTTP_BACKEND)], input=body, capture_output=True, env=env)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        headers = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
        status = next((value.strip() for name, value in headers if name.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]), status.partition(" ")[2])
        for name, value in headers:
            if name.lower() != "status":
                self.send_header(name, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class GitServer:
    """Bare repositories under `<workdir>/repositories`, served at `url`; a context manager."""

    class _Http(ThreadingHTTPServer):
        root: Path

    def __init__(self, workdir: Path) -> None:
        if not HTTP_BACKEND.exists() or not shutil.which("git"):
            raise FileNotFoundError(f"{HTTP_BACKEND} is missing; install Debian's git: apt-get install -y git")
        self.workdir = Path(workdir)
        self.root = self.workdir / "repositories"
        self.root.mkdir(parents=True, exist_ok=True)
        port = free_port()
        self.url = f"http://{LOOPBACK}:{port}"
        self.server = self._Http((LOOPBACK, port), _Backend)
        self.server.root = self.root

    def repository(self, name: str) -> str:
        """Creates the bare repository `<name>.git` and its work tree; returns its clone URL."""
        _git("init", "--bare", f"--initial-branch={BRANCH}", str(self.root / f"{name}.git"), cwd=self.workdir)
        _git("init", f"--initial-branch={BRANCH}", str(self._work(name)), cwd=self.workdir)
        _git("remote", "add", "origin", str(self.root / f"{name}.git"), cwd=self._work(name))
        return f"{self.url}/{name}.git"

    def _work(self, name: str) -> Path:
        return self.workdir / "work" / name

    def commit(self, name: str, files: dict[str, str], message: str) -> str:
        """Replaces the repository's files with `files` (path -> text), commits and pushes; returns
        the revision as Flux writes it: `<branch>@sha1:<commit>`."""
        work = self._work(name)
        for path in work.iterdir():
            if path.name != ".git":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        for relative, text in files.items():
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            (work / relative).write_text(text)
        _git("add", "--all", cwd=work)
        _git("commit", "--quiet", "--allow-empty", "-m", message, cwd=work)
        _git("push", "--quiet", "origin", BRANCH, cwd=work)
        return f"{BRANCH}@sha1:{_git('rev-parse', 'HEAD', cwd=work)}"

    def __enter__(self) -> "GitServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentServer:
    """A Git host that accepts connections and never answers: a clone from it hangs until the
    client's own timeout, as behind a stalled proxy or a host that lost its disk. `.stop()` closes
    every held connection and stops listening, so the next attempt fails at once."""

    def __init__(self) -> None:
        self.port = free_port()
        self._listener = socket.create_server((LOOPBACK, self.port))
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/stalled.git"

    @property
    def held(self) -> int:
        """Connections accepted and held so far."""
        return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            self._held.append(connection)

    def start(self) -> "SilentServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        # shutdown, not only close, wakes the thread blocked in accept().
        self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for connection in self._held:
            connection.close()
        self._thread.join(timeout=10)

    def __enter__(self) -> "SilentServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
