"""Focused tests of the compat engine's own reasoning (the big pair table lives elsewhere).

Every "incompatible" answer is re-checked here with plain python-jsonschema: the witness must
be valid under the producer and invalid under the consumer.
"""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from jsonschema.validators import validator_for

from teamrel.compat import Budget, CompatResult, check, compare
from teamrel.errors import RefError, SchemaError
from teamrel.models import SchemaDoc

S2020 = "https://json-schema.org/draft/2020-12/schema"
D7 = "http://json-schema.org/draft-07/schema#"
D4 = "http://json-schema.org/draft-04/schema#"


def _valid(schema: Any, value: Any, format_assertion: bool = False) -> bool:
    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    checker = cls.FORMAT_CHECKER if format_assertion else None
    return bool(cls(schema, format_checker=checker).is_valid(value))


def verdict(producer: Any, consumer: Any, **opts: Any) -> CompatResult:
    result = check(producer, consumer, **opts)
    if result.verdict == "incompatible":
        assert result.has_witness and result.problems
        if not isinstance(producer, SchemaDoc):
            fa = bool(opts.get("format_assertion"))
            assert _valid(producer, result.witness, fa), result.witness
            assert not _valid(consumer, result.witness, fa), result.witness
    if result.verdict == "unknown":
        assert result.reason
    return result


