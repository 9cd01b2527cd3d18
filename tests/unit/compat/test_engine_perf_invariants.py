"""The compat engine's speed-ups never change an answer.

Covers the caches and shortcuts that make large contracts fast: sides cached by content and
by `SchemaDoc` identity, the identical-document shortcut, "same schema" recognised through
`$ref`s (a bisimulation, never fooled by equal text whose references lead elsewhere),
decomposed sequents memoised, generated values shared between equal subschemas, `$ref`
lookups memoised inside the reference validator, and the one-pass check of both readings
(python-jsonschema and the specification's) of a witness.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from jsonschema.validators import validator_for

from teamrel.compat import check
from teamrel.compat import schema as compat_schema
from teamrel.models import SchemaDoc

S2020 = "https://json-schema.org/draft/2020-12/schema"
D4 = "http://json-schema.org/draft-04/schema#"


def _valid(schema: Any, value: Any) -> bool:
    cls = validator_for(schema, default=jsonschema.Draft202012Validator)
    return bool(cls(schema).is_valid(value))


def _clear_caches() -> None:
    compat_schema._SIDES.clear()
    compat_schema._DOC_SIDES.clear()
    compat_schema._CHECKED.clear()


def _answer(producer: Any, consumer: Any, **opts: Any) -> dict[str, Any]:
    result = check(producer, consumer, **opts)
    if result.verdict == "incompatible":
        assert _valid(producer, result.witness), result.witness
        assert not _valid(consumer, result.witness), result.witness
    out = result.to_json()
    out.pop("engine_version")
    return out


def _contract(n: int = 40, *, enum: tuple[str, ...] = ("a", "b"), qty_max: int = 9) -> Any:
    """A contract in the shape the engine is tuned for: many properties, shared $defs."""
    props: dict[str, Any] = {}
    for i in range(n):
        kind = i % 4
        if kind == 0:
            props[f"p{i}"] = {"$ref": "#/$defs/line"}
        elif kind == 1:
            props[f"p{i}"] = {"type": "array", "items": {"$ref": "#/$defs/line"}}
        elif kind == 2:
            props[f"p{i}"] = {"type": ["string", "null"], "maxLength": 20}
        else:
            props[f"p{i}"] = {
                "type": "object",
                "properties": {"id": {"type": "string", "pattern": "^[a-z]+$"}},
                "required": ["id"],
                "additionalProperties": False,
            }
    return {
        "$schema": S2020,
        "$defs": {
            "line": {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(enum)},
                    "qty": {"type": "integer", "minimum": 1, "maximum": qty_max},
                    "price": {"type": "number", "multipleOf": 0.01},
                },
                "required": ["kind", "qty"],
                "additionalProperties": False,
            }
        },
        "type": "object",
        "properties": props,
        "required": sorted(props)[: n // 2],
        "additionalProperties": False,
    }


PAIRS: list[tuple[str, Any, Any]] = [
    ("identical", _contract(), _contract()),
    ("narrowed", _contract(enum=("a",), qty_max=5), _contract()),
    ("enum-extended", _contract(enum=("a", "b", "c")), _contract()),
    ("bound-relaxed", _contract(qty_max=99), _contract()),
    ("widened-consumer", _contract(), _contract(enum=("a", "b", "z"))),
    ("small", {"type": "integer"}, {"type": "number"}),
    ("small-no", {"type": "number"}, {"type": "integer"}),
]


@pytest.mark.parametrize(("name", "producer", "consumer"), PAIRS, ids=[p[0] for p in PAIRS])
def test_cold_and_warm_answers_are_identical(name: str, producer: Any, consumer: Any) -> None:
    _clear_caches()
    cold = _answer(producer, consumer)
    warm = _answer(producer, consumer)
    # fresh, equal dicts hit the content cache; the answer is the same
    again = _answer(copy.deepcopy(producer), copy.deepcopy(consumer))
    assert cold == warm == again
    expected = {
        "identical": "compatible",
        "narrowed": "compatible",
        "small": "compatible",
        "widened-consumer": "compatible",
    }.get(name, "incompatible")
    assert cold["verdict"] == expected


def test_order_of_checks_does_not_matter() -> None:
    _clear_caches()
    forward = [_answer(p, c) for _, p, c in PAIRS]
    _clear_caches()
    backward = [_answer(p, c) for _, p, c in reversed(PAIRS)]
    assert forward == list(reversed(backward))


def test_mutating_inputs_after_a_check_does_not_poison_the_cache() -> None:
    producer = _contract()
    consumer = _contract()
    assert check(producer, consumer).verdict == "compatible"
    # the consumer narrows in place: the cached side must not be reused
    consumer["$defs"]["line"]["properties"]["kind"]["enum"] = ["a"]
    result = check(producer, consumer)
    assert result.verdict == "incompatible"
    assert result.witness is not None and not _valid(consumer, result.witness)
    # the producer's dict changed after the check: its answer follows the new content
    producer["$defs"]["line"]["properties"]["kind"]["enum"] = ["a"]
    assert check(producer, consumer).verdict == "compatible"
    producer["properties"]["p2"]["maxLength"] = 50
    assert check(producer, consumer).verdict == "incompatible"


def test_schema_doc_identity_cache_follows_content() -> None:
    a = SchemaDoc(uri="file:///a.json", schema_=_contract(), resources={})
    b = SchemaDoc(uri="file:///b.json", schema_=_contract(enum=("a", "b", "c")), resources={})
    assert check(a, b).verdict == "compatible"
    assert check(b, a).verdict == "incompatible"
    # a new doc with the same content as `a`, checked against itself and `b`
    a2 = SchemaDoc(uri="file:///a.json", schema_=_contract(), resources={})
    assert check(a2, a).verdict == "compatible"
    assert check(b, a2).verdict == "incompatible"


# ----------------------------------------------------------------- same schema through $refs


def _with_def(target: Any) -> Any:
    return {
        "$defs": {"x": target},
        "type": "object",
        "properties": {"v": {"$ref": "#/$defs/x"}, "w": {"$ref": "#/$defs/x"}},
    }


def test_equal_text_with_references_to_different_targets_is_not_the_same() -> None:
    # {"$ref": "#/$defs/x"} reads the same on both sides; what it leads to does not
    result = check(_with_def({"type": "string"}), _with_def({"type": "integer"}))
    assert result.verdict == "incompatible"
    assert result.witness is not None and isinstance(result.witness.get("v"), str)


def test_equal_text_with_references_to_equal_targets_is_compatible() -> None:
    shared = {"type": "object", "properties": {"next": {"$ref": "#/$defs/x"}}}
    assert check(_with_def(shared), _with_def(copy.deepcopy(shared))).verdict == "compatible"


def test_recursive_equal_definitions_are_the_same() -> None:
    tree: Any = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/x"}}},
    }
    wider = copy.deepcopy(tree)
    wider["properties"]["label"] = {"type": "string"}
    assert check(_with_def(tree), _with_def(copy.deepcopy(tree))).verdict == "compatible"
    # the definitions differ one level down: still decided, and correctly
    assert check(_with_def(wider), _with_def(tree)).verdict == "compatible"
    closed = copy.deepcopy(tree)
    closed["additionalProperties"] = False
    result = check(_with_def(wider), _with_def(closed))
    assert result.verdict == "incompatible"


def test_references_resolved_against_different_base_uris() -> None:
    # the same text, but "#/$defs/x" resolves inside each document's own resource
    def doc(uri: str, x: Any) -> SchemaDoc:
        return SchemaDoc(
            uri=uri,
            schema_={"type": "object", "properties": {"v": {"$ref": "other.json#/$defs/x"}}},
            resources={"file:///other.json": {"$defs": {"x": x}}},
        )

    producer = doc("file:///p.json", {"type": "string"})
    consumer = doc("file:///c.json", {"type": "integer"})
    assert check(producer, consumer).verdict == "incompatible"
    same = doc("file:///c.json", {"type": "string"})
    assert check(producer, same).verdict == "compatible"


@pytest.mark.parametrize(
    ("producer_value", "consumer_value"),
    [(True, 1), (1, True), (False, 0), (0, False)],
)
def test_booleans_are_not_numbers_in_equal_looking_schemas(
    producer_value: Any, consumer_value: Any
) -> None:
    # Python's == says {"const": True} == {"const": 1}; JSON Schema does not
    p = {"properties": {"v": {"const": producer_value}}, "required": ["v"]}
    c = {"properties": {"v": {"const": consumer_value}}, "required": ["v"]}
    result = check(p, c)
    assert result.verdict == "incompatible"
    assert result.witness == {"v": producer_value}


def test_identifiers_inside_equal_subschemas_are_not_shortcut_wrongly() -> None:
    def side(x: Any) -> Any:
        return {
            "$defs": {"x": {"type": "string"}},
            "properties": {
                "v": {"$id": "http://example.com/inner", "$defs": {"x": x}, "$ref": "#/$defs/x"}
            },
        }

    assert check(side({"type": "string"}), side({"type": "string"})).verdict == "compatible"
    result = check(side({"type": "string"}), side({"type": "integer"}))
    assert result.verdict == "incompatible"


def test_draft4_id_moves_the_base_uri_of_equal_looking_subschemas() -> None:
    def side(x: Any) -> Any:
        return {
            "$schema": D4,
            "definitions": {"x": {"type": "string"}},
            "properties": {
                "v": {
                    "id": "http://example.com/inner",
                    "definitions": {"x": x},
                    "properties": {"a": {"$ref": "#/definitions/x"}},
                }
            },
        }

    assert check(side({"type": "string"}), side({"type": "string"})).verdict == "compatible"
    result = check(side({"type": "string"}), side({"type": "integer"}))
    assert result.verdict == "incompatible"
    assert result.witness == {"v": {"a": ""}} or isinstance(result.witness["v"]["a"], str)


# ----------------------------------------------------------------- generated values


def test_values_shared_between_equal_subschemas_are_valid_everywhere() -> None:
    item: Any = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}
    props = {f"p{i}": copy.deepcopy(item) for i in range(30)}
    producer: Any = {"type": "object", "properties": props, "required": sorted(props)}
    consumer = copy.deepcopy(producer)
    consumer["properties"]["p29"]["properties"]["n"]["minimum"] = 4
    result = check(producer, consumer)
    assert result.verdict == "incompatible"
    assert _valid(producer, result.witness) and not _valid(consumer, result.witness)
    assert result.problems[0].instance_pointer.startswith("/p29")


# ----------------------------------------------------------------- both readings in one pass


READINGS: list[tuple[Any, list[Any]]] = [
    ({"multipleOf": 0.1}, [0.3, 0.5, 1, 0.35, "x"]),
    ({"type": "string", "pattern": "^\\d+$"}, ["12", "١٢", "12\n", "a"]),
    ({"type": "string", "pattern": "^.$"}, ["a", "\r", "\n", "ab"]),
    (
        {"type": "object", "patternProperties": {"^\\d$": {"type": "integer"}}},
        [{"1": 1}, {"١": "x"}, {"1": "x"}, {"a": "x"}],
    ),
    (
        {
            "type": "object",
            "patternProperties": {"^\\w$": True},
            "additionalProperties": False,
        },
        [{"a": 1}, {"é": 1}, {"ab": 1}, {}],
    ),
    (
        {"anyOf": [{"multipleOf": 0.1}, {"type": "string", "pattern": "^a$"}]},
        [0.3, "a", "a\n", 0.7, None],
    ),
]


@pytest.mark.parametrize(("schema", "values"), READINGS, ids=[json.dumps(r[0]) for r in READINGS])
@pytest.mark.parametrize("label", ["producer", "consumer"])
def test_one_pass_check_of_both_readings_matches_two_validations(
    schema: Any, values: list[Any], label: str
) -> None:
    side = compat_schema.load_side(schema, label, format_assertion=False)
    for value in values:
        errors, may_differ = side.errors_noting(value)
        plain = side.errors(value)
        spec = side.errors(value, reference=False)
        # the reference errors are python-jsonschema's own
        assert [e.message for e in errors] == [e.message for e in plain]
        # when no disagreement was noted, the specification's reading gives the same answer
        if not may_differ:
            assert bool(errors) == bool(spec), value
        assert side.valid_in_both_readings(value) == (not plain and not spec), value


def test_format_without_faithful_checker_is_noted_for_the_consumer() -> None:
    side = compat_schema.load_side(
        {"type": "string", "format": "email"}, "consumer", format_assertion=True
    )
    _errors, may_differ = side.errors_noting("a")
    assert may_differ
