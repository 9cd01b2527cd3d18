"""The real-world corpus: check-jsonschema's vendored SchemaStore schemas and labelled pairs.

Owns how the pairs are made and labelled (the test, tests/unit/compat/test_schemastore.py, and
the benchmark, bench/compat.py's schemastore set, read the same pairs). Per schema S:

- `annotation`: S against S with annotations edited (the root `description` and the first
  nested `description`/`title` in keyword position): compatible both ways;
- one pair per mutation kind, at the first eligible site in document order: an enum value
  removed, a property made required, a bound tightened, an object closed
  (`additionalProperties: false`). Each mutation narrows the site; the site is reached from the
  root only through monotone keywords (properties, items, allOf, anyOf, then/else, `$ref`...,
  never `not`, `oneOf`, `if` or `contains`), so S' ⊆ S holds (label: compatible) and S ⊆ S'
  (label: incompatible) is refuted by a value using what was removed. The second label assumes
  that value exists (the site is satisfiable in its context); an engine answering "compatible"
  there is a wrong answer unless that is shown false, and an "incompatible" answer carries a
  witness the test checks with python-jsonschema.

Schemas whose reading is context-dependent in ways the site walk does not follow (`$dynamicRef`,
`$recursiveRef`, embedded `$id`s, `unevaluated*`, draft-03) get the annotation pairs only.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

try:
    import check_jsonschema
except ImportError:  # a test dependency; the test skips without it
    check_jsonschema = None

PLAIN_ONE = ("additionalProperties", "additionalItems")
PLAIN_EACH = ("prefixItems",)
PLAIN_MAP = ("properties", "patternProperties")
MONOTONE_ONE = ("then", "else", "propertyNames")
MONOTONE_EACH = ("allOf", "anyOf")
MONOTONE_MAP = ("dependentSchemas", "dependencies")
COMBINATORS = ("allOf", "anyOf", "oneOf", "not", "if", "$ref", "dependentSchemas", "dependencies")
NON_MONOTONE_ONE = ("not", "if", "contains", "unevaluatedProperties", "unevaluatedItems")
NON_MONOTONE_EACH = ("oneOf",)
#: schemas with a `$ref` to a document check-jsonschema does not ship: unreadable on their own
UNUSABLE = {
    "vendor/drone-ci.json": "$ref to kubernetes-definitions.json, not vendored",
}
LEGACY = ("http://json-schema.org/draft-07/schema", "http://json-schema.org/draft-06/schema")
LEGACY_04 = ("http://json-schema.org/draft-04/schema",)


@dataclass(frozen=True)
class Pair:
    """One directed pair with its label."""

    schema: str
    kind: str
    producer: Any
    consumer: Any
    expected: str  # "compatible" | "incompatible"

    def __str__(self) -> str:
        return f"{self.schema}:{self.kind}:{self.expected}"


def schema_dir() -> Path | None:
    if check_jsonschema is None:
        return None
    return Path(check_jsonschema.__file__).parent / "builtin_schemas"


def schemas() -> list[tuple[str, Any]]:
    """(name, schema) for every JSON schema check-jsonschema ships."""
    root = schema_dir()
    if root is None:
        return []
    files = sorted([*root.glob("vendor/*.json"), *root.glob("custom/*.json")])
    return [(f"{f.parent.name}/{f.name}", json.loads(f.read_text("utf-8"))) for f in files]


def _legacy(schema: Any) -> bool:
    uri = schema.get("$schema", "") if isinstance(schema, dict) else ""
    return any(uri.rstrip("#").startswith(u) for u in (*LEGACY, *LEGACY_04))


def _pointer(root: Any, ref: str) -> tuple[tuple[str, ...], Any] | None:
    if not ref.startswith("#/") and ref != "#":
        return None
    node, path = root, []
    for raw in ref[2:].split("/") if ref != "#" else []:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
        path.append(token)
    return tuple(path), node


def _unsupported(schema: Any) -> bool:
    text = json.dumps(schema)
    if any(k in text for k in ('"$dynamicRef"', '"$recursiveRef"', '"unevaluated')):
        return True
    if not isinstance(schema, dict) or "draft-03" in str(schema.get("$schema", "")):
        return True
    stack = [v for k, v in schema.items() if k not in ("$id", "id")]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if isinstance(v.get("$id"), str) or isinstance(v.get("id"), str):
                return True
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def sites(schema: Any) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Schema objects that are certain narrowing sites, in walk order: reached from the root
    only through monotone keywords (never through `not`, `oneOf`, `if`, `contains`...), at
    least once through plain containers only (properties, patternProperties,
    additionalProperties, items, prefixItems, additionalItems, `$ref`: no sibling branch can
    mask a narrowing), and free of combinators themselves."""
    legacy = _legacy(schema)
    order: list[tuple[str, ...]] = []
    objs: dict[tuple[str, ...], dict[str, Any]] = {}
    states: dict[tuple[str, ...], set[tuple[bool, bool]]] = {}
    stack: list[tuple[tuple[str, ...], Any, bool, bool]] = [((), schema, True, True)]
    while stack:
        path, node, mono, plain = stack.pop()
        if not isinstance(node, dict):
            continue
        seen = states.setdefault(path, set())
        if (mono, plain) in seen:
            continue
        seen.add((mono, plain))
        if path not in objs:
            objs[path] = node
            order.append(path)
        children: list[tuple[tuple[str, ...], Any, bool, bool]] = []
        ref = node.get("$ref")
        if isinstance(ref, str):
            target = _pointer(schema, ref)
            if target is not None:
                children.append((target[0], target[1], mono, plain))
            if legacy:
                stack.extend(reversed(children))
                continue
        for k, v in node.items():
            if k in PLAIN_ONE or (k == "items" and isinstance(v, dict)):
                children.append(((*path, k), v, mono, plain))
            elif k in MONOTONE_ONE:
                children.append(((*path, k), v, mono, False))
            elif k in PLAIN_EACH or (k == "items" and isinstance(v, list)):
                if isinstance(v, list):
                    children.extend(((*path, k, str(i)), s, mono, plain) for i, s in enumerate(v))
            elif k in MONOTONE_EACH and isinstance(v, list):
                children.extend(((*path, k, str(i)), s, mono, False) for i, s in enumerate(v))
            elif k in PLAIN_MAP and isinstance(v, dict):
                children.extend(((*path, k, n), s, mono, plain) for n, s in v.items())
            elif k in MONOTONE_MAP and isinstance(v, dict):
                children.extend(((*path, k, n), s, mono, False) for n, s in v.items())
            elif k in NON_MONOTONE_ONE:
                children.append(((*path, k), v, False, False))
            elif k in NON_MONOTONE_EACH and isinstance(v, list):
                children.extend(((*path, k, str(i)), s, False, False) for i, s in enumerate(v))
        stack.extend(reversed(children))
    return [
        (p, objs[p])
        for p in order
        if all(mono for mono, _ in states[p])
        and any(plain for _, plain in states[p])
        and not any(k in objs[p] for k in COMBINATORS)
    ]


