"""Log-to-trace correlation: the log agent's OTTL gives a Flux log line the trace ID that the
notification-controller's otel provider gives the spans of the line's revision.

The expected IDs are computed here with hashlib, the way Flux does it (first 16 bytes of
SHA-256 of "<Alert UID>:<revision>"), and the generated statements are run by a small OTTL
interpreter that knows only what the builder emits.
"""

import hashlib
import re

import pytest
from support import assert_valid_collector_config, register, releases, run_stack

from components import FluxLogAgent, FluxLogAgentArgs
from components.collector_configs import TRACE_CORRELATION
from components.config import TracingSettings
from components.manifests import alert_spec
from components.render import mock_uid
from components.trace_correlation import trace_id_statements, transform_processor

ALERT_UID = "5f0c2a9e-7d41-4b8e-9a36-1c2d3e4f5a6b"
GIT_REVISION = "main@sha1:" + "3b1f0c8e9d2a4b6c8e0f1a3b5c7d9e1f2a4b6c8d"
OCI_REVISION = "latest@sha256:" + "9c4e2f7a1b3d5c6e8f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e1f2a3b4c5d6e"
HELM_CHART_REVISION = "6.5.1"
OCI_HELMRELEASE_REVISION = "6.5.1@sha256:" + "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"


def flux_trace_id(alert_uid, revision):
    return hashlib.sha256(f"{alert_uid}:{revision}".encode()).digest()[:16].hex()


# --- a minimal OTTL interpreter: set(...) where ..., ==, !=, and, or, nil, string and int literals,
# lists, attributes["..."], trace_id.string, Concat, SHA256, Substring --------------------------------
TOKEN = re.compile(r'\s*(?:(?P<string>"(?:\\.|[^"\\])*")|(?P<int>\d+)|(?P<op>==|!=|[()\[\],.])|(?P<word>[A-Za-z_]\w*))')


def tokenize(text):
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        assert match, f"cannot read OTTL at {text[position:]!r}"
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "int":
            value = int(value)
        tokens.append((kind, value))
        position = match.end()
    return tokens


class Parser:
    def __init__(self, text):
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self):
        return self.tokens[self.index] if self.index < len(self.tokens) else (None, None)

    def take(self, expected=None):
        token = self.peek()
        assert expected is None or token[1] == expected, f"expected {expected!r}, got {token!r}"
        self.index += 1
        return token

    def statement(self):
        assert self.take() == ("word", "set")
        self.take("(")
        target = self.path()
        self.take(",")
        value = self.value()
        self.take(")")
        condition = None
        if self.peek() == ("word", "where"):
            self.take()
            condition = self.disjunction()
        assert self.peek() == (None, None), f"unread OTTL: {self.tokens[self.index:]}"
        return target, value, condition

    def path(self):
        _, name = self.take()
        if name == "attributes":
            self.take("[")
            _, key = self.take()
            self.take("]")
            return ("attribute", key)
        assert name == "trace_id", name
        self.take(".")
        self.take("string")
        return ("trace_id",)

    def value(self):
        kind, token = self.peek()
        if kind in ("string", "int"):
            self.take()
            return ("literal", token)
        if token == "nil":
            self.take()
            return ("literal", None)
        if token == "[":
            self.take()
            items = [self.value()]
            while self.peek()[1] == ",":
                self.take()
                items.append(self.value())
            self.take("]")
            return ("list", items)
        if token == "attributes":
            return ("path", self.path())
        assert kind == "word", token
        self.take()
        self.take("(")
        arguments = [self.value()]
        while self.peek()[1] == ",":
            self.take()
            arguments.append(self.value())
        self.take(")")
        return ("call", token, arguments)

    def disjunction(self):
        terms = [self.conjunction()]
        while self.peek() == ("word", "or"):
            self.take()
            terms.append(self.conjunction())
        return ("or", terms)

    def conjunction(self):
        terms = [self.comparison()]
        while self.peek() == ("word", "and"):
            self.take()
            terms.append(self.comparison())
        return ("and", terms)

    def comparison(self):
        if self.peek()[1] == "(":
            self.take()
            inner = self.disjunction()
            self.take(")")
            return inner
        left = self.value()
        _, operator = self.take()
        assert operator in ("==", "!="), operator
        return (operator, left, self.value())


