"""FluxLogAgent under Pulumi mocks."""

from components import FluxLogAgent, FluxLogAgentArgs
from components.config import FluxSettings
from e2e.harness.render import releases
from tests.helpers import assert_valid_collector_config, register, validate_chart_values


def test_agent_release_in_a_privileged_namespace_forwarding_to_the_gateway():
    resources = register(lambda: FluxLogAgent("logs", FluxLogAgentArgs(
        gateway_otlp_grpc="gw.flux-otel.svc:4317", flux=FluxSettings(controllers=["kustomize-controller"]))))
    namespace = next(r.inputs for r in resources if r.type == "kubernetes:core/v1:Namespace")
    assert namespace["metadata"]["name"] == "flux-otel-logs"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    release = releases(resources)["flux-otel-logs"]
    assert release["namespace"] == "flux-otel-logs"
    values = release["values"]
    validate_chart_values(values)
    config = values["alternateConfig"]
    assert_valid_collector_config(config)
    assert config["exporters"]["otlp_grpc/gateway"]["endpoint"] == "gw.flux-otel.svc:4317"
    assert config["receivers"]["file_log/flux"]["include"] == [
        "/var/log/pods/flux-system_kustomize-controller-*_*/manager/*.log"
    ]
    checkpoint = next(v for v in values["extraVolumes"] if v["name"] == "checkpoints")
    assert checkpoint["hostPath"]["path"] == "/var/lib/fluxcd-otel/flux-otel-logs"
