"""Annotations are not semantics: a schema's fingerprint with its annotation keywords removed.

Owns `semantic_fingerprint`: the canonical text of a document (uri, schema, resources) with
every annotation removed from *keyword position* in a schema object — `title`, `description`,
`examples`, `$comment`, `default`, `deprecated`, `readOnly`, `writeOnly`, and keywords no
dialect's validator knows (`markdownDescription`, `x-…`). Two documents with the same semantic
fingerprint accept the same values, so `check` answers "compatible" without a proof, the
`teamrel check` result cache keys on it and `plan` calls such an edit metadata-only.

`same_but_annotations(a, b)` decides the same equality for one pair without serialising either
document: it walks both at once, descends only where they differ and protects an annotation
only when a reference could point at its very position; `check` uses it before any proof.

Decides only that equality. A property *named* `title` (a key of `properties`), an `enum`
member or a `required` entry is a value, not a keyword, and stays. It leaves the fingerprint
unknown (None: the caller compares content and proves) when removal could change meaning:
the document is not JSON or too deep; and it keeps an annotation in place (so the texts
differ and the prover decides) when a `$ref` pointer reaches its very position (a `$ref` may
target anything in a document, an annotation's value too: `#/default`, `#/x-defs/s`) or its
value holds an identifier or anchor (`$id`, `id`, `$anchor`, ...) that a reference could
resolve through. A pointer that only names the same keyword elsewhere (`#/$defs/description`
beside a `description` annotation) protects nothing.
"""

from __future__ import annotations

import json
import marshal
from typing import Any
from urllib.parse import quote, unquote

from teamrel.canonical import JSON
from teamrel.jsonpointer import escape_token, unescape_token
from teamrel.models import SchemaDoc

#: keywords the reference validator gives no meaning to in any dialect
ANNOTATIONS = frozenset(
    (
        "title",
        "description",
        "examples",
        "$comment",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    )
)

#: every keyword with a meaning (assertion, applicator, identifier, reference) in some
#: dialect from draft-03 to 2020-12; any other keyword is an annotation
_KNOWN = frozenset(
    (
        "$id",
        "id",
        "$schema",
        "$ref",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$anchor",
        "$vocabulary",
        "$defs",
        "definitions",
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "const",
        "enum",
        "type",
        "contains",
        "maxContains",
        "minContains",
        "dependencies",
        "dependentRequired",
        "dependentSchemas",
        "disallow",
        "extends",
        "divisibleBy",
        "multipleOf",
        "exclusiveMaximum",
        "exclusiveMinimum",
        "maximum",
        "minimum",
        "format",
        "items",
        "prefixItems",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxLength",
        "minLength",
        "pattern",
        "maxProperties",
        "minProperties",
        "properties",
        "patternProperties",
        "propertyNames",
        "required",
        "unevaluatedItems",
        "unevaluatedProperties",
        # not validated by python-jsonschema, but a document may resolve through them
        "contentSchema",
        "contentMediaType",
        "contentEncoding",
    )
)

#: keywords whose value is a subschema, or a list of them
_SUBSCHEMA = frozenset(
    (
        "additionalItems",
        "additionalProperties",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "extends",
        "items",
        "prefixItems",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "contentSchema",
    )
)
#: keywords whose value maps names (kept as they are) to subschemas
_SUBSCHEMA_MAP = frozenset(
    ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")
)
_DESCEND = _SUBSCHEMA | _SUBSCHEMA_MAP
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_IDENTIFIERS = frozenset(("$id", "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor"))


def semantic_fingerprint(doc: SchemaDoc | JSON) -> str | None:
    """The canonical text of `doc` without its annotations, or None (see the module)."""
    if isinstance(doc, SchemaDoc):
        uri, schema, resources = doc.uri, doc.schema_, dict(doc.resources)
    else:
        uri, schema, resources = "", doc, {}
    try:
        reached: set[tuple[str, ...]] = set()
        _ref_prefixes([schema, resources], reached)
        stripped = _schema(schema, reached, ())
        res = {k: _schema(v, reached, ()) for k, v in resources.items()}
        return json.dumps(
            [uri, stripped, res], sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError, RecursionError):
        return None


