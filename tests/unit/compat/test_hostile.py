"""Hostile input: the engine is bounded and only ever fails with teamrel's SchemaError.

Whatever the input (10,000 properties, nesting 500 deep, `{"$ref": "#"}`, mutual recursion, a
pathological regex, a schema that is not a schema, huge enums, remote refs), `check` must answer
within its budget (a wall-clock guard far above it catches a hang), never raise RecursionError
or anything but `teamrel.errors.SchemaError`, never touch the network, and give either
"unknown" or the true verdict (an incompatible one with a witness the oracle confirms).
"""

from __future__ import annotations

import re
import socket
import sys
import time
from typing import Any

import pytest
from compat_oracle import OracleUnsupported, hang_guard, witness_problems

from teamrel.errors import SchemaError

#: Every hostile check runs with the default budget (steps decide; its wall-clock safety net
#: is 30 s), inside a wall-clock guard far above it that catches a hang.
GUARD = 90.0
#: Generous ceiling on elapsed time (CI machines are slow).
CEILING = 45.0

COMPAT, INCOMPAT, UNKNOWN, ERROR = "compatible", "incompatible", "unknown", "error"
#: A SchemaError that says the schema is too deep (the project caps schema depth: contracts.py)
TOO_DEEP = "too-deep"


def run(
    producer: Any,
    consumer: Any,
    allowed: set[str],
    *,
    format_assertion: bool = False,
    verify_witness: bool = True,
) -> Any:
    """Check the pair; assert the outcome is allowed, bounded and honest; return it."""
    from teamrel.compat import Budget, check

    limit = sys.getrecursionlimit()
    started = time.monotonic()
    outcome: Any
    try:
        with hang_guard(GUARD):
            outcome = check(
                producer,
                consumer,
                format_assertion=format_assertion,
                budget=Budget(),
            )
    except SchemaError as err:
        outcome = err
    elapsed = time.monotonic() - started
    assert sys.getrecursionlimit() == limit, "the engine left the recursion limit changed"
    assert elapsed < CEILING, f"took {elapsed:.1f} s"
    if isinstance(outcome, SchemaError):
        depth_message = re.search(r"(?i)deep|depth|nest", outcome.message)
        assert ERROR in allowed or (TOO_DEEP in allowed and depth_message), (
            f"SchemaError on valid input: {outcome}"
        )
        assert outcome.message
        return outcome
    assert outcome.verdict in allowed, f"{outcome.verdict} ({outcome.reason}) not in {allowed}"
    if outcome.verdict == UNKNOWN:
        assert outcome.reason
    if outcome.verdict == INCOMPAT and verify_witness:
        assert outcome.has_witness
        try:
            problems = witness_problems(
                producer, consumer, outcome.witness, format_assertion=format_assertion
            )
        except OracleUnsupported as err:  # pragma: no cover - reported as a failure
            pytest.fail(f"witness cannot be checked: {err}")
        assert not problems, problems
    return outcome


# ----------------------------------------------------------------------------- size


def wide(n: int, changed: int | None = None) -> dict[str, Any]:
    props = {f"p{i}": {"type": "string", "maxLength": 64} for i in range(n)}
    if changed is not None:
        props[f"p{changed}"] = {"type": "integer"}
    return {"type": "object", "properties": props, "additionalProperties": False}


def test_ten_thousand_properties_identical() -> None:
    run(wide(10_000), wide(10_000), {COMPAT, UNKNOWN})


def test_ten_thousand_properties_one_changed() -> None:
    run(wide(10_000), wide(10_000, changed=9_999), {INCOMPAT, UNKNOWN})


def test_ten_thousand_required_properties() -> None:
    producer = wide(10_000)
    consumer = {**wide(10_000), "required": [f"p{i}" for i in range(10_000)]}
    run(producer, consumer, {INCOMPAT, UNKNOWN})
    run(consumer, producer, {COMPAT, UNKNOWN})


def test_huge_enum_of_strings() -> None:
    # a set difference: decided (each value looked up once), never "time budget exhausted"
    values = [f"v{i:06d}" for i in range(100_000)]
    run({"enum": values}, {"enum": values[:-1]}, {INCOMPAT})
    run({"enum": values[:-1]}, {"enum": list(reversed(values))}, {COMPAT})


