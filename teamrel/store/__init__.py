"""The state store: the one package that imports SQLModel/SQLAlchemy.

Owns opening a store (`open_store`): the URL given, else `TEAMREL_DATABASE_URL`, else
SQLite at `<workspace>/.teamrel/state.db` (created on first write: read-only commands get an
empty stand-in instead), migrated to the newest schema on open (an older teamrel refuses a
newer store). See `teamrel.store.store.Store` for the operations and docs/operations.md for
the design.
"""

from __future__ import annotations

import os
from pathlib import Path

from teamrel.errors import UsageError
from teamrel.store.engine import DATABASE_URL_ENV, FAULT_POINTS, default_url, sqlite_file
from teamrel.store.flagstore import (
    FlagChange,
    FlagStateName,
    FlagValue,
    flag_history,
    flag_values,
    set_flag,
)
from teamrel.store.migrations import SCHEMA_VERSION
from teamrel.store.store import (
    BUCKETS,
    OPEN_STATES,
    ROLLBACK_GUARD_SECONDS,
    ArmStats,
    EnvState,
    Event,
    Outcome,
    ReleaseInfo,
    RolloutState,
    Route,
    StepCounts,
    Store,
    TargetInfo,
    Transition,
    VerifyProblem,
    VerifyReport,
    bucket,
    iso,
    parse_iso,
    utcnow,
)


def store_url(url: str | None, root: Path | None) -> str:
    """The URL a store would be opened at (see `open_store`)."""
    url = url or os.environ.get(DATABASE_URL_ENV) or None
    if url:
        return url
    if root is None:
        raise UsageError(
            f"no state store: give a database URL (or set {DATABASE_URL_ENV}) or a workspace"
        )
    return default_url(root)


def open_store(url: str | None, root: Path | None, *, create: bool = True) -> Store:
    """Open the state store at `url`, else TEAMREL_DATABASE_URL, else the workspace default.

    `create=False` (read-only commands): a SQLite store whose file does not exist is not
    created; an empty stand-in (`Store.is_missing`) answers "nothing released yet".
    """
    target = store_url(url, root)
    if not create:
        path = sqlite_file(target)
        if path is not None and not path.exists():
            return Store.missing(target)
    return Store.connect(target)


__all__ = [
    "BUCKETS",
    "DATABASE_URL_ENV",
    "FAULT_POINTS",
    "OPEN_STATES",
    "ROLLBACK_GUARD_SECONDS",
    "SCHEMA_VERSION",
    "ArmStats",
    "EnvState",
    "Event",
    "FlagChange",
    "FlagStateName",
    "FlagValue",
    "Outcome",
    "ReleaseInfo",
    "RolloutState",
    "Route",
    "StepCounts",
    "Store",
    "TargetInfo",
    "Transition",
    "VerifyProblem",
    "VerifyReport",
    "bucket",
    "flag_history",
    "flag_values",
    "iso",
    "open_store",
    "parse_iso",
    "set_flag",
    "store_url",
    "utcnow",
]
