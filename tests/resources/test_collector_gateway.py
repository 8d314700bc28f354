"""CollectorGateway under Pulumi mocks: the token lives only in a Secret, as a secret Output."""

import pulumi
import pytest
from pulumi.runtime import rpc

from components import CollectorGateway, CollectorGatewayArgs, ConfigError
from components.config import ExporterSettings, GatewaySettings
from e2e.harness.render import releases
from tests.helpers import TOKEN, register, validate_chart_values

DASH0 = ExporterSettings(type="dash0", region="eu-west-1")


def build_gateway(token, exporter=DASH0):
    def build():
        CollectorGateway("gw", CollectorGatewayArgs(cluster_name="c1", exporter=exporter, gateway=GatewaySettings(),
                                                    scrape_targets=["t.flux-system.svc:8080"], export_token=token))
    return register(build)


def test_token_only_in_the_secret_and_marked_secret():
    resources = build_gateway(pulumi.Output.secret(TOKEN))
    secrets = [r for r in resources if r.type == "kubernetes:core/v1:Secret"]
    assert len(secrets) == 1
    string_data = secrets[0].inputs["stringData"]
    assert rpc.is_rpc_secret(string_data) and rpc.unwrap_rpc_secret(string_data) == {"token": TOKEN}
    others = [r for r in resources if r is not secrets[0]]
    assert all(TOKEN not in str(r.inputs) for r in others)


def test_plain_token_input_is_still_stored_as_a_secret():
    resources = build_gateway(TOKEN)
    secret = next(r for r in resources if r.type == "kubernetes:core/v1:Secret")
    assert rpc.is_rpc_secret(secret.inputs["stringData"])


def test_release_is_pinned_in_its_own_restricted_namespace():
    resources = build_gateway(pulumi.Output.secret(TOKEN))
    namespace = next(r.inputs for r in resources if r.type == "kubernetes:core/v1:Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    release = releases(resources)["flux-otel-gateway"]
    assert release["namespace"] == namespace["metadata"]["name"] == "flux-otel"
    assert release["chart"] == "opentelemetry-collector" and release["version"] == "0.170.0"
    assert release["repositoryOpts"] == {"repo": "https://open-telemetry.github.io/opentelemetry-helm-charts"}
    assert (
        release["values"]["extraEnvs"][0]["valueFrom"]["secretKeyRef"]["name"] == "flux-otel-gateway-export-credentials"
    )
    validate_chart_values(release["values"])


def test_dash0_without_token_fails_before_anything_is_registered():
    holder = {}

    def build():
        with pytest.raises(ConfigError, match="exportToken: required") as caught:
            CollectorGateway("gw", CollectorGatewayArgs(cluster_name="c1", exporter=DASH0))
        holder["raised"] = caught.value

    assert register(build) == [] and holder["raised"]


def test_debug_exporter_needs_no_secret():
    resources = build_gateway(None, ExporterSettings(type="debug"))
    assert not [r for r in resources if r.type == "kubernetes:core/v1:Secret"]
    assert "extraEnvs" not in releases(resources)["flux-otel-gateway"]["values"]
