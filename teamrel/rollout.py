"""Progressive delivery: judging a rollout's arms and applying the decision.

Owns the analysis of a rollout (`analyse`: per-arm figures and a decision with its reasons)
and the rollout operations the commands call (start, status, step, pause, resume, abort,
promote, outcomes import). The store owns the state and its transactions; this module owns
what the numbers mean.

The decision is re-evaluated after every batch of outcomes (peeking), so every test is
sequential and anytime-valid:

- error rate: Wald's SPRT of H_ok (candidate/stable error ratio = `promote_error_ratio`)
  against H_bad (ratio = `abort_error_ratio`) on the conditional binomial of failures (given
  a step's failures in both arms, the candidate's share is Binomial with
  q = r·n_c / (r·n_c + n_s)); the likelihood ratio is a martingale under H_ok, so by Ville's
  inequality the chance it ever crosses 1/α is at most α however often it is looked at;
- latency: SPRT on the share of candidate runs slower than `latency_p95_ratio` × stable's
  p95 (5% if the candidate's p95 is within the ratio, against 10%);
- cost per conversation and each score's mean: asymptotic confidence sequences
  (Waudby-Smith et al. 2021) on both arms, combined into a ratio (cost) or difference (score)
  interval.

The false-abort rate α (`false_abort_rate`) and the false-promote rate β are split evenly
across the tests (Bonferroni). A step advances once the candidate has `min_conversations`
in it, no test aborts and every sequential test with data leans to accept (log LR ≤
`ADVANCE_LOG_LR`: a worse candidate is held at a small step while evidence accumulates
instead of climbing to 50% on too few failures to tell); promotion needs every test to
accept; a step still undecided after its budget (`max_step_conversations`) pauses for a
human: undecided never promotes.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from teamrel.canonical import JSON
from teamrel.errors import InputError, PolicyError, UsageError
from teamrel.models import EnvironmentSpec, RolloutPolicy
from teamrel.safety import SafetyReport, UnsafeCrossing
from teamrel.store import ArmStats, Outcome, RolloutState, Store, TargetInfo

Verdict = Literal["advance", "hold", "promote", "abort"]

#: Share of candidate runs slower than the latency threshold: acceptable vs degraded.
LATENCY_P0 = 0.05
LATENCY_P1 = 0.10
#: A step advances only when every sequential test with data leans to the candidate being
#: acceptable by at least this log likelihood ratio (e:1). Without it a candidate twice as bad
#: at a 2% error rate reaches the 50% step before 200 canary conversations a step hold enough
#: failures to tell (bench/rollout_sim.py: 2% of such rollouts aborted before 50%).
ADVANCE_LOG_LR = -1.0


@dataclass(frozen=True)
class Metric:
    """One test of a decision: what was measured, against what, and what it says."""

    name: str
    method: str
    threshold: float
    observed: float | None
    interval: tuple[float, float] | None
    #: abort | ok | undecided | no data
    verdict: str
    detail: str = ""

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        doc = asdict(self)
        doc["interval"] = list(self.interval) if self.interval else None
        return doc


@dataclass(frozen=True)
class ArmFigures:
    """What `rollout status` shows of one arm."""

    arm: str
    conversations: int
    error_rate: float | None
    error_interval: tuple[float, float] | None
    latency_p50: float | None
    latency_p95: float | None
    cost_per_conversation: float | None
    scores: dict[str, float]

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        doc = asdict(self)
        doc["error_interval"] = list(self.error_interval) if self.error_interval else None
        return doc


@dataclass(frozen=True)
class Decision:
    """The analysis of a rollout: both arms, every test, the decision and why."""

    rollout_id: str
    decision: Verdict
    reasons: list[str]
    metrics: list[Metric]
    arms: list[ArmFigures]
    step_conversations: int
    #: the step's budget ran out undecided: the rollout pauses for a human
    pause: bool = False
    alpha: float = 0.0
    beta: float = 0.0

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form (also what the audit event keeps)."""
        return {
            "rollout_id": self.rollout_id,
            "decision": self.decision,
            "pause": self.pause,
            "reasons": list(self.reasons),
            "step_conversations": self.step_conversations,
            "false_abort_rate": self.alpha,
            "false_promote_rate": self.beta,
            "metrics": [m.to_json() for m in self.metrics],
            "arms": [a.to_json() for a in self.arms],
        }


# --------------------------------------------------------------------------- statistics


