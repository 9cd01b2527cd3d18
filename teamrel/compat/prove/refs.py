"""References and identity: when two nodes are the same schema (`same_schema`).

Decides identity by a bisimulation: the same canonical text read under the same dialect,
whose `$ref`s reach targets that are again the same schema. Leaves "not known the same"
(the prover then compares them normally) for context-dependent schemas ($id, dynamic
references and anchors, `$schema` below the top, draft-03) and past 256 assumed pairs. The
co-inductive handling of recursive goals is `ProofSearch.goal` in `core`.
"""

from __future__ import annotations

from typing import Any

from teamrel.compat.schema import Node

#: keys that make a subschema's meaning depend on where it sits (base URI, dynamic scope)
_CONTEXTUAL = frozenset(
    ("$id", "$dynamicRef", "$recursiveRef", "$dynamicAnchor", "$recursiveAnchor")
)


def same_refs(a: Any, b: Any, legacy_id: bool) -> tuple[str, ...] | None:
    """The `$ref` strings inside two strictly equal JSON values, or None.

    Strictly equal: Python's `==`, with numbers of the same type and booleans distinct from
    numbers at every leaf (`true` is not `1` for `const`, `1.0` is not `1` for `multipleOf`).
    None too when the value's meaning may depend on its context: an identifier (`$id`,
    draft-04 `id`) moving the base URI, a dynamic reference or anchor, a `$schema` below
    the top. The references are collected wherever they occur (a superset of those the
    validator follows).
    """
    try:
        if a != b:
            return None
        # equal for Python; the same repr also means the same types at every leaf (True is
        # not 1, 1.0 is not 1). Keys in another order: not recognised (only a lost shortcut)
        text = repr(a)
        if text != repr(b):
            return None
    except RecursionError:
        return None
    if (
        "'$" not in text
        and '"$' not in text
        and not (legacy_id and ("'id'" in text or '"id"' in text))
    ):
        return ()  # no reference, identifier, anchor or $schema anywhere
    refs: set[str] = set()
    stack: list[tuple[Any, Any, bool]] = [(a, b, True)]
    while stack:
        x, y, top = stack.pop()
        if type(x) is not type(y):
            return None
        if isinstance(x, dict):
            for k, v in x.items():
                if k in _CONTEXTUAL or (k == "$schema" and not top):
                    return None
                w = y[k]
                if k == "$ref" and isinstance(v, str):
                    refs.add(v)
                elif k == "id" and legacy_id and isinstance(v, str):
                    return None
                if isinstance(v, (dict, list)):
                    stack.append((v, w, False))
                elif type(v) is not type(w):
                    return None
        elif isinstance(x, list):
            for v, w in zip(x, y, strict=True):
                if isinstance(v, (dict, list)):
                    stack.append((v, w, False))
                elif type(v) is not type(w):
                    return None
    return tuple(sorted(refs))


def same_schema(a: Node, b: Node, memo: dict[Any, bool] | None = None) -> bool:
    """Whether two nodes are the same schema (so a ⊆ b trivially).

    The same canonical text, read under the same dialect, whose `$ref`s (looked up from each
    node's own base URI) reach targets that are again the same schema: a bisimulation, so
    both accept exactly the same values. `memo` (per proof) remembers pairs already settled.
    """
    if a.cls is not b.cls or a.side.format_assertion != b.side.format_assertion:
        return False
    if a.raw is b.raw and a.side is b.side:
        return a.key == b.key
    if not isinstance(a.raw, dict) or not isinstance(b.raw, dict) or len(a.raw) != len(b.raw):
        return False
    if (
        a.raw is a.side.schema
        and b.raw is b.side.schema
        and a.side.fingerprint is not None
        and a.side.fingerprint == b.side.fingerprint
    ):
        return True  # two whole documents, identical with their URI and resources
    pair = (a.key, b.key)
    if memo is not None:
        got = memo.get(pair)
        if got is not None:
            return got
    assumed: set[Any] = set()
    ok = _bisimilar(a, b, assumed, memo if memo is not None else {})
    if memo is not None:
        if ok:
            # every pair assumed on the way was checked: together they form a bisimulation
            for p in assumed:
                memo[p] = True
        memo[pair] = ok
    return ok


def _bisimilar(a: Node, b: Node, assumed: set[Any], memo: dict[Any, bool]) -> bool:
    todo = [(a, b)]
    while todo:
        a, b = todo.pop()
        if a.cls is not b.cls:
            return False
        if not isinstance(a.raw, dict) or not isinstance(b.raw, dict):
            if isinstance(a.raw, bool) and a.raw is b.raw:
                continue
            return False
        pair = (a.key, b.key)
        if pair in assumed or memo.get(pair):
            continue
        if len(assumed) >= 256:
            return False
        dialect = a.dialect
        if dialect == "draft3":
            return False
        refs = same_refs(a.raw, b.raw, dialect == "draft4")
        if refs is None:
            return False
        assumed.add(pair)
        if not refs:
            continue
        if a.side.dynamic or b.side.dynamic:
            return False
        for ref in refs:
            try:
                ta = a.follow("$ref", ref)
                tb = b.follow("$ref", ref)
            except Exception:  # not a reference the validator follows (e.g. inside an enum)
                return False
            todo.append((ta, tb))
    return True
