"""The prover's vocabulary: outcomes (`Outcome`, `Cand`, `fail`) and terms (`Atom`, `Choice`,
`Conj`, `Parts`, nodes), shared by every other module of the package.

Decides nothing: an `Atom` is a schema object's assertion keywords (its combinators
removed), a `Choice` a disjunctive part, a `Conj` a conjunction in Δ; `Outcome` is "proved"
or "failed" with unverified candidate counterexamples and/or the reason it is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from teamrel.canonical import JSON
from teamrel.compat.evaluate import types_of
from teamrel.compat.schema import Node

#: ECMA-262 syntax characters (escaped with a backslash to match literally)
SYNTAX = frozenset("^$\\.*+?()[]{}|/")


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


MISSING: Any = object()


class NoValue:
    """Marker: no value could be generated."""


NOVALUE = NoValue()


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


def goal_loc(atoms: Sequence[Atom]) -> str | None:
    """The producer location of a goal: its first atom from the producer's document."""
    for a in atoms:
        if a.node.side.label == "producer":
            return a.loc
    return None
