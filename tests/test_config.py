"""The configuration model: defaults, one clear error per bad key path, secrets only as secrets."""

import json

import pulumi
import pytest
from support import TOKEN

from components import constants as c
from components.config import SECRET_KEYS, ConfigError, load_stack_config, parse_stack_config

MINIMAL = {"clusterName": "test", "exporter": {"type": "debug"}}


def errors_of(raw):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return str(caught.value)


def test_defaults_follow_a_stock_flux_install():
    config = parse_stack_config(MINIMAL)
    assert config.mode == "collector"
    assert config.flux.namespace == c.FLUX_NAMESPACE
    assert config.flux.controllers == list(c.FLUX_DEFAULT_CONTROLLERS)
    assert config.collector.metric_prefixes == ["gotk_"]
    assert config.collector.chart_version == c.COLLECTOR_CHART_VERSION
    assert config.signals.metrics and config.signals.traces and config.signals.logs


def test_traced_kinds_follow_the_controllers_and_skip_helm_repository():
    config = parse_stack_config({**MINIMAL, "flux": {"controllers": ["source-controller", "image-reflector-controller"]}})
    assert config.traced_kinds == ["GitRepository", "OCIRepository", "Bucket", "HelmChart", "ImageRepository", "ImagePolicy"]


@pytest.mark.parametrize(
    "raw, path, reason",
    [
        ({"exporter": {"type": "debug"}}, "clusterName", "required"),
        ({**MINIMAL, "clusterNmae": "x"}, "clusterNmae", "unknown key"),
        ({**MINIMAL, "exporter": {"type": "dash0", "regoin": "eu-west-1"}}, "exporter.regoin", "unknown key"),
        ({**MINIMAL, "mode": "operator"}, "mode", "must be one of"),
        ({**MINIMAL, "flux": {"controllers": []}}, "flux.controllers", "at least 1"),
        ({**MINIMAL, "flux": {"controllers": ["helm-controller", "helm-controller"]}}, "flux.controllers", "more than once"),
        ({**MINIMAL, "flux": {"namespace": "Flux_System"}}, "flux.namespace", "does not match"),
        ({**MINIMAL, "collector": {"scrapeInterval": "0s"}}, "collector.scrapeInterval", "longer than zero"),
        ({**MINIMAL, "collector": {"scrapeInterval": "30"}}, "collector.scrapeInterval", "Go duration"),
        ({**MINIMAL, "collector": {"chartVersion": "latest"}}, "collector.chartVersion", "does not match"),
        ({**MINIMAL, "collector": {"metricPrefixes": ["gotk-"]}}, "collector.metricPrefixes[0]", "does not match"),
        ({**MINIMAL, "exporter": {"type": "otlp"}}, "exporter.endpoint", "required with type otlp"),
        ({**MINIMAL, "exporter": {"type": "otlp", "endpoint": "collector:4317"}}, "exporter.endpoint", "http:// or https://"),
        ({**MINIMAL, "exporter": {"type": "debug", "region": "eu-west-1"}}, "exporter.region", "not allowed with type debug"),
        ({**MINIMAL, "exporter": {"type": "dash0"}}, "exporter.region", "exactly one of region or endpoint"),
        ({**MINIMAL, "tracing": {"eventSeverity": "warning"}}, "tracing.eventSeverity", "'info' or 'error'"),
        ({**MINIMAL, "tracing": {"exclusionList": ["(unclosed"]}}, "tracing.exclusionList[0]", "not a valid regular"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "Deployment"}]}}, "tracing.eventSources[0].kind", "must be one of"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "HelmRepository"}]}}, "tracing.eventSources[0].kind", "never traced"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "Kustomization", "name": "apps", "matchLabels": {"a": "b"}}]}},
         "tracing.eventSources[0].matchLabels", "needs name '*'"),
        ({"clusterName": "x", "mode": "dash0-operator", "exporter": {"type": "debug"}}, "exporter", "not allowed in mode dash0-operator"),
        ({"clusterName": "x", "mode": "collector", "dash0Operator": {}}, "dash0Operator", "not allowed in mode collector"),
        ({"clusterName": "x"}, "exporter", "required in mode collector"),
        ({**MINIMAL, "signals": {"metrics": False, "traces": False, "logs": False}}, "signals", "at least one"),
        ({**MINIMAL, "collector": {"replicas": 2}}, "collector.replicas", "must be 1 while signals.metrics is on"),
        ({**MINIMAL, "collector": {"resources": {"cpuRequest": "1", "cpuLimit": "1", "memoryRequest": "1Gi", "memoryLimit": "512Mi"}}},
         "collector.resources.memoryRequest", "must not exceed"),
    ],
)
def test_bad_input_names_the_key_path(raw, path, reason):
    message = errors_of(raw)
    assert f"{c.PROJECT}:{path}: " in message
    assert reason in message
    assert "Traceback" not in message


