"""Entry point of the fluxcd-otel multi-language package (see PulumiPlugin.yaml).

The component provider host answers the engine: it serves the schema that it infers from the
hosted components' type annotations, and constructs them for programs in other languages.
"""

from pulumi.provider.experimental import component_provider_host

from fluxcd_otel.resources.multi_language import HOSTED_COMPONENTS, PACKAGE_NAME

if __name__ == "__main__":
    component_provider_host(components=HOSTED_COMPONENTS, name=PACKAGE_NAME)
