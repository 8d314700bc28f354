"""The real OpenTelemetry Collector (our otelcol-k8s build) run on loopback against rendered configs.

Three pieces, meant to be reused by every real-tier test that pushes data through a collector:

- `localize(config, workdir=..., export_to=...)`: a copy of a rendered collector config made
  runnable on this machine. Only what points outside the machine or at node paths changes:
  exporter endpoints (to a local sink), file_log include globs and file_storage directories
  (re-rooted under `workdir`), the collector's own telemetry (off where the config does not serve
  it on its own address, so collectors do not collide on port 8888), optionally receivers that
  need a cluster. Every other setting stays as rendered.
- `Collector(name, config, workdir, env=None)`: one collector process. Its listen addresses come
  from the rendered `${env:MY_POD_IP}`, which it gets set to an address of its own in 127.0.0.0/8
  (all of it is loopback on Linux), so the rendered fixed ports (4317, 4318, 13133) never collide,
  not even across test files of one session or concurrent sessions. `.start()` waits for the
  health_check extension (bounded); `.stop()` is SIGTERM, then SIGKILL. Its stdout and stderr go to
  `<workdir>/<name>.log` (`.log_tail()` for assertion messages). Use it as a context manager so it
  is stopped whatever happens.
- `Sink(workdir)`: the same binary as an OTLP backend: the `otlp` receiver (gRPC and HTTP) and the
  `file` exporter writing OTLP JSON lines. `.otlp_grpc_endpoint` / `.otlp_http_endpoint` to send
  to; `.logs()`, `.spans()`, `.metrics()` read back what it received. It can be stopped and started
  again on the same address and file (a backend outage).

For logs, `PodLog` writes container log files as kubelet lays them out (CRI or docker json-file
format) and `LogPipeline` runs sink <- gateway <- log agent from the two rendered configs.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import random
import re
import socket
import subprocess
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from components.builders.collector_configs import POD_IP
from e2e.harness.kube import Process, child_env, wait_until
from e2e.harness.programs import require

START_TIMEOUT_SECONDS = 90  # a cold start of a ~200 MB binary on a busy 2-core machine
POD_LOGS = "/var/log/pods"
# Ports the rendered configs listen on, all at ${env:MY_POD_IP}: OTLP, health, own metrics.
RENDERED_PORTS = (4317, 4318, 13133, 8888)
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
DUMMY_ENV_VALUE = "e2e-dummy-value"

_handed_out: set[str] = set()


def component_type(component_id: str) -> str:
    """`otlp_grpc/dash0` -> `otlp_grpc`."""
    return component_id.split("/", 1)[0]


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def loopback_address(ports: Iterable[int] = RENDERED_PORTS) -> str:
    """A loopback address of its own (127.a.b.c, never 127.0.0.x) where `ports` are free.

    Random over ~16 million addresses and never handed out twice in one process, so collectors of
    one session, and of concurrent sessions, each get their own fixed ports."""
    rng = random.SystemRandom()
    for _ in range(200):
        address = f"127.{rng.randint(1, 254)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if address not in _handed_out and all(_bindable(address, port) for port in ports):
            _handed_out.add(address)
            return address
    raise RuntimeError("no free loopback address found")


def referenced_env(config: dict[str, Any]) -> set[str]:
    """Names of the environment variables the config refers to as ${env:NAME}."""
    return set(ENV_REFERENCE.findall(json.dumps(config)))


def resolve_env(text: str, env: dict[str, str]) -> str:
    return ENV_REFERENCE.sub(lambda match: env[match.group(1)], text)


# --- localize ---------------------------------------------------------------------------------------
def localize(
    config: dict[str, Any],
    *,
    workdir: Path,
    export_to: "Sink | str | None" = None,
    pod_logs: Path | None = None,
    without: Iterable[str] = (),
    scrape_host: str | dict[str, str] | None = None,
    fast_retry: bool = False,
    queue_size: int | None = None,
) -> dict[str, Any]:
    """A copy of a rendered collector config that runs on this machine.

    - `export_to`: a `Sink`, or a `host:port` OTLP/gRPC endpoint. Every `otlp_grpc` exporter sends
      there (and an `otlp_http` one to the sink's HTTP endpoint), in plaintext: `tls.insecure`
      is set, since the sink has no certificate. Headers, queues and retries stay as rendered. A
      `debug` exporter becomes `otlp_grpc/<its name>` with the exporter's defaults, so what a
      `debug` config would print reaches the sink instead. With None, network exporters point at
      a loopback address where nothing listens, and `debug` stays.
    - `pod_logs`: where `/var/log/pods` is here (default `<workdir>/pods`); file_log include and
      exclude globs are re-rooted under it.
    - file_storage directories go to `<workdir>/storage/<extension id>`, so a restart of the same
      collector with the same workdir finds its queue and offsets again.
    - `without`: receiver types to remove (e.g. `k8s_objects` and `prometheus`, which need a
      cluster), with the pipelines they fed; components no pipeline uses any more are removed.
    - `scrape_host`: the host every static Prometheus scrape target points to instead (ports
      kept), so a started `prometheus` receiver scrapes loopback rather than resolving cluster
      DNS names; or a map of rendered host to local host, as cluster DNS would resolve each
      (a target whose host it lacks is dropped: nothing answers for it here, and a job left
      without targets goes, and a receiver left without jobs). A collector's scrape of its own
      metrics (at `${env:MY_POD_IP}`) stays as rendered.
    - `fast_retry`: exporters retry every 0.2-1 s instead of 5-30 s (initial/max interval only),
      to compress time in outage tests. `max_elapsed_time` and the queue stay as rendered.
    - `queue_size`: every sending queue holds this many requests instead, so that a test fills
      one in seconds rather than in the rendered outage's length (space compressed, not time).
    - `service.telemetry.metrics.level: none` where the config has no telemetry of its own: the
      collector's default server on localhost:8888 would collide with the next collector's.
    """
    local = copy.deepcopy(config)
    workdir = Path(workdir)
    pod_logs = Path(pod_logs) if pod_logs is not None else workdir / "pods"

    for extension_id, extension in local.get("extensions", {}).items():
        if component_type(extension_id) == "file_storage":
            extension["directory"] = str(workdir / "storage" / extension_id.replace("/", "-"))

    for receiver_id, receiver in local.get("receivers", {}).items():
        kind = component_type(receiver_id)
        if kind in ("file_log", "filelog"):
            for key in ("include", "exclude"):
                if key in receiver:
                    receiver[key] = [_reroot(glob, pod_logs) for glob in receiver[key]]
        if kind == "prometheus" and scrape_host is not None:
            resolve = scrape_host if isinstance(scrape_host, dict) else {POD_IP: POD_IP}
            jobs = receiver["config"]["scrape_configs"]
            for job in jobs:
                for static in job.get("static_configs", []):
                    static["targets"] = [
                        f"{host if host == POD_IP else resolve.get(host, scrape_host)}:{port}"
                        for host, port in (target.rsplit(":", 1) for target in static["targets"])
                        if host == POD_IP or not isinstance(scrape_host, dict) or host in resolve
                    ]
            jobs[:] = [job for job in jobs if any(static["targets"] for static in job.get("static_configs", []))]

    _drop_receivers(local, set(without), emptied={rid for rid, receiver in local.get("receivers", {}).items()
                                                   if component_type(rid) == "prometheus"
                                                   and not receiver["config"]["scrape_configs"]})

    if isinstance(export_to, Sink):
        grpc, http = export_to.otlp_grpc_endpoint, export_to.otlp_http_endpoint
    elif export_to is not None:
        grpc, http = export_to, None
    else:
        dead = f"{loopback_address(ports=(4317, 4318))}"
        grpc, http = f"{dead}:4317", f"http://{dead}:4318"
    renamed: dict[str, str] = {}
    for exporter_id, exporter in list(local.get("exporters", {}).items()):
        kind = component_type(exporter_id)
        if kind == "debug":
            if export_to is None:
                continue
            new_id = "otlp_grpc/" + (exporter_id.split("/", 1)[1] if "/" in exporter_id else "debug")
            del local["exporters"][exporter_id]
            local["exporters"][new_id] = exporter = {}
            renamed[exporter_id] = new_id
            kind = "otlp_grpc"
        if kind in ("otlp_grpc", "otlp"):
            exporter["endpoint"] = grpc
        elif kind in ("otlp_http", "otlphttp"):
            if http is None:
                raise ValueError(f"{exporter_id} needs an HTTP endpoint: pass a Sink as export_to")
            exporter["endpoint"] = http
        else:
            raise ValueError(f"localize does not know how to point exporter {exporter_id} at a sink")
        # The sink (and a dead end) speak plaintext; the rendered TLS settings are for the backend.
        exporter.setdefault("tls", {})["insecure"] = True
        if fast_retry:
            # Time compression only: retry sooner and more often than the rendered 5 s..30 s
            # backoff; max_elapsed_time, sending_queue and storage stay exactly as rendered.
            retry = exporter.setdefault("retry_on_failure", {})
            retry.update({"initial_interval": "200ms", "max_interval": "1s"})
        if queue_size is not None and "sending_queue" in exporter:
            exporter["sending_queue"]["queue_size"] = queue_size
    for pipeline in local["service"]["pipelines"].values():
        pipeline["exporters"] = [renamed.get(name, name) for name in pipeline["exporters"]]

    if "telemetry" not in local["service"]:
        local["service"]["telemetry"] = {"metrics": {"level": "none"}}
    return local


def _reroot(glob: str, pod_logs: Path) -> str:
    if not glob.startswith(POD_LOGS + "/"):
        raise ValueError(f"file_log glob {glob!r} is not under {POD_LOGS}; localize cannot re-root it")
    return str(pod_logs) + glob[len(POD_LOGS):]


def _drop_receivers(config: dict[str, Any], kinds: set[str], emptied: Iterable[str] = frozenset()) -> None:
    """Receivers of `kinds`, and those `emptied`, go with what only they fed."""
    service = config["service"]
    dropped = {rid for rid in config.get("receivers", {}) if component_type(rid) in kinds} | set(emptied)
    if not dropped:
        return
    for name in list(service["pipelines"]):
        pipeline = service["pipelines"][name]
        pipeline["receivers"] = [rid for rid in pipeline["receivers"] if rid not in dropped]
        if not pipeline["receivers"]:
            del service["pipelines"][name]
    for section in ("receivers", "processors", "exporters"):
        used = {cid for pipeline in service["pipelines"].values() for cid in pipeline.get(section, [])}
        config[section] = {cid: value for cid, value in config.get(section, {}).items() if cid in used}


# --- running the binary -----------------------------------------------------------------------------
def collector_env(config: dict[str, Any], host: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The collector's environment: MY_POD_IP = `host`, a dummy value for every other variable the
    config refers to (e.g. FLUXCD_OTEL_EXPORT_TOKEN), no proxies; `extra` wins."""
    values = {name: DUMMY_ENV_VALUE for name in referenced_env(config)}
    values["MY_POD_IP"] = host
    values.update(extra or {})
    return child_env(**values)


def write_config(config: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=True))
    return path


