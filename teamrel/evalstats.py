"""The statistics behind eval scorecards and gates (standard library only).

Owns the interval estimates a gate decides on, each returning `(estimate, lower, upper)`:
- `wilson`: a binomial proportion (Wilson 1927), the interval of a pass rate;
- `mean_interval`: a mean with the normal (large n) or Student-t (small n) interval;
- `newcombe`: the difference of two independent proportions (Newcombe 1998, method 10),
  from the two Wilson intervals;
- `paired_proportions`: the difference of two paired proportions (the McNemar set-up) with
  Tango's (1998) score interval;
- `paired_means`: the mean of per-case differences with a t interval;
- `quantile`: nearest-rank percentiles for latency.

`z` is the normal quantile of the confidence wanted; gates use one-sided 95% bounds
(`Z_ONE_SIDED_95`), docs/evals.md gives the formulas and references.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

#: Normal quantile of 0.95: a one-sided 95% bound (a two-sided 90% interval).
Z_ONE_SIDED_95 = statistics.NormalDist().inv_cdf(0.95)
#: Normal quantile of 0.975: a two-sided 95% interval.
Z_TWO_SIDED_95 = statistics.NormalDist().inv_cdf(0.975)

Interval = tuple[float, float, float]


def wilson(successes: int, n: int, z: float = Z_TWO_SIDED_95) -> Interval:
    """Wilson score interval of a proportion `successes / n` (n > 0)."""
    if n <= 0:
        raise ValueError("wilson: n must be positive")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # the exact ends: no rounding may put 0/n above 0 or n/n below 1
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return p, lo, hi


def _t_quantile(z: float, df: int) -> float:
    """Student-t quantile matching the normal quantile `z` (Cornish-Fisher expansion).

    Accurate to about 1e-3 for df >= 3, which is far below what a gate can resolve.
    """
    if df <= 0:
        return math.inf
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / df + g2 / df**2 + g3 / df**3


def mean_interval(values: Sequence[float], z: float = Z_TWO_SIDED_95) -> Interval:
    """Mean with its t interval (the normal interval for large n); a single value: no width."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_interval: no values")
    mean = math.fsum(values) / n
    if n == 1:
        return mean, -math.inf, math.inf
    sd = statistics.stdev(values)
    half = _t_quantile(z, n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def newcombe(s1: int, n1: int, s2: int, n2: int, z: float = Z_TWO_SIDED_95) -> Interval:
    """Interval of p1 − p2 for two independent proportions (Newcombe's hybrid score, method 10)."""
    p1, l1, u1 = wilson(s1, n1, z)
    p2, l2, u2 = wilson(s2, n2, z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, max(-1.0, lo), min(1.0, hi)


def _tango_z(better: int, worse: int, n: int, delta: float) -> float:
    """Tango's score statistic for H0: p_candidate − p_reference = delta (paired)."""
    b, c = better, worse
    # restricted MLE of the `worse` cell probability under H0 (root of a quadratic)
    big_b = b * (1 - delta) + c * (1 - 3 * delta) - 2 * delta * (n - b - c)
    x = (big_b + math.sqrt(max(big_b * big_b + 8 * n * c * delta * (1 - delta), 0.0))) / (4 * n)
    x = max(x, -delta, 0.0)
    var = (2 * x + delta - delta * delta) / n
    d = (b - c) / n
    if var <= 0:
        return math.inf if d > delta else (-math.inf if d < delta else 0.0)
    return (d - delta) / math.sqrt(var)


def paired_proportions(better: int, worse: int, n: int, z: float = Z_TWO_SIDED_95) -> Interval:
    """Interval of p_candidate − p_reference over `n` paired cases (Tango's score interval).

    `better`: cases the candidate passes and the reference fails; `worse`: the other way
    round (the discordant cells of McNemar's table; concordant cases carry no information
    about the difference). The bounds are the deltas where Tango's (1998) score statistic
    equals ±z, found by bisection; unlike the Wald interval it keeps its size at the
    non-inferiority margin (docs/evals.md).
    """
    if n <= 0:
        raise ValueError("paired_proportions: n must be positive")
    d = (better - worse) / n

    def bound(target: float, lo: float, hi: float) -> float:
        # _tango_z decreases in delta: find delta with z(delta) == target
        for _ in range(60):
            mid = (lo + hi) / 2
            if _tango_z(better, worse, n, mid) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    lower = -1.0 if d <= -1 else bound(z, -1.0 + 1e-12, d)
    upper = 1.0 if d >= 1 else bound(-z, d, 1.0 - 1e-12)
    return d, lower, upper


def paired_means(diffs: Sequence[float], z: float = Z_TWO_SIDED_95) -> Interval:
    """Interval of the mean per-case difference (candidate − reference)."""
    return mean_interval(diffs, z)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile (q in [0, 1]) of a non-empty sequence."""
    if not values:
        raise ValueError("quantile: no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]
