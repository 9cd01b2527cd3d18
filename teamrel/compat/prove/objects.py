"""Objects: properties, patternProperties, additionalProperties, required, dependentRequired,
min/maxProperties and propertyNames of Γ against Δ.

Decides which schemas apply to a property name (`key_terms`: properties, matching
patternProperties, else additionalProperties), each property as a child goal, required names,
closed consumers (names the producer allows and the consumer does not), property-count
bounds and propertyNames (name sets as string goals); builds candidate objects through
`witnesses.build_object`.

Leaves unknown: a required or constrained property for which no producer object can be
built, property-name sets the regex automata cannot compare, bounds it cannot witness.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from teamrel.compat.evaluate import search
from teamrel.compat.prove import decompose, strings, witnesses
from teamrel.compat.prove.refs import same_refs, same_schema
from teamrel.compat.prove.terms import MISSING, PROVED, Atom, Cand, NoValue, Outcome, fail, goal_loc
from teamrel.compat.schema import Node

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


def key_terms(pv: ProofSearch, atoms: Sequence[Atom], k: str) -> list[Node] | None:
    """Γ's schemas for property `k`; None when some atom forbids the name."""
    # keyed by the atoms themselves (identity: cheap to hash, and they stay alive in
    # the sides' decomposition caches while the proof runs)
    mkey = (*atoms, k)
    got = pv._key_terms.get(mkey, MISSING)
    if got is not MISSING:
        return None if got is None else list(got)
    found = _key_terms_uncached(pv, atoms, k)
    pv._key_terms[mkey] = None if found is None else tuple(found)
    return found


def _key_terms_uncached(pv: ProofSearch, atoms: Sequence[Atom], k: str) -> list[Node] | None:
    out: list[Node] = []
    for a in atoms:
        kw = a.kw
        if "propertyNames" in kw and not pv.holds(a.child("propertyNames"), k):
            return None
        matched = False
        if k in kw.get("properties", {}):
            out.append(a.child("properties", k))
            matched = True
        for p in kw.get("patternProperties", {}):
            if search(p, k):
                out.append(a.child("patternProperties", p))
                matched = True
        if not matched and "additionalProperties" in kw:
            out.append(a.child("additionalProperties"))
    if any(n.raw is False for n in out):
        return None
    return out


def _required(pv: ProofSearch, atoms: Sequence[Atom], extra: Iterable[str] = ()) -> list[str]:
    req: list[str] = []
    seen: set[str] = set()  # beside the list (order matters): membership in O(1)
    for a in atoms:
        for r in a.kw.get("required", ()):
            if r not in seen:
                seen.add(r)
                req.append(r)
    for r in extra:
        if r not in seen:
            seen.add(r)
            req.append(r)
    changed = True
    while changed:
        changed = False
        for a in atoms:
            for k, deps in a.kw.get("dependentRequired", {}).items():
                if k in seen:
                    for dep in deps:
                        if dep not in seen:
                            seen.add(dep)
                            req.append(dep)
                            changed = True
    return req


def object_case(pv: ProofSearch, g: list[Atom], d: list[Atom], idepth: int) -> Outcome:
    req = _required(pv, g)
    if not all(_name_allowed(pv, g, r) for r in req):
        return PROVED  # a required property is forbidden: no such object exists
    hi = min((a.kw["maxProperties"] for a in g if "maxProperties" in a.kw), default=None)
    if hi is not None and len(req) > hi:
        return PROVED
    if hi == 0:
        # the empty object is Γ's only object: decided by evaluating it
        got = pv._filter(g, d, [Cand({}, None, goal_loc(g))], exhaustive=True)
        return fail(got) if got else PROVED
    possible = possible_names(pv, g)
    least = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
    if possible is not None and least > len(possible):
        return PROVED  # more properties needed than names allowed
    reasons: list[str] = []
    cands: list[Cand] = []
    for x in d:
        out = object_contained(pv, g, x, idepth)
        if out.ok:
            return PROVED
        cands.extend(out.cands)
        if out.reason:
            reasons.append(out.reason)
        elif not out.cands:
            reasons.append(f"object constraints at {x.loc}")
    if not d:
        obj = witnesses.build_object(pv, g, {}, set(), idepth)
        if obj is not None:
            cands.append(Cand(obj, "type-widened", goal_loc(g)))
    # one consumer atom: the candidates were built against it, and the final witness is
    # verified anyway; validating big candidates here again would double the cost
    got = pv._filter(g, d, cands) if len(d) > 1 else cands[:2]
    if got:
        return fail(got)
    # no counterexample could be built: maybe because there is no producer object at all
    for r in req:
        terms = key_terms(pv, g, r)
        if terms is not None and terms and pv.goal(terms, [], idepth + 1).ok:
            return PROVED  # a required property admits no value
    if not cands and not reasons and not d:
        reasons.append(f"could not build an object satisfying {goal_loc(g)}")
    return fail(reason=reasons[0] if reasons else f"object constraints at {goal_loc(g)}")


