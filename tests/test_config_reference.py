"""The README's configuration table is generated from the model and kept current."""

from support import ROOT

from components.config import StackConfig
from components.config_reference import END, START, config_table, with_table


def test_every_top_level_key_has_a_row():
    table = config_table()
    for name, field in StackConfig.model_fields.items():
        assert f"| `fluxcd-otel:{field.alias or name}` |" in table


def test_nested_rows_show_the_default_of_their_object():
    assert "| `fluxcd-otel:logAgent.resources.memoryLimit` | str | `\"256Mi\"` |" in config_table()


def test_readme_table_is_current():
    readme = (ROOT / "README.md").read_text()
    assert START in readme and END in readme
    assert with_table(readme) == readme, "run: python -m components.config_reference --write README.md"
