"""The prover's core: goals, co-inductive `$ref` handling, budgets and the dispatch by type.

A goal is a sequent Γ ⊢ Δ over schema terms: a value that satisfies every term of Γ
(producer) must satisfy some term of Δ (consumer). `ProofSearch.prove` decomposes boolean
structure the sequent-calculus way (allOf/$ref in Γ conjoin, anyOf/oneOf/if-then-else/
dependentSchemas in Γ branch, `not X` moves X to the other side, anyOf in Δ joins the
disjunction, conjunctions in Δ branch; the split of a node into these parts is
`decompose`), leaving *atoms* (a schema object's own assertion keywords). `atoms_case`
dispatches atoms type by type: null and boolean are decided here by enumeration, numbers in
`numbers`, strings in `strings`, objects in `objects`, arrays in `arrays`; when no single
consumer alternative covers Γ, `cases` splits Γ into cases. Child goals (a property, an item)
go through `goal`, which memoises them and holds co-inductive assumptions for recursive
`$ref`s (only once the instance has been descended into; a cycle that does not descend is
left unknown). Finite producers (const, enum) are decided exactly, value by value.

Decides: the boolean structure, identical schemas on both sides (`refs.same_schema`), finite
producers, null and boolean. Leaves unknown: nesting deeper than the budget's depth, a `$ref`
cycle that does not descend into the instance, anything a concern module leaves unknown;
the budget (steps, time) is ticked here and its exhaustion propagates to `api`.

Soundness discipline: a goal is "proved" only by a rule that holds under the reference
validator's semantics; where a keyword is approximated, the producer is only ever widened
and the consumer only ever narrowed, so proofs stay sound. A failed goal yields candidate
counterexamples (built where the proof failed); nothing here claims incompatibility: the
caller (`teamrel.compat.api`) verifies every candidate with the reference validator first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from teamrel.canonical import JSON
from teamrel.compat.evaluate import (
    ValidationUnavailable,
    enum_contains,
    equal,
    is_type,
    json_type,
    multiple_of,
    search,
    unique,
)
from teamrel.compat.prove import arrays, cases, decompose, numbers, objects, strings
from teamrel.compat.prove.refs import same_schema
from teamrel.compat.prove.terms import (
    PROVED,
    Atom,
    Cand,
    Choice,
    Conj,
    Outcome,
    Term,
    fail,
    goal_loc,
)
from teamrel.compat.readings import faithful_format, unfaithful_format_reason
from teamrel.compat.result import Budget
from teamrel.compat.schema import Node, Side, Unmodelled


def _lists_null(t: Any) -> bool:
    return t == "null" or (isinstance(t, list) and "null" in t)


class ProofSearch:
    """One run of the decision procedure for a producer/consumer pair.

    (Not to be confused with `teamrel.check.Prover`, which runs, dedupes and caches the
    checks of a whole `teamrel check`: each of them starts one `ProofSearch` per pair.)"""

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

    def holds(self, t: Term, v: JSON, *, tick: bool = True) -> bool:
        """Whether value `v` satisfies term `t` (reference semantics; atoms as approximated).

        One step, unless the caller counted it (`tick=False`: `finite` counts one step per
        candidate value, whatever the number of terms it is tested against)."""
        if tick:
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
        if "enum" in kw and not enum_contains(kw["enum"], v):
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
                    ps = decompose.parts(self, t, "g")
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
                    ps = decompose.parts(self, t, "d")
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
            return decompose.syn(self, a.node, ("absent-object", k), raw)
        if set(kw) == {"required", "type"} and kw["type"] in ("object", ["object"]):
            return decompose.syn(self, a.node, ("absent", k), {"properties": {k: False}})
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
            self.budget.tick()
            if not all(self.holds(t, v, tick=False) for t in g_terms):
                continue
            if not all(n.side.is_valid(n, v) for n in g_nodes):
                continue
            if any(self.holds(t, v, tick=False) for t in d_terms):
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
                out = numbers.number_case(self, g, dt, int_only)
            elif t == "string":
                out = strings.string_case(self, g, dt)
            elif t == "object":
                out = objects.object_case(self, g, dt, idepth)
            else:
                out = arrays.array_case(self, g, dt, idepth)
            if not out.ok and not out.cands and len(dt) >= 2 and t in ("string", "object", "array"):
                # no single consumer alternative covers Γ: maybe they do jointly
                split = cases.split(self, g, dt, t, idepth)
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
        cands = [Cand(v, kind, goal_loc(g)) for v in values]
        got = self._filter(g, d, cands, exhaustive=True)
        return fail(got) if got else PROVED