def object_contained(pv: ProofSearch, g: list[Atom], x: Atom, idepth: int) -> Outcome:
    kw = x.kw
    loc = goal_loc(g)
    if "enum" in kw or "const" in kw:
        obj = witnesses.build_object(pv, g, {}, set(), idepth)
        return fail([Cand(obj, "schema-widened", loc)] if obj is not None else [])
    req = _required(pv, g)
    req_set = set(req)
    # required
    for r in kw.get("required", ()):
        if r not in req_set and not _forced(pv, g, req, r):
            obj = witnesses.build_object(pv, g, {}, {r}, idepth)
            if obj is not None:
                return fail([Cand(obj, "required-removed", loc)])
            return fail(reason=f"required {r!r} at {x.loc}: no producer object to show")
    # dependentRequired
    for k, deps in kw.get("dependentRequired", {}).items():
        if k in req and all(dep in req for dep in deps):
            continue
        if key_terms(pv, g, k) is None:
            continue
        closure = _required(pv, g, [k])
        missing = [dep for dep in deps if dep not in closure]
        if not missing:
            continue
        terms = key_terms(pv, g, k)
        v = witnesses.gen(pv, terms or [], idepth)
        if not isinstance(v, NoValue):
            obj = witnesses.build_object(pv, g, {k: v}, set(missing), idepth)
            if obj is not None:
                return fail([Cand(obj, "dependency-removed", loc)])
        return fail(reason=f"dependentRequired {k!r} at {x.loc}")
    # explicit names
    names: list[str] = []
    named: set[str] = set()
    for a in (*g, x):
        for n in (*a.kw.get("properties", {}), *a.kw.get("required", ())):
            if n not in named:
                named.add(n)
                names.append(n)
        for k, deps in a.kw.get("dependentRequired", {}).items():
            for n in (k, *deps):
                if n not in named:
                    named.add(n)
                    names.append(n)
    # one producer atom and a consumer naming properties the same plain way: a property
    # whose two subschemas are strictly equal text without any reference needs no node
    same_plain: tuple[dict[str, Any], dict[str, Any], bool] | None = None
    if len(g) == 1 and g[0].node.cls is x.node.cls:
        gkw = g[0].kw
        if not any(k in gkw or k in kw for k in ("patternProperties", "propertyNames")):
            same_plain = (
                gkw.get("properties", {}),
                kw.get("properties", {}),
                x.node.dialect in ("draft3", "draft4"),
            )
    for n in names:
        if same_plain is not None:
            gs = same_plain[0].get(n, MISSING)
            if gs is not MISSING:
                ds = same_plain[1].get(n, MISSING)
                if ds is not MISSING:
                    refs = same_refs(gs, ds, same_plain[2])
                    if refs == () or (refs and _same_targets(pv, g[0], x, refs)):
                        continue
        gt = key_terms(pv, g, n)
        if gt is None:
            continue
        dt = key_terms(pv, [x], n)
        if dt is None:
            # the consumer forbids the name: fine only if the producer's value is empty
            exists = pv.goal(gt, [], idepth + 1)
            if exists.ok:
                continue
            if not exists.cands:
                return fail(reason=exists.reason or f"property {n!r} at {x.loc}")
            v = exists.cands[0].value
            obj = witnesses.build_object(pv, g, {n: v}, set(), idepth)
            if obj is not None:
                return fail([Cand(obj, "property-not-allowed", loc)])
            return fail(reason=f"property {n!r} at {x.loc}")
        if not dt:
            continue
        if len(gt) == 1 and len(dt) == 1 and same_schema(gt[0], dt[0], pv.same_memo):
            continue  # the same property schema on both sides (the common case)
        for dn in dt:
            sub = pv.goal(gt, [dn], idepth + 1)
            if sub.ok:
                continue
            got = []
            for c in sub.cands:
                obj = witnesses.build_object(pv, g, {n: c.value}, set(), idepth)
                if obj is not None:
                    kind = c.kind
                    if kind in (None, "type-widened"):
                        kind = "nullable-added" if c.value is None else "property-type-changed"
                    got.append(Cand(obj, kind, c.p_loc or loc))
            if got:
                return fail(got)
            return fail(reason=sub.reason or f"property {n!r} at {x.loc}")
    # other names: the consumer's patterns and additionalProperties
    out = _other_keys(pv, g, x, names, idepth)
    if not out.ok:
        return out
    # propertyNames
    if "propertyNames" in kw:
        out = _property_names(pv, g, x, names, idepth)
        if not out.ok:
            return out
    # counts
    lo = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
    if kw.get("minProperties", 0) > lo:
        obj = witnesses.build_object(pv, g, {}, set(), idepth)
        if obj is not None and len(obj) < kw["minProperties"]:
            return fail([Cand(obj, "bound-relaxed", loc)])
        return fail(reason=f"minProperties at {x.loc}")
    if "maxProperties" in kw:
        hi = min((a.kw["maxProperties"] for a in g if "maxProperties" in a.kw), default=None)
        closed = _closed_names(pv, g)
        if closed is not None:
            n_allowed = sum(1 for n in closed if key_terms(pv, g, n) is not None)
            hi = n_allowed if hi is None else min(hi, n_allowed)
        if hi is None or hi > kw["maxProperties"]:
            obj = witnesses.build_object(
                pv, g, {}, set(), idepth, min_count=kw["maxProperties"] + 1
            )
            if obj is not None:
                return fail([Cand(obj, "bound-relaxed", loc)])
            return fail(reason=f"maxProperties at {x.loc}")
    return PROVED


