"""Annotations are not semantics: a schema's fingerprint with its annotation keywords removed.

Owns `semantic_fingerprint`: the canonical text of a document (uri, schema, resources) with
every annotation removed from *keyword position* in a schema object — `title`, `description`,
`examples`, `$comment`, `default`, `deprecated`, `readOnly`, `writeOnly`, and keywords no
dialect's validator knows (`markdownDescription`, `x-…`). Two documents with the same semantic
fingerprint accept the same values, so `check` answers "compatible" without a proof, the
`teamrel check` result cache keys on it and `plan` calls such an edit metadata-only.

Decides only that equality. A property *named* `title` (a key of `properties`), an `enum`
member or a `required` entry is a value, not a keyword, and stays. It leaves the fingerprint
unknown (None: the caller compares content and proves) when removal could change meaning:
the document is not JSON or too deep; and it keeps an annotation in place (so the texts
differ and the prover decides) when a `$ref` pointer names it (a `$ref` may target anything
in a document, an annotation's value too) or its value holds an identifier or anchor (`$id`,
`id`, `$anchor`, ...) that a reference could resolve through.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from teamrel.canonical import JSON
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
_REF_KEYS = ("$ref", "$dynamicRef", "$recursiveRef")
_IDENTIFIERS = frozenset(("$id", "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor"))


def semantic_fingerprint(doc: SchemaDoc | JSON) -> str | None:
    """The canonical text of `doc` without its annotations, or None (see the module)."""
    if isinstance(doc, SchemaDoc):
        uri, schema, resources = doc.uri, doc.schema_, dict(doc.resources)
    else:
        uri, schema, resources = "", doc, {}
    try:
        named: set[str] = set()
        _pointer_tokens([schema, resources], named)
        stripped = _schema(schema, named)
        res = {k: _schema(v, named) for k, v in resources.items()}
        return json.dumps(
            [uri, stripped, res], sort_keys=True, separators=(",", ":"), allow_nan=False
        )
    except (TypeError, ValueError, RecursionError):
        return None


def _pointer_tokens(value: Any, out: set[str]) -> None:
    """Every token of every JSON-pointer fragment of a reference anywhere in `value`: a key
    so named may be a reference's target (or on its way) and must not be removed."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _REF_KEYS and isinstance(v, str) and "#" in v:
                for token in v.split("#", 1)[1].split("/"):
                    out.add(token)
                    out.add(unquote(token).replace("~1", "/").replace("~0", "~"))
            _pointer_tokens(v, out)
    elif isinstance(value, list):
        for v in value:
            _pointer_tokens(v, out)


def _schema(value: Any, named: set[str]) -> Any:
    if not isinstance(value, dict):
        return value  # a boolean schema, or a malformed one the prover reports
    out: dict[str, Any] = {}
    for k, v in value.items():
        if (k in ANNOTATIONS or k not in _KNOWN) and k not in named and not _identifies(v):
            continue
        if k in _SUBSCHEMA:
            out[k] = [_schema(s, named) for s in v] if isinstance(v, list) else _schema(v, named)
        elif k in _SUBSCHEMA_MAP and isinstance(v, dict):
            # names are values here (a property may be called "title"); only subschemas
            # (not dependencies' lists of names) are walked
            out[k] = {n: _schema(s, named) for n, s in v.items()}
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
