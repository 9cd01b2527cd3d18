"""Fast well-formedness check of a JSON Schema document, keyword by keyword, per dialect.

Owns the answer to "is this a schema at all?" for the compatibility engine: every asserting
keyword the engine reads must have the shape its dialect's meta-schema requires (a schema, an
array of schemas, a non-negative integer, a valid `type` name...). This is what the engine
needs to never crash on bad input, at a fraction of the cost of validating against the
meta-schema with python-jsonschema (which takes ~0.3 s on a 200-property contract).
Annotations and unknown keywords are not checked: they are ignored everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from teamrel.canonical import JSON
from teamrel.compat.evaluate import unique
from teamrel.jsonpointer import escape_token

TYPE_NAMES = frozenset(("null", "boolean", "integer", "number", "string", "array", "object"))

_LEGACY = ("draft3", "draft4", "draft6", "draft7")


def _is_number(v: Any) -> bool:
    # NaN and the infinities are not JSON (and would poison every comparison)
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and math.isfinite(v)
    )


def _non_neg_int(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return v >= 0 and (isinstance(v, int) or v.is_integer())


def is_json(v: Any, limit: int = 10_000) -> bool:
    """Whether `v` is a JSON value: None, bool, int, finite float, str, lists and dicts with
    string keys of such (iterative; nesting beyond `limit` is refused)."""
    stack: list[tuple[Any, int]] = [(v, 0)]
    pop = stack.pop
    push = stack.append
    while stack:
        x, depth = pop()
        t = type(x)
        if t is str or t is int or t is bool or x is None:
            continue
        if t is float:
            if not math.isfinite(x):
                return False
        elif t is list:
            if depth >= limit:
                return False
            for y in x:
                push((y, depth + 1))
        elif t is dict:
            if depth >= limit:
                return False
            for k, y in x.items():
                if type(k) is not str:
                    return False
                push((y, depth + 1))
        else:
            return False
    return True


def _enum(v: Any) -> bool:
    return isinstance(v, list) and is_json(v)


def _string_array(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v) and len(set(v)) == len(v)


def _type(v: Any) -> bool:
    if isinstance(v, str):
        return v in TYPE_NAMES
    return (
        isinstance(v, list)
        and len(v) > 0
        and all(isinstance(x, str) and x in TYPE_NAMES for x in v)
        and len(set(v)) == len(v)
    )


#: value checks of keywords whose value is not (or does not contain) a subschema
_VALUE: dict[str, tuple[Callable[[Any], bool], str]] = {
    "type": (_type, "a type name or a non-empty array of distinct type names"),
    "enum": (_enum, "an array of JSON values"),
    "const": (is_json, "a JSON value"),
    "required": (_string_array, "an array of distinct strings"),
    "multipleOf": (lambda v: _is_number(v) and v > 0, "a number greater than 0"),
    "maximum": (_is_number, "a number"),
    "minimum": (_is_number, "a number"),
    "maxLength": (_non_neg_int, "a non-negative integer"),
    "minLength": (_non_neg_int, "a non-negative integer"),
    "maxItems": (_non_neg_int, "a non-negative integer"),
    "minItems": (_non_neg_int, "a non-negative integer"),
    "maxProperties": (_non_neg_int, "a non-negative integer"),
    "minProperties": (_non_neg_int, "a non-negative integer"),
    "maxContains": (_non_neg_int, "a non-negative integer"),
    "minContains": (_non_neg_int, "a non-negative integer"),
    "uniqueItems": (lambda v: isinstance(v, bool), "a boolean"),
    "pattern": (lambda v: isinstance(v, str), "a string"),
    "format": (lambda v: isinstance(v, str), "a string"),
    "$ref": (lambda v: isinstance(v, str), "a string"),
    "$dynamicRef": (lambda v: isinstance(v, str), "a string"),
    "$recursiveRef": (lambda v: isinstance(v, str), "a string"),
    "dependentRequired": (
        lambda v: isinstance(v, dict) and all(_string_array(x) for x in v.values()),
        "an object of string arrays",
    ),
}

_SCHEMA = frozenset(
    (
        "additionalProperties",
        "additionalItems",
        "contains",
        "if",
        "then",
        "else",
        "not",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
    )
)
_SCHEMA_ARRAY = frozenset(("allOf", "anyOf", "oneOf", "prefixItems"))
_SCHEMA_MAP = frozenset(
    ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
)


#: a location inside the document, as a linked list (parent, key): cheap to build for every
#: subschema, turned into a JSON pointer only when reported
Path = tuple[Any, ...] | None


def pointer(path: Path) -> str:
    """The JSON pointer of a `Path`."""
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(escape_token(str(key)))
    return "".join("/" + p for p in reversed(parts))


@dataclass
class Scan:
    """What one walk over a schema document found."""

    #: (JSON pointer, message) of the first malformed keyword, or None
    problem: tuple[str, str] | None = None
    #: (keyword, reference, base URI, path) of every $ref / $dynamicRef
    refs: list[tuple[str, str, str, Path]] = field(default_factory=list)
    #: (pattern, path) of every `pattern` and `patternProperties` name
    patterns: list[tuple[str, Path]] = field(default_factory=list)
    #: which of `MARKERS` occur as a keyword of some subschema (`$schema`: below the top)
    markers: set[str] = field(default_factory=set)
    #: identities of the subschema objects walked
    visited: set[int] = field(default_factory=set)


#: keywords whose mere presence changes how a document must be read: identifiers and
#: anchors (base URIs, a registry to crawl), dynamic references, a dialect switched below
#: the top, and the keywords whose specification reading may differ from python-jsonschema's
MARKERS = frozenset(
    (
        "$id",
        "id",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$dynamicRef",
        "$recursiveRef",
        "$schema",
        "multipleOf",
        "divisibleBy",
        "pattern",
        "patternProperties",
        "format",
    )
)


def scan(schema: JSON, dialect: str, vocabulary: frozenset[str], base: str, max_depth: int) -> Scan:
    """Walk every subschema once: well-formedness, nesting depth, `$ref`s and patterns.

    `vocabulary` holds the keywords the dialect asserts (others are annotations). Iterative.
    """
    if dialect in ("draft3", "draft4"):
        return _scan_legacy(schema, dialect, base, max_depth)
    out = Scan()
    legacy = dialect in _LEGACY
    draft4 = dialect in ("draft3", "draft4")
    id_key = "id" if draft4 else "$id"
    # what to do with each keyword this dialect reads, looked up once per key
    actions = {k: a for k, a in _ACTIONS.items() if k in vocabulary or k in _ALSO or k in _DEFS}
    value_checks = _VALUE
    refs = out.refs
    patterns = out.patterns
    markers = out.markers
    visit = out.visited.add
    marker_keys = MARKERS
    stack: list[tuple[JSON, Path, str, int]] = [(schema, None, base, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, path, base, depth = pop()
        if depth > max_depth:
            out.problem = (
                pointer(path) or "/",
                f"nested too deeply (more than {max_depth} levels)",
            )
            return out
        if node is True or node is False:
            if draft4:
                out.problem = (
                    pointer(path) or "/",
                    f"a {dialect} schema must be an object, not a boolean",
                )
                return out
            continue
        if not isinstance(node, dict):
            out.problem = (pointer(path) or "/", "a schema must be an object or a boolean")
            return out
        visit(id(node))
        legacy_ref = legacy and "$ref" in node
        if not legacy_ref:
            ident = node.get(id_key)
            if isinstance(ident, str) and not ident.startswith("#"):
                base = urljoin(base, ident).partition("#")[0]
        deeper = depth + 1
        for key, value in node.items():
            if key in marker_keys and (key != "$schema" or path is not None):
                markers.add(key)
            action = actions.get(key)
            if action is None:
                continue  # an annotation or a keyword unknown to the dialect
            if legacy_ref and key != "$ref" and action != _A_DEFS:
                continue  # ignored beside $ref in draft <= 7
            if action == _A_VALUE:
                check = value_checks[key]
                if not check[0](value):
                    out.problem = (pointer((path, key)), f"{key} must be {check[1]}")
                    return out
                if key == "pattern":
                    patterns.append((value, (path, key)))
                elif key in _REF_KEYS:
                    refs.append((key, value, base, (path, key)))
                continue
            here = (path, key)
            if action == _A_SCHEMA:
                push((value, here, base, deeper))
            elif action in (_A_MAP, _A_DEFS):
                if not isinstance(value, dict):
                    out.problem = (pointer(here), f"{key} must be an object of schemas")
                    return out
                if key == "patternProperties":
                    patterns.extend((k, (here, k)) for k in value)
                for k, v in value.items():
                    if type(k) is not str:
                        out.problem = (pointer(here), f"{key} must have string names")
                        return out
                    push((v, (here, k), base, deeper))
            elif action == _A_ARRAY:
                if not isinstance(value, list) or not value:
                    out.problem = (pointer(here), f"{key} must be a non-empty array of schemas")
                    return out
                for i, v in enumerate(value):
                    push((v, (here, i), base, deeper))
            elif action == _A_BOUND:
                ok = isinstance(value, bool) if draft4 else _is_number(value)
                if not ok:
                    want = "a boolean" if draft4 else "a number"
                    out.problem = (pointer(here), f"{key} must be {want}")
                    return out
            elif action == _A_ITEMS:
                if isinstance(value, list) and dialect != "draft2020-12":
                    for i, v in enumerate(value):
                        push((v, (here, i), base, deeper))
                else:
                    push((value, here, base, deeper))
            else:  # dependencies
                if not isinstance(value, dict):
                    out.problem = (pointer(here), "dependencies must be an object")
                    return out
                for k, v in value.items():
                    if isinstance(v, list):
                        if not _string_array(v):
                            out.problem = (
                                pointer((here, k)),
                                "must be an array of distinct strings",
                            )
                            return out
                    else:
                        push((v, (here, k), base, deeper))
    return out


def _legacy_int(v: Any) -> bool:
    # draft-03/04's "integer" (python-jsonschema's reading of their meta-schemas) is an
    # integral JSON number written without a fraction: 1.0 is refused
    return isinstance(v, int) and not isinstance(v, bool)


def _legacy_string_array(v: Any) -> bool:
    """draft-04's `stringArray`: non-empty, distinct strings."""
    return isinstance(v, list) and len(v) > 0 and _string_array(v)


