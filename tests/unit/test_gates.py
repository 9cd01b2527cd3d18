"""Gate statistics the CLI tests do not reach: unpaired comparisons (Newcombe for pass rates,
Welch for scores), `max` gates with their three answers, and `inconclusive: warn` vs `block`."""

from __future__ import annotations

import math
import statistics
from types import SimpleNamespace
from typing import Any

import pytest

from teamrel.evalstats import Z_ONE_SIDED_95, newcombe
from teamrel.gates import GateVerdict, SuiteEvidence, delta, describe, evaluate
from teamrel.models import EnvironmentSpec

DIGEST = "sha256:" + "a" * 64


def evidence(prefix: str, passes: list[bool] | None = None, scores: list[float] | None = None):  # type: ignore[no-untyped-def]
    n = len(passes if passes is not None else scores or [])
    ids = [f"{prefix}{i}" for i in range(n)]
    return SuiteEvidence(
        "router",
        "routing",
        dict(zip(ids, passes, strict=True)) if passes is not None else None,
        dict(zip(ids, scores, strict=True)) if scores is not None else None,
    )


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, table II, method 10:
    # (a) 56/70 - 48/80: 0.0524 to 0.3339; (c) 9/10 - 3/10: 0.1705 to 0.8090
    d, lo, hi = newcombe(56, 70, 48, 80)
    assert round(d, 4) == 0.2 and round(lo, 4) == 0.0524 and round(hi, 4) == 0.3339
    _, lo, hi = newcombe(9, 10, 3, 10)
    assert round(lo, 4) == 0.1705 and round(hi, 4) == 0.809


def test_unpaired_pass_rates_use_newcombe() -> None:
    new = evidence("n", [i % 10 != 0 for i in range(200)])  # 180/200
    old = evidence("o", [i % 5 != 0 for i in range(150)])  # 120/150
    d = delta(new, old, "pass_rate")
    assert d is not None and d["method"] == "unpaired (Newcombe)"
    want = newcombe(180, 200, 120, 150, Z_ONE_SIDED_95)
    assert d["value"] == pytest.approx(0.1) and d["n"] == 150
    assert d["lo"] == pytest.approx(want[1], rel=1e-5) and d["hi"] == pytest.approx(
        want[2], rel=1e-5
    )


def test_unpaired_scores_use_welch() -> None:
    xs = [0.5 + 0.4 * math.sin(i) for i in range(120)]
    ys = [0.45 + 0.3 * math.cos(i) for i in range(80)]
    d = delta(evidence("n", scores=xs), evidence("o", scores=ys), "score")
    assert d is not None and d["method"] == "unpaired (Welch, normal)"
    diff = statistics.fmean(xs) - statistics.fmean(ys)
    half = Z_ONE_SIDED_95 * math.sqrt(
        statistics.variance(xs) / len(xs) + statistics.variance(ys) / len(ys)
    )
    assert d["value"] == pytest.approx(diff, rel=1e-5)
    assert d["lo"] == pytest.approx(diff - half, rel=1e-5)
    assert d["hi"] == pytest.approx(diff + half, rel=1e-5)


def member(passes: list[bool], typed: dict[str, float] | None = None) -> Any:
    card = {
        "measured": {"behaviour_digest": DIGEST},
        "cases": [{"id": f"c{i}", "pass": p} for i, p in enumerate(passes)],
    }
    spec = {
        "evals": [{"suite": "routing", "metrics": typed or {}}],
        "scorecards": {"routing": card},
    }
    return SimpleNamespace(
        name="router",
        kind="agent",
        spec=spec,
        scorecards={"routing": card},
        behaviour_digest=DIGEST,
    )


def verdict(gate: dict[str, Any], passes: list[bool], **rules: Any) -> tuple[str, Any]:
    env = EnvironmentSpec.model_validate({"gates": [gate], **rules})
    report = evaluate("prod", env, {"router": member(passes)}, {})
    assert len(report.verdicts) == 1
    return report.verdicts[0]["status"], report


def fails(k: int, n: int) -> list[bool]:
    """n cases, k of them counted by a `max` metric (here: failing cases' pass rate)."""
    return [i >= k for i in range(n)]


