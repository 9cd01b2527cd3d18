"""The state store on SQLite: releases, promotion chains, rollback rules, CAS, verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from teamrel.canonical import sha256_hex
from teamrel.errors import (
    ConflictError,
    GenerationConflict,
    IntegrityError,
    NotAnEarlierRelease,
    NotFoundError,
    RecentRollback,
    RolledBackFrom,
    RolloutOpen,
    StaleRolloutDecision,
    TamperedStore,
    UnexpectedLive,
    UsageError,
)
from teamrel.manifest import Manifest, build_manifest, manifest_file_bytes
from teamrel.models import ResolvedMember, member_digest
from teamrel.store import ROLLBACK_GUARD_SECONDS, Store, open_store
from teamrel.store.store import parse_iso


def member(prompt: str) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": "1.0.0",
        "model": {"provider": "acme", "id": "m-1", "parameters": {}},
        "prompt": {"sha256": "0" * 64, "text": prompt},
        "input": {"uri": "urn:i", "schema": True, "resources": {}},
        "output": {"uri": "urn:o", "schema": True, "resources": {}},
        "tools": [],
        "evals": [],
        "metadata": {},
    }
    return ResolvedMember(
        name="", kind="agent", version="1.0.0", spec=spec, digest=member_digest(spec)
    )


def release(store: Store, name: str, prompt: str, team: str = "demo") -> Manifest:
    members = {"a": member(prompt), "b": member("shared")}
    m = build_manifest(
        team, name, members, created_at="2026-01-01T00:00:00.000000Z", created_by="t"
    )
    recorded, _ = store.record_release(
        m, members, file_sha256=sha256_hex(manifest_file_bytes(m)), actor="t"
    )
    return recorded


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'state.db'}", None)
    for i in range(1, 5):
        release(s, f"r{i}", f"prompt {i}")
    yield s  # type: ignore[misc]
    s.close()


def live(store: Store) -> str | None:
    state = store.environment("demo", "prod")
    return state.release if state else None


def test_default_store_is_created_in_the_workspace(tmp_path: Path) -> None:
    s = open_store(None, tmp_path)
    assert (tmp_path / ".teamrel" / "state.db").is_file()
    assert s.schema_version() >= 2
    s.close()


def test_release_is_idempotent_and_names_are_unique(store: Store) -> None:
    members = {"a": member("prompt 1"), "b": member("shared")}
    again = build_manifest(
        "demo", "r9", members, created_at="2026-05-01T00:00:00.000000Z", created_by="x"
    )
    existing, created = store.record_release(again, members, file_sha256="x", actor="x")
    assert not created and existing.release == "r1"
    clash = build_manifest(
        "demo", "r1", {"a": member("new")}, created_at="2026-05-01T00:00:00.000000Z", created_by="x"
    )
    with pytest.raises(ConflictError, match="already exists"):
        store.record_release(
            clash, {"a": member("new")}, file_sha256="x", actor="x", reuse_same_content=False
        )
    assert [r.release for r in store.releases("demo")] == ["r1", "r2", "r3", "r4"]


def test_record_release_refuses_members_that_do_not_match(store: Store) -> None:
    members = {"a": member("p")}
    m = build_manifest(
        "demo", "r8", members, created_at="2026-01-01T00:00:00.000000Z", created_by="t"
    )
    with pytest.raises(IntegrityError):
        store.record_release(m, {"a": member("q")}, file_sha256="x", actor="t")


def test_promote_rollback_walks_back_and_never_forward(store: Store) -> None:
    for name in ("r1", "r2", "r3"):
        store.promote("demo", "prod", name, actor="ops")
    t = store.rollback("demo", "prod", actor="ops", reason="bad r3")
    assert (t.from_release, t.to_release, t.rolled_back) == ("r3", "r2", ("r3",))
    assert live(store) == "r2"
    # a second, explicit rollback goes further back (never to r3)
    t = store.rollback("demo", "prod", actor="ops", expect="r2")
    assert t.to_release == "r1"
    with pytest.raises(NotFoundError, match="nothing earlier"):
        store.rollback("demo", "prod", actor="ops", expect="r1")
    state = store.environment("demo", "prod")
    assert state is not None and set(state.rolled_back) == {"r2", "r3"}
    events = store.events("demo", "prod")
    assert [e.action for e in events] == ["rollback", "rollback", "promote", "promote", "promote"]
    assert events[0].release_from == "r2" and events[0].release_to == "r1"


def test_plain_rollback_right_after_a_rollback_is_refused(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    store.rollback("demo", "prod", actor="alice")
    with pytest.raises(ConflictError, match="already rolled back") as err:
        store.rollback("demo", "prod", actor="bob")
    # the store states the facts; the command to run instead is release.rollback's wording
    refusal = err.value
    assert isinstance(refusal, RecentRollback)
    assert (refusal.team, refusal.environment) == ("demo", "prod")
    assert (refusal.by, refusal.live_release, refusal.hint) == ("alice", "r1", None)
    assert 0 <= refusal.seconds_ago < ROLLBACK_GUARD_SECONDS
    assert live(store) == "r1"
    # outside the guard window it is an ordinary "go further back" (here: nothing earlier)
    with pytest.raises(NotFoundError):
        store.rollback("demo", "prod", actor="bob", guard_seconds=0)


def test_rollback_skips_releases_rolled_back_from(store: Store) -> None:
    # r2 is promoted, rolled back from, then r2 shows up earlier in the chain again
    store.promote("demo", "prod", "r2", actor="a")
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    store.rollback("demo", "prod", actor="a")  # r2 -> r1, r2 marked
    assert live(store) == "r1"
    # going further back must not land on the r2 at the bottom of the chain
    with pytest.raises(NotFoundError):
        store.rollback("demo", "prod", actor="a", steps=1)
    # an explicit promote clears the mark
    store.promote("demo", "prod", "r2", actor="a")
    state = store.environment("demo", "prod")
    assert state is not None and state.rolled_back == ()


def test_rollback_to_and_steps(store: Store) -> None:
    for name in ("r1", "r2", "r3", "r4"):
        store.promote("demo", "prod", name, actor="a")
    with pytest.raises(UsageError, match="not both"):
        store.rollback("demo", "prod", actor="a", to="r1", steps=2)
    t = store.rollback("demo", "prod", actor="a", steps=2)
    assert (t.to_release, t.rolled_back) == ("r2", ("r4", "r3"))
    with pytest.raises(UsageError, match="rolled back from"):
        store.rollback("demo", "prod", actor="a", to="r4")
    with pytest.raises(UsageError, match="already live"):
        store.rollback("demo", "prod", actor="a", to="r2")
    t = store.rollback("demo", "prod", actor="a", to="r1")
    assert t.to_release == "r1"


def test_rollback_to_a_release_never_live_there_is_refused(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r3", actor="a")
    with pytest.raises(UsageError, match="was not live in prod"):
        store.rollback("demo", "prod", actor="a", to="r2")
    assert live(store) == "r3"


def test_nothing_to_roll_back(store: Store) -> None:
    with pytest.raises(NotFoundError, match="ever promoted"):
        store.rollback("demo", "prod", actor="a")
    store.promote("demo", "prod", "r1", actor="a")
    with pytest.raises(NotFoundError, match="nothing earlier"):
        store.rollback("demo", "prod", actor="a")


def test_expect_mismatch_is_a_conflict_and_changes_nothing(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    before = store.events("demo")
    with pytest.raises(ConflictError, match="expected r2"):
        store.promote("demo", "prod", "r3", actor="a", expect="r2")
    assert live(store) == "r1"
    assert store.events("demo") == before
    digest = store.environment("demo", "prod").manifest_digest  # type: ignore[union-attr]
    assert store.promote("demo", "prod", "r3", actor="a", expect=digest).to_release == "r3"


def test_promoting_what_is_live_is_a_noop(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    n = len(store.events("demo"))
    t = store.promote("demo", "prod", "r1", actor="a")
    assert t.noop and len(store.events("demo")) == n


def test_compare_and_swap_on_a_stale_generation(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    # read the environment, then another writer moves it, then our CAS: it must fail and the
    # whole transaction (including the competing write made inside it) rolls back
    with (
        pytest.raises(ConflictError, match="changed by another operator"),
        store._tx(write=True) as conn,
    ):
        row = store._env_row(conn, "demo", "prod")
        conn.execute(text("UPDATE teamrel_environments SET generation = generation + 1"))
        store._cas(conn, row, {"manifest_digest": None}, "prod", "demo")
    assert live(store) == "r1"
    assert store.environment("demo", "prod").generation == 1  # type: ignore[union-attr]


def test_events_chain_and_verify_detects_tampering(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a", reason="first")
    store.promote("demo", "prod", "r2", actor="a")
    report = store.verify()
    assert report.problems == [] and report.events == 6 and report.manifests == 4
    with store._engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE teamrel_events SET reason = 'firsT' WHERE seq = 5"))
    problems = store.verify().problems
    assert [p.kind for p in problems] == ["event"]
    assert "#5" in problems[0].subject


def test_verify_detects_a_deleted_tail_event(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    with store._engine.connect() as conn, conn.begin():
        conn.execute(text("DELETE FROM teamrel_events WHERE seq = 5"))
    kinds = {p.kind for p in store.verify().problems}
    assert "chain" in kinds and "environment" in kinds


def test_tampered_manifest_row_is_refused_and_reported(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    with store._engine.connect() as conn, conn.begin():
        body = conn.execute(
            text("SELECT body FROM teamrel_manifests WHERE release = 'r1'")
        ).scalar_one()
        conn.execute(
            text("UPDATE teamrel_manifests SET body = :b WHERE release = 'r1'"),
            {"b": body.replace('"created_by":"t"', '"created_by":"x"')},
        )
    with pytest.raises(IntegrityError, match="does not match its digest"):
        store.rollback("demo", "prod", actor="a")
    assert live(store) == "r2"
    assert any(p.kind == "manifest" and "r1" in p.subject for p in store.verify().problems)


def test_tampered_or_missing_snapshot(store: Store) -> None:
    m = store.get_manifest("r1", "demo")
    d = m.members["a"].digest
    with store._engine.connect() as conn, conn.begin():
        conn.execute(
            text(
                "UPDATE teamrel_snapshots SET body = replace(body, 'prompt 1', 'prompt X') "
                "WHERE digest = :d"
            ),
            {"d": d},
        )
    with pytest.raises(IntegrityError, match="modified"):
        store.snapshot(d)
    assert [p.subject for p in store.verify().problems] == [d]
    store.promote("demo", "prod", "r2", actor="a")
    # the member index protects snapshots; with constraints off (sqlite3's default outside
    # teamrel) a delete is possible...
    raw = sqlite3.connect(str(store._engine.url.database))
    with raw:
        raw.execute("DELETE FROM teamrel_snapshots WHERE digest = ?", (d,))
    raw.close()
    # ...and then promoting the release that needs it is refused before anything changes
    with pytest.raises(IntegrityError, match="snapshot"):
        store.promote("demo", "prod", "r1", actor="a")
    assert live(store) == "r2"


def test_resolution_helpers(store: Store) -> None:
    assert store.live_manifest("demo", "prod") is None
    store.promote("demo", "prod", "r3", actor="a")
    m = store.live_manifest("demo", "prod")
    assert m is not None and m.release == "r3"
    pinned = store.pinned(m)
    assert pinned["a"].spec["prompt"] == {"sha256": "0" * 64, "text": "prompt 3"}
    assert pinned["a"].name == "a"
    state = store.environment("demo", "prod")
    assert state is not None and state.updated_by == "a"
    assert parse_iso(state.updated_at or "")
    assert json.loads(json.dumps(state.to_json()))["release"] == "r3"


def test_refusals_carry_facts_and_no_command_line(store: Store) -> None:
    # what to run next is phrased by release.rollback and the CLI (cli/hints.py): the store
    # says what it refused, about which environment, manifests and generation
    for name in ("r1", "r2", "r3"):
        store.promote("demo", "prod", name, actor="a")
    r2 = store.release_info("demo", "r2")
    r3 = store.release_info("demo", "r3")
    assert r2 is not None and r3 is not None
    with pytest.raises(UnexpectedLive) as expect:
        store.promote("demo", "prod", "r1", actor="a", expect="r2")
    assert (expect.value.environment, expect.value.expected) == ("prod", "r2")
    assert (expect.value.live, expect.value.live_release) == (r3.digest, "r3")
    store.rollback("demo", "prod", actor="a", steps=1)
    with pytest.raises(RolledBackFrom) as back:
        store.rollback("demo", "prod", actor="a", to="r3")
    assert (back.value.release, back.value.digest, back.value.environment) == (
        "r3",
        r3.digest,
        "prod",
    )
    with pytest.raises(NotAnEarlierRelease) as earlier:
        store.rollback("demo", "prod", actor="a", to="r4")
    assert (earlier.value.release, earlier.value.live_release) == ("r4", "r2")
    with pytest.raises(GenerationConflict) as cas, store._tx(write=True) as conn:
        row = store._env_row(conn, "demo", "prod")
        conn.execute(text("UPDATE teamrel_environments SET generation = generation + 1"))
        store._cas(conn, row, {}, "prod", "demo")
    assert (cas.value.expected, cas.value.found) == (row.generation, row.generation + 1)
    refusals = [expect.value, back.value, earlier.value, cas.value]
    assert all(e.hint is None for e in refusals)
    assert not any("teamrel " in e.message or "--" in e.message for e in refusals)


def test_rollout_refusals_carry_facts(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    opened = store.start_rollout(
        "demo", "prod", "r2", rollout_id="ro-1", shadow=False, steps=[5, 50], policy={}, actor="a"
    )
    with pytest.raises(RolloutOpen) as again:
        store.start_rollout(
            "demo", "prod", "r3", rollout_id="ro-2", shadow=True, steps=[5], policy={}, actor="a"
        )
    assert (again.value.rollout_id, again.value.candidate_release, again.value.state) == (
        "ro-1",
        "r2",
        "active",
    )
    with pytest.raises(StaleRolloutDecision) as stale:
        store.change_rollout(
            "demo", "prod", "advance", actor="a", expect_generation=opened.generation - 1
        )
    assert (stale.value.rollout_id, stale.value.expected, stale.value.found) == (
        "ro-1",
        opened.generation - 1,
        opened.generation,
    )
    assert again.value.hint is None and stale.value.hint is None


def test_tampered_manifest_refusal_names_it(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    r2 = store.release_info("demo", "r2")
    assert r2 is not None
    with store._engine.connect() as conn, conn.begin():
        conn.execute(
            text("UPDATE teamrel_manifests SET body = body || ' ' WHERE release = 'r2'"),
        )
    with pytest.raises(TamperedStore) as err:
        store.promote("demo", "prod", "r2", actor="a")
    assert (err.value.kind, err.value.release, err.value.digest) == ("manifest", "r2", r2.digest)
    assert err.value.hint is None


def test_rollback_details_reach_the_audit_event(store: Store) -> None:
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    store.rollback(
        "demo", "prod", actor="a", reason="INC", details={"safety_overridden": ["finding"]}
    )
    event = store.events("demo", "prod", limit=1)[0]
    assert event.details["safety_overridden"] == ["finding"]
    assert event.details["rolled_back"] == ["r2"]
    assert store.verify().problems == []
