"""Shortest-witness search over the product of several search DFAs.

Owns the breadth-first search behind `find_string`: the components' class partitions are
refined into common atoms (one representative character each, the most readable one), and the
product state space is explored in shortlex order, so the first string found is a shortest one
made of the most readable characters. Several *goals* can be checked in the same pass (a goal
names the components that must accept and those that must not): the first goal is the one a
witness is returned for; the others are only reported as reachable or not.
"""

from __future__ import annotations

import bisect
import functools
import operator
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from teamrel.compat.regex._automaton import ACCEPT, DEAD, Automaton

#: Readability order of witness characters: lowercase, digits, uppercase, then punctuation.
_PREFERRED = (
    "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "_-.@:/+ ,;=#%&*!?~'\"$()[]{}<>|^`\\"
)
_PREF_RANK = {ord(c): i for i, c in enumerate(_PREFERRED)}
_PREFERRED_CPS = [ord(c) for c in _PREFERRED]


class BudgetExceeded(Exception):
    """The search explored more states, or did more work, than allowed."""


@dataclass(frozen=True, slots=True)
class Goal:
    """Components that must accept and components that must not."""

    must: tuple[int, ...]
    must_not: tuple[int, ...]


def _rank(cp: int) -> int:
    r = _PREF_RANK.get(cp)
    if r is not None:
        return r
    if cp in (0x09, 0x0A, 0x0D):
        return 200 + cp
    if cp < 0x20 or 0x7F <= cp < 0xA0:
        return 100_000 + cp
    if cp < 0x100:
        return 400 + cp
    if 0xD800 <= cp <= 0xDFFF or (0xFDD0 <= cp <= 0xFDEF) or (cp & 0xFFFE) == 0xFFFE:
        return 10_000_000 + cp
    return 1000 + cp


def _best_in(lo: int, hi: int) -> int:
    """The most readable code point in [lo, hi] among non-preferred candidates."""
    best = lo
    for cand in (lo, 0x20, 0xA1, 0x100, 0xE000, 0x10000, hi):
        if lo <= cand <= hi and _rank(cand) < _rank(best):
            best = cand
    if 0xD800 <= best <= 0xDFFF and hi > 0xDFFF:
        best = max(lo, 0xE000)
    return best