def wilson(failures: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson interval of a proportion (for display)."""
    if n == 0:
        return None
    p = failures / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def error_llr(cand: ArmStats, stable: ArmStats, r_ok: float, r_bad: float) -> float:
    """log LR of H_bad (ratio r_bad) against H_ok (ratio r_ok), summed over steps."""
    stable_by_step = {s.step: s for s in stable.steps}
    total = 0.0
    for c in cand.steps:
        s = stable_by_step.get(c.step)
        if s is None or c.n == 0 or s.n == 0:
            continue
        q_ok = r_ok * c.n / (r_ok * c.n + s.n)
        q_bad = r_bad * c.n / (r_bad * c.n + s.n)
        total += c.failures * math.log(q_bad / q_ok) + s.failures * math.log(
            (1 - q_bad) / (1 - q_ok)
        )
    return total


def _cs_half_width(sd: float, n: int, alpha: float, n_star: int) -> float:
    """Asymptotic confidence-sequence half width (Waudby-Smith et al. 2021, eq. 13), tuned
    to be tightest around `n_star` observations."""
    if n < 2:
        return math.inf
    la = math.log(1 / alpha)
    rho2 = (2 * la + math.log(2 * la + 1)) / max(n_star, 1)
    return sd * math.sqrt(
        2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha)
    )


def _mean_sd(n: int, total: float, sumsq: float) -> tuple[float, float]:
    mean = total / n
    var = max(sumsq / n - mean * mean, 0.0) * n / max(n - 1, 1)
    return mean, math.sqrt(var)


def analyse(state: RolloutState, stable: ArmStats, cand: ArmStats) -> Decision:
    """Judge the candidate arm against stable and decide (see the module docstring)."""
    policy = RolloutPolicy.model_validate(state.policy)
    tests = 3 + len(policy.scores)
    alpha = policy.false_abort_rate / tests
    beta = policy.false_promote_rate / tests
    error, error_lean = _error_metric(policy, cand, stable, alpha, beta)
    latency, latency_lean = _latency_metric(policy, cand, stable, alpha, beta)
    metrics = [error, latency, _ratio_metric(policy, cand, stable, alpha, beta)]
    for name, rule in sorted(policy.scores.items()):
        metrics.append(_score_metric(name, rule.max_drop, policy, cand, stable, alpha, beta))
    #: log LR of each sequential test with data (the advance rule reads them)
    leaning = {
        name: llr
        for name, llr in (("error_rate_ratio", error_lean), ("latency_p95_ratio", latency_lean))
        if llr is not None
    }
    step_n = sum(s.n for s in cand.steps if s.step == state.step_index)
    decision, reasons, pause = _decide(state, policy, metrics, leaning, step_n)
    return Decision(
        rollout_id=state.rollout_id,
        decision=decision,
        reasons=reasons,
        metrics=metrics,
        arms=[_figures(stable), _figures(cand)],
        step_conversations=step_n,
        pause=pause,
        alpha=alpha,
        beta=beta,
    )


def _sprt_verdict(llr: float, alpha: float, beta: float) -> str:
    """Wald's thresholds: abort at log LR ≥ log(1/α), accept at ≤ log β."""
    if llr >= math.log(1 / alpha):
        return "abort"
    return "ok" if llr <= math.log(beta) else "undecided"


def _error_metric(
    policy: RolloutPolicy, cand: ArmStats, stable: ArmStats, alpha: float, beta: float
) -> tuple[Metric, float | None]:
    """The error-rate SPRT, and its log LR when both arms have data."""
    llr = error_llr(cand, stable, policy.promote_error_ratio, policy.abort_error_ratio)
    upper, lower = math.log(1 / alpha), math.log(beta)
    has_data = bool(cand.n and stable.n)
    ratio = None
    if has_data and stable.failures:
        ratio = (cand.failures / cand.n) / (stable.failures / stable.n)
    metric = Metric(
        "error_rate_ratio",
        f"SPRT ratio {policy.promote_error_ratio} vs {policy.abort_error_ratio} "
        f"(log LR {llr:.2f}; abort ≥ {upper:.2f}, accept ≤ {lower:.2f})",
        policy.abort_error_ratio,
        ratio,
        None,
        _sprt_verdict(llr, alpha, beta) if has_data else "no data",
    )
    return metric, llr if has_data else None


def _latency_metric(
    policy: RolloutPolicy, cand: ArmStats, stable: ArmStats, alpha: float, beta: float
) -> tuple[Metric, float | None]:
    """The SPRT on candidate runs slower than the ratio x stable's p95, and its log LR."""
    if stable.latency_p95 is None or not cand.latency_n or cand.latency_over is None:
        return (
            Metric("latency_p95_ratio", "SPRT", policy.latency_p95_ratio, None, None, "no data"),
            None,
        )
    x, n = cand.latency_over, cand.latency_n
    llr = x * math.log(LATENCY_P1 / LATENCY_P0) + (n - x) * math.log(
        (1 - LATENCY_P1) / (1 - LATENCY_P0)
    )
    ratio = (cand.latency_p95 or 0.0) / stable.latency_p95 if stable.latency_p95 else None
    metric = Metric(
        "latency_p95_ratio",
        f"SPRT on runs slower than {policy.latency_p95_ratio}x stable p95 "
        f"({LATENCY_P0:.0%} vs {LATENCY_P1:.0%}; {x}/{n}; log LR {llr:.2f})",
        policy.latency_p95_ratio,
        ratio,
        None,
        _sprt_verdict(llr, alpha, beta),
    )
    return metric, llr


# The decision rules, in the order `_decide` applies them. Each returns the reasons it
# stops the rollout where it is (an empty list lets the next rule speak).


def _degraded(metrics: list[Metric]) -> list[str]:
    """Abort rule: any test that says the candidate is worse."""
    return [f"{m.name} degraded: {m.method}" for m in metrics if m.verdict == "abort"]


def _too_few(step_n: int, policy: RolloutPolicy) -> list[str]:
    """Hold rule: the step has not yet seen `min_conversations` candidate conversations."""
    if step_n < policy.min_conversations:
        return [f"{step_n} of {policy.min_conversations} conversations in this step"]
    return []


def _not_leaning(leaning: dict[str, float]) -> list[str]:
    """Advance rule: every sequential test with data leans to accept by `ADVANCE_LOG_LR`."""
    return [
        f"{k} does not lean to accept yet (log LR {v:.2f} > {ADVANCE_LOG_LR:g})"
        for k, v in sorted(leaning.items())
        if v > ADVANCE_LOG_LR
    ]


def _not_accepted(metrics: list[Metric]) -> list[str]:
    """Promote rule: every test accepts; only the error test must have data to accept."""
    return [
        f"{m.name} undecided"
        for m in metrics
        if m.verdict == "undecided" or (m.verdict == "no data" and m.name == "error_rate_ratio")
    ]


def _decide(
    state: RolloutState,
    policy: RolloutPolicy,
    metrics: list[Metric],
    leaning: dict[str, float],
    step_n: int,
) -> tuple[Verdict, list[str], bool]:
    """The decision, its reasons and whether the step's budget ran out undecided."""
    if reasons := _degraded(metrics):
        return "abort", reasons, False
    if reasons := _too_few(step_n, policy):
        return "hold", reasons, False
    step = state.step_index
    next_pct = 100.0 if step + 1 >= len(state.steps) else state.steps[step + 1]
    if next_pct < 100:
        if not (reasons := _not_leaning(leaning)):
            return (
                "advance",
                [f"{step_n} conversations in this step and every test leans to accept"],
                False,
            )
    elif not (reasons := _not_accepted(metrics)):
        return "promote", ["every test accepts the candidate"], False
    pause = step_n >= policy.step_budget
    if pause:
        reasons.append(
            f"undecided after {step_n} conversations (budget {policy.step_budget}): "
            "paused for a human"
        )
    return "hold", reasons, pause


def _figures(arm: ArmStats) -> ArmFigures:
    return ArmFigures(
        arm=arm.arm,
        conversations=arm.n,
        error_rate=arm.failures / arm.n if arm.n else None,
        error_interval=wilson(arm.failures, arm.n),
        latency_p50=arm.latency_p50,
        latency_p95=arm.latency_p95,
        cost_per_conversation=arm.cost_sum / arm.cost_n if arm.cost_n else None,
        scores={k: v[1] / v[0] for k, v in arm.scores.items() if v[0]},
    )


def _ratio_metric(
    policy: RolloutPolicy, cand: ArmStats, stable: ArmStats, alpha: float, beta: float
) -> Metric:
    if cand.cost_n < 2 or stable.cost_n < 2:
        return Metric("cost_ratio", "confidence sequence", policy.cost_ratio, None, None, "no data")
    mc, sc = _mean_sd(cand.cost_n, cand.cost_sum, cand.cost_sumsq)
    ms, ss = _mean_sd(stable.cost_n, stable.cost_sum, stable.cost_sumsq)

    def bounds(level: float) -> tuple[float, float]:
        hc = _cs_half_width(sc, cand.cost_n, level / 2, policy.min_conversations)
        hs = _cs_half_width(ss, stable.cost_n, level / 2, policy.min_conversations)
        lo = max(mc - hc, 0.0) / (ms + hs) if ms + hs > 0 else 0.0
        hi = (mc + hc) / (ms - hs) if ms - hs > 0 else math.inf
        return lo, hi

    lo_a, _ = bounds(alpha)
    _, hi_b = bounds(beta)
    verdict = (
        "abort" if lo_a > policy.cost_ratio else "ok" if hi_b <= policy.cost_ratio else "undecided"
    )
    return Metric(
        "cost_ratio",
        "asymptotic confidence sequences on each arm's mean cost",
        policy.cost_ratio,
        mc / ms if ms else None,
        (lo_a, hi_b),
        verdict,
    )


def _score_metric(
    name: str,
    max_drop: float,
    policy: RolloutPolicy,
    cand: ArmStats,
    stable: ArmStats,
    alpha: float,
    beta: float,
) -> Metric:
    c, s = cand.scores.get(name), stable.scores.get(name)
    if not c or not s or c[0] < 2 or s[0] < 2:
        return Metric(f"score:{name}", "confidence sequence", max_drop, None, None, "no data")
    mc, sc = _mean_sd(*c)
    ms, ss = _mean_sd(*s)
    drop = ms - mc

    def half(level: float) -> float:
        return _cs_half_width(sc, c[0], level / 2, policy.min_conversations) + _cs_half_width(
            ss, s[0], level / 2, policy.min_conversations
        )

    lo, hi = drop - half(alpha), drop + half(beta)
    verdict = "abort" if lo > max_drop else "ok" if hi <= max_drop else "undecided"
    return Metric(
        f"score:{name}",
        "asymptotic confidence sequences on each arm's mean (drop = stable - candidate)",
        max_drop,
        drop,
        (lo, hi),
        verdict,
    )


# --------------------------------------------------------------------------- operations


def policy_for(rules: EnvironmentSpec, steps: list[float] | None) -> RolloutPolicy:
    """The environment's rollout policy (defaults when none is declared), `steps` overriding."""
    policy = rules.rollout or RolloutPolicy()
    if steps:
        try:
            policy = RolloutPolicy.model_validate({**policy.model_dump(), "steps": steps})
        except ValueError as err:
            raise UsageError(f"--steps: {err}") from None
    return policy


def _need_reason(rules: EnvironmentSpec, env: str, reason: str | None, what: str) -> None:
    if rules.require_reason and not (reason and reason.strip()):
        raise PolicyError(
            f"environment {env} requires a reason to {what} "
            f"(environments.{env}.require_reason: true in teamrel.yaml)",
            hint="add --reason TEXT",
        )


class RolloutUnsafe(UnsafeCrossing):
    """`rollout start` refused: stable and the candidate would share persisted data that one
    of them cannot read (exit 1; `--force --reason` starts anyway, the reason recording it)."""

    def __init__(self, message: str, findings: list[str], safety: dict[str, Any]) -> None:
        super().__init__(
            message,
            findings,
            safety,
            hint="make the consumers read both releases' messages first, or accept it with "
            "--force --reason TEXT (recorded with the rollout)",
        )


def coexistence_reason(
    env: str, reason: str | None, safety: SafetyReport | None, *, force: bool
) -> str | None:
    """The rollout's reason after its coexistence proof (`safety`, None when there was
    nothing to prove): raises `RolloutUnsafe` on findings unless `force` (which needs a
    reason; the findings are appended to it, so the rollout's audit event keeps them)."""
    if force and not (reason and reason.strip()):
        raise UsageError("--force needs --reason TEXT (recorded with the rollout)")
    refusals = safety.refusals() if safety is not None else []
    if safety is None or not refusals:
        return reason
    if not force:
        raise RolloutUnsafe(
            f"refusing to start a rollout in {env}: stable and the candidate would share "
            f"persisted data one of them cannot read ({len(refusals)} finding(s)); "
            "nothing was started",
            refusals,
            safety.to_json(),
        )
    return f"{reason} [coexistence safety overridden: {'; '.join(refusals)}]"


def start(
    store: Store,
    team: str,
    rules: EnvironmentSpec,
    release: str,
    env: str,
    *,
    actor: str,
    reason: str | None,
    shadow: bool = False,
    steps: list[float] | None = None,
    check_target: Callable[[TargetInfo], None] | None = None,
) -> RolloutState:
    """Open a rollout of `release` in `env` (shadow first with `shadow`)."""
    _need_reason(rules, env, reason, "start a rollout")
    policy = policy_for(rules, steps)
    return store.start_rollout(
        team,
        env,
        release,
        rollout_id=uuid.uuid4().hex[:16],
        shadow=shadow,
        steps=policy.steps,
        policy=policy.model_dump(mode="json"),
        actor=actor,
        reason=reason,
        check_target=check_target,
    )


def open_rollout(store: Store, team: str, env: str) -> RolloutState:
    """The open rollout of `env` (NotFoundError without one)."""
    from teamrel.errors import NotFoundError

    state = store.rollout(team, env)
    if state is None:
        raise NotFoundError(f"no rollout is open in {env} of team {team}")
    return state


@dataclass
class RolloutReport:
    """`rollout status` / `rollout step`: the state, the analysis, and what was applied."""

    state: RolloutState
    decision: Decision | None
    applied: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSON]:
        """The versioned document."""
        return {
            "format_version": 1,
            "rollout": self.state.to_json(),
            "analysis": self.decision.to_json() if self.decision else None,
            "applied": self.applied,
        }


