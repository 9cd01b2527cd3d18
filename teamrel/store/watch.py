"""Change feeds: how a long-lived reader learns, cheaply, that a pointer may have moved.

Owns the two backend-specific ways a `teamrel.Runtime` detects a promote or rollback made by
another process without re-reading every pointer on every call:

- SQLite: `PRAGMA data_version` on one connection kept open for the purpose. Its value changes
  whenever another connection (any process) commits to the database file; asking costs a few
  microseconds and no I/O beyond the WAL index.
- PostgreSQL: `LISTEN teamrel_env` on a dedicated connection, read by a daemon thread. Promote
  and rollback send `pg_notify('teamrel_env', ...)` inside their own transaction, so a
  notification is delivered only once the pointer move is committed (never for one that rolled
  back). While the listening connection is down the feed says "unknown" (`token()` is None) and
  the thread reconnects with backoff; every (re)connect counts as a change, because
  notifications sent while disconnected are lost.

Either way the reader asks `token()` BEFORE it reads a pointer and trusts its cached pointer
only while the token is unchanged: a move committed between the two reads changes the token,
so it is picked up on the next call, never lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import threading
from collections import deque
from typing import Any

from sqlalchemy import Engine

#: The PostgreSQL notification channel promote and rollback send on.
CHANNEL = "teamrel_env"

#: Seconds between liveness pings of an idle PostgreSQL listener (a silently dead connection
#: is noticed within this time; the runtime's TTL bounds staleness meanwhile).
PING_SECONDS = 30.0

_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 2.0


class ChangeFeed:
    """A feed with no change detection: `token()` is always None ("re-read to be sure")."""

    def token(self) -> int | None:
        """A value that changes whenever a pointer may have moved; None when unknown."""
        return None

    @property
    def listening(self) -> bool:
        """True while the feed can tell that nothing changed."""
        return False

    def close(self) -> None:
        """Stop watching and release the feed's connection."""


class SqliteDataVersion(ChangeFeed):
    """`PRAGMA data_version` on a connection of its own (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._conn = _detached(engine)
        self._lock = threading.Lock()
        self._closed = False

    def token(self) -> int | None:
        """The database's data_version as seen by the feed's own connection."""
        with self._lock:
            if self._closed:
                return None
            try:
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            except Exception:  # any failure only means "re-read the pointer"
                return None

    @property
    def listening(self) -> bool:
        """True until closed."""
        return not self._closed

    def close(self) -> None:
        """Close the kept connection."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()


class PgListener(ChangeFeed):
    """`LISTEN teamrel_env` in a daemon thread (see the module docstring)."""

    def __init__(self, engine: Engine, *, wait_seconds: float = 5.0) -> None:
        self._engine = engine
        self._token = 0
        self._connected = False
        #: the server process of the listening connection (None while disconnected)
        self.backend_pid: int | None = None
        self._stop = threading.Event()
        self._up = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._lock = threading.Lock()
        #: the last notifications heard: (team, environment, generation), for diagnostics
        self.recent: deque[tuple[str, str, int]] = deque(maxlen=100)
        self._thread = threading.Thread(target=self._run, name="teamrel-listen", daemon=True)
        self._thread.start()
        # a runtime that starts while PostgreSQL is unreachable still works (token() is None:
        # every call re-reads the pointer), so this wait is bounded
        self._up.wait(wait_seconds)

    def token(self) -> int | None:
        """Notifications (and reconnects) counted so far; None while not listening."""
        return self._token if self._connected else None

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up."""
        return self._connected

    @property
    def thread(self) -> threading.Thread:
        """The listening thread (tests check it stops)."""
        return self._thread

    def close(self) -> None:
        """Stop the thread (promptly: it is woken through a pipe) and close its connection."""
        with self._lock:
            if self._stop.is_set():
                return
            self._stop.set()
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _connect(self) -> Any:
        conn = _detached(self._engine)
        try:
            conn.rollback()
            conn.autocommit = True
            conn.execute(f"LISTEN {CHANNEL}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _run(self) -> None:
        backoff = _BACKOFF_FIRST
        while not self._stop.is_set():
            try:
                conn = self._connect()
            except Exception:  # unreachable: retry; readers re-read pointers meanwhile
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            backoff = _BACKOFF_FIRST
            try:
                # anything sent while not listening was lost: count the reconnect as a change
                self._token += 1
                self.backend_pid = conn.info.backend_pid
                self._connected = True
                self._up.set()
                self._listen(conn)
            except Exception:  # the connection dropped: reconnect
                pass
            finally:
                self._connected = False
                self.backend_pid = None
                self._token += 1
                with contextlib.suppress(Exception):  # already broken
                    conn.close()

    def _listen(self, conn: Any) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([conn.fileno(), self._wake_r], [], [], PING_SECONDS)
            if self._wake_r in ready:
                return
            if not ready:
                conn.execute("SELECT 1")  # raises on a connection that died silently
                continue
            for note in conn.notifies(timeout=0):
                self._token += 1
                self.recent.append(_payload(note.payload))


def _detached(engine: Engine) -> Any:
    """A new driver connection configured like the engine's, owned by the caller: never
    returned to the pool (data_version only reports commits made by OTHER connections, and a
    listening connection must stay in autocommit)."""
    proxy = engine.raw_connection()
    conn = proxy.driver_connection
    proxy.detach()
    if conn is None:
        raise RuntimeError("the database driver gave no connection")
    return conn


def _payload(text: str) -> tuple[str, str, int]:
    try:
        doc = json.loads(text)
        return (str(doc["team"]), str(doc["env"]), int(doc["generation"]))
    except (ValueError, KeyError, TypeError):
        return ("", "", -1)


def notify_payload(team: str, env: str, generation: int) -> str:
    """The notification payload for a pointer move (JSON; far below NOTIFY's 8000-byte limit)."""
    return json.dumps({"team": team, "env": env, "generation": generation}, sort_keys=True)


def change_feed(engine: Engine) -> ChangeFeed:
    """The best change feed `engine`'s backend offers."""
    if engine.dialect.name == "sqlite":
        return SqliteDataVersion(engine)
    if engine.dialect.name == "postgresql":
        return PgListener(engine)
    return ChangeFeed()