def validate(config: dict[str, Any], workdir: Path, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """`otelcol validate --config=...` on the config as given (not localized)."""
    path = write_config(config, Path(workdir) / "validate.yaml")
    return subprocess.run([str(require("otelcol")), "validate", f"--config={path}"], capture_output=True,
                          text=True, timeout=timeout, env=collector_env(config, "127.0.0.1", env))


def components() -> dict[str, Any]:
    """What the built binary reports with `otelcol components` (YAML)."""
    out = subprocess.run([str(require("otelcol")), "components"], capture_output=True, text=True, timeout=120,
                         check=True)
    return yaml.safe_load(out.stdout)


class Collector:
    """One collector process running `config` (already localized) at its own loopback address."""

    def __init__(self, name: str, config: dict[str, Any], workdir: Path, env: dict[str, str] | None = None,
                 host: str | None = None) -> None:
        self.name = name
        self.config = config
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host or loopback_address()
        self.env = collector_env(config, self.host, env)
        self.config_path = write_config(config, self.workdir / f"{name}.yaml")
        self.process: Process | None = None

    @property
    def health_url(self) -> str:
        health = self.config["extensions"]["health_check"]
        endpoint = resolve_env(health.get("endpoint", "localhost:13133"), self.env)
        return f"http://{endpoint}{health.get('path', '/')}"

    @property
    def otlp_grpc_endpoint(self) -> str:
        """The rendered OTLP/gRPC listen address, as `host:port` (for a collector in front)."""
        return resolve_env(self.config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"], self.env)

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> "Collector":
        if self.alive():
            raise RuntimeError(f"{self.name} is already running")
        self.process = Process(self.name, [str(require("otelcol")), f"--config={self.config_path}"], self.workdir,
                               env=self.env)
        try:
            wait_until(lambda: not self.process.alive() or self.healthy(), timeout=timeout,
                       what=f"{self.name} health at {self.health_url}", interval=0.1)
        except TimeoutError as error:
            self.stop()
            raise TimeoutError(f"{error}\n--- {self.log_path}:\n{self.log_tail()}") from None
        if not self.process.alive():
            self.stop()
            raise RuntimeError(f"{self.name} exited with {self.process.popen.returncode}:\n{self.log_tail()}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def __enter__(self) -> "Collector":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- the sink ---------------------------------------------------------------------------------------
def any_value(value: dict[str, Any]) -> Any:
    """An OTLP JSON AnyValue as a Python value."""
    if not value:
        return None
    (kind, inner), = value.items()
    if kind == "intValue":
        return int(inner)
    if kind == "arrayValue":
        return [any_value(v) for v in inner.get("values", [])]
    if kind == "kvlistValue":
        return attributes(inner.get("values", []))
    return inner  # stringValue, boolValue, doubleValue, bytesValue (base64)


def attributes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    return {pair["key"]: any_value(pair.get("value", {})) for pair in pairs}


@dataclass
class Received:
    """One log record, span or metric as the sink got it, with its resource and scope flattened."""

    resource: dict[str, Any]
    scope: str
    item: dict[str, Any]
    """The record/span/metric as OTLP JSON, except that its `attributes` are a plain dict."""

    def __getitem__(self, key: str) -> Any:
        return self.item[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.item.get(key, default)

    @property
    def attributes(self) -> dict[str, Any]:
        return self.item.get("attributes", {})

    @property
    def body(self) -> Any:
        return any_value(self.item.get("body", {}))


HEADER_ATTRIBUTE_PREFIX = "sink.header."


@dataclass
class Sink:
    """An OTLP backend on loopback: the real collector's otlp receiver + file exporter.

    `host` defaults to a fresh loopback address; ports are 4317 (gRPC), 4318 (HTTP), 13133
    (health). Received data goes to `<workdir>/sink.jsonl`, appended across restarts."""

    workdir: Path
    host: str = field(default_factory=loopback_address)
    name: str = "sink"
    recorded_headers: tuple[str, ...] = ()
    """Request headers copied onto every received item as the attribute `sink.header.<name>`, so a
    test sees what the sender's exporter sent (the receiver's client metadata, case-insensitive)."""
    metrics_to: str | None = None
    """An OTLP/HTTP endpoint that also gets every metric received (a backend such as Prometheus)."""
    logs_to: str | None = None
    """An OTLP/HTTP endpoint every log record goes to instead of the file, at once: no queue, no
    retry, so its answer (a refusal, a connection refused) is the answer the sender gets."""
    logs_token: str | None = None
    """The bearer token sent with the records `logs_to` gets."""
    token: str | None = None
    """A bearer token the receivers require (`bearertokenauth`): a request without it is refused,
    as a backend refuses a wrong API token."""

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        self.path = self.workdir / f"{self.name}.jsonl"
        processors = ["attributes/headers"] if self.recorded_headers else []
        pipeline = {"receivers": ["otlp"], "processors": processors, "exporters": ["file"]}
        forward: dict[str, Any] = {"otlp_http/backend": {"endpoint": self.metrics_to}} if self.metrics_to else {}
        logs = pipeline
        if self.logs_to:
            headers = {"headers": {"Authorization": f"Bearer {self.logs_token}"}} if self.logs_token else {}
            forward["otlp_http/logs"] = {"endpoint": self.logs_to, "sending_queue": {"enabled": False},
                                         "retry_on_failure": {"enabled": False}, **headers}
            logs = {**pipeline, "exporters": ["otlp_http/logs"]}
        server: dict[str, Any] = {"include_metadata": True} if self.recorded_headers else {}
        extensions: dict[str, Any] = {"health_check": {"endpoint": f"{self.host}:13133"}}
        if self.token:
            extensions["bearertokenauth/in"] = {"token": self.token}
            server["auth"] = {"authenticator": "bearertokenauth/in"}
        config = {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"{self.host}:4317", **server},
                                                 "http": {"endpoint": f"{self.host}:4318", **server}}}},
            "processors": {"attributes/headers": {"actions": [
                {"key": f"{HEADER_ATTRIBUTE_PREFIX}{name.lower()}", "from_context": f"metadata.{name}",
                 "action": "insert"}
                for name in self.recorded_headers
            ]}} if self.recorded_headers else {},
            # append: a restarted sink keeps what it received before; flush often for readers.
            "exporters": {"file": {"path": str(self.path), "append": True, "flush_interval": "100ms"}, **forward},
            "extensions": extensions,
            "service": {
                "extensions": sorted(extensions),
                "pipelines": {"logs": logs, "traces": pipeline,
                              "metrics": {**pipeline,
                                          "exporters": ["file", *(["otlp_http/backend"] if self.metrics_to else [])]}},
                "telemetry": {"metrics": {"level": "none"}},
            },
        }
        self.collector = Collector(self.name, config, self.workdir, host=self.host)

    @property
    def otlp_grpc_endpoint(self) -> str:
        return f"{self.host}:4317"

    @property
    def otlp_http_endpoint(self) -> str:
        return f"http://{self.host}:4318"

    def start(self) -> "Sink":
        self.collector.start()
        return self

    def stop(self) -> None:
        self.collector.stop()

    def log_tail(self, lines: int = 40) -> str:
        return self.collector.log_tail(lines)

    def __enter__(self) -> "Sink":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _requests(self) -> Iterator[dict[str, Any]]:
        """One parsed export request per complete line of the file (a line being written is skipped)."""
        if not self.path.exists():
            return
        text = self.path.read_text()
        for line in text.split("\n")[:-1]:
            if line.strip():
                yield json.loads(line)

    def _flatten(self, resources_key: str, scopes_key: str, items_key: str) -> list[Received]:
        out = []
        for request in self._requests():
            for resource in request.get(resources_key, []):
                resource_attributes = attributes(resource.get("resource", {}).get("attributes", []))
                for scope in resource.get(scopes_key, []):
                    scope_name = scope.get("scope", {}).get("name", "")
                    for item in scope.get(items_key, []):
                        item = dict(item, attributes=attributes(item.get("attributes", [])))
                        out.append(Received(resource_attributes, scope_name, item))
        return out

    def logs(self) -> list[Received]:
        return self._flatten("resourceLogs", "scopeLogs", "logRecords")

    def spans(self) -> list[Received]:
        return self._flatten("resourceSpans", "scopeSpans", "spans")

    def metrics(self) -> list[Received]:
        """One entry per metric; its data points keep their OTLP JSON shape."""
        return self._flatten("resourceMetrics", "scopeMetrics", "metrics")