@pytest.mark.parametrize(
    ("producer", "consumer", "expected"),
    [
        # types and finite values
        ({"type": "integer"}, {"type": "number"}, "compatible"),
        ({"type": "number"}, {"type": "integer"}, "incompatible"),
        ({"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, "compatible"),
        ({"enum": ["a", "b", "d"]}, {"enum": ["a", "b", "c"]}, "incompatible"),
        ({"const": 1.0}, {"type": "integer"}, "compatible"),
        ({"type": "boolean"}, {"enum": [True, False]}, "compatible"),
        ({"type": "boolean"}, {"const": True}, "incompatible"),
        ({"type": ["string", "null"]}, {"type": "string"}, "incompatible"),
        # numbers: exact decimals, unions of intervals, small ranges decided value by value
        ({"type": "number", "multipleOf": 0.1}, {"multipleOf": 0.01}, "compatible"),
        ({"type": "integer"}, {"multipleOf": 0.5}, "compatible"),
        ({"multipleOf": 10}, {"multipleOf": 5}, "compatible"),
        ({"multipleOf": 5}, {"multipleOf": 10}, "incompatible"),
        ({"type": "integer"}, {"anyOf": [{"maximum": 0}, {"minimum": 1}]}, "compatible"),
        ({"type": "number"}, {"anyOf": [{"maximum": 0}, {"minimum": 1}]}, "incompatible"),
        ({"type": "integer", "minimum": 1, "maximum": 3}, {"enum": [1, 2, 3]}, "compatible"),
        ({"exclusiveMinimum": 0, "maximum": 5}, {"minimum": 0}, "compatible"),
        ({"minimum": 0}, {"exclusiveMinimum": 0}, "incompatible"),
        # strings
        ({"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 10}, "compatible"),
        ({"type": "string", "maxLength": 10}, {"type": "string", "maxLength": 5}, "incompatible"),
        (
            {"type": "string", "pattern": "^[a-z]{3}$"},
            {"minLength": 3, "maxLength": 3},
            "compatible",
        ),
        ({"pattern": "^[0-9]+$"}, {"pattern": "^[0-9]*$"}, "compatible"),
        ({"type": "string", "pattern": "^[0-9]*$"}, {"pattern": "^[0-9]+$"}, "incompatible"),
        # objects
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "required": ["a"]},
            "compatible",
        ),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "required": ["a"]},
            "incompatible",
        ),
        (
            {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
            {"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": False},
            "compatible",
        ),
        (
            {"type": "object", "properties": {"a": {}, "b": {}}, "additionalProperties": False},
            {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
            "incompatible",
        ),
        (
            {
                "type": "object",
                "patternProperties": {"^x-[a-z]+$": {"type": "integer"}},
                "additionalProperties": False,
            },
            {
                "type": "object",
                "patternProperties": {"^x-": {"type": "number"}},
                "additionalProperties": False,
            },
            "compatible",
        ),
        (
            {"type": "object", "dependentSchemas": {"card": {"required": ["billing"]}}},
            {"type": "object", "dependentRequired": {"card": ["billing"]}},
            "compatible",
        ),
        (
            {"type": "object"},
            {"type": "object", "dependentRequired": {"card": ["billing"]}},
            "incompatible",
        ),
        ({"type": "object", "maxProperties": 2}, {"maxProperties": 3}, "compatible"),
        ({"type": "object"}, {"maxProperties": 1}, "incompatible"),
        # arrays
        (
            {"type": "array", "items": {"type": "integer"}},
            {"items": {"type": "number"}},
            "compatible",
        ),
        (
            {"type": "array", "items": {"type": "number"}},
            {"items": {"type": "integer"}},
            "incompatible",
        ),
        (
            {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
            {"type": "array", "maxItems": 1},
            "compatible",
        ),
        (
            {"type": "array", "prefixItems": [{"type": "string"}]},
            {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
            "incompatible",
        ),
        ({"type": "array", "uniqueItems": True}, {"type": "array"}, "compatible"),
        ({"type": "array", "items": {"type": "integer"}}, {"uniqueItems": True}, "incompatible"),
        (
            {"type": "array", "contains": {"const": 1}, "minContains": 2},
            {"type": "array", "contains": {"type": "integer"}},
            "compatible",
        ),
        ({"type": "array"}, {"type": "array", "contains": {"const": 1}}, "incompatible"),
        # combinators
        (
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            {"type": ["string", "number"]},
            "compatible",
        ),
        ({"oneOf": [{"type": "string"}, {"type": "null"}]}, {"type": "string"}, "incompatible"),
        ({"type": "string"}, {"oneOf": [{"type": "string"}, {"type": "integer"}]}, "compatible"),
        ({"allOf": [{"minimum": 0}, {"not": {"minimum": 0}}]}, False, "compatible"),
        ({"type": "integer", "not": {"const": 0}}, {"not": {"const": 0}}, "compatible"),
        (
            {"type": "object", "if": {"required": ["card"]}, "then": {"required": ["last4"]}},
            {"type": "object", "dependentRequired": {"card": ["last4"]}},
            "compatible",
        ),
        # unevaluatedProperties closed through allOf
        (
            {
                "allOf": [{"properties": {"a": {"type": "string"}}}],
                "unevaluatedProperties": False,
                "type": "object",
            },
            {"type": "object", "properties": {"a": {}}, "additionalProperties": False},
            "compatible",
        ),
    ],
)
def test_core_verdicts(producer: Any, consumer: Any, expected: str) -> None:
    assert verdict(producer, consumer).verdict == expected


LIST = {
    "$defs": {
        "node": {
            "type": "object",
            "properties": {"value": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
            "required": ["value"],
            "additionalProperties": False,
        }
    },
    "$ref": "#/$defs/node",
}


def _list_of(value_type: str) -> dict[str, Any]:
    return {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"value": {"type": value_type}, "next": {"$ref": "#/$defs/node"}},
                "required": ["value"],
            }
        },
        "$ref": "#/$defs/node",
    }


def test_recursive_list_narrowed_is_proven_coinductively() -> None:
    assert verdict(LIST, _list_of("number")).verdict == "compatible"


def test_recursive_list_widened_has_deep_witness() -> None:
    result = verdict(_list_of("number"), LIST)
    assert result.verdict == "incompatible"


def test_recursive_tree_against_itself_renamed_defs() -> None:
    tree = {
        "$defs": {
            "t": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/t"}}},
            }
        },
        "$ref": "#/$defs/t",
    }
    other = {
        "$defs": {
            "u": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/u"}}},
            }
        },
        "$ref": "#/$defs/u",
    }
    assert verdict(tree, other).verdict == "compatible"


def test_ref_to_root_alone_is_not_an_error() -> None:
    assert verdict({"$ref": "#"}, {"$ref": "#"}).verdict in ("compatible", "unknown")


def test_draft7_producer_against_2020_consumer() -> None:
    p7 = {"$schema": D7, "type": "array", "items": [{"type": "string"}], "additionalItems": False}
    c20 = {"$schema": S2020, "type": "array", "prefixItems": [{"type": "string"}], "items": False}
    assert verdict(p7, c20).verdict == "compatible"
    # draft-07 ignores keywords beside $ref: the producer's maxLength does not apply
    p7ref = {
        "$schema": D7,
        "definitions": {"s": {"type": "string"}},
        "$ref": "#/definitions/s",
        "maxLength": 3,
    }
    assert verdict(p7ref, {"type": "string", "maxLength": 3}).verdict == "incompatible"