def _ref_prefixes(value: Any, out: set[tuple[str, ...]]) -> None:
    """Every non-empty prefix of every JSON-pointer fragment of a reference anywhere in
    `value` (unescaped tokens): a position a reference reaches, or passes on its way there."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _REF_KEYS and isinstance(v, str) and "#/" in v:
                frag = v.split("#", 1)[1][1:]
                tokens = tuple(unescape_token(unquote(t)) for t in frag.split("/"))
                out.update(tokens[: i + 1] for i in range(len(tokens)))
            _ref_prefixes(v, out)
    elif isinstance(value, list):
        for v in value:
            _ref_prefixes(v, out)


def _reached(full: tuple[str, ...], reached: set[tuple[str, ...]]) -> bool:
    """Whether a reference may point at (or into) the position `full` of a schema: from the
    document's root or from any schema object on its path (an embedded resource's root)."""
    return any(full[i:] in reached for i in range(len(full)))


def _schema(value: Any, reached: set[tuple[str, ...]], path: tuple[str, ...]) -> Any:
    if not isinstance(value, dict):
        return value  # a boolean schema, or a malformed one the prover reports
    out: dict[str, Any] = {}
    for k, v in value.items():
        here = (*path, k)
        if (
            (k in ANNOTATIONS or k not in _KNOWN)
            and not _reached(here, reached)
            and not _identifies(v)
        ):
            continue
        if k in _SUBSCHEMA:
            out[k] = (
                [_schema(s, reached, (*here, str(i))) for i, s in enumerate(v)]
                if isinstance(v, list)
                else _schema(v, reached, here)
            )
        elif k in _SUBSCHEMA_MAP and isinstance(v, dict):
            # names are values here (a property may be called "title"); only subschemas
            # (not dependencies' lists of names) are walked
            out[k] = {n: _schema(sub, reached, (*here, n)) for n, sub in v.items()}
        else:
            out[k] = v
    return out


def _identifies(value: Any) -> bool:
    """Whether an identifier or anchor occurs in `value` (a reference may resolve to it)."""
    if isinstance(value, dict):
        return any(
            (k in _IDENTIFIERS and isinstance(v, str)) or _identifies(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_identifies(v) for v in value)
    return False


def same_but_annotations(a: SchemaDoc | JSON, b: SchemaDoc | JSON) -> bool:
    """Whether `a` and `b` differ in annotations only (so accept the same values).

    False means "not known": the prover decides. An annotation that differs is protected
    (the answer is False) when some string of either document holds a JSON-pointer fragment
    reaching its position from the document's root or from any schema object on its path (an
    embedded resource's root), or when it holds an identifier or anchor.
    """
    if isinstance(a, SchemaDoc) != isinstance(b, SchemaDoc):
        return False
    if isinstance(a, SchemaDoc) and isinstance(b, SchemaDoc):
        if a.uri != b.uri or a.resources.keys() != b.resources.keys():
            return False
        docs = [(a.schema_, b.schema_), *((a.resources[k], b.resources[k]) for k in a.resources)]
    else:
        docs = [(a, b)]
    found: list[tuple[tuple[str, ...], str, Any, Any]] = []
    try:
        if not all(_same(x, y, (), found) for x, y in docs):
            return False
        if not found:
            return True
        text = b"".join(marshal.dumps(d) for pair in docs for d in pair)
    except (TypeError, ValueError, RecursionError):
        return False
    for path, key, x, y in found:
        if _identifies(x) or _identifies(y):
            return False
        full = (*path, key)
        for i in range(len(full)):
            if _pointed_at(text, full[i:]):
                return False
    return True


_MISSING: Any = object()


def _strict_equal(x: Any, y: Any) -> bool:
    """JSON equality: `true` is not `1`, `1.0` is not `1`, at every leaf."""
    if x is y:
        return True
    if type(x) is not type(y) or x != y:
        return False
    if not isinstance(x, (dict, list)):
        return True
    # equal bytes mean equal values; unequal bytes may still be equal values (shared objects
    # are written as back-references), which canonical text settles
    if marshal.dumps(x) == marshal.dumps(y):
        return True
    return json.dumps(x, sort_keys=True) == json.dumps(y, sort_keys=True)


def _same(x: Any, y: Any, path: tuple[str, ...], found: list[Any]) -> bool:
    """Schemas x and y equal but for annotations (recorded in `found`).

    Python's `==` finds the differing keys first (in C, and most pairs `check` sees differ in
    a semantic keyword: they are refused before anything is serialised); only then are the
    differing subschemas walked and the loosely equal values compared strictly."""
    if x is y:
        return True
    if not isinstance(x, dict) or not isinstance(y, dict):
        return _strict_equal(x, y)
    loose: list[str] = []
    differ: list[str] = []
    for k in x.keys() | y.keys():
        xv, yv = x.get(k, _MISSING), y.get(k, _MISSING)
        if xv is not _MISSING and yv is not _MISSING and xv == yv:
            loose.append(k)
        elif k in ANNOTATIONS or k not in _KNOWN:
            found.append((path, k, None if xv is _MISSING else xv, None if yv is _MISSING else yv))
        elif xv is _MISSING or yv is _MISSING or k not in _DESCEND:
            return False
        else:
            differ.append(k)
    for k in differ:
        xv, yv, here = x[k], y[k], (*path, k)
        if k in _SUBSCHEMA:
            if isinstance(xv, list) and isinstance(yv, list):
                if len(xv) != len(yv) or not all(
                    _same(p, q, (*here, str(i)), found)
                    for i, (p, q) in enumerate(zip(xv, yv, strict=True))
                ):
                    return False
            elif isinstance(xv, list) or isinstance(yv, list) or not _same(xv, yv, here, found):
                return False
        elif isinstance(xv, dict) and isinstance(yv, dict) and xv.keys() == yv.keys():
            if not all(_same(xv[n], yv[n], (*here, n), found) for n in xv):
                return False
        else:
            return False
    return all(_strict_equal(x[k], y[k]) for k in loose if k not in ANNOTATIONS and k in _KNOWN)


def _pointed_at(text: bytes, tokens: tuple[str, ...]) -> bool:
    """Whether `text` (the documents' strings) holds a fragment `#/t1/t2...` for `tokens`, as
    written or percent-encoded (a prefix match: it may point below the position too)."""
    raw = "#/" + "/".join(escape_token(t) for t in tokens)
    for form in {raw, "#" + quote(raw[1:], safe="/~")}:
        if form.encode("utf-8", "surrogatepass") in text:
            return True
    return False
