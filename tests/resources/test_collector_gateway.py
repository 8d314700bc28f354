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


def secrets_named(resources, suffix):
    return [r for r in resources if r.type == "kubernetes:core/v1:Secret"
            and r.inputs["metadata"]["name"].endswith(suffix)]


def test_token_only_in_the_secret_and_marked_secret():
    resources = build_gateway(pulumi.Output.secret(TOKEN))
    (secret,) = secrets_named(resources, "-export-credentials")
    string_data = secret.inputs["stringData"]
    assert rpc.is_rpc_secret(string_data) and rpc.unwrap_rpc_secret(string_data) == {"token": TOKEN}
    others = [r for r in resources if r is not secret]
    assert all(TOKEN not in str(r.inputs) for r in others)


def test_plain_token_input_is_still_stored_as_a_secret():
    resources = build_gateway(TOKEN)
    (secret,) = secrets_named(resources, "-export-credentials")
    assert rpc.is_rpc_secret(secret.inputs["stringData"])


def test_the_receivers_accept_three_generations_of_token():
    resources = build_gateway(TOKEN)
    tokens = {r.inputs["metadata"]["name"]: r for r in secrets_named(resources, "") if "-receiver-token-" in r.name}
    assert sorted(tokens) == [f"flux-otel-gateway-receiver-token-{n}" for n in (0, 1, 2)]
    assert all(rpc.is_rpc_secret(r.inputs["data"]) for r in tokens.values())
    assert len({str(rpc.unwrap_rpc_secret(r.inputs["data"])) for r in tokens.values()}) == 3
    values = releases(resources)["flux-otel-gateway"]["values"]
    read = {entry["name"]: entry["valueFrom"]["secretKeyRef"]["name"] for entry in values["extraEnvs"]}
    assert {name: secret for name, secret in read.items() if "RECEIVER" in name} == {
        "FLUXCD_OTEL_RECEIVER_TOKEN_PREVIOUS": "flux-otel-gateway-receiver-token-0",
        "FLUXCD_OTEL_RECEIVER_TOKEN_CURRENT": "flux-otel-gateway-receiver-token-1",
        "FLUXCD_OTEL_RECEIVER_TOKEN_NEXT": "flux-otel-gateway-receiver-token-2",
    }


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


def test_debug_exporter_needs_no_export_secret():
    resources = build_gateway(None, ExporterSettings(type="debug"))
    assert not secrets_named(resources, "-export-credentials")
    env = releases(resources)["flux-otel-gateway"]["values"]["extraEnvs"]
    assert all(entry["name"].startswith("FLUXCD_OTEL_RECEIVER_TOKEN_") for entry in env)
