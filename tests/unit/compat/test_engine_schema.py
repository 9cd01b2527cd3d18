"""The engine's front end: dialect normalisation, well-formedness, nodes and the side cache."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from teamrel.compat import check, wellformed
from teamrel.compat.dialects import normalise
from teamrel.compat.evaluate import equal, exact, is_integer, multiple_of, ref_multiple_of
from teamrel.compat.readings import dialect_name
from teamrel.compat.schema import Side, json_depth, load_side
from teamrel.errors import SchemaError
from teamrel.models import SchemaDoc

D4, D6, D7 = jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator
D19, D20 = jsonschema.Draft201909Validator, jsonschema.Draft202012Validator


@pytest.mark.parametrize(
    ("raw", "cls", "expected"),
    [
        ({"minimum": 3, "exclusiveMinimum": True}, D4, {"exclusiveMinimum": 3}),
        ({"maximum": 3, "exclusiveMaximum": False}, D4, {"maximum": 3}),
        (
            {"items": [{"type": "string"}], "additionalItems": False},
            D7,
            {"prefixItems": [{"type": "string"}], "items": False},
        ),
        (
            {"items": {"type": "string"}, "additionalItems": False},
            D7,
            {"items": {"type": "string"}},
        ),
        (
            {"dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
            D6,
            {"dependentRequired": {"a": ["b"]}, "dependentSchemas": {"c": {"required": ["d"]}}},
        ),
        ({"$ref": "#/definitions/x", "type": "string"}, D7, {"$ref": "#/definitions/x"}),
        ({"$ref": "#/$defs/x", "type": "string"}, D20, {"$ref": "#/$defs/x", "type": "string"}),
        ({"prefixItems": [{}], "const": 1}, D4, {}),
        ({"if": {}, "then": {"type": "string"}}, D6, {}),
        ({"contains": {}, "minContains": 2}, D7, {"contains": {}}),
        ({"contains": {}, "minContains": 2}, D19, {"contains": {}, "minContains": 2}),
        ({"format": "email", "title": "x", "examples": [1]}, D20, {}),
    ],
)
def test_normalise_to_2020_12(raw: dict[str, Any], cls: Any, expected: dict[str, Any]) -> None:
    assert normalise(raw, cls, format_assertion=False) == expected


def test_format_kept_only_as_an_assertion() -> None:
    assert normalise({"format": "date"}, D20, format_assertion=True) == {"format": "date"}


def test_dialect_names() -> None:
    assert [dialect_name(c) for c in (D4, D6, D7, D19, D20)] == [
        "draft4",
        "draft6",
        "draft7",
        "draft2019-09",
        "draft2020-12",
    ]


@pytest.mark.parametrize(
    ("schema", "dialect", "pointer"),
    [
        ({"properties": {"a": {"type": "strng"}}}, "draft2020-12", "/properties/a/type"),
        ({"items": [{"minLength": -1}]}, "draft7", "/items/0/minLength"),
        ({"items": [{}]}, "draft2020-12", "/items"),
        ({"anyOf": [True, {"maxItems": 1.5}]}, "draft2020-12", "/anyOf/1/maxItems"),
        ({"exclusiveMinimum": True}, "draft7", "/exclusiveMinimum"),
        ({"dependencies": {"a": ["b", "b"]}}, "draft7", "/dependencies/a"),
        ({"properties": {"a": True}}, "draft4", "/properties/a"),
    ],
)
def test_wellformed_finds_the_first_bad_keyword(schema: Any, dialect: str, pointer: str) -> None:
    cls = {"draft4": D4, "draft7": D7, "draft2020-12": D20}[dialect]
    found = wellformed.problem(schema, dialect, frozenset(cls.VALIDATORS))
    assert found is not None and found[0] == pointer


def test_wellformed_ignores_annotations_and_ref_siblings() -> None:
    vocab = frozenset(D7.VALIDATORS)
    assert wellformed.problem({"title": 3, "examples": "x"}, "draft7", vocab) is None
    assert wellformed.problem({"$ref": "#", "minimum": "x"}, "draft7", vocab) is None


def test_json_depth_is_iterative() -> None:
    deep: Any = 1
    for _ in range(10_000):
        deep = [deep]
    assert json_depth(deep) > 128


def test_side_cache_reuses_schema_docs_by_content_and_copies() -> None:
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}}
    doc = SchemaDoc(uri="file:///c.json", schema=schema)
    first = load_side(doc, "producer", format_assertion=False)
    assert load_side(doc, "producer", format_assertion=False) is first
    equal_doc = SchemaDoc(uri="file:///c.json", schema=json.loads(json.dumps(schema)))
    assert load_side(equal_doc, "producer", format_assertion=False) is first
    assert first.schema == schema and first.schema is not schema
    assert load_side(doc, "producer", format_assertion=True) is not first


def test_plain_json_sides_are_not_cached_and_not_copied() -> None:
    # the caller owns a plain document and may change it after the call: a side built on
    # it serves one check, without the cost of a private copy
    schema: dict[str, Any] = {"type": "object", "properties": {"a": {"type": "integer"}}}
    first = load_side(schema, "producer", format_assertion=False)
    assert first.schema is schema
    assert load_side(schema, "producer", format_assertion=False) is not first
    schema["properties"]["a"]["type"] = "string"
    assert load_side(schema, "producer", format_assertion=False).is_valid(
        load_side(schema, "producer", format_assertion=False).root, {"a": "x"}
    )


def test_nodes_children_and_refs_are_located() -> None:
    side = Side(
        {"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}},
        "producer",
        format_assertion=False,
    )
    a = side.root.child(side.root.kw["properties"]["a"], "properties", "a")
    assert a.loc == "producer#/properties/a"
    assert a.child(a.raw, "x") is a.child(a.raw, "x")
    target = a.follow("$ref", "#/$defs/n")
    assert target.loc == "producer#/$defs/n"
    assert side.is_valid(target, 3) and not side.is_valid(target, "3")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [(1, 1.0, True), (True, 1, False), ([1, {"a": 2}], [1.0, {"a": 2.0}], True), ("1", 1, False)],
)
def test_json_equality(a: Any, b: Any, same: bool) -> None:
    assert equal(a, b) is same


def test_number_semantics() -> None:
    assert is_integer(1.0) and not is_integer(True) and not is_integer(1.5)
    assert exact(0.1) * 3 == exact(0.3)
    assert multiple_of(0.3, 0.1) and not ref_multiple_of(0.3, 0.1)
    assert multiple_of(10, 5) and not multiple_of(5, 10)


def test_a_reference_into_a_non_schema_place_makes_it_a_schema() -> None:
    # python-jsonschema follows `$ref` anywhere; what it reaches must be well-formed
    with pytest.raises(SchemaError, match="type"):
        check({"x-defs": {"n": {"type": 5}}, "$ref": "#/x-defs/n"}, {})
    producer = {
        "x-defs": {"n": {"type": "integer"}},
        "type": "object",
        "properties": {"a": {"$ref": "#/x-defs/n"}},
    }
    assert check(producer, {"properties": {"a": {"type": "number"}}}).verdict == "compatible"
    result = check(producer, {"properties": {"a": {"type": "string"}}})
    assert result.verdict == "incompatible"
    assert isinstance(result.witness, dict) and isinstance(result.witness["a"], int)
    # an identifier there moves base URIs: equal text no longer means the same schema
    side = Side(
        {"x-defs": {"n": {"$id": "http://example.com/n"}}, "$ref": "#/x-defs/n"},
        "producer",
        format_assertion=False,
        private=False,
    )
    assert not side.context_free


@pytest.mark.parametrize(
    "schema",
    [
        {"maximum": float("nan")},
        {"minimum": float("inf")},
        {"const": float("nan")},
        {"enum": [1, float("-inf")]},
        {"const": {"a": (1, 2)}},
        {"properties": {1: {"type": "string"}}},
    ],
    ids=["nan-maximum", "inf-minimum", "nan-const", "inf-enum", "tuple-const", "int-name"],
)
def test_values_that_are_not_json_are_refused(schema: dict[Any, Any]) -> None:
    with pytest.raises(SchemaError):
        check(schema, {})
    with pytest.raises(SchemaError):
        check({}, schema)


def test_identifiers_are_told_from_property_names() -> None:
    # a property called "id" is not an identifier, not even in draft-04
    named = {"type": "object", "properties": {"id": {"type": "string"}}}
    assert Side(named, "producer", format_assertion=False, private=False).context_free
    draft4 = {"$schema": "http://json-schema.org/draft-04/schema#", **named}
    assert Side(draft4, "producer", format_assertion=False, private=False).context_free
    with_id = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "properties": {"a": {"id": "http://example.com/a", "type": "string"}},
    }
    assert not Side(with_id, "producer", format_assertion=False, private=False).context_free
    assert not Side(
        {"properties": {"a": {"$id": "http://example.com/a"}}},
        "producer",
        format_assertion=False,
        private=False,
    ).context_free


def test_the_same_document_shortcut_keeps_json_types_apart() -> None:
    assert check({"const": True}, {"const": 1}).verdict == "incompatible"
    assert check({"const": 1}, {"const": True}).verdict == "incompatible"
    assert check({"enum": [1.0, "a"]}, {"enum": [1, "a"]}).verdict == "compatible"
    equal_text = {"prefixItems": [{"const": False}], "minimum": 1.0}
    assert check(equal_text, json.loads(json.dumps(equal_text))).verdict == "compatible"


def test_the_reference_validator_remembers_acceptances_only_for_the_same_schema_and_value() -> None:
    # one value object under two subschemas, one accepting it, one not; `true` beside `1`
    shared: dict[str, Any] = {"a": 1}
    side = Side(
        {
            "$defs": {"int_a": {"properties": {"a": {"type": "integer"}}}},
            "prefixItems": [
                {"$ref": "#/$defs/int_a"},
                {"$ref": "#/$defs/int_a"},
                {"properties": {"a": {"type": "string"}}},
                {"type": "integer"},
                {"type": "integer"},
            ],
        },
        "consumer",
        format_assertion=False,
        private=False,
    )
    errors = side.errors([shared, shared, shared, 1, True])
    assert sorted(tuple(e.absolute_path) for e in errors) == [(2, "a"), (4,)]
    assert side.is_valid(side.root, [shared, shared])
    assert not side.is_valid(side.root, [shared, shared, shared])
