"""Entry point of the fluxcd-otel multi-language package (see PulumiPlugin.yaml).

The component provider answers the engine: it serves the schema that it infers from the hosted
components' type annotations, and constructs them for programs in other languages.
"""

import sys

from pulumi.provider import main

from fluxcd_otel.resources.multi_language import component_provider

if __name__ == "__main__":
    main(component_provider(), sys.argv[1:])
