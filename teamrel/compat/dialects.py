"""How a schema object reads in its dialect: `normalise` keeps the keywords the dialect's
validator knows (draft-03 to 2020-12), moves `$ref` siblings out in draft <= 7, folds draft-04
boolean exclusive bounds, items/additionalItems into prefixItems/items, `format` out unless
asserted, and marks what the prover cannot model (`UNMODELLED_KEY`, draft-03's schema-valued
`type` under `TYPE3_KEY`). Decides nothing about containment.
"""

from __future__ import annotations

from typing import Any

from teamrel.canonical import JSON, JsonObject
from teamrel.compat import wellformed
from teamrel.compat.readings import dialect_name

_LEGACY_REF = {"draft3", "draft4", "draft6", "draft7"}

_VOCABULARIES: dict[Any, frozenset[str]] = {}


def vocabulary(cls: type[Any]) -> frozenset[str]:
    got = _VOCABULARIES.get(cls)
    if got is None:
        got = _VOCABULARIES[cls] = frozenset(cls.VALIDATORS)
    return got


def normalise(raw: JSON, cls: type[Any], format_assertion: bool) -> JsonObject:
    """The asserting keywords of one schema object under its dialect, as 2020-12."""
    if not isinstance(raw, dict):
        return {}
    dialect = dialect_name(cls)
    vocab = vocabulary(cls)
    if dialect in _LEGACY_REF and "$ref" in raw:
        return {"$ref": raw["$ref"]}
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k in vocab:
            out[k] = v
    if "if" in out:
        for k in ("then", "else"):
            if k in raw:
                out[k] = raw[k]
    if "contains" in out and dialect in ("draft2019-09", "draft2020-12"):
        for k in ("minContains", "maxContains"):
            if k in raw:
                out[k] = raw[k]
    if "format" in out and not format_assertion:
        del out["format"]
    if dialect == "draft3":
        _normalise_draft3(raw, out)
    if dialect in ("draft3", "draft4"):
        for bound, excl in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = raw.get(excl, False)
            if bound in out and flag is True:
                out[excl] = out.pop(bound)
    if dialect != "draft2020-12":
        items = out.pop("items", None)
        additional = out.pop("additionalItems", None)
        if isinstance(items, list):
            out["prefixItems"] = items
            if additional is not None:
                out["items"] = additional
        elif items is not None:
            out["items"] = items
        deps = out.pop("dependencies", None)
        if isinstance(deps, dict):
            for name, dep in deps.items():
                if isinstance(dep, list):
                    out.setdefault("dependentRequired", {})[name] = dep
                elif isinstance(dep, str):  # draft-03: one property name
                    out.setdefault("dependentRequired", {})[name] = [dep]
                else:
                    out.setdefault("dependentSchemas", {})[name] = dep
    return out


#: where a draft-03 keyword the engine cannot read exactly is kept (see `_normalise_draft3`)
UNMODELLED_KEY = "$unmodelled"
#: where draft-03 `type` with schemas among its alternatives is kept (a union, see the prover)
TYPE3_KEY = "$type3"


def _normalise_draft3(raw: dict[str, Any], out: dict[str, Any]) -> None:
    """draft-03's own keywords, in 2020-12 terms where they have an exact equivalent.

    `divisibleBy` is `multipleOf`; `required: true` inside a property's schema is the
    parent's `required`; `type: "any"` is no constraint. `type` with schemas among its
    alternatives is kept under `TYPE3_KEY` (the prover reads it as a union); a type name
    python-jsonschema does not know (it fails when it meets one) under `UNMODELLED_KEY`.
    `extends` and `disallow` stay (the prover reads them as allOf and a negated `type`).
    """
    if "divisibleBy" in out:
        out["multipleOf"] = out.pop("divisibleBy")
    props = out.get("properties")
    if isinstance(props, dict):
        names = [n for n, sub in props.items() if isinstance(sub, dict) and sub.get("required")]
        if names:
            out["required"] = names
    ts = out.get("type")
    if ts is None:
        return
    alts = [ts] if isinstance(ts, str) else list(ts)
    if "any" in alts:
        del out["type"]
        return
    unknown = [t for t in alts if isinstance(t, str) and t not in wellformed.TYPE_NAMES]
    if unknown:
        del out["type"]
        out[UNMODELLED_KEY] = f"draft-03 type {unknown[0]!r} (not a type python-jsonschema knows)"
    elif any(not isinstance(t, str) for t in alts):
        out[TYPE3_KEY] = out.pop("type")
