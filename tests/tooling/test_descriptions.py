"""Each key's description, read from the docstrings of components/config/ by the generators only."""

from pydantic import BaseModel

from components.config import GatewaySettings, StackConfig
from components.config.alerts import ReconcileErrorsAlertSettings, SlowReconcileAlertSettings
from components.config.values import Model
from components.tooling.descriptions import DescribedFields, descriptions


class _Base(Model):
    kept: int = 0
    """Kept by subclasses."""
    redeclared: int = 0
    """Redeclared below."""
    undocumented: int = 0


class _Derived(_Base):
    redeclared: int = 1
    extra: int = 0
    (
        "Two strings "
        "joined."
    )


def test_a_field_has_the_docstring_under_it_in_the_class_that_declares_it():
    # As pydantic's `use_attribute_docstrings` reads them: a redeclared field keeps no inherited docstring.
    assert descriptions(_Derived) == {
        "kept": "Kept by subclasses.", "redeclared": None, "undocumented": None, "extra": "Two strings joined."
    }


def test_multi_line_docstrings_lose_their_indentation():
    window = descriptions(SlowReconcileAlertSettings)["window"]
    reconcile_errors = descriptions(ReconcileErrorsAlertSettings)["enabled"]
    assert window is not None and window.startswith("Window the mean is taken over; as long as")
    assert reconcile_errors is not None and "\n" in reconcile_errors
    assert all(line == line.strip() for line in reconcile_errors.splitlines())


def test_the_models_carry_no_descriptions():
    """Importing the package reads no model's source: the program never shows a description."""
    def models(model: type[BaseModel]):
        yield model
        for field in model.model_fields.values():
            for candidate in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                    yield from models(candidate)

    assert [(model.__name__, name) for model in models(StackConfig) for name, field in model.model_fields.items()
            if field.description is not None] == []


def test_the_json_schema_has_every_description_by_key_or_by_name():
    for by_alias in (True, False):
        schema = StackConfig.model_json_schema(by_alias=by_alias, schema_generator=DescribedFields)
        gateway = schema["$defs"]["GatewaySettings"]["properties"]
        key = "sendingQueue" if by_alias else "sending_queue"
        assert gateway[key]["description"] == descriptions(GatewaySettings)["sending_queue"]
        assert schema["properties"]["clusterName" if by_alias else "cluster_name"]["description"] == (
            descriptions(StackConfig)["cluster_name"]
        )
