"""Strings: length bounds, `pattern`, `format` and const/enum strings of Γ against Δ.

Decides pattern containment and emptiness with the ECMA-262 automata of
`teamrel.compat.regex` (under the regex deadline), lengths exactly, formats by name (the
same format on both sides, or none asserted), and finds candidate strings.

Leaves unknown: patterns the automata do not support or cannot decide before the deadline,
a `format` asserted by the consumer whose python-jsonschema checker is not faithful to the
spec (`Unmodelled`), constraints it cannot compare.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teamrel.compat.evaluate import python_search, search
from teamrel.compat.prove.terms import PROVED, SYNTAX, Atom, Cand, Outcome, fail, goal_loc
from teamrel.compat.readings import faithful_format, format_meaning, unfaithful_format_reason
from teamrel.compat.schema import Unmodelled

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


def string_case(pv: ProofSearch, g: list[Atom], d: list[Atom]) -> Outcome:
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
            if want_lo > lo and _no_string(pv, pats, lo, want_lo - 1):
                lo = want_lo
            if (
                "maxLength" in x.kw
                and (hi is None or hi > x.kw["maxLength"])
                and _no_string(pv, pats, x.kw["maxLength"] + 1, hi)
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
            verdict = _pattern_implied(pv, pats, kw["pattern"], lo, hi)
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
            ok = bool(pats) and _only_strings(pv, pats, strings, lo, hi)
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
    s = find_string(pv, pats, [], lo, hi)
    if s is not None:
        probes.append(s)
    for n in sorted(lengths):
        s = find_string(pv, pats, [], n, n)
        if s is not None:
            probes.append(s)
    for q in failing_pats:
        s = find_string(pv, pats, [q], lo, hi)
        if s is not None:
            probes.append(s)
    for x in d:
        if "enum" in x.kw or "const" in x.kw:
            members = [x.kw["const"]] if "const" in x.kw else list(x.kw["enum"])
            literal = [_literal(m) for m in members if isinstance(m, str)]
            s = find_string(pv, pats, literal, lo, hi)
            if s is not None:
                probes.append(s)
    for e in (e for x in d for e in [x.kw.get("const"), *x.kw.get("enum", [])]):
        if isinstance(e, str):
            probes.append(e + "x")
            probes.append("x" + e)
    probes.extend(["", "a", "0", "A", " ", "-", "aa", "x" * max(lo, 1), "\n", "é"])
    loc = goal_loc(g)
    kind = "pattern-widened" if failing_pats else "length-relaxed"
    got = pv._filter(g, d, [Cand(s, kind, loc) for s in probes])
    if got:
        return fail(got)
    if reasons:
        return fail(reason=reasons[0])
    if not d:
        return fail(reason="could not find a string satisfying the producer's constraints")
    return fail(reason=f"string constraints could not be compared at {d[0].loc}")


def regex_deadline(pv: ProofSearch) -> float:
    return pv.budget.deadline


def _only_strings(
    pv: ProofSearch, pats: list[str], allowed: list[str], lo: int, hi: int | None
) -> bool:
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
            deadline=regex_deadline(pv),
            on_work=pv.budget.tick,
        )
    except Exception:
        return False
    return got is None


def _no_string(pv: ProofSearch, pats: list[str], lo: int, hi: int | None) -> bool:
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
            deadline=regex_deadline(pv),
            on_work=pv.budget.tick,
        )
    except Exception:  # unsupported construct, budget, invalid pattern: no proof
        return False
    return got is None


def _pattern_implied(
    pv: ProofSearch, pats: list[str], q: str, lo: int, hi: int | None
) -> bool | None:
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
            deadline=regex_deadline(pv),
            on_work=pv.budget.tick,
        )
    except Exception as exc:  # RegexUnsupported, RegexBudgetExceeded, invalid pattern
        pv.regex_notes.append(f"{type(exc).__name__}: {exc}")
        return None
    return s is None


def find_string(
    pv: ProofSearch, must: list[str], must_not: list[str], lo: int, hi: int | None
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
                    deadline=regex_deadline(pv),
                    on_work=pv.budget.tick,
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


def _literal(text: str) -> str:
    """An ECMA-262 pattern matching exactly `text`."""
    return "^" + "".join("\\" + c if c in SYNTAX else c for c in text) + "$"