def analyse_open(store: Store, state: RolloutState) -> Decision:
    """Analyse `state` from the store's aggregates."""
    policy = RolloutPolicy.model_validate(state.policy)
    cand_arm = "shadow" if state.phase == "shadow" else "canary"
    stable = store.arm_stats(state.rollout_id, "stable", scores=list(policy.scores))
    threshold = (
        None if stable.latency_p95 is None else stable.latency_p95 * policy.latency_p95_ratio
    )
    cand = store.arm_stats(
        state.rollout_id, cand_arm, latency_over=threshold, scores=list(policy.scores)
    )
    return analyse(state, stable, cand)


def status(store: Store, team: str, env: str) -> RolloutReport:
    """The open rollout of `env` and its current analysis."""
    state = open_rollout(store, team, env)
    return RolloutReport(state, analyse_open(store, state))


def step(store: Store, team: str, env: str, *, actor: str) -> RolloutReport:
    """Analyse once and apply the decision (a paused rollout is only analysed)."""
    state = open_rollout(store, team, env)
    decision = analyse_open(store, state)
    if state.state == "paused":
        return RolloutReport(state, decision, None)
    op: Literal["advance", "hold", "pause", "abort", "promote"] = (
        "pause" if decision.pause else decision.decision
    )
    reason = "; ".join(decision.reasons)
    new = store.change_rollout(
        team,
        env,
        op,
        actor=actor,
        reason=f"rollout step: {reason}",
        rollout_id=state.rollout_id,
        expect_generation=state.generation,
        decision=decision.to_json(),
    )
    return RolloutReport(new, decision, op)


