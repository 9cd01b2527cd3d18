"""Connecting to a state store: URLs, SQLite pragmas and transaction control, fault injection.

Owns how teamrel talks to its two backends:
- SQLite (the default, `<workspace>/.teamrel/state.db`): WAL journal, `synchronous=FULL`, foreign
  keys on, a 30 s busy timeout, and SQLAlchemy (not the sqlite3 module) emitting `BEGIN`: reads
  use a deferred `BEGIN`, writes `BEGIN IMMEDIATE`, so concurrent writers queue for the write
  lock up front instead of failing when a read lock must be upgraded.
- PostgreSQL (`postgresql+psycopg://...`), for a store shared between CI runners and operators.

The fault-injection hook (`fault(point)`) lets the crash-safety tests SIGKILL the process at
named points inside promote and rollback: set `TEAMREL_FAULT=<point>`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from teamrel.errors import UsageError

#: Environment variable selecting the store URL (the CLI reads it too).
DATABASE_URL_ENV = "TEAMREL_DATABASE_URL"
#: Workspace-relative path of the default SQLite store.
DEFAULT_SQLITE_PATH = Path(".teamrel") / "state.db"
#: Environment variable naming a fault point at which the process SIGKILLs itself.
FAULT_ENV = "TEAMREL_FAULT"
#: Seconds a writer waits for the SQLite write lock before giving up.
SQLITE_BUSY_SECONDS = 30

#: Every fault point, for documentation and tests.
FAULT_POINTS: tuple[str, ...] = tuple(
    f"{op}.{where}"
    for op in ("promote", "rollback", "rollout")
    for where in (
        "before_update",
        "after_update",
        "before_event",
        "after_event",
        "before_commit",
        "after_commit",
    )
)


def fault(point: str) -> None:
    """SIGKILL this process if `TEAMREL_FAULT` names `point` (crash-safety tests only)."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def describe_error(err: BaseException) -> str:
    """A one-line description of a database error (the driver's message, first line)."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip()
    return " ".join(text.splitlines()[:1]) or type(err).__name__


def normalize_url(url: str) -> str:
    """Accept `postgres://` / `postgresql://` for PostgreSQL (psycopg 3 is the driver)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def display_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


def default_url(root: Path) -> str:
    """The SQLite URL of the default store of the workspace at `root` (nothing is created:
    opening a store for writing creates its directory)."""
    return f"sqlite:///{root / DEFAULT_SQLITE_PATH}"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite store URL; None for another backend or in-memory."""
    try:
        parsed = make_url(normalize_url(url))
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_empty_engine() -> Engine:
    """A private in-memory SQLite engine (one connection), for an empty stand-in store."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    _configure_sqlite(engine)
    return engine


def make_engine(url: str) -> Engine:
    """An engine for `url` (sqlite or postgresql), configured for teamrel's transactions."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(f"invalid state store URL {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise UsageError(
                "an in-memory SQLite store cannot hold releases; give a file path "
                "(sqlite:///path/state.db)"
            )
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() not in ("psycopg", ""):
            raise UsageError(
                f"unsupported PostgreSQL driver {parsed.get_driver_name()!r}: "
                "use postgresql+psycopg://"
            )
        return create_engine(url, pool_pre_ping=True)
    raise UsageError(
        f"unsupported state store {display_url(url)}: use sqlite:///PATH or "
        "postgresql+psycopg://USER@HOST/DB"
    )


def _wal(cursor: Any) -> None:
    """`PRAGMA journal_mode = WAL`, retried while another connection holds the lock: switching
    a new database to WAL takes an exclusive lock, and SQLite can answer "database is locked"
    there without waiting on the busy timeout (seen when several processes create the same
    store at once)."""
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides where transactions begin (see _begin)
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_SECONDS * 1000}")
            _wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get("teamrel_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
