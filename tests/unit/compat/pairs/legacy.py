"""draft-03 and draft-04 pairs: the places these dialects take a boolean (`additionalProperties`,
`additionalItems`) and draft-03's own keywords (`dependencies` naming one property, `extends`,
`disallow`, `divisibleBy`, `type` with schemas, `required: true` in a property's schema), each
in both directions, plus the closed draft-04 object contract these make common."""

from __future__ import annotations

from . import BOUND, D4, DEP, EXTRA, MULT, NOT, REQ, TUPLE, TYPE, bad, ok

D3 = "http://json-schema.org/draft-03/schema#"


def d4(**kw: object) -> dict[str, object]:
    return {"$schema": D4, **kw}


def d3(**kw: object) -> dict[str, object]:
    return {"$schema": D3, **kw}


CLOSED4 = d4(
    type="object",
    properties={"id": {"type": "string"}, "n": {"type": "integer"}},
    required=["id"],
    additionalProperties=False,
)
OPEN4 = d4(
    type="object",
    properties={"id": {"type": "string"}, "n": {"type": "integer"}},
    required=["id"],
)
TUPLE_CLOSED = {"items": [{}], "additionalItems": False}

PAIRS = [
    # draft-04 additionalProperties: false / true
    ok("legacy/d4-closed-into-any", d4(additionalProperties=False), d4(), {}, 1),
    bad(
        "legacy/d4-any-into-closed",
        d4(),
        d4(additionalProperties=False),
        {"a": 1},
        EXTRA,
        "/*",
    ),
    ok("legacy/d4-closed-contract-into-open", CLOSED4, OPEN4, {"id": "x", "n": 1}),
    bad(
        "legacy/d4-open-contract-into-closed",
        OPEN4,
        CLOSED4,
        {"id": "x", "extra": 1},
        EXTRA,
        "/*",
    ),
    ok("legacy/d4-ap-true-into-any", d4(additionalProperties=True), d4(), {"a": 1}),
    ok("legacy/d4-any-into-ap-true", d4(), d4(additionalProperties=True), {"a": 1}),
    bad(
        "legacy/d4-ap-true-into-closed",
        d4(properties={"a": {}}, additionalProperties=True),
        d4(properties={"a": {}}, additionalProperties=False),
        {"b": 1},
        EXTRA,
        "/*",
    ),
    ok(
        "legacy/d4-closed-into-ap-true",
        d4(properties={"a": {}}, additionalProperties=False),
        d4(properties={"a": {}}, additionalProperties=True),
        {"a": 1},
    ),
    # draft-04 / draft-03 additionalItems: false
    ok("legacy/d4-closed-tuple-into-any", d4(**TUPLE_CLOSED), d4(), [1]),
    bad("legacy/d4-any-into-closed-tuple", d4(), d4(**TUPLE_CLOSED), [1, 2], TUPLE, "/1"),
    ok("legacy/d3-closed-tuple-into-any", d3(**TUPLE_CLOSED), d3(), [1]),
    bad("legacy/d3-any-into-closed-tuple", d3(), d3(**TUPLE_CLOSED), [1, 2], TUPLE, "/1"),
    ok(
        "legacy/d4-closed-tuple-into-additional-true",
        d4(**TUPLE_CLOSED),
        d4(items=[{}], additionalItems=True),
        [1],
    ),
    # draft-03 additionalProperties: false
    ok("legacy/d3-closed-into-any", d3(additionalProperties=False), d3(), {}),
    bad("legacy/d3-any-into-closed", d3(), d3(additionalProperties=False), {"a": 1}, EXTRA, "/*"),
    # draft-03 dependencies with a string value
    ok(
        "legacy/d3-string-dependency-into-array",
        d3(dependencies={"a": "b"}),
        d3(dependencies={"a": ["b"]}),
        {"a": 1, "b": 2},
    ),
    ok(
        "legacy/d3-array-dependency-into-string",
        d3(dependencies={"a": ["b"]}),
        d3(dependencies={"a": "b"}),
        {"b": 2},
    ),
    bad(
        "legacy/d3-no-dependency-into-string", d3(), d3(dependencies={"a": "b"}), {"a": 1}, DEP, "*"
    ),
    ok(
        "legacy/d3-string-dependency-into-none", d3(dependencies={"a": "b"}), d3(), {"a": 1, "b": 1}
    ),
    # draft-03 required: true in a property's schema
    bad(
        "legacy/d3-optional-into-required",
        d3(type="object", properties={"a": {"type": "integer"}}),
        d3(type="object", properties={"a": {"type": "integer", "required": True}}),
        {},
        REQ,
        "*",
    ),
    ok(
        "legacy/d3-required-into-optional",
        d3(type="object", properties={"a": {"type": "integer", "required": True}}),
        d3(type="object", properties={"a": {"type": "integer"}}),
        {"a": 1},
    ),
    # draft-03 extends
    ok("legacy/d3-extends-into-own", d3(extends={"maxLength": 3}), d3(maxLength=3), "abc"),
    bad(
        "legacy/d3-any-into-extends",
        d3(type="string"),
        d3(extends=[{"maxLength": 3}]),
        "abcd",
        "length-relaxed|bound-relaxed|?",
        "",
    ),
    # draft-03 disallow
    ok("legacy/d3-integer-into-disallow-string", d3(type="integer"), d3(disallow="string"), 1),
    bad(
        "legacy/d3-string-into-disallow-string",
        d3(type="string"),
        d3(disallow="string"),
        "x",
        "?",
        "",
    ),
    ok(
        "legacy/d3-disallow-schema",
        d3(type="integer", minimum=5),
        d3(disallow=["string", {"type": "number", "maximum": 3}]),
        5,
    ),
    bad(
        "legacy/d3-disallow-schema-hit",
        d3(type="integer"),
        d3(disallow=["string", {"type": "number", "maximum": 3}]),
        3,
        NOT + "|?",
        "",
    ),
    # draft-03 divisibleBy
    ok("legacy/d3-divisible-by-4-into-2", d3(type="integer", divisibleBy=4), d3(divisibleBy=2), 8),
    bad(
        "legacy/d3-divisible-by-2-into-4",
        d3(type="integer", divisibleBy=2),
        d3(divisibleBy=4),
        2,
        MULT,
        "",
    ),
    # draft-03 type with schemas, "any"
    ok(
        "legacy/d3-type-schema-into-names",
        d3(type=["string", {"type": "integer"}]),
        d3(type=["string", "number"]),
        "x",
        1,
    ),
    bad(
        "legacy/d3-type-names-into-schema",
        d3(type=["string", "number"]),
        d3(type=["string", {"type": "integer"}]),
        0.5,
        TYPE,
        "",
    ),
    ok("legacy/d3-any-type-into-nothing", d3(type="any"), d3(), 1, "x"),
    ok("legacy/d3-nothing-into-any-type", d3(), d3(type="any"), 1, "x"),
    # draft-03 exclusive bounds (read beside minimum, as in draft-04)
    ok(
        "legacy/d3-exclusive-into-inclusive", d3(minimum=3, exclusiveMinimum=True), d3(minimum=3), 4
    ),
    bad(
        "legacy/d3-inclusive-into-exclusive",
        d3(minimum=3),
        d3(minimum=3, exclusiveMinimum=True),
        3,
        BOUND,
        "",
    ),
]
