"""Versioned store schema: creating a store, upgrading an older one, refusing a newer one.

Owns `SCHEMA_VERSION` and the ordered migrations that bring a store from any earlier version to
it. `migrate` runs them all in ONE write transaction holding the store-wide write lock (SQLite:
`BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory lock, DDL being transactional
there), re-reading the version under the lock, so concurrent first uses create the store once
and a failed migration leaves the store at its old version.

History:
- v1: snapshots, manifests (+ member index), environments, promotions, events, chain head.
- v2: `teamrel_rollback_marks` (manifests rolled back from, per environment).
- v3: `teamrel_rollouts`, `teamrel_outcomes`, `teamrel_outcome_scores` (progressive delivery),
  created from frozen table definitions (`_V3`), not from the live classes in `tables.py`.
- v4: `teamrel_flags` (feature flag values per environment, docs/flags.md), frozen as `_V4`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from teamrel import __version__
from teamrel.errors import FormatVersionError, StoreError
from teamrel.store.engine import describe_error
from teamrel.store.tables import V1_TABLES, V2_TABLES, V3_TABLES, V4_TABLES, table

#: The store schema version this teamrel writes.
SCHEMA_VERSION = 4

#: Key of the schema version in `teamrel_meta`.
VERSION_KEY = "schema_version"

#: PostgreSQL advisory lock key serialising migrations ("teamrel" as an int).
_PG_LOCK_KEY = 0x7465616D72656C


def _v1(conn: Connection) -> None:
    for name in V1_TABLES:
        table(name).create(conn)
    conn.execute(table("teamrel_chain").insert().values(id=1, seq=0, head=None))


def _v2(conn: Connection) -> None:
    for name in V2_TABLES:
        table(name).create(conn)


# Frozen: the v3 tables exactly as v3 creates them, whatever `tables.py` says later.
_V3 = MetaData()
Table(
    "teamrel_rollouts",
    _V3,
    Column("id", Integer, primary_key=True),
    Column("rollout_id", String(40), nullable=False, unique=True),
    Column("environment_id", Integer, nullable=False, index=True),
    Column("team", String(128), nullable=False),
    Column("environment", String(128), nullable=False),
    Column("stable_digest", String(80), nullable=False),
    Column("candidate_digest", String(80), nullable=False),
    Column("candidate_release", String(128), nullable=False),
    Column("phase", String(16), nullable=False),
    Column("weight_bp", Integer, nullable=False),
    Column("step_index", Integer, nullable=False),
    Column("steps", Text, nullable=False),
    Column("policy", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("started_by", String, nullable=False),
    Column("reason", String, nullable=True),
    Column("updated_at", String(40), nullable=False),
    Column("ended_at", String(40), nullable=True),
    Column("last_decision", Text, nullable=True),
)
Table(
    "teamrel_outcomes",
    _V3,
    Column("id", Integer, primary_key=True),
    Column("rollout_id", String(40), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("arm", String(8), nullable=False),
    Column("step", Integer, nullable=False),
    Column("release", String(128), nullable=False),
    Column("ok", Integer, nullable=False),
    Column("latency_ms", Float, nullable=True),
    Column("cost_usd", Float, nullable=True),
    Column("tool_calls", Integer, nullable=True),
    Column("at", String(40), nullable=False),
    UniqueConstraint("rollout_id", "run_id", name="uq_teamrel_outcomes_run"),
    Index("ix_teamrel_outcomes_arm_step", "rollout_id", "arm", "step", "ok"),
    Index("ix_teamrel_outcomes_arm_latency", "rollout_id", "arm", "latency_ms"),
)
Table(
    "teamrel_outcome_scores",
    _V3,
    Column("rollout_id", Text, primary_key=True),
    Column("run_id", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("arm", String(8), nullable=False),
    Column("value", Float, nullable=False),
    Index("ix_teamrel_outcome_scores_arm", "rollout_id", "arm", "name"),
)


def _v3(conn: Connection) -> None:
    for name in V3_TABLES:
        _V3.tables[name].create(conn)


# Frozen: the v4 table exactly as v4 creates it.
_V4 = MetaData()
Table(
    "teamrel_flags",
    _V4,
    Column("id", Integer, primary_key=True),
    Column("environment_id", Integer, nullable=False, index=True),
    Column("flag", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("percent_bp", Integer, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("updated_by", String, nullable=False),
    Column("reason", String, nullable=True),
    UniqueConstraint("environment_id", "flag", name="uq_teamrel_flags_environment_flag"),
)


def _v4(conn: Connection) -> None:
    for name in V4_TABLES:
        _V4.tables[name].create(conn)


#: version -> the migration that produces it from the previous version.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4}


def read_version(conn: Connection) -> int:
    """The schema version of the store behind `conn` (0 for an empty database)."""
    if not inspect(conn).has_table("teamrel_meta"):
        return 0
    value = conn.execute(
        text("SELECT value FROM teamrel_meta WHERE key = :k"), {"k": VERSION_KEY}
    ).scalar()
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        raise StoreError(f"state store has an unreadable schema version {value!r}") from None


def _refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise FormatVersionError(
            f"state store {where} has schema version {version}, newer than this teamrel "
            f"({__version__}) understands (up to {SCHEMA_VERSION}); nothing was changed",
            hint="upgrade teamrel to use this store",
        )


def migrate(engine: Engine, where: str, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the store to `target` (default: the newest version); returns the version it had."""
    with engine.connect() as conn:
        before = read_version(conn)
    _refuse_newer(before, where)
    if before >= target:
        return before
    write = engine.execution_options(teamrel_write=True)
    try:
        with write.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            current = read_version(conn)  # again, under the lock: another process may have won
            _refuse_newer(current, where)
            for version in range(current + 1, target + 1):
                MIGRATIONS[version](conn)
            if current < target:
                meta = table("teamrel_meta")
                if current == 0:
                    conn.execute(meta.insert().values(key=VERSION_KEY, value=str(target)))
                else:
                    conn.execute(
                        meta.update().where(meta.c.key == VERSION_KEY).values(value=str(target))
                    )
    except SQLAlchemyError as err:
        raise StoreError(
            f"could not create or upgrade the state store {where}: {describe_error(err)}"
        ) from None
    return before