def test_draft4_exclusive_bounds_and_integers() -> None:
    p4 = {"$schema": D4, "type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert verdict(p4, {"exclusiveMinimum": 0}).verdict == "compatible"
    # python-jsonschema's draft-04 "integer" rejects 1.0
    c4 = {"$schema": D4, "type": "integer"}
    result = verdict({"type": "number", "minimum": 1, "maximum": 1}, c4)
    assert result.verdict == "incompatible" and result.witness == 1.0


def test_draft4_dependencies_array_form() -> None:
    p4 = {"$schema": D4, "type": "object", "dependencies": {"a": ["b"]}}
    assert verdict(p4, {"dependentRequired": {"a": ["b"]}}).verdict == "compatible"


def test_cross_file_refs_through_schema_docs() -> None:
    money = {
        "type": "object",
        "properties": {"amount": {"type": "number", "minimum": 0}},
        "required": ["amount"],
    }
    wide_money = {"type": "object", "properties": {"amount": {"type": "number"}}}
    producer = SchemaDoc.model_validate(
        {
            "uri": "file:///contracts/order.json",
            "schema": {"type": "object", "properties": {"total": {"$ref": "money.json"}}},
            "resources": {"file:///contracts/money.json": money},
        }
    )
    consumer = SchemaDoc.model_validate(
        {
            "uri": "file:///contracts/order2.json",
            "schema": {"type": "object", "properties": {"total": {"$ref": "money.json"}}},
            "resources": {"file:///contracts/money.json": wide_money},
        }
    )
    assert check(producer, consumer).verdict == "compatible"
    result = check(consumer, producer)
    assert result.verdict == "incompatible"
    assert result.problems[0].consumer_location.startswith("file:///contracts/money.json#")


def test_format_is_an_annotation_unless_asserted() -> None:
    assert verdict({"type": "string"}, {"type": "string", "format": "ipv4"}).verdict == "compatible"
    result = verdict(
        {"type": "string"}, {"type": "string", "format": "ipv4"}, format_assertion=True
    )
    assert result.verdict == "incompatible"
    same = {"type": "string", "format": "ipv4"}
    assert verdict(same, {"format": "ipv4"}, format_assertion=True).verdict == "compatible"


def test_unfaithful_format_checker_gives_unknown() -> None:
    # python-jsonschema's "email" check only looks for "@": asserting it would be a guess
    result = check({"type": "string"}, {"format": "email"}, format_assertion=True)
    assert result.verdict == "unknown" and "email" in (result.reason or "")


@pytest.mark.parametrize(
    "producer",
    [
        {"type": "object", "properties": {"contact": {"type": "string"}}},
        # decided value by value: the checker is asked about "a@b.c" and cannot answer exactly
        {"type": "object", "properties": {"contact": {"const": "a@b.c"}}},
    ],
)
def test_loose_format_checker_is_not_reported_as_missing(producer: Any) -> None:
    consumer = {"type": "object", "properties": {"contact": {"type": "string", "format": "email"}}}
    result = verdict(producer, consumer, format_assertion=True)
    assert result.verdict == "unknown"
    reason = result.reason or ""
    # the checker is installed (python-jsonschema always has one for "email"): it is loose
    assert "email" in jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers
    assert "looser than the specification" in reason, reason
    assert "installed" not in reason and "no checker" not in reason, reason
    assert reason.endswith("(at consumer#/properties/contact)"), reason


def test_missing_format_checker_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # as without the `fqdn` package (teamrel[formats]): python-jsonschema has no "hostname" checker
    monkeypatch.delitem(jsonschema.Draft202012Validator.FORMAT_CHECKER.checkers, "hostname")
    result = verdict({"type": "string"}, {"format": "hostname"}, format_assertion=True)
    assert result.verdict == "unknown"
    assert "no checker installed" in (result.reason or "")
    assert "teamrel[formats]" in (result.reason or "")
    # the same format on both sides accepts the same strings: no checker needed to decide
    same = {"type": "object", "properties": {"host": {"type": "string", "format": "hostname"}}}
    tighter = {
        "type": "object",
        "properties": {"host": {"type": "string", "format": "hostname", "maxLength": 63}},
        "required": ["host"],
    }
    assert verdict(tighter, same, format_assertion=True).verdict == "compatible"


def test_format_unknown_to_the_dialect_is_reported_as_such() -> None:
    result = verdict({"type": "string"}, {"$schema": D7, "format": "uuid"}, format_assertion=True)
    assert result.verdict == "unknown"
    assert "not defined in draft7" in (result.reason or ""), result.reason


@pytest.mark.parametrize("fmt", ["email", "regex", "idn-email", "no-such-format"])
def test_same_format_on_the_same_property_needs_no_checker(fmt: str) -> None:
    def contact(**extra: Any) -> dict[str, Any]:
        prop = {"type": "string", "format": fmt, **extra}
        return {"$schema": S2020, "type": "object", "properties": {"contact": prop}}

    assert verdict(contact(), contact(), format_assertion=True).verdict == "compatible"
    # not the same document: the proof compares the two `format`s
    tighter = contact(maxLength=40, pattern="^[a-z]")
    assert verdict(tighter, contact(), format_assertion=True).verdict == "compatible"
    looser = {"$schema": D7, "type": "object", "properties": contact()["properties"]}
    assert verdict(looser, contact(minLength=0), format_assertion=True).verdict == "compatible"


@pytest.mark.parametrize(
    ("producer", "consumer"),
    [
        # draft-07 does not define "uuid" (python-jsonschema does not check it there), 2020-12
        # does: the same name is not the same constraint
        ({"$schema": D7, "type": "string", "format": "uuid"}, {"type": "string", "format": "uuid"}),
        ({"$schema": D4, "type": "string", "format": "date"}, {"type": "string", "format": "date"}),
        (
            {"$schema": D7, "properties": {"id": {"type": "string", "format": "uuid"}}},
            {"properties": {"id": {"type": "string", "format": "uuid"}}},
        ),
    ],
)
def test_same_format_name_in_another_dialect_is_not_the_same_constraint(
    producer: Any, consumer: Any
) -> None:
    assert verdict(producer, consumer, format_assertion=True).verdict == "incompatible"


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "strin"},
        {"minimum": "1"},
        {"properties": []},
        {"allOf": []},
        {"pattern": "("},
        {"required": "a"},
        42,
        {"$schema": "https://example.com/unknown-dialect"},
    ],
)
def test_not_a_schema_is_a_schema_error(bad: Any) -> None:
    with pytest.raises(SchemaError):
        check(bad, True)


