"""Rewrites every file generated from the configuration model, after a change to config.py.

    python -m components.regenerate

The README's key table, docs/configuration.md, the stack-file JSON Schema and the typed
arguments of the multi-language component; each has a test that fails while it is stale.
"""

from __future__ import annotations

from pathlib import Path

from .config_reference import reference, with_table
from .multi_language_codegen import ARGS_MODULE, module_source
from .stack_schema import SCHEMA_FILE, schema_text

PROJECT_DIR = Path(__file__).resolve().parents[1]


def main() -> None:
    readme = PROJECT_DIR / "README.md"
    readme.write_text(with_table(readme.read_text()))
    (PROJECT_DIR / "docs" / "configuration.md").write_text(reference())
    (PROJECT_DIR / SCHEMA_FILE).write_text(schema_text())
    ARGS_MODULE.write_text(module_source())


if __name__ == "__main__":
    main()
