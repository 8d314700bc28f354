"""The package's layout is its design: each sub-package has one role, and imports run one way,
tooling → resources → builders → config → internals → constants, so a builder never needs Pulumi
resources and the model never needs what is built from it; `internals` holds every use of another
library's private API. And the tests' layout: what the fast suite and the real tier share is in
e2e/harness/, so nothing outside tests/ imports it, and the fast suite starts no process (what does
is in e2e/)."""

import ast
from pathlib import Path

import pytest

from e2e.harness.render import ROOT

PACKAGE = ROOT / "components"
# Lower layers first; a module may import its own layer and the layers below it.
LAYERS = ["constants", "internals", "config", "builders", "resources", "tooling"]
# The package's two faces stand above every layer: its public imports and its command line.
FACES = {"__init__", "__main__"}


def layer_of(module: str) -> str:
    """`components.builders.manifests` → `builders`."""
    return module.split(".")[1]


def imports_of(path: Path) -> list[str]:
    """The `components.*` modules a file imports, its relative imports resolved."""
    package = ".".join(path.parent.relative_to(ROOT).parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            found += [target] if node.module else [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("components"):
            found.append(node.module)
    return [name for name in found if name.count(".") >= 1]


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path.stem not in FACES or path.parent != PACKAGE)


def test_every_module_stands_in_a_layer():
    assert {layer_of(".".join(path.relative_to(ROOT).with_suffix("").parts)) for path in MODULES} == set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path):
    own = LAYERS.index(layer_of(".".join(path.relative_to(ROOT).with_suffix("").parts)))
    upward = [name for name in imports_of(path) if LAYERS.index(layer_of(name)) > own]
    assert not upward, (
        f"{path.relative_to(ROOT)} imports a higher layer: {upward} (order: {' → '.join(reversed(LAYERS))})"
    )


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_nothing_outside_the_fast_suite_imports_it():
    importing = [str(path.relative_to(ROOT)) for folder in ("components", "e2e", "bench", "provider", "examples")
                 for path in (ROOT / folder).rglob("*.py")
                 if any(name == "tests" or name.startswith("tests.") for name in imported_modules(path))]
    assert importing == []


def test_the_fast_suite_starts_no_process():
    starting = [str(path.relative_to(ROOT)) for path in (ROOT / "tests").rglob("*.py")
                if imported_modules(path) & {"subprocess", "multiprocessing"}]
    assert starting == []
