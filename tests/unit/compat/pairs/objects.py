"""Pairs over objects: properties, required, additional/pattern properties, propertyNames,
min/maxProperties, dependentRequired/dependentSchemas, draft-07 dependencies,
unevaluatedProperties."""

from __future__ import annotations

from . import ANY, BOUND, D7, D2019, DEP, EXTRA, LENGTH, PATTERN, REQ, SIZE, TYPE, bad, ok

OBJ = {"type": "object"}


def obj(
    props: dict[str, object], required: tuple[str, ...] = (), closed: bool = False
) -> dict[str, object]:
    """A small object schema."""
    s: dict[str, object] = {"type": "object", "properties": props}
    if required:
        s["required"] = list(required)
    if closed:
        s["additionalProperties"] = False
    return s


STR = {"type": "string"}
INT = {"type": "integer"}

PAIRS = [
    # ------------------------------------------------------------------ properties / required
    ok("object/same", obj({"a": STR}, ("a",)), obj({"a": STR}, ("a",)), {"a": "x"}),
    ok("object/required-added-upstream", obj({"a": STR}, ("a",)), obj({"a": STR}), {"a": ""}),
    bad("object/required-removed", obj({"a": STR}), obj({"a": STR}, ("a",)), {}, REQ, ""),
    bad(
        "object/two-required-missing",
        obj({"c": {}}, closed=True),
        {"type": "object", "required": ["a", "b"]},
        {},
        REQ,
        "",
    ),
    bad(
        "object/property-type-changed",
        obj({"age": STR}, ("age",)),
        obj({"age": INT}, ("age",)),
        {"age": ""},
        TYPE,
        "/age",
    ),
    ok(
        "object/closed-into-open",
        obj({"a": INT}, closed=True),
        obj({"a": {"type": "number"}}),
        {"a": 1},
    ),
    bad(
        "object/closed-consumer-extra-field",
        obj({"a": INT, "b": STR}, closed=True),
        obj({"a": INT}, closed=True),
        {"b": ""},
        EXTRA,
        "|/b",
    ),
    bad(
        "object/open-producer-closed-consumer",
        obj({"a": INT}),
        obj({"a": INT}, closed=True),
        {"x": 1},
        EXTRA,
        "|/*",
    ),
    ok(
        "object/pattern-properties-into-additional",
        {"type": "object", "patternProperties": {"^x-": STR}, "additionalProperties": False},
        {"type": "object", "additionalProperties": STR},
        {"x-a": "v"},
    ),
    bad(
        "object/pattern-properties-widened",
        {"type": "object", "patternProperties": {"^x-": STR}, "additionalProperties": False},
        {"type": "object", "patternProperties": {"^x-[a-z]+$": STR}, "additionalProperties": False},
        {"x-": ""},
        EXTRA + "|" + PATTERN,
        "|/*",
    ),
    ok(
        "object/pattern-properties-narrowed",
        {"type": "object", "patternProperties": {"^x-[a-z]+$": INT}, "additionalProperties": False},
        {
            "type": "object",
            "patternProperties": {"^x-": {"type": "number"}},
            "additionalProperties": False,
        },
        {"x-ab": 1},
    ),
    bad(
        "object/pattern-property-value-widened",
        {"type": "object", "patternProperties": {"^n_": {"type": "number"}}},
        {"type": "object", "patternProperties": {"^n_": INT}},
        {"n_": 0.5},
        TYPE,
        "/*",
    ),
    ok(
        "object/additional-narrowed",
        {"type": "object", "additionalProperties": INT},
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"a": 1},
    ),
    bad(
        "object/additional-widened",
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"type": "object", "additionalProperties": INT},
        {"a": 0.5},
        TYPE,
        "/*",
    ),
    ok("object/property-forbidden-upstream", obj({"legacy": False}), obj({"legacy": STR}), {}),
    ok(
        "object/required-implies-min-properties",
        {"type": "object", "required": ["a"]},
        {"type": "object", "minProperties": 1},
        {"a": 1},
    ),
    bad(
        "object/nested-bound-relaxed",
        obj({"a": obj({"b": {"type": "integer", "maximum": 10}})}),
        obj({"a": obj({"b": {"type": "integer", "maximum": 5}})}),
        {"a": {"b": 6}},
        BOUND,
        "/a/b",
    ),
    # ------------------------------------------------------------------ propertyNames
    ok(
        "object/property-names-narrowed",
        {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
        {"type": "object", "propertyNames": {"pattern": "^[a-z]"}},
        {"abc": 1},
    ),
    bad(
        "object/property-names-too-long",
        {"type": "object", "propertyNames": {"pattern": "^[a-z]+$"}},
        {"type": "object", "propertyNames": {"maxLength": 3}},
        {"abcd": None},
        EXTRA + "|" + LENGTH + "|" + PATTERN,
        "|/*",
    ),
    ok(
        "object/closed-names-in-enum",
        obj({"a": {}, "b": {}}, closed=True),
        {"type": "object", "propertyNames": {"enum": ["a", "b", "c"]}},
        {"a": 1, "b": 2},
    ),
    bad(
        "object/closed-name-too-long",
        obj({"a": {}, "zz": {}}, closed=True),
        {"type": "object", "propertyNames": {"maxLength": 1}},
        {"zz": 1},
        EXTRA + "|" + LENGTH,
        "|/zz",
    ),
    # ------------------------------------------------------------------ min/maxProperties
    ok(
        "object/property-count-within",
        obj({"a": {}, "b": {}}, ("a",), closed=True),
        {"type": "object", "minProperties": 1, "maxProperties": 2},
        {"a": 1},
    ),
    bad(
        "object/max-properties-relaxed",
        {"type": "object", "maxProperties": 3},
        {"type": "object", "maxProperties": 2},
        {"a": 1, "b": 1, "c": 1},
        SIZE,
        "",
    ),
    bad("object/empty-now-allowed", OBJ, {"type": "object", "minProperties": 1}, {}, SIZE, ""),
    # ------------------------------------------------------------------ dependencies
    ok(
        "dependent-required/implied-by-required",
        {"type": "object", "required": ["card", "billing"]},
        {"type": "object", "dependentRequired": {"card": ["billing"]}},
        {"card": 1, "billing": 2},
    ),
    bad(
        "dependent-required/dropped",
        OBJ,
        {"type": "object", "dependentRequired": {"card": ["billing"]}},
        {"card": 1},
        DEP,
        "",
    ),
    ok(
        "dependent-required/stronger-upstream",
        {"type": "object", "dependentRequired": {"a": ["b", "c"]}},
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"a": 1, "b": 1, "c": 1},
    ),
    bad(
        "dependent-required/weaker-upstream",
        {"type": "object", "dependentRequired": {"a": ["b"]}},
        {"type": "object", "dependentRequired": {"a": ["b", "c"]}},
        {"a": 1, "b": 1},
        DEP,
        "",
    ),
    ok(
        "dependent-schemas/as-dependent-required",
        {"type": "object", "dependentSchemas": {"card": {"required": ["billing"]}}},
        {"type": "object", "dependentRequired": {"card": ["billing"]}},
        {"card": 1, "billing": 1},
    ),
    bad(
        "dependent-schemas/constraint-dropped",
        obj({"card": STR}),
        {
            "type": "object",
            "dependentSchemas": {"card": {"properties": {"card": {"minLength": 12}}}},
        },
        {"card": ""},
        LENGTH + "|" + DEP,
        "/card",
    ),
    ok(
        "dependencies/draft7-array-form",
        {"$schema": D7, "type": "object", "dependencies": {"card": ["billing"]}},
        {"type": "object", "dependentRequired": {"card": ["billing"]}},
        {"card": 1, "billing": 1},
    ),
    bad(
        "dependencies/draft7-schema-form-dropped",
        {"$schema": D7, "type": "object"},
        {"$schema": D7, "type": "object", "dependencies": {"card": {"required": ["billing"]}}},
        {"card": 1},
        DEP,
        "",
    ),
    ok(
        "dependencies/draft7-schema-form-into-2020",
        {"$schema": D7, "type": "object", "dependencies": {"card": {"required": ["billing"]}}},
        {"type": "object", "dependentSchemas": {"card": {"required": ["billing"]}}},
        {},
    ),
    # ------------------------------------------------------------------ unevaluatedProperties
    ok(
        "unevaluated-properties/closed-equivalent",
        obj({"a": STR}, closed=True),
        {"type": "object", "allOf": [{"properties": {"a": STR}}], "unevaluatedProperties": False},
        {"a": ""},
    ),
    bad(
        "unevaluated-properties/extra-field",
        obj({"a": STR, "b": STR}, closed=True),
        {"type": "object", "allOf": [{"properties": {"a": STR}}], "unevaluatedProperties": False},
        {"b": ""},
        EXTRA,
        "|/b",
    ),
    ok(
        "unevaluated-properties/producer-closed-via-allof",
        {"type": "object", "allOf": [{"properties": {"a": STR}}], "unevaluatedProperties": False},
        obj({"a": STR}, closed=True),
        {"a": ""},
    ),
    ok(
        "unevaluated-properties/draft2019",
        {
            "$schema": D2019,
            "type": "object",
            "properties": {"a": STR},
            "unevaluatedProperties": False,
        },
        obj({"a": STR}, closed=True),
        {"a": ""},
    ),
    bad(
        "unevaluated-properties/schema-valued",
        {"type": "object", "properties": {"id": STR}},
        {"type": "object", "properties": {"id": STR}, "unevaluatedProperties": INT},
        {"x": ""},
        TYPE + "|" + EXTRA,
        "|/*",
    ),
    ok(
        "object/tagged-union-closed",
        {
            "oneOf": [
                obj({"kind": {"const": "a"}, "x": INT}, ("kind", "x"), closed=True),
                obj({"kind": {"const": "b"}, "y": STR}, ("kind", "y"), closed=True),
            ]
        },
        {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["a", "b"]}}},
        {"kind": "a", "x": 1},
    ),
    bad(
        "object/tagged-union-new-tag",
        {
            "oneOf": [
                obj({"kind": {"const": "a"}}, ("kind",), closed=True),
                obj({"kind": {"const": "c"}}, ("kind",), closed=True),
            ]
        },
        {"type": "object", "required": ["kind"], "properties": {"kind": {"enum": ["a", "b"]}}},
        {"kind": "c"},
        ANY,
        "/kind",
    ),
]
