"""Concurrent operators: 8 processes race to promote; two race to roll back.

Children are forked with everything imported and held at a gate (a pipe), then released
together, so they really contend for the environment row.
"""

from __future__ import annotations

import os

import pytest

from .conftest import Cli, lib_release, open_test_store, reap

pytestmark = pytest.mark.slow


def _race(cli: Cli, n: int, *args: str) -> list[tuple[int, str]]:
    read_end, write_end = os.pipe()
    children = [cli.fork(*args, gate=(read_end, write_end)) for _ in range(n)]
    os.close(read_end)
    os.close(write_end)  # release them all at once
    return [(reap(pid), err.read_text("utf-8")) for pid, err in children]


def _prod(url: str) -> tuple[str | None, int, list[tuple[str, str | None, str | None]]]:
    store = open_test_store(url)
    try:
        env = store.environment("support", "prod")
        assert env is not None
        events = store.events("support", "prod")
        assert store.verify().problems == []
        return (
            env.release,
            env.generation,
            [(e.action, e.release_from, e.release_to) for e in events],
        )
    finally:
        store.close()


def test_eight_processes_promote_with_the_same_expect(cli: Cli) -> None:
    r1 = lib_release(cli.ws, cli.url, "\none\n")
    r2 = lib_release(cli.ws, cli.url, "\ntwo\n")
    assert cli("promote", r1, "--env", "prod", "--reason", "base")[0] == 0
    results = _race(cli, 8, "promote", r2, "--env", "prod", "--expect", r1, "--reason", "race")
    codes = sorted(code for code, _ in results)
    assert codes == [0] + [3] * 7, results
    for code, err in results:
        if code == 3:
            assert "conflict" in err, err
    live, generation, events = _prod(cli.url)
    assert (live, generation) == (r2, 2)
    # exactly one promote event per successful promote: none lost, none duplicated
    assert events == [("promote", r1, r2), ("promote", None, r1)]


def test_two_operators_rolling_back_at_once_do_not_go_back_twice(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a wide guard window, so a slow machine cannot make the "right after" below fall outside it
    monkeypatch.setenv("TEAMREL_ROLLBACK_GUARD_SECONDS", "300")
    names = [lib_release(cli.ws, cli.url, f"\nv{i}\n") for i in range(3)]
    for name in names:
        assert cli("promote", name, "--env", "prod", "--reason", "ship")[0] == 0
    results = _race(cli, 2, "rollback", "--env", "prod", "--reason", "incident")
    codes = sorted(code for code, _ in results)
    assert codes == [0, 3], results
    loser = next(err for code, err in results if code == 3)
    assert "conflict" in loser, loser
    live, _, events = _prod(cli.url)
    # one step back, not two, and never forward to the bad release again
    assert live == names[1]
    assert [e for e in events if e[0] == "rollback"] == [("rollback", names[2], names[1])]
    # going further back is possible, but only when asked for explicitly
    code, _, err = cli("rollback", "--env", "prod", "--reason", "again")
    assert code == 3 and "already rolled back" in err
    code, _, err = cli(
        "rollback", "--env", "prod", "--expect", names[1], "--reason", "further back"
    )
    assert code == 0, err
    assert _prod(cli.url)[0] == names[0]


def test_concurrent_identical_releases_record_one(cli: Cli) -> None:
    results = _race(cli, 4, "release")
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    store = open_test_store(cli.url)
    try:
        assert [r.release for r in store.releases("support")] == ["r1"]
        assert [e.action for e in store.events("support")] == ["release"]
        assert store.verify().problems == []
    finally:
        store.close()
    code, out, err = cli("verify")
    assert code == 0, out + err


def test_concurrent_different_releases_get_distinct_numbers(cli: Cli) -> None:
    from teamrel import release as rel
    from teamrel.context import Context

    from .conftest import PASSED_CHECK

    ctx = Context(cli.ws, db_url=cli.url)
    base = ctx.load().members
    ctx.close_store()
    read_end, write_end = os.pipe()
    pids = []
    for i in range(4):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 1
            try:
                os.close(write_end)
                os.read(read_end, 1)
                spec = dict(base["router"].spec)
                spec["metadata"] = {"variant": i}
                from teamrel.models import member_digest

                members = dict(base)
                members["router"] = base["router"].model_copy(
                    update={"spec": spec, "digest": member_digest(spec)}
                )
                child = Context(cli.ws, db_url=cli.url)
                rel.release(
                    child.store(),
                    cli.ws,
                    "support",
                    members,
                    check_summary=PASSED_CHECK,
                    environments={},
                    actor=f"runner-{i}",
                )
                child.close_store()
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    os.close(read_end)
    os.close(write_end)
    assert [reap(pid) for pid in pids] == [0, 0, 0, 0]
    store = open_test_store(cli.url)
    try:
        assert sorted(r.release for r in store.releases("support")) == ["r1", "r2", "r3", "r4"]
        assert store.verify().problems == []
    finally:
        store.close()