def _same_targets(pv: ProofSearch, a: Atom, b: Atom, refs: tuple[str, ...]) -> bool:
    """Whether `refs`, looked up from `a` and from `b`, reach the same schemas.

    For two strictly equal subschemas of `a`'s and `b`'s properties: without any
    identifier in either document, a subschema has its parent's base URI, so its
    references lead where the parent's would. Memoised: a contract's 30 properties
    of type `#/$defs/money` ask once.
    """
    if not (a.node.side.context_free and b.node.side.context_free):
        return False
    key = (a.node.key, b.node.key, refs)
    got = pv._same_target_memo.get(key)
    if got is None:
        try:
            got = all(
                same_schema(a.node.follow("$ref", r), b.node.follow("$ref", r), pv.same_memo)
                for r in refs
            )
        except Exception:  # not a reference the validator follows (e.g. inside an enum)
            got = False
        pv._same_target_memo[key] = got
    return got


def possible_names(pv: ProofSearch, g: Sequence[Atom]) -> list[str] | None:
    """The finite set of names Γ's objects may have (closed objects, enumerated
    propertyNames), or None when it is not finite."""
    possible: list[str] | None = None
    for a in g:
        names: list[str] | None = None
        kw = a.kw
        if kw.get("additionalProperties") is False and not kw.get("patternProperties"):
            names = list(kw.get("properties", {}))
        pn = kw.get("propertyNames")
        if pn is False:
            names = []
        elif isinstance(pn, dict) and ("enum" in pn or "const" in pn):
            vals = [pn["const"]] if "const" in pn else pn["enum"]
            strs = [v for v in vals if isinstance(v, str)]
            names = strs if names is None else [n for n in names if n in strs]
        if names is not None:
            possible = names if possible is None else [n for n in possible if n in names]
    if possible is None:
        return None
    return [n for n in possible if _name_allowed(pv, g, n)]


def _name_allowed(pv: ProofSearch, g: Sequence[Atom], k: str) -> bool:
    """`key_terms(g, k) is not None`, without building the property's nodes when the
    atoms' plain `properties` / `additionalProperties` decide it."""
    for a in g:
        kw = a.kw
        if "propertyNames" in kw or "patternProperties" in kw:
            return key_terms(pv, g, k) is not None
        sub = kw.get("properties", MISSING)
        sub = sub.get(k, MISSING) if isinstance(sub, dict) else MISSING
        if sub is MISSING:
            sub = kw.get("additionalProperties", True)
        if sub is False:
            return False
    return True


def _forced(pv: ProofSearch, g: Sequence[Atom], req: list[str], name: str) -> bool:
    """Whether every Γ object has `name` though it is not required: all its possible
    names are needed to reach minProperties."""
    possible = possible_names(pv, g)
    if possible is None or name not in possible:
        return False
    least = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
    return bool(least >= len(possible))


def _closed_names(pv: ProofSearch, g: Sequence[Atom]) -> list[str] | None:
    """The only property names Γ allows, when some atom closes the object."""
    for a in g:
        if a.kw.get("additionalProperties") is False and not a.kw.get("patternProperties"):
            return list(a.kw.get("properties", {}))
    return None


def _fresh_names(pv: ProofSearch, avoid: Iterable[str]) -> list[str]:
    avoid_set = set(avoid)
    return [n for n in ("extra", "x", "unexpected_field", "zz_extra", "0") if n not in avoid_set]