def test_huge_enum_of_objects() -> None:
    values = [{"id": i, "tags": [str(i)]} for i in range(20_000)]
    run(
        {"enum": values},
        {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
        {COMPAT},
    )
    run(
        {"enum": [*values, {"tags": []}]},
        {"type": "object", "required": ["id"]},
        {INCOMPAT},
    )
    # equal values of another spelling: 1.0 is 1, key order does not matter, true is not 1
    run({"enum": [{"b": 1.0, "a": [True]}]}, {"enum": [*values, {"a": [True], "b": 1}]}, {COMPAT})
    run({"enum": [{"a": [1]}]}, {"enum": [*values, {"a": [True]}]}, {INCOMPAT})


# ----------------------------------------------------------------------------- depth


def nested(depth: int, leaf: Any, keyword: str = "properties") -> Any:
    schema: Any = leaf
    for _ in range(depth):
        if keyword == "properties":
            schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
        elif keyword == "items":
            schema = {"type": "array", "items": schema, "minItems": 1}
        elif keyword == "allOf":
            schema = {"allOf": [schema]}
        elif keyword == "not":
            schema = {"not": {"not": schema}}
        else:  # anyOf
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


@pytest.mark.parametrize("keyword", ["properties", "items", "allOf", "anyOf", "not"])
def test_nesting_500_deep(keyword: str) -> None:
    integer, number = {"type": "integer"}, {"type": "number"}
    # A SchemaError is acceptable only if it says what is wrong (too deep): valid JSON, valid
    # schema, but beyond the project's depth cap.
    run(nested(500, integer, keyword), nested(500, number, keyword), {COMPAT, UNKNOWN, TOO_DEEP})
    run(nested(500, number, keyword), nested(500, integer, keyword), {INCOMPAT, UNKNOWN, TOO_DEEP})


@pytest.mark.parametrize("keyword", ["properties", "items", "allOf", "anyOf", "not"])
def test_nesting_40_deep_is_answered(keyword: str) -> None:
    integer, number = {"type": "integer"}, {"type": "number"}
    run(nested(40, integer, keyword), nested(40, number, keyword), {COMPAT, UNKNOWN})
    run(nested(40, number, keyword), nested(40, integer, keyword), {INCOMPAT, UNKNOWN})


def test_nesting_5000_deep_is_bounded() -> None:
    deep = nested(5_000, {"type": "integer"})
    run(deep, deep, {COMPAT, UNKNOWN, TOO_DEEP}, verify_witness=False)


# ----------------------------------------------------------------------------- recursion


def test_ref_to_root_alone() -> None:
    # {"$ref": "#"} says nothing but "valid under myself": ill-founded. Reflexive containment
    # is still true; any other answer than compatible/unknown/SchemaError is wrong.
    run({"$ref": "#"}, {"$ref": "#"}, {COMPAT, UNKNOWN, ERROR})
    run({"$ref": "#"}, True, {COMPAT, UNKNOWN, ERROR})
    # Every instance sends python-jsonschema into endless recursion: no witness is verifiable.
    run({"type": "string"}, {"$ref": "#"}, {UNKNOWN, ERROR})


def test_mutual_recursion_without_progress() -> None:
    loop = {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    run(loop, loop, {COMPAT, UNKNOWN, ERROR})
    run(loop, {"type": "null"}, {UNKNOWN, ERROR})
    run({"type": "null"}, loop, {UNKNOWN, ERROR})


def test_recursion_through_every_applicator() -> None:
    schema = {
        "type": ["object", "array", "null"],
        "properties": {"p": {"$ref": "#"}},
        "items": {"$ref": "#"},
        "anyOf": [{"$ref": "#/$defs/x"}, {"type": "null"}],
        "$defs": {"x": {"not": {"not": {"$ref": "#"}}}},
    }
    run(schema, schema, {COMPAT, UNKNOWN, ERROR})
    run(schema, {"type": ["object", "array", "null"]}, {COMPAT, UNKNOWN, ERROR})


def test_deeply_recursive_list_against_bounded() -> None:
    linked = {
        "$defs": {
            "l": {
                "type": ["object", "null"],
                "properties": {"next": {"$ref": "#/$defs/l"}},
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/l",
    }
    bounded: Any = {"type": "null"}
    for _ in range(50):
        bounded = {
            "type": ["object", "null"],
            "properties": {"next": bounded},
            "additionalProperties": False,
        }
    run(linked, bounded, {INCOMPAT, UNKNOWN})


# ----------------------------------------------------------------------------- regexes


def test_pathological_regex_is_fast() -> None:
    run(
        {"type": "string", "pattern": "^(a+)+$"},
        {"type": "string", "pattern": "^(a|aa)+$"},
        {COMPAT, UNKNOWN},
    )
    run(
        {"type": "string", "pattern": "^(a+)+$"},
        {"type": "string", "pattern": "^(a+)+b$"},
        {INCOMPAT, UNKNOWN},
    )
    run(
        {"type": "string", "pattern": "^(a|a?)+$"},
        {"type": "string", "pattern": "^(x+x+)+y$"},
        {INCOMPAT, UNKNOWN},
    )


def test_huge_counted_repetition() -> None:
    run(
        {"type": "string", "pattern": "^[a-z]{1,10000}$"},
        {"type": "string", "pattern": "^[a-z]{1,9999}$"},
        {INCOMPAT, UNKNOWN},
    )


def test_many_patterns() -> None:
    producer = {
        "type": "object",
        "patternProperties": {f"^k{i}_[a-z]+$": {"type": "integer"} for i in range(300)},
        "additionalProperties": False,
    }
    consumer = {
        "type": "object",
        "patternProperties": {f"^k{i}_": {"type": "number"} for i in range(300)},
        "additionalProperties": False,
    }
    run(producer, consumer, {COMPAT, UNKNOWN})
    run(consumer, producer, {INCOMPAT, UNKNOWN})


# ----------------------------------------------------------------------------- not a schema


@pytest.mark.parametrize(
    "bad",
    [
        {"type": 12},
        {"type": "strnig"},
        {"minimum": "zero"},
        {"properties": []},
        {"required": "a"},
        {"items": 3},
        {"enum": 5},
        {"pattern": "("},
        {"pattern": "[z-a]"},
        {"multipleOf": 0},
        {"multipleOf": -1},
        {"$ref": 5},
        {"allOf": []},
        {"allOf": {}},
        {"maxLength": -1},
        {"properties": {"a": {"type": [1]}}},
        {"$defs": {"x": {"type": 12}}, "$ref": "#/$defs/x"},
        {"$ref": "#/$defs/missing"},
        "not a schema",
        12,
        None,
        [],
    ],
    ids=repr,
)
def test_not_a_schema(bad: Any) -> None:
    # SchemaError or unknown; "incompatible" only with a witness python-jsonschema can check
    # (e.g. null under {"pattern": "("}: pattern never applies to null); never "compatible".
    for producer, consumer in ((bad, {"type": "string"}), ({"type": "string"}, bad)):
        run(producer, consumer, {ERROR, UNKNOWN, INCOMPAT})


def test_remote_ref_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the engine tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    remote = {"$ref": "https://example.com/schemas/order.json"}
    run(remote, {"type": "object"}, {ERROR, UNKNOWN}, verify_witness=False)
    run({"type": "object"}, remote, {ERROR, UNKNOWN}, verify_witness=False)


# ----------------------------------------------------------------------------- numbers


def test_big_numbers() -> None:
    big = 10**400
    run(
        {"type": "integer", "minimum": big},
        {"type": "integer", "minimum": big - 1},
        {COMPAT, UNKNOWN},
    )
    run(
        {"type": "number", "maximum": 1e308},
        {"type": "number", "maximum": 1e307},
        {INCOMPAT, UNKNOWN},
    )
    run({"type": "number", "multipleOf": 1e-300}, {"type": "number"}, {COMPAT, UNKNOWN})
    run({"const": big}, {"type": "integer", "multipleOf": 10}, {COMPAT, UNKNOWN})


def test_tiny_budget_answers_unknown_or_true_verdict() -> None:
    from teamrel.compat import Budget, check

    producer = wide(2_000)
    consumer = wide(2_000, changed=1_999)
    result = check(producer, consumer, budget=Budget(max_seconds=0.001, max_steps=5))
    assert result.verdict in (UNKNOWN, INCOMPAT)
    if result.verdict == UNKNOWN:
        assert result.reason