# --- rendered configs -------------------------------------------------------------------------------
def collector_configs(rendering: Any) -> dict[str, dict[str, Any]]:
    """The full collector config (`alternateConfig`) of each collector Helm Release, by release name."""
    from components.tooling.render import masked

    out = {}
    for resource in rendering.resources:
        if resource.type == "kubernetes:helm.sh/v3:Release":
            inputs = masked(resource.inputs)
            if "alternateConfig" in inputs.get("values", {}):
                out[inputs["name"]] = inputs["values"]["alternateConfig"]
    return out


def gateway_and_agent(configs: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The gateway's config (it has the `otlp` receiver) and the log agent's (a `file_log` receiver)."""
    def having(kind: str) -> dict[str, Any]:
        found = [cfg for cfg in configs.values() if any(component_type(r) == kind for r in cfg.get("receivers", {}))]
        assert len(found) == 1, f"expected one collector config with a {kind} receiver, got {len(found)}"
        return found[0]
    return having("otlp"), having("file_log")


def kubelet_env(rendering: Any, config: dict[str, Any] | None = None) -> dict[str, str]:
    """The secret environment of the collector whose rendered config is `config` (default: the
    gateway's), resolved the way the kubelet resolves it: each `extraEnvs` entry's secretKeyRef
    looked up in the rendered Secret of that name (`stringData`, or `data` base64-decoded)."""
    from components.tooling.render import masked

    secrets = {}
    for r in rendering.resources:
        if r.type == "kubernetes:core/v1:Secret":
            given = masked(r.inputs, reveal=True)
            data = {key: base64.b64decode(value).decode() for key, value in given.get("data", {}).items()}
            secrets[given["metadata"]["name"]] = {**data, **given.get("stringData", {})}
    if config is None:
        config, _ = gateway_and_agent(collector_configs(rendering))
    (values,) = [masked(r.inputs)["values"] for r in rendering.resources if r.type == "kubernetes:helm.sh/v3:Release"
                 and masked(r.inputs)["values"].get("alternateConfig") == config]
    env = {}
    for entry in values.get("extraEnvs", []):
        reference = entry["valueFrom"].get("secretKeyRef")
        if reference is not None:
            env[entry["name"]] = secrets[reference["name"]][reference["key"]]
    return env


def post_span(endpoint: str, token: str | None = None) -> None:
    """One span, posted to a collector's OTLP/HTTP receiver at `endpoint`, with the receiver
    `token` where it requires one."""
    span = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "name": "credentials",
            "kind": 1, "startTimeUnixNano": "1764482400000000000", "endTimeUnixNano": "1764482401000000000"}
    body = {"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{"spans": [span]}]}]}
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{endpoint}/v1/traces", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


# --- pod log files and the log pipeline -------------------------------------------------------------
CRI, DOCKER = "cri", "docker"


def rfc3339_nano(time_ns: int) -> str:
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def zap_ts_ns(ts: str) -> int:
    """Unix nanoseconds of a zap ISO8601 `ts` such as 2026-11-30T05:00:00.123Z."""
    parsed = dt.datetime.strptime(ts.replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1000


@dataclass
class PodLog:
    """One container's log file as kubelet lays it out:
    `<root>/<namespace>_<pod>_<uid>/<container>/0.log`, in CRI (containerd, CRI-O) or docker
    json-file format. The runtime's own timestamp of a line is its JSON `ts` plus 250 ms (so a test
    can tell which one a record carries), or `runtime_ns` for lines without `ts`."""

    root: Path
    namespace: str
    pod: str
    container: str = "manager"
    fmt: str = CRI
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    stream: str = "stderr"

    @property
    def path(self) -> Path:
        return Path(self.root) / f"{self.namespace}_{self.pod}_{self.uid}" / self.container / "0.log"

    def runtime_ns(self, line: str) -> int:
        try:
            return zap_ts_ns(json.loads(line)["ts"]) + 250_000_000
        except (ValueError, KeyError, TypeError):
            return 1_796_014_800_000_000_000  # 2026-11-30T05:00:00Z

    def write(self, lines: Iterable[str]) -> None:
        """Appends each line (one log line, without newline) as the container runtime would."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        out = []
        for line in lines:
            when = rfc3339_nano(self.runtime_ns(line))
            if self.fmt == CRI:
                out.append(f"{when} {self.stream} F {line}\n")
            else:
                out.append(json.dumps({"log": line + "\n", "stream": self.stream, "time": when}) + "\n")
        with self.path.open("a") as handle:
            handle.write("".join(out))

    def rotate(self, suffix: str = "20261130-050000") -> Path:
        """kubelet's rotation: 0.log becomes 0.log.<suffix>; the next write creates a new 0.log."""
        rotated = self.path.with_name(f"{self.path.name}.{suffix}")
        self.path.rename(rotated)
        return rotated


class LogPipeline:
    """sink <- gateway <- log agent, each from its rendered config localized, all on loopback.

    The gateway loses its `k8s_objects` receiver and its scrapes of Flux (they need a cluster) but
    keeps the scrape of its own metrics; the agent tails `<workdir>/pods` as if it were /var/log/pods.
    A context manager: everything it started is stopped on exit, agent first."""

    def __init__(self, workdir: Path, gateway_config: dict[str, Any], agent_config: dict[str, Any], *,
                 fast_retry: bool = False, queue_size: int | None = None, sink: Sink | None = None) -> None:
        """`fast_retry` and `queue_size` as in `localize`; `sink` instead of a plain one."""
        workdir = Path(workdir)
        self.pods = workdir / "pods"
        self.pods.mkdir(parents=True, exist_ok=True)
        self.sink = sink or Sink(workdir / "sink")
        gateway_dir = workdir / "gateway"
        self.gateway = Collector("gateway", localize(
            gateway_config, workdir=gateway_dir, export_to=self.sink, without=("k8s_objects",), scrape_host={},
            fast_retry=fast_retry, queue_size=queue_size), gateway_dir)
        agent_dir = workdir / "agent"
        self.agent = Collector("agent", localize(
            agent_config, workdir=agent_dir, export_to=self.gateway.otlp_grpc_endpoint, pod_logs=self.pods,
            fast_retry=fast_retry, queue_size=queue_size), agent_dir)

    def pod_log(self, namespace: str, pod: str, **kwargs: Any) -> PodLog:
        return PodLog(self.pods, namespace, pod, **kwargs)

    def start(self) -> "LogPipeline":
        try:
            self.sink.start()
            self.gateway.start()
            self.agent.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for part in (self.agent, self.gateway, self.sink):
            part.stop()

    def logs_tail(self) -> str:
        return "\n".join(f"--- {part.name} log:\n{part.log_tail(15)}"
                         for part in (self.agent, self.gateway, self.sink.collector))

    def __enter__(self) -> "LogPipeline":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