def test_go_regex_syntax_is_accepted_and_perl_only_syntax_refused():
    ok = parse_stack_config({**MINIMAL, "tracing": {"exclusionList": ["(?<kind>Git)Repository", "(?P<n>x)", "^a|b$"]}})
    assert len(ok.tracing.exclusion_list) == 3
    assert "look-around" in errors_of({**MINIMAL, "tracing": {"inclusionList": ["(?<=a)b"]}})
    assert "look-around or back-references" in errors_of({**MINIMAL, "tracing": {"inclusionList": ["(a)\\1"]}})


def test_provider_timeout_follows_the_crd_pattern():
    assert "tracing.timeout" in errors_of({**MINIMAL, "tracing": {"timeout": "1h"}})
    assert parse_stack_config({**MINIMAL, "tracing": {"timeout": "1m30s"}}).tracing.timeout == "1m30s"


def test_every_problem_is_reported_in_one_message():
    message = errors_of({"clusterName": "x", "exporter": {"type": "debug"}, "flux": {"namespace": "A"}, "tracing": {"alertName": "B_"}})
    assert "2 problems" in message
    assert f"{c.PROJECT}:flux.namespace" in message and f"{c.PROJECT}:tracing.alertName" in message


def secret_errors(raw, *, has_export_token, has_tracing_headers=False):
    config = parse_stack_config(raw)
    with pytest.raises(ConfigError) as caught:
        config.check_secrets(has_export_token=has_export_token, has_tracing_headers=has_tracing_headers)
    return str(caught.value)


def test_token_rules():
    dash0 = {"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}}
    assert "fluxcd-otel:exportToken: required with exporter type dash0" in secret_errors(dash0, has_export_token=False)
    parse_stack_config(dash0).check_secrets(has_export_token=True, has_tracing_headers=False)
    plaintext = {"clusterName": "x", "exporter": {"type": "otlp", "endpoint": "http://backend:4318", "protocol": "http"}}
    assert "must not travel over http://" in secret_errors(plaintext, has_export_token=True)
    assert "exportToken: not used with exporter type debug" in secret_errors(MINIMAL, has_export_token=True)


def test_tracing_headers_need_an_address_that_takes_auth():
    message = secret_errors(MINIMAL, has_export_token=False, has_tracing_headers=True)
    assert "fluxcd-otel:tracingHeaders: needs tracing.address" in message
    with_address = {**MINIMAL, "tracing": {"address": "https://otlp.example.com"}}
    parse_stack_config(with_address).check_secrets(has_export_token=False, has_tracing_headers=True)


def test_token_never_shows_in_the_model_repr():
    config = parse_stack_config({"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN})
    assert TOKEN not in repr(config) and TOKEN not in str(config.model_dump())


def test_secret_keys_are_declared_by_the_model():
    assert SECRET_KEYS == ("exportToken", "tracingHeaders")


def _set_config(values, secret=()):
    pulumi.runtime.set_all_config(
        {f"{c.PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()},
        [f"{c.PROJECT}:{k}" for k in secret],
    )


def test_load_reads_every_key_of_the_project_namespace():
    _set_config({"clusterName": "c1", "exporter": {"type": "otlp", "endpoint": "https://otlp.example.com:4317"},
                 "collector": {"replicas": "2"}, "signals": {"metrics": "false"}, "events": {"enabled": "false"}})
    config = load_stack_config()
    assert config.cluster_name == "c1"
    assert config.exporter.endpoint == "https://otlp.example.com:4317"
    assert config.collector.replicas == 2


def test_load_rejects_a_typo_at_the_top_level():
    _set_config({"clusterName": "c1", "exporter": {"type": "debug"}, "exportTokne": "x"})
    with pytest.raises(ConfigError, match=f"{c.PROJECT}:exportTokne: unknown key"):
        load_stack_config()


def test_load_rejects_a_token_given_as_plain_config():
    _set_config({"clusterName": "c1", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN})
    with pytest.raises(ConfigError, match="exportToken: must be set with `pulumi config set --secret`") as caught:
        load_stack_config()
    assert TOKEN not in str(caught.value)


def test_load_accepts_a_secret_token():
    _set_config({"clusterName": "c1", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN},
                secret=["exportToken"])
    assert load_stack_config().export_token.get_secret_value() == TOKEN
