"""The pure collector-config builders: complete pipelines, pinned components, escaping, limits."""

from collections import Counter

import pytest

from components import constants as c
from components.builders.collector_configs import (
    AGENT_JOB,
    CHECKPOINT_MOUNT,
    CONTROLLERS_JOB,
    GATEWAY_JOB,
    NODE_LABEL,
    NODE_NAME_ENV,
    QUEUE_MOUNT,
    escape_env,
    gateway_config,
    log_agent_config,
    memory_limiter,
)
from components.builders.export_credentials import BEARER_TOKEN, ENV_PREFIX
from components.config import (
    ExporterSettings,
    GatewaySettings,
    LogAgentSettings,
    SendingQueueSettings,
    SignalSettings,
    duration_seconds,
)
from tests.helpers import assert_valid_collector_config, unescaped_dollars

TARGETS = ["source-controller-metrics.flux-system.svc:8080"]


def gateway(exporter=None, signals=None, secret_headers=(), cluster="c1", **settings):
    return gateway_config(
        cluster_name=cluster,
        signals=signals or SignalSettings(),
        gateway=GatewaySettings(**settings),
        exporter_settings=exporter or ExporterSettings(type="debug"),
        scrape_targets=TARGETS,
        secret_headers=secret_headers,
    )


def agent(**settings):
    return log_agent_config(
        flux_namespace="flux-system",
        controllers=["source-controller", "helm-controller"],
        agent=LogAgentSettings(**settings),
        gateway_otlp_grpc="gw.ns.svc:4317",
        queue=SendingQueueSettings(),
    )


@pytest.mark.parametrize(
    "exporter",
    [
        ExporterSettings(type="debug"),
        ExporterSettings(type="dash0", region="eu-central-1", dataset="flux"),
        ExporterSettings(type="otlp", endpoint="https://otlp.example.com:4317"),
        ExporterSettings(type="otlp", endpoint="https://otlp.example.com", protocol="http", headers={"X-Tenant": "a"}),
    ],
)
@pytest.mark.parametrize(
    "signals",
    [
        SignalSettings(),
        SignalSettings(metrics=False),
        SignalSettings(traces=False, logs=False),
        SignalSettings(metrics=False, logs=False),
    ],
)
def test_gateway_configs_are_complete_and_use_only_pinned_components(exporter, signals):
    assert_valid_collector_config(
        gateway(exporter, signals, secret_headers=[BEARER_TOKEN] if exporter.type != "debug" else [])
    )


def test_agent_config_is_complete_and_uses_only_pinned_components():
    assert_valid_collector_config(agent())


def test_pipelines_exist_only_for_enabled_signals():
    config = gateway(signals=SignalSettings(metrics=False, logs=False))
    assert set(config["service"]["pipelines"]) == {"traces"}
    assert set(config["receivers"]["otlp"]["protocols"]) == {"http"}
    assert "prometheus" not in config["receivers"]


def test_scrape_keeps_only_configured_prefixes():
    config = gateway(metric_prefixes=["gotk_", "controller_runtime_"])
    scrape = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]
    assert scrape["static_configs"] == [{"targets": TARGETS}]
    assert scrape["metric_relabel_configs"] == [
        {"source_labels": ["__name__"], "regex": "(controller_runtime_|gotk_).*", "action": "keep"}
    ]


def test_cluster_name_is_a_resource_attribute():
    attributes = gateway(cluster="prod-eu")["processors"]["resource"]["attributes"]
    assert {"key": "k8s.cluster.name", "value": "prod-eu", "action": "upsert"} in attributes


def test_dash0_exporter_sends_token_from_env_and_dataset_only_when_not_default():
    config = gateway(ExporterSettings(type="dash0", region="us-west-2", dataset="flux"), secret_headers=[BEARER_TOKEN])
    exporter = config["exporters"]["otlp_grpc/dash0"]
    assert exporter["endpoint"] == "ingress.us-west-2.aws.dash0.com:4317"
    assert exporter["headers"] == {"Authorization": "Bearer ${env:FLUXCD_OTEL_EXPORT_TOKEN}", "Dash0-Dataset": "flux"}
    default = gateway(ExporterSettings(type="dash0", region="us-west-2"), secret_headers=[BEARER_TOKEN])
    assert "Dash0-Dataset" not in default["exporters"]["otlp_grpc/dash0"]["headers"]


def test_otlp_http_exporter_and_plaintext_grpc():
    http = gateway(ExporterSettings(type="otlp", endpoint="https://o.example.com", protocol="http"))
    assert list(http["exporters"]) == ["otlp_http/backend"]
    assert http["exporters"]["otlp_http/backend"]["endpoint"] == "https://o.example.com"
    assert "tls" not in http["exporters"]["otlp_http/backend"]
    grpc = gateway(ExporterSettings(type="otlp", endpoint="http://collector.obs:4317"))
    assert grpc["exporters"]["otlp_grpc/backend"]["tls"] == {"insecure": True}


