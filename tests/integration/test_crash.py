"""Crash safety: SIGKILL `teamrel promote` / `teamrel rollback` at every fault point.

Afterwards the environment points at the old or the new manifest (the old one for every
point before the commit, the new one after it), the audit log's last event agrees with the
pointer, and `verify` finds nothing wrong.
"""

from __future__ import annotations

import signal

import pytest

from teamrel.store import FAULT_POINTS

from .conftest import Cli, lib_release, open_test_store, reap

pytestmark = pytest.mark.slow


def _state(url: str) -> tuple[str | None, int, list[str]]:
    store = open_test_store(url)
    try:
        env = store.environment("support", "prod")
        assert env is not None
        events = store.events("support", "prod")
        last = events[0]
        # the audit log agrees with the pointer
        assert last.to_manifest == env.manifest_digest
        assert last.generation == env.generation
        assert store.verify().problems == []
        return env.release, env.generation, [e.action for e in events]
    finally:
        store.close()


def test_sigkill_at_every_fault_point(cli: Cli) -> None:
    names = [lib_release(cli.ws, cli.url, f"\nvariant {i}\n") for i in range(3)]
    assert cli("promote", names[0], "--env", "prod", "--reason", "r")[0] == 0
    assert cli("promote", names[1], "--env", "prod", "--reason", "r")[0] == 0
    # rollout points are driven by test_rollout.py
    for point in [p for p in FAULT_POINTS if not p.startswith("rollout.")]:
        live, generation, actions = _state(cli.url)
        assert live is not None
        if point.startswith("promote."):
            old = live
            new = next(n for n in names if n != live)
            args = ["promote", new, "--env", "prod", "--expect", old, "--reason", "r"]
        else:
            # make sure there is something earlier to go back to, then roll back
            fresh = next(n for n in names if n != live)
            assert cli("promote", fresh, "--env", "prod", "--reason", "r")[0] == 0
            old, new = fresh, live
            live, generation, actions = _state(cli.url)
            args = ["rollback", "--env", "prod", "--reason", "r"]
        pid, err = cli.fork(*args, env={"TEAMREL_FAULT": point})
        code = reap(pid)
        assert code == -signal.SIGKILL, (point, code, err.read_text("utf-8"))
        after, after_generation, after_actions = _state(cli.url)
        if point.endswith("after_commit"):
            assert (after, after_generation) == (new, generation + 1), point
            assert len(after_actions) == len(actions) + 1
        else:
            assert (after, after_generation) == (old, generation), point
            assert after_actions == actions, point
