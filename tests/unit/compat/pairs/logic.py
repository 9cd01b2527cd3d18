"""Pairs over values and logic: const/enum of any JSON value (objects, arrays), allOf, anyOf,
oneOf, not, if/then/else, boolean subschemas."""

from __future__ import annotations

from . import ANY, BOUND, ENUM, LENGTH, NOT, NULL, REQ, TYPE, UNION, bad, ok

STR = {"type": "string"}
INT = {"type": "integer"}

PAIRS = [
    # ------------------------------------------------------------------ const / enum
    ok(
        "const/object-fits-shape",
        {"const": {"a": 1, "b": [1, 2]}},
        {"type": "object", "properties": {"a": INT, "b": {"type": "array"}}},
    ),
    bad(
        "const/object-array-too-long",
        {"const": {"a": 1, "b": [1, 2]}},
        {"type": "object", "properties": {"b": {"maxItems": 1}}},
        {"a": 1, "b": [1, 2]},
        ENUM + "|" + BOUND + "|length-relaxed",
        "/b",
    ),
    ok(
        "enum/objects-subset",
        {"enum": [{"op": "add"}, {"op": "del"}]},
        {"enum": [{"op": "del"}, {"op": "add"}, {"op": "mod"}]},
    ),
    bad(
        "enum/objects-extended",
        {"enum": [{"op": "add"}, {"op": "mv"}]},
        {"enum": [{"op": "add"}, {"op": "del"}]},
        {"op": "mv"},
        ENUM,
        "",
    ),
    ok("enum/arrays-fit-items", {"enum": [[1, 2], [3]]}, {"type": "array", "items": INT}),
    bad(
        "enum/array-with-string",
        {"enum": [[1, 2], [3, "x"]]},
        {"type": "array", "items": INT},
        [3, "x"],
        ENUM + "|" + TYPE + "|items-widened",
        "/1",
    ),
    ok("const/key-order-irrelevant", {"const": {"b": 2, "a": 1}}, {"const": {"a": 1, "b": 2}}),
    bad("const/true-is-not-1", {"const": True}, {"const": 1}, True, ENUM + "|" + TYPE, ""),
    ok("const/1-equals-1.0", {"const": 1}, {"enum": [1.0, "x"]}),
    bad("enum/false-is-not-0", {"enum": [0, False]}, {"enum": [0]}, False, ENUM + "|" + TYPE, ""),
    ok(
        "enum/nested-array-equality",
        {"const": [[1.0], {"k": [2]}]},
        {"enum": [[[1], {"k": [2.0]}], None]},
    ),
    bad(
        "enum/array-order-matters",
        {"enum": [[1, 2], [2, 1]]},
        {"enum": [[1, 2]]},
        [2, 1],
        ENUM,
        "",
    ),
    ok("enum/strings-into-type", {"enum": ["a", "b"]}, {"type": "string", "maxLength": 1}),
    bad(
        "enum/mixed-types-into-string",
        {"enum": ["a", None]},
        {"type": "string"},
        None,
        ENUM + "|" + NULL,
        "",
    ),
    # ------------------------------------------------------------------ anyOf / oneOf / allOf
    ok(
        "any-of/branches-into-type-list",
        {"anyOf": [STR, INT]},
        {"type": ["string", "number"]},
        "a",
        1,
    ),
    bad(
        "any-of/union-branch-added",
        {"anyOf": [STR, INT, {"type": "boolean"}]},
        {"anyOf": [STR, INT]},
        True,
        UNION + "|" + TYPE,
        "",
    ),
    ok("one-of/disjoint-consumer", STR, {"oneOf": [STR, INT]}, "x"),
    bad(
        "one-of/overlapping-consumer",
        INT,
        {"oneOf": [INT, {"type": "number", "minimum": 0}]},
        0,
        ANY,
        "",
        note="0 matches both branches, so oneOf rejects it",
    ),
    ok(
        "all-of/producer-conjunction",
        {"allOf": [INT, {"minimum": 0}]},
        {"type": "number", "minimum": -5},
        3,
    ),
    bad("all-of/consumer-conjunction", INT, {"allOf": [INT, {"minimum": 0}]}, -1, BOUND, ""),
    ok(
        "any-of/consumer-split-needed",
        INT,
        {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 0}]},
        -3,
        note="no single branch holds every integer, the two together do",
    ),
    bad(
        "any-of/consumer-gap",
        INT,
        {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "integer", "maximum": -1}]},
        0,
        BOUND + "|" + UNION + "|schema-widened",
        "",
    ),
    ok(
        "any-of/producer-branches-each-fit",
        {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": -1}]},
        INT,
        0,
    ),
    ok("any-of/nullable-consumer", STR, {"anyOf": [{"type": "null"}, STR]}, "x"),
    ok(
        "one-of/consts-into-enum",
        {"oneOf": [{"const": "a"}, {"const": "b"}]},
        {"enum": ["a", "b", "c"]},
    ),
    bad(
        "one-of/producer-second-branch",
        {"oneOf": [INT, {"minimum": 2}]},
        INT,
        2.5,
        TYPE + "|" + UNION,
        "",
    ),
    # ------------------------------------------------------------------ not
    ok("not/not-null", STR, {"not": {"type": "null"}}, "x"),
    bad(
        "not/null-sent-to-not-null",
        {"type": ["string", "null"]},
        {"not": {"type": "null"}},
        None,
        NULL + "|" + NOT + "|" + TYPE,
        "",
    ),
    ok(
        "not/complement-is-null",
        {"not": {"type": ["string", "number", "boolean", "object", "array"]}},
        {"type": "null"},
        None,
    ),
    ok(
        "not/excluded-value-stays-excluded",
        {"type": "string", "not": {"enum": ["a"]}},
        {"not": {"const": "a"}},
        "b",
    ),
    bad(
        "not/exclusion-grew",
        {"type": "string", "not": {"enum": ["a"]}},
        {"not": {"enum": ["a", "b"]}},
        "b",
        NOT + "|" + ENUM,
        "",
    ),
    ok(
        "not/double-negation",
        {"type": "integer", "minimum": 3},
        {"not": {"not": {"minimum": 1}}},
        3,
    ),
    # ------------------------------------------------------------------ if / then / else
    ok(
        "if-then/card-has-last4",
        {
            "type": "object",
            "properties": {"kind": {"const": "card"}, "last4": STR},
            "required": ["kind", "last4"],
        },
        {
            "type": "object",
            "if": {"properties": {"kind": {"const": "card"}}},
            "then": {"required": ["last4"]},
        },
        {"kind": "card", "last4": "1234"},
    ),
    bad(
        "if-then/card-without-last4",
        {"type": "object", "properties": {"kind": {"const": "card"}}, "required": ["kind"]},
        {
            "if": {"properties": {"kind": {"const": "card"}}, "required": ["kind"]},
            "then": {"required": ["last4"]},
        },
        {"kind": "card"},
        REQ,
        "",
    ),
    ok(
        "if-then-else/producer-conditional",
        {"if": STR, "then": {"maxLength": 3}, "else": INT},
        {"anyOf": [{"type": "string", "maxLength": 5}, INT]},
        "abc",
        1,
    ),
    bad(
        "if-then-else/producer-conditional-too-long",
        {"if": STR, "then": {"maxLength": 3}, "else": INT},
        {"anyOf": [{"type": "string", "maxLength": 2}, INT]},
        "aaa",
        LENGTH + "|" + UNION,
        "",
    ),
    ok(
        "if-then-else/else-branch",
        {"type": "integer", "minimum": 0, "maximum": 99},
        {"if": {"minimum": 100}, "then": {"multipleOf": 10}, "else": {"type": "integer"}},
        50,
    ),
    bad(
        "if-then-else/then-branch-reached",
        {"type": "integer", "minimum": 0},
        {"if": {"minimum": 100}, "then": {"multipleOf": 10}, "else": {"type": "integer"}},
        101,
        "multiple-of-relaxed|" + BOUND,
        "",
    ),
]