def atoms(comps: tuple[Automaton, ...]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Common refinement of the components' partitions: (representative, class per comp)."""
    points: set[int] = {0}
    for a in comps:
        points.update(a.bounds)
    starts = sorted(points)
    columns = []
    for a in comps:
        bc = a.bound_class
        idx = map(functools.partial(bisect.bisect_right, a.bounds), starts)
        columns.append([bc[i - 1] for i in idx])
    sig_at: list[tuple[int, ...]] = (
        list(zip(*columns, strict=True)) if comps else [()] * len(starts)
    )
    best: dict[tuple[int, ...], tuple[int, int]] = {}  # sig -> (rank, code point)
    # preferred characters first: they are ASCII, and any of them beats any other character
    for cp in _PREFERRED_CPS:
        sig = sig_at[bisect.bisect_right(starts, cp) - 1]
        if sig not in best:
            best[sig] = (_PREF_RANK[cp], cp)
    ends = [*starts[1:], 0x110000]
    for lo, end, sig in zip(starts, ends, sig_at, strict=True):
        old = best.get(sig)
        if old is not None and old[0] < len(_PREFERRED):
            continue
        cand = _best_in(lo, end - 1)
        rank = _rank(cand)
        if old is None or rank < old[0]:
            best[sig] = (rank, cand)
    ordered = sorted(best.items(), key=lambda kv: kv[1])
    return tuple((chr(cp), sig) for sig, (_, cp) in ordered)


class _Product:
    """Per combination of automata: the common atoms and each component's row per DFA state.

    A row lists a component's next state for every atom; rows survive between searches (the
    DFAs are cached too) until an automaton is re-determinized.
    """

    def __init__(self, comps: tuple[Automaton, ...]) -> None:
        self.comps = comps
        self.atom_list = atoms(comps)
        self.atom_cls = [[cls[i] for _, cls in self.atom_list] for i in range(len(comps))]
        self.generations = tuple(a.generation for a in comps)
        self.rows: list[dict[int, list[int]]] = [{} for _ in comps]

    def fresh(self) -> _Product:
        if self.generations != tuple(a.generation for a in self.comps):
            self.generations = tuple(a.generation for a in self.comps)
            self.rows = [{} for _ in self.comps]
        return self


@functools.lru_cache(maxsize=1024)
def _product(comps: tuple[Automaton, ...]) -> _Product:
    return _Product(comps)


def _alive_test(g: Goal) -> Callable[[tuple[int, ...]], bool]:
    """A fast test: no required component dead and no forbidden one accepted."""
    # itemgetter with two or more indices always returns a tuple
    must = operator.itemgetter(*g.must, g.must[0]) if g.must else None
    must_not = operator.itemgetter(*g.must_not, g.must_not[0]) if g.must_not else None

    def test(st: tuple[int, ...]) -> bool:
        return not (must is not None and DEAD in must(st)) and not (
            must_not is not None and ACCEPT in must_not(st)
        )

    return test


Layer = dict[tuple[int, ...], tuple[tuple[int, ...], int] | None]


class _Layers:
    """The BFS layers by string length, with the periodic part below min_length folded.

    Below min_length a layer is the set of product states reachable by strings of exactly that
    length (with one parent per state). The sequence of these sets is eventually periodic; once
    layer `last` repeats layer `first`, layer k > last is layer first + (k - first) mod period
    (`last` standing for remainder 0, since its parents point into layer last - 1).
    """

    def __init__(self, start: tuple[int, ...]) -> None:
        self.fixed: list[Layer] = [{start: None}]
        self.cycle: tuple[int, int] | None = None
        self.tail_from = -1  # absolute length of tail[0]
        self.tail: list[Layer] = []

    def at(self, k: int) -> Layer:
        if self.tail and k >= self.tail_from:
            return self.tail[k - self.tail_from]
        if self.cycle is None or k < len(self.fixed):
            return self.fixed[k]
        first, last = self.cycle
        r = (k - first) % (last - first)
        return self.fixed[last if r == 0 else first + r]

    def path(self, k: int, st: tuple[int, ...], atom_list: Sequence[tuple[str, object]]) -> str:
        """The characters leading to state `st` at length k, walking parents back."""
        if k > MAX_WITNESS_LENGTH:
            raise BudgetExceeded(f"the witness would be longer than {MAX_WITNESS_LENGTH}")
        rev: list[str] = []
        seen: dict[tuple[int, tuple[int, ...]], tuple[int, int]] | None = {}
        while k > 0:
            layer = self.at(k)
            if seen is not None and self.cycle is not None and k >= len(self.fixed):
                # in the folded part the walk itself becomes periodic: repeat it wholesale
                key = (id(layer), st)
                if key in seen:
                    prev_pos, prev_k = seen[key]
                    chunk = rev[prev_pos:]
                    period = prev_k - k
                    times = (k - len(self.fixed)) // period
                    rev.extend(chunk * times)
                    k -= times * period
                    seen = None
                    continue
                seen[key] = (len(rev), k)
            entry = layer[st]
            assert entry is not None
            st, ai = entry
            rev.append(atom_list[ai][0])
            k -= 1
        return "".join(reversed(rev))


#: Fold the periodic layers below min_length once that saves more than this many expansions.
#: A folded walk keeps the witness shortest and valid, but not always the shortlex-first
#: one: for a small min_length the plain search is cheap and gives the nicer witness.
FOLD_MIN_SAVING = 4096

#: Longest witness built (a longer one is of no use to anyone).
MAX_WITNESS_LENGTH = 1_000_000


def search(
    comps: Sequence[Automaton],
    goals: Sequence[Goal],
    *,
    min_length: int,
    max_length: int | None,
    budget_states: int,
    deadline: float | None,
    on_work: Callable[[int], None] | None = None,
) -> tuple[str | None, str | None]:
    """(shortest string reaching goals[0], or None; a string reaching another goal, or None).

    The second string is only looked for while no string reaches goals[0]. `on_work` is told
    the candidates examined for each product state expanded (a count that depends only on
    the patterns, never on the machine or on what earlier searches cached): the prover's
    step budget.
    """
    # must components first, so "some must is dead / some must-not accepted" is two C-level
    # `in` tests on tuple slices
    must_set = sorted({i for g in goals for i in g.must})
    not_set = sorted({j for g in goals for j in g.must_not})
    if set(must_set) & set(not_set):
        raise ValueError("a component cannot be both required and forbidden")
    order = must_set + not_set
    where = {old: new for new, old in enumerate(order)}
    comps = tuple(comps[i] for i in order)
    goals = [
        Goal(tuple(where[i] for i in g.must), tuple(where[j] for j in g.must_not)) for g in goals
    ]
    n, m = len(comps), len(must_set)
    product = _product(comps).fresh()
    atom_list = product.atom_list
    atom_cls = product.atom_cls
    rows = product.rows
    work_limit = budget_states * 64
    base_work = sum(a.work for a in comps)
    base_size = sum(a.size for a in comps)
    primary, others = goals[0], goals[1:]
    other: tuple[int, tuple[int, ...]] | None = None
    count = 1

    other_tests = [_alive_test(g) for g in others]

    def alive_other(st: tuple[int, ...]) -> bool:
        return any(t(st) for t in other_tests)

    def reached(st: tuple[int, ...], g: Goal) -> bool:
        return all(comps[i].accepts_at_end(st[i]) for i in g.must) and not any(
            comps[j].accepts_at_end(st[j]) for j in g.must_not
        )

    def row(i: int, sid: int) -> list[int]:
        r = rows[i].get(sid)
        if r is None:
            step = comps[i].step
            r = rows[i][sid] = [step(sid, k) for k in atom_cls[i]]
        return r

    def check_budget() -> None:
        if count + sum(a.size for a in comps) - base_size > budget_states:
            raise BudgetExceeded(f"more than {budget_states} automaton states")
        if sum(a.work for a in comps) - base_work > work_limit:
            raise BudgetExceeded("regex search work budget exhausted")
        if deadline is not None and time.monotonic() > deadline:
            raise BudgetExceeded("regex search deadline passed")

    empty_rows = [()] * len(atom_list)
    n_atoms = max(1, len(atom_list))
    all_dead = (DEAD,) * m if all(g.must for g in goals) else None
    all_accept = (ACCEPT,) * (n - m) if all(g.must_not for g in goals) else None

    def expand(layer: Layer, settled: set[tuple[int, ...]] | None) -> Layer:
        nonlocal count
        nxt: Layer = {}
        for done, st in enumerate(layer):
            if on_work is not None:
                on_work(n_atoms)
            cands = zip(*[row(i, s) for i, s in enumerate(st)], strict=True) if n else empty_rows
            for ai, new in enumerate(cands):
                if new in nxt:
                    continue
                if (DEAD in new[:m] or ACCEPT in new[m:]) and (
                    # every goal needs one of each kind of component: all dead is dead for all
                    not others
                    or new[:m] == all_dead
                    or new[m:] == all_accept
                    or not alive_other(new)
                ):
                    continue
                if settled is not None:
                    if new in settled:
                        continue
                    settled.add(new)
                nxt[new] = (st, ai)
                count += 1
            if done & 15 == 15 or count > budget_states:
                check_budget()
        check_budget()
        return nxt

    start = tuple(a.start for a in comps)
    layers = _Layers(start)
    # phase 1: exact-length layers up to min_length, folding their periodic part
    seen_sets: dict[frozenset[tuple[int, ...]], int] = {frozenset([start]): 0}
    length = 0
    while length < min_length:
        layer = expand(layers.fixed[-1], None)
        if not layer:
            return None, None
        layers.fixed.append(layer)
        length += 1
        key = frozenset(layer)
        if key in seen_sets and (min_length - length) * len(layer) > FOLD_MIN_SAVING:
            layers.cycle = (seen_sets[key], length)
            break
        seen_sets.setdefault(key, length)
    # phase 2: from min_length on, one visit per product state
    layer = layers.at(min_length)
    layers.tail_from = min_length
    layers.tail = [layer]
    settled = set(layer)
    length = min_length
    while layer:
        for st in layer:
            if reached(st, primary):
                return layers.path(length, st, atom_list), None
            if other is None and any(reached(st, g) for g in others):
                other = (length, st)
        if max_length is not None and length >= max_length:
            break
        layer = expand(layer, settled)
        layers.tail.append(layer)
        length += 1
    if other is None:
        return None, None
    try:
        return None, layers.path(other[0], other[1], atom_list)
    except BudgetExceeded:
        return None, "(a very long string)"
