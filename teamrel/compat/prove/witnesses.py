"""Witness building: a JSON value satisfying a set of terms (`gen`), and objects and arrays
built around a failing property or item (`build_object`, `build_array`).

Decides nothing about containment: every value built here is a candidate that the caller
checks against the terms (and `api` with the reference validator) before it is used. Values
are memoised by content (`_content_key`), across checks for schemas that mean the same in
every document. Gives up (`NOVALUE`) where no value is found within the depth budget.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from teamrel.canonical import JSON, canonical_json
from teamrel.compat.prove import arrays, decompose, objects
from teamrel.compat.prove.terms import NOVALUE, Atom, NoValue, Term
from teamrel.compat.schema import Node

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


#: values generated for schemas that mean the same in every document (no `$` keyword), by
#: content (`_content_key`), as JSON text: shared across checks
_SHARED_VALUES: dict[tuple[Any, ...], str] = {}


def build_array(
    pv: ProofSearch, g: Sequence[Atom], n: int, fixed: dict[int, JSON], idepth: int
) -> JSON | None:
    """An array of length n satisfying Γ's item schemas, with some items fixed."""
    if n > 1000:
        return None
    arr: list[JSON] = []
    distinct = any(a.kw.get("uniqueItems") is True for a in g)
    for i in range(max(n, max(fixed, default=-1) + 1)):
        if i in fixed:
            arr.append(fixed[i])
            continue
        terms: list[Term] = list(arrays.items_for(pv, g, i))
        prev = list(arr) + [v for j, v in fixed.items() if j > i] if distinct else []
        if prev and g:
            # distinct from the items before and the fixed items after it
            tag = ("distinct", canonical_json(prev))
            terms.append(decompose.syn(pv, g[0].node, tag, {"not": {"enum": prev}}))
        v = gen(pv, terms, idepth)
        if isinstance(v, NoValue):
            return None
        arr.append(v)
    # satisfy the producer's own `contains` with the first free slots
    for a in g:
        if "contains" in a.kw and a.kw.get("minContains", 1) > 0:
            c = a.child("contains")
            have = sum(1 for v in arr if pv.holds(c, v))
            if have < a.kw.get("minContains", 1):
                v = gen(pv, [c, *arrays.items_for(pv, g, len(arr))], idepth)
                if isinstance(v, NoValue):
                    return None
                arr.extend([v] * (a.kw.get("minContains", 1) - have))
    return arr


def gen(pv: ProofSearch, terms: Sequence[Term], idepth: int) -> JSON | NoValue:
    """Some value satisfying every term (a counterexample of terms ⊢ ∅), or NOVALUE."""
    if not terms:
        return None
    ids = tuple(map(id, terms))
    done = pv._generated.get(ids)
    if done is not None:
        return done[1]
    value = _gen(pv, terms, idepth)
    if not isinstance(value, NoValue):  # "none found" may be provisional (a cycle)
        pv._generated[ids] = (tuple(terms), value)
    return value


def _gen(pv: ProofSearch, terms: Sequence[Term], idepth: int) -> JSON | NoValue:
    memo = pv.memo.get((frozenset(t.key for t in terms), frozenset()))
    if memo is not None:  # this very goal was settled already
        if memo.ok or not memo.cands:
            return NOVALUE
        return memo.cands[0].value
    ckey, shared = _content_key(pv, terms)
    if ckey is not None:
        known = pv.values.get(ckey)
        if known is not None:
            return known[0]
        if shared:
            text = _SHARED_VALUES.get(ckey)
            if text is not None:
                value: JSON = json.loads(text)  # a private copy: callers may mutate
                pv.values[ckey] = (value,)
                return value
    out = pv.goal(list(terms), [], idepth + 1)
    if out.ok or not out.cands:
        return NOVALUE
    value = out.cands[0].value
    if ckey is not None:
        pv.values[ckey] = (value,)
        if shared:
            try:
                dumped = json.dumps(value, allow_nan=False)
            except (TypeError, ValueError, RecursionError):
                return value
            if len(_SHARED_VALUES) >= 4096:
                _SHARED_VALUES.pop(next(iter(_SHARED_VALUES)))
            _SHARED_VALUES[ckey] = dumped
    return value


def _content_key(pv: ProofSearch, terms: Sequence[Term]) -> tuple[tuple[Any, ...] | None, bool]:
    """A key of `terms` by content, for sides where equal text means equal schema, and
    whether it holds across sides too.

    Contracts repeat the same property schema many times (distinct objects, equal
    text); a value generated for one is valid for all. Only when no identifier can move
    a base URI and no dynamic scope exists; the base URI is part of the key. A schema
    without any `$` keyword (no reference, identifier, anchor or `$schema`) means the
    same in every document: its key is the same across checks (`shared`).
    """
    key: list[Any] = []
    shared = True
    for t in terms:
        if not isinstance(t, Node):
            return None, False
        try:
            # repr tells JSON values apart (true from 1, 1.0 from 1); keys in another
            # order only miss the cache
            text = repr(t.raw)
        except RecursionError:
            return None, False
        side = t.side
        if (
            "'$" not in text
            and '"$' not in text
            and not (t.dialect in ("draft3", "draft4") and ("'id'" in text or '"id"' in text))
        ):
            key.append((side.label, side.format_assertion, t.cls, text))
        elif side.context_free:
            shared = False
            key.append((id(side), t.cls, getattr(t.resolver, "_base_uri", None), text))
        else:
            return None, False
    return tuple(key), shared


def build_object(
    pv: ProofSearch,
    g: Sequence[Atom],
    include: dict[str, JSON],
    omit: set[str],
    idepth: int,
    min_count: int = 0,
) -> dict[str, JSON] | None:
    """A small object satisfying Γ's atoms, with `include` set and `omit` absent."""
    req = objects._required(pv, g, include)
    if any(r in omit for r in req):
        return None
    obj: dict[str, JSON] = {}
    for k in req:
        if k in include:
            obj[k] = include[k]
            continue
        terms = objects.key_terms(pv, g, k)
        if terms is None:
            return None
        v = gen(pv, terms, idepth)
        if isinstance(v, NoValue):
            return None
        obj[k] = v
    need = max([min_count, *(a.kw.get("minProperties", 0) for a in g)])
    if len(obj) < need:
        names: list[str] = []
        for a in g:
            names.extend(n for n in a.kw.get("properties", {}) if n not in names)
        names.extend(n for n in objects.possible_names(pv, g) or [] if n not in names)
        names.extend(f"extra{i}" for i in range(need + 5))
        for n in names:
            if len(obj) >= need:
                break
            if n in obj or n in omit:
                continue
            terms = objects.key_terms(pv, g, n)
            if terms is None:
                continue
            v = gen(pv, terms, idepth)
            if isinstance(v, NoValue):
                continue
            trial = dict(obj)
            trial[n] = v
            if len(objects._required(pv, g, trial)) > len(trial):
                continue
            obj = trial
        if len(obj) < need:
            return None
    return obj
