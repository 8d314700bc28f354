"""The configuration model: defaults, one clear error per bad key path, secrets only as secrets."""

import json
import re
import typing
from typing import Any

import pulumi
import pytest
from pydantic import AfterValidator, BaseModel, StringConstraints

from components import constants as c
from components.config import (
    CPU_WORDS,
    DURATION_WORDS,
    K8S_NAME_WORDS,
    MEMORY_WORDS,
    PROMETHEUS_DURATION_WORDS,
    PROVIDER_TIMEOUT_WORDS,
    SECRET_KEYS,
    SECRET_MAPS,
    VERSION_WORDS,
    ConfigError,
    ExportCredentials,
    StackConfig,
    edit_distance,
    how_to_set_secret,
    is_near_miss,
    load_stack_config,
    memory_mib,
    namespace_near_misses,
    own_namespace_keys,
    parse_stack_config,
    unwrap,
    words_of,
)
from e2e.harness.render import ROOT
from tests.helpers import TOKEN, register

MINIMAL = {"clusterName": "test", "exporter": {"type": "debug"}}


def errors_of(raw):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw)
    return str(caught.value)


def problems_of(raw) -> str:
    """The configuration error's message, or "" when the configuration is valid."""
    try:
        parse_stack_config(raw)
    except ConfigError as error:
        return str(error)
    return ""


def test_defaults_follow_a_stock_flux_install():
    config = parse_stack_config(MINIMAL)
    assert config.mode == "collector"
    assert config.flux.namespace == c.FLUX_NAMESPACE
    assert config.flux.controllers == list(c.FLUX_DEFAULT_CONTROLLERS)
    assert config.gateway.metric_prefixes == ["gotk_"]
    assert config.gateway.chart_version == c.COLLECTOR_CHART_VERSION
    assert config.signals.metrics and config.signals.traces and config.signals.logs


def test_traced_kinds_follow_the_controllers_and_skip_helm_repository():
    config = parse_stack_config(
        {**MINIMAL, "flux": {"controllers": ["source-controller", "image-reflector-controller"]}}
    )
    assert config.traced_kinds == [
        "GitRepository", "OCIRepository", "Bucket", "HelmChart", "ImageRepository", "ImagePolicy"
    ]


