"""Pairs over consumer unions that cover the producer only jointly (a case split of the
producer by a property's presence, type or value, the number of properties, an item's value,
or length ranges), unevaluatedProperties / unevaluatedItems beside anyOf / oneOf, uniqueItems
counting arguments (distinct items drawn from finitely many values), and bounds and witnesses
these rely on."""

from __future__ import annotations

from . import (
    ANY,
    BOUND,
    CONTAINS,
    ENUM,
    EXTRA,
    ITEMS,
    LENGTH,
    REQ,
    SIZE,
    TUPLE,
    TYPE,
    UNION,
    bad,
    ok,
)

STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}


def obj(**kw: object) -> dict[str, object]:
    """An object schema with the given keywords."""
    return {"type": "object", **kw}


def arr(**kw: object) -> dict[str, object]:
    """An array schema with the given keywords."""
    return {"type": "array", **kw}


#: "a" is a string or missing / "a" is a required integer: together every object whose "a"
#: is missing, a string or an integer
A_STR_OR_MISSING = obj(properties={"a": STR})
A_INT = obj(properties={"a": INT}, required=["a"])
A_UNION = {"anyOf": [A_STR_OR_MISSING, A_INT]}
A_ONE_OF = {"oneOf": [obj(properties={"a": STR}, required=["a"]), A_INT]}
TAGGED_KV = {
    "anyOf": [
        obj(properties={"k": {"const": "a"}, "v": NUM}, required=["k"]),
        obj(properties={"k": {"const": "b"}, "v": INT}),
    ]
}
TAGGED_TUPLE = {
    "anyOf": [
        arr(prefixItems=[{"const": "a"}, NUM]),
        arr(prefixItems=[{"const": "b"}, INT], items=False),
    ]
}
SHORT_OR_LONG = {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "string", "minLength": 3}]}
A_OR_B_CLOSED = obj(
    anyOf=[{"properties": {"a": INT}}, {"properties": {"b": INT}}], unevaluatedProperties=False
)
TAGGED_CLOSED = obj(
    oneOf=[
        obj(properties={"kind": {"const": "a"}, "x": INT}, required=["kind"]),
        obj(properties={"kind": {"const": "b"}, "y": STR}, required=["kind"]),
    ],
    unevaluatedProperties=False,
)
A_OR_B_REQUIRED_CLOSED = obj(
    anyOf=[
        {"properties": {"a": INT}, "required": ["a"]},
        {"properties": {"b": STR}, "required": ["b"]},
    ],
    unevaluatedProperties=False,
)
A_B_OR_C_CLOSED = obj(
    anyOf=[
        {"properties": {"a": INT}},
        {"properties": {"b": INT}},
        {"properties": {"c": INT}, "required": ["c"]},
    ],
    unevaluatedProperties=False,
)
ONE_OR_TWO_TUPLE = arr(
    anyOf=[{"prefixItems": [INT]}, {"prefixItems": [STR, STR]}], unevaluatedItems=False
)

