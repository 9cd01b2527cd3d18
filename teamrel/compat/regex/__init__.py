"""ECMA-262 regular expressions (JSON Schema `pattern`) as automata: witnesses and proofs.

Owns the answer to "is there a string matched by every pattern of A and by none of B?" for
the compatibility engine: `find_string` returns the shortest such string (preferring readable
ASCII) or None when it is proven that none exists; `matches` and `is_valid_pattern` use the
same semantics.

Semantics:
- Syntax is ECMA-262's web-compatible (Annex B) grammar without flags, as `new RegExp(p)`
  reads it. Strings are sequences of Unicode code points (as with the `u` flag, as JSON Schema
  2020-12 recommends, and as Python does). Matching is a *search* (unanchored) unless `^`/`$`.
  Escapes whose meaning depends on the `u` flag (`\\p{..}`, `\\P{..}`, `\\u{..}`) are not
  modelled.
- Modelled: literals and escapes, classes (ranges, negation, `\\d \\w \\s` and negations),
  `.`, groups (capturing, `(?:)`, named), alternation, every quantifier (greedy or lazy: the
  language is the same), `^ $ \\b \\B` anywhere, lookaheads `(?=..)` `(?!..)` and lookbehinds
  `(?<=..)` `(?<!..)` (any width; Python only compiles fixed-width ones), not nested.
- python-jsonschema, the reference validator, uses Python `re`, which reads some patterns
  differently (Unicode `\\d \\w \\s \\b`; `.` matches "\\r"; `$` matches before a final "\\n";
  `\\B` never matches the empty string). With the default `semantics="both"` every answer holds
  under BOTH readings: a witness is matched (or not) identically by ECMA-262 and by
  `re.search`, and None means no string exists under either. When the two disagree so that no
  common answer exists, `RegexUnsupported` is raised. Patterns that Python cannot compile, or
  reads with another structure (`(?<name>...)`, `[]`, `{,n}`, unknown letter escapes...) are
  unsupported under "both"/"python".
- Not modelled (RegexUnsupported): lookarounds nested in a lookaround, `$` inside a
  lookbehind, backreferences, legacy octal escapes, surrogate `\\u` escapes.
- Bounded: huge counted repetitions, deep nesting, more than `budget_states` automaton states,
  too much closure work, or a passed `deadline` raise RegexBudgetExceeded.
"""

from __future__ import annotations

import functools
import math
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Literal

from teamrel.compat.regex._automaton import Automaton, LookAutomaton, Nfa, TooLarge
from teamrel.compat.regex._charset import Flavor
from teamrel.compat.regex._search import BudgetExceeded, Goal, search
from teamrel.compat.regex._syntax import Parsed, RegexSyntaxError, parse
from teamrel.errors import SchemaError

__all__ = [
    "RegexBudgetExceeded",
    "RegexUnsupported",
    "Semantics",
    "find_string",
    "is_valid_pattern",
    "matches",
]

#: Which regex reading answers must hold under (see the module docstring).
Semantics = Literal["both", "ecma", "python"]

#: Deepest group nesting compiled (the tree is walked recursively).
MAX_NESTING = 100

#: DFA states kept per cached automaton between calls before it is re-determinized.
_MAX_CACHED_DFA_STATES = 50_000

#: Longest witness re-checked with Python `re` (longer ones could backtrack for ages).
_RECHECK_MAX_LEN = 12


