"""Case splits: Γ ⊢ A ∨ B when no single consumer alternative covers the producer.

Decides such goals by partitioning Γ into cases that together hold every value (by a
property's presence and value, by an item's value at a position, by length / size ranges
at the consumer's bounds) and proving each case on its own; a case failing with a
counterexample refutes the goal.

Leaves unknown (returns None, the caller keeps its own answer): a partition with a case that
cannot be decided, more than `_SPLIT_CASES` cases, splits nested deeper than `_SPLIT_DEPTH`,
more than `_SPLIT_WORK` cases in one check (a count, not time, so answers stay
reproducible), draft-03 producers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from teamrel.canonical import JSON, canonical_json
from teamrel.compat.evaluate import equal
from teamrel.compat.prove import arrays, decompose, objects
from teamrel.compat.prove.terms import PROVED, Atom, Outcome, fail
from teamrel.compat.schema import Node

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


#: case splits of the producer against a consumer union (`split`): how deeply splits
#: may nest, how many partitions are tried per goal, how many cases one partition has, and
#: how many cases one check may try in all (a count, not time: answers stay reproducible)
_SPLIT_DEPTH = 4
_SPLIT_TRIES = 4
_SPLIT_CASES = 12
_SPLIT_WORK = 400


def split(pv: ProofSearch, g: list[Atom], d: list[Atom], t: str, idepth: int) -> Outcome | None:
    """Γ ⊢ Δ (values of type t) for consumer alternatives that cover Γ only jointly.

    Γ is split into cases that together hold every value (a partition by a property's
    presence and value, an item's value, or length ranges, derived from where the
    consumer's alternatives differ) and each case Γ ∧ Cᵢ ⊢ Δ is proved. A case that
    fails with a counterexample refutes the goal (the counterexample is in Γ); a case
    that cannot be decided abandons the partition. None: no partition decided it."""
    # the cases are producer atoms: their subschemas are reported at the producer's root
    owner = pv.p.root
    if pv.split_depth >= _SPLIT_DEPTH or owner.dialect == "draft3":
        return None
    if t == "object":
        partitions = _object_partitions(pv, g, d)
    elif t == "string":
        partitions = _length_partitions(pv, g, d, "minLength", "maxLength", t)
    else:
        partitions = _array_partitions(pv, g, d)
    pv.split_depth += 1
    try:
        have = {a.key for a in g}
        for cases in islice(partitions, _SPLIT_TRIES):
            if len(cases) > _SPLIT_CASES or any(
                _case_atom(pv, owner, c).key in have for c in cases
            ):
                continue  # too many cases, or Γ is one of them already
            out = _prove_cases(pv, owner, g, d, cases, idepth)
            if out is not None:
                return out
    finally:
        pv.split_depth -= 1
    return None


def _prove_cases(
    pv: ProofSearch, owner: Node, g: list[Atom], d: list[Atom], cases: list[JSON], idepth: int
) -> Outcome | None:
    for case in cases:
        pv.split_work += 1
        if pv.split_work > _SPLIT_WORK:
            return None
        atom = _case_atom(pv, owner, case)
        sub = pv.goal([*g, atom], d, idepth)
        if sub.ok:
            continue
        got = pv._filter([*g, atom], d, sub.cands)
        return fail(got) if got else None
    return PROVED


def _case_atom(pv: ProofSearch, owner: Node, kw: dict[str, Any]) -> Atom:
    """An atom of the producer for one case of a split (exact; cached by content)."""
    text = canonical_json(kw)
    key = (owner.key, text)
    got = pv._case_atoms.get(key)
    if got is None:
        got = Atom(owner, kw, "x", None, tag=("case", text))
        for k in ("properties", "prefixItems"):
            subs = kw.get(k, {})
            for name, raw in subs.items() if isinstance(subs, dict) else enumerate(subs):
                # synthetic subschemas, reported at the producer location they refine
                node = decompose.syn(pv, owner, ("case", canonical_json(raw)), raw)
                got._children[(k, name)] = node
        pv._case_atoms[key] = got
    return got


def _value_families(pv: ProofSearch, terms: list[list[Node]]) -> list[list[JSON]]:
    """Complete families of schemas (every value satisfies one) that tell apart the
    values the consumer's alternatives treat differently: their const/enum values and
    the rest, their types and the rest."""
    consts: list[JSON] = []
    types: list[str] = []
    for nodes in terms:
        for node in nodes:
            if not isinstance(node.raw, dict):
                continue
            for n in (node, *decompose.parts(pv, node, "d").conj):
                kw = n.kw if isinstance(n.raw, dict) else {}
                vals = [kw["const"]] if "const" in kw else list(kw.get("enum", ()))
                for v in vals:
                    if not any(equal(v, w) and type(v) is type(w) for w in consts):
                        consts.append(v)
                ts = kw.get("type", [])
                for ty in [ts] if isinstance(ts, str) else ts:
                    if ty not in types:
                        types.append(ty)
    out: list[list[JSON]] = []
    if consts and len(consts) < _SPLIT_CASES:
        out.append([*({"enum": [v]} for v in consts), {"not": {"enum": consts}}])
    if types:
        out.append([*({"type": ty} for ty in types), {"not": {"type": types}}])
    return out


def _object_partitions(pv: ProofSearch, g: list[Atom], d: list[Atom]) -> Iterator[list[JSON]]:
    """Partitions of Γ's objects by a property the consumer's alternatives disagree on
    (absent, or present with a value of each family member, or just present), or by
    the number of properties."""
    names: list[str] = []
    for x in d:
        for n in (*x.kw.get("properties", {}), *x.kw.get("required", ())):
            if n not in names:
                names.append(n)
    req = set(objects._required(pv, g))
    for n in names:
        if objects.key_terms(pv, g, n) is None:
            continue  # Γ never has it
        terms: list[list[Node]] = []
        sigs: set[Any] = set()
        for x in d:
            xt = objects.key_terms(pv, [x], n)
            terms.append(xt or [])
            sigs.add(
                (
                    n in x.kw.get("required", ()),
                    None if xt is None else tuple(sorted(map(repr, (t.key for t in xt)))),
                )
            )
        if len(sigs) < 2:
            continue  # every alternative treats it alike: nothing to tell apart
        head: list[JSON] = []
        need: dict[str, Any] = {}
        if n not in req:
            head = [{"type": "object", "properties": {n: False}}]
            need = {"required": [n]}
        for family in _value_families(pv, terms):
            yield [*head, *({"type": "object", "properties": {n: s}, **need} for s in family)]
        if head:
            yield [*head, {"type": "object", **need}]
    yield from _length_partitions(pv, g, d, "minProperties", "maxProperties", "object")


def _length_partitions(
    pv: ProofSearch, g: Sequence[Atom], d: list[Atom], lo_kw: str, hi_kw: str, t: str
) -> Iterator[list[JSON]]:
    """Γ's values of type t split into length ranges at the consumer's bounds."""
    lo = max((a.kw.get(lo_kw, 0) for a in g), default=0)
    his = [a.kw[hi_kw] for a in g if hi_kw in a.kw]
    hi = min(his) if his else None
    cuts: set[int] = set()
    for x in d:
        if lo_kw in x.kw:
            cuts.add(x.kw[lo_kw])
        if hi_kw in x.kw:
            cuts.add(x.kw[hi_kw] + 1)
    edges = sorted(c for c in cuts if c > lo and (hi is None or c <= hi))
    if not edges:
        return
    starts = [lo, *edges]
    cases: list[JSON] = []
    for i, a in enumerate(starts):
        case: dict[str, Any] = {"type": t, lo_kw: a}
        if i + 1 < len(starts):
            case[hi_kw] = starts[i + 1] - 1
        cases.append(case)
    yield cases


def _array_partitions(pv: ProofSearch, g: list[Atom], d: list[Atom]) -> Iterator[list[JSON]]:
    """Γ's arrays split by length ranges, or by the value of an item at a position
    where the consumer's alternatives differ."""
    yield from _length_partitions(pv, g, d, "minItems", "maxItems", "array")
    top = max((len(x.kw.get("prefixItems", [])) for x in d), default=0)
    for i in range(min(top, 4)):
        terms = [arrays.items_for(pv, [x], i) for x in d]
        if len({tuple(sorted(repr(t.key) for t in ts)) for ts in terms}) < 2:
            continue
        for family in _value_families(pv, terms):
            yield [{"type": "array", "prefixItems": [*([True] * i), s]} for s in family]
