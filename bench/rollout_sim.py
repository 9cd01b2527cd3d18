"""Simulated rollouts: does the analysis abort bad canaries and promote good ones, and how does
it compare with a fixed ratio rule? Plus the rollout hot paths.

Two ways of simulating, reported separately:

- statistical (`--rollouts`, default 1,000 per scenario): seeded outcome streams aggregated per
  tick (binomial failures, lognormal latency exceedances, normal cost sums) fed to the same
  `teamrel.rollout.analyse` that `teamrel rollout step` calls, the decision applied as `step`
  applies it (advance moves to the next traffic step, abort / promote / pause end the run).
  Fast enough for the large-N rates; it does not go through the store.
- end to end (`--e2e`, default 10 per scenario): a real store (SQLite in a temporary
  directory, or `--db URL`), two releases, `rollout.start`, then every conversation routed by a
  real `teamrel.Runtime` (`run(key=...)`) and recorded with `team.record(...)`, and
  `rollout.step` (the function behind `teamrel rollout step`) after every tick.

The fixed rule (what the team used before): after each step's `min_conversations`, the raw
canary/stable error-rate ratio so far: > 1.5 aborts, <= 1.1 advances (promotes at the last
step), else continue. It is judged on the same seeds.

Scenarios: (a) 2% vs 2% errors; (b) canary 4% vs stable 2%; (c) canary latency x2.
Traffic: `--tick` conversations between two analyses (default 1,000, split by the weight).

    .venv/bin/python bench/rollout_sim.py --quick                  # 200 + 3 rollouts, SQLite
    .venv/bin/python bench/rollout_sim.py                          # 1,000 + 10 rollouts
    .venv/bin/python bench/rollout_sim.py --db postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teamrel import rollout as ro
from teamrel.canonical import sha256_hex
from teamrel.manifest import build_manifest, manifest_file_bytes
from teamrel.models import EnvironmentSpec, ResolvedMember, RolloutPolicy, member_digest
from teamrel.runtime import Runtime
from teamrel.store import ArmStats, Outcome, RolloutState, StepCounts, Store, open_store

#: latency: lognormal, median 800 ms, sigma 0.5 (stable)
LAT_MEDIAN, LAT_SIGMA = 800.0, 0.5
#: cost per conversation: mean and sd (USD)
COST_MU, COST_SD = 0.02, 0.006


@dataclass(frozen=True)
class Scenario:
    name: str
    p_stable: float
    p_canary: float
    latency_factor: float = 1.0
    #: what should happen: promote or abort
    expect: str = "promote"


SCENARIOS = [
    Scenario("a: errors 2% vs 2%", 0.02, 0.02),
    Scenario("b: errors 4% vs 2%", 0.02, 0.04, expect="abort"),
    Scenario("c: latency p95 x2", 0.02, 0.02, 2.0, expect="abort"),
]


@dataclass
class Result:
    outcome: str  # promote | abort | pause | timeout
    #: the traffic step (percent) the rollout was at when it ended
    at_weight: float
    canary: int
    total: int
    step_canary: list[int] = field(default_factory=list)


# --------------------------------------------------------------------------- sampling


def binom(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw (inverse transform when small, normal approximation when large)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    mean = n * p
    if mean < 40 and n * (1 - p) >= 40:
        q = (1 - p) ** n
        u, k, cdf = rng.random(), 0, q
        while u > cdf and k < n:
            q *= (n - k) / (k + 1) * p / (1 - p)
            k += 1
            cdf += q
        return k
    return min(n, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p))))))


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


# --------------------------------------------------------------------------- statistical


def _state(policy: RolloutPolicy) -> RolloutState:
    return RolloutState(
        rollout_id="sim",
        team="t",
        environment="prod",
        stable_release="r1",
        stable_digest="",
        candidate_release="r2",
        candidate_digest="",
        phase="canary",
        weight=policy.steps[0],
        step_index=0,
        steps=list(policy.steps),
        policy=policy.model_dump(mode="json"),
        state="active",
        started_at="",
        started_by="",
        reason=None,
        updated_at="",
        ended_at=None,
        last_decision=None,
        generation=0,
    )


class _Arm:
    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: dict[int, list[int]] = {}
        self.cost_n = 0
        self.cost_sum = 0.0
        self.cost_sumsq = 0.0
        self.lat_n = 0
        self.lat_over = 0

    def add(self, rng: random.Random, step: int, n: int, p: float, p_over: float) -> None:
        if n == 0:
            return
        counts = self.steps.setdefault(step, [0, 0])
        counts[0] += n
        counts[1] += binom(rng, n, p)
        total = rng.gauss(n * COST_MU, math.sqrt(n) * COST_SD)
        self.cost_n += n
        self.cost_sum += total
        self.cost_sumsq += n * COST_SD**2 + total * total / n
        self.lat_n += n
        self.lat_over += binom(rng, n, p_over)

    def stats(self, p95: float, p50: float) -> ArmStats:
        return ArmStats(
            arm=self.name,
            steps=[StepCounts(s, c[0], c[1]) for s, c in sorted(self.steps.items())],
            latency_n=self.lat_n,
            latency_p50=p50,
            latency_p95=p95,
            cost_n=self.cost_n,
            cost_sum=self.cost_sum,
            cost_sumsq=self.cost_sumsq,
            latency_over=self.lat_over,
            scores={},
        )

    def rate(self) -> float:
        n = sum(c[0] for c in self.steps.values())
        return sum(c[1] for c in self.steps.values()) / n if n else 0.0


def fixed_rule(stable: _Arm, cand: _Arm) -> str:
    """The team's former rule on raw ratios: abort > 1.5x, advance <= 1.1x, else continue."""
    s, c = stable.rate(), cand.rate()
    ratio = (c / s) if s > 0 else (math.inf if c > 0 else 1.0)
    return "abort" if ratio > 1.5 else "advance" if ratio <= 1.1 else "hold"


