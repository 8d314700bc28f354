"""Chart values: valid against the chart's closed schema, least privilege, no stray ports."""

import pytest

from components import constants as c
from components.builders.collector_configs import NODE_NAME_ENV, QUEUE_MOUNT, gateway_config, log_agent_config
from components.builders.export_credentials import BASIC_AUTH, BEARER_TOKEN, header_secret, secret_env
from components.builders.helm_values import gateway_values, log_agent_values
from components.config import ExporterSettings, GatewaySettings, LogAgentSettings, SendingQueueSettings, SignalSettings
from tests.helpers import validate_chart_values

SETTINGS = GatewaySettings()


def gateway(signals=SignalSettings(), secret_headers=(), queue=None):
    config = gateway_config(cluster_name="c", signals=signals, gateway=SETTINGS,
                            exporter_settings=ExporterSettings(type="debug"), scrape_targets=["t:8080"])
    return gateway_values(fullname="gw", image=SETTINGS.image, resources=SETTINGS.resources, replicas=1,
                          config=config, secret_env=secret_env("s", list(secret_headers)), queue=queue)


def agent(node_name_env=False):
    settings = LogAgentSettings()
    config = log_agent_config(flux_namespace="flux-system", controllers=["source-controller"], agent=settings,
                              gateway_otlp_grpc="gw:4317", queue=SendingQueueSettings())
    return log_agent_values(fullname="logs", image=SETTINGS.image, resources=settings.resources, config=config,
                            checkpoint_host_dir="/var/lib/fluxcd-otel/logs", node_name_env=node_name_env)


def test_the_agent_learns_its_node_name_only_when_its_metrics_carry_it():
    assert "extraEnvs" not in agent()
    (env,) = agent(node_name_env=True)["extraEnvs"]
    assert env == {"name": NODE_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}


QUEUES = {
    "pvc": SendingQueueSettings(),
    "pvc-class": SendingQueueSettings(storage_class_name="fast-ssd"),
    "emptydir": SendingQueueSettings(storage="emptyDir"),
}


@pytest.mark.parametrize("values", [gateway(), gateway(secret_headers=[BEARER_TOKEN, header_secret("x-api-key")]),
                                    gateway(SignalSettings(logs=False)), agent()]
                         + [gateway(queue=queue) for queue in QUEUES.values()])
def test_values_validate_against_the_chart_schema(values):
    validate_chart_values(values)


def test_schema_check_rejects_a_misspelt_key():
    with pytest.raises(Exception, match="replicaCont"):
        validate_chart_values({**gateway(), "replicaCont": 1})


def test_gateway_serves_only_the_ports_its_receivers_use():
    ports = gateway(SignalSettings(logs=False))["ports"]
    assert {name for name, port in ports.items() if port["enabled"]} == {"otlp-http"}
    assert set(ports) == set(c.COLLECTOR_CHART_DEFAULT_PORTS)


def test_gateway_is_restricted():
    values = gateway()
    assert values["podSecurityContext"]["runAsNonRoot"] is True
    container = values["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert container["seccompProfile"] == {"type": "RuntimeDefault"}
    assert values["serviceAccount"]["automountServiceAccountToken"] is False
    assert values["clusterRole"] == {"create": False}


def test_export_secrets_reach_the_gateway_only_as_secret_references():
    env = gateway(secret_headers=[BASIC_AUTH, header_secret("X-Honeycomb-Team")])["extraEnvs"]
    assert env == [
        {"name": "FLUXCD_OTEL_EXPORT_BASIC_AUTH", "valueFrom": {"secretKeyRef": {"name": "s", "key": "basic-auth"}}},
        {"name": "FLUXCD_OTEL_EXPORT_HEADER_X_HONEYCOMB_TEAM",
         "valueFrom": {"secretKeyRef": {"name": "s", "key": "header-x-honeycomb-team"}}},
    ]
    assert "extraEnvs" not in gateway()


def test_agent_has_no_ports_no_service_and_a_read_only_log_mount():
    values = agent()
    assert values["mode"] == "daemonset"
    assert not any(port["enabled"] for port in values["ports"].values())
    assert values["service"] == {"enabled": False}
    mounts = {m["name"]: m for m in values["extraVolumeMounts"]}
    assert mounts["pod-logs"]["readOnly"] is True
    volumes = {v["name"]: v["hostPath"] for v in values["extraVolumes"]}
    assert volumes["pod-logs"] == {"path": "/var/log/pods", "type": "Directory"}
    assert volumes["checkpoints"]["path"] == "/var/lib/fluxcd-otel/logs"
    security = values["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"]} and security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True and security["privileged"] is False
    assert "hostNetwork" not in values and "hostPID" not in values


def test_both_releases_replace_the_chart_config_wholesale():
    for values in (gateway(), agent()):
        assert "config" not in values
        assert "health_check" in values["alternateConfig"]["extensions"]
        assert values["image"]["tag"] == c.COLLECTOR_IMAGE_TAG
        assert values["command"] == {"name": c.COLLECTOR_COMMAND}


def test_persistent_queue_makes_the_gateway_a_statefulset_with_a_claim_per_pod():
    values = gateway(queue=QUEUES["pvc-class"])
    assert values["mode"] == "statefulset"
    (template,) = values["statefulset"]["volumeClaimTemplates"]
    assert template["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}},
                                "storageClassName": "fast-ssd"}
    assert values["extraVolumeMounts"] == [{"name": template["metadata"]["name"], "mountPath": QUEUE_MOUNT}]
    assert "extraVolumes" not in values
    # fsGroup makes the claimed volume writable by the collector's non-root uid.
    assert values["podSecurityContext"]["fsGroup"] == c.COLLECTOR_UID


def test_empty_dir_queue_keeps_a_deployment_and_bounds_the_volume():
    values = gateway(queue=QUEUES["emptydir"])
    assert values["mode"] == "deployment" and "statefulset" not in values
    (volume,) = values["extraVolumes"]
    assert volume["emptyDir"] == {"sizeLimit": "2Gi"}
    assert values["extraVolumeMounts"] == [{"name": volume["name"], "mountPath": QUEUE_MOUNT}]


def test_gateway_without_a_queue_mounts_nothing():
    values = gateway()
    assert values["mode"] == "deployment"
    assert not {"extraVolumes", "extraVolumeMounts", "statefulset"} & set(values)


@pytest.mark.parametrize("values", [gateway(queue=QUEUES["pvc"]), agent()])
def test_every_pod_requests_and_limits_cpu_and_memory(values):
    assert set(values["resources"]) == {"requests", "limits"}
    assert all(set(values["resources"][kind]) == {"cpu", "memory"} for kind in ("requests", "limits"))