def _legacy_enum(v: Any) -> bool:
    return isinstance(v, list) and len(v) > 0 and is_json(v) and unique(v)


#: draft-03/04 keywords whose value holds no subschema: (dialects, check, what it must be),
#: transcribed from each dialect's meta-schema (format-only constraints, such as `pattern`
#: being a regex or `$schema` a URI, are left to the checks that read them)
_LEGACY_VALUE: dict[str, tuple[tuple[str, ...], Callable[[Any], bool], str]] = {
    "id": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "$schema": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "title": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "description": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "format": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "pattern": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
    "maximum": (("draft3", "draft4"), _is_number, "a number"),
    "minimum": (("draft3", "draft4"), _is_number, "a number"),
    "exclusiveMaximum": (("draft3", "draft4"), lambda v: isinstance(v, bool), "a boolean"),
    "exclusiveMinimum": (("draft3", "draft4"), lambda v: isinstance(v, bool), "a boolean"),
    "uniqueItems": (("draft3", "draft4"), lambda v: isinstance(v, bool), "a boolean"),
    "enum": (("draft3", "draft4"), _legacy_enum, "a non-empty array of distinct JSON values"),
    "minItems": (("draft3", "draft4"), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "maxItems": (("draft3", "draft4"), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "minLength": (("draft3", "draft4"), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "maxLength": (("draft3", "draft4"), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "minProperties": (("draft4",), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "maxProperties": (("draft4",), lambda v: _legacy_int(v) and v >= 0, "an integer >= 0"),
    "multipleOf": (("draft4",), lambda v: _is_number(v) and v > 0, "a number greater than 0"),
    "divisibleBy": (("draft3",), lambda v: _is_number(v) and v > 0, "a number greater than 0"),
    "required": (("draft4",), _legacy_string_array, "a non-empty array of distinct strings"),
    # not constrained by draft-04's meta-schema, but a JSON Reference is a string, and
    # python-jsonschema fails on any other value when it follows one
    "$ref": (("draft3", "draft4"), lambda v: isinstance(v, str), "a string"),
}
#: draft-03 differs: no lower bound on `maxLength`, `required` a boolean (in a property's schema)
_LEGACY_DRAFT3_VALUE = {
    **_LEGACY_VALUE,
    "maxLength": (("draft3",), _legacy_int, "an integer"),
    "required": (("draft3",), lambda v: isinstance(v, bool), "a boolean"),
}
_LEGACY_BOUNDS = (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum"))


def _scan_legacy(schema: JSON, dialect: str, base: str, max_depth: int) -> Scan:
    """`scan` for draft-03 and draft-04: every keyword position accepts what the dialect's
    meta-schema accepts (booleans only where it allows them: `additionalProperties`,
    `additionalItems`). Keywords beside a `$ref`, ignored by the validator, must still be
    well-formed, but their subschemas are walked "dead": checked, not recorded as visited,
    their references and patterns not collected (a `$ref` into them is checked when
    resolved, as one into any other place)."""
    out = Scan()
    draft3 = dialect == "draft3"
    values = _LEGACY_DRAFT3_VALUE if draft3 else _LEGACY_VALUE
    refs = out.refs
    patterns = out.patterns
    markers = out.markers
    visit = out.visited.add
    # (node, path, base URI, depth, live)
    stack: list[tuple[JSON, Path, str, int, bool]] = [(schema, None, base, 1, True)]
    pop = stack.pop
    push = stack.append

    def bad(path: Path, message: str) -> Scan:
        out.problem = (pointer(path) or "/", message)
        return out

    while stack:
        node, path, base, depth, live = pop()
        if depth > max_depth:
            return bad(path, f"nested too deeply (more than {max_depth} levels)")
        if not isinstance(node, dict):
            if node is True or node is False:
                return bad(path, f"a {dialect} schema must be an object, not a boolean")
            return bad(path, f"a {dialect} schema must be an object")
        if live:
            visit(id(node))
        has_ref = "$ref" in node
        if not has_ref:
            ident = node.get("id")
            if isinstance(ident, str) and not ident.startswith("#"):
                base = urljoin(base, ident).partition("#")[0]
        deeper = depth + 1
        for key, value in node.items():
            if key in MARKERS and (key != "$schema" or path is not None):
                markers.add(key)
            here = (path, key)
            # a keyword the validator ignores (beside $ref) is still checked
            child_live = live and (not has_ref or key == "$ref" or key == "definitions")
            rule = values.get(key)
            if rule is not None and dialect in rule[0]:
                if not rule[1](value):
                    return bad(here, f"{key} must be {rule[2]}")
                if child_live:
                    if key == "pattern":
                        patterns.append((value, here))
                    elif key == "$ref":
                        refs.append((key, value, base, here))
                continue
            if key in ("additionalProperties", "additionalItems") or (key == "not" and not draft3):
                if isinstance(value, bool) and key != "not":
                    continue  # the one place a draft-03/04 schema position takes a boolean
                push((value, here, base, deeper, child_live))
            elif key in ("properties", "patternProperties") or (
                key == "definitions" and not draft3
            ):
                if not isinstance(value, dict):
                    return bad(here, f"{key} must be an object of schemas")
                if key == "patternProperties" and child_live:
                    patterns.extend((k, (here, k)) for k in value)
                for k, v in value.items():
                    push((v, (here, k), base, deeper, child_live))
            elif key in ("allOf", "anyOf", "oneOf") and not draft3:
                if not isinstance(value, list) or not value:
                    return bad(here, f"{key} must be a non-empty array of schemas")
                for i, v in enumerate(value):
                    push((v, (here, i), base, deeper, child_live))
            elif key == "items" or (key == "extends" and draft3):
                if isinstance(value, list):
                    if not value and not draft3:
                        return bad(here, f"{key} must be a schema or a non-empty array of schemas")
                    for i, v in enumerate(value):
                        push((v, (here, i), base, deeper, child_live))
                else:
                    push((value, here, base, deeper, child_live))
            elif key == "type" or (key == "disallow" and draft3):
                if isinstance(value, str):
                    if not draft3 and value not in TYPE_NAMES:
                        return bad(here, f"{key} must be one of {sorted(TYPE_NAMES)}")
                    continue
                if not isinstance(value, list) or not unique(value):
                    return bad(here, f"{key} must be a type or an array of distinct types")
                if not draft3 and (
                    not value or any(not isinstance(v, str) or v not in TYPE_NAMES for v in value)
                ):
                    return bad(here, f"{key} must be a non-empty array of type names")
                for i, v in enumerate(value):
                    if not isinstance(v, str):
                        push((v, (here, i), base, deeper, child_live))
            elif key == "dependencies":
                if not isinstance(value, dict):
                    return bad(here, "dependencies must be an object")
                for k, v in value.items():
                    if draft3 and isinstance(v, str):
                        continue
                    if isinstance(v, list):
                        ok = (
                            all(isinstance(x, str) for x in v)
                            if draft3
                            else _legacy_string_array(v)
                        )
                        if not ok:
                            return bad((here, k), "must be an array of distinct strings")
                        continue
                    push((v, (here, k), base, deeper, child_live))
        for flag, bound in _LEGACY_BOUNDS:
            if flag in node and bound not in node:
                return bad((path, flag), f"{flag} requires {bound} beside it")
    return out


def problem(schema: JSON, dialect: str, vocabulary: frozenset[str]) -> tuple[str, str] | None:
    """(JSON pointer, message) of the first malformed keyword of `schema`, or None."""
    return scan(schema, dialect, vocabulary, "", 10_000).problem


_ALSO = frozenset(("then", "else", "minContains", "maxContains"))
_DEFS = frozenset(("$defs", "definitions"))
_REF_KEYS = frozenset(("$ref", "$dynamicRef", "$recursiveRef"))

_A_VALUE, _A_SCHEMA, _A_ARRAY, _A_MAP, _A_DEFS, _A_BOUND, _A_ITEMS, _A_DEPS = range(8)
#: how `scan` treats each keyword (when the dialect reads it)
_ACTIONS: dict[str, int] = {
    **{k: _A_VALUE for k in _VALUE},
    **{k: _A_SCHEMA for k in _SCHEMA},
    **{k: _A_ARRAY for k in _SCHEMA_ARRAY},
    **{k: _A_MAP for k in _SCHEMA_MAP},
    "$defs": _A_DEFS,
    "definitions": _A_DEFS,
    "exclusiveMaximum": _A_BOUND,
    "exclusiveMinimum": _A_BOUND,
    "items": _A_ITEMS,
    "dependencies": _A_DEPS,
}
