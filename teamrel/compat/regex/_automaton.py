"""Regex syntax trees as automata: a Thompson NFA and its lazily determinized search DFA.

Owns the matching semantics. A pattern is compiled for one flavor (ECMA-262 or Python `re`,
which differ on `.`, `\\d \\w \\s`, `\\b \\B` and `$`) into an NFA over a partition of the code
points into classes, with zero-width assertions on epsilon edges. The DFA runs *search*
semantics (the pattern may match anywhere): the NFA start is re-entered at every position,
and once a match is complete the DFA moves to an absorbing ACCEPT state.

Assertions need one character of context on each side, so a DFA state is the set of NFA
configurations *before* closure plus the previous character's kind (start of input, word,
other); the closure is taken when the next character (or the end of input) is known. Python's
`$` also matches before a final "\\n": that two-character lookahead is an obligation carried by
a configuration ("the next character is the final one"). Patterns with lookaheads use
`LookAutomaton`, whose configurations also carry the lookahead bodies still being run.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from teamrel.compat.regex._charset import (
    NEWLINE,
    CharSet,
    Flavor,
    class_set,
    negate,
    normalize,
    word_set,
)
from teamrel.compat.regex._syntax import (
    BOL,
    EOL,
    NWB,
    WB,
    Alt,
    Assert,
    Chars,
    Look,
    Node,
    Repeat,
    Seq,
    Unmodelled,
)

#: Largest NFA compiled; a bigger one (huge counted repetitions) is over budget.
MAX_NFA_STATES = 50_000

#: Previous-character context of a DFA state.
CTX_START, CTX_OTHER, CTX_WORD = 0, 1, 2

#: Obligations of a configuration: none, "at the end or before a final newline" (Python `$`
#: seen with "\n" next), "at the end" (that newline consumed).
OB_NONE, OB_NL_END, OB_END = 0, 1, 2

#: DFA states every automaton has: the match is complete / can never complete.
ACCEPT, DEAD = 0, 1

#: Epsilon-edge kinds from LOOK_BASE up are lookaheads (LOOK_BASE + index into Nfa.looks),
#: from BEHIND_BASE up lookbehinds (BEHIND_BASE + index into Nfa.behinds).
LOOK_BASE = 8
BEHIND_BASE = 1 << 20


class TooLarge(Exception):
    """The automaton would exceed MAX_NFA_STATES."""


def resolve(chars: Chars, flavor: Flavor) -> CharSet:
    """The code points a Chars node matches under a flavor."""
    parts: list[tuple[int, int]] = []
    for it in chars.items:
        if isinstance(it, str):
            parts.extend(class_set(it, flavor))
        else:
            parts.append(it)
    s = normalize(parts)
    if chars.negated:
        s = negate(s)
    return s


def nfa_size(node: Node, limit: int) -> int:
    """An upper bound of the NFA states `node` compiles to; raises TooLarge past `limit`."""
    if isinstance(node, Chars | Assert | Unmodelled):
        return 2
    if isinstance(node, Look):
        return 2 + nfa_size(node.child, limit)
    if isinstance(node, Seq):
        total = 2
        for p in node.parts:
            total += nfa_size(p, limit)
            if total > limit:
                raise TooLarge
        return total
    if isinstance(node, Alt):
        total = 2
        for p in node.options:
            total += nfa_size(p, limit)
            if total > limit:
                raise TooLarge
        return total
    assert isinstance(node, Repeat)
    child = nfa_size(node.child, limit)
    copies = node.lo + (1 if node.hi is None else node.hi - node.lo)
    total = 2 + child * max(copies, 1)
    if total > limit:
        raise TooLarge
    return total


class Nfa:
    """A Thompson NFA with one start and one final state."""

    def __init__(self, node: Node, flavor: Flavor) -> None:
        nfa_size(node, MAX_NFA_STATES)
        self.flavor: Flavor = flavor
        self.eps: list[list[tuple[int, int]]] = []
        self.edges: list[list[tuple[CharSet, int]]] = []
        self.uses: set[int] = set()
        #: lookaheads and lookbehinds: (body start, body final, negative?)
        self.looks: list[tuple[int, int, bool]] = []
        self.behinds: list[tuple[int, int, bool]] = []
        self._cache: dict[Chars, CharSet] = {}
        self.start, self.final = self._build(node)

    def _new(self) -> int:
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def _build(self, node: Node) -> tuple[int, int]:
        if isinstance(node, Chars):
            s, e = self._new(), self._new()
            cs = self._cache.get(node)
            if cs is None:
                cs = self._cache[node] = resolve(node, self.flavor)
            if cs:
                self.edges[s].append((cs, e))
            return s, e
        if isinstance(node, Assert):
            s, e = self._new(), self._new()
            self.uses.add(node.kind)
            self.eps[s].append((e, node.kind))
            return s, e
        if isinstance(node, Look):
            s, e = self._new(), self._new()
            body_start, body_final = self._build(node.child)
            table = self.behinds if node.behind else self.looks
            base = BEHIND_BASE if node.behind else LOOK_BASE
            self.eps[s].append((e, base + len(table)))
            table.append((body_start, body_final, node.negative))
            return s, e
        if isinstance(node, Seq):
            if not node.parts:
                s = self._new()
                return s, s
            first, last = self._build(node.parts[0])
            for p in node.parts[1:]:
                s, e = self._build(p)
                self.eps[last].append((s, 0))
                last = e
            return first, last
        if isinstance(node, Alt):
            s, e = self._new(), self._new()
            for p in node.options:
                ps, pe = self._build(p)
                self.eps[s].append((ps, 0))
                self.eps[pe].append((e, 0))
            return s, e
        if isinstance(node, Repeat):
            s = self._new()
            last = s
            for _ in range(node.lo):
                bs, be = self._build(node.child)
                self.eps[last].append((bs, 0))
                last = be
            if node.hi is None:
                # a loop: last -> child -> back to last
                bs, be = self._build(node.child)
                self.eps[last].append((bs, 0))
                self.eps[be].append((last, 0))
                return s, last
            e = self._new()
            for _ in range(node.hi - node.lo):
                self.eps[last].append((e, 0))
                bs, be = self._build(node.child)
                self.eps[last].append((bs, 0))
                last = be
            self.eps[last].append((e, 0))
            return s, e
        raise AssertionError(f"unmodelled node {node!r}")  # callers reject Unmodelled first


class Automaton:
    """The search DFA of one pattern under one flavor, determinized lazily and cached."""

    def __init__(self, nfa: Nfa) -> None:
        self.flavor = nfa.flavor
        python = self.flavor == "python"
        self.python_eol = python and EOL in nfa.uses
        self.needs_word = WB in nfa.uses or NWB in nfa.uses
        self.needs_start = BOL in nfa.uses or (python and NWB in nfa.uses)
        # -- partition the code points into classes every edge label is a union of
        labels: list[CharSet] = []
        label_index: dict[CharSet, int] = {}
        for edges in nfa.edges:
            for cs, _ in edges:
                if cs not in label_index:
                    label_index[cs] = len(labels)
                    labels.append(cs)
        extra: list[CharSet] = []
        if self.needs_word:
            extra.append(word_set(self.flavor))
        if self.python_eol:
            extra.append(((NEWLINE, NEWLINE),))
        all_sets = labels + extra
        points = {0}
        for cs in all_sets:
            for lo, hi in cs:
                points.add(lo)
                points.add(hi + 1)
        starts = sorted(p for p in points if p <= 0x10FFFF)
        sigs = [0] * len(starts)
        for idx, cs in enumerate(all_sets):
            bit = 1 << idx
            for lo, hi in cs:
                a = bisect.bisect_left(starts, lo)
                b = bisect.bisect_left(starts, hi + 1)
                for k in range(a, b):
                    sigs[k] |= bit
        class_of_sig: dict[int, int] = {}
        self.bounds: list[int] = []
        self.bound_class: list[int] = []
        for p, sig in zip(starts, sigs, strict=True):
            k = class_of_sig.setdefault(sig, len(class_of_sig))
            if not self.bound_class or self.bound_class[-1] != k:
                self.bounds.append(p)
                self.bound_class.append(k)
        self.nclasses = len(class_of_sig)
        sig_of_class = [0] * self.nclasses
        for sig, k in class_of_sig.items():
            sig_of_class[k] = sig
        word_bit = 1 << len(labels) if self.needs_word else 0
        nl_bit = 1 << (len(labels) + (1 if self.needs_word else 0)) if self.python_eol else 0
        self.is_word = [bool(sig & word_bit) for sig in sig_of_class]
        self.is_nl = [bool(sig & nl_bit) for sig in sig_of_class]
        self.kind = [2 * w + nl for w, nl in zip(self.is_word, self.is_nl, strict=True)]
        label_mask = []
        for idx in range(len(labels)):
            mask = 0
            for k, sig in enumerate(sig_of_class):
                if sig >> idx & 1:
                    mask |= 1 << k
            label_mask.append(mask)
        self.trans_nfa: list[tuple[tuple[int, int], ...]] = [
            tuple((label_mask[label_index[cs]], t) for cs, t in edges) for edges in nfa.edges
        ]
        self.eps = [tuple(e) for e in nfa.eps]
        self.nfa_start = nfa.start
        self.nfa_final = nfa.final
        #: closure work done, read by the search to enforce its budget
        self.work = 0
        #: bumped by reset(): state ids from before are meaningless after
        self.generation = 0
        self.restartable = {
            ctx: self._restartable(ctx)
            for ctx in ((CTX_OTHER, CTX_WORD) if self.needs_word else (CTX_OTHER,))
        }
        self.reset()

    def reset(self) -> None:
        """Drop the determinized states (memory bound on long-lived caches)."""
        self.generation += 1
        self.states: list[tuple[frozenset[Any], Any]] = [(frozenset(), -1), (frozenset(), -2)]
        self.index: dict[tuple[frozenset[Any], Any], int] = {}
        self.delta: dict[int, int] = {}
        self.closures: dict[int, tuple[Any, ...]] = {}
        self.accept_end: dict[int, bool] = {ACCEPT: True, DEAD: False}
        self.start = self._intern(frozenset(), self._start_ctx())

    def _start_ctx(self) -> Any:
        return CTX_START if self.needs_start else CTX_OTHER

    @property
    def size(self) -> int:
        """Number of DFA states determinized so far."""
        return len(self.states)

    def class_of(self, cp: int) -> int:
        """The class id of a code point."""
        return self.bound_class[bisect.bisect_right(self.bounds, cp) - 1]

    # -- closure and steps ---------------------------------------------------------------
    def _closure(self, kernel: frozenset[Any], ctx: Any, k: int | None) -> set[Any]:
        """Configurations (state, obligation) reachable without input, next class k (None=end)."""
        initial = [(self.nfa_start, OB_NONE)]
        initial.extend((c >> 2, c & 3) for c in kernel)
        return self._close(initial, ctx, k)

    def _close(
        self, initial: Iterable[tuple[int, int]], ctx: int, k: int | None
    ) -> set[tuple[int, int]]:
        at_end = k is None
        nl = k is not None and self.is_nl[k]
        next_word = k is not None and self.is_word[k]
        prev_word = ctx == CTX_WORD
        python = self.flavor == "python"
        stack: list[tuple[int, int]] = list(initial)
        seen: set[tuple[int, int]] = set()
        eps = self.eps
        while stack:
            conf = stack.pop()
            q, ob = conf
            if conf in seen or (ob == OB_END and not at_end):
                continue
            seen.add(conf)
            for t, a in eps[q]:
                if a == 0:
                    stack.append((t, ob))
                elif a == BOL:
                    if ctx == CTX_START:
                        stack.append((t, ob))
                elif a == EOL:
                    if at_end:
                        stack.append((t, ob))
                    elif python and nl:
                        stack.append((t, max(ob, OB_NL_END)))
                elif a == WB:
                    if prev_word != next_word:
                        stack.append((t, ob))
                elif a == NWB:
                    # Python's \B never matches the empty string
                    if prev_word == next_word and not (python and ctx == CTX_START and at_end):
                        stack.append((t, ob))
                else:
                    raise AssertionError("a lookahead inside a lookahead")  # parser refuses
        self.work += len(seen) + 1
        return seen

    def _intern(self, kernel: frozenset[Any], ctx: Any) -> int:
        key = (kernel, ctx)
        sid = self.index.get(key)
        if sid is None:
            if not kernel and ctx != CTX_START and not any(self.restartable.values()):
                return DEAD
            sid = len(self.states)
            self.states.append(key)
            self.index[key] = sid
        return sid

    def _restartable(self, ctx: int) -> bool:
        # Can a match still start at a later position (not the start of input)?
        for k in [None, *range(self.nclasses)]:
            for q, _ in self._closure(frozenset(), ctx, k):
                if q == self.nfa_final or self.trans_nfa[q]:
                    return True
        return False

    def step(self, sid: int, k: int) -> int:
        """The DFA state after reading a character of class k."""
        if sid <= DEAD:
            return sid
        key = sid * self.nclasses + k
        nxt = self.delta.get(key)
        if nxt is not None:
            return nxt
        # the closure depends on the next character only through its kind (word? newline?)
        ckey = sid * 4 + self.kind[k]
        closure = self.closures.get(ckey)
        if closure is None:
            kernel, ctx = self.states[sid]
            closure = self.closures[ckey] = tuple(self._closure(kernel, ctx, k))
        moved = self._move(closure, k)
        if moved is None:
            nxt = ACCEPT
        else:
            nctx = CTX_WORD if self.needs_word and self.is_word[k] else CTX_OTHER
            nxt = self._intern(moved, nctx)
        self.delta[key] = nxt
        return nxt

    def _move(self, closure: tuple[Any, ...], k: int) -> frozenset[Any] | None:
        """The next kernel after reading class k from a closure; None once a match completed."""
        new: set[int] = set()
        final = self.nfa_final
        for q, ob in closure:
            if q == final:
                if ob == OB_NONE:
                    return None
                new.add(final << 2 | OB_END)  # Python `$` before this final "\n"
                continue
            nob = OB_END if ob == OB_NL_END else OB_NONE
            for mask, t in self.trans_nfa[q]:
                if mask >> k & 1:
                    new.add(t << 2 | nob)
        return frozenset(new)

    def _matched_at_end(self, closure: set[Any]) -> bool:
        return any(c[0] == self.nfa_final for c in closure)

    def accepts_at_end(self, sid: int) -> bool:
        """Whether the input read so far, ending here, matches."""
        r = self.accept_end.get(sid)
        if r is None:
            kernel, ctx = self.states[sid]
            r = self._matched_at_end(self._closure(kernel, ctx, None))
            self.accept_end[sid] = r
        return r

    def matches(self, text: str) -> bool:
        """Search semantics: does the pattern match anywhere in `text`?"""
        sid = self.start
        for ch in text:
            sid = self.step(sid, self.class_of(ord(ch)))
            if sid == ACCEPT:
                return True
            if sid == DEAD:
                return False
        return self.accepts_at_end(sid)


#: An obligation of a lookahead: (index into Nfa.looks, body configurations q << 2 | ob).
Obligation = tuple[int, frozenset[int]]
_NO_OBLIGATIONS: frozenset[Obligation] = frozenset()


class LookAutomaton(Automaton):
    """A search DFA for patterns with lookarounds.

    Lookahead: a configuration also carries the lookaheads still pending, each the set of its
    body's NFA configurations (a positive lookahead holds once its body reaches its final
    state, and fails when the set empties; a negative one the other way round). Kernel entries
    are (state << 2 | obligation, frozenset of lookahead obligations).

    Lookbehind: the DFA state also runs each lookbehind body in search mode (started at every
    position), so at any position "some suffix of the input so far matches the body" is known.
    A DFA state's context is (previous-character context, one body kernel per lookbehind).
    """

    def __init__(self, nfa: Nfa) -> None:
        self.looks = list(nfa.looks)
        self.behinds = list(nfa.behinds)
        super().__init__(nfa)

    def _start_ctx(self) -> Any:
        return (super()._start_ctx(), tuple(frozenset[int]() for _ in self.behinds))

    def _behind_closures(
        self, trackers: tuple[frozenset[int], ...], ctx: int, k: int | None
    ) -> tuple[set[tuple[int, int]], ...]:
        return tuple(
            self._close([(start, OB_NONE), *((c >> 2, c & 3) for c in kern)], ctx, k)
            for (start, _, _), kern in zip(self.behinds, trackers, strict=True)
        )

    def step(self, sid: int, k: int) -> int:
        if sid <= DEAD:
            return sid
        key = sid * self.nclasses + k
        nxt = self.delta.get(key)
        if nxt is not None:
            return nxt
        kernel, (ctx, trackers) = self.states[sid]
        ckey = sid * 4 + self.kind[k]
        cached = self.closures.get(ckey)
        if cached is None:
            behind = self._behind_closures(trackers, ctx, k)
            cached = self.closures[ckey] = (
                tuple(self._main_closure(kernel, ctx, k, behind)),
                behind,
            )
        closure, behind = cached
        moved = self._move(closure, k)
        if moved is None:
            nxt = ACCEPT
        else:
            new_trackers = tuple(
                frozenset(t << 2 for q, _ in body for mask, t in self.trans_nfa[q] if mask >> k & 1)
                for body in behind
            )
            nctx = CTX_WORD if self.needs_word and self.is_word[k] else CTX_OTHER
            nxt = self._intern(moved, (nctx, new_trackers))
        self.delta[key] = nxt
        return nxt

    def _restartable(self, ctx: int) -> bool:
        return True  # conservative: the empty kernel is never declared dead

    def _judge(self, look: int, body: set[tuple[int, int]], at_end: bool) -> frozenset[int] | None:
        """A lookahead's body closure: None (fails), empty (holds), or configurations to follow."""
        _, final, negative = self.looks[look]
        holds = (final, OB_NONE) in body or (at_end and any(q == final for q, _ in body))
        if holds:
            return None if negative else frozenset()
        if at_end or not body:
            return frozenset() if negative else None
        return frozenset(q << 2 | ob for q, ob in body)

    def _closure(self, kernel: frozenset[Any], ctx: Any, k: int | None) -> set[Any]:
        ctx_kind, trackers = ctx
        return self._main_closure(kernel, ctx_kind, k, self._behind_closures(trackers, ctx_kind, k))

    def _main_closure(
        self,
        kernel: frozenset[Any],
        ctx: int,
        k: int | None,
        behind: tuple[set[tuple[int, int]], ...],
    ) -> set[Any]:
        at_end = k is None
        nl = k is not None and self.is_nl[k]
        next_word = k is not None and self.is_word[k]
        prev_word = ctx == CTX_WORD
        python = self.flavor == "python"
        stack: list[tuple[int, int, frozenset[Obligation]]] = [
            (self.nfa_start, OB_NONE, _NO_OBLIGATIONS)
        ]
        for qob, pending in kernel:
            kept: set[Obligation] = set()
            for look, configs in pending:
                body = self._close([(c >> 2, c & 3) for c in configs], ctx, k)
                verdict = self._judge(look, body, at_end)
                if verdict is None:
                    break
                if verdict:
                    kept.add((look, verdict))
            else:
                stack.append((qob >> 2, qob & 3, frozenset(kept)))
        seen: set[tuple[int, int, frozenset[Obligation]]] = set()
        eps = self.eps
        while stack:
            conf = stack.pop()
            q, ob, obl = conf
            if conf in seen or (ob == OB_END and not at_end):
                continue
            seen.add(conf)
            for t, a in eps[q]:
                if a == 0:
                    stack.append((t, ob, obl))
                elif a == BOL:
                    if ctx == CTX_START:
                        stack.append((t, ob, obl))
                elif a == EOL:
                    if at_end:
                        stack.append((t, ob, obl))
                    elif python and nl:
                        stack.append((t, max(ob, OB_NL_END), obl))
                elif a == WB:
                    if prev_word != next_word:
                        stack.append((t, ob, obl))
                elif a == NWB:
                    if prev_word == next_word and not (python and ctx == CTX_START and at_end):
                        stack.append((t, ob, obl))
                elif a >= BEHIND_BASE:
                    _, final, negative = self.behinds[a - BEHIND_BASE]
                    if ((final, OB_NONE) in behind[a - BEHIND_BASE]) != negative:
                        stack.append((t, ob, obl))
                else:
                    look = a - LOOK_BASE
                    body = self._close([(self.looks[look][0], OB_NONE)], ctx, k)
                    verdict = self._judge(look, body, at_end)
                    if verdict is not None:
                        stack.append((t, ob, obl | {(look, verdict)} if verdict else obl))
        self.work += len(seen) + 1
        return seen

    def _move_obligations(
        self, pending: frozenset[Obligation], k: int
    ) -> frozenset[Obligation] | None:
        out: set[Obligation] = set()
        for look, configs in pending:
            final, negative = self.looks[look][1], self.looks[look][2]
            moved: set[int] = set()
            for c in configs:
                q, ob = c >> 2, c & 3
                if q == final:
                    if ob == OB_NL_END:  # Python `$` in the body before this final "\n"
                        moved.add(final << 2 | OB_END)
                    continue
                nob = OB_END if ob == OB_NL_END else OB_NONE
                for mask, t in self.trans_nfa[q]:
                    if mask >> k & 1:
                        moved.add(t << 2 | nob)
            if moved:
                out.add((look, frozenset(moved)))
            elif not negative:
                return None
        return frozenset(out)

    def _move(self, closure: tuple[Any, ...], k: int) -> frozenset[Any] | None:
        new: set[tuple[int, frozenset[Obligation]]] = set()
        final = self.nfa_final
        for q, ob, obl in closure:
            if q == final and ob == OB_NONE and not obl:
                return None
        for q, ob, obl in closure:
            moved = self._move_obligations(obl, k) if obl else obl
            if moved is None:
                continue
            if q == final:
                # complete but waiting: on the lookaheads, or on Python's `$` before "\n"
                new.add((final << 2 | (OB_END if ob == OB_NL_END else OB_NONE), moved))
                continue
            nob = OB_END if ob == OB_NL_END else OB_NONE
            for mask, t in self.trans_nfa[q]:
                if mask >> k & 1:
                    new.add((t << 2 | nob, moved))
        return frozenset(new)

    def _matched_at_end(self, closure: set[Any]) -> bool:
        return any(q == self.nfa_final and not obl for q, _, obl in closure)
