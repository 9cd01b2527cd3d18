"""Benchmark of teamrel.compat.regex.find_string on typical contract patterns.

Usage: python bench/regex_bench.py [--repeat N]
(not bench/regex.py: that name would shadow the `regex` package for scripts run from bench/)

Every ordered pair of the pattern set below is decided (is every string of A matched by B?)
three ways: cold (parse + automata built), warm (automata cached, the query itself computed
afresh: the figure that matters inside one engine run) and cached (the whole answer memoized).
Warm and cached figures are the best of --repeat runs per pair (the machine is shared; the
minimum is the stable figure). Prints median and p99 over pairs, and the verdict counts.
"""

from __future__ import annotations

import argparse
import statistics
import time

from teamrel.compat import regex as rx

_IPV4 = (
    r"^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$"
)

PATTERNS = [
    r"^TCK-[0-9]{8}$",
    r"^TCK-\d+$",
    r"^[a-z0-9-]+$",
    r"^[a-z][a-z0-9-]{2,30}$",
    r"^[A-Z]{2}$",
    r"^[A-Z]{2,3}$",
    r"^\d{4}-\d{2}-\d{2}$",
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    r"^[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$",
    r"^[a-z]+(_[a-z]+)*$",
    r"^(billing_question|refund_request|technical_issue)$",
    r"^(billing_question|refund_request|technical_issue|cancel_subscription)$",
    r"^\d+\.\d+\.\d+$",
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$",
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    r"^[0-9a-fA-F-]{36}$",
    r"^\+?[0-9 ]{7,15}$",
    r"^https?://",
    r"^https://[a-z0-9.-]+/",
    r"\S",
    r"^x-",
]


#: Harder single queries: (label, must_match, must_not_match, options).
HARD: list[tuple[str, list[str], list[str], dict[str, int]]] = [
    ("pathological (a+)+$ vs a$", [r"(a+)+$"], [r"a$"], {}),
    ("{1,1000} vs +", [r"^[a-z]{1,1000}$"], [r"^[a-z]+$"], {}),
    ("+ vs {1,1000}", [r"^[a-z]+$"], [r"^[a-z]{1,1000}$"], {}),
    ("IPv4-ish vs strict IPv4", [r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$"], [_IPV4], {}),
    ("password lookaheads", [r"^(?=.*[A-Z])(?=.*[0-9])(?=.*[a-z]).{8,}$"], [r"[^a-zA-Z0-9]"], {}),
    ("lookbehind suffix", [r"^[a-z.]+(?<!\.)$"], [r"^[a-z]+(\.[a-z]+)*$"], {}),
    ("min_length 100000", [r"^(ab)+$"], [], {"min_length": 100_000}),
    ("2^12 DFA (budget)", [r"^[ab]*$", r"a[ab]{12}$"], [r"a[ab]{11}$"], {}),
]


def _time(fn: object, *args: object) -> tuple[float, str]:
    t = time.perf_counter()
    try:
        r = fn(*args)  # type: ignore[operator]
        verdict = "compatible" if r is None else "incompatible"
    except rx.RegexUnsupported:
        verdict = "unknown"
    except rx.RegexBudgetExceeded:
        verdict = "budget"
    return (time.perf_counter() - t) * 1000, verdict


def _stats(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{name:8} pairs={len(ms):4}  median={statistics.median(ms):.3f} ms  p99={p99:.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    pairs = [(a, b) for a in PATTERNS for b in PATTERNS if a != b]
    rx._parse_cached("a")  # import-time work is not part of a pair
    cold: list[float] = []
    verdicts: dict[str, int] = {}
    for a, b in pairs:
        rx._parse_cached.cache_clear()
        rx._automaton_cached.cache_clear()
        rx._search._product.cache_clear()
        rx._results.clear()
        ms, verdict = _time(rx.find_string, [a], [b])
        cold.append(ms)
        verdicts[verdict] = verdicts.get(verdict, 0) + 1
    warm = [float("inf")] * len(pairs)
    cached = [float("inf")] * len(pairs)
    for _ in range(args.repeat):
        for i, (a, b) in enumerate(pairs):
            rx._results.clear()
            warm[i] = min(warm[i], _time(rx.find_string, [a], [b])[0])
            cached[i] = min(cached[i], _time(rx.find_string, [a], [b])[0])
    _stats("cold", cold)
    _stats("warm", warm)
    _stats("cached", cached)
    print("verdicts:", dict(sorted(verdicts.items())))
    print("single harder queries (cold, ms):")
    for label, must, must_not, opts in HARD:
        t = time.perf_counter()
        try:
            w = rx.find_string(must, must_not, **opts)  # type: ignore[arg-type]
            got = "None" if w is None else f"witness of length {len(w)}"
        except (rx.RegexUnsupported, rx.RegexBudgetExceeded) as exc:
            got = type(exc).__name__
        print(f"  {label:30} {(time.perf_counter() - t) * 1000:8.1f} ms  {got}")


if __name__ == "__main__":
    main()
