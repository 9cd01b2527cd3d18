"""The engine's explanations: problem kinds, instance pointers, schema locations, sentences."""

from __future__ import annotations

from typing import Any

import pytest

from teamrel.compat import PROBLEM_KINDS, check

TRIAGE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "intent": {"enum": ["billing_question", "refund_request", "technical_issue"]},
        "customer": {
            "type": "object",
            "properties": {"tier": {"enum": ["free", "pro"]}, "email": {"type": "string"}},
            "required": ["tier"],
            "additionalProperties": False,
        },
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["intent", "customer"],
    "additionalProperties": False,
}


def _edit(path: list[str], value: Any) -> dict[str, Any]:
    import copy

    doc = copy.deepcopy(TRIAGE)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("producer", "kind", "pointer", "consumer_location", "words"),
    [
        (
            _edit(["properties", "intent", "enum"], ["billing_question", "cancel_subscription"]),
            "enum-extended",
            "/intent",
            "consumer#/properties/intent/enum",
            ['intent="cancel_subscription"', "billing_question, refund_request"],
        ),
        (
            _edit(["required"], ["intent"]),
            "required-removed",
            "",
            "consumer#/required",
            ['omit "customer"'],
        ),
        (
            _edit(
                ["properties", "confidence"],
                {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            ),
            "nullable-added",
            "/confidence",
            "consumer#/properties/confidence/type",
            ["null"],
        ),
        (
            _edit(["properties", "confidence", "maximum"], 100),
            "bound-relaxed",
            "/confidence",
            "consumer#/properties/confidence/maximum",
            ["maximum 1"],
        ),
        (
            _edit(["properties", "customer", "properties", "plan"], {"type": "string"}),
            "property-not-allowed",
            "/customer/plan",
            "consumer#/properties/customer/additionalProperties",
            ['"plan"'],
        ),
    ],
)
def test_problem_is_located_and_explained(
    producer: Any, kind: str, pointer: str, consumer_location: str, words: list[str]
) -> None:
    result = check(producer, TRIAGE)
    assert result.verdict == "incompatible"
    problem = result.problems[0]
    assert problem.kind == kind
    assert problem.kind in PROBLEM_KINDS
    assert problem.instance_pointer == pointer
    assert problem.consumer_location == consumer_location
    assert problem.producer_location.startswith("producer#")
    for w in words:
        assert w in problem.message, problem.message
    assert problem.to_json()["kind"] == kind


def test_producer_location_points_into_the_producer() -> None:
    producer = _edit(["properties", "confidence", "maximum"], 100)
    result = check(producer, TRIAGE)
    assert result.problems[0].producer_location == "producer#/properties/confidence"


def test_result_json_document_is_stable() -> None:
    result = check({"type": "string"}, {"type": "integer"})
    doc = result.to_json()
    assert doc["format_version"] == 1
    assert doc["verdict"] == "incompatible"
    assert doc["has_witness"] is True
    assert set(doc["problems"][0]) == {
        "kind",
        "instance_pointer",
        "producer_location",
        "consumer_location",
        "message",
    }
    unknown = check({"type": "string", "pattern": "^(?=a)"}, {"pattern": "^a"})
    assert unknown.verdict in ("unknown", "compatible")
    if unknown.verdict == "unknown":
        assert unknown.to_json()["reason"]


@pytest.mark.parametrize(
    ("producer", "consumer", "pointer", "consumer_location"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            {"properties": {"a": False}},
            "/a",
            "consumer#/properties/a",
        ),
        (
            {
                "type": "object",
                "properties": {"x": {"$ref": "#/$defs/inner"}},
                "required": ["x"],
                "$defs": {
                    "inner": {
                        "type": "object",
                        "properties": {"a": {"type": "integer"}},
                        "required": ["a"],
                    }
                },
            },
            {"properties": {"x": {"properties": {"a": False}}}},
            "/x/a",
            "consumer#/properties/x/properties/a",
        ),
        (
            {"type": "object", "properties": {"bb": {"type": "integer"}}, "required": ["bb"]},
            {"patternProperties": {"^b": False}},
            "/bb",
            "consumer#/patternProperties/^b",
        ),
        (
            {"type": "array", "prefixItems": [{"type": "string"}], "minItems": 1},
            {"prefixItems": [{"type": "string"}, False]},
            "/1",
            "consumer#/prefixItems/1",
        ),
    ],
    ids=["property", "nested-property", "pattern-property", "tuple-position"],
)
def test_a_false_subschema_is_reported_where_it_stands(
    producer: dict[str, Any], consumer: dict[str, Any], pointer: str, consumer_location: str
) -> None:
    # python-jsonschema reports a `false` subschema's error without the place it was
    # reached at; the explanation must still point there
    result = check(producer, consumer)
    assert result.verdict == "incompatible"
    assert [(p.instance_pointer, p.consumer_location) for p in result.problems] == [
        (pointer, consumer_location)
    ]
