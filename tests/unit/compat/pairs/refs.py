"""Pairs over references and dialects: local, `$anchor`, cross-file (SchemaDoc resources),
recursive (trees, linked lists, `{"$ref": "#"}`, mutual recursion), and each schema read under
its own `$schema` (draft-04 boolean exclusiveMinimum, draft-07 siblings of `$ref` ignored)."""

from __future__ import annotations

from teamrel.models import SchemaDoc

from . import ANY, BOUND, D4, D6, D7, ENUM, LENGTH, PATTERN, TYPE, bad, ok

STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}


def tree(value: object) -> dict[str, object]:
    """A closed tree node: a value and children that are nodes again."""
    return {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "value": value,
                    "children": {"type": "array", "items": {"$ref": "#/$defs/node"}},
                },
                "required": ["value"],
                "additionalProperties": False,
            }
        },
        "$ref": "#/$defs/node",
    }


def linked(head: object) -> dict[str, object]:
    """A linked list: null, or a head and a tail that is a list again."""
    return {
        "$defs": {
            "list": {
                "anyOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "properties": {"head": head, "tail": {"$ref": "#/$defs/list"}},
                        "required": ["head", "tail"],
                        "additionalProperties": False,
                    },
                ]
            }
        },
        "$ref": "#/$defs/list",
    }


#: A list of at most two elements, written out without recursion.
SHORT_LIST = {
    "anyOf": [
        {"type": "null"},
        {
            "type": "object",
            "properties": {
                "head": INT,
                "tail": {
                    "anyOf": [
                        {"type": "null"},
                        {"type": "object", "properties": {"head": INT, "tail": {"type": "null"}}},
                    ]
                },
            },
            "required": ["head", "tail"],
        },
    ]
}


def doc(uri: str, schema: object, **resources: object) -> SchemaDoc:
    """A SchemaDoc at `file:///contracts/<uri>` with sibling files as resources."""
    return SchemaDoc.model_validate(
        {
            "uri": f"file:///contracts/{uri}",
            "schema": schema,
            "resources": {
                f"file:///contracts/{k.replace('_', '.')}": v for k, v in resources.items()
            },
        }
    )


MONEY = {"type": "number", "multipleOf": 0.01, "minimum": 0}


def customer(tiers: list[str]) -> dict[str, object]:
    """A common.json with a customer definition."""
    return {
        "$defs": {
            "customer": {
                "type": "object",
                "properties": {"id": STR, "tier": {"enum": tiers}},
                "required": ["id", "tier"],
                "additionalProperties": False,
            }
        }
    }


