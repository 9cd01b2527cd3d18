"""`teamrel.rollout.analyse` on its own: hand-made arm aggregates, every decision."""

from __future__ import annotations

import dataclasses

from teamrel.models import RolloutPolicy, ScoreRule
from teamrel.rollout import ADVANCE_LOG_LR, analyse, error_llr
from teamrel.store import ArmStats, RolloutState, StepCounts


def _state(policy: RolloutPolicy, step_index: int = 0) -> RolloutState:
    return RolloutState(
        rollout_id="r",
        team="t",
        environment="prod",
        stable_release="r1",
        stable_digest="d1",
        candidate_release="r2",
        candidate_digest="d2",
        phase="canary",
        weight=policy.steps[step_index],
        step_index=step_index,
        steps=list(policy.steps),
        policy=policy.model_dump(mode="json"),
        state="active",
        started_at="",
        started_by="",
        reason=None,
        updated_at="",
        ended_at=None,
        last_decision=None,
        generation=1,
    )


def _arm(
    name: str,
    steps: list[tuple[int, int, int]],
    *,
    over: int | None = None,
    p95: float | None = None,
    scores: dict[str, tuple[int, float, float]] | None = None,
) -> ArmStats:
    n = sum(s[1] for s in steps)
    return ArmStats(
        arm=name,
        steps=[StepCounts(*s) for s in steps],
        latency_n=n if p95 is not None else 0,
        latency_p50=None if p95 is None else p95 / 2,
        latency_p95=p95,
        cost_n=0,
        cost_sum=0.0,
        cost_sumsq=0.0,
        latency_over=over,
        scores=scores or {},
    )


POLICY = RolloutPolicy(steps=[10, 50, 100], min_conversations=100)


def test_too_few_conversations_in_the_step_holds() -> None:
    d = analyse(_state(POLICY), _arm("stable", [(0, 900, 18)]), _arm("canary", [(0, 50, 1)]))
    assert (d.decision, d.pause) == ("hold", False)
    assert d.reasons == ["50 of 100 conversations in this step"]


def test_a_much_worse_canary_aborts() -> None:
    d = analyse(_state(POLICY), _arm("stable", [(0, 9000, 180)]), _arm("canary", [(0, 1000, 80)]))
    assert d.decision == "abort"
    assert d.reasons[0].startswith("error_rate_ratio degraded")
    error = d.metrics[0]
    assert (error.name, error.verdict) == ("error_rate_ratio", "abort")
    assert error.observed == (80 / 1000) / (180 / 9000)


def test_a_clean_canary_advances_once_the_evidence_leans_to_accept() -> None:
    stable, cand = _arm("stable", [(0, 9000, 180)]), _arm("canary", [(0, 1000, 16)])
    assert error_llr(cand, stable, 1.1, 1.5) <= ADVANCE_LOG_LR
    d = analyse(_state(POLICY), stable, cand)
    assert d.decision == "advance", d.reasons


def test_enough_conversations_but_no_lean_holds_and_the_budget_pauses() -> None:
    # 2.9% vs 2%: neither abort nor lean to accept; a step past its budget pauses
    stable, cand = _arm("stable", [(0, 1800, 36)]), _arm("canary", [(0, 200, 6)])
    d = analyse(_state(POLICY), stable, cand)
    assert (d.decision, d.pause) == ("hold", False)
    assert "does not lean to accept" in d.reasons[0]
    tight = dataclasses.replace(
        _state(POLICY),
        policy=RolloutPolicy(
            steps=[10, 50, 100], min_conversations=100, max_step_conversations=200
        ).model_dump(mode="json"),
    )
    d = analyse(tight, stable, cand)
    assert (d.decision, d.pause) == ("hold", True)
    assert "paused for a human" in d.reasons[-1]


def test_the_last_step_promotes_only_when_every_test_accepts() -> None:
    state = _state(POLICY, step_index=1)
    stable = _arm("stable", [(0, 9000, 180), (1, 20000, 400)], p95=1000.0)
    cand = _arm("canary", [(0, 1000, 20), (1, 20000, 400)], over=200, p95=1000.0)
    d = analyse(state, stable, cand)
    assert d.decision == "promote", d.reasons
    # the same error evidence on too little traffic at the last step: undecided, hold
    few = _arm("canary", [(0, 1000, 20), (1, 300, 6)], over=3, p95=1000.0)
    d = analyse(state, _arm("stable", [(0, 9000, 180), (1, 300, 6)], p95=1000.0), few)
    assert d.decision == "hold"
    assert d.reasons == ["error_rate_ratio undecided"]


def test_slow_canary_aborts_on_latency() -> None:
    stable = _arm("stable", [(0, 900, 18)], p95=1000.0)
    cand = _arm("canary", [(0, 100, 2)], over=40, p95=2000.0)
    d = analyse(_state(POLICY), stable, cand)
    assert d.decision == "abort"
    assert [m.name for m in d.metrics if m.verdict == "abort"] == ["latency_p95_ratio"]


def test_a_score_drop_aborts() -> None:
    policy = RolloutPolicy(
        steps=[10, 50, 100], min_conversations=100, scores={"csat": ScoreRule(max_drop=0.1)}
    )
    # stable mean 0.9, candidate mean 0.5, both sd ~0.1, a thousand each
    stable = _arm("stable", [(0, 1000, 20)], scores={"csat": (1000, 900.0, 1000 * 0.82)})
    cand = _arm("canary", [(0, 1000, 20)], scores={"csat": (1000, 500.0, 1000 * 0.26)})
    d = analyse(_state(policy), stable, cand)
    assert d.decision == "abort"
    assert "score:csat degraded" in d.reasons[0]