class RegexUnsupported(Exception):
    """A construct is not modelled, or ECMA-262 and Python `re` disagree: the answer is unknown."""

    def __init__(self, message: str, *, pattern: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pattern = pattern


class RegexBudgetExceeded(Exception):
    """Deciding would take more states, work or time than allowed: the answer is unknown."""

    def __init__(self, message: str, *, pattern: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.pattern = pattern


_lock = threading.RLock()


@functools.lru_cache(maxsize=4096)
def _parse_cached(pattern: str) -> Parsed | RegexSyntaxError:
    try:
        return parse(pattern)
    except RegexSyntaxError as exc:
        return exc


def _parsed(pattern: str) -> Parsed:
    result = _parse_cached(pattern)
    if isinstance(result, RegexSyntaxError):
        raise SchemaError(
            f"invalid regular expression {pattern!r}: {result.message} at position {result.pos}"
        )
    return result


@functools.lru_cache(maxsize=4096)
def _python_compiles(pattern: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(pattern)
    except (re.error, OverflowError, ValueError):
        return False
    return True  # a RecursionError (little stack left) propagates: it must not be cached


def _check_supported(pattern: str, parsed: Parsed, flavors: tuple[Flavor, ...]) -> None:
    if parsed.unsupported:
        what, pos = parsed.unsupported[0]
        raise RegexUnsupported(
            f"pattern {pattern!r}: {what} (position {pos}) is not supported", pattern=pattern
        )
    if parsed.max_depth > MAX_NESTING:
        raise RegexBudgetExceeded(
            f"pattern {pattern!r}: groups nested deeper than {MAX_NESTING}", pattern=pattern
        )
    if "python" in flavors:
        if parsed.python_issues:
            what, pos = parsed.python_issues[0]
            raise RegexUnsupported(
                f"pattern {pattern!r}: Python re reads {what} (position {pos}) differently",
                pattern=pattern,
            )
        if not _python_compiles(pattern):
            raise RegexUnsupported(
                f"pattern {pattern!r}: Python re (the reference validator) cannot compile it",
                pattern=pattern,
            )


@functools.lru_cache(maxsize=1024)
def _automaton_cached(pattern: str, flavor: Flavor) -> Automaton | TooLarge:
    parsed = _parsed(pattern)
    if flavor == "python" and not parsed.flavor_sensitive:
        # the same automaton serves both readings; sharing it keeps products small
        return _automaton_cached(pattern, "ecma")
    try:
        nfa = Nfa(parsed.node, flavor)
        return LookAutomaton(nfa) if nfa.looks or nfa.behinds else Automaton(nfa)
    except TooLarge as exc:
        return exc


def _automaton(pattern: str, flavor: Flavor) -> Automaton:
    a = _automaton_cached(pattern, flavor)
    if isinstance(a, TooLarge):
        raise RegexBudgetExceeded(
            f"pattern {pattern!r}: its automaton would be too large (counted repetitions)",
            pattern=pattern,
        )
    if a.size > _MAX_CACHED_DFA_STATES:
        a.reset()
    return a


def _flavors(semantics: Semantics) -> tuple[Flavor, ...]:
    if semantics == "both":
        return ("ecma", "python")
    if semantics == "ecma":
        return ("ecma",)
    if semantics == "python":
        return ("python",)
    raise ValueError(f"unknown regex semantics {semantics!r}")


def is_valid_pattern(p: str) -> bool:
    """Whether `p` is a syntactically valid ECMA-262 pattern (Annex B grammar, no flags)."""
    return isinstance(p, str) and not isinstance(_parse_cached(p), RegexSyntaxError)


def matches(pattern: str, text: str, *, semantics: Literal["ecma", "python"] = "ecma") -> bool:
    """Whether `pattern` matches anywhere in `text` (JSON Schema `pattern` semantics).

    Raises SchemaError for an invalid pattern, RegexUnsupported for one not modelled.
    """
    flavors = _flavors(semantics)
    with _lock:
        parsed = _parsed(pattern)
        _check_supported(pattern, parsed, flavors)
        try:
            return _automaton(pattern, flavors[0]).matches(text)
        except RecursionError:  # a caller already deep in its own recursion
            raise RegexBudgetExceeded(
                f"pattern {pattern!r}: not enough stack left to compile it", pattern=pattern
            ) from None


def find_string(
    must_match: Sequence[str],
    must_not_match: Sequence[str],
    *,
    min_length: int = 0,
    max_length: int | None = None,
    budget_states: int = 20000,
    semantics: Semantics = "both",
    deadline: float | None = None,
    on_work: Callable[[int], None] | None = None,
) -> str | None:
    """A string matched by every pattern of `must_match` and by none of `must_not_match`.

    Lengths count code points (bounds inclusive). Returns a shortest such string, preferring
    readable ASCII, or None when it is proven that none exists. Raises SchemaError for an
    invalid pattern (naming it and the position), RegexUnsupported when a construct is not
    modelled or the ECMA-262 and Python readings disagree, RegexBudgetExceeded past
    `budget_states` automaton states or the `deadline` (a `time.monotonic()` value).
    `on_work` is told the search's work in candidates examined, the same whether it is
    computed now or found in the cache (the prover counts it as steps).
    """
    if isinstance(must_match, str) or isinstance(must_not_match, str):
        raise TypeError("must_match and must_not_match are sequences of patterns, not strings")
    for p in (*must_match, *must_not_match):
        if not isinstance(p, str):
            raise SchemaError(f"a regular expression must be a string, not {p!r}")
    # lengths may come from JSON as 3.0 (an integer in JSON Schema): ceil/floor them
    lo = max(0, math.ceil(min_length))
    hi = None if max_length is None or max_length == math.inf else math.floor(max_length)
    # order and repetition do not change the answer (nor the witness): normalize for the cache
    key = (
        tuple(sorted(set(must_match))),
        tuple(sorted(set(must_not_match))),
        lo,
        hi,
        budget_states,
        semantics,
    )
    with _lock:
        if key in _results:
            result, work = _results[key]
            if on_work is not None:
                on_work(work)
            return result
        done = [0]

        def count(n: int) -> None:
            done[0] += n
            if on_work is not None:
                on_work(n)

        try:
            result = _find(*key, deadline=deadline, on_work=count)
        except RecursionError:  # a caller already deep in its own recursion
            raise RegexBudgetExceeded("not enough stack left to compile the patterns") from None
        if result is None or len(result) <= _MAX_CACHED_WITNESS:
            if len(_results) >= _MAX_RESULTS:
                _results.clear()
            _results[key] = (result, done[0])
        return result


_MAX_RESULTS = 8192
_MAX_CACHED_WITNESS = 10_000
#: results by normalised question, with the work it took (charged again on a hit)
_results: dict[tuple[object, ...], tuple[str | None, int]] = {}


def _find(
    must_match: tuple[str, ...],
    must_not_match: tuple[str, ...],
    min_length: int,
    max_length: int | None,
    budget_states: int,
    semantics: Semantics,
    *,
    deadline: float | None,
    on_work: Callable[[int], None] | None = None,
) -> str | None:
    flavors = _flavors(semantics)
    patterns = must_match + must_not_match
    parsed = [_parsed(p) for p in patterns]  # every syntax error before anything unsupported
    for p, pp in zip(patterns, parsed, strict=True):
        _check_supported(p, pp, flavors)
    if max_length is not None and max_length < min_length:
        return None
    # a pattern both required and forbidden: no string can do both
    if set(must_match) & set(must_not_match):
        return None

    comps: list[Automaton] = []
    index: dict[int, int] = {}

    def comp(pattern: str, flavor: Flavor) -> int:
        a = _automaton(pattern, flavor)
        i = index.get(id(a))
        if i is None:
            i = index[id(a)] = len(comps)
            comps.append(a)
        return i

    per_flavor: dict[Flavor, Goal] = {}
    for fl in flavors:
        per_flavor[fl] = Goal(
            tuple(comp(p, fl) for p in must_match), tuple(comp(p, fl) for p in must_not_match)
        )
    joint = Goal(
        tuple(sorted({i for g in per_flavor.values() for i in g.must})),
        tuple(sorted({i for g in per_flavor.values() for i in g.must_not})),
    )
    goals = [joint] + [g for g in per_flavor.values() if g != joint]
    try:
        witness, other = search(
            comps,
            goals,
            min_length=min_length,
            max_length=max_length,
            budget_states=budget_states,
            deadline=deadline,
            on_work=on_work,
        )
    except BudgetExceeded as exc:
        raise RegexBudgetExceeded(f"patterns {list(patterns)!r}: {exc}") from None
    if witness is None:
        if other is not None:
            readers = " and ".join(
                name for fl, name in _READINGS if _satisfies(other, must_match, must_not_match, fl)
            )
            raise RegexUnsupported(
                f"patterns {list(patterns)!r}: ECMA-262 and Python re disagree: {other!r}"
                f" qualifies only under {readers or 'one reading'} (Unicode classes, '.', '$'"
                " before a final newline...)"
            )
        return None
    if "python" in flavors and len(witness) <= _RECHECK_MAX_LEN:
        _recheck(witness, must_match, must_not_match)
    return witness


_READINGS: tuple[tuple[Flavor, str], ...] = (("ecma", "ECMA-262"), ("python", "Python re"))


def _satisfies(text: str, must: Sequence[str], must_not: Sequence[str], flavor: Flavor) -> bool:
    if len(text) > _RECHECK_MAX_LEN * 1000:
        return False
    return all(_automaton(p, flavor).matches(text) for p in must) and not any(
        _automaton(p, flavor).matches(text) for p in must_not
    )


def _recheck(witness: str, must_match: Sequence[str], must_not_match: Sequence[str]) -> None:
    # A last guard: the witness is what the reference validator will be shown.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = all(re.search(p, witness) for p in must_match) and not any(
            re.search(p, witness) for p in must_not_match
        )
    if not ok:
        raise RegexUnsupported(
            f"witness {witness!r} is judged differently by Python re; answer unknown"
        )