def _other_keys(pv: ProofSearch, g: list[Atom], x: Atom, names: list[str], idepth: int) -> Outcome:
    """Property names not named explicitly: the consumer's patterns and additionalProperties.

    Regions of names are compared only where they can overlap (decided with the regex
    automata in the ECMA-262 reading; when that is unknown, they are assumed to overlap).
    """
    kw = x.kw
    d_pats = list(kw.get("patternProperties", {}))
    d_add = kw.get("additionalProperties", True)
    if d_add is True and not d_pats:
        return PROVED
    if _closed_names(pv, g) is not None:
        return PROVED  # every possible name is explicit, already compared
    loc = goal_loc(g)
    g_pats: list[str] = [p for a in g for p in a.kw.get("patternProperties", {})]
    # (producer schemas for the region, names must match, must not match)
    regions: list[tuple[list[Node], list[str], list[str]]] = []
    for a in g:
        for p in a.kw.get("patternProperties", {}):
            regions.append(([a.child("patternProperties", p)], [p], []))
    g_add = [a.child("additionalProperties") for a in g if "additionalProperties" in a.kw]
    regions.append((g_add, [], g_pats))
    for terms, must, must_not in regions:
        targets: list[tuple[Node, list[str], list[str]]] = []
        if d_add is not True:
            targets.append((x.child("additionalProperties"), must, must_not + d_pats))
        for q in d_pats:
            targets.append((x.child("patternProperties", q), [*must, q], must_not))
        for t, t_must, t_not in targets:
            if _names_empty(pv, t_must, t_not):
                continue
            sub = pv.goal(terms, [t], idepth + 1)
            if sub.ok:
                continue
            name = _find_name(pv, g, names, t_must, t_not)
            if name is not None:
                k_terms = key_terms(pv, g, name)
                if k_terms is not None:
                    vals = [c.value for c in sub.cands]
                    v0 = witnesses.gen(pv, k_terms, idepth)
                    if not isinstance(v0, NoValue):
                        vals.append(v0)
                    for v in vals:
                        obj = witnesses.build_object(pv, g, {name: v}, set(), idepth)
                        if obj is not None:
                            if t.raw is False:
                                kind = "property-not-allowed"
                            elif terms and all(n.raw is not True for n in terms):
                                kind = "property-type-changed"
                            else:
                                kind = "closed-to-open"
                            return fail([Cand(obj, kind, loc)])
            return fail(reason=sub.reason or f"additional property names at {x.loc}")
    return PROVED


def _names_empty(pv: ProofSearch, must: list[str], must_not: list[str]) -> bool:
    """Whether no property name matches all of `must` and none of `must_not`."""
    if not must and not must_not:
        return False
    try:
        from teamrel.compat import regex as rx
    except ImportError:  # pragma: no cover
        return False
    try:
        got = rx.find_string(
            must,
            must_not,
            semantics="ecma",
            deadline=strings.regex_deadline(pv),
            on_work=pv.budget.tick,
        )
    except Exception:
        return False
    return got is None


def _find_name(
    pv: ProofSearch, g: Sequence[Atom], names: list[str], must: list[str], must_not: list[str]
) -> str | None:
    """A property name outside `names`, matching every `must` and no `must_not` pattern."""
    cands: list[str] = []
    got = strings.find_string(pv, must, must_not, 1, 64) if (must or must_not) else None
    if got is not None:
        cands.append(got)
    cands.extend(_fresh_names(pv, names))
    for n in cands:
        if n in names:
            continue
        try:
            if not all(search(p, n) for p in must) or any(search(p, n) for p in must_not):
                continue
        except Exception:
            continue
        if key_terms(pv, g, n) is not None:
            return n
    return None


def _property_names(
    pv: ProofSearch, g: list[Atom], x: Atom, names: list[str], idepth: int
) -> Outcome:
    if any(a.kw.get("maxProperties") == 0 for a in g):
        return PROVED  # no property names at all
    pn = x.child("propertyNames")
    loc = goal_loc(g)
    closed = _closed_names(pv, g)
    if closed is not None:
        for n in closed:
            if key_terms(pv, g, n) is None:
                continue
            if not pv.holds(pn, n):
                v = witnesses.gen(pv, key_terms(pv, g, n) or [], idepth)
                if not isinstance(v, NoValue):
                    obj = witnesses.build_object(pv, g, {n: v}, set(), idepth)
                    if obj is not None:
                        return fail([Cand(obj, "property-not-allowed", loc)])
                return fail(reason=f"propertyNames at {x.loc}")
        return PROVED
    g_pn = [a.child("propertyNames") for a in g if "propertyNames" in a.kw]
    string = decompose.syn(pv, x.node, ("string",), {"type": "string"})
    sub = pv.goal([*g_pn, string], [pn], idepth + 1)
    if sub.ok:
        return PROVED
    for c in sub.cands:
        if isinstance(c.value, str):
            terms = key_terms(pv, g, c.value)
            if terms is None:
                continue
            v = witnesses.gen(pv, terms, idepth)
            if isinstance(v, NoValue):
                continue
            obj = witnesses.build_object(pv, g, {c.value: v}, set(), idepth)
            if obj is not None:
                return fail([Cand(obj, "property-not-allowed", loc)])
    return fail(reason=sub.reason or f"propertyNames at {x.loc}")
