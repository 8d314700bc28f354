"""Rewrites every file generated from the configuration model, after a change to components/config/.

    python -m components regenerate

docs/configuration.md, the stack-file JSON Schema and the typed arguments of the
multi-language component; each has a test that fails while it is stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from .config_reference import reference
from .multi_language_codegen import ARGS_MODULE, module_source
from .stack_schema import SCHEMA_FILE, schema_text

PROJECT_DIR = Path(__file__).resolve().parents[2]


def main(argv: Optional[list[str]] = None, project_dir: Path = PROJECT_DIR) -> int:
    argparse.ArgumentParser(
        prog=f"python -m {__package__.split('.')[0]} regenerate", description=__doc__.splitlines()[0]
    ).parse_args(argv)
    (project_dir / "docs" / "configuration.md").write_text(reference())
    (project_dir / SCHEMA_FILE).write_text(schema_text())
    (project_dir / ARGS_MODULE.relative_to(PROJECT_DIR)).write_text(module_source())
    return 0