def test_user_values_are_escaped_for_the_collector():
    config = gateway(
        ExporterSettings(type="otlp", endpoint="https://o.example.com:4317", headers={"X-Price": "$5"}), cluster="a$b"
    )
    assert config["processors"]["resource"]["attributes"][0]["value"] == "a$$b"
    assert config["exporters"]["otlp_grpc/backend"]["headers"]["X-Price"] == "$$5"
    assert unescaped_dollars(config) == []
    assert escape_env("$1 and ${x}") == "$$1 and $${x}"


def test_unescaped_dollar_detector_catches_a_raw_dollar():
    assert unescaped_dollars({"regex": "^a$"}) != []
    assert unescaped_dollars({"endpoint": "${env:MY_POD_IP}:1"}) == []


def test_memory_limiter_is_derived_from_the_container_limit():
    assert memory_limiter("512Mi") == {"check_interval": "1s", "limit_mib": 409, "spike_limit_mib": 102}
    assert memory_limiter("1Gi")["limit_mib"] == 819
    config = agent(
        resources={"cpuRequest": "10m", "cpuLimit": "100m", "memoryRequest": "100Mi", "memoryLimit": "200Mi"}
    )
    assert config["processors"]["memory_limiter"]["limit_mib"] == 160


def test_agent_reads_only_flux_controller_containers_with_stored_offsets():
    receiver = agent()["receivers"]["file_log/flux"]
    assert receiver["include"] == [
        "/var/log/pods/flux-system_source-controller-*_*/manager/*.log",
        "/var/log/pods/flux-system_helm-controller-*_*/manager/*.log",
    ]
    assert receiver["storage"] == "file_storage/checkpoints"
    assert receiver["start_at"] == "beginning"
    operators = {op["type"]: op for op in receiver["operators"]}
    assert operators["json_parser"]["severity"]["parse_from"] == "attributes.level"
    assert operators["json_parser"]["timestamp"]["parse_from"] == "attributes.ts"
    assert operators["json_parser"]["timestamp"]["layout"] == c.FLUX_LOG_TIME_LAYOUT
    removed = {op["field"] for op in receiver["operators"] if op["type"] == "remove"}
    kept = {f"attributes.{field}" for field in c.FLUX_LOG_SEARCHABLE_FIELDS}
    assert removed == {"attributes.ts", "attributes.level"} and not removed & kept


def test_agent_forwards_to_the_gateway_without_any_token():
    config = agent()
    exporter = config["exporters"]["otlp_grpc/gateway"]
    assert exporter["endpoint"] == "gw.ns.svc:4317"
    assert "headers" not in exporter
    assert ENV_PREFIX not in str(config)


NETWORK_EXPORTERS = [
    ExporterSettings(type="dash0", region="eu-west-1"),
    ExporterSettings(type="otlp", endpoint="https://otlp.example.com", protocol="http"),
]


def bridged_seconds(config, exporter_id):
    """How long an outage the exporter's queue and retries cover, read off the config alone."""
    exporter = config["exporters"][exporter_id]
    batch_timeout = duration_seconds(config["processors"]["batch"]["timeout"])
    # One exporter instance (and queue) per signal serves every pipeline of that signal; each
    # pipeline's batch processor emits at most one timed batch per interval plus one that filled
    # up early, and the queue must hold all of them for the whole outage.
    feeding = Counter(name.split("/")[0] for name, pipeline in config["service"]["pipelines"].items()
                      if exporter_id in pipeline["exporters"])
    requests_per_interval = 2 * max(feeding.values())
    queue_covers = exporter["sending_queue"]["queue_size"] / requests_per_interval * batch_timeout
    retry_covers = duration_seconds(exporter["retry_on_failure"]["max_elapsed_time"])
    return min(queue_covers, retry_covers)


@pytest.mark.parametrize("events", [(), ("flux-system",)], ids=["no-events", "events"])
@pytest.mark.parametrize("exporter", NETWORK_EXPORTERS)
@pytest.mark.parametrize("outage", ["15m", "30m", "2h30m"])
def test_gateway_queue_is_persistent_and_bridges_the_configured_outage(exporter, outage, events):
    config = gateway_config(cluster_name="c", signals=SignalSettings(),
                            gateway=GatewaySettings(sending_queue={"outage": outage, "volumeSize": "4Gi"}),
                            exporter_settings=exporter, scrape_targets=TARGETS, event_namespaces=events)
    (exporter_id,) = config["exporters"]
    body = config["exporters"][exporter_id]
    assert body["retry_on_failure"]["enabled"] and body["sending_queue"]["enabled"]
    # A full queue holds the pipeline back; refusing would make the batch processor drop the batch.
    assert body["sending_queue"]["block_on_overflow"] is True
    storage = body["sending_queue"]["storage"]
    assert storage.startswith(c.Component.FILE_STORAGE + "/") and storage in config["service"]["extensions"]
    assert config["extensions"][storage]["directory"] == QUEUE_MOUNT
    assert bridged_seconds(config, exporter_id) >= duration_seconds(outage) >= c.MIN_BRIDGED_OUTAGE_SECONDS


