"""Progressive delivery: rollout state transactions, routing, outcomes, analysis,
rollback during a rollout; on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import time
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
            _simulate(rt, 15000, 0.1, 0.1, 1)
            report = ro.step(store, "support", "prod", actor="cron")
            assert report.applied == "advance", report.decision
            assert report.state.weight == 50.0
            rt.invalidate()  # not waiting for the notification: propagation is tested elsewhere
            _simulate(rt, 12000, 0.1, 0.1, 2)
            report = ro.step(store, "support", "prod", actor="cron")
            assert report.applied == "promote", report.decision
            assert store.environment("support", "prod").release == r2  # type: ignore[union-attr]
            # the runtime follows (on PostgreSQL once the notification arrives): everyone on
            # the new release, no rollout
            # (waiting for the stable arm itself: alice may already be on the canary arm,
            # which serves r2 too, before the notification arrives)
            deadline = time.monotonic() + 5
            team = rt.route("support", "prod", key="alice")
            while (team.release, team.arm) != (r2, "stable") and time.monotonic() < deadline:
                time.sleep(0.01)
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


def test_cli_start_status_step_pause_resume_abort(cli: Cli) -> None:
    import json

    _store, _r1, r2 = _setup(cli)
    _store.close()
    code, out, err = cli(
        "rollout", "start", r2, "--env", "prod", "--steps", "10,50,100", "--reason", "go"
    )
    assert code == 0, err
    assert "canary 10%" in out
    code, out, err = cli("rollout", "status", "--env", "prod", "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1
    assert doc["analysis"]["decision"] == "hold"
    assert cli("rollout", "step", "--env", "prod")[0] == 0  # hold: no data yet
    assert cli("rollout", "pause", "--env", "prod", "--reason", "look")[0] == 0
    assert cli("rollout", "resume", "--env", "prod", "--reason", "ok")[0] == 0
    code, out, _ = cli("rollout", "abort", "--env", "prod", "--reason", "no")
    assert code == 0 and "ABORT" in out
    assert cli("rollout", "status", "--env", "prod")[0] == 3


def test_sigkill_in_rollout_step_leaves_old_or_new_state(cli: Cli) -> None:
    import signal

    from teamrel.store import FAULT_POINTS

    from .conftest import reap

    store, _r1, r2 = _setup(cli)
    try:
        ro.start(
            store,
            "support",
            EnvironmentSpec(
                rollout=RolloutPolicy(
                    steps=[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100], min_conversations=1
                )
            ),
            r2,
            "prod",
            actor="t",
            reason="go",
        )
        state = store.rollout("support", "prod")
        assert state is not None
        # every step with the evidence to advance: the canary clean, stable failing often
        store.record_outcomes(
            [
                ro.Outcome(state.rollout_id, f"s{step}-{arm}-{i}", arm, step, "x", ok)
                for step in range(11)
                for arm, i, ok in [("canary", i, True) for i in range(10)]
                + [("stable", i, i >= 8) for i in range(10)]
            ]
        )
        for point in [p for p in FAULT_POINTS if p.startswith("rollout.")]:
            before = store.rollout("support", "prod")
            assert before is not None
            pid, err = cli.fork("rollout", "step", "--env", "prod", env={"TEAMREL_FAULT": point})
            assert reap(pid) == -signal.SIGKILL, (point, err.read_text("utf-8"))
            after = store.rollout("support", "prod")
            assert after is not None
            if point.endswith("after_commit"):
                assert (after.step_index, after.generation) == (
                    before.step_index + 1,
                    before.generation + 1,
                ), point
            else:
                assert (after.step_index, after.generation) == (
                    before.step_index,
                    before.generation,
                ), point
            assert store.verify().problems == [], point
    finally:
        store.close()


def test_four_processes_recording_while_steps_run(cli: Cli) -> None:
    import os

    from .conftest import reap

    store, _r1, r2 = _setup(cli)
    try:
        rules = EnvironmentSpec(rollout=RolloutPolicy(steps=[50, 100], min_conversations=10**6))
        state = ro.start(store, "support", rules, r2, "prod", actor="t", reason="go")
        pids = []
        for w in range(4):
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    with Runtime(cli.url, ttl=60) as rt:
                        for i in range(500):
                            with rt.run("support", "prod", key=f"w{w}-{i}") as team:
                                team.record(ok=True, latency_ms=1.0)
                                team.record(ok=False)  # ignored: once per run
                            if i % 100 == 0:
                                rt.flush()
                                rt.flush()  # a retried flush never double-counts
                    code = 0
                finally:
                    os._exit(code)
            pids.append(pid)
        steps = [cli("rollout", "step", "--env", "prod")[0] for _ in range(5)]
        assert [reap(p) for p in pids] == [0, 0, 0, 0]
        assert all(c in (0, 3) for c in steps)
        stable = store.arm_stats(state.rollout_id, "stable")
        canary = store.arm_stats(state.rollout_id, "canary")
        assert stable.n + canary.n == 2000
        assert stable.failures + canary.failures == 0
        after = store.rollout("support", "prod")
        assert after is not None and after.step_index == 0  # held, never stepped twice
        assert store.verify().problems == []
    finally:
        store.close()


ABORT_CHILD = """
import sys, time
from teamrel.runtime import Runtime
url = sys.argv[1]
rt = Runtime(url, ttl=3600)
first = rt.route("support", "prod", key="alice")
print("ready", first.rollout_id or "-", flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    if rt.route("support", "prod", key="alice").rollout_id is None:
        print("saw", "no-rollout", flush=True)
        break
    time.sleep(0.002)
else:
    print("timeout", flush=True)
rt.close()
"""


def test_an_abort_in_one_process_reaches_a_runtime_in_another(cli: Cli) -> None:
    import os
    import subprocess
    import sys

    store, _r1, r2 = _setup(cli)
    try:
        state = ro.start(store, "support", EnvironmentSpec(), r2, "prod", actor="t", reason="go")
        child = subprocess.Popen(
            [sys.executable, "-c", ABORT_CHILD, cli.url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TEAMREL_DATABASE_URL": ""},
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline().split() == ["ready", state.rollout_id]
            code, out, err = cli("rollout", "abort", "--env", "prod", "--reason", "INC")
            assert code == 0, err
            out, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        # the TTL is an hour: only the change feed can have told the child
        assert out.split() == ["saw", "no-rollout"], err
    finally:
        store.close()


def test_status_and_resolve_show_an_open_rollout(cli: Cli) -> None:
    import json

    store, r1, r2 = _setup(cli)
    store.close()
    assert (
        cli("rollout", "start", r2, "--env", "prod", "--steps", "10,100", "--reason", "go")[0] == 0
    )
    code, out, err = cli("status", "--format", "json")
    assert code == 0, err
    envs = {e["name"]: e for e in json.loads(out)["environments"]}
    assert envs["prod"]["release"] == r1  # stable keeps the pointer
    rollout = envs["prod"]["rollout"]
    assert (rollout["candidate_release"], rollout["phase"], rollout["weight"]) == (r2, "canary", 10)
    assert envs["staging"]["rollout"] is None
    code, out, _ = cli("status")
    assert code == 0 and f"{r2} (" in out and "serves 10% of runs" in out
    code, out, _ = cli("resolve", "--env", "prod", "--member", "router", "--format", "json")
    doc = json.loads(out)
    assert doc["release"] == r1 and doc["rollout"]["candidate_release"] == r2
    code, out, _ = cli("resolve", "--env", "prod", "--member", "router")
    assert code == 0 and "rollout" in out and "members below: the stable release" in out
    assert cli("rollout", "abort", "--env", "prod", "--reason", "no")[0] == 0
    code, out, _ = cli("status", "--format", "json")
    assert all(e["rollout"] is None for e in json.loads(out)["environments"])
    assert json.loads(cli("resolve", "--env", "prod", "--format", "json")[1])["rollout"] is None


def test_watch_stops_on_a_pause_or_an_abort_and_speaks_json_lines(cli: Cli) -> None:
    import json

    store, _r1, r2 = _setup(cli)
    try:
        rules = EnvironmentSpec(rollout=RolloutPolicy(steps=[25, 50, 100], min_conversations=50))
        ro.start(store, "support", rules, r2, "prod", actor="t", reason="go")
        # paused for a human: watch does not loop on it
        assert cli("rollout", "pause", "--env", "prod", "--reason", "look")[0] == 0
        watch = ("rollout", "watch", "--env", "prod", "--every", "0", "--format", "json")
        code, out, err = cli(*watch)
        assert code == 0, err
        (line,) = out.splitlines()
        doc = json.loads(line)
        assert doc["format_version"] == 1 and doc["rollout"]["state"] == "paused"
        assert cli("rollout", "resume", "--env", "prod", "--reason", "ok")[0] == 0
        with Runtime(cli.url, ttl=60) as rt:
            _simulate(rt, 3000, 0.02, 0.15, 3)
        code, out, _ = cli(*watch)
        assert code == 1  # aborted
        assert json.loads(out.splitlines()[-1])["applied"] == "abort"
    finally:
        store.close()


@pytest.mark.parametrize("n", [1, 2, 3, 10, 11, 19, 20, 21, 101])
def test_latency_percentiles_are_the_same_ranks_on_both_stores(cli: Cli, n: int) -> None:
    # PostgreSQL computes them with percentile_disc, SQLite with ORDER BY ... OFFSET: both
    # must name the same ranks, round(q * n) (1-based, at least 1)
    store, _r1, r2 = _setup(cli)
    try:
        state = ro.start(store, "support", EnvironmentSpec(), r2, "prod", actor="t", reason="go")
        rng = random.Random(n)
        latencies = [round(rng.uniform(1, 1000), 3) for _ in range(n)]
        store.record_outcomes(
            [
                ro.Outcome(state.rollout_id, f"q{i}", "canary", 0, r2, True, latency_ms=lat)
                for i, lat in enumerate(latencies)
            ]
        )
        stats = store.arm_stats(state.rollout_id, "canary")
        ordered = sorted(latencies)

        def expected(q: float) -> float:
            return ordered[min(n - 1, max(0, int(q * n + 0.5) - 1))]

        assert stats.latency_n == n
        assert (stats.latency_p50, stats.latency_p95) == (expected(0.5), expected(0.95))
    finally:
        store.close()