PAIRS = [
    ok(
        "ref/local-def-narrower",
        {
            "$defs": {"id": {"type": "string", "pattern": "^u-[0-9]+$"}},
            "type": "object",
            "properties": {"user": {"$ref": "#/$defs/id"}},
            "required": ["user"],
        },
        {"type": "object", "properties": {"user": STR}},
        {"user": "u-1"},
    ),
    bad(
        "ref/local-def-in-consumer",
        {"type": "object", "properties": {"user": STR}},
        {
            "$defs": {"id": {"type": "string", "pattern": "^u-[0-9]+$"}},
            "type": "object",
            "properties": {"user": {"$ref": "#/$defs/id"}},
        },
        {"user": ""},
        PATTERN,
        "/user",
    ),
    ok(
        "ref/anchor",
        {"$defs": {"x": {"$anchor": "pos", "type": "integer", "minimum": 1}}, "$ref": "#pos"},
        {"type": "integer", "minimum": 0},
        1,
    ),
    ok("recursive/tree-narrowed", tree(INT), tree(NUM), {"value": 1, "children": [{"value": 2}]}),
    bad("recursive/tree-widened", tree(NUM), tree(INT), {"value": 0.5}, TYPE, "*/value"),
    ok("recursive/tree-into-object", tree(INT), {"type": "object", "required": ["value"]}),
    ok("recursive/list-narrowed", linked(INT), linked(NUM), {"head": 1, "tail": None}),
    bad(
        "recursive/list-widened",
        linked(NUM),
        linked(INT),
        {"head": 0.5, "tail": None},
        TYPE,
        "*/head",
    ),
    ok("recursive/list-into-object-or-null", linked(INT), {"type": ["object", "null"]}, None),
    bad(
        "recursive/list-longer-than-bounded",
        linked(INT),
        SHORT_LIST,
        {"head": 0, "tail": {"head": 0, "tail": {"head": 0, "tail": None}}},
        ANY,
        "*",
    ),
    ok(
        "recursive/bounded-list-into-list",
        SHORT_LIST,
        {"anyOf": [{"type": "null"}, {"type": "object"}]},
    ),
    ok(
        "recursive/ref-root-closed-into-open",
        {"type": "object", "properties": {"child": {"$ref": "#"}}, "additionalProperties": False},
        {"type": "object", "properties": {"child": {"$ref": "#"}}},
        {"child": {}},
    ),
    bad(
        "recursive/ref-root-name-length",
        {"type": "object", "properties": {"child": {"$ref": "#"}, "name": STR}},
        {
            "type": "object",
            "properties": {"child": {"$ref": "#"}, "name": {"type": "string", "maxLength": 5}},
        },
        {"name": "aaaaaa"},
        LENGTH,
        "*name",
    ),
    ok(
        "recursive/mutual",
        {
            "$defs": {
                "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"}}},
                "b": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}},
            },
            "$ref": "#/$defs/a",
        },
        {"type": "object"},
        {"b": {"a": {}}},
    ),
    bad(
        "recursive/mutual-deep-difference",
        {
            "$defs": {
                "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"}, "n": NUM}},
                "b": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}},
            },
            "$ref": "#/$defs/a",
        },
        {
            "$defs": {
                "a": {"type": "object", "properties": {"b": {"$ref": "#/$defs/b"}, "n": INT}},
                "b": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}},
            },
            "$ref": "#/$defs/a",
        },
        {"n": 0.5},
        TYPE,
        "*/n",
    ),
    # ------------------------------------------------------------------ cross-file
    ok(
        "cross-file/money-ref-producer",
        doc(
            "order.json",
            {
                "type": "object",
                "properties": {"total": {"$ref": "money.json"}},
                "required": ["total"],
            },
            money_json=MONEY,
        ),
        {"type": "object", "properties": {"total": {"type": "number", "minimum": 0}}},
        {"total": 1.5},
    ),
    bad(
        "cross-file/money-ref-consumer",
        {"type": "object", "properties": {"total": NUM}},
        doc(
            "order.json",
            {"type": "object", "properties": {"total": {"$ref": "money.json"}}},
            money_json=MONEY,
        ),
        {"total": -1},
        BOUND,
        "/total",
    ),
    ok(
        "cross-file/defs-fragment-narrowed",
        doc(
            "ticket.json",
            {"$ref": "common.json#/$defs/customer"},
            common_json=customer(["gold", "silver"]),
        ),
        doc(
            "ticket.json",
            {"$ref": "common.json#/$defs/customer"},
            common_json=customer(["gold", "silver", "bronze"]),
        ),
        {"id": "c1", "tier": "gold"},
    ),
    bad(
        "cross-file/defs-fragment-widened",
        doc(
            "ticket.json",
            {"$ref": "common.json#/$defs/customer"},
            common_json=customer(["gold", "silver", "bronze"]),
        ),
        doc(
            "ticket.json",
            {"$ref": "common.json#/$defs/customer"},
            common_json=customer(["gold", "silver"]),
        ),
        {"id": "", "tier": "bronze"},
        ENUM,
        "/tier",
    ),
    ok(
        "cross-file/draft7-resource",
        doc(
            "a.json",
            {"type": "object", "properties": {"n": {"$ref": "num.json#/definitions/n"}}},
            num_json={"$schema": D7, "definitions": {"n": {"type": "integer", "minimum": 0}}},
        ),
        {"type": "object", "properties": {"n": {"type": "number", "minimum": 0}}},
        {"n": 3},
    ),
    # ------------------------------------------------------------------ dialects
    bad(
        "dialect/draft7-ref-siblings-ignored",
        {
            "$schema": D7,
            "definitions": {"s": STR},
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/s", "maxLength": 3}},
        },
        {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
        {"a": "aaaa"},
        LENGTH,
        "/a",
        note="in draft-07 every keyword beside $ref is ignored",
    ),
    ok(
        "dialect/2020-ref-siblings-apply",
        {
            "$defs": {"s": STR},
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/s", "maxLength": 3}},
        },
        {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}},
        {"a": "abc"},
    ),
    ok(
        "dialect/draft4-boolean-exclusive-minimum",
        {"$schema": D4, "type": "number", "minimum": 0, "exclusiveMinimum": True},
        {"type": "number", "exclusiveMinimum": 0},
        0.5,
    ),
    bad(
        "dialect/draft4-inclusive-into-exclusive",
        {"$schema": D4, "type": "number", "minimum": 0},
        {"$schema": D4, "type": "number", "minimum": 0, "exclusiveMinimum": True},
        0,
        BOUND,
        "",
    ),
    ok(
        "dialect/draft4-exclusive-maximum-integer",
        {"$schema": D4, "type": "integer", "maximum": 10, "exclusiveMaximum": True},
        {"type": "integer", "maximum": 9},
        9,
    ),
    bad(
        "dialect/draft4-integer-excludes-1.0",
        {"type": "number", "minimum": 1, "maximum": 1},
        {"$schema": D4, "type": "integer"},
        1.0,
        TYPE,
        "",
        note="draft-04: an integer is a number without a fraction or exponent part",
    ),
    ok("dialect/draft4-integer-into-2020", {"$schema": D4, "type": "integer"}, INT, 3),
    ok(
        "dialect/draft6-numeric-exclusive",
        {"$schema": D6, "type": "number", "exclusiveMinimum": 0},
        {"type": "number", "minimum": 0},
        1,
    ),
    ok(
        "dialect/draft7-definitions-into-2020-defs",
        {
            "$schema": D7,
            "definitions": {"id": {"type": "string", "pattern": "^[0-9]+$"}},
            "type": "object",
            "properties": {"ids": {"type": "array", "items": {"$ref": "#/definitions/id"}}},
        },
        {
            "$defs": {"id": {"type": "string", "minLength": 1}},
            "type": "object",
            "properties": {"ids": {"type": "array", "items": {"$ref": "#/$defs/id"}}},
        },
        {"ids": ["1"]},
    ),
]