def test_debug_exporter_keeps_no_queue():
    config = gateway(ExporterSettings(type="debug"))
    assert set(config["exporters"]["debug"]) == {"verbosity"}
    assert not [ext for ext in config["extensions"] if ext.startswith(c.Component.FILE_STORAGE)]


@pytest.mark.parametrize("outage", ["15m", "1h"])
def test_agent_resumes_from_stored_offsets_and_queues_a_gateway_outage(outage):
    config = log_agent_config(
        flux_namespace="flux-system", controllers=["helm-controller"], agent=LogAgentSettings(),
        gateway_otlp_grpc="gw:4317", queue=SendingQueueSettings(outage=outage),
    )
    (receiver,) = config["receivers"].values()
    (exporter_id,) = config["exporters"]
    storage = receiver["storage"]
    assert config["extensions"][storage]["directory"] == CHECKPOINT_MOUNT
    # Offsets of known files come from storage; `beginning` only decides where a new file starts.
    assert receiver["start_at"] == "beginning"
    assert receiver["retry_on_failure"] == {"enabled": True, "max_elapsed_time": "0s"}
    assert config["exporters"][exporter_id]["sending_queue"]["storage"] == storage
    assert bridged_seconds(config, exporter_id) >= duration_seconds(outage)



# --- the collectors' own metrics (gateway.pipelineMetrics) ------------------------------------------
def own_job(config, job):
    (scrape,) = [j for j in config["receivers"]["prometheus"]["config"]["scrape_configs"] if j["job_name"] == job]
    return scrape


@pytest.mark.parametrize("logs", [True, False], ids=["with-agents", "without-logs"])
def test_the_gateway_scrapes_its_own_metrics_and_takes_the_agents(logs):
    config = gateway_config(
        cluster_name="c1", signals=SignalSettings(logs=logs), gateway=GatewaySettings(scrape_interval="20s"),
        exporter_settings=ExporterSettings(type="debug"), scrape_targets=TARGETS, pipeline_metrics=True,
    )
    assert_valid_collector_config(config)
    (reader,) = config["service"]["telemetry"]["metrics"]["readers"]
    exposition = reader["pull"]["exporter"]["prometheus"]
    # Served on the pod's own address, named by Prometheus conventions, and scraped there only.
    assert (exposition["host"], exposition["port"]) == ("${env:MY_POD_IP}", c.COLLECTOR_TELEMETRY_PORT)
    assert exposition["without_type_suffix"] is False and exposition["without_units"] is False
    job = own_job(config, GATEWAY_JOB)
    assert job["static_configs"] == [{"targets": [f"${{env:MY_POD_IP}}:{c.COLLECTOR_TELEMETRY_PORT}"]}]
    assert job["scrape_interval"] == "20s"
    (keep,) = job["metric_relabel_configs"]
    assert keep["action"] == "keep" and keep["regex"].split("|") == sorted(c.PIPELINE_METRICS)
    receivers = config["service"]["pipelines"]["metrics"]["receivers"]
    assert receivers == (["prometheus", "otlp"] if logs else ["prometheus"])


def test_without_pipeline_metrics_no_collector_serves_or_scrapes_its_own():
    configs = [gateway(), agent()]
    for config in configs:
        assert "telemetry" not in config["service"]
    assert [
        j["job_name"] for j in configs[0]["receivers"]["prometheus"]["config"]["scrape_configs"]
    ] == [CONTROLLERS_JOB]
    assert configs[0]["service"]["pipelines"]["metrics"]["receivers"] == ["prometheus"]
    assert "metrics" not in configs[1]["service"]["pipelines"]


def test_the_agent_sends_its_own_metrics_with_its_node_to_the_gateway():
    config = log_agent_config(
        flux_namespace="flux-system", controllers=["helm-controller"], agent=LogAgentSettings(),
        gateway_otlp_grpc="gw:4317", queue=SendingQueueSettings(), trace_correlation={"log_statements": []},
        pipeline_metrics_interval="15s",
    )
    assert_valid_collector_config(config)
    job = own_job(config, AGENT_JOB)
    assert job["static_configs"][0]["labels"] == {NODE_LABEL: f"${{env:{NODE_NAME_ENV}}}"}
    assert job["scrape_interval"] == "15s"
    metrics = config["service"]["pipelines"]["metrics"]
    # Through the same exporter and queue as the logs; the log lines' trace correlation is for logs only.
    assert metrics == {"receivers": ["prometheus"], "processors": ["memory_limiter", "batch"],
                       "exporters": config["service"]["pipelines"]["logs"]["exporters"]}
    assert config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]["prometheus"]["host"] \
        == "${env:MY_POD_IP}"