@pytest.mark.parametrize(
    "raw, path, reason",
    [
        ({"exporter": {"type": "debug"}}, "clusterName", "required"),
        ({**MINIMAL, "clusterNmae": "x"}, "clusterNmae", "unknown key"),
        ({**MINIMAL, "exporter": {"type": "dash0", "regoin": "eu-west-1"}}, "exporter.regoin", "unknown key"),
        ({**MINIMAL, "mode": "operator"}, "mode", "must be one of"),
        ({**MINIMAL, "flux": {"controllers": []}}, "flux.controllers", "at least 1"),
        ({**MINIMAL, "flux": {"controllers": ["helm-controller", "helm-controller"]}},
         "flux.controllers", "more than once"),
        ({**MINIMAL, "flux": {"namespace": "Flux_System"}}, "flux.namespace", "must be a Kubernetes name"),
        ({**MINIMAL, "gateway": {"scrapeInterval": "0s"}}, "gateway.scrapeInterval", "longer than zero"),
        ({**MINIMAL, "gateway": {"scrapeInterval": "30"}},
         "gateway.scrapeInterval", "must be a duration such as 30s"),
        ({**MINIMAL, "gateway": {"chartVersion": "latest"}},
         "gateway.chartVersion", "must be a version such as 0.170.0"),
        ({**MINIMAL, "gateway": {"metricPrefixes": ["gotk-"]}},
         "gateway.metricPrefixes[0]", "start of a Prometheus metric name"),
        ({**MINIMAL, "exporter": {"type": "otlp"}}, "exporter.endpoint", "required with type otlp"),
        ({**MINIMAL, "exporter": {"type": "otlp", "endpoint": "collector:4317"}},
         "exporter.endpoint", "http:// or https://"),
        ({**MINIMAL, "exporter": {"type": "debug", "region": "eu-west-1"}},
         "exporter.region", "not allowed with type debug"),
        ({**MINIMAL, "exporter": {"type": "dash0"}}, "exporter.region", "exactly one of region or endpoint"),
        ({**MINIMAL, "tracing": {"eventSeverity": "warning"}}, "tracing.eventSeverity", "'info' or 'error'"),
        ({**MINIMAL, "tracing": {"exclusionList": ["(unclosed"]}}, "tracing.exclusionList[0]", "not a valid regular"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "Deployment"}]}},
         "tracing.eventSources[0].kind", "must be one of"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "HelmRepository"}]}},
         "tracing.eventSources[0].kind", "never traced"),
        ({**MINIMAL,
          "tracing": {"eventSources": [{"kind": "Kustomization", "name": "apps", "matchLabels": {"a": "b"}}]}},
         "tracing.eventSources[0].matchLabels", "needs name '*'"),
        ({"clusterName": "x", "mode": "dash0-operator", "exporter": {"type": "debug"}},
         "exporter", "not allowed in mode dash0-operator"),
        ({"clusterName": "x", "mode": "collector", "dash0Operator": {}},
         "dash0Operator", "not allowed in mode collector"),
        ({"clusterName": "x"}, "exporter", "required in mode collector"),
        ({**MINIMAL, "signals": {"metrics": False, "traces": False, "logs": False}}, "signals", "at least one"),
        ({**MINIMAL, "gateway": {"replicas": 2}}, "gateway.replicas", "must be 1 while signals.metrics is on"),
        ({**MINIMAL, "gateway": {"resources": {"cpuRequest": "1", "cpuLimit": "1", "memoryRequest": "1Gi",
                                                  "memoryLimit": "512Mi"}}},
         "gateway.resources.memoryRequest", "must not exceed"),
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
    message = errors_of(
        {"clusterName": "x", "exporter": {"type": "debug"}, "flux": {"namespace": "A"}, "tracing": {"alertName": "B_"}}
    )
    assert "2 problems" in message
    assert f"{c.PROJECT}:flux.namespace" in message and f"{c.PROJECT}:tracing.alertName" in message


def secret_errors(raw, credentials=ExportCredentials(), *, has_tracing_headers=False):
    config = parse_stack_config(raw)
    with pytest.raises(ConfigError) as caught:
        config.check_secrets(export_credentials=credentials, has_tracing_headers=has_tracing_headers)
    return str(caught.value)


def secrets_accepted(raw, credentials):
    parse_stack_config(raw).check_secrets(export_credentials=credentials, has_tracing_headers=False)


TOKEN_ONLY = ExportCredentials(token=True)
OTLP: dict[str, Any] = {"clusterName": "x", "exporter": {"type": "otlp", "endpoint": "https://otlp.example.com:4317"}}
BASIC = {**OTLP, "exporter": {**OTLP["exporter"], "username": "123456"}}


