"""Numbers: Γ's numeric range (bounds, exclusive bounds, multipleOf, integer) against Δ's.

Decides with exact rational arithmetic (`Fraction`): whether the producer's range lies in
one consumer alternative or a union of them covers it; a small bounded range (at most 256
integers or multiples) value by value; otherwise searches counterexamples around every bound,
0 and the multiples.

Leaves unknown: a value needed exactly that has no exact JSON (decimal/float) form, and a
range none of the above decides (e.g. multipleOf steps that do not line up over an unbounded
range) when no probe is a counterexample.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from itertools import islice
from typing import TYPE_CHECKING, Any

from teamrel.canonical import JSON
from teamrel.compat.evaluate import exact, is_integer, json_type, types_of
from teamrel.compat.prove.terms import PROVED, Atom, Cand, Outcome, fail, goal_loc

if TYPE_CHECKING:
    from teamrel.compat.prove.core import ProofSearch


def number_case(pv: ProofSearch, g: list[Atom], d: list[Atom], int_only: bool) -> Outcome:
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
        loc = goal_loc(g)
        got = pv._filter(g, d, islice(_quick_numbers(lo, hi, mults, loc), 12))
        if got:
            return fail(got)
    strict = any(a.strict_int for a in g)
    floats_matter = any(x.strict_int for x in d) and not strict
    for x in d:
        if x.strict_int and not strict:
            continue
        if (
            _number_contained(x.kw, lo, lo_ex, hi, hi_ex, mults, int_only)
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
        cands = [Cand(v, "bound-relaxed", goal_loc(g)) for v in values_m]
        got = pv._filter(g, d, cands, exhaustive=True)
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
        loc = goal_loc(g)
        cands = [Cand(v, "bound-relaxed", loc) for v in values]
        got = pv._filter(g, d, cands, exhaustive=True)
        return fail(got) if got else PROVED
    if _union_covers(d, lo, lo_ex, hi, hi_ex, all_int, strict):
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
    loc = goal_loc(g)
    cands = [Cand(v, "bound-relaxed", loc) for v in probes]
    got = pv._filter(g, d, cands)
    if got:
        return fail(got)
    if not d:
        return fail(reason="could not find a number in the producer's range")
    return fail(
        reason="numeric constraints (bounds / multipleOf) could not be compared "
        f"at {loc} and {d[0].loc}"
    )


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


def _as_json_number(x: Fraction) -> int | float | None:
    """x as a JSON number whose decimal text is exactly x, or None."""
    if x.denominator == 1:
        return int(x)
    try:
        f = float(x)
    except OverflowError:
        return None
    return f if math.isfinite(f) and exact(f) == x else None
