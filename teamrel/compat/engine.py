"""The subset prover: is every value valid under Γ (producer) valid under some of Δ (consumer)?

Owns the decision procedure. A goal is a sequent Γ ⊢ Δ over schema terms: a value that
satisfies every term of Γ must satisfy some term of Δ. Boolean structure is decomposed the
sequent-calculus way (allOf/$ref in Γ conjoin, anyOf/oneOf/if-then-else/dependentSchemas in Γ
branch, `not X` moves X to the other side, anyOf in Δ joins the disjunction, conjunctions in
Δ branch), leaving *atoms* (a schema object's own assertion keywords). Atoms are then
compared type by type (null, boolean, number, string, array, object); structural keywords
create child goals (a property, an item) that are memoised, with co-inductive assumptions
for recursive `$ref`s (only once the instance has been descended into). When no single
consumer alternative covers Γ, Γ is split into cases that together hold every value, each
proved on its own (`Prover.split`).

Soundness discipline: a goal is "proved" only by a rule that holds under the reference
validator's semantics; where a keyword is approximated, the producer is only ever widened
and the consumer only ever narrowed, so proofs stay sound. A failed goal yields candidate
counterexamples (built where the proof failed); nothing here claims incompatibility: the
caller verifies every candidate with the reference validator first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import islice
from typing import Any, ClassVar

from teamrel.canonical import JSON, canonical_json
from teamrel.compat.evaluate import (
    ValidationUnavailable,
    equal,
    exact,
    is_integer,
    is_type,
    json_type,
    multiple_of,
    python_search,
    search,
    types_of,
    unique,
)
from teamrel.compat.result import Budget
from teamrel.compat.schema import (
    TYPE3_KEY,
    UNMODELLED_KEY,
    Node,
    Side,
    Unmodelled,
    faithful_format,
    format_meaning,
    unfaithful_format_reason,
)

#: ECMA-262 syntax characters (escaped with a backslash to match literally)
_SYNTAX = frozenset("^$\\.*+?()[]{}|/")

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

#: case splits of the producer against a consumer union (`Prover.split`): how deeply splits
#: may nest, how many partitions are tried per goal, how many cases one partition has, and
#: how many cases one check may try in all (a count, not time: answers stay reproducible)
_SPLIT_DEPTH = 4
_SPLIT_TRIES = 4
_SPLIT_CASES = 12
_SPLIT_WORK = 400


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Cand:
    """A candidate counterexample of a goal (unverified), with where the proof failed."""

    value: JSON
    kind: str | None = None
    p_loc: str | None = None


@dataclass
class Outcome:
    """Proved, or failed with candidates and/or the reason the goal could not be decided."""

    ok: bool
    cands: list[Cand] = field(default_factory=list)
    reason: str | None = None

    PROVED: ClassVar[Outcome]


Outcome.PROVED = Outcome(True)
PROVED = Outcome.PROVED


def fail(cands: Iterable[Cand] = (), reason: str | None = None) -> Outcome:
    """A failed goal."""
    return Outcome(False, list(cands), reason)


_MISSING: Any = object()

#: values generated for schemas that mean the same in every document (no `$` keyword), by
#: content (`Prover._content_key`), as JSON text: shared across checks
_SHARED_VALUES: dict[tuple[Any, ...], str] = {}


class _NoValue:
    """Marker: no value could be generated."""


NOVALUE = _NoValue()


# --------------------------------------------------------------------------- terms


class Atom:
    """The assertion keywords of one schema object (its combinators removed).

    `mode` is "g" (producer side: approximations widen) or "d" (consumer side: approximations
    narrow); atoms without approximated keywords have mode "x".
    """

    __slots__ = (
        "_children",
        "approx",
        "base",
        "int_only",
        "key",
        "kw",
        "node",
        "strict_int",
    )

    def __init__(
        self, node: Node, kw: dict[str, Any], mode: str, approx: str | None, tag: Any = None
    ) -> None:
        self.node = node
        self.kw = kw
        self.key = ("A", node.key, mode, tag)
        self.base, self.int_only = types_of(kw)
        # draft-04's "integer" (in python-jsonschema) excludes 1.0
        self.strict_int = self.int_only and node.dialect in ("draft3", "draft4")
        self.approx = approx
        self._children: dict[tuple[str, str | int], Node] = {}

    def __repr__(self) -> str:
        return f"Atom({self.node.loc})"

    def child(self, keyword: str, name: str | int = "") -> Node:
        """The subschema node of `keyword` (and property name / index)."""
        k = (keyword, name)
        n = self._children.get(k)
        if n is None:
            if keyword in ("properties", "patternProperties", "prefixItems"):
                n = self.node.child(self.kw[keyword][name], keyword, name)
            else:
                n = self.node.child(self.kw[keyword], keyword)
            self._children[k] = n
        return n

    @property
    def loc(self) -> str:
        """Schema location of the atom."""
        return self.node.loc


class Choice:
    """A disjunctive part of a node: anyOf, oneOf, if/then/else or one dependentSchemas entry.

    `alts` lists the alternatives as (terms added to Γ, terms added to Δ).
    """

    __slots__ = ("alts", "key", "kind", "node")

    def __init__(
        self, node: Node, kind: str, alts: list[tuple[list[Any], list[Any]]], tag: Any
    ) -> None:
        self.node = node
        self.kind = kind
        self.alts = alts
        self.key = ("C", node.key, kind, tag)


class Conj:
    """A conjunction of positive and negated terms (in Δ it makes the goal branch)."""

    __slots__ = ("key", "neg", "pos")

    def __init__(self, pos: list[Any], neg: list[Any]) -> None:
        self.pos = pos
        self.neg = neg
        self.key = ("J", tuple(t.key for t in pos), tuple(t.key for t in neg))


Term = Node | Atom | Choice | Conj


@dataclass
class Parts:
    """A node split into its atom, conjuncts, negations and choices."""

    atom: Atom | None
    conj: list[Node]
    neg: list[Node]
    choices: list[Choice]


# --------------------------------------------------------------------------- prover


class Prover:
    """One run of the decision procedure for a producer/consumer pair."""

    def __init__(self, producer: Side, consumer: Side, budget: Budget) -> None:
        self.p = producer
        self.c = consumer
        self.budget = budget
        self.memo: dict[Any, Outcome] = {}
        self.active: dict[Any, tuple[int, int]] = {}
        #: goals (not decomposed sequents) being proved: the depth budget counts these
        self.open_goals = 0
        #: pairs of nodes known to be the same schema (or not), see `same_schema`
        self.same_memo: dict[Any, bool] = {}
        #: values generated for terms, by content (see `_content_key`)
        self.values: dict[Any, tuple[JSON]] = {}
        self.low = math.inf
        self.approximations: list[str] = []
        self.unmodelled: list[str] = []
        self.regex_notes: list[str] = []
        self._key_terms: dict[Any, tuple[Node, ...] | None] = {}
        #: `gen` results by the identity of the terms (kept alive here): a witness object
        #: is often built twice, with the same terms for every untouched property
        self._generated: dict[tuple[int, ...], tuple[Sequence[Term], JSON]] = {}
        self._same_target_memo: dict[Any, bool] = {}
        #: case splits open on the stack (see `split`) and the case atoms made for them
        self.split_depth = 0
        self.split_work = 0
        self._case_atoms: dict[Any, Atom] = {}
        self.true_node = Node(True, producer, producer.root_cls, producer.root.resolver, "#", "")
        self.false_node = Node(False, producer, producer.root_cls, producer.root.resolver, "#", "")

    # ------------------------------------------------------------ evaluation

    def holds(self, t: Term, v: JSON) -> bool:
        """Whether value `v` satisfies term `t` (reference semantics; atoms as approximated)."""
        self.budget.tick()
        if isinstance(t, Node):
            return t.side.is_valid(t, v)
        if isinstance(t, Atom):
            if self.holds_atom(t, v):
                return True
            # a narrowed consumer atom (unevaluated* beside anyOf...): its node accepting v
            # proves the atom's exact reading, which the node implies
            return t.approx is not None and t.key[2] == "d" and t.node.side.is_valid(t.node, v)
        if isinstance(t, Conj):
            return all(self.holds(x, v) for x in t.pos) and not any(self.holds(x, v) for x in t.neg)
        return any(
            all(self.holds(x, v) for x in g) and not any(self.holds(x, v) for x in d)
            for g, d in t.alts
        )

    def holds_atom(self, a: Atom, v: JSON) -> bool:
        kw = a.kw
        if "type" in kw:
            ts = kw["type"]
            names = [ts] if isinstance(ts, str) else ts
            legacy = a.node.dialect in ("draft3", "draft4")
            if not any(
                (isinstance(v, int) and not isinstance(v, bool))
                if (n == "integer" and legacy)
                else is_type(v, n)
                for n in names
            ):
                return False
        if "enum" in kw and not any(equal(v, e) for e in kw["enum"]):
            return False
        if "const" in kw and not equal(v, kw["const"]):
            return False
        jt = json_type(v)
        if jt == "number":
            return self._holds_number(kw, v)
        if jt == "string":
            return self._holds_string(a, v)
        if jt == "array":
            return self._holds_array(a, v)
        if jt == "object":
            return self._holds_object(a, v)
        return True

    @staticmethod
    def _holds_number(kw: dict[str, Any], v: Any) -> bool:
        try:
            if "minimum" in kw and not v >= kw["minimum"]:
                return False
            if "maximum" in kw and not v <= kw["maximum"]:
                return False
            if "exclusiveMinimum" in kw and not v > kw["exclusiveMinimum"]:
                return False
            if "exclusiveMaximum" in kw and not v < kw["exclusiveMaximum"]:
                return False
            return not ("multipleOf" in kw and not multiple_of(v, kw["multipleOf"]))
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            raise ValidationUnavailable(f"numeric evaluation failed: {exc}") from None

    def _holds_string(self, a: Atom, v: str) -> bool:
        kw = a.kw
        if "minLength" in kw and len(v) < kw["minLength"]:
            return False
        if "maxLength" in kw and len(v) > kw["maxLength"]:
            return False
        if "pattern" in kw and not search(kw["pattern"], v):
            return False
        if "format" in kw:
            checker = a.node.cls.FORMAT_CHECKER
            if not faithful_format(a.node.cls, kw["format"]):
                if a.node.side.label == "consumer":
                    reason = unfaithful_format_reason(a.node.cls, kw["format"])
                    raise ValidationUnavailable(f"{reason} (at {a.loc})")
            elif not checker.conforms(v, kw["format"]):
                return False
        return True

    def _holds_array(self, a: Atom, v: list[JSON]) -> bool:
        kw = a.kw
        if "minItems" in kw and len(v) < kw["minItems"]:
            return False
        if "maxItems" in kw and len(v) > kw["maxItems"]:
            return False
        if kw.get("uniqueItems") is True and not unique(v):
            return False
        prefix = kw.get("prefixItems", [])
        for i, item in enumerate(v):
            if i < len(prefix):
                if not self.holds(a.child("prefixItems", i), item):
                    return False
            elif "items" in kw and not self.holds(a.child("items"), item):
                return False
        if "contains" in kw:
            c = a.child("contains")
            n = sum(1 for item in v if self.holds(c, item))
            lo = kw.get("minContains", 1)
            hi = kw.get("maxContains", len(v))
            if n < lo or n > hi:
                return False
        return True

    def _holds_object(self, a: Atom, v: dict[str, JSON]) -> bool:
        kw = a.kw
        if "minProperties" in kw and len(v) < kw["minProperties"]:
            return False
        if "maxProperties" in kw and len(v) > kw["maxProperties"]:
            return False
        for r in kw.get("required", ()):
            if r not in v:
                return False
        for k, deps in kw.get("dependentRequired", {}).items():
            if k in v and any(d not in v for d in deps):
                return False
        props = kw.get("properties", {})
        pats = kw.get("patternProperties", {})
        for k, x in v.items():
            if "propertyNames" in kw and not self.holds(a.child("propertyNames"), k):
                return False
            matched = False
            if k in props:
                matched = True
                if not self.holds(a.child("properties", k), x):
                    return False
            for p in pats:
                if search(p, k):
                    matched = True
                    if not self.holds(a.child("patternProperties", p), x):
                        return False
            if (
                not matched
                and "additionalProperties" in kw
                and not self.holds(a.child("additionalProperties"), x)
            ):
                return False
        return True

    # ------------------------------------------------------------ decomposition

    def syn(self, owner: Node, tag: Any, raw: JSON) -> Node:
        """A synthetic schema node, cached so its identity (memo key) is stable."""
        key = (owner.key, tag)
        cache = owner.side.synthetic
        n = cache.get(key)
        if n is None:
            n = owner.child(raw, f"<{tag[0]}>")
            n.loc = owner.loc
            cache[key] = n
        return n

    def parts(self, node: Node, mode: str) -> Parts:
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
            neg.append(self.syn(node, ("disallow",), {"type": [ds] if isinstance(ds, str) else ds}))
        if TYPE3_KEY in kw:  # draft-03: type names and schemas, any one of them
            ts = kw[TYPE3_KEY]
            names = [t for t in ts if isinstance(t, str)]
            subs = [node.child(t, "type", i) for i, t in enumerate(ts) if not isinstance(t, str)]
            if names:
                subs.append(self.syn(node, ("type3",), {"type": names}))
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
            c_then = node.child(kw["then"], "then") if "then" in kw else self.true_node
            c_else = node.child(kw["else"], "else") if "else" in kw else self.true_node
            choices.append(Choice(node, "if", [([c_if, c_then], []), ([c_else], [c_if])], None))
        for name, sub in kw.get("dependentSchemas", {}).items():
            present = self.syn(node, ("present", name), {"type": "object", "required": [name]})
            absent = self.syn(node, ("absent", name), {"properties": {name: False}})
            dep = node.child(sub, "dependentSchemas", name)
            choices.append(
                Choice(node, "dependentSchemas", [([absent], []), ([present, dep], [])], name)
            )
        split = self._uneval_if_split(node, choices)
        union = None if split is not None else self._uneval_union_split(node, choices, mode)
        if split is not None:
            got = Parts(None, conj, neg, [split])
        elif union is not None:
            got = Parts(None, conj, neg, union)
        else:
            got = Parts(self.make_atom(node, mode), conj, neg, choices)
        cache[key] = got
        return got

    def _uneval_if_split(self, node: Node, choices: list[Choice]) -> Choice | None:
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
        names0, pats0, every0, simple0 = self._evaluated_closure(node, "p", owner_if=True)
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
                bn, bp, bev, bsimple = self._evaluated_closure(b, "p", is_owner=False)
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
        self, node: Node, choices: list[Choice], mode: str
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
            names0, pats0, every, simple = self._evaluated_closure(node, "p", owner_union=True)
            if not simple:
                return None
            u_p = not every
        if u_i:
            _n, lp, every, simple = self._evaluated_closure(node, "i", owner_union=True)
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
                bn, bp, b_every_p, b_simple = self._evaluated_closure(b, "p", is_owner=False)
                if not b_simple:
                    return None
            if u_i:
                _n, blp, b_every_i, b_simple = self._evaluated_closure(b, "i", is_owner=False)
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

    def make_atom(self, node: Node, mode: str) -> Atom | None:
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
                names, pats, everything, simple = self._evaluated_closure(node, "p")
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
                _n, longest, everything, simple = self._evaluated_closure(node, "i")
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
        self,
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

    # ------------------------------------------------------------ goals

    def goal(self, gamma: Sequence[Term], delta: Sequence[Term], idepth: int) -> Outcome:
        """Prove Γ ⊢ Δ as a memoised child goal (instance depth `idepth`)."""
        key = (frozenset(t.key for t in gamma), frozenset(t.key for t in delta))
        got = self.memo.get(key)
        if got is not None:
            return got
        act = self.active.get(key)
        if act is not None:
            depth_then, index = act
            if idepth > depth_then:
                self.low = min(self.low, index)
                return PROVED
            return fail(reason="a $ref cycle that does not descend into the instance")
        if idepth > self.budget.max_depth or self.open_goals > self.budget.max_depth:
            return fail(reason=f"nesting deeper than {self.budget.max_depth} levels")
        index = len(self.active)
        self.active[key] = (idepth, index)
        self.open_goals += 1
        saved_low = self.low
        self.low = math.inf
        try:
            out = self.prove(list(gamma), list(delta), idepth)
        except Unmodelled as exc:
            self.unmodelled.append(str(exc))
            out = fail(reason=exc.reason)
        except ValidationUnavailable as exc:
            out = fail(reason=str(exc))
        finally:
            del self.active[key]
            self.open_goals -= 1
        my_low = self.low
        if not out.ok or my_low >= index:
            self.memo[key] = out
        self.low = min(saved_low, my_low if my_low < index else math.inf)
        return out

    def prove(self, gamma: list[Term], delta: list[Term], idepth: int) -> Outcome:
        """Decompose and prove Γ ⊢ Δ."""
        self.budget.tick()
        if (
            len(gamma) == 1
            and len(delta) == 1
            and isinstance(gamma[0], Node)
            and isinstance(delta[0], Node)
            and same_schema(gamma[0], delta[0], self.same_memo)
        ):
            # the same schema on both sides (e.g. a shared definition): trivially contained
            return PROVED
        g_nodes: list[Node] = []
        g_atoms: list[Atom] = []
        g_choices: list[Choice] = []
        d_nodes: list[Node] = []
        d_atoms: list[Atom] = []
        d_conj: list[Conj] = []
        seen_g: set[Any] = set()
        seen_d: set[Any] = set()
        wg: list[Term] = list(gamma)
        wd: list[Term] = list(delta)
        while wg or wd:
            while wg:
                t = wg.pop()
                if t.key in seen_g:
                    continue
                seen_g.add(t.key)
                if isinstance(t, Node):
                    if t.raw is True:
                        continue
                    if t.raw is False:
                        return PROVED
                    g_nodes.append(t)
                    ps = self.parts(t, "g")
                    if ps.atom is not None:
                        wg.append(ps.atom)
                    wg.extend(ps.conj)
                    wd.extend(ps.neg)
                    wg.extend(ps.choices)
                elif isinstance(t, Atom):
                    g_atoms.append(t)
                    if t.approx is not None:
                        self.approximations.append(t.approx)
                elif isinstance(t, Choice):
                    g_choices.append(t)
                else:
                    wg.extend(t.pos)
                    wd.extend(t.neg)
            while wd:
                t = wd.pop()
                if t.key in seen_d:
                    continue
                seen_d.add(t.key)
                if isinstance(t, Node):
                    if t.raw is False:
                        continue
                    if t.raw is True:
                        return PROVED
                    d_nodes.append(t)
                    ps = self.parts(t, "d")
                    pos: list[Term] = [*([ps.atom] if ps.atom else []), *ps.conj, *ps.choices]
                    if len(pos) + len(ps.neg) == 0:
                        return PROVED
                    if len(pos) == 1 and not ps.neg:
                        wd.append(pos[0])
                    elif not pos and len(ps.neg) == 1:
                        wg.append(ps.neg[0])
                    else:
                        d_conj.append(Conj(pos, ps.neg))
                elif isinstance(t, Atom):
                    neg = self._negated_required(t)
                    if neg is not None:
                        wg.append(neg)  # Δ ∨ required[k]  ≡  Γ ∧ "k absent"
                        continue
                    d_atoms.append(t)
                    if t.approx is not None:
                        self.approximations.append(t.approx)
                elif isinstance(t, Choice):
                    if t.kind == "anyOf":
                        wd.extend(a[0][0] for a in t.alts)
                    else:
                        for g_add, d_add in t.alts:
                            if len(g_add) == 1 and not d_add:
                                wd.append(g_add[0])
                            elif not g_add and len(d_add) == 1:
                                wg.append(d_add[0])
                            else:
                                wd.append(Conj(list(g_add), list(d_add)))
                else:
                    if len(t.pos) == 1 and not t.neg:
                        wd.append(t.pos[0])
                    elif not t.pos and len(t.neg) == 1:
                        wg.append(t.neg[0])
                    else:
                        d_conj.append(t)
            if seen_g & seen_d:
                return PROVED
        if seen_g & seen_d:
            return PROVED
        # identical schemas on both sides (allOf[S, not S], a shared definition...)
        if len(g_nodes) * len(d_nodes) <= 64:
            for gn in g_nodes:
                for dn in d_nodes:
                    if same_schema(gn, dn, self.same_memo):
                        return PROVED
        g_terms: list[Term] = [*g_atoms, *g_choices]
        d_terms: list[Term] = [*d_atoms, *d_conj]
        # finite producers are decided exactly, value by value
        for a in g_atoms:
            if "enum" in a.kw or "const" in a.kw:
                values = a.kw["enum"] if "enum" in a.kw else [a.kw["const"]]
                return self.finite(values, g_nodes, g_terms, d_nodes, d_terms, a)
        # Nodes reached through different `$ref`s or property schemas often decompose into
        # the same atoms (a shared definition used by many properties): the decomposed sequent
        # is memoised like a goal, with the same co-inductive discipline (an assumption made
        # below it keeps it out of the memo until that assumption is discharged).
        akey = (
            "D",
            frozenset([*(t.key for t in g_atoms), *(t.key for t in g_choices)]),
            frozenset([*(t.key for t in d_atoms), *(t.key for t in d_conj)]),
        )
        got = self.memo.get(akey)
        if got is not None:
            return got
        act = self.active.get(akey)
        if act is not None:
            depth_then, index = act
            if idepth > depth_then:
                self.low = min(self.low, index)
                return PROVED
            return fail(reason="a $ref cycle that does not descend into the instance")
        index = len(self.active)
        self.active[akey] = (idepth, index)
        saved_low = self.low
        self.low = math.inf
        try:
            if g_choices:
                out = self.branch_gamma(g_atoms, g_choices, d_atoms, d_conj, idepth)
            elif d_conj:
                out = self.branch_delta(g_atoms, d_atoms, d_conj, idepth)
            else:
                out = self.atoms_case(g_atoms, d_atoms, idepth)
        except BaseException:
            self.low = min(saved_low, self.low)
            raise
        finally:
            del self.active[akey]
        my_low = self.low
        if not out.ok or my_low >= index:
            self.memo[akey] = out
        self.low = min(saved_low, my_low if my_low < index else math.inf)
        return out

    def _negated_required(self, a: Atom) -> Node | None:
        """The negation of an atom that only requires one property, as a schema node."""
        kw = a.kw
        req = kw.get("required")
        if not isinstance(req, list) or len(req) != 1:
            return None
        k = req[0]
        if set(kw) == {"required"}:
            raw: JSON = {"type": "object", "properties": {k: False}}
            return self.syn(a.node, ("absent-object", k), raw)
        if set(kw) == {"required", "type"} and kw["type"] in ("object", ["object"]):
            return self.syn(a.node, ("absent", k), {"properties": {k: False}})
        return None

    def finite(
        self,
        values: Sequence[JSON],
        g_nodes: list[Node],
        g_terms: list[Term],
        d_nodes: list[Node],
        d_terms: list[Term],
        origin: Atom,
    ) -> Outcome:
        """Decide Γ ⊢ Δ for a finite Γ by validating every value."""
        cands = []
        for v in values:
            if not all(self.holds(t, v) for t in g_terms):
                continue
            if not all(n.side.is_valid(n, v) for n in g_nodes):
                continue
            if any(self.holds(t, v) for t in d_terms):
                continue
            if any(n.side.is_valid(n, v) for n in d_nodes):
                continue
            kind = "const-changed" if "const" in origin.kw else "enum-extended"
            p_loc = origin.loc if origin.node.side.label == "producer" else None
            if p_loc is None:
                p_loc = next((n.loc for n in g_nodes if n.side.label == "producer"), None)
            cands.append(Cand(v, kind, p_loc))
            if len(cands) >= 3:
                break
        return fail(cands) if cands else PROVED

    def branch_gamma(
        self,
        g_atoms: list[Atom],
        g_choices: list[Choice],
        d_atoms: list[Atom],
        d_conj: list[Conj],
        idepth: int,
    ) -> Outcome:
        """Γ holds a disjunction: every alternative must be proved."""
        first, rest = g_choices[0], g_choices[1:]
        reason = None
        for g_add, d_add in first.alts:
            out = self.prove([*g_atoms, *rest, *g_add], [*d_atoms, *d_conj, *d_add], idepth)
            if not out.ok:
                if out.cands:
                    return out
                reason = reason or out.reason
        return PROVED if reason is None else fail(reason=reason)

    def branch_delta(
        self, g_atoms: list[Atom], d_atoms: list[Atom], d_conj: list[Conj], idepth: int
    ) -> Outcome:
        """Δ holds a conjunction: Γ ⊢ Δ, A and Γ ⊢ Δ, B for each conjunct."""
        first, rest = d_conj[0], d_conj[1:]
        reason = None
        for t in first.pos:
            out = self.prove([*g_atoms], [*d_atoms, *rest, t], idepth)
            if not out.ok:
                if out.cands:
                    return out
                reason = reason or out.reason
        for t in first.neg:
            out = self.prove([*g_atoms, t], [*d_atoms, *rest], idepth)
            if not out.ok:
                if out.cands:
                    return out
                reason = reason or out.reason
        return PROVED if reason is None else fail(reason=reason)

    # ------------------------------------------------------------ per type

    def atoms_case(self, g: list[Atom], d: list[Atom], idepth: int) -> Outcome:
        """Γ and Δ are atoms only: compare them type by type."""
        base = {"null", "boolean", "number", "string", "array", "object"}
        int_only = False
        for a in g:
            base &= a.base
            int_only = int_only or a.int_only
        for x in d:
            if not x.kw:
                return PROVED
        reasons: list[str] = []
        for t in ("null", "boolean", "number", "string", "object", "array"):
            if t not in base:
                continue
            dt = [x for x in d if t in x.base]
            if t == "null":
                out = self.enum_case(g, dt, [None])
            elif t == "boolean":
                out = self.enum_case(g, dt, [False, True])
            elif t == "number":
                out = self.number_case(g, dt, int_only)
            elif t == "string":
                out = self.string_case(g, dt)
            elif t == "object":
                out = self.object_case(g, dt, idepth)
            else:
                out = self.array_case(g, dt, idepth)
            if not out.ok and not out.cands and len(dt) >= 2 and t in ("string", "object", "array"):
                # no single consumer alternative covers Γ: maybe they do jointly
                split = self.split(g, dt, t, idepth)
                if split is not None:
                    out = split
            if not out.ok:
                if out.cands:
                    return out
                if out.reason:
                    reasons.append(out.reason)
        if reasons:
            return fail(reason=reasons[0])
        return PROVED

    # case splits --------------------------------------------------------

    def split(self, g: list[Atom], d: list[Atom], t: str, idepth: int) -> Outcome | None:
        """Γ ⊢ Δ (values of type t) for consumer alternatives that cover Γ only jointly.

        Γ is split into cases that together hold every value (a partition by a property's
        presence and value, an item's value, or length ranges, derived from where the
        consumer's alternatives differ) and each case Γ ∧ Cᵢ ⊢ Δ is proved. A case that
        fails with a counterexample refutes the goal (the counterexample is in Γ); a case
        that cannot be decided abandons the partition. None: no partition decided it."""
        # the cases are producer atoms: their subschemas are reported at the producer's root
        owner = self.p.root
        if self.split_depth >= _SPLIT_DEPTH or owner.dialect == "draft3":
            return None
        if t == "object":
            partitions = self._object_partitions(g, d)
        elif t == "string":
            partitions = self._length_partitions(g, d, "minLength", "maxLength", t)
        else:
            partitions = self._array_partitions(g, d)
        self.split_depth += 1
        try:
            have = {a.key for a in g}
            for cases in islice(partitions, _SPLIT_TRIES):
                if len(cases) > _SPLIT_CASES or any(
                    self._case_atom(owner, c).key in have for c in cases
                ):
                    continue  # too many cases, or Γ is one of them already
                out = self._prove_cases(owner, g, d, cases, idepth)
                if out is not None:
                    return out
        finally:
            self.split_depth -= 1
        return None

    def _prove_cases(
        self, owner: Node, g: list[Atom], d: list[Atom], cases: list[JSON], idepth: int
    ) -> Outcome | None:
        for case in cases:
            self.split_work += 1
            if self.split_work > _SPLIT_WORK:
                return None
            atom = self._case_atom(owner, case)
            sub = self.goal([*g, atom], d, idepth)
            if sub.ok:
                continue
            got = self._filter([*g, atom], d, sub.cands)
            return fail(got) if got else None
        return PROVED

    def _case_atom(self, owner: Node, kw: dict[str, Any]) -> Atom:
        """An atom of the producer for one case of a split (exact; cached by content)."""
        text = canonical_json(kw)
        key = (owner.key, text)
        got = self._case_atoms.get(key)
        if got is None:
            got = Atom(owner, kw, "x", None, tag=("case", text))
            for k in ("properties", "prefixItems"):
                subs = kw.get(k, {})
                for name, raw in subs.items() if isinstance(subs, dict) else enumerate(subs):
                    # synthetic subschemas, reported at the producer location they refine
                    node = self.syn(owner, ("case", canonical_json(raw)), raw)
                    got._children[(k, name)] = node
            self._case_atoms[key] = got
        return got

    def _value_families(self, terms: list[list[Node]]) -> list[list[JSON]]:
        """Complete families of schemas (every value satisfies one) that tell apart the
        values the consumer's alternatives treat differently: their const/enum values and
        the rest, their types and the rest."""
        consts: list[JSON] = []
        types: list[str] = []
        for nodes in terms:
            for node in nodes:
                if not isinstance(node.raw, dict):
                    continue
                for n in (node, *self.parts(node, "d").conj):
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

    def _object_partitions(self, g: list[Atom], d: list[Atom]) -> Iterator[list[JSON]]:
        """Partitions of Γ's objects by a property the consumer's alternatives disagree on
        (absent, or present with a value of each family member, or just present), or by
        the number of properties."""
        names: list[str] = []
        for x in d:
            for n in (*x.kw.get("properties", {}), *x.kw.get("required", ())):
                if n not in names:
                    names.append(n)
        req = set(self._required(g))
        for n in names:
            if self.key_terms(g, n) is None:
                continue  # Γ never has it
            terms: list[list[Node]] = []
            sigs: set[Any] = set()
            for x in d:
                xt = self.key_terms([x], n)
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
            for family in self._value_families(terms):
                yield [*head, *({"type": "object", "properties": {n: s}, **need} for s in family)]
            if head:
                yield [*head, {"type": "object", **need}]
        yield from self._length_partitions(g, d, "minProperties", "maxProperties", "object")

    def _length_partitions(
        self, g: Sequence[Atom], d: list[Atom], lo_kw: str, hi_kw: str, t: str
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

    def _array_partitions(self, g: list[Atom], d: list[Atom]) -> Iterator[list[JSON]]:
        """Γ's arrays split by length ranges, or by the value of an item at a position
        where the consumer's alternatives differ."""
        yield from self._length_partitions(g, d, "minItems", "maxItems", "array")
        top = max((len(x.kw.get("prefixItems", [])) for x in d), default=0)
        for i in range(min(top, 4)):
            terms = [self._items_for([x], i) for x in d]
            if len({tuple(sorted(repr(t.key) for t in ts)) for ts in terms}) < 2:
                continue
            for family in self._value_families(terms):
                yield [{"type": "array", "prefixItems": [*([True] * i), s]} for s in family]

    def _filter(
        self,
        g: Sequence[Term],
        d: Sequence[Term],
        cands: Iterable[Cand],
        *,
        exhaustive: bool = False,
    ) -> list[Cand]:
        """The candidates that satisfy every Γ term and no Δ term (at most two).

        `exhaustive`: the caller concludes "proved" from an empty answer, so a value that
        cannot be evaluated must not be skipped (ValidationUnavailable propagates)."""
        out: list[Cand] = []
        seen: set[tuple[str, str]] = set()
        for c in cands:
            mark = (type(c.value).__name__, repr(c.value))
            if mark in seen:
                continue
            seen.add(mark)
            try:
                if all(self.holds(t, c.value) for t in g) and not any(
                    self.holds(t, c.value) for t in d
                ):
                    out.append(c)
            except ValidationUnavailable:
                if exhaustive:
                    raise
                continue
            if len(out) >= 2:
                break
        return out

    def enum_case(self, g: list[Atom], d: list[Atom], values: list[JSON]) -> Outcome:
        kind = "type-widened"
        if values == [None] and any(_lists_null(a.kw.get("type")) for a in g):
            kind = "nullable-added"
        cands = [Cand(v, kind, _loc(g)) for v in values]
        got = self._filter(g, d, cands, exhaustive=True)
        return fail(got) if got else PROVED

    # numbers ---------------------------------------------------------

    def number_case(self, g: list[Atom], d: list[Atom], int_only: bool) -> Outcome:
        lo: Fraction | None = None
        lo_ex = False
        hi: Fraction | None = None
        hi_ex = False
        mults: list[int | float] = []
        raw_points: list[int | float] = []
        for a in g:
            kw = a.kw
            for k in ("minimum", "exclusiveMinimum"):
                if k in kw:
                    b = exact(kw[k])
                    raw_points.append(kw[k])
                    ex = k == "exclusiveMinimum"
                    if lo is None or b > lo or (b == lo and ex):
                        lo, lo_ex = b, ex
            for k in ("maximum", "exclusiveMaximum"):
                if k in kw:
                    b = exact(kw[k])
                    raw_points.append(kw[k])
                    ex = k == "exclusiveMaximum"
                    if hi is None or b < hi or (b == hi and ex):
                        hi, hi_ex = b, ex
            if "multipleOf" in kw:
                mults.append(kw["multipleOf"])
        all_int = int_only or any(exact(m).denominator == 1 for m in mults)
        if all_int:
            if lo is not None:
                lo = Fraction(math.floor(lo) + 1) if lo_ex and lo.denominator == 1 else lo
                lo, lo_ex = Fraction(math.ceil(lo)), False
            if hi is not None:
                hi = Fraction(math.ceil(hi) - 1) if hi_ex and hi.denominator == 1 else hi
                hi, hi_ex = Fraction(math.floor(hi)), False
        if lo is not None and hi is not None and (lo > hi or (lo == hi and (lo_ex or hi_ex))):
            return PROVED
        if not d:
            # generation (a value of the producer): try the obvious values first, built
            # lazily (the first one usually does)
            loc = _loc(g)
            got = self._filter(g, d, islice(_quick_numbers(lo, hi, mults, loc), 12))
            if got:
                return fail(got)
        strict = any(a.strict_int for a in g)
        floats_matter = any(x.strict_int for x in d) and not strict
        for x in d:
            if x.strict_int and not strict:
                continue
            if (
                self._number_contained(x.kw, lo, lo_ex, hi, hi_ex, mults, int_only)
                and "enum" not in x.kw
                and "const" not in x.kw
            ):
                return PROVED
        # a small finite range is decided value by value
        mstep = max((exact(m) for m in mults), default=None)
        if (
            lo is not None
            and hi is not None
            and not all_int
            and mstep is not None
            and (hi - lo) / mstep <= 256
        ):
            # finitely many multiples of the mstep in a bounded range: enumerate them exactly
            values_m: list[JSON] = []
            for mk2 in range(math.ceil(lo / mstep), math.floor(hi / mstep) + 1):
                v = _as_json_number(mk2 * mstep)
                if v is None:
                    return fail(reason=f"multiple {float(mk2 * mstep)!r} has no exact JSON form")
                values_m.append(v)
            cands = [Cand(v, "bound-relaxed", _loc(g)) for v in values_m]
            got = self._filter(g, d, cands, exhaustive=True)
            return fail(got) if got else PROVED
        if (
            lo is not None
            and hi is not None
            and ((all_int and hi - lo <= 256) or (lo == hi and not lo_ex and not hi_ex))
        ):
            values: list[JSON] = []
            if all_int:
                for ival in range(int(lo), int(hi) + 1):
                    values.append(ival)
                    if floats_matter:
                        values.append(float(ival))
            else:
                v = _as_json_number(lo)
                if v is None:
                    return fail(reason=f"number {float(lo)!r} has no exact JSON form")
                values.append(v)
                if floats_matter and isinstance(v, int) and abs(v) < 2**53:
                    values.append(float(v))
            loc = _loc(g)
            cands = [Cand(v, "bound-relaxed", loc) for v in values]
            got = self._filter(g, d, cands, exhaustive=True)
            return fail(got) if got else PROVED
        if self._union_covers(d, lo, lo_ex, hi, hi_ex, all_int, strict):
            return PROVED
        # search counterexamples around every bound
        points: list[int | float] = [0, 1, -1, 0.5, -0.5, 2, 10, -10, 1.5, 100, 2**31, 2**53 + 1]
        points.extend(raw_points)
        for x in d:
            for k in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
                if k in x.kw:
                    points.append(x.kw[k])
            if "multipleOf" in x.kw:
                points.append(x.kw["multipleOf"])
            for e in x.kw.get("enum", []) + ([x.kw["const"]] if "const" in x.kw else []):
                if json_type(e) == "number":
                    points.append(e)
        probes: list[int | float] = []
        if floats_matter:
            points.extend(float(_num(p)) for p in list(points) if is_integer(p) and abs(p) < 2**53)
        for p in points:
            for delta in (0, 1, -1, 0.5, -0.5, 0.25, 2, -2):
                probes.append(_num(p + delta))
                if isinstance(p, float) and floats_matter:
                    probes.append(p + delta)
            for m in mults:
                em = exact(m)
                if em:
                    base_k = math.floor(exact(_num(p)) / em)
                    for mk in (base_k - 1, base_k, base_k + 1, base_k + 2):
                        mv = _as_json_number(mk * em)
                        if mv is not None:
                            probes.append(mv)
        loc = _loc(g)
        cands = [Cand(v, "bound-relaxed", loc) for v in probes]
        got = self._filter(g, d, cands)
        if got:
            return fail(got)
        if not d:
            return fail(reason="could not find a number in the producer's range")
        return fail(
            reason="numeric constraints (bounds / multipleOf) could not be compared "
            f"at {loc} and {d[0].loc}"
        )

    @staticmethod
    def _union_covers(
        d: list[Atom],
        lo: Fraction | None,
        lo_ex: bool,
        hi: Fraction | None,
        hi_ex: bool,
        all_int: bool,
        strict: bool,
    ) -> bool:
        """Whether the union of the consumer's plain intervals covers the producer's range."""
        ivs: list[tuple[Fraction | None, bool, Fraction | None, bool]] = []
        for x in d:
            kw = x.kw
            if "enum" in kw or "const" in kw or "multipleOf" in kw:
                continue
            if (x.int_only and not all_int) or (x.strict_int and not strict):
                continue
            a: Fraction | None = None
            a_closed = True
            b: Fraction | None = None
            b_closed = True
            for k in ("minimum", "exclusiveMinimum"):
                if k in kw:
                    v = exact(kw[k])
                    if a is None or v > a or (v == a and k == "exclusiveMinimum"):
                        a, a_closed = v, k == "minimum"
            for k in ("maximum", "exclusiveMaximum"):
                if k in kw:
                    v = exact(kw[k])
                    if b is None or v < b or (v == b and k == "exclusiveMaximum"):
                        b, b_closed = v, k == "maximum"
            if all_int:
                if a is not None:
                    a = Fraction(
                        math.floor(a) + 1 if (not a_closed and a.denominator == 1) else math.ceil(a)
                    )
                    a_closed = True
                if b is not None:
                    b = Fraction(
                        math.ceil(b) - 1 if (not b_closed and b.denominator == 1) else math.floor(b)
                    )
                    b_closed = True
            ivs.append((a, a_closed, b, b_closed))
        if len(ivs) < 2:
            return False
        cur = lo
        need_cur = not lo_ex
        for _ in range(len(ivs) + 1):
            best: tuple[Fraction | None, bool] | None = None
            for a, a_closed, b, b_closed in ivs:
                if cur is None:
                    ok = a is None
                else:
                    ok = a is None or a < cur or (a == cur and (a_closed or not need_cur))
                if all_int and cur is not None and a is not None and not ok:
                    ok = a <= cur
                if not ok:
                    continue
                if b is None:
                    return True
                if cur is not None and (b < cur or (b == cur and need_cur and not b_closed)):
                    continue
                if best is None or (
                    best[0] is not None and (b > best[0] or (b == best[0] and b_closed))
                ):
                    best = (b, b_closed)
            if best is None or best[0] is None:
                return False
            end, end_closed = best[0], best[1]
            if hi is not None and (end > hi or (end == hi and (end_closed or hi_ex))):
                return True
            if all_int:
                cur, need_cur = end + 1, True
            else:
                cur, need_cur = end, not end_closed
        return False

    @staticmethod
    def _number_contained(
        kw: dict[str, Any],
        lo: Fraction | None,
        lo_ex: bool,
        hi: Fraction | None,
        hi_ex: bool,
        mults: list[int | float],
        int_only: bool,
    ) -> bool:
        for k in ("minimum", "exclusiveMinimum"):
            if k in kw:
                b = exact(kw[k])
                if lo is None or lo < b:
                    return False
                if lo == b and k == "exclusiveMinimum" and not lo_ex:
                    return False
        for k in ("maximum", "exclusiveMaximum"):
            if k in kw:
                b = exact(kw[k])
                if hi is None or hi > b:
                    return False
                if hi == b and k == "exclusiveMaximum" and not hi_ex:
                    return False
        exact_mults = [exact(m) for m in mults]
        _, d_int = types_of(kw)
        if d_int and not (int_only or any(m.denominator == 1 for m in exact_mults)):
            return False
        if "multipleOf" in kw:
            dm = exact(kw["multipleOf"])
            ok = any((m / dm).denominator == 1 for m in exact_mults)
            if not ok and int_only:
                ok = (1 / dm).denominator == 1
            if not ok:
                return False
        return True

    # strings ---------------------------------------------------------

    def string_case(self, g: list[Atom], d: list[Atom]) -> Outcome:
        lo = 0
        hi: int | None = None
        pats: list[str] = []
        # a format names the same strings on both sides only if it means the same in both
        # dialects (draft-07 does not check "uuid", 2020-12 does)
        fmts: list[tuple[str, Any]] = []
        for a in g:
            kw = a.kw
            lo = max(lo, kw.get("minLength", 0))
            if "maxLength" in kw:
                hi = kw["maxLength"] if hi is None else min(hi, kw["maxLength"])
            if "pattern" in kw:
                pats.append(kw["pattern"])
            if "format" in kw:
                fmts.append((kw["format"], format_meaning(a.node.cls, kw["format"])))
        if hi is not None and lo > hi:
            return PROVED
        reasons: list[str] = []
        failing_pats: list[str] = []
        if pats:
            # the producer's patterns may bound the length more tightly than its keywords
            for x in d:
                want_lo = x.kw.get("minLength", 0)
                if want_lo > lo and self._no_string(pats, lo, want_lo - 1):
                    lo = want_lo
                if (
                    "maxLength" in x.kw
                    and (hi is None or hi > x.kw["maxLength"])
                    and self._no_string(pats, x.kw["maxLength"] + 1, hi)
                ):
                    hi = x.kw["maxLength"]
            if hi is not None and lo > hi:
                return PROVED
        for x in d:
            kw = x.kw
            ok = True
            if kw.get("minLength", 0) > lo:
                ok = False
            if "maxLength" in kw and (hi is None or hi > kw["maxLength"]):
                ok = False
            if ok and "pattern" in kw and kw["pattern"] not in pats:
                verdict = self._pattern_implied(pats, kw["pattern"], lo, hi)
                if verdict is not True:
                    ok = False
                    failing_pats.append(kw["pattern"])
                    if verdict is None:
                        reasons.append(
                            f"pattern {kw['pattern']!r} at {x.loc} could not be compared "
                            "with the producer's patterns"
                        )
            fmt = kw.get("format")
            if ok and fmt is not None and (fmt, format_meaning(x.node.cls, fmt)) not in fmts:
                ok = False
                if not faithful_format(x.node.cls, kw["format"]):
                    reason = unfaithful_format_reason(x.node.cls, kw["format"])
                    raise Unmodelled(f"format {kw['format']!r}", x.loc, f"{reason} (at {x.loc})")
                reasons.append(f"format {kw['format']!r} at {x.loc} (format assertion)")
            if ok and ("enum" in kw or "const" in kw):
                members = [kw["const"]] if "const" in kw else list(kw["enum"])
                strings = [m for m in members if isinstance(m, str)]
                ok = bool(pats) and self._only_strings(pats, strings, lo, hi)
            if ok:
                return PROVED
        # candidates
        probes: list[str] = []
        lengths = {lo, lo + 1}
        for x in d:
            if "minLength" in x.kw and x.kw["minLength"] > 0:
                lengths.add(x.kw["minLength"] - 1)
            if "maxLength" in x.kw:
                lengths.add(x.kw["maxLength"] + 1)
        lengths = {n for n in lengths if n >= lo and (hi is None or n <= hi) and n < 100_000}
        lengths.discard(lo)  # the first probe below
        s = self._find_string(pats, [], lo, hi)
        if s is not None:
            probes.append(s)
        for n in sorted(lengths):
            s = self._find_string(pats, [], n, n)
            if s is not None:
                probes.append(s)
        for q in failing_pats:
            s = self._find_string(pats, [q], lo, hi)
            if s is not None:
                probes.append(s)
        for x in d:
            if "enum" in x.kw or "const" in x.kw:
                members = [x.kw["const"]] if "const" in x.kw else list(x.kw["enum"])
                literal = [_literal(m) for m in members if isinstance(m, str)]
                s = self._find_string(pats, literal, lo, hi)
                if s is not None:
                    probes.append(s)
        for e in (e for x in d for e in [x.kw.get("const"), *x.kw.get("enum", [])]):
            if isinstance(e, str):
                probes.append(e + "x")
                probes.append("x" + e)
        probes.extend(["", "a", "0", "A", " ", "-", "aa", "x" * max(lo, 1), "\n", "é"])
        loc = _loc(g)
        kind = "pattern-widened" if failing_pats else "length-relaxed"
        got = self._filter(g, d, [Cand(s, kind, loc) for s in probes])
        if got:
            return fail(got)
        if reasons:
            return fail(reason=reasons[0])
        if not d:
            return fail(reason="could not find a string satisfying the producer's constraints")
        return fail(reason=f"string constraints could not be compared at {d[0].loc}")

    def _regex_deadline(self) -> float:
        return self.budget.deadline

    def _only_strings(self, pats: list[str], allowed: list[str], lo: int, hi: int | None) -> bool:
        """Whether every string matching all `pats` (lengths lo..hi) is one of `allowed`."""
        try:
            from teamrel.compat import regex as rx
        except ImportError:  # pragma: no cover
            return False
        literal = [_literal(a) for a in allowed]
        try:
            got = rx.find_string(
                pats,
                literal,
                min_length=lo,
                max_length=hi,
                semantics="ecma",
                deadline=self._regex_deadline(),
            )
        except Exception:
            return False
        return got is None

    def _no_string(self, pats: list[str], lo: int, hi: int | None) -> bool:
        """Whether no string of length lo..hi matches every pattern (ECMA-262 reading)."""
        try:
            from teamrel.compat import regex as rx
        except ImportError:  # pragma: no cover
            return False
        try:
            got = rx.find_string(
                pats,
                [],
                min_length=lo,
                max_length=hi,
                semantics="ecma",
                deadline=self._regex_deadline(),
            )
        except Exception:  # unsupported construct, budget, invalid pattern: no proof
            return False
        return got is None

    def _pattern_implied(self, pats: list[str], q: str, lo: int, hi: int | None) -> bool | None:
        """True: every string matching all `pats` matches `q`; False: not; None: unknown.

        Decided in the specification's (ECMA-262) reading of the patterns.
        """
        try:
            from teamrel.compat import regex as rx  # the regex helper's module
        except ImportError:  # pragma: no cover
            return None
        try:
            s = rx.find_string(
                pats,
                [q],
                min_length=lo,
                max_length=hi,
                semantics="ecma",
                deadline=self._regex_deadline(),
            )
        except Exception as exc:  # RegexUnsupported, RegexBudgetExceeded, invalid pattern
            self.regex_notes.append(f"{type(exc).__name__}: {exc}")
            return None
        return s is None

    def _find_string(
        self, must: list[str], must_not: list[str], lo: int, hi: int | None
    ) -> str | None:
        if not must and not must_not and lo <= 1000:
            # what the automata answer without patterns, without building any
            return "a" * lo if hi is None or lo <= hi else None
        try:
            from teamrel.compat import regex as rx
        except ImportError:
            rx = None  # type: ignore[assignment]
        if rx is not None:
            # a string both readings (ECMA-262 and Python's re) agree on, else one reading's
            # string that happens to satisfy the other reading too
            for sem in ("both", "ecma", "python"):
                try:
                    s = rx.find_string(
                        must,
                        must_not,
                        min_length=lo,
                        max_length=hi,
                        semantics=sem,
                        deadline=self._regex_deadline(),
                    )
                except Exception:  # unsupported construct or budget: try the next reading
                    continue
                if s is None:
                    if sem == "both":
                        return None
                    continue
                try:
                    if all(python_search(p, s) and search(p, s) for p in must) and not any(
                        python_search(p, s) or search(p, s) for p in must_not
                    ):
                        return s
                except Exception:
                    continue
        if not must and not must_not:
            return "a" * lo
        for base in ("", "a", "0", "A", "aa", "ab", "a0", "x", "00", "abc", "test", "_"):
            s = base if len(base) >= lo else base + "a" * (lo - len(base))
            if hi is not None and len(s) > hi:
                continue
            if all(search(p, s) for p in must) and not any(search(p, s) for p in must_not):
                return s
        return None

    # arrays ----------------------------------------------------------

    def _items_for(self, atoms: Sequence[Atom], i: int) -> list[Node]:
        out: list[Node] = []
        for a in atoms:
            prefix = a.kw.get("prefixItems", [])
            if i < len(prefix):
                out.append(a.child("prefixItems", i))
            elif "items" in a.kw:
                out.append(a.child("items"))
        return out

    def _array_len(self, g: Sequence[Atom]) -> tuple[int, int | None]:
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

    def array_case(self, g: list[Atom], d: list[Atom], idepth: int) -> Outcome:
        lo, hi = self._array_len(g)
        if (
            any(a.kw.get("uniqueItems") is True for a in g)
            and any("maxItems" in x.kw for x in d)
            and (hi is None or any(hi > x.kw.get("maxItems", hi) for x in d))
        ):
            # distinct items drawn from finitely many values: a counting bound on the length
            bound = self._unique_bound(g)
            if bound is not None and (hi is None or bound < hi):
                hi = bound
        if hi is not None and lo > hi:
            return PROVED
        reasons: list[str] = []
        cands: list[Cand] = []
        for x in d:
            out = self.array_contained(g, x, lo, hi, idepth)
            if out.ok:
                return PROVED
            cands.extend(out.cands)
            if out.reason:
                reasons.append(out.reason)
        if not d:
            arr = self.build_array(g, lo, {}, idepth)
            if arr is not None:
                cands.append(Cand(arr, "type-widened", _loc(g)))
        got = self._filter(g, d, cands)
        if got:
            return fail(got)
        # no counterexample could be built: maybe because there is no producer array at all
        for i in range(min(lo, 64)):
            terms = self._items_for(g, i)
            if terms and self.goal(terms, [], idepth + 1).ok:
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
            if all(
                self.goal([*self._items_for(g, i), c_node], [], idepth + 1).ok for i in positions
            ):
                return PROVED  # no item can match the producer's own `contains`
        return fail(reason=reasons[0] if reasons else f"array constraints at {_loc(g)}")

    def array_contained(
        self, g: list[Atom], x: Atom, lo: int, hi: int | None, idepth: int
    ) -> Outcome:
        kw = x.kw
        loc = _loc(g)
        if "enum" in kw or "const" in kw:
            arr = self.build_array(g, lo, {}, idepth)
            return fail([Cand(arr, "schema-widened", loc)] if arr is not None else [])
        cands: list[Cand] = []
        reason: str | None = None
        # a count that is not proved but shows no array: the items may still show one
        pending: str | None = None
        d_lo = kw.get("minItems", 0)
        if d_lo > lo:
            arr = self.build_array(g, lo, {}, idepth)
            if arr is not None:
                return fail([Cand(arr, "bound-relaxed", loc)])
            pending = f"minItems at {x.loc}"
        if "maxItems" in kw and (hi is None or hi > kw["maxItems"]):
            n = kw["maxItems"] + 1
            arr = self.build_array(g, max(n, lo), {}, idepth)
            if arr is not None:
                return fail([Cand(arr, "bound-relaxed", loc)])
            pending = pending or f"maxItems at {x.loc}"
        d_prefix = len(kw.get("prefixItems", []))
        g_prefix = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
        top = max(d_prefix, g_prefix)
        for i in range(top + 1):
            if hi is not None and i >= hi:
                break
            dn = self._items_for([x], i)
            if not dn:
                if i >= d_prefix:
                    break
                continue
            gn = self._items_for(g, i)
            sub = self.goal(gn, dn, idepth + 1)
            if not sub.ok:
                for c in sub.cands:
                    arr = self.build_array(g, max(lo, i + 1), {i: c.value}, idepth)
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
            v = self.gen([*self._items_for(g, 0), *self._items_for(g, 1)], idepth)
            if not isinstance(v, _NoValue):
                arr = self.build_array(g, max(lo, 2), {0: v, 1: v}, idepth)
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
                        and self.goal([a.child("contains")], [c_node], idepth + 1).ok
                    ):
                        ok = True
                        break
                if not ok and lo >= need:
                    ok = all(
                        self.goal(self._items_for(g, i), [c_node], idepth + 1).ok
                        for i in range(min(top + 1, 50))
                    )
                if not ok:
                    arr = self._array_avoiding(g, lo, c_node, idepth)
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
                            and self.goal([c_node], [a.child("contains")], idepth + 1).ok
                        ):
                            ok = True
                            break
                    if not ok:
                        ok = all(
                            self.goal([*self._items_for(g, i), c_node], [], idepth + 1).ok
                            for i in range(top + 1)
                        )
                    if not ok and any(a.kw.get("uniqueItems") is True for a in g):
                        most = self._unique_matches(g, c_node)
                        ok = most is not None and most <= mx
                    if not ok:
                        fixed: dict[int, JSON] = {}
                        distinct = any(a.kw.get("uniqueItems") is True for a in g)
                        for i in range(min(mx + 1, 1000)):
                            terms: list[Term] = [*self._items_for(g, i), c_node]
                            if distinct and fixed:
                                prev = list(fixed.values())
                                tag = ("distinct", canonical_json(prev))
                                terms.append(self.syn(c_node, tag, {"not": {"enum": prev}}))
                            v = self.gen(terms, idepth)
                            if isinstance(v, _NoValue):
                                break
                            fixed[i] = v
                        if len(fixed) == mx + 1:
                            arr = self.build_array(g, max(lo, mx + 1), fixed, idepth)
                            if arr is not None:
                                return fail([Cand(arr, "contains-relaxed", loc)])
                        return fail(reason=f"maxContains at {x.loc}")
        return fail(reason=pending) if pending else PROVED

    def _finite_values(self, node: Node) -> list[JSON] | None:
        """A finite superset of the values `node` accepts (const, enum, null/boolean types,
        also through one level of allOf/$ref), or None."""
        if node.raw is False:
            return []
        if not isinstance(node.raw, dict):
            return None
        best: list[JSON] | None = None
        for n in (node, *self.parts(node, "g").conj):
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

    def _position_values(self, g: Sequence[Atom], i: int) -> list[JSON] | None:
        """The distinct values (uniqueItems' equality) an item at position i may take, when
        finitely many; None otherwise. Decided in the specification's reading."""
        terms = self._items_for(g, i)
        cands: list[JSON] | None = None
        for n in terms:
            vals = self._finite_values(n)
            if vals is not None and (cands is None or len(vals) < len(cands)):
                cands = vals
        if cands is None:
            return None
        out: list[JSON] = []
        for v in cands:
            if any(equal(v, w) for w in out):
                continue
            if all(self.holds(n, v) for n in terms):
                out.append(v)
        return out

    def _unique_bound(self, g: Sequence[Atom]) -> int | None:
        """At most how many items a producer array with uniqueItems holds: its items are
        pairwise distinct, so no more than the values they may take (None: unbounded)."""
        top = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
        try:
            per = [self._position_values(g, i) for i in range(top + 1)]
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

    def _unique_matches(self, g: Sequence[Atom], c_node: Node) -> int | None:
        """At most how many items of a producer array with uniqueItems match `c_node`:
        matching items are distinct values; a position without a finite set of values
        counts once (only prefix positions may be so)."""
        top = max((len(a.kw.get("prefixItems", [])) for a in g), default=0)
        matches: list[JSON] = []
        loose = 0
        try:
            for i in range(top + 1):
                vals = self._position_values(g, i)
                if vals is None:
                    if i == top:
                        return None
                    loose += 1
                    continue
                for v in vals:
                    if self.holds(c_node, v) and not any(equal(v, w) for w in matches):
                        matches.append(v)
        except (Unmodelled, ValidationUnavailable):
            return None
        return loose + len(matches)

    def _array_avoiding(self, g: list[Atom], n: int, avoid: Node, idepth: int) -> JSON | None:
        fixed: dict[int, JSON] = {}
        for i in range(n):
            out = self.goal(self._items_for(g, i), [avoid], idepth + 1)
            if out.ok or not out.cands:
                return None
            fixed[i] = out.cands[0].value
        return self.build_array(g, n, fixed, idepth)

    def build_array(
        self, g: Sequence[Atom], n: int, fixed: dict[int, JSON], idepth: int
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
            terms: list[Term] = list(self._items_for(g, i))
            prev = list(arr) + [v for j, v in fixed.items() if j > i] if distinct else []
            if prev and g:
                # distinct from the items before and the fixed items after it
                tag = ("distinct", canonical_json(prev))
                terms.append(self.syn(g[0].node, tag, {"not": {"enum": prev}}))
            v = self.gen(terms, idepth)
            if isinstance(v, _NoValue):
                return None
            arr.append(v)
        # satisfy the producer's own `contains` with the first free slots
        for a in g:
            if "contains" in a.kw and a.kw.get("minContains", 1) > 0:
                c = a.child("contains")
                have = sum(1 for v in arr if self.holds(c, v))
                if have < a.kw.get("minContains", 1):
                    v = self.gen([c, *self._items_for(g, len(arr))], idepth)
                    if isinstance(v, _NoValue):
                        return None
                    arr.extend([v] * (a.kw.get("minContains", 1) - have))
        return arr

    def gen(self, terms: Sequence[Term], idepth: int) -> JSON | _NoValue:
        """Some value satisfying every term (a counterexample of terms ⊢ ∅), or NOVALUE."""
        if not terms:
            return None
        ids = tuple(map(id, terms))
        done = self._generated.get(ids)
        if done is not None:
            return done[1]
        value = self._gen(terms, idepth)
        if not isinstance(value, _NoValue):  # "none found" may be provisional (a cycle)
            self._generated[ids] = (tuple(terms), value)
        return value

    def _gen(self, terms: Sequence[Term], idepth: int) -> JSON | _NoValue:
        memo = self.memo.get((frozenset(t.key for t in terms), frozenset()))
        if memo is not None:  # this very goal was settled already
            if memo.ok or not memo.cands:
                return NOVALUE
            return memo.cands[0].value
        ckey, shared = self._content_key(terms)
        if ckey is not None:
            known = self.values.get(ckey)
            if known is not None:
                return known[0]
            if shared:
                text = _SHARED_VALUES.get(ckey)
                if text is not None:
                    value: JSON = json.loads(text)  # a private copy: callers may mutate
                    self.values[ckey] = (value,)
                    return value
        out = self.goal(list(terms), [], idepth + 1)
        if out.ok or not out.cands:
            return NOVALUE
        value = out.cands[0].value
        if ckey is not None:
            self.values[ckey] = (value,)
            if shared:
                try:
                    dumped = json.dumps(value, allow_nan=False)
                except (TypeError, ValueError, RecursionError):
                    return value
                if len(_SHARED_VALUES) >= 4096:
                    _SHARED_VALUES.pop(next(iter(_SHARED_VALUES)))
                _SHARED_VALUES[ckey] = dumped
        return value

    def _content_key(self, terms: Sequence[Term]) -> tuple[tuple[Any, ...] | None, bool]:
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

    # objects ---------------------------------------------------------

    def key_terms(self, atoms: Sequence[Atom], k: str) -> list[Node] | None:
        """Γ's schemas for property `k`; None when some atom forbids the name."""
        # keyed by the atoms themselves (identity: cheap to hash, and they stay alive in
        # the sides' decomposition caches while the proof runs)
        mkey = (*atoms, k)
        got = self._key_terms.get(mkey, _MISSING)
        if got is not _MISSING:
            return None if got is None else list(got)
        found = self._key_terms_uncached(atoms, k)
        self._key_terms[mkey] = None if found is None else tuple(found)
        return found

    def _key_terms_uncached(self, atoms: Sequence[Atom], k: str) -> list[Node] | None:
        out: list[Node] = []
        for a in atoms:
            kw = a.kw
            if "propertyNames" in kw and not self.holds(a.child("propertyNames"), k):
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

    def _required(self, atoms: Sequence[Atom], extra: Iterable[str] = ()) -> list[str]:
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

    def build_object(
        self,
        g: Sequence[Atom],
        include: dict[str, JSON],
        omit: set[str],
        idepth: int,
        min_count: int = 0,
    ) -> dict[str, JSON] | None:
        """A small object satisfying Γ's atoms, with `include` set and `omit` absent."""
        req = self._required(g, include)
        if any(r in omit for r in req):
            return None
        obj: dict[str, JSON] = {}
        for k in req:
            if k in include:
                obj[k] = include[k]
                continue
            terms = self.key_terms(g, k)
            if terms is None:
                return None
            v = self.gen(terms, idepth)
            if isinstance(v, _NoValue):
                return None
            obj[k] = v
        need = max([min_count, *(a.kw.get("minProperties", 0) for a in g)])
        if len(obj) < need:
            names: list[str] = []
            for a in g:
                names.extend(n for n in a.kw.get("properties", {}) if n not in names)
            names.extend(n for n in self._possible_names(g) or [] if n not in names)
            names.extend(f"extra{i}" for i in range(need + 5))
            for n in names:
                if len(obj) >= need:
                    break
                if n in obj or n in omit:
                    continue
                terms = self.key_terms(g, n)
                if terms is None:
                    continue
                v = self.gen(terms, idepth)
                if isinstance(v, _NoValue):
                    continue
                trial = dict(obj)
                trial[n] = v
                if len(self._required(g, trial)) > len(trial):
                    continue
                obj = trial
            if len(obj) < need:
                return None
        return obj

    def object_case(self, g: list[Atom], d: list[Atom], idepth: int) -> Outcome:
        req = self._required(g)
        if not all(self._name_allowed(g, r) for r in req):
            return PROVED  # a required property is forbidden: no such object exists
        hi = min((a.kw["maxProperties"] for a in g if "maxProperties" in a.kw), default=None)
        if hi is not None and len(req) > hi:
            return PROVED
        if hi == 0:
            # the empty object is Γ's only object: decided by evaluating it
            got = self._filter(g, d, [Cand({}, None, _loc(g))], exhaustive=True)
            return fail(got) if got else PROVED
        possible = self._possible_names(g)
        least = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
        if possible is not None and least > len(possible):
            return PROVED  # more properties needed than names allowed
        reasons: list[str] = []
        cands: list[Cand] = []
        for x in d:
            out = self.object_contained(g, x, idepth)
            if out.ok:
                return PROVED
            cands.extend(out.cands)
            if out.reason:
                reasons.append(out.reason)
            elif not out.cands:
                reasons.append(f"object constraints at {x.loc}")
        if not d:
            obj = self.build_object(g, {}, set(), idepth)
            if obj is not None:
                cands.append(Cand(obj, "type-widened", _loc(g)))
        # one consumer atom: the candidates were built against it, and the final witness is
        # verified anyway; validating big candidates here again would double the cost
        got = self._filter(g, d, cands) if len(d) > 1 else cands[:2]
        if got:
            return fail(got)
        # no counterexample could be built: maybe because there is no producer object at all
        for r in req:
            terms = self.key_terms(g, r)
            if terms is not None and terms and self.goal(terms, [], idepth + 1).ok:
                return PROVED  # a required property admits no value
        if not cands and not reasons and not d:
            reasons.append(f"could not build an object satisfying {_loc(g)}")
        return fail(reason=reasons[0] if reasons else f"object constraints at {_loc(g)}")

    def object_contained(self, g: list[Atom], x: Atom, idepth: int) -> Outcome:
        kw = x.kw
        loc = _loc(g)
        if "enum" in kw or "const" in kw:
            obj = self.build_object(g, {}, set(), idepth)
            return fail([Cand(obj, "schema-widened", loc)] if obj is not None else [])
        req = self._required(g)
        req_set = set(req)
        # required
        for r in kw.get("required", ()):
            if r not in req_set and not self._forced(g, req, r):
                obj = self.build_object(g, {}, {r}, idepth)
                if obj is not None:
                    return fail([Cand(obj, "required-removed", loc)])
                return fail(reason=f"required {r!r} at {x.loc}: no producer object to show")
        # dependentRequired
        for k, deps in kw.get("dependentRequired", {}).items():
            if k in req and all(dep in req for dep in deps):
                continue
            if self.key_terms(g, k) is None:
                continue
            closure = self._required(g, [k])
            missing = [dep for dep in deps if dep not in closure]
            if not missing:
                continue
            terms = self.key_terms(g, k)
            v = self.gen(terms or [], idepth)
            if not isinstance(v, _NoValue):
                obj = self.build_object(g, {k: v}, set(missing), idepth)
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
                gs = same_plain[0].get(n, _MISSING)
                if gs is not _MISSING:
                    ds = same_plain[1].get(n, _MISSING)
                    if ds is not _MISSING:
                        refs = _same_refs(gs, ds, same_plain[2])
                        if refs == () or (refs and self._same_targets(g[0], x, refs)):
                            continue
            gt = self.key_terms(g, n)
            if gt is None:
                continue
            dt = self.key_terms([x], n)
            if dt is None:
                # the consumer forbids the name: fine only if the producer's value is empty
                exists = self.goal(gt, [], idepth + 1)
                if exists.ok:
                    continue
                if not exists.cands:
                    return fail(reason=exists.reason or f"property {n!r} at {x.loc}")
                v = exists.cands[0].value
                obj = self.build_object(g, {n: v}, set(), idepth)
                if obj is not None:
                    return fail([Cand(obj, "property-not-allowed", loc)])
                return fail(reason=f"property {n!r} at {x.loc}")
            if not dt:
                continue
            if len(gt) == 1 and len(dt) == 1 and same_schema(gt[0], dt[0], self.same_memo):
                continue  # the same property schema on both sides (the common case)
            for dn in dt:
                sub = self.goal(gt, [dn], idepth + 1)
                if sub.ok:
                    continue
                got = []
                for c in sub.cands:
                    obj = self.build_object(g, {n: c.value}, set(), idepth)
                    if obj is not None:
                        kind = c.kind
                        if kind in (None, "type-widened"):
                            kind = "nullable-added" if c.value is None else "property-type-changed"
                        got.append(Cand(obj, kind, c.p_loc or loc))
                if got:
                    return fail(got)
                return fail(reason=sub.reason or f"property {n!r} at {x.loc}")
        # other names: the consumer's patterns and additionalProperties
        out = self._other_keys(g, x, names, idepth)
        if not out.ok:
            return out
        # propertyNames
        if "propertyNames" in kw:
            out = self._property_names(g, x, names, idepth)
            if not out.ok:
                return out
        # counts
        lo = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
        if kw.get("minProperties", 0) > lo:
            obj = self.build_object(g, {}, set(), idepth)
            if obj is not None and len(obj) < kw["minProperties"]:
                return fail([Cand(obj, "bound-relaxed", loc)])
            return fail(reason=f"minProperties at {x.loc}")
        if "maxProperties" in kw:
            hi = min((a.kw["maxProperties"] for a in g if "maxProperties" in a.kw), default=None)
            closed = self._closed_names(g)
            if closed is not None:
                n_allowed = sum(1 for n in closed if self.key_terms(g, n) is not None)
                hi = n_allowed if hi is None else min(hi, n_allowed)
            if hi is None or hi > kw["maxProperties"]:
                obj = self.build_object(g, {}, set(), idepth, min_count=kw["maxProperties"] + 1)
                if obj is not None:
                    return fail([Cand(obj, "bound-relaxed", loc)])
                return fail(reason=f"maxProperties at {x.loc}")
        return PROVED

    def _same_targets(self, a: Atom, b: Atom, refs: tuple[str, ...]) -> bool:
        """Whether `refs`, looked up from `a` and from `b`, reach the same schemas.

        For two strictly equal subschemas of `a`'s and `b`'s properties: without any
        identifier in either document, a subschema has its parent's base URI, so its
        references lead where the parent's would. Memoised: a contract's 30 properties
        of type `#/$defs/money` ask once.
        """
        if not (a.node.side.context_free and b.node.side.context_free):
            return False
        key = (a.node.key, b.node.key, refs)
        got = self._same_target_memo.get(key)
        if got is None:
            try:
                got = all(
                    same_schema(a.node.follow("$ref", r), b.node.follow("$ref", r), self.same_memo)
                    for r in refs
                )
            except Exception:  # not a reference the validator follows (e.g. inside an enum)
                got = False
            self._same_target_memo[key] = got
        return got

    def _possible_names(self, g: Sequence[Atom]) -> list[str] | None:
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
        return [n for n in possible if self._name_allowed(g, n)]

    def _name_allowed(self, g: Sequence[Atom], k: str) -> bool:
        """`key_terms(g, k) is not None`, without building the property's nodes when the
        atoms' plain `properties` / `additionalProperties` decide it."""
        for a in g:
            kw = a.kw
            if "propertyNames" in kw or "patternProperties" in kw:
                return self.key_terms(g, k) is not None
            sub = kw.get("properties", _MISSING)
            sub = sub.get(k, _MISSING) if isinstance(sub, dict) else _MISSING
            if sub is _MISSING:
                sub = kw.get("additionalProperties", True)
            if sub is False:
                return False
        return True

    def _forced(self, g: Sequence[Atom], req: list[str], name: str) -> bool:
        """Whether every Γ object has `name` though it is not required: all its possible
        names are needed to reach minProperties."""
        possible = self._possible_names(g)
        if possible is None or name not in possible:
            return False
        least = max([len(req), *(a.kw.get("minProperties", 0) for a in g)])
        return bool(least >= len(possible))

    def _closed_names(self, g: Sequence[Atom]) -> list[str] | None:
        """The only property names Γ allows, when some atom closes the object."""
        for a in g:
            if a.kw.get("additionalProperties") is False and not a.kw.get("patternProperties"):
                return list(a.kw.get("properties", {}))
        return None

    def _fresh_names(self, avoid: Iterable[str]) -> list[str]:
        avoid_set = set(avoid)
        return [
            n for n in ("extra", "x", "unexpected_field", "zz_extra", "0") if n not in avoid_set
        ]

    def _other_keys(self, g: list[Atom], x: Atom, names: list[str], idepth: int) -> Outcome:
        """Property names not named explicitly: the consumer's patterns and additionalProperties.

        Regions of names are compared only where they can overlap (decided with the regex
        automata in the ECMA-262 reading; when that is unknown, they are assumed to overlap).
        """
        kw = x.kw
        d_pats = list(kw.get("patternProperties", {}))
        d_add = kw.get("additionalProperties", True)
        if d_add is True and not d_pats:
            return PROVED
        if self._closed_names(g) is not None:
            return PROVED  # every possible name is explicit, already compared
        loc = _loc(g)
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
                if self._names_empty(t_must, t_not):
                    continue
                sub = self.goal(terms, [t], idepth + 1)
                if sub.ok:
                    continue
                name = self._find_name(g, names, t_must, t_not)
                if name is not None:
                    k_terms = self.key_terms(g, name)
                    if k_terms is not None:
                        vals = [c.value for c in sub.cands]
                        v0 = self.gen(k_terms, idepth)
                        if not isinstance(v0, _NoValue):
                            vals.append(v0)
                        for v in vals:
                            obj = self.build_object(g, {name: v}, set(), idepth)
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

    def _names_empty(self, must: list[str], must_not: list[str]) -> bool:
        """Whether no property name matches all of `must` and none of `must_not`."""
        if not must and not must_not:
            return False
        try:
            from teamrel.compat import regex as rx
        except ImportError:  # pragma: no cover
            return False
        try:
            got = rx.find_string(must, must_not, semantics="ecma", deadline=self._regex_deadline())
        except Exception:
            return False
        return got is None

    def _find_name(
        self, g: Sequence[Atom], names: list[str], must: list[str], must_not: list[str]
    ) -> str | None:
        """A property name outside `names`, matching every `must` and no `must_not` pattern."""
        cands: list[str] = []
        got = self._find_string(must, must_not, 1, 64) if (must or must_not) else None
        if got is not None:
            cands.append(got)
        cands.extend(self._fresh_names(names))
        for n in cands:
            if n in names:
                continue
            try:
                if not all(search(p, n) for p in must) or any(search(p, n) for p in must_not):
                    continue
            except Exception:
                continue
            if self.key_terms(g, n) is not None:
                return n
        return None

    def _property_names(self, g: list[Atom], x: Atom, names: list[str], idepth: int) -> Outcome:
        if any(a.kw.get("maxProperties") == 0 for a in g):
            return PROVED  # no property names at all
        pn = x.child("propertyNames")
        loc = _loc(g)
        closed = self._closed_names(g)
        if closed is not None:
            for n in closed:
                if self.key_terms(g, n) is None:
                    continue
                if not self.holds(pn, n):
                    v = self.gen(self.key_terms(g, n) or [], idepth)
                    if not isinstance(v, _NoValue):
                        obj = self.build_object(g, {n: v}, set(), idepth)
                        if obj is not None:
                            return fail([Cand(obj, "property-not-allowed", loc)])
                    return fail(reason=f"propertyNames at {x.loc}")
            return PROVED
        g_pn = [a.child("propertyNames") for a in g if "propertyNames" in a.kw]
        string = self.syn(x.node, ("string",), {"type": "string"})
        sub = self.goal([*g_pn, string], [pn], idepth + 1)
        if sub.ok:
            return PROVED
        for c in sub.cands:
            if isinstance(c.value, str):
                terms = self.key_terms(g, c.value)
                if terms is None:
                    continue
                v = self.gen(terms, idepth)
                if isinstance(v, _NoValue):
                    continue
                obj = self.build_object(g, {c.value: v}, set(), idepth)
                if obj is not None:
                    return fail([Cand(obj, "property-not-allowed", loc)])
        return fail(reason=sub.reason or f"propertyNames at {x.loc}")


def _quick_numbers(
    lo: Fraction | None, hi: Fraction | None, mults: list[int | float], loc: str | None
) -> Iterator[Cand]:
    """Obvious numbers near the bounds and 0, rounded up to the multiples, as candidates."""
    for base in (lo, hi, Fraction(0)):
        if base is None:
            continue
        for step in (Fraction(0), Fraction(1), Fraction(-1), Fraction(1, 2)):
            cand = base + step
            for m in mults:
                em = exact(m)
                cand = math.ceil(cand / em) * em
            v = _as_json_number(cand)
            if v is not None:
                yield Cand(v, "type-widened", loc)


def _num(x: float | int | Fraction) -> int | float:
    if isinstance(x, Fraction):
        if x.denominator == 1:
            return int(x)
        return float(x)
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**63:
        return int(x)
    return x


def _literal(text: str) -> str:
    """An ECMA-262 pattern matching exactly `text`."""
    return "^" + "".join("\\" + c if c in _SYNTAX else c for c in text) + "$"


def _lists_null(t: Any) -> bool:
    return t == "null" or (isinstance(t, list) and "null" in t)


def _as_json_number(x: Fraction) -> int | float | None:
    """x as a JSON number whose decimal text is exactly x, or None."""
    if x.denominator == 1:
        return int(x)
    try:
        f = float(x)
    except OverflowError:
        return None
    return f if math.isfinite(f) and exact(f) == x else None


def _loc(atoms: Sequence[Atom]) -> str | None:
    """The producer location of a goal: its first atom from the producer's document."""
    for a in atoms:
        if a.node.side.label == "producer":
            return a.loc
    return None


#: keys that make a subschema's meaning depend on where it sits (base URI, dynamic scope)
_CONTEXTUAL = frozenset(
    ("$id", "$dynamicRef", "$recursiveRef", "$dynamicAnchor", "$recursiveAnchor")
)


def _same_refs(a: Any, b: Any, legacy_id: bool) -> tuple[str, ...] | None:
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
        refs = _same_refs(a.raw, b.raw, dialect == "draft4")
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