def simulate_stat(
    sc: Scenario, policy: RolloutPolicy, seed: int, *, tick: int, rule: str, max_ticks: int
) -> Result:
    """One rollout on an aggregated outcome stream; `rule`: analysis or fixed."""
    rng = random.Random(seed)
    state = _state(policy)
    z95 = 1.6448536269514722
    p95 = LAT_MEDIAN * math.exp(z95 * LAT_SIGMA)
    threshold = p95 * policy.latency_p95_ratio
    # share of runs slower than the threshold in each arm (lognormal tails)
    over_s = 1 - _phi(math.log(threshold / LAT_MEDIAN) / LAT_SIGMA)
    over_c = 1 - _phi(math.log(threshold / (LAT_MEDIAN * sc.latency_factor)) / LAT_SIGMA)
    stable, cand = _Arm("stable"), _Arm("canary")
    step_canary = [0] * len(policy.steps)
    for _ in range(max_ticks):
        i = state.step_index
        n_c = binom(rng, tick, state.weight / 100)
        stable.add(rng, i, tick - n_c, sc.p_stable, over_s)
        cand.add(rng, i, n_c, sc.p_canary, over_c)
        step_canary[i] += n_c
        if rule == "fixed":
            verdict = (
                "hold" if step_canary[i] < policy.min_conversations else fixed_rule(stable, cand)
            )
            if verdict == "advance" and i + 1 < len(policy.steps) and policy.steps[i + 1] >= 100:
                verdict = "promote"
            pause = False
        else:
            d = ro.analyse(
                state,
                stable.stats(p95, LAT_MEDIAN),
                cand.stats(p95 * sc.latency_factor, LAT_MEDIAN * sc.latency_factor),
            )
            verdict, pause = d.decision, d.pause
        if pause:
            verdict = "pause"
        if verdict in ("abort", "promote", "pause"):
            return Result(verdict, state.weight, sum(step_canary), 0, step_canary)
        if verdict == "advance":
            nxt = i + 1
            state = dataclasses.replace(state, step_index=nxt, weight=policy.steps[nxt])
    return Result("timeout", state.weight, sum(step_canary), 0, step_canary)


