"""The fluxcd-otel program: one stack, one cluster, configured by stacks/Pulumi.<stack>.yaml."""

import pulumi

from components import FluxObservability, load_stack_config

config = load_stack_config()
observability = FluxObservability("flux-observability", config)
for key, value in observability.outputs.items():
    pulumi.export(key, value)
