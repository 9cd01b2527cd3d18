"""The Pydantic source: the schema a slot gets is the one its direction needs.

A producer's output is what its model *serialises*, a consumer's input is what its model
*validates*; a producer schema is closed unless the model allows extra keys. Each rule is
shown with the real pydantic and the real compatibility engine: a break that only the right
mode catches, a false alarm that only the right mode avoids, a false witness that only a
closed producer schema avoids.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict, RootModel, ValidationError, computed_field

from teamrel.compat import check
from teamrel.models import SLOT_MODES, PydanticSource, SchemaDoc
from teamrel.sources.pydantic_gen import (
    DIALECT_2020_12,
    SourceProblem,
    load_model,
    model_schema,
)


class Invoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gross(self) -> int:
        return self.net * 2


class InvoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    net: int


class Line(BaseModel):
    sku: str


class Basket(BaseModel):  # extra="ignore", the default: model_dump never emits extras
    lines: list[Line]


class OpenBasket(BaseModel):
    model_config = ConfigDict(extra="allow")
    lines: list[Line]


class ClosedBasket(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[Line]


class Price(BaseModel):
    amount: Decimal


class PriceFloat(BaseModel):
    amount: float


class Tags(RootModel[list[str]]):
    pass


def verdict(producer: type[BaseModel], p_mode: str, consumer: type[BaseModel], c_mode: str) -> Any:
    return check(
        SchemaDoc.inline(model_schema(producer, p_mode), "p"),
        SchemaDoc.inline(model_schema(consumer, c_mode), "c"),
    )


def test_slot_directions() -> None:
    assert SLOT_MODES["output"] == SLOT_MODES["output_schema"] == SLOT_MODES["call"]
    assert SLOT_MODES["output"] == "serialization"
    for slot in ("input", "input_schema", "result", "contract"):
        assert SLOT_MODES[slot] == "validation"


def test_computed_field_break_only_serialization_catches() -> None:
    # what Invoice sends carries `gross`; InvoiceIn forbids it: a real break at runtime...
    sent = Invoice(net=3).model_dump(mode="json")
    with pytest.raises(ValidationError):
        InvoiceIn.model_validate(sent)
    # ...which the serialisation schema catches, with a witness the consumer really rejects
    right = verdict(Invoice, "serialization", InvoiceIn, "validation")
    assert right.verdict == "incompatible"
    assert [p.instance_pointer for p in right.problems] == ["/gross"]
    assert right.has_witness
    with pytest.raises(ValidationError):
        InvoiceIn.model_validate(right.witness)
    # the validation schema of the producer has no `gross`: it would prove the break away
    assert verdict(Invoice, "validation", InvoiceIn, "validation").verdict == "compatible"


def test_decimal_consumer_accepts_numbers_only_in_validation_mode() -> None:
    # a float producer sends a number; a Decimal consumer validates numbers fine
    Price.model_validate(PriceFloat(amount=1.5).model_dump(mode="json"))
    assert verdict(PriceFloat, "serialization", Price, "validation").verdict == "compatible"
    # read in the wrong direction, the consumer would seem to take strings only: a false alarm
    assert verdict(PriceFloat, "serialization", Price, "serialization").verdict == "incompatible"
    assert model_schema(Price, "serialization")["properties"]["amount"]["type"] == "string"


def test_decimal_producer_sends_strings() -> None:
    sent = Price(amount=Decimal("12.50")).model_dump(mode="json")
    assert sent == {"amount": "12.50"}
    jsonschema.validate(sent, model_schema(Price, "serialization"))
    assert verdict(Price, "serialization", PriceFloat, "validation").verdict == "incompatible"


def test_producer_schema_closed_unless_extra_allowed() -> None:
    closed = model_schema(Basket, "serialization")
    assert closed["additionalProperties"] is False
    assert closed["$defs"]["Line"]["additionalProperties"] is False  # nested models too
    # the validation schema of the same model stays open: it does accept (and drop) extras
    assert "additionalProperties" not in model_schema(Basket, "validation")
    # a model allowing extras dumps them: its producer schema must stay open
    assert model_schema(OpenBasket, "serialization").get("additionalProperties") is not False
    # a root model is not an object: nothing to close
    assert "additionalProperties" not in model_schema(Tags, "serialization")


def test_open_producer_would_be_a_false_witness() -> None:
    assert verdict(Basket, "serialization", ClosedBasket, "validation").verdict == "compatible"
    opened = model_schema(Basket, "serialization")
    opened.pop("additionalProperties")
    result = check(
        SchemaDoc.inline(opened, "p"),
        SchemaDoc.inline(model_schema(ClosedBasket, "validation"), "c"),
    )
    assert result.verdict == "incompatible"  # a message Basket.model_dump can never produce


def test_dialect_is_written() -> None:
    schema = model_schema(Basket, "validation")
    assert next(iter(schema)) == "$schema"
    assert schema["$schema"] == DIALECT_2020_12
    json.dumps(schema, allow_nan=False)


def test_load_model_refusals() -> None:
    assert load_model(f"{__name__}:Basket") is Basket
    with pytest.raises(SourceProblem, match="does not import"):
        load_model("teamrel_no_such_package.models:Basket")
    with pytest.raises(SourceProblem, match="has no attribute 'Nope'"):
        load_model(f"{__name__}:Nope")
    with pytest.raises(SourceProblem, match="not a Pydantic model"):
        load_model(f"{__name__}:verdict")
    with pytest.raises(SourceProblem, match="not a Pydantic model"):
        load_model("decimal:Decimal")
    with pytest.raises(SourceProblem, match="does not name a model"):
        load_model("no_colon")


@pytest.mark.parametrize(
    "ref", ["pkg.mod", "pkg.mod:", ":Model", "pkg..mod:Model", "pkg/mod:Model", "pkg.mod:Mo del"]
)
def test_malformed_reference_refused(ref: str) -> None:
    with pytest.raises(ValidationError, match="does not name a model"):
        PydanticSource.model_validate({"pydantic": ref, "file": "contracts/x.json"})


def test_reference_forms_accepted() -> None:
    for ref in ("mod:Model", "pkg.sub.mod:Outer.Inner", "_p.m_2:M"):
        assert PydanticSource.model_validate({"pydantic": ref, "file": "x.json"}).pydantic == ref