@pytest.mark.parametrize(
    ("passed", "n", "ceiling", "status"),
    [
        (5, 500, 0.05, "pass"),  # 1%: the upper bound is far below 5%
        (100, 400, 0.10, "fail"),  # 25%: the lower bound is above 10%
        (9, 100, 0.10, "inconclusive"),  # 9% of 100: the interval straddles 10%
        (0, 300, 0.0, "pass"),  # a zero ceiling is decided exactly: no case counts
        (1, 300, 0.0, "fail"),  # one case is over a zero ceiling, whatever the interval
    ],
)
def test_max_gate_three_answers(passed: int, n: int, ceiling: float, status: str) -> None:
    got, report = verdict(
        {"metric": "router/routing.pass_rate", "max": ceiling}, [i < passed for i in range(n)]
    )
    assert got == status
    v = report.verdicts[0]
    assert v["kind"] == "max" and v["threshold"] == ceiling and v["n"] == n
    if ceiling > 0:
        assert v["lo"] <= passed / n <= v["hi"] and v["method"] == "Wilson one-sided 95%"


def test_max_gate_on_a_hand_typed_number() -> None:
    env = EnvironmentSpec.model_validate({"gates": [{"metric": "*/*.wrong_rate", "max": 0.01}]})
    m = member([True] * 10, typed={"wrong_rate": 0.02})
    report = evaluate("prod", env, {"router": m}, {})
    (v,) = report.verdicts
    assert v["status"] == "fail" and v["method"] == "plain number (no evidence)"


def test_inconclusive_blocks_or_warns_as_the_environment_says() -> None:
    gate = {"metric": "router/routing.pass_rate", "min": 0.9}
    cases = [i % 10 != 0 for i in range(50)]  # 45/50 = 90%: inconclusive against 0.90
    status, blocked = verdict(gate, cases)
    assert status == "inconclusive"
    assert blocked.rules.inconclusive == "block" and not blocked.passed
    assert "inconclusive" in blocked.blocking[0]
    status, warned = verdict(gate, cases, inconclusive="warn")
    assert status == "inconclusive" and warned.passed and warned.blocking == []
    assert warned.to_json()["inconclusive"] == "warn"
    # a failing verdict blocks under both
    _, failing = verdict({**gate, "min": 0.99}, cases, inconclusive="warn")
    assert not failing.passed


@pytest.mark.parametrize(
    ("recorded", "said"),
    [
        (
            {
                "member": "r",
                "suite": "s",
                "metric": "pass_rate",
                "kind": "min",
                "threshold": 0.9,
                "value": 0.9,
                "lo": 0.81,
                "hi": 0.95,
                "n": 50,
                "status": "inconclusive",
                "method": "Wilson one-sided 95%",
            },
            "r/s.pass_rate 0.9 [0.81, 0.95] (n=50) vs min 0.9: inconclusive (Wilson one-sided 95%)",
        ),
        (
            {
                "member": "r",
                "suite": "s",
                "metric": "cost",
                "kind": "max",
                "threshold": 1,
                "value": 2,
                "n": None,
                "status": "fail",
                "method": "plain number (no evidence)",
            },
            "r/s.cost 2 vs max 1: fail (plain number (no evidence))",
        ),
        (
            {
                "member": "r",
                "suite": "s",
                "metric": "score",
                "kind": "no_regression",
                "threshold": 0.05,
                "significant": False,
                "value": -0.1,
                "lo": -0.2,
                "hi": 0.0,
                "n": 30,
                "live": 0.8,
                "status": "fail",
                "method": "paired t",
                "why": "worse",
            },
            "r/s.score live 0.8 Δ -0.1 [-0.2, 0.0] (n=30) vs margin −0.05: fail (paired t; worse)",
        ),
        (
            {
                "member": "r",
                "suite": "s",
                "metric": "score",
                "kind": "no_regression",
                "threshold": 0.05,
                "status": "pass",
                "method": "nothing live to compare with",
                "n": None,
            },
            "r/s.score vs margin −0.05: pass (nothing live to compare with)",
        ),
    ],
)
def test_a_verdict_is_described_as_recorded(recorded: dict[str, Any], said: str) -> None:
    assert describe(GateVerdict.of(recorded)) == said