def evaluate(node, record):
    tag = node[0]
    if tag == "literal":
        return node[1]
    if tag == "list":
        return [evaluate(item, record) for item in node[1]]
    if tag == "path":
        return record["attributes"].get(node[1][1])
    if tag == "call":
        name, arguments = node[1], [evaluate(argument, record) for argument in node[2]]
        if name == "Concat":
            values, delimiter = arguments
            return delimiter.join(str(value) for value in values)
        if name == "SHA256":
            return hashlib.sha256(arguments[0].encode()).hexdigest() if arguments[0] else ""
        if name == "Substring":
            text, start, length = arguments
            if start + length > len(text):
                raise ValueError("invalid range for substring")
            return text[start:start + length]
        raise AssertionError(f"the interpreter does not know {name}")
    if tag == "or":
        return any(evaluate(term, record) for term in node[1])
    if tag == "and":
        return all(evaluate(term, record) for term in node[1])
    left, right = evaluate(node[1], record), evaluate(node[2], record)
    return left == right if tag == "==" else left != right


def run_transform(processor, record):
    """Runs the log statements on one record as the transform processor with error_mode ignore."""
    assert processor["error_mode"] == "ignore"
    (group,) = processor["log_statements"]
    assert group["context"] == "log"
    for text in group["statements"]:
        # The collector reads `$$` in its config as one `$` before OTTL sees the text.
        target, value, condition = Parser(text.replace("$$", "$")).statement()
        if condition is not None and not evaluate(condition, record):
            continue
        try:
            result = evaluate(value, record)
        except ValueError:
            continue
        assert target == ("trace_id",)
        if re.fullmatch(r"[0-9a-f]{32}", result):
            record["trace_id"] = result
    return record


def log_record(kind, name, namespace, revision=None):
    attributes = {"controllerKind": kind, "name": name, "namespace": namespace, "reconcileID": "0c7f1d2e"}
    if revision is not None:
        attributes["revision"] = revision
    return {"attributes": attributes}


TRACING = TracingSettings(event_sources=[
    {"kind": "GitRepository"},
    {"kind": "OCIRepository", "namespace": "team-a"},
    {"kind": "Kustomization", "name": "apps"},
    {"kind": "HelmChart"},
    {"kind": "HelmRelease"},
    {"kind": "HelmRelease", "namespace": "apps", "matchLabels": {"team": "a"}},
])
EVENT_SOURCES = alert_spec(provider_name="otel", flux_namespace="flux-system", cluster_name="c", tracing=TRACING,
                           traced_kinds=[])["eventSources"]


def correlate(record, alert_uid=ALERT_UID, event_sources=EVENT_SOURCES):
    return run_transform(transform_processor(trace_id_statements(alert_uid, event_sources)), record).get("trace_id")


@pytest.mark.parametrize(
    "record, revision",
    [
        (log_record("GitRepository", "flux-system", "flux-system", GIT_REVISION), GIT_REVISION),
        (log_record("Kustomization", "apps", "flux-system", GIT_REVISION), GIT_REVISION),
        (log_record("OCIRepository", "podinfo", "team-a", OCI_REVISION), OCI_REVISION),
        (log_record("Kustomization", "apps", "flux-system", OCI_REVISION), OCI_REVISION),
        (log_record("HelmChart", "flux-system-podinfo", "flux-system", HELM_CHART_REVISION), HELM_CHART_REVISION),
        (log_record("HelmRelease", "podinfo", "flux-system", HELM_CHART_REVISION), HELM_CHART_REVISION),
        (log_record("HelmRelease", "podinfo", "flux-system", OCI_HELMRELEASE_REVISION), OCI_HELMRELEASE_REVISION),
    ],
    ids=["git-source", "git-kustomization", "oci-source", "oci-kustomization", "helm-chart", "helm-release",
         "oci-helm-release"],
)
def test_a_selected_object_with_a_revision_gets_the_trace_id_flux_gives_that_revision(record, revision):
    assert correlate(record) == flux_trace_id(ALERT_UID, revision)


def test_the_trace_id_belongs_to_the_revision_and_the_alert():
    git = correlate(log_record("GitRepository", "a", "flux-system", GIT_REVISION))
    assert git != correlate(log_record("GitRepository", "a", "flux-system", GIT_REVISION[:-1] + "0"))
    assert git != correlate(log_record("GitRepository", "a", "flux-system", GIT_REVISION), alert_uid=ALERT_UID[::-1])
    assert git == correlate(log_record("Kustomization", "apps", "flux-system", GIT_REVISION))


