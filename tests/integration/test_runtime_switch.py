"""`teamrel.Runtime` after a rollback, on SQLite and PostgreSQL: another process notices it
without waiting for the TTL, the switch loads only the members a run asks for, a pinned team
keeps its release, and integrity checks still hold for members loaded lazily."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from teamrel.canonical import sha256_hex
from teamrel.errors import IntegrityError, NotFoundError
from teamrel.manifest import build_manifest, manifest_file_bytes
from teamrel.models import ResolvedMember, member_digest
from teamrel.runtime import Runtime
from teamrel.store import Store, open_store
from teamrel.store.engine import make_engine
from teamrel.store.watch import PgListener

MEMBERS = 40


def _agent(i: int, variant: int, parameters: dict[str, Any] | None = None) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": f"1.{variant}.0",
        "model": {"provider": "acme", "id": "m-1", "parameters": parameters or {}},
        "prompt": {"text": f"agent {i} variant {variant}"},
        "tools": [],
    }
    return ResolvedMember(
        name="", kind="agent", version=f"1.{variant}.0", spec=spec, digest=member_digest(spec)
    )


def _release(store: Store, team: str, name: str, members: dict[str, ResolvedMember]) -> str:
    m = build_manifest(
        team, name, members, created_at="2026-01-01T00:00:00.000000Z", created_by="t"
    )
    store.record_release(m, members, file_sha256=sha256_hex(manifest_file_bytes(m)), actor="t")
    return m.digest


def _team(variant_of_first: int) -> dict[str, ResolvedMember]:
    return {f"agent_{i:02d}": _agent(i, variant_of_first if i == 0 else 0) for i in range(MEMBERS)}


@pytest.fixture
def setup(store_url: str) -> Iterator[tuple[str, str, Store]]:
    """r1 then r2 (agent_00 changed) promoted to prod of a fresh team; yields (url, team,
    store)."""
    team = f"t{uuid.uuid4().hex[:10]}"  # unique: PostgreSQL notifications are database-wide
    store = open_store(store_url, None)
    _release(store, team, "r1", _team(0))
    _release(store, team, "r2", _team(1))
    store.promote(team, "prod", "r1", actor="a")
    store.promote(team, "prod", "r2", actor="a")
    try:
        yield store_url, team, store
    finally:
        store.close()


CHILD = textwrap.dedent(
    """
    import sys, time
    from teamrel.runtime import Runtime
    url, team = sys.argv[1], sys.argv[2]
    rt = Runtime(url, ttl=3600)
    first = rt.pinned(team, "prod").release
    print("ready", first, flush=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with rt.run(team, "prod") as pinned:
            if pinned.release != first:
                print("saw", pinned.release, flush=True)
                break
        time.sleep(0.002)
    else:
        print("timeout", flush=True)
    rt.close()
    """
)


def test_another_process_sees_a_rollback_without_waiting_for_the_ttl(
    setup: tuple[str, str, Store],
) -> None:
    url, team, store = setup
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, team],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TEAMREL_DATABASE_URL": ""},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().split() == ["ready", "r2"]
        store.rollback(team, "prod", actor="a", reason="incident")
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # the TTL is an hour: only the change feed can have told the child
    assert out.split() == ["saw", "r1"], err


def _wait_for(rt: Runtime, team: str, release: str) -> None:
    """Until `rt` serves `release` (PostgreSQL notifications arrive asynchronously)."""
    deadline = time.monotonic() + 10
    while rt.pinned(team, "prod").release != release:
        assert time.monotonic() < deadline, f"{release} was not noticed"
        time.sleep(0.005)


def _count_snapshot_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = Store.snapshots

    def counting(self: Store, digests: Any) -> Any:
        reads.extend(digests)
        return original(self, digests)

    monkeypatch.setattr(Store, "snapshots", counting)
    return reads


def test_a_switch_loads_only_the_members_a_run_asks_for(
    setup: tuple[str, str, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, team, store = setup
    reads = _count_snapshot_reads(monkeypatch)
    with Runtime(url, ttl=3600) as rt:
        with rt.run(team, "prod") as r2:
            assert r2.release == "r2"
            assert r2.member("agent_00").version == "1.1.0"
            assert r2.member("agent_01").version == "1.0.0"
        assert len(reads) == 2  # not the whole team
        store.rollback(team, "prod", actor="a")
        _wait_for(rt, team, "r1")
        reads.clear()
        with rt.run(team, "prod") as r1:
            assert r1.release == "r1"
            assert r1.member("agent_00").version == "1.0.0"  # r1's own snapshot: one read
            assert r1.member("agent_01").name == "agent_01"  # shared with r2: cached
            assert "agent_05" in r1.members and "nobody" not in r1.members
        assert reads == [r1.members["agent_00"].digest]
        # the whole team on demand: one batched read of what is not cached yet
        reads.clear()
        assert len(r1.members) == MEMBERS
        assert [m.name for m in r1.members.values()] == sorted(_team(0))
        assert len(reads) == MEMBERS - 2
        assert set(r1.manifest.member_digests.values()) == {m.digest for m in r1.members.values()}


def test_a_pinned_team_keeps_serving_its_release_after_the_pointer_moved(
    setup: tuple[str, str, Store],
) -> None:
    url, team, store = setup
    with Runtime(url, ttl=3600) as rt, rt.run(team, "prod") as pinned:
        store.rollback(team, "prod", actor="a")
        # loaded only now, after the rollback: still r2's member
        assert pinned.member("agent_00").version == "1.1.0"
        assert pinned.release == "r2"
        with pytest.raises(NotFoundError, match="has no member 'nobody'"):
            pinned.member("nobody")
        _wait_for(rt, team, "r1")
        assert rt.pinned(team, "prod").member("agent_00").version == "1.0.0"


def _execute(url: str, sql: str, **params: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def test_a_corrupted_snapshot_is_refused_when_loaded_lazily(
    setup: tuple[str, str, Store],
) -> None:
    url, team, store = setup
    r1_first = _agent(0, 0).digest
    with Runtime(url, ttl=3600) as rt:
        assert rt.resolve(team, "prod", "agent_01").version == "1.0.0"
        _execute(
            url,
            "UPDATE teamrel_snapshots SET body = replace(body, 'variant 0', 'variant 9') "
            "WHERE digest = :d",
            d=r1_first,
        )
        store.rollback(team, "prod", actor="a")
        _wait_for(rt, team, "r1")
        pinned = rt.pinned(team, "prod")
        with pytest.raises(IntegrityError, match="does not match its digest"):
            pinned.member("agent_00")
        assert pinned.member("agent_01").version == "1.0.0"  # intact members still served


def test_a_corrupted_manifest_is_refused_on_the_switch(setup: tuple[str, str, Store]) -> None:
    url, team, store = setup
    # warm=False: a runtime that read r1 ahead (verified, before the damage) would serve that
    # intact copy; this test is about the read on the switch itself
    with Runtime(url, ttl=3600, warm=False) as rt:
        assert rt.pinned(team, "prod").release == "r2"
        _execute(
            url,
            'UPDATE teamrel_manifests SET body = replace(body, \'"created_by":"t"\', '
            "'\"created_by\":\"u\"') WHERE team = :t AND release = 'r1'",
            t=team,
        )
        # the store itself refuses to roll back to it; force the pointer there by hand
        r1 = store.release_info(team, "r1")
        assert r1 is not None
        _execute(
            url,
            "UPDATE teamrel_environments SET manifest_digest = :d, generation = generation + 1 "
            "WHERE team = :t AND name = 'prod'",
            d=r1.digest,
            t=team,
        )
        rt.invalidate()  # a hand-made pointer move sends no notification
        with pytest.raises(IntegrityError, match="does not match its digest"):
            rt.pinned(team, "prod")


def test_the_release_a_rollback_returns_to_is_read_ahead(
    setup: tuple[str, str, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, team, store = setup
    reads: list[str] = []
    real = Store.manifest_text

    def counting(self: Store, digest: str) -> Any:
        reads.append(digest)
        return real(self, digest)

    monkeypatch.setattr(Store, "manifest_text", counting)
    r1, r2 = store.release_info(team, "r1"), store.release_info(team, "r2")
    assert r1 is not None and r2 is not None
    with Runtime(url, ttl=3600) as rt:
        assert rt.pinned(team, "prod").release == "r2"
        deadline = time.monotonic() + 10
        while r1.digest not in reads and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reads[:2] == [r2.digest, r1.digest]  # r2 for the run, r1 in the background
        store.rollback(team, "prod", actor="ops", reason="incident")
        deadline = time.monotonic() + 10  # PostgreSQL: the notification arrives on its own
        while rt.pinned(team, "prod").release != "r1" and time.monotonic() < deadline:
            time.sleep(0.01)
        with rt.run(team, "prod") as pinned:
            assert pinned.release == "r1" and pinned.member("agent_00").version == "1.0.0"
        assert reads.count(r1.digest) == 1  # the switch read nothing per team
    with Runtime(url, ttl=3600, warm=False) as rt:
        rt.pinned(team, "prod")
        time.sleep(0.05)
        assert reads[2:] == [r1.digest]  # no read-ahead


def test_the_member_index_must_agree_with_the_manifest(setup: tuple[str, str, Store]) -> None:
    url, team, store = setup
    r1 = store.release_info(team, "r1")
    assert r1 is not None
    # point r1's agent_00 at r2's snapshot in the index: the manifest text wins
    _execute(
        url,
        "UPDATE teamrel_manifest_members SET member_digest = :d "
        "WHERE manifest_digest = :m AND name = 'agent_00'",
        d=_agent(0, 1).digest,
        m=r1.digest,
    )
    store.rollback(team, "prod", actor="a")
    with Runtime(url, ttl=3600) as rt:
        assert rt.resolve(team, "prod", "agent_00").digest == _agent(0, 0).digest


def test_a_look_alike_entry_in_model_parameters_is_not_a_member(store_url: str) -> None:
    team = f"t{uuid.uuid4().hex[:10]}"
    real = _agent(5, 0)
    decoy_entry = {"digest": _agent(9, 9).digest, "kind": "agent", "version": "6.6.6"}
    # sorted before both `b_real` and `ghost`, with look-alike entries for each in its parameters
    members = {
        "a_decoy": _agent(1, 0, {"b_real": decoy_entry, "ghost": decoy_entry}),
        "b_real": real,
    }
    store = open_store(store_url, None)
    try:
        _release(store, team, "r1", members)
        store.promote(team, "prod", "r1", actor="a")
    finally:
        store.close()
    with Runtime(store_url, ttl=3600) as rt, rt.run(team, "prod") as pinned:
        assert pinned.member("b_real").digest == real.digest
        assert "ghost" not in pinned.members
        with pytest.raises(NotFoundError):
            pinned.member("ghost")
        assert list(pinned.members) == ["a_decoy", "b_real"]


def test_close_stops_the_change_feed(store_url: str) -> None:
    rt = Runtime(store_url, ttl=5)
    feed = rt.feed
    assert feed.listening
    if isinstance(feed, PgListener):
        assert feed.thread.is_alive()
    rt.close()
    assert not feed.listening
    if isinstance(feed, PgListener):
        assert not feed.thread.is_alive()
    assert feed.token() is None


@pytest.mark.postgres
def test_the_listener_survives_a_dropped_connection(setup: tuple[str, str, Store]) -> None:
    url, team, store = setup
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    with Runtime(url, ttl=3600) as rt:
        feed = rt.feed
        assert isinstance(feed, PgListener) and feed.backend_pid is not None
        assert rt.pinned(team, "prod").release == "r2"
        old_pid = feed.backend_pid
        _execute(url, "SELECT pg_terminate_backend(:p)", p=old_pid)
        deadline = time.monotonic() + 20
        while not (feed.listening and feed.backend_pid != old_pid):
            assert time.monotonic() < deadline, "the listener did not reconnect"
            # meanwhile every call re-reads the pointer (token None) or sees the reconnect
            assert rt.pinned(team, "prod").release == "r2"
            time.sleep(0.01)
        store.rollback(team, "prod", actor="a")
        _wait_for(rt, team, "r1")


FAULTY_ROLLBACK = textwrap.dedent(
    """
    import sys
    from teamrel.store import open_store
    store = open_store(sys.argv[1], None)
    store.rollback(sys.argv[2], "prod", actor="a")
    """
)


@pytest.mark.postgres
def test_no_notification_for_a_rollback_that_never_committed(
    setup: tuple[str, str, Store],
) -> None:
    url, team, store = setup
    if not url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    feed = store.change_feed()
    try:
        assert isinstance(feed, PgListener) and feed.listening
        # killed after the pointer moved and pg_notify ran, before COMMIT
        done = subprocess.run(
            [sys.executable, "-c", FAULTY_ROLLBACK, url, team],
            env={**os.environ, "TEAMREL_FAULT": "rollback.before_commit"},
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == -9
        store.promote(team, "prod", "r1", actor="a")  # a committed move, heard after any other
        deadline = time.monotonic() + 10
        while not [n for n in feed.recent if n[0] == team]:
            assert time.monotonic() < deadline, "no notification for the committed promote"
            time.sleep(0.01)
        time.sleep(0.2)
        assert [n for n in feed.recent if n[0] == team] == [(team, "prod", 3)]
    finally:
        feed.close()