def _at(schema: Any, path: tuple[str, ...]) -> Any:
    node = schema
    for token in path:
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def _mutations(schema: Any) -> Iterator[tuple[str, Any]]:
    """(kind, mutated copy) for each mutation kind at its first eligible site."""
    done: set[str] = set()
    # a name some `required` lists anywhere may be required at this site by another route
    required_anywhere = json.dumps(_required_lists(schema))
    for path, node in sites(schema):
        kinds: list[tuple[str, dict[str, Any]]] = []
        enum = node.get("enum")
        if isinstance(enum, list) and len(enum) >= 2 and enum.count(enum[-1]) == 1:
            kinds.append(("enum-value-removed", {"enum": enum[:-1]}))
        props = node.get("properties")
        if isinstance(props, dict) and props:
            req = node.get("required")
            if isinstance(req, list) or req is None:
                missing = [n for n in props if f'"{n}"' not in required_anywhere]
                if missing:
                    kinds.append(("property-required", {"required": [*(req or []), missing[0]]}))
            if "additionalProperties" not in node and "patternProperties" not in node:
                kinds.append(("object-closed", {"additionalProperties": False}))
        for k, step in (("maxLength", -1), ("maxItems", -1), ("minLength", 1), ("minItems", 1)):
            v = node.get(k)
            if type(v) is int and v + step >= 0:
                kinds.append(("bound-tightened", {k: v + step}))
                break
        else:
            for k, step in (("maximum", -1), ("minimum", 1)):
                v = node.get(k)
                if type(v) in (int, float) and not isinstance(
                    node.get("exclusive" + k[:1].upper() + k[1:]), bool
                ):
                    kinds.append(("bound-tightened", {k: v + step}))
                    break
        for kind, change in kinds:
            if kind in done:
                continue
            done.add(kind)
            mutated = copy.deepcopy(schema)
            _at(mutated, path).update(change)
            yield kind, mutated


def _required_lists(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if "required" in v:
                out.append(v["required"])
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return out


def annotation_edit(schema: Any) -> Any:
    """S with its root description and first nested description/title (keyword position)
    edited."""
    edited = copy.deepcopy(schema)
    if not isinstance(edited, dict):
        return edited
    edited["description"] = f"{edited.get('description', '')} (edited)"
    for path, node in sites(edited)[1:]:
        for k in ("description", "title"):
            if isinstance(node.get(k), str):
                _at(edited, path)[k] = node[k] + " (edited)"
                return edited
    return edited


def pairs() -> list[Pair]:
    out: list[Pair] = []
    for name, schema in schemas():
        edited = annotation_edit(schema)
        out.append(Pair(name, "annotation", schema, edited, "compatible"))
        out.append(Pair(name, "annotation-back", edited, schema, "compatible"))
        if _unsupported(schema):
            continue
        for kind, mutated in _mutations(schema):
            out.append(Pair(name, kind, mutated, schema, "compatible"))
            out.append(Pair(name, kind, schema, mutated, "incompatible"))
    return out