def summarise(sc: Scenario, results: list[Result], policy: RolloutPolicy) -> dict[str, Any]:
    n = len(results)
    by = {k: sum(1 for r in results if r.outcome == k) for k in ("promote", "abort", "pause")}
    last = policy.steps[-2] if len(policy.steps) > 1 else policy.steps[-1]
    aborted = [r for r in results if r.outcome == "abort"]
    doc: dict[str, Any] = {
        "scenario": sc.name,
        "rollouts": n,
        "promoted": by["promote"] / n,
        "aborted": by["abort"] / n,
        "paused": by["pause"] / n,
        "aborted_before_last_step": sum(1 for r in aborted if r.at_weight < last) / n,
        "canary_before_abort_median": statistics.median(r.canary for r in aborted)
        if aborted
        else None,
        "canary_before_abort_p95": _p95([r.canary for r in aborted]) if aborted else None,
        "canary_to_promote_median": statistics.median(
            r.canary for r in results if r.outcome == "promote"
        )
        if by["promote"]
        else None,
        "max_step_canary_promoted": max(
            (max(r.step_canary) for r in results if r.outcome == "promote"), default=None
        ),
    }
    return doc


def _p95(xs: list[int]) -> int:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(0.95 * len(xs)))]


# --------------------------------------------------------------------------- end to end


def _agent(variant: int) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": f"1.{variant}.0",
        "model": {"provider": "acme", "id": "m-1", "parameters": {}},
        "prompt": {"text": f"router variant {variant}"},
        "tools": [],
    }
    return ResolvedMember(
        name="", kind="agent", version=f"1.{variant}.0", spec=spec, digest=member_digest(spec)
    )


def _release(store: Store, team: str, name: str, variant: int) -> str:
    members = {"router": _agent(variant), "refunds": _agent(0)}
    m = build_manifest(
        team, name, members, created_at="2026-01-01T00:00:00.000000Z", created_by="b"
    )
    store.record_release(m, members, file_sha256=sha256_hex(manifest_file_bytes(m)), actor="b")
    return name


def simulate_e2e(
    url: str, sc: Scenario, policy: RolloutPolicy, seed: int, *, tick: int, max_ticks: int
) -> Result:
    """One rollout through the store and a real Runtime, `rollout.step` after every tick."""
    rng = random.Random(seed)
    team = f"sim{uuid.uuid4().hex[:10]}"
    store = open_store(url, None)
    try:
        _release(store, team, "r1", 0)
        _release(store, team, "r2", 1)
        store.promote(team, "prod", "r1", actor="b")
        ro.start(
            store, team, EnvironmentSpec(rollout=policy), "r2", "prod", actor="b", reason="sim"
        )
        step_canary = [0] * len(policy.steps)
        canary = total = 0
        with Runtime(url, ttl=60, warm=False) as rt:
            for t in range(max_ticks):
                for i in range(tick):
                    with rt.run(team, "prod", key=f"u{seed}-{t}-{i}") as pinned:
                        bad = pinned.arm == "canary"
                        p = sc.p_canary if bad else sc.p_stable
                        lat = rng.lognormvariate(math.log(LAT_MEDIAN), LAT_SIGMA)
                        if bad:
                            lat *= sc.latency_factor
                            step_canary[pinned._step] += 1
                            canary += 1
                        total += 1
                        pinned.record(
                            rng.random() >= p,
                            latency_ms=lat,
                            cost_usd=max(0.0, rng.gauss(COST_MU, COST_SD)),
                        )
                rt.flush()
                report = ro.step(store, team, "prod", actor="sim")
                rt.invalidate()  # propagation is measured on its own below
                if report.applied in ("abort", "promote", "pause"):
                    w = report.state.steps[report.state.step_index]
                    return Result(report.applied, w, canary, total, step_canary)
        return Result("timeout", 0.0, canary, total, step_canary)
    finally:
        store.close()