def test_token_rules():
    dash0 = {"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}}
    assert "fluxcd-otel:exportToken: required with exporter type dash0" in secret_errors(dash0)
    secrets_accepted(dash0, TOKEN_ONLY)
    plaintext = {
        "clusterName": "x", "exporter": {"type": "otlp", "endpoint": "http://backend:4318", "protocol": "http"}
    }
    assert "must not travel over http://" in secret_errors(plaintext, TOKEN_ONLY)
    assert "exportToken: not used with exporter type debug" in secret_errors(MINIMAL, TOKEN_ONLY)


def test_any_otlp_backend_takes_a_token_basic_auth_or_secret_headers():
    secrets_accepted(OTLP, TOKEN_ONLY)
    secrets_accepted(BASIC, ExportCredentials(password=True))
    secrets_accepted(OTLP, ExportCredentials(headers=("x-honeycomb-team", "X-Api-Key")))
    secrets_accepted(BASIC, ExportCredentials(password=True, headers=("x-extra-key",)))
    secrets_accepted(OTLP, ExportCredentials())


@pytest.mark.parametrize(
    "raw, credentials, expected",
    [
        (OTLP, ExportCredentials(token=True, password=True),
         ["exportToken: give one of exportToken (Bearer) and exportPassword", "exportPassword: give one of",
          "exporter.username: required with exportPassword (Basic auth)"]),
        (BASIC, ExportCredentials(), ["exportPassword: required with exporter.username (Basic auth): set it with "
                                      "`pulumi config set --secret exportPassword <value>"]),
        (OTLP, ExportCredentials(headers=("x-team", "X-Team")),
         ["exportHeaders.X-Team: given twice (header names ignore case)"]),
        (OTLP, ExportCredentials(token=True, headers=("authorization",)),
         ["exportHeaders.authorization: exportToken or exportPassword already sets Authorization"]),
        ({**OTLP, "exporter": {**OTLP["exporter"], "headers": {"X-Team": "a"}}}, ExportCredentials(headers=("x-team",)),
         ["exportHeaders.x-team: also in exporter.headers; give each header once"]),
        ({"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}},
         ExportCredentials(token=True, password=True, headers=("x-a",)),
         ["exportPassword: not used with exporter type dash0, which takes exportToken",
          "exportHeaders: not used with exporter type dash0"]),
        ({"clusterName": "x", "exporter": {"type": "otlp", "endpoint": "http://backend:4318", "protocol": "http"}},
         ExportCredentials(headers=("x-api-key",)), ["exportHeaders: must not travel over http://"]),
        (MINIMAL, ExportCredentials(password=True), ["exportPassword: not used with exporter type debug"]),
    ],
    ids=["token-and-password", "username-without-password", "header-twice", "authorization-twice", "plain-and-secret",
         "dash0-takes-only-the-token", "headers-over-http", "debug-takes-none"],
)
def test_export_credential_rules_name_every_offending_key(raw, credentials, expected):
    message = secret_errors(raw, credentials)
    for fragment in expected:
        assert f"fluxcd-otel:{fragment}" in message


@pytest.mark.parametrize("name", ["Authorization", "X-API-Key", "DD-API-KEY", "X-SF-Token", "x-honeycomb-team",
                                  "Lightstep-Access-Token", "uptrace-dsn", "Cookie", "X-Auth-Secret",
                                  "Proxy-Authorization"])
def test_plain_headers_refuse_credential_names_and_point_to_the_secret_way(name):
    message = errors_of({**OTLP, "exporter": {**OTLP["exporter"], "headers": {name: "value-1234"}}})
    assert f"fluxcd-otel:exporter.headers.{name}: looks like a credential" in message
    assert "`pulumi config set --secret --path 'exportHeaders.<Header-Name>' <value> --stack " in message
    assert "value-1234" not in message


@pytest.mark.parametrize("name", ["X-Scope-OrgID", "Dash0-Dataset", "X-Axiom-Dataset", "X-Tenant", "User-Agent"])
def test_plain_headers_keep_what_is_no_credential(name):
    exporter = parse_stack_config({**OTLP, "exporter": {**OTLP["exporter"], "headers": {name: "v"}}}).exporter
    assert exporter is not None and exporter.headers == {name: "v"}


def test_basic_auth_username_has_no_colon_and_is_otlp_only():
    assert "must not contain ':'" in errors_of({**OTLP, "exporter": {**OTLP["exporter"], "username": "a:b"}})
    assert "exporter.username: not allowed with type debug" in errors_of(
        {**MINIMAL, "exporter": {"type": "debug", "username": "a"}}
    )


def test_secret_header_names_fit_a_secret_key_and_an_environment_variable():
    message = errors_of({**OTLP, "exportHeaders": {"x_team": "a", "x.team": "b"}})
    assert "exportHeaders.x_team: must be an HTTP header name of letters, digits and '-'" in message
    assert "exportHeaders.x.team" in message and "'a'" not in message


def test_tracing_headers_need_an_address_that_takes_auth():
    message = secret_errors(MINIMAL, has_tracing_headers=True)
    assert "fluxcd-otel:tracingHeaders: needs tracing.address" in message
    with_address = {**MINIMAL, "tracing": {"address": "https://otlp.example.com"}}
    parse_stack_config(with_address).check_secrets(export_credentials=ExportCredentials(), has_tracing_headers=True)


def test_token_never_shows_in_the_model_repr():
    config = parse_stack_config(
        {"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN}
    )
    assert TOKEN not in repr(config) and TOKEN not in str(config.model_dump())


def test_secret_keys_are_declared_by_the_model():
    assert SECRET_KEYS == ("exportToken", "exportPassword", "exportHeaders", "tracingHeaders")
    assert SECRET_MAPS == ("exportHeaders", "tracingHeaders")


def _set_config(values, secret=()):
    pulumi.runtime.set_all_config(
        {f"{c.PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()},
        [f"{c.PROJECT}:{k}" for k in secret],
    )


def test_load_reads_every_key_of_the_project_namespace():
    _set_config({"clusterName": "c1", "exporter": {"type": "otlp", "endpoint": "https://otlp.example.com:4317"},
                 "gateway": {"replicas": "2"}, "signals": {"metrics": "false"}, "events": {"enabled": "false"}})
    config = load_stack_config()
    assert config.cluster_name == "c1"
    assert config.exporter is not None and config.exporter.endpoint == "https://otlp.example.com:4317"
    assert config.gateway.replicas == 2


def test_load_rejects_a_typo_at_the_top_level():
    _set_config({"clusterName": "c1", "exporter": {"type": "debug"}, "exportTokne": "x"})
    with pytest.raises(ConfigError, match=f"{c.PROJECT}:exportTokne: unknown key"):
        load_stack_config()


def test_load_rejects_a_token_given_as_plain_config():
    _set_config({"clusterName": "c1", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN})
    with pytest.raises(ConfigError, match="exportToken: is plain text, which Pulumi would store unencrypted; "
                                          "set it with `pulumi config set --secret exportToken <value>") as caught:
        load_stack_config()
    assert TOKEN not in str(caught.value)


def test_load_accepts_a_secret_token():
    _set_config({"clusterName": "c1", "exporter": {"type": "dash0", "region": "eu-west-1"}, "exportToken": TOKEN},
                secret=["exportToken"])
    token = load_stack_config().export_token
    assert token is not None and token.get_secret_value() == TOKEN


# --- a misspelt namespace is refused, other namespaces are left alone ------------------------------------
@pytest.mark.parametrize(
    "namespace", ["fluxcd-otle", "fluxcd_otel", "fluxcdotel", "FluxCD-OTel", "flux-otel", "fluxcd-otel2"]
)
def test_load_refuses_a_key_under_a_near_miss_of_the_namespace(namespace):
    _set_config({"clusterName": "c1", "exporter": {"type": "debug"}})
    pulumi.runtime.set_config(f"{namespace}:dashboards", json.dumps({"enabled": False}))
    with pytest.raises(ConfigError) as caught:
        load_stack_config()
    message = str(caught.value)
    assert message.startswith("invalid stack configuration (1 problem):")
    assert f"  {namespace}:dashboards: the namespace `{namespace}:` is not `{c.PROJECT}:`" in message
    assert f"did you mean `{c.PROJECT}:dashboards`?" in message


@pytest.mark.parametrize(
    "key", ["kubernetes:context", "pulumi:template", "aws:region", "fluxcd:x", "fluxcd-otel-fleet:clusters"]
)
def test_load_ignores_keys_of_other_namespaces(key):
    _set_config({"clusterName": "c1", "exporter": {"type": "debug"}})
    pulumi.runtime.set_config(key, "x")
    assert load_stack_config().cluster_name == "c1"


def test_load_refuses_the_packages_keys_in_the_running_programs_own_namespace(monkeypatch):
    # A program of one's own, project platform-obs: `pulumi config set clusterName` writes there.
    monkeypatch.setattr(pulumi, "get_project", lambda: "platform-obs")
    _set_config({"exporter": {"type": "debug"}})
    pulumi.runtime.set_config("platform-obs:clusterName", "c1")
    pulumi.runtime.set_config("platform-obs:region", "eu")  # the program's own key, left alone
    message = str(pytest.raises(ConfigError, load_stack_config).value)
    assert "(2 problems)" in message
    assert (f"  platform-obs:clusterName: the package reads only `{c.PROJECT}:` keys, so this one is ignored;"
            f" set `{c.PROJECT}:clusterName` instead") in message
    assert "platform-obs:region" not in message


def test_a_key_given_in_both_namespaces_is_left_to_the_program():
    keys = [f"{c.PROJECT}:clusterName", "platform-obs:clusterName", "platform-obs:exporter.type"]
    assert own_namespace_keys(keys, c.PROJECT, "platform-obs") == [
        ("platform-obs:exporter.type",
         f"the package reads only `{c.PROJECT}:` keys, so this one is ignored;"
         f" set `{c.PROJECT}:exporter.type` instead")]
    assert own_namespace_keys(keys, c.PROJECT, c.PROJECT) == []


def test_near_misses_are_reported_with_the_other_problems_in_one_message():
    _set_config({"exporter": {"type": "debug"}})
    pulumi.runtime.set_config("fluxcd-otle:clusterName", "c1")
    message = str(pytest.raises(ConfigError, load_stack_config).value)
    assert "(2 problems)" in message
    assert "fluxcd-otle:clusterName: the namespace" in message and f"{c.PROJECT}:clusterName: required" in message


def test_near_miss_distance_scales_with_the_name():
    assert edit_distance("fluxcd-otle", "fluxcd-otel") == 1  # a swap of neighbours counts once
    assert is_near_miss("fluxcd_otel", "fluxcd-otel") and is_near_miss("FLUXCD-OTEL", "fluxcd-otel")
    assert not is_near_miss("kubernetes", "fluxcd-otel") and not is_near_miss("fluxcd-otel", "fluxcd-otel")
    assert not is_near_miss("aws", "abc"), "short names allow no edits"
    assert namespace_near_misses(["fluxcd-otle:x", "fluxcd-otel:y"], own=["fluxcd-otle"]) == []


# --- unknown keys: did you mean ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, path, suggestion",
    [
        ({"clusterNmae": "x", "exporter": {"type": "debug"}}, "clusterNmae", "clusterName"),
        ({**MINIMAL, "gateway": {"scrape_intreval": "30s"}}, "gateway.scrape_intreval", "scrapeInterval"),
        ({**MINIMAL, "gateway": {"ScrapeInterval": "30s"}}, "gateway.ScrapeInterval", "scrapeInterval"),
        ({**MINIMAL, "objectHealth": {"relaseName": "ksm"}}, "objectHealth.relaseName", "releaseName"),
        ({**MINIMAL, "alerts": {"notReady": {"perkind": {}}}}, "alerts.notReady.perkind", "perKind"),
    ],
)
def test_an_unknown_key_suggests_the_closest_allowed_key_as_users_write_it(raw, path, suggestion):
    assert f"{c.PROJECT}:{path}: unknown key; did you mean `{suggestion}`?" in errors_of(raw)


def test_an_unknown_key_without_a_close_one_lists_the_allowed_keys():
    message = errors_of({**MINIMAL, "signals": {"profiles": True}})
    assert f"{c.PROJECT}:signals.profiles: unknown key (allowed here: metrics, traces, logs)" in message


def test_a_key_already_given_is_not_suggested_for_another():
    resources = {"cpuRequest": "1", "cpuLimit": "1", "memoryRequest": "1Gi", "memoryLimit": "1Gi", "gpuLimit": "1"}
    message = errors_of({**MINIMAL, "gateway": {"resources": resources}})
    assert (
        "gateway.resources.gpuLimit: unknown key (allowed here: cpuRequest, cpuLimit, memoryRequest, memoryLimit)"
        in message
    )


# --- patterns in words ----------------------------------------------------------------------------------------
def _constrained_leaves(model, prefix=""):
    """(key path, type, metadata) of every value type in the model, through lists, maps and optionals."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{field.alias or name}"
        annotation, metadata = unwrap(field.annotation)
        todo = [(path, annotation, [*field.metadata, *metadata])]
        while todo:
            where, current, meta = todo.pop()
            if isinstance(current, type) and issubclass(current, BaseModel):
                yield from _constrained_leaves(current, f"{where}.")
            elif typing.get_origin(current) in (list, dict):
                args = typing.get_args(current)
                labels = ["[]"] if len(args) == 1 else ["{key}", "{value}"]
                todo += [(f"{where}{label}", *unwrap(arg)) for label, arg in zip(labels, args)]
            else:
                yield where, current, meta


def test_every_string_pattern_and_validator_is_explained_in_words():
    """A new constrained type without config.Words would print a raw regex or "valid string"."""
    unexplained = [
        path
        for path, _, metadata in _constrained_leaves(StackConfig)
        if any(isinstance(item, (StringConstraints, AfterValidator)) for item in metadata)
        and words_of(metadata) is None
    ]
    # The secret header values say nothing about a value they must not echo.
    assert unexplained == ["exportHeaders{value}", "tracingHeaders{value}"]


@pytest.mark.parametrize(
    "raw, path, expected",
    [
        ({**MINIMAL, "flux": {"namespace": "Flux_System"}}, "flux.namespace",
         f"must be {K8S_NAME_WORDS}; got 'Flux_System'"),
        ({**MINIMAL, "gateway": {"resources": {"cpuRequest": "100m", "cpuLimit": "500m", "memoryRequest": "256Mi",
                                                  "memoryLimit": "1G"}}},
         "gateway.resources.memoryLimit", f"must be {MEMORY_WORDS}; got '1G'"),
        ({**MINIMAL, "gateway": {"scrapeInterval": 30}}, "gateway.scrapeInterval",
         f"must be {DURATION_WORDS}; got the number 30"),
        ({**MINIMAL, "gateway": {"scrapeInterval": True}}, "gateway.scrapeInterval",
         f"must be {DURATION_WORDS}; got true (a boolean)"),
        ({**MINIMAL, "gateway": {"resources": {"cpuRequest": "100m", "cpuLimit": 2, "memoryRequest": "256Mi",
                                                  "memoryLimit": "512Mi"}}},
         "gateway.resources.cpuLimit", f'must be {CPU_WORDS}; got the number 2; write it in quotes: "2"'),
        ({**MINIMAL, "gateway": {"chartVersion": "0.170"}},
         "gateway.chartVersion", f"must be {VERSION_WORDS}; got '0.170'"),
        ({**MINIMAL, "tracing": {"eventSources": [{"kind": "Kustomization", "namespace": None}], "timeout": "1h"}},
         "tracing.timeout", f"must be {PROVIDER_TIMEOUT_WORDS}; got '1h'"),
        ({**MINIMAL, "alerts": {"notReady": {"after": 15}}}, "alerts.notReady.after",
         f"must be {PROMETHEUS_DURATION_WORDS}; got the number 15"),
        ({**MINIMAL, "events": {"namespaces": ["apps", "Apps"]}},
         "events.namespaces[1]", f"must be {K8S_NAME_WORDS}; got 'Apps'"),
        ({**MINIMAL, "exporter": {"type": "otlp", "endpoint": "https://o:4317", "headers": {"X-Tenant": 7}}},
         "exporter.headers.X-Tenant",
         'must be one line of text without control characters; got the number 7; write it in quotes: "7"'),
    ],
)
def test_pattern_and_type_errors_are_explained_in_words(raw, path, expected):
    message = errors_of(raw)
    assert f"{c.PROJECT}:{path}: {expected}" in message
    assert "does not match" not in message and "valid string" not in message


def test_a_secret_of_the_wrong_type_is_not_echoed():
    message = errors_of(
        {**MINIMAL, "tracing": {"address": "https://o.example.com"}, "tracingHeaders": {"Authorization": 123456}}
    )
    assert "tracingHeaders.Authorization" in message and "123456" not in message


# --- secrets: how to set them -----------------------------------------------------------------------------
def test_a_missing_token_says_how_to_set_it_with_pulumi_and_for_the_offline_render():
    def build():
        parse_stack_config({"clusterName": "x", "exporter": {"type": "dash0", "region": "eu-west-1"}}).check_secrets(
            export_credentials=ExportCredentials(), has_tracing_headers=False
        )

    with pytest.raises(ConfigError) as caught:
        register(build)
    assert (
        "fluxcd-otel:exportToken: required with exporter type dash0: set it with "
        "`pulumi config set --secret exportToken <value> --stack test`; for the offline render, put "
        "`fluxcd-otel:exportToken: {secure: <any text>}` in the stack file"
    ) in str(caught.value)


def test_a_plain_secret_says_how_to_set_it_as_a_secret():
    _set_config({"clusterName": "c1", "exporter": {"type": "debug"}, "tracingHeaders": {"Authorization": "Bearer x"}})
    message = str(pytest.raises(ConfigError, load_stack_config).value)
    assert "fluxcd-otel:tracingHeaders: is plain text, which Pulumi would store unencrypted" in message
    assert "`pulumi config set --secret --path 'tracingHeaders.<Header-Name>' <value> --stack " in message
    assert "put `fluxcd-otel:tracingHeaders: {<Header-Name>: {secure: <any text>}}` in the stack file" in message
    assert "Bearer x" not in message


def test_the_secret_hint_names_the_namespace_when_it_is_not_the_project():
    assert "`pulumi config set --secret other:exportToken <value>" in how_to_set_secret("exportToken", "other")


SMALL_GATEWAY = {"cpuRequest": "100m", "cpuLimit": "500m", "memoryRequest": "128Mi", "memoryLimit": "256Mi"}


def test_the_default_limits_hold_the_default_expected_load_with_twice_the_measured_memory():
    config = parse_stack_config(MINIMAL)
    for resources, measured in (
        (config.gateway.resources, c.GATEWAY_PEAK_MIB),
        (config.log_agent.resources, c.AGENT_PEAK_MIB),
    ):
        assert memory_mib(resources.memory_limit) >= c.MEMORY_HEADROOM * config.expected_load.peak_mib(measured)


def stated_size(message: str, key: str) -> int:
    """The MiB that the error for `key` says to set at least."""
    (size,) = re.findall(rf"fluxcd-otel:{re.escape(key)}: .*?set at least (\d+)Mi", message)
    return int(size)


def test_a_memory_limit_below_the_measured_need_is_refused_with_the_size_to_set():
    load = {"fluxObjects": 3000}
    message = errors_of({**MINIMAL, "gateway": {"resources": SMALL_GATEWAY}, "expectedLoad": load})
    needed = parse_stack_config({**MINIMAL, "expectedLoad": load}).expected_load.peak_mib(c.GATEWAY_PEAK_MIB)
    assert ("fluxcd-otel:gateway.resources.memoryLimit: 256Mi is too small for expectedLoad (3,000 Flux objects,"
            f" 100 log lines/s): the gateway was measured to need up to {needed:.0f} MiB at that load"
            " (docs/benchmarks.md), so set at least ") in message and message.endswith("Mi, or lower expectedLoad")
    assert "logAgent" not in message
    # The size it names is the smallest that passes.
    size = stated_size(message, "gateway.resources.memoryLimit")
    for limit, passes in ((size, True), (size - 1, False)):
        resources = {**SMALL_GATEWAY, "memoryLimit": f"{limit}Mi"}
        found = problems_of({**MINIMAL, "gateway": {"resources": resources}, "expectedLoad": load})
        assert ("gateway.resources.memoryLimit" not in found) is passes, (limit, found)


def test_a_smaller_expected_load_accepts_a_smaller_limit():
    config = parse_stack_config(
        {**MINIMAL, "gateway": {"resources": SMALL_GATEWAY}, "expectedLoad": {"fluxObjects": 200}}
    )
    assert config.gateway.resources.memory_limit == "256Mi"


def test_the_log_agent_is_checked_against_the_log_rate():
    message = errors_of({**MINIMAL, "expectedLoad": {"logLinesPerSecond": 1000},
                         "logAgent": {"resources": {"memoryLimit": "256Mi"}}})
    assert "fluxcd-otel:logAgent.resources.memoryLimit: 256Mi is too small" in message
    assert "gateway.resources" not in message
    size = stated_size(message, "logAgent.resources.memoryLimit")
    for limit, passes in ((size, True), (size - 1, False)):
        found = problems_of({**MINIMAL, "expectedLoad": {"logLinesPerSecond": 1000},
                             "logAgent": {"resources": {**SMALL_GATEWAY, "memoryLimit": f"{limit}Mi"}}})
        assert ("logAgent.resources.memoryLimit" not in found) is passes, (limit, found)


def test_the_sizing_rule_in_the_docs_is_the_measured_one():
    text = " ".join((ROOT / "docs" / "setting-values.md").read_text().split())
    gateway, agent = c.GATEWAY_PEAK_MIB, c.AGENT_PEAK_MIB
    assert (f"at least {c.MEMORY_HEADROOM} x ({gateway['base']} + {gateway['per_flux_object']} per Flux object"
            f" + {gateway['per_log_line_per_second']} per line/s) MiB") in text
    assert (
        f"at least {c.MEMORY_HEADROOM} x ({agent['base']} + {agent['per_log_line_per_second']} per line/s) MiB" in text
    )


# --- resources: the keys not given keep the role's defaults --------------------------------------------
def test_a_memory_limit_alone_keeps_the_other_defaults():
    config = parse_stack_config({**MINIMAL, "gateway": {"resources": {"memoryLimit": "1Gi"}}})
    assert config.gateway.resources.as_kubernetes() == {
        "requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "1Gi"}}


def test_a_limit_below_the_default_request_brings_the_request_down_to_it():
    config = parse_stack_config({**MINIMAL, "logAgent": {"resources": {"cpuLimit": "20m", "memoryLimit": "240Mi"}}})
    assert config.log_agent.resources.as_kubernetes() == {
        "requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"cpu": "20m", "memory": "240Mi"}}


def test_a_request_given_above_its_limit_is_still_refused():
    with pytest.raises(ConfigError, match="gateway.resources.memoryRequest: must not exceed memoryLimit"):
        parse_stack_config({**MINIMAL, "gateway": {"resources": {"memoryRequest": "2Gi", "memoryLimit": "1Gi"}}})


def test_expected_load_sizes_the_memory_limits_not_given():
    config = parse_stack_config({**MINIMAL, "expectedLoad": {"fluxObjects": 10000, "logLinesPerSecond": 1000},
                                 "logAgent": {"resources": {"cpuLimit": "300m"}}})
    # 2 x (100 + 0.042 x 10,000 + 0.025 x 1,000) MiB and 2 x (98 + 0.04 x 1,000) MiB.
    assert config.gateway.resources.memory_limit == "1090Mi"
    assert config.log_agent.resources.memory_limit == "276Mi"
    assert config.log_agent.resources.cpu_limit == "300m"


def test_a_small_expected_load_keeps_the_default_limits():
    config = parse_stack_config({**MINIMAL, "expectedLoad": {"fluxObjects": 10, "logLinesPerSecond": 1}})
    assert (config.gateway.resources.memory_limit, config.log_agent.resources.memory_limit) == ("512Mi", "256Mi")


def test_a_memory_limit_given_below_the_load_is_still_refused():
    with pytest.raises(ConfigError, match="gateway.resources.memoryLimit: 512Mi is too small for expectedLoad"):
        parse_stack_config({**MINIMAL, "expectedLoad": {"fluxObjects": 10000},
                            "gateway": {"resources": {"memoryLimit": "512Mi"}}})
