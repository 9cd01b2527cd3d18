"""Store schema versions: create, upgrade an older store, refuse a newer one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from teamrel.canonical import sha256_hex
from teamrel.errors import FormatVersionError, UsageError
from teamrel.manifest import build_manifest, manifest_file_bytes
from teamrel.models import ResolvedMember, member_digest
from teamrel.store import SCHEMA_VERSION, Store, open_store
from teamrel.store.engine import make_engine
from teamrel.store.migrations import migrate, read_version


def _member(text_: str) -> ResolvedMember:
    spec = {"kind": "tool", "version": "1.0.0", "input_schema": {"const": text_}}
    return ResolvedMember(
        name="", kind="tool", version="1.0.0", spec=spec, digest=member_digest(spec)
    )


def _record(store: Store, name: str) -> None:
    members = {"t": _member(name)}
    m = build_manifest(
        "demo", name, members, created_at="2026-01-01T00:00:00.000000Z", created_by="t"
    )
    store.record_release(m, members, file_sha256=sha256_hex(manifest_file_bytes(m)), actor="t")


def test_a_fresh_store_has_the_newest_schema(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}", None)
    assert store.schema_version() == SCHEMA_VERSION == 4
    store.close()


def test_an_older_store_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = make_engine(url)
    migrate(engine, url, target=1)
    old = Store(engine, migrate_schema=False)
    _record(old, "r1")
    _record(old, "r2")
    with engine.connect() as conn:
        assert read_version(conn) == 1
        assert not inspect(conn).has_table("teamrel_rollback_marks")
    engine.dispose()

    store = open_store(url, None)  # a newer teamrel opens it: upgraded, data kept
    assert store.schema_version() == SCHEMA_VERSION
    assert [r.release for r in store.releases("demo")] == ["r1", "r2"]
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    assert store.rollback("demo", "prod", actor="a").to_release == "r1"
    assert store.verify().problems == []
    store.close()


def test_a_newer_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url, None).close()
    engine = make_engine(url)
    with engine.connect() as conn, conn.begin():
        conn.execute(text("UPDATE teamrel_meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(FormatVersionError, match="schema version 99, newer") as err:
        open_store(url, None)
    assert err.value.hint and "upgrade teamrel" in err.value.hint
    with engine.connect() as conn:
        assert read_version(conn) == 99
    engine.dispose()


def test_concurrent_first_use_creates_the_store_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"

    def open_one(_: int) -> int:
        store = open_store(url, None)
        try:
            return store.schema_version()
        finally:
            store.close()

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(open_one, range(6))) == [SCHEMA_VERSION] * 6


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "postgresql+asyncpg://h/db"]
)
def test_unsupported_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError):
        make_engine(url)


def test_a_v2_store_gains_the_rollout_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = make_engine(url)
    migrate(engine, url, target=2)
    with engine.connect() as conn:
        assert not inspect(conn).has_table("teamrel_rollouts")
    engine.dispose()
    store = open_store(url, None)
    assert store.schema_version() == SCHEMA_VERSION
    with store._engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    assert {"teamrel_rollouts", "teamrel_outcomes", "teamrel_outcome_scores"} <= names
    store.close()


def test_a_v3_store_gains_the_flags_table_and_keeps_its_environments(tmp_path: Path) -> None:
    from teamrel.store.flagstore import flag_values, set_flag

    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = make_engine(url)
    migrate(engine, url, target=3)
    old = Store(engine, migrate_schema=False)
    _record(old, "r1")
    old.promote("demo", "prod", "r1", actor="a")
    with engine.connect() as conn:
        assert not inspect(conn).has_table("teamrel_flags")
    engine.dispose()
    store = open_store(url, None)
    assert store.schema_version() == SCHEMA_VERSION == 4
    with store._engine.connect() as conn:
        assert inspect(conn).has_table("teamrel_flags")
    assert store.live_manifest("demo", "prod") is not None
    assert flag_values(store, "demo", "prod") == {}
    # the store side alone (the proof is `flags set`'s business): CAS, value and event
    before = store.environment("demo", "prod")
    change = set_flag(store, "demo", "prod", "f", "percent", 12.5, actor="a", reason="r")
    assert flag_values(store, "demo", "prod")["f"].percent_bp == 1250
    assert change.generation == before.generation + 1  # type: ignore[union-attr]
    assert store.events("demo", "prod")[0].action == "flag"
    assert store.verify().problems == []
    store.close()
