"""docs/configuration.md is generated from the model and kept current."""

from components.config import DNS_LABEL, K8S_NAME_WORDS, MEMORY_WORDS, SECRET_KEYS, StackConfig
from components.tooling import regenerate
from components.tooling.config_reference import keys, reference
from components.tooling.multi_language_codegen import ARGS_MODULE, module_source
from components.tooling.stack_schema import SCHEMA_FILE, schema_text
from e2e.harness.render import ROOT


def test_every_top_level_key_has_a_row_or_a_section():
    doc = reference()
    for name, field in StackConfig.model_fields.items():
        key = f"`fluxcd-otel:{field.alias or name}`"
        assert f"\n| {key} " in doc or f"\n## {key}\n" in doc, key


def test_nested_rows_show_the_default_of_their_object():
    row = "| `fluxcd-otel:logAgent.resources.memoryLimit` | "
    (line,) = [line for line in reference().splitlines() if line.startswith(row)]
    assert line.split(" | ")[2] == '`"256Mi"`'


def test_reference_doc_is_current():
    doc = ROOT / "docs" / "configuration.md"
    assert doc.is_file() and doc.read_text() == reference(), (
        "run: python -m components regenerate"
    )


def test_reference_lists_every_key_once_under_its_section():
    doc = reference()
    for key in keys():
        if key.type == "object" and "." not in key.path:
            assert doc.count(f"\n## `fluxcd-otel:{key.path}`\n") == 1, key.path
            continue
        row = f"| `fluxcd-otel:{key.path}`"
        assert doc.count(row) == 1, key.path
        section = key.path.split(".")[0].split("[")[0]
        if section != key.path:
            assert doc.index(f"## `fluxcd-otel:{section}`") < doc.index(row), key.path


def test_reference_marks_secrets_and_shows_constraints_and_allowed_values():
    doc = reference()
    for secret in SECRET_KEYS:
        assert f"| `fluxcd-otel:{secret}` *secret* |" in doc
    assert doc.count("*secret* |") == len(SECRET_KEYS)
    replicas = StackConfig.model_json_schema(by_alias=True)["$defs"]["GatewaySettings"]["properties"]["replicas"]
    assert f"int<br>{replicas['minimum']} to {replicas['maximum']} |" in doc
    assert "| `fluxcd-otel:mode` | `collector` \\| `dash0-operator` |" in doc
    assert f"| `fluxcd-otel:flux.namespace` | str<br>{K8S_NAME_WORDS} |" in doc
    assert f"| `fluxcd-otel:gateway.resources.memoryLimit` | str<br>{MEMORY_WORDS} |" in doc


def test_reference_explains_every_pattern_in_words():
    """No raw regex reaches the reference: each constrained type carries its words (config.Words)."""
    doc = reference()
    assert "matches `" not in doc and "items match" not in doc and "keys match" not in doc
    assert DNS_LABEL not in doc


def test_regenerate_rewrites_every_generated_file(tmp_path):
    """`python -m components regenerate` writes each generated file from the model, in any checkout,
    over a stale copy, and nothing else."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "components" / "resources").mkdir(parents=True)
    generated = [
        tmp_path / "docs" / "configuration.md", tmp_path / SCHEMA_FILE, tmp_path / ARGS_MODULE.relative_to(ROOT)
    ]
    for path in generated:
        path.write_text("stale\n")
    assert regenerate.main([], project_dir=tmp_path) == 0
    assert sorted(path for path in tmp_path.rglob("*") if path.is_file()) == sorted(generated)
    assert (tmp_path / "docs" / "configuration.md").read_text() == reference()
    assert (tmp_path / SCHEMA_FILE).read_text() == schema_text()
    assert (tmp_path / ARGS_MODULE.relative_to(ROOT)).read_text() == module_source()