def test_dangling_ref_is_a_ref_error() -> None:
    with pytest.raises(RefError):
        check({"$ref": "#/$defs/missing"}, True)


def test_budget_exhaustion_is_unknown() -> None:
    producer = {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(300)}}
    consumer = {"type": "object", "properties": {f"p{i}": {"type": "number"} for i in range(300)}}
    result = check(producer, consumer, budget=Budget(max_steps=20))
    assert result.verdict == "unknown" and "budget" in (result.reason or "")
    assert check(producer, consumer).verdict == "compatible"


def test_too_deep_is_reported_as_such() -> None:
    deep: Any = {"type": "integer"}
    for _ in range(300):
        deep = {"type": "array", "items": deep}
    with pytest.raises(SchemaError, match="deep"):
        check(deep, deep)


def test_compare_relations() -> None:
    old = {"enum": ["a", "b"]}
    assert compare(old, {"enum": ["a", "b"]}).relation == "identical"
    widened = compare(old, {"enum": ["a", "b", "c"]})
    assert widened.relation == "widened" and widened.added.witness == "c"
    narrowed = compare(old, {"enum": ["a"]})
    assert narrowed.relation == "narrowed" and narrowed.removed.witness == "b"
    assert compare(old, {"enum": ["a", "c"]}).relation == "incomparable"
    doc = widened.to_json()
    assert doc["format_version"] == 1 and doc["relation"] == "widened"


def test_caller_mutation_does_not_poison_the_cache() -> None:
    schema: dict[str, Any] = {"type": "integer"}
    assert check(schema, {"type": "integer"}).verdict == "compatible"
    schema["type"] = "string"
    assert check(schema, {"type": "integer"}).verdict == "incompatible"