PAIRS = [
    # ------------------------------------------------------------------ joint coverage
    ok(
        "joint/object-presence-and-type",
        obj(properties={"a": INT}),
        A_UNION,
        {},
        {"a": 1},
        note="absent: first branch; present (an integer): second branch",
    ),
    bad(
        "joint/object-presence-and-type-null",
        obj(properties={"a": {"type": ["integer", "null"]}}),
        A_UNION,
        {"a": None},
        UNION + "|" + TYPE,
        "|/a",
    ),
    ok(
        "joint/closed-object-two-types",
        obj(properties={"a": {"type": ["string", "integer"]}}, additionalProperties=False),
        A_UNION,
        {},
        {"a": "x"},
        {"a": 1},
    ),
    bad(
        "joint/closed-object-three-types",
        obj(
            properties={"a": {"type": ["string", "integer", "boolean"]}}, additionalProperties=False
        ),
        A_UNION,
        {"a": True},
        UNION + "|" + TYPE,
        "|/a",
    ),
    ok(
        "joint/one-of-disjoint-types",
        obj(properties={"a": {"type": ["string", "integer"]}}, required=["a"]),
        A_ONE_OF,
        {"a": "x"},
        {"a": 1},
    ),
    bad(
        "joint/one-of-disjoint-types-missing",
        obj(properties={"a": {"type": ["string", "integer"]}}),
        A_ONE_OF,
        {},
        UNION + "|required-removed",
        "",
    ),
    ok(
        "joint/discriminator",
        obj(properties={"k": {"enum": ["a", "b"]}, "v": INT}, required=["k", "v"]),
        TAGGED_KV,
        {"k": "a", "v": 1},
        {"k": "b", "v": 2},
    ),
    bad(
        "joint/discriminator-value-widened",
        obj(properties={"k": {"enum": ["a", "b"]}, "v": NUM}, required=["k", "v"]),
        TAGGED_KV,
        {"k": "b", "v": 0.5},
        UNION + "|" + ENUM + "|" + TYPE,
        "|/k|/v",
    ),
    ok(
        "joint/string-length-ranges", {"type": "string", "maxLength": 5}, SHORT_OR_LONG, "", "abcde"
    ),
    bad(
        "joint/string-length-gap",
        {"type": "string", "maxLength": 5},
        {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "string", "minLength": 4}]},
        "aaa",
        UNION + "|length-relaxed",
        "",
    ),
    ok(
        "joint/array-length-ranges",
        arr(items=INT),
        {"anyOf": [arr(maxItems=2), arr(minItems=3, items=NUM)]},
        [],
        [1, 2, 3],
    ),
    bad(
        "joint/array-length-gap",
        arr(items=INT, maxItems=6),
        {"anyOf": [arr(maxItems=2), arr(minItems=3, maxItems=5)]},
        [0] * 6,
        UNION + "|" + SIZE,
        "",
    ),
    ok(
        "joint/tuple-tag",
        arr(prefixItems=[{"enum": ["a", "b"]}, INT], items=False),
        TAGGED_TUPLE,
        ["a", 1],
        ["b", 2],
    ),
    bad(
        "joint/tuple-tag-widened",
        arr(prefixItems=[{"enum": ["a", "b"]}, NUM], items=False),
        TAGGED_TUPLE,
        ["b", 0.5],
        UNION + "|" + ENUM + "|" + ITEMS,
        "|/0|/1",
    ),
    ok(
        "joint/property-count",
        obj(additionalProperties=INT),
        {"anyOf": [obj(maxProperties=1), obj(minProperties=2, additionalProperties=NUM)]},
        {},
        {"a": 1, "b": 2},
    ),
    bad(
        "joint/property-count-gap",
        obj(additionalProperties=INT),
        {"anyOf": [obj(maxProperties=1), obj(minProperties=3)]},
        {"a": 0, "b": 0},
        UNION + "|" + BOUND,
        "",
    ),
    # ------------------------------------------------------------------ unevaluated* beside unions
    ok(
        "uneval/any-of-branch-names",
        obj(properties={"a": INT}, additionalProperties=False),
        A_OR_B_CLOSED,
        {"a": 1},
    ),
    bad(
        "uneval/any-of-extra-name",
        obj(properties={"a": INT, "c": INT}, additionalProperties=False),
        A_OR_B_CLOSED,
        {"c": 0},
        EXTRA,
        "|/c",
    ),
    ok(
        "uneval/any-of-both-branches",
        obj(properties={"a": INT, "b": INT}, additionalProperties=False),
        A_OR_B_CLOSED,
        {"a": 1, "b": 2},
        note="both branches valid: both evaluate their names",
    ),
    ok(
        "uneval/one-of-tagged",
        obj(
            properties={"kind": {"const": "a"}, "x": INT},
            required=["kind"],
            additionalProperties=False,
        ),
        TAGGED_CLOSED,
        {"kind": "a", "x": 1},
    ),
    bad(
        "uneval/one-of-tagged-other-branch-name",
        obj(
            properties={"kind": {"const": "a"}, "x": INT, "y": STR},
            required=["kind"],
            additionalProperties=False,
        ),
        TAGGED_CLOSED,
        {"kind": "a", "y": ""},
        EXTRA,
        "|/y",
    ),
    ok(
        "uneval/producer-any-of",
        A_OR_B_REQUIRED_CLOSED,
        obj(properties={"a": INT, "b": STR}, additionalProperties=False),
        {"a": 1},
        {"a": 1, "b": "x"},
    ),
    bad(
        "uneval/producer-any-of-name-dropped",
        A_OR_B_REQUIRED_CLOSED,
        obj(properties={"a": INT}, additionalProperties=False),
        {"b": ""},
        EXTRA,
        "|/b",
    ),
    ok(
        "uneval/producer-any-of-three",
        A_B_OR_C_CLOSED,
        obj(properties={"a": INT, "b": INT, "c": INT}, additionalProperties=False),
        {"a": 1, "b": 2},
        {"c": 3},
    ),
    bad(
        "uneval/producer-any-of-two-branches-valid",
        A_B_OR_C_CLOSED,
        {"anyOf": [{"required": ["c"]}, {"not": {"required": ["a", "b"]}}]},
        {"a": 0, "b": 0},
        ANY,
        "",
        note="a and b are evaluated by two valid branches at once, c's branch is not valid",
    ),
    ok("uneval/items-any-of", arr(prefixItems=[INT], items=False), ONE_OR_TWO_TUPLE, [1], []),
    bad(
        "uneval/items-any-of-longer",
        arr(prefixItems=[INT, INT], items=False),
        ONE_OR_TWO_TUPLE,
        [0, 0],
        TUPLE,
        "|/1",
    ),
    # ------------------------------------------------------------------ uniqueItems counting
    ok(
        "unique/enum-of-three-at-most-three",
        arr(items={"enum": [1, 2, 3]}, uniqueItems=True),
        arr(maxItems=3),
        [3, 1, 2],
    ),
    bad(
        "unique/enum-of-three-not-two",
        arr(items={"enum": [1, 2, 3]}, uniqueItems=True),
        arr(maxItems=2),
        [1, 2, 3],
        BOUND,
        "",
    ),
    ok(
        "unique/null-or-boolean-at-most-three",
        arr(items={"type": ["null", "boolean"]}, uniqueItems=True),
        arr(maxItems=3),
        [None, True, False],
    ),
    ok(
        "unique/prefix-and-enum",
        arr(prefixItems=[STR], items={"enum": [1, 2]}, uniqueItems=True),
        arr(maxItems=3),
        ["x", 1, 2],
    ),
    ok(
        "unique/contains-counted",
        arr(items={"enum": ["x", "y", "z"]}, uniqueItems=True),
        {"contains": {"enum": ["x", "y"]}, "minContains": 0, "maxContains": 2},
        ["x", "y", "z"],
    ),
    bad(
        "unique/contains-counted-too-many",
        arr(items={"enum": ["x", "y", "z"]}, uniqueItems=True),
        {"contains": {"enum": ["x", "y"]}, "minContains": 0, "maxContains": 1},
        ["x", "y"],
        CONTAINS,
        "",
    ),
    # ------------------------------------------------------------------ bounds and witnesses
    ok(
        "count/max-properties-zero",
        obj(maxProperties=0),
        obj(properties={"a": STR}, additionalProperties=False),
        {},
        note="the empty object is the producer's only object",
    ),
    bad(
        "count/max-properties-zero-required",
        obj(maxProperties=0),
        obj(properties={"a": STR}, required=["a"]),
        {},
        REQ,
        "",
    ),
    ok(
        "tuple/false-position-bounds-length",
        arr(prefixItems=[STR, False], items={"type": "boolean"}),
        arr(maxItems=1),
        ["a"],
        note="no item can stand at a false position, nor after it",
    ),
    bad(
        "tuple/false-position-first-item",
        arr(prefixItems=[STR, False], items={"type": "boolean"}),
        arr(prefixItems=[False], items={"type": "boolean"}, maxItems=3),
        ["a"],
        ANY,
        "/0",
    ),
    bad(
        "unique/distinct-witness",
        arr(maxItems=3, uniqueItems=True),
        {
            "anyOf": [
                arr(prefixItems=[False, {}], items={"type": "boolean"}),
                arr(prefixItems=[{}, STR], uniqueItems=True),
            ]
        },
        [0, 1],
        UNION + "|" + TYPE + "|" + ITEMS + "|tuple-extended",
        "|/0|/1",
        note="the witness's items must be distinct although only one of them is fixed",
    ),
    bad(
        "string/one-above-min-length",
        {"type": "string", "minLength": 3},
        {"type": "string", "minLength": 3, "maxLength": 3},
        "abcd",
        LENGTH,
        "",
    ),
]