def change(
    store: Store,
    team: str,
    rules: EnvironmentSpec,
    env: str,
    op: Literal["pause", "resume", "abort", "promote"],
    *,
    actor: str,
    reason: str | None,
    check_target: Callable[[TargetInfo], None] | None = None,
) -> RolloutReport:
    """A human's change to the open rollout."""
    _need_reason(rules, env, reason, f"{op} a rollout")
    new = store.change_rollout(team, env, op, actor=actor, reason=reason, check_target=check_target)
    return RolloutReport(new, None, op)


def import_outcomes(store: Store, path: Path) -> int:
    """Record outcomes from a JSON Lines file (one outcome object a line); returns how many
    were new (a run already recorded is skipped)."""
    batch: list[Outcome] = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            batch.append(
                Outcome(
                    rollout_id=str(doc["rollout_id"]),
                    run_id=str(doc["run_id"]),
                    arm=str(doc["arm"]),
                    step=int(doc.get("step", -1)),
                    release=str(doc.get("release", "")),
                    ok=bool(doc["ok"]),
                    latency_ms=_opt_float(doc.get("latency_ms")),
                    cost_usd=_opt_float(doc.get("cost_usd")),
                    tool_calls=None if doc.get("tool_calls") is None else int(doc["tool_calls"]),
                    scores={str(k): float(v) for k, v in (doc.get("scores") or {}).items()},
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise InputError(f"{path}:{lineno}: not an outcome ({err})") from None
        if batch[-1].arm not in ("stable", "canary", "shadow"):
            raise InputError(f"{path}:{lineno}: arm must be stable, canary or shadow")
    total = 0
    for i in range(0, len(batch), 1000):
        total += store.record_outcomes(batch[i : i + 1000])
    return total


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)
