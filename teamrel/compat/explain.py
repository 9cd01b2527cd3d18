"""Problems: turn a verified witness and the reference validator's errors into explanations.

Owns the fixed problem-kind vocabulary (documented in docs/compat.md) and the one-sentence
messages a release manager reads. The instance pointer and the consumer location come from
the reference validator's errors on the witness (so they are exactly where the consumer
rejects it); the producer location comes from where the proof failed.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema.exceptions

from teamrel.canonical import JSON
from teamrel.compat.prove.terms import Cand
from teamrel.compat.result import Problem
from teamrel.compat.schema import Side, escape, pointer_of
from teamrel.jsonpointer import unescape_token

#: The fixed vocabulary of problem kinds.
KINDS: dict[str, str] = {
    "enum-extended": "the producer may send a value outside the consumer's enum",
    "const-changed": "the producer may send a value other than the consumer's const",
    "required-removed": "the producer may omit a property the consumer requires",
    "type-widened": "the producer may send a JSON type the consumer does not accept",
    "nullable-added": "the producer may send null where the consumer does not accept it",
    "property-type-changed": "a property's value may have a type/shape the consumer rejects",
    "bound-relaxed": "a numeric bound or a count (items, properties) is looser on the producer",
    "length-relaxed": "a string length bound is looser on the producer",
    "multiple-of-relaxed": "the producer's numbers need not be multiples the consumer requires",
    "property-not-allowed": "the producer may send a property the consumer does not allow",
    "closed-to-open": "extra properties the consumer constrains are unconstrained upstream",
    "pattern-widened": "the producer may send a string the consumer's pattern rejects",
    "format-widened": "the producer may send a string outside the consumer's format",
    "items-widened": "array items may have a shape the consumer rejects",
    "tuple-extended": "the producer may send more array items than the consumer's tuple allows",
    "unique-items-dropped": "the producer may send duplicate array items",
    "contains-relaxed": "the producer's arrays need not contain what the consumer requires",
    "dependency-removed": "a property may appear without one the consumer requires with it",
    "union-branch-added": "the producer may send a value matching no consumer alternative",
    "not-relaxed": "the producer may send a value the consumer explicitly excludes",
    "schema-widened": "the producer accepts a value the consumer rejects (other reasons)",
}

_BY_KEYWORD = {
    "enum": "enum-extended",
    "const": "const-changed",
    "required": "required-removed",
    "minimum": "bound-relaxed",
    "maximum": "bound-relaxed",
    "exclusiveMinimum": "bound-relaxed",
    "exclusiveMaximum": "bound-relaxed",
    "minItems": "bound-relaxed",
    "maxItems": "bound-relaxed",
    "minProperties": "bound-relaxed",
    "maxProperties": "bound-relaxed",
    "minLength": "length-relaxed",
    "maxLength": "length-relaxed",
    "multipleOf": "multiple-of-relaxed",
    "divisibleBy": "multiple-of-relaxed",
    "additionalProperties": "property-not-allowed",
    "unevaluatedProperties": "property-not-allowed",
    "propertyNames": "property-not-allowed",
    "pattern": "pattern-widened",
    "patternProperties": "property-type-changed",
    "format": "format-widened",
    "items": "items-widened",
    "prefixItems": "items-widened",
    "additionalItems": "tuple-extended",
    "unevaluatedItems": "tuple-extended",
    "uniqueItems": "unique-items-dropped",
    "contains": "contains-relaxed",
    "minContains": "contains-relaxed",
    "maxContains": "contains-relaxed",
    "dependentRequired": "dependency-removed",
    "dependencies": "dependency-removed",
    "dependentSchemas": "dependency-removed",
    "anyOf": "union-branch-added",
    "oneOf": "union-branch-added",
    "not": "not-relaxed",
}


def _show(v: JSON, limit: int = 80) -> str:
    s = json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _where(ptr: str) -> str:
    return f"at {ptr}" if ptr else "at the top level"


def _sending(ptr: str, value: JSON) -> str:
    if ptr:
        name = unescape_token(ptr.rsplit("/", 1)[-1])
        if not name.isdigit():
            return f"{name}={_show(value)} at {ptr}"
    return f"{_show(value)} {_where(ptr)}"


def _kind(err: Any, hint: str | None) -> str:
    k = err.validator
    if k == "type":
        if err.instance is None and hint == "nullable-added":
            return "nullable-added"
        return "property-type-changed" if len(err.absolute_path) else "type-widened"
    if k is None:
        if err.schema is False and len(err.absolute_path):
            return (
                "tuple-extended"
                if isinstance(err.absolute_path[-1], int)
                else "property-not-allowed"
            )
        return hint or "schema-widened"
    if k in ("enum", "const") and err.instance is None:
        return "nullable-added"
    if k == "items" and err.validator_value is False:
        return "tuple-extended"
    kind = _BY_KEYWORD.get(str(k))
    if kind is None or (kind == "property-type-changed" and hint):
        return hint if hint in KINDS else "schema-widened"
    return kind


def _message(err: Any, kind: str, ptr: str) -> tuple[str, str]:
    """(message, instance pointer) for one reference-validator error."""
    k = err.validator
    v = err.instance
    vv = err.validator_value
    if k == "enum":
        opts = ", ".join(_show(x, 40) if not isinstance(x, str) else x for x in vv[:12])
        more = ", …" if len(vv) > 12 else ""
        return f"producer may send {_sending(ptr, v)}; consumer accepts only {opts}{more}", ptr
    if k == "const":
        return f"producer may send {_sending(ptr, v)}; consumer requires exactly {_show(vv)}", ptr
    if k == "required" and isinstance(v, dict):
        if not isinstance(vv, list):  # draft-03: `required: true` in a property's schema
            props = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
            vv = [n for n, sub in props.items() if isinstance(sub, dict) and sub.get("required")]
            # python-jsonschema puts the missing name on the error's path: the object is above
            if err.path:
                ptr = ptr.rsplit("/", 1)[0]
        missing = [r for r in vv if r not in v]
        # one error per missing property: name the one this error is about
        named = [r for r in missing if err.message.startswith(repr(r))]
        name = (named or missing or ["?"])[0]
        return f'producer may omit "{name}" {_where(ptr)}; consumer requires it', ptr
    if k == "type":
        # draft-03 alternatives may be schemas
        want = (
            vv
            if isinstance(vv, str)
            else " or ".join(t if isinstance(t, str) else _show(t) for t in vv)
        )
        what = "null" if v is None else _show(v)
        return f"producer may send {what} {_where(ptr)}; consumer accepts only {want}", ptr
    if k in ("additionalProperties", "unevaluatedProperties") and isinstance(v, dict):
        props = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
        extras = [x for x in v if x not in props]
        # the validator's message names the unexpected properties
        named = [x for x in extras if repr(x) in err.message]
        name = (named or extras or ["?"])[0]
        return (
            f'producer may send extra property "{name}" {_where(ptr)}; consumer does not allow it',
            ptr + "/" + escape(str(name)),
        )
    if k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"producer may send {_sending(ptr, v)}; consumer requires {k} {_show(vv)}", ptr
    if k in ("minLength", "maxLength") and isinstance(v, str):
        return (
            f"producer may send a string of {len(v)} characters {_where(ptr)}; "
            f"consumer requires {k} {vv}",
            ptr,
        )
    if k in ("minItems", "maxItems", "minProperties", "maxProperties"):
        n = len(v) if isinstance(v, (list, dict)) else "?"
        unit = "items" if k.endswith("Items") else "properties"
        return f"producer may send {n} {unit} {_where(ptr)}; consumer requires {k} {vv}", ptr
    if k == "additionalItems" and vv is False and isinstance(v, list):
        # draft <= 2019-09 reports the array; the first item past the tuple is the one refused
        prefix = err.schema.get("items") if isinstance(err.schema, dict) else None
        if isinstance(prefix, list) and len(v) > len(prefix):
            iptr = f"{ptr}/{len(prefix)}"
            return (
                f"producer may send the item {_show(v[len(prefix)])} at {iptr}; "
                "consumer's tuple allows no item there",
                iptr,
            )
    if k in ("multipleOf", "divisibleBy"):
        return f"producer may send {_sending(ptr, v)}; consumer requires a multiple of {vv}", ptr
    if k == "pattern":
        return f"producer may send {_sending(ptr, v)}; consumer requires pattern {vv}", ptr
    if k == "format":
        return f"producer may send {_sending(ptr, v)}; consumer requires format {vv}", ptr
    if k == "uniqueItems":
        return (
            f"producer may send duplicate items {_where(ptr)}; consumer requires unique items",
            ptr,
        )
    if k in ("contains", "minContains", "maxContains"):
        return (
            f"producer may send the array {_show(v)} {_where(ptr)}; consumer's {k} "
            "requirement is not met",
            ptr,
        )
    if k in ("dependentRequired", "dependencies"):
        return f"producer may send {_show(v)} {_where(ptr)}; consumer: {err.message}", ptr
    if k in ("anyOf", "oneOf"):
        verb = (
            "matches no alternative" if k == "anyOf" else "does not match exactly one alternative"
        )
        return f"producer may send {_sending(ptr, v)}, which {verb} ({k}) of the consumer", ptr
    if k == "not":
        return f"producer may send {_sending(ptr, v)}, which the consumer explicitly excludes", ptr
    if k is None and err.schema is False:
        if kind == "property-not-allowed":
            return f"producer may send {_sending(ptr, v)}; consumer does not allow it", ptr
        if kind == "tuple-extended":
            return (
                f"producer may send the item {_show(v)} {_where(ptr)}; "
                "consumer's tuple allows no item there",
                ptr,
            )
        return f"producer may send {_sending(ptr, v)}; consumer accepts nothing there", ptr
    return f"producer may send {_sending(ptr, v)}; consumer rejects it: {err.message}", ptr


def problems_for(p: Side, c: Side, cand: Cand, errors: list[Any]) -> list[Problem]:
    """Problems explaining why `cand.value` (valid under p) is rejected by c."""
    out: list[Problem] = []
    for top in errors[:5]:
        try:
            err = jsonschema.exceptions.best_match([top])
        except TypeError:
            # python-jsonschema's ranking reads every `type` as names; a draft-03 `type`
            # with schemas among its alternatives breaks it: the error itself is enough
            err = top
        if err is None:
            continue
        ptr = pointer_of(list(err.absolute_path))
        kind = _kind(err, cand.kind)
        message, iptr = _message(err, kind, ptr)
        schema_loc = c.locate_along(err.schema, err.absolute_schema_path)
        if schema_loc is None:
            path = list(err.absolute_schema_path)
            schema_loc = f"{c.label}#" + pointer_of(path) if "$ref" not in path else f"{c.label}#"
        elif err.validator == "required" and isinstance(err.validator_value, bool) and err.path:
            # draft-03: the keyword sits in the missing property's own schema
            schema_loc = f"{schema_loc}/properties/{escape(str(err.path[-1]))}/required"
        elif err.validator is not None:
            schema_loc = f"{schema_loc}/{escape(str(err.validator))}"
        out.append(
            Problem(
                kind=kind,
                instance_pointer=iptr,
                producer_location=cand.p_loc or f"{p.label}#",
                consumer_location=schema_loc,
                message=message,
            )
        )
    unique: list[Problem] = []
    for prob in out:
        if prob not in unique:
            unique.append(prob)
    out = unique
    if not out:
        out.append(
            Problem(
                kind=cand.kind or "schema-widened",
                instance_pointer="",
                producer_location=cand.p_loc or f"{p.label}#",
                consumer_location=f"{c.label}#",
                message=f"producer may send {_show(cand.value)}; consumer rejects it",
            )
        )
    return out