# --------------------------------------------------------------------------- hot paths


def hot_paths(url: str, outcomes: int) -> dict[str, Any]:
    """Median µs of routing a run from cache and of `record`; analysis over `outcomes`."""
    team = f"hot{uuid.uuid4().hex[:10]}"
    store = open_store(url, None)
    try:
        _release(store, team, "r1", 0)
        _release(store, team, "r2", 1)
        store.promote(team, "prod", "r1", actor="b")
        state = ro.start(store, team, EnvironmentSpec(), "r2", "prod", actor="b", reason="hot")
        with Runtime(url, ttl=3600, warm=False) as rt:
            rt.route(team, "prod", key="warm")
            routes, records = [], []
            for i in range(20_000):
                t0 = time.perf_counter_ns()
                pinned = rt.route(team, "prod", key=f"k{i}")
                t1 = time.perf_counter_ns()
                pinned.record(True, latency_ms=800.0, cost_usd=0.02)
                t2 = time.perf_counter_ns()
                routes.append(t1 - t0)
                records.append(t2 - t1)
            rt.flush()
        # a million outcomes, half on each arm, written in bulk
        rng = random.Random(7)
        batch: list[Outcome] = []
        t0 = time.perf_counter()
        for i in range(outcomes):
            arm = "canary" if i % 2 else "stable"
            batch.append(
                Outcome(
                    state.rollout_id,
                    f"bulk{i}",
                    arm,
                    0,
                    "r2" if arm == "canary" else "r1",
                    rng.random() >= 0.02,
                    rng.lognormvariate(math.log(LAT_MEDIAN), LAT_SIGMA),
                    0.02,
                )
            )
            if len(batch) == 20_000:
                store.record_outcomes(batch)
                batch = []
        store.record_outcomes(batch)
        load = time.perf_counter() - t0
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            ro.analyse_open(store, store.rollout(team, "prod"))  # type: ignore[arg-type]
            times.append(time.perf_counter() - t0)
        return {
            "route_us_median": statistics.median(routes) / 1000,
            "record_us_median": statistics.median(records) / 1000,
            "analysis_outcomes": outcomes,
            "analysis_s_median": statistics.median(times),
            "load_s": load,
        }
    finally:
        store.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from teamrel.runtime import Runtime
    url, team = sys.argv[1], sys.argv[2]
    rt = Runtime(url, ttl=3600, warm=False)
    rt.route(team, "prod", key="k")
    print("ready", flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if rt.route(team, "prod", key="k").rollout_id is None:
            print(time.time(), flush=True)
            break
        time.sleep(0.001)
    rt.close()
    """
)


def abort_propagation(url: str, runs: int) -> list[float]:
    """Seconds from an abort's commit to a Runtime in another process (ttl=3600) routing
    without the rollout."""
    out = []
    store = open_store(url, None)
    try:
        for _ in range(runs):
            team = f"prop{uuid.uuid4().hex[:10]}"
            _release(store, team, "r1", 0)
            _release(store, team, "r2", 1)
            store.promote(team, "prod", "r1", actor="b")
            ro.start(store, team, EnvironmentSpec(), "r2", "prod", actor="b", reason="p")
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, url, team], stdout=subprocess.PIPE, text=True
            )
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(0.2)
            store.change_rollout(team, "prod", "abort", actor="b", reason="p")
            committed = time.time()
            seen = float(child.stdout.readline())
            child.wait(timeout=30)
            out.append(seen - committed)
    finally:
        store.close()
    return out


# --------------------------------------------------------------------------- main


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rollouts", type=int, default=1000, help="statistical rollouts/scenario")
    p.add_argument("--e2e", type=int, default=10, help="end-to-end rollouts per scenario")
    p.add_argument("--tick", type=int, default=1000, help="conversations between analyses")
    p.add_argument("--db", help="database URL (default: SQLite in a temporary directory)")
    p.add_argument("--quick", action="store_true", help="200 statistical, 3 end-to-end")
    p.add_argument("--outcomes", type=int, default=1_000_000, help="analysis size (hot path)")
    p.add_argument("--skip-hot", action="store_true", help="no hot-path figures")
    p.add_argument("--propagation", type=int, default=0, help="abort propagation repeats")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.rollouts, args.e2e = min(args.rollouts, 200), min(args.e2e, 3)
    policy = RolloutPolicy()
    max_ticks = 2000
    report: dict[str, Any] = {"policy": policy.model_dump(mode="json"), "tick": args.tick}
    stat = []
    for sc in SCENARIOS if args.rollouts else []:
        for rule in ("analysis", "fixed"):
            t0 = time.perf_counter()
            res = [
                simulate_stat(sc, policy, 1000 + k, tick=args.tick, rule=rule, max_ticks=max_ticks)
                for k in range(args.rollouts)
            ]
            doc = summarise(sc, res, policy) | {"rule": rule, "seconds": time.perf_counter() - t0}
            stat.append(doc)
            print(json.dumps(doc), file=sys.stderr, flush=True)
    report["statistical"] = stat
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'state.db'}"
        e2e = []
        for sc in SCENARIOS if args.e2e else []:
            t0 = time.perf_counter()
            res = [
                simulate_e2e(url, sc, policy, 5000 + k, tick=args.tick, max_ticks=max_ticks)
                for k in range(args.e2e)
            ]
            doc = summarise(sc, res, policy) | {
                "conversations": sum(r.total for r in res),
                "seconds": time.perf_counter() - t0,
            }
            e2e.append(doc)
            print(json.dumps(doc), file=sys.stderr, flush=True)
        report["end_to_end"] = e2e
        report["backend"] = url.split(":")[0]
        if not args.skip_hot:
            report["hot"] = hot_paths(url, args.outcomes)
            print(json.dumps(report["hot"]), file=sys.stderr, flush=True)
        if args.propagation:
            prop = abort_propagation(url, args.propagation)
            report["abort_propagation_s"] = {
                "median": statistics.median(prop),
                "max": max(prop),
                "runs": len(prop),
            }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _table(report)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _table(report: dict[str, Any]) -> None:
    print(f"backend {report['backend']}, tick {report['tick']} conversations")
    print(
        "| scenario | rule | rollouts | promoted | aborted | aborted before 50% | paused "
        "| canary convs before abort (median / p95) | canary convs to promote (median) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for d in report["statistical"]:
        print(
            f"| {d['scenario']} | {d['rule']} | {d['rollouts']} | {_pct(d['promoted'])} "
            f"| {_pct(d['aborted'])} | {_pct(d['aborted_before_last_step'])} "
            f"| {_pct(d['paused'])} | {d['canary_before_abort_median'] or '-'} / "
            f"{d['canary_before_abort_p95'] or '-'} | {d['canary_to_promote_median'] or '-'} |"
        )
    for d in report["end_to_end"]:
        print(
            f"| {d['scenario']} | analysis, end to end | {d['rollouts']} | {_pct(d['promoted'])} "
            f"| {_pct(d['aborted'])} | {_pct(d['aborted_before_last_step'])} "
            f"| {_pct(d['paused'])} | {d['canary_before_abort_median'] or '-'} / "
            f"{d['canary_before_abort_p95'] or '-'} | {d['canary_to_promote_median'] or '-'} |"
        )
    if "hot" in report:
        h = report["hot"]
        print(
            f"route (cached) {h['route_us_median']:.1f} µs, record {h['record_us_median']:.1f} µs, "
            f"analysis over {h['analysis_outcomes']:,} outcomes {h['analysis_s_median']:.2f} s"
        )
    if "abort_propagation_s" in report:
        a = report["abort_propagation_s"]
        print(
            f"abort propagation: median {a['median'] * 1000:.0f} ms, max {a['max'] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    multiprocessing.freeze_support()
    main()
