"""Decomposition of a schema node into its atom, conjuncts, negations and choices.

Decides how each combinator is read (allOf, $ref/$dynamicRef/$recursiveRef, not, anyOf,
oneOf, if/then/else, dependentSchemas, draft-03 extends/disallow/type-with-schemas) and how
`unevaluatedProperties` / `unevaluatedItems` become ordinary keywords of the atom: exactly
when the node's in-place applicators are allOf/$ref only, or one if/then/else, or one
anyOf/oneOf of at most 4 branches (2020-12) whose evaluations are static.

Leaves as an approximation (recorded in `ProofSearch.approximations`, so a failed proof says
"unknown", never "compatible" wrongly): unevaluated* beside other dynamic applicators, where
the producer is widened (keyword dropped) and the consumer narrowed (only what is certainly
evaluated counts). Draft-03 constructs it cannot model raise `Unmodelled` (unknown).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamrel.canonical import JSON
from teamrel.compat.dialects import TYPE3_KEY, UNMODELLED_KEY
from teamrel.compat.prove.terms import Atom, Choice, Parts
from teamrel.compat.schema import Node, Unmodelled

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


_COMBINATORS = frozenset(
    (
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "$ref",
        "$dynamicRef",
        "$recursiveRef",
        "dependentSchemas",
        "extends",
        "disallow",
        TYPE3_KEY,
    )
)
_INPLACE = ("allOf", "anyOf", "oneOf", "if", "$ref", "$dynamicRef", "$recursiveRef", "extends")


def syn(pv: ProofSearch, owner: Node, tag: Any, raw: JSON) -> Node:
    """A synthetic schema node, cached so its identity (memo key) is stable."""
    key = (owner.key, tag)
    cache = owner.side.synthetic
    n = cache.get(key)
    if n is None:
        n = owner.child(raw, f"<{tag[0]}>")
        n.loc = owner.loc
        cache[key] = n
    return n


def parts(pv: ProofSearch, node: Node, mode: str) -> Parts:
    """Split `node` into atom / conjuncts / negations / choices (cached)."""
    key = (node.key, mode)
    cache = node.side.parts_cache
    got = cache.get(key)
    if got is not None:
        return got  # type: ignore[no-any-return]
    kw = node.kw
    conj: list[Node] = []
    neg: list[Node] = []
    choices: list[Choice] = []
    if UNMODELLED_KEY in kw:
        raise Unmodelled("draft-03", node.loc, f"{kw[UNMODELLED_KEY]} at {node.loc}")
    for i, sub in enumerate(kw.get("allOf", ())):
        conj.append(node.child(sub, "allOf", i))
    if "extends" in kw:  # draft-03: allOf, or one schema
        ext = kw["extends"]
        if isinstance(ext, list):
            conj.extend(node.child(sub, "extends", i) for i, sub in enumerate(ext))
        else:
            conj.append(node.child(ext, "extends"))
    for k in ("$ref", "$dynamicRef", "$recursiveRef"):
        if k in kw:
            conj.append(node.follow(k, kw[k]))
    if "not" in kw:
        neg.append(node.child(kw["not"], "not"))
    if "disallow" in kw:  # draft-03: not {"type": disallow}
        ds = kw["disallow"]
        neg.append(syn(pv, node, ("disallow",), {"type": [ds] if isinstance(ds, str) else ds}))
    if TYPE3_KEY in kw:  # draft-03: type names and schemas, any one of them
        ts = kw[TYPE3_KEY]
        names = [t for t in ts if isinstance(t, str)]
        subs = [node.child(t, "type", i) for i, t in enumerate(ts) if not isinstance(t, str)]
        if names:
            subs.append(syn(pv, node, ("type3",), {"type": names}))
        choices.append(Choice(node, "anyOf", [([s], []) for s in subs], "type3"))
    if "anyOf" in kw:
        subs = [node.child(s, "anyOf", i) for i, s in enumerate(kw["anyOf"])]
        choices.append(Choice(node, "anyOf", [([s], []) for s in subs], None))
    if "oneOf" in kw:
        subs = [node.child(s, "oneOf", i) for i, s in enumerate(kw["oneOf"])]
        alts: list[tuple[list[Any], list[Any]]] = [
            ([s], [o for j, o in enumerate(subs) if j != i]) for i, s in enumerate(subs)
        ]
        choices.append(Choice(node, "oneOf", alts, None))
    if "if" in kw:
        c_if = node.child(kw["if"], "if")
        c_then = node.child(kw["then"], "then") if "then" in kw else pv.true_node
        c_else = node.child(kw["else"], "else") if "else" in kw else pv.true_node
        choices.append(Choice(node, "if", [([c_if, c_then], []), ([c_else], [c_if])], None))
    for name, sub in kw.get("dependentSchemas", {}).items():
        present = syn(pv, node, ("present", name), {"type": "object", "required": [name]})
        absent = syn(pv, node, ("absent", name), {"properties": {name: False}})
        dep = node.child(sub, "dependentSchemas", name)
        choices.append(
            Choice(node, "dependentSchemas", [([absent], []), ([present, dep], [])], name)
        )
    split = _uneval_if_split(pv, node, choices)
    union = None if split is not None else _uneval_union_split(pv, node, choices, mode)
    if split is not None:
        got = Parts(None, conj, neg, [split])
    elif union is not None:
        got = Parts(None, conj, neg, union)
    else:
        got = Parts(make_atom(pv, node, mode), conj, neg, choices)
    cache[key] = got
    return got


def _uneval_if_split(pv: ProofSearch, node: Node, choices: list[Choice]) -> Choice | None:
    """`unevaluatedProperties` beside if/then/else, modelled exactly.

    Which properties are evaluated depends on which branch applies, so the node is the
    disjunction (if ∧ then ∧ atom₁) ∨ (¬if ∧ else ∧ atom₂), where atomᵢ is the node's own
    keywords with `unevaluatedProperties` acting on every name the node, its allOf/$ref
    closure and that branch do not evaluate. Only when all of these evaluate a static set
    of names (properties / patternProperties; no nested anyOf, oneOf...)."""
    kw = node.kw
    if (
        "unevaluatedProperties" not in kw
        or "additionalProperties" in kw
        or "unevaluatedItems" in kw
        or len(choices) != 1
        or choices[0].kind != "if"
    ):
        return None
    names0, pats0, every0, simple0 = _evaluated_closure(pv, node, "p", owner_if=True)
    if every0 or not simple0:
        return None
    (g_then, _d_then), (g_else, d_else) = choices[0].alts
    c_if, c_then = g_then
    c_else = g_else[0]
    base = {k: v for k, v in kw.items() if k not in _COMBINATORS}
    base.pop("unevaluatedProperties")
    u = kw["unevaluatedProperties"]
    atoms: list[Atom] = []
    for i, branch in enumerate(([c_if, c_then], [c_else])):
        names, pats = list(names0), list(pats0)
        everything = False
        for b in branch:
            if b.raw is True:
                continue
            bn, bp, bev, bsimple = _evaluated_closure(pv, b, "p", is_owner=False)
            if not bsimple:
                return None
            everything = everything or bev
            names.extend(bn)
            pats.extend(bp)
        akw = dict(base)
        if not everything:
            props = dict(akw.get("properties", {}))
            for n in names:
                props.setdefault(n, True)
            pp = dict(akw.get("patternProperties", {}))
            for pat in pats:
                pp.setdefault(pat, True)
            akw["properties"] = props
            if pp:
                akw["patternProperties"] = pp
            akw["additionalProperties"] = u
        atoms.append(Atom(node, akw, "x", None, tag=("uneval-if", i)))
    alts: list[tuple[list[Any], list[Any]]] = [
        ([c_if, c_then, atoms[0]], []),
        ([c_else, atoms[1]], list(d_else)),
    ]
    return Choice(node, "if", alts, "uneval")


def _uneval_union_split(
    pv: ProofSearch, node: Node, choices: list[Choice], mode: str
) -> list[Choice] | None:
    """`unevaluatedProperties` / `unevaluatedItems` beside one anyOf or oneOf, exactly.

    A branch adds its evaluations only when it is valid, and more evaluated names
    (items) only weaken the keyword: with S the set of valid branches and atom_S the
    node's own keywords with unevaluated* acting on what the node, its allOf/$ref closure
    and S do not evaluate, anyOf is ⋁_{S≠∅} (⋀_{i∈S} Bᵢ ∧ atom_S) and oneOf is
    ⋁ᵢ (Bᵢ ∧ ⋀_{j≠i} ¬Bⱼ ∧ atomᵢ) (as a consumer: oneOf ∧ ⋁ᵢ (Bᵢ ∧ atomᵢ)). Evaluated
    items are a prefix, so the branch with the longest one decides: singletons suffice.
    A consumer anyOf of 3-4 branches keeps the singletons and the whole set only (a
    narrowing, noted as an approximation). Only for 2020-12 schemas whose evaluations
    are static (properties, patternProperties, prefixItems; no nested anyOf, if,
    contains...) and at most 4 branches."""
    kw = node.kw
    u_p = "unevaluatedProperties" in kw and "additionalProperties" not in kw
    u_i = "unevaluatedItems" in kw and "items" not in kw
    if (
        not (u_p or u_i)
        or len(choices) != 1
        or choices[0].kind not in ("anyOf", "oneOf")
        or len(choices[0].alts) > 4
        or node.dialect != "draft2020-12"
    ):
        return None
    kind = choices[0].kind
    branches: list[Node] = [alt[0][0] for alt in choices[0].alts]
    names0: list[str] = []
    pats0: list[Any] = []
    longest0 = 0
    if u_p:
        names0, pats0, every, simple = _evaluated_closure(pv, node, "p", owner_union=True)
        if not simple:
            return None
        u_p = not every
    if u_i:
        _n, lp, every, simple = _evaluated_closure(pv, node, "i", owner_union=True)
        if not simple:
            return None
        u_i = not every
        longest0 = int(lp[0]) if lp else 0
    if not (u_p or u_i):
        return None  # everything is evaluated: make_atom drops the keywords
    # what each branch evaluates: (names, patterns, all names?, prefix, all items?)
    evals: list[tuple[list[str], list[Any], bool, int, bool]] = []
    for b in branches:
        if not isinstance(b.raw, dict):
            evals.append(([], [], False, 0, False))
            continue
        bn: list[str] = []
        bp: list[Any] = []
        b_every_p = b_every_i = False
        b_long = 0
        if u_p:
            bn, bp, b_every_p, b_simple = _evaluated_closure(pv, b, "p", is_owner=False)
            if not b_simple:
                return None
        if u_i:
            _n, blp, b_every_i, b_simple = _evaluated_closure(pv, b, "i", is_owner=False)
            if not b_simple:
                return None
            b_long = int(blp[0]) if blp else 0
        evals.append((bn, bp, b_every_p, b_long, b_every_i))
    base = {k: v for k, v in kw.items() if k not in _COMBINATORS}
    base.pop("unevaluatedProperties", None)
    base.pop("unevaluatedItems", None)
    k = len(branches)
    subsets: list[tuple[int, ...]] = [(i,) for i in range(k)]
    approx: str | None = None
    if kind == "anyOf" and u_p and k > 1:
        every_subset = [
            tuple(i for i in range(k) if m >> i & 1) for m in range(1, 1 << k) if m & (m - 1)
        ]
        if mode == "g" or k <= 2:
            subsets.extend(every_subset)
        else:
            subsets.append(tuple(range(k)))
            approx = f"unevaluatedProperties at {node.loc}"
    amode = "d" if approx is not None else "x"

    def atom(sub: tuple[int, ...]) -> Atom:
        akw = dict(base)
        if u_p and not any(evals[i][2] for i in sub):
            props = dict(akw.get("properties", {}))
            pp = dict(akw.get("patternProperties", {}))
            for n in (*names0, *(n for i in sub for n in evals[i][0])):
                props.setdefault(n, True)
            for pat in (*pats0, *(p for i in sub for p in evals[i][1])):
                pp.setdefault(pat, True)
            akw["properties"] = props
            if pp:
                akw["patternProperties"] = pp
            akw["additionalProperties"] = kw["unevaluatedProperties"]
        if u_i and not any(evals[i][4] for i in sub):
            prefix = list(akw.get("prefixItems", []))
            target = max([longest0, *(evals[i][3] for i in sub)])
            while len(prefix) < target:
                prefix.append(True)
            if prefix:
                akw["prefixItems"] = prefix
            u = kw["unevaluatedItems"]
            # items matched by the node's own `contains` are evaluated too
            akw["items"] = {"anyOf": [akw["contains"], u]} if "contains" in akw else u
        return Atom(node, akw, amode, approx, tag=("uneval-union", sub))

    if kind == "oneOf" and mode == "g":
        alts: list[tuple[list[Any], list[Any]]] = [
            ([b, atom((i,))], [o for j, o in enumerate(branches) if j != i])
            for i, b in enumerate(branches)
        ]
        return [Choice(node, "oneOf", alts, "uneval")]
    alts = [([*(branches[i] for i in sub), atom(sub)], []) for sub in subsets]
    union = Choice(node, "anyOf+uneval", alts, "uneval")
    return [choices[0], union] if kind == "oneOf" else [union]


def make_atom(pv: ProofSearch, node: Node, mode: str) -> Atom | None:
    """The atom of `node`; unevaluated* are modelled exactly when the node's in-place
    applicators are only allOf/$ref (whose evaluations are certain), otherwise the
    producer is widened (keyword dropped) and the consumer narrowed (only what is
    certainly evaluated counts as evaluated)."""
    kw = node.kw
    akw = {k: v for k, v in kw.items() if k not in _COMBINATORS}
    approx: str | None = None
    amode = "x"
    inplace = any(k in kw for k in _INPLACE) or "dependentSchemas" in kw
    if "unevaluatedProperties" in akw:
        u = akw.pop("unevaluatedProperties")
        if "additionalProperties" in akw:
            pass
        elif not inplace:
            akw["additionalProperties"] = u
        else:
            names, pats, everything, simple = _evaluated_closure(pv, node, "p")
            if everything:
                pass
            elif simple or mode == "d":
                props = dict(akw.get("properties", {}))
                for n in names:
                    props.setdefault(n, True)
                pp = dict(akw.get("patternProperties", {}))
                for p in pats:
                    pp.setdefault(p, True)
                akw["properties"] = props
                if pp:
                    akw["patternProperties"] = pp
                akw["additionalProperties"] = u
            if not everything and not simple:
                amode = mode
                approx = f"unevaluatedProperties at {node.loc}"
    if "unevaluatedItems" in akw:
        u = akw.pop("unevaluatedItems")
        if "items" in akw:
            pass
        elif not inplace and "contains" not in akw:
            akw["items"] = u
        elif not inplace:
            # items matched by `contains` are evaluated: every item past the tuple must
            # match `contains` or satisfy unevaluatedItems (exact)
            akw["items"] = {"anyOf": [akw["contains"], u]}
        else:
            _n, longest, everything, simple = _evaluated_closure(pv, node, "i")
            if everything:
                pass
            elif simple or mode == "d":
                prefix = list(akw.get("prefixItems", []))
                target = int(longest[0]) if longest else 0
                while len(prefix) < target:
                    prefix.append(True)
                if prefix:
                    akw["prefixItems"] = prefix
                akw["items"] = u
            if not everything and not simple:
                amode = mode
                approx = f"unevaluatedItems at {node.loc}"
    if not akw:
        return None
    return Atom(node, akw, amode, approx)


def _evaluated_closure(
    pv: ProofSearch,
    node: Node,
    what: str,
    owner_if: bool = False,
    is_owner: bool = True,
    owner_union: bool = False,
) -> tuple[list[str], list[Any], bool, bool]:
    """What node's allOf/$ref closure always evaluates: (names, patterns or [longest
    prefix], everything?, simple?). `simple`: no other in-place applicator (anyOf, oneOf,
    if, dependentSchemas, $dynamicRef, contains for items) anywhere in the closure, so the
    closure's evaluation is exactly what is evaluated. `owner_if` / `owner_union`: the
    node's own if / anyOf, oneOf and contains are accounted for by the caller.
    """
    names: list[str] = []
    pats: list[Any] = []
    longest = 0
    simple = True
    todo = [node]
    seen: set[Any] = set()
    while todo:
        n = todo.pop()
        if n.key in seen:
            continue
        if len(seen) > 200:
            simple = False
            break
        seen.add(n.key)
        kw = n.kw
        branching = ("anyOf", "oneOf", "dependentSchemas", "$dynamicRef")
        own = owner_union and n is node
        if any(k in kw and not (own and k in ("anyOf", "oneOf")) for k in branching) or (
            "if" in kw and not (owner_if and n is node)
        ):
            simple = False
        if "$recursiveRef" in kw:
            simple = False
        if what == "p":
            if "additionalProperties" in kw or (
                (n is not node or not is_owner) and "unevaluatedProperties" in kw
            ):
                return names, pats, True, simple
            names.extend(kw.get("properties", {}))
            pats.extend(kw.get("patternProperties", {}))
        else:
            if "items" in kw or ((n is not node or not is_owner) and "unevaluatedItems" in kw):
                return names, pats, True, simple
            if "contains" in kw and not own:
                simple = False
            longest = max(longest, len(kw.get("prefixItems", [])))
        for i, sub in enumerate(kw.get("allOf", ())):
            todo.append(n.child(sub, "allOf", i))
        if "$ref" in kw:
            todo.append(n.follow("$ref", kw["$ref"]))
    if what == "i":
        return names, [longest], False, simple
    return names, pats, False, simple
