"""Arrays: prefixItems/items, min/maxItems, uniqueItems, contains / min/maxContains.

Decides item-wise containment (each position's producer schemas against the consumer's, as
child goals), length bounds, `uniqueItems` when the producer's values are finite enough to
count (`_unique_bound`) or already unique, and `contains` by counting the positions
certainly matching; builds arrays avoiding a schema for witnesses.

Leaves unknown: `uniqueItems` on a consumer that the producer cannot be shown to satisfy and
no duplicate-holding array can be built, `contains` / `maxContains` counts it cannot bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from teamrel.canonical import JSON, canonical_json
from teamrel.compat.evaluate import ValidationUnavailable, equal
from teamrel.compat.prove import decompose, witnesses
from teamrel.compat.prove.terms import PROVED, Atom, Cand, NoValue, Outcome, Term, fail, goal_loc
from teamrel.compat.schema import Node, Unmodelled

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


def items_for(pv: ProofSearch, atoms: Sequence[Atom], i: int) -> list[Node]:
    out: list[Node] = []
    for a in atoms:
        prefix = a.kw.get("prefixItems", [])
        if i < len(prefix):
            out.append(a.child("prefixItems", i))
        elif "items" in a.kw:
            out.append(a.child("items"))
    return out


def _array_len(pv: ProofSearch, g: Sequence[Atom]) -> tuple[int, int | None]:
    lo = max((a.kw.get("minItems", 0) for a in g), default=0)
    hi: int | None = None
    for a in g:
        if "maxItems" in a.kw:
            hi = a.kw["maxItems"] if hi is None else min(hi, a.kw["maxItems"])
        if a.kw.get("items") is False:
            n = len(a.kw.get("prefixItems", []))
            hi = n if hi is None else min(hi, n)
        prefix = a.kw.get("prefixItems", [])
        if False in prefix:
            # no item can stand at a `false` position, nor therefore after it
            n = next(i for i, p in enumerate(prefix) if p is False)
            hi = n if hi is None else min(hi, n)
    return lo, hi


def array_case(pv: ProofSearch, g: list[Atom], d: list[Atom], idepth: int) -> Outcome:
    lo, hi = _array_len(pv, g)
    if (
        any(a.kw.get("uniqueItems") is True for a in g)
        and any("maxItems" in x.kw for x in d)
        and (hi is None or any(hi > x.kw.get("maxItems", hi) for x in d))
    ):
        # distinct items drawn from finitely many values: a counting bound on the length
        bound = _unique_bound(pv, g)
        if bound is not None and (hi is None or bound < hi):
            hi = bound
    if hi is not None and lo > hi:
        return PROVED
    reasons: list[str] = []
    cands: list[Cand] = []
    for x in d:
        out = array_contained(pv, g, x, lo, hi, idepth)
        if out.ok:
            return PROVED
        cands.extend(out.cands)
        if out.reason:
            reasons.append(out.reason)
    if not d:
        arr = witnesses.build_array(pv, g, lo, {}, idepth)
        if arr is not None:
            cands.append(Cand(arr, "type-widened", goal_loc(g)))
    got = pv._filter(g, d, cands)
    if got:
        return fail(got)
    # no counterexample could be built: maybe because there is no producer array at all
    for i in range(min(lo, 64)):
        terms = items_for(pv, g, i)
        if terms and pv.goal(terms, [], idepth + 1).ok:
            return PROVED  # a required item admits no value
    top = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
    for a in g:
        need = a.kw.get("minContains", 1) if "contains" in a.kw else 0
        if need < 1:
            continue
        if (hi is not None and hi < need) or a.kw.get("maxContains", need) < need:
            return PROVED  # fewer items allowed than must match `contains`
        c_node = a.child("contains")
        positions = range(min(top + 1, hi if hi is not None else top + 1))
        if all(pv.goal([*items_for(pv, g, i), c_node], [], idepth + 1).ok for i in positions):
            return PROVED  # no item can match the producer's own `contains`
    return fail(reason=reasons[0] if reasons else f"array constraints at {goal_loc(g)}")


def array_contained(
    pv: ProofSearch, g: list[Atom], x: Atom, lo: int, hi: int | None, idepth: int
) -> Outcome:
    kw = x.kw
    loc = goal_loc(g)
    if "enum" in kw or "const" in kw:
        arr = witnesses.build_array(pv, g, lo, {}, idepth)
        return fail([Cand(arr, "schema-widened", loc)] if arr is not None else [])
    cands: list[Cand] = []
    reason: str | None = None
    # a count that is not proved but shows no array: the items may still show one
    pending: str | None = None
    d_lo = kw.get("minItems", 0)
    if d_lo > lo:
        arr = witnesses.build_array(pv, g, lo, {}, idepth)
        if arr is not None:
            return fail([Cand(arr, "bound-relaxed", loc)])
        pending = f"minItems at {x.loc}"
    if "maxItems" in kw and (hi is None or hi > kw["maxItems"]):
        n = kw["maxItems"] + 1
        arr = witnesses.build_array(pv, g, max(n, lo), {}, idepth)
        if arr is not None:
            return fail([Cand(arr, "bound-relaxed", loc)])
        pending = pending or f"maxItems at {x.loc}"
    d_prefix = len(kw.get("prefixItems", []))
    g_prefix = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
    top = max(d_prefix, g_prefix)
    for i in range(top + 1):
        if hi is not None and i >= hi:
            break
        dn = items_for(pv, [x], i)
        if not dn:
            if i >= d_prefix:
                break
            continue
        gn = items_for(pv, g, i)
        sub = pv.goal(gn, dn, idepth + 1)
        if not sub.ok:
            for c in sub.cands:
                arr = witnesses.build_array(pv, g, max(lo, i + 1), {i: c.value}, idepth)
                if arr is not None:
                    kind = c.kind
                    if i >= d_prefix and kw.get("items") is False:
                        kind = "tuple-extended"
                    cands.append(Cand(arr, kind or "items-widened", c.p_loc or loc))
            if cands:
                return fail(cands)
            reason = reason or sub.reason
            if reason is None:
                return fail()
            return fail(reason=reason)
    if (
        kw.get("uniqueItems") is True
        and not any(a.kw.get("uniqueItems") is True for a in g)
        and (hi is None or hi >= 2)
    ):
        v = witnesses.gen(pv, [*items_for(pv, g, 0), *items_for(pv, g, 1)], idepth)
        if not isinstance(v, NoValue):
            arr = witnesses.build_array(pv, g, max(lo, 2), {0: v, 1: v}, idepth)
            if arr is not None:
                return fail([Cand(arr, "unique-items-dropped", loc)])
        return fail(reason=f"uniqueItems at {x.loc}")
    if "contains" in kw:
        c_node = x.child("contains")
        need = kw.get("minContains", 1)
        if need > 0:
            ok = False
            for a in g:
                if (
                    "contains" in a.kw
                    and a.kw.get("minContains", 1) >= need
                    and pv.goal([a.child("contains")], [c_node], idepth + 1).ok
                ):
                    ok = True
                    break
            if not ok and lo >= need:
                ok = all(
                    pv.goal(items_for(pv, g, i), [c_node], idepth + 1).ok
                    for i in range(min(top + 1, 50))
                )
            if not ok:
                arr = _array_avoiding(pv, g, lo, c_node, idepth)
                if arr is not None:
                    return fail([Cand(arr, "contains-relaxed", loc)])
                return fail(reason=f"contains at {x.loc}")
        if "maxContains" in kw:
            mx = kw["maxContains"]
            if not (hi is not None and hi <= mx):
                ok = False
                for a in g:
                    if (
                        "contains" in a.kw
                        and a.kw.get("maxContains", mx + 1) <= mx
                        and pv.goal([c_node], [a.child("contains")], idepth + 1).ok
                    ):
                        ok = True
                        break
                if not ok:
                    ok = all(
                        pv.goal([*items_for(pv, g, i), c_node], [], idepth + 1).ok
                        for i in range(top + 1)
                    )
                if not ok and any(a.kw.get("uniqueItems") is True for a in g):
                    most = _unique_matches(pv, g, c_node)
                    ok = most is not None and most <= mx
                if not ok:
                    fixed: dict[int, JSON] = {}
                    distinct = any(a.kw.get("uniqueItems") is True for a in g)
                    for i in range(min(mx + 1, 1000)):
                        terms: list[Term] = [*items_for(pv, g, i), c_node]
                        if distinct and fixed:
                            prev = list(fixed.values())
                            tag = ("distinct", canonical_json(prev))
                            terms.append(decompose.syn(pv, c_node, tag, {"not": {"enum": prev}}))
                        v = witnesses.gen(pv, terms, idepth)
                        if isinstance(v, NoValue):
                            break
                        fixed[i] = v
                    if len(fixed) == mx + 1:
                        arr = witnesses.build_array(pv, g, max(lo, mx + 1), fixed, idepth)
                        if arr is not None:
                            return fail([Cand(arr, "contains-relaxed", loc)])
                    return fail(reason=f"maxContains at {x.loc}")
    return fail(reason=pending) if pending else PROVED


def _finite_values(pv: ProofSearch, node: Node) -> list[JSON] | None:
    """A finite superset of the values `node` accepts (const, enum, null/boolean types,
    also through one level of allOf/$ref), or None."""
    if node.raw is False:
        return []
    if not isinstance(node.raw, dict):
        return None
    best: list[JSON] | None = None
    for n in (node, *decompose.parts(pv, node, "g").conj):
        kw = n.kw if isinstance(n.raw, dict) else {}
        vals: list[JSON] | None = None
        if n.raw is False:
            vals = []
        elif "const" in kw:
            vals = [kw["const"]]
        elif "enum" in kw and len(kw["enum"]) <= 64:
            vals = list(kw["enum"])
        elif "type" in kw:
            ts = [kw["type"]] if isinstance(kw["type"], str) else kw["type"]
            if set(ts) <= {"null", "boolean"}:
                vals = [None] if "null" in ts else []
                if "boolean" in ts:
                    vals.extend((False, True))
        if vals is not None and (best is None or len(vals) < len(best)):
            best = vals
    return best


def _position_values(pv: ProofSearch, g: Sequence[Atom], i: int) -> list[JSON] | None:
    """The distinct values (uniqueItems' equality) an item at position i may take, when
    finitely many; None otherwise. Decided in the specification's reading."""
    terms = items_for(pv, g, i)
    cands: list[JSON] | None = None
    for n in terms:
        vals = _finite_values(pv, n)
        if vals is not None and (cands is None or len(vals) < len(cands)):
            cands = vals
    if cands is None:
        return None
    out: list[JSON] = []
    for v in cands:
        if any(equal(v, w) for w in out):
            continue
        if all(pv.holds(n, v) for n in terms):
            out.append(v)
    return out


def _unique_bound(pv: ProofSearch, g: Sequence[Atom]) -> int | None:
    """At most how many items a producer array with uniqueItems holds: its items are
    pairwise distinct, so no more than the values they may take (None: unbounded)."""
    top = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
    try:
        per = [_position_values(pv, g, i) for i in range(top + 1)]
    except (Unmodelled, ValidationUnavailable):
        return None
    rest = per[top]
    if rest is None:
        return None
    bound = top + len(rest)
    if all(p is not None for p in per):
        union: list[JSON] = []
        for p in per:
            for v in p or ():
                if not any(equal(v, w) for w in union):
                    union.append(v)
        bound = min(bound, len(union))
    return bound


def _unique_matches(pv: ProofSearch, g: Sequence[Atom], c_node: Node) -> int | None:
    """At most how many items of a producer array with uniqueItems match `c_node`:
    matching items are distinct values; a position without a finite set of values
    counts once (only prefix positions may be so)."""
    top = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
    matches: list[JSON] = []
    loose = 0
    try:
        for i in range(top + 1):
            vals = _position_values(pv, g, i)
            if vals is None:
                if i == top:
                    return None
                loose += 1
                continue
            for v in vals:
                if pv.holds(c_node, v) and not any(equal(v, w) for w in matches):
                    matches.append(v)
    except (Unmodelled, ValidationUnavailable):
        return None
    return loose + len(matches)


def _array_avoiding(
    pv: ProofSearch, g: list[Atom], n: int, avoid: Node, idepth: int
) -> JSON | None:
    fixed: dict[int, JSON] = {}
    for i in range(n):
        out = pv.goal(items_for(pv, g, i), [avoid], idepth + 1)
        if out.ok or not out.cands:
            return None
        fixed[i] = out.cands[0].value
    return witnesses.build_array(pv, g, n, fixed, idepth)