@pytest.mark.parametrize(
    "record",
    [
        log_record("GitRepository", "flux-system", "flux-system"),
        log_record("GitRepository", "flux-system", "flux-system", ""),
        log_record("ImagePolicy", "podinfo", "flux-system", GIT_REVISION),
        log_record("Kustomization", "infra", "flux-system", GIT_REVISION),
        log_record("GitRepository", "flux-system", "team-a", GIT_REVISION),
        log_record("OCIRepository", "podinfo", "flux-system", OCI_REVISION),
        log_record("HelmRelease", "podinfo", "apps", OCI_HELMRELEASE_REVISION),
    ],
    ids=["no-revision", "empty-revision", "unselected-kind", "unselected-name", "unselected-namespace",
         "namespace-of-another-source", "matchlabels-source"],
)
def test_other_lines_keep_no_trace_id(record):
    assert correlate(record) is None


def test_only_matchlabels_sources_give_no_statements():
    sources = [source for source in EVENT_SOURCES if source.get("matchLabels")]
    assert sources and trace_id_statements(ALERT_UID, sources) == []


def test_quotes_and_dollars_in_values_survive_ottl_and_collector_escaping():
    uid, name = 'odd"uid\\with$dollar', 'name"with$'
    sources = [{"kind": "Kustomization", "name": name, "namespace": "flux-system"}]
    record = log_record("Kustomization", name, "flux-system", GIT_REVISION)
    assert correlate(record, alert_uid=uid, event_sources=sources) == flux_trace_id(uid, GIT_REVISION)


def agent_config(**correlation):
    resources = register(lambda: FluxLogAgent("logs", FluxLogAgentArgs(gateway_otlp_grpc="gw:4317", **correlation)))
    return releases(resources)["flux-otel-logs"]["values"]["alternateConfig"]


def test_the_agent_runs_the_correlation_after_memory_limiter_and_before_batch():
    config = agent_config(alert_uid=ALERT_UID, alert_event_sources=EVENT_SOURCES)
    assert_valid_collector_config(config)
    assert config["service"]["pipelines"]["logs"]["processors"] == ["memory_limiter", TRACE_CORRELATION, "batch"]
    record = log_record("GitRepository", "flux-system", "flux-system", GIT_REVISION)
    linked = run_transform(config["processors"][TRACE_CORRELATION], record)
    assert linked["trace_id"] == flux_trace_id(ALERT_UID, GIT_REVISION)


@pytest.mark.parametrize(
    "correlation",
    [{}, {"alert_event_sources": EVENT_SOURCES}, {"alert_uid": ALERT_UID},
     {"alert_uid": ALERT_UID, "alert_event_sources": [s for s in EVENT_SOURCES if s.get("matchLabels")]}],
    ids=["no-alert", "no-uid", "no-sources", "only-matchlabels"],
)
def test_without_a_linkable_alert_the_agent_has_no_transform(correlation):
    config = agent_config(**correlation)
    assert TRACE_CORRELATION not in config["processors"]
    assert config["service"]["pipelines"]["logs"]["processors"] == ["memory_limiter", "batch"]


def logs_config(rendering):
    return releases(rendering.resources)["flux-otel-logs"]["values"]["alternateConfig"]


def test_the_dev_stack_links_logs_to_the_traces_of_its_alert():
    rendering = run_stack("dev")
    (alert,) = [r for r in rendering.resources if r.custom and r.inputs.get("kind") == "Alert"]
    alert_uid = mock_uid(alert.type, alert.name, alert.inputs["metadata"])
    processor = logs_config(rendering)["processors"][TRACE_CORRELATION]
    assert all(f'"{alert_uid}"' in statement for statement in processor["log_statements"][0]["statements"])
    for source in alert.inputs["spec"]["eventSources"]:
        record = log_record(source["kind"], "any-name", source["namespace"], OCI_REVISION)
        assert run_transform(processor, record)["trace_id"] == flux_trace_id(alert_uid, OCI_REVISION)


def test_the_dev_stack_without_traces_does_not_touch_log_records():
    rendering = run_stack("dev", overrides={"signals": {"traces": False}})
    assert TRACE_CORRELATION not in logs_config(rendering)["processors"]
