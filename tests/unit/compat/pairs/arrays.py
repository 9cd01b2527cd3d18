"""Pairs over arrays: items, prefixItems vs draft-07 items arrays, min/maxItems,
contains/minContains/maxContains, uniqueItems, unevaluatedItems, arrays of objects."""

from __future__ import annotations

from . import BOUND, CONTAINS, D7, ITEMS, SIZE, TUPLE, TYPE, UNIQUE, bad, ok

STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}


def arr(**kw: object) -> dict[str, object]:
    """An array schema with the given keywords."""
    return {"type": "array", **kw}


LINE = {
    "type": "object",
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "qty": {"type": "integer", "minimum": 1},
    },
    "required": ["sku", "qty"],
    "additionalProperties": False,
}
LINE_QTY0 = {**LINE, "properties": {**LINE["properties"], "qty": {"type": "integer", "minimum": 0}}}  # type: ignore[dict-item]

PAIRS = [
    ok("items/narrowed", arr(items=INT), arr(items=NUM), [1, 2]),
    bad("items/widened", arr(items=NUM), arr(items=INT), [0.5], ITEMS, "/0"),
    ok("items/count-narrowed", arr(minItems=1, maxItems=5), arr(maxItems=10), [1]),
    bad("items/max-items-relaxed", arr(maxItems=11), arr(maxItems=10), [0] * 11, SIZE, ""),
    bad("items/empty-now-allowed", arr(), arr(minItems=1), [], SIZE, ""),
    ok(
        "prefix-items/closed-tuple-into-open",
        arr(prefixItems=[STR, INT], items=False),
        arr(prefixItems=[STR], items=NUM),
        ["a", 1],
    ),
    bad(
        "prefix-items/tuple-extended",
        arr(prefixItems=[STR], items=INT),
        arr(prefixItems=[STR], items=False),
        ["", 0],
        TUPLE,
        "|/1",
    ),
    bad(
        "prefix-items/position-type-changed",
        arr(prefixItems=[STR, STR]),
        arr(prefixItems=[STR, INT]),
        ["", ""],
        ITEMS,
        "/1",
    ),
    ok(
        "prefix-items/draft7-items-array-into-prefix-items",
        {"$schema": D7, "type": "array", "items": [STR, INT], "additionalItems": False},
        arr(prefixItems=[STR, INT], items=False),
        ["a", 1],
    ),
    bad(
        "prefix-items/draft7-open-tuple-into-closed",
        {"$schema": D7, "type": "array", "items": [STR]},
        arr(prefixItems=[STR], items=False),
        ["", None],
        TUPLE,
        "|/1",
    ),
    bad(
        "prefix-items/draft7-tuple-is-not-list",
        {"$schema": D7, "type": "array", "items": [STR]},
        arr(items=STR),
        ["", 1],
        ITEMS,
        "/1",
        note="draft-07 items-array constrains the first item only",
    ),
    ok(
        "prefix-items/2020-tuple-into-draft7-tuple",
        arr(prefixItems=[{"const": "a"}], items=False, minItems=1),
        {"$schema": D7, "type": "array", "items": [STR], "additionalItems": False},
        ["a"],
    ),
    ok(
        "prefix-items/draft7-additional-items-schema",
        {"$schema": D7, "type": "array", "items": [STR], "additionalItems": INT},
        arr(prefixItems=[STR], items=NUM),
        ["a", 1, 2],
    ),
    # ------------------------------------------------------------------ contains
    ok("contains/nonempty-all-match", arr(items=INT, minItems=1), arr(contains=INT), [1]),
    bad("contains/empty-array", arr(items=INT), arr(contains=INT), [], CONTAINS + "|" + SIZE, ""),
    ok(
        "contains/min-contains-stronger",
        arr(contains={"const": "x"}, minContains=2),
        arr(contains={"const": "x"}),
        ["x", "x"],
    ),
    bad(
        "contains/min-contains-added",
        arr(contains={"const": "x"}),
        arr(contains={"const": "x"}, minContains=2),
        ["x"],
        CONTAINS,
        "",
    ),
    bad(
        "contains/max-contains-added",
        arr(contains={"const": "x"}),
        arr(contains={"const": "x"}, maxContains=1),
        ["x", "x"],
        CONTAINS,
        "",
    ),
    ok(
        "contains/max-contains-relaxed-downstream",
        arr(contains={"const": "x"}, maxContains=1),
        arr(contains={"const": "x"}, maxContains=2),
        ["x"],
    ),
    ok(
        "contains/min-contains-zero",
        arr(items=STR),
        arr(contains=INT, minContains=0, maxContains=0),
        ["a"],
        note="minContains 0 with maxContains 0: no integer items",
    ),
    bad(
        "contains/forbidden-item-now-possible",
        arr(items={"type": ["string", "integer"]}),
        arr(contains=INT, minContains=0, maxContains=0),
        [0],
        CONTAINS + "|" + ITEMS,
        "|/0",
    ),
    # ------------------------------------------------------------------ uniqueItems
    ok("unique/into-plain", arr(uniqueItems=True), arr(), [1, 2]),
    bad("unique/dropped", arr(items=INT), arr(items=INT, uniqueItems=True), [0, 0], UNIQUE, ""),
    ok(
        "unique/at-most-one-item",
        arr(items={"enum": ["a"]}, maxItems=1),
        arr(uniqueItems=True),
        ["a"],
    ),
    ok(
        "unique/unique-booleans-at-most-two",
        arr(items={"type": "boolean"}, uniqueItems=True),
        arr(maxItems=2),
        [True, False],
    ),
    bad(
        "unique/unique-integers-unbounded",
        arr(items=INT, uniqueItems=True),
        arr(maxItems=2),
        [0, 1, 2],
        SIZE,
        "",
    ),
    bad(
        "unique/one-and-one-point-zero-are-equal",
        arr(items={"enum": [1, 1.0, 2]}, minItems=2, maxItems=2),
        arr(uniqueItems=True),
        [1, 1.0],
        UNIQUE,
        "",
    ),
    # ------------------------------------------------------------------ unevaluatedItems
    ok(
        "unevaluated-items/closed-tuple",
        arr(prefixItems=[STR], items=False),
        arr(allOf=[{"prefixItems": [STR]}], unevaluatedItems=False),
        ["a"],
    ),
    bad(
        "unevaluated-items/open-tuple",
        arr(prefixItems=[STR]),
        arr(allOf=[{"prefixItems": [STR]}], unevaluatedItems=False),
        ["", 0],
        TUPLE + "|property-not-allowed",
        "|/1",
    ),
    # ------------------------------------------------------------------ arrays of objects
    ok(
        "items/array-of-closed-objects-narrowed",
        arr(items=LINE),
        arr(items=LINE_QTY0),
        [{"sku": "ABC-1234", "qty": 1}],
    ),
    bad(
        "items/array-of-closed-objects-bound",
        arr(items=LINE_QTY0),
        arr(items=LINE),
        [{"sku": "ABC-1234", "qty": 0}],
        BOUND,
        "/*/qty",
    ),
    bad(
        "items/array-of-objects-sku-pattern",
        arr(items={**LINE, "properties": {**LINE["properties"], "sku": STR}}),  # type: ignore[dict-item]
        arr(items=LINE),
        [{"sku": "", "qty": 1}],
        "pattern-widened",
        "/*/sku",
    ),
    bad(
        "items/array-of-arrays",
        arr(items=arr(items=NUM)),
        arr(items=arr(items=INT)),
        [[0.5]],
        ITEMS,
        "/*/*",
    ),
    ok(
        "items/array-of-arrays-narrowed",
        arr(items=arr(items=INT, maxItems=2)),
        arr(items=arr(items=NUM)),
        [[1, 2]],
    ),
    bad(
        "items/tuple-item-type",
        arr(prefixItems=[STR, {"type": ["integer", "null"]}], items=False),
        arr(prefixItems=[STR, INT], items=False),
        ["", None],
        "nullable-added|" + TYPE,
        "/1",
    ),
]
