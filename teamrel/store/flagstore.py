"""Feature flag values per environment (schema v4, `teamrel_flags`), read and written.

Owns `flag_values` (an environment's flag settings, one indexed read: what runtimes and the
flag status read), `set_flag` and `flag_history`. A flag change is like a promotion: ONE
transaction that reads the environment row, lets the caller's check refuse it (against the
live manifest, and an open rollout's candidate, with every current value: teamrel.flagops
refuses a state a release serving runs did not prove), moves the environment's generation by
compare-and-swap (on PostgreSQL that transaction sends the NOTIFY runtimes listen for, so a
kill switch reaches them by push), writes the value and appends a `flag` audit event.
Release pointers are never touched, and a rollback never touches flag values. The values
given are stored as they are (`flagops.normalise` reads the command's input).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Connection, insert, select, update

from teamrel.canonical import JSON
from teamrel.errors import ConflictError, NotFoundError
from teamrel.manifest import Manifest
from teamrel.store.store import BUCKETS, Event, Store, iso, utcnow
from teamrel.store.tables import table

_FLAG = table("teamrel_flags")
_ENV = table("teamrel_environments")

FlagStateName = Literal["on", "off", "percent"]


@dataclass(frozen=True)
class FlagValue:
    """One flag's setting in an environment."""

    flag: str
    state: FlagStateName
    #: with `percent`: the share of keys the flag is on for (0 < percent < 100)
    percent: float | None
    updated_at: str | None
    updated_by: str | None
    reason: str | None

    @property
    def percent_bp(self) -> int:
        """The share in 1/10,000 (0 off, 10,000 on)."""
        if self.state == "on":
            return BUCKETS
        if self.state == "off":
            return 0
        return round((self.percent or 0) * 100)

    def reachable(self) -> set[bool]:
        """The values runs may see under this setting."""
        if self.state == "percent":
            return {True, False}
        return {self.state == "on"}

    def describe(self) -> str:
        """`on`, `off` or `25%`."""
        return f"{self.percent:g}%" if self.state == "percent" else self.state

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return asdict(self)


def _row_value(row: Any) -> FlagValue:
    state: FlagStateName = row.state
    return FlagValue(
        flag=str(row.flag),
        state=state,
        percent=row.percent_bp / 100 if state == "percent" else None,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        reason=row.reason,
    )


def flag_values(store: Store, team: str, env: str) -> dict[str, FlagValue]:
    """The flags set in `env` (a flag never set is at the live release's default)."""
    with store._tx() as conn:
        rows = conn.execute(
            select(
                _FLAG.c.flag,
                _FLAG.c.state,
                _FLAG.c.percent_bp,
                _FLAG.c.updated_at,
                _FLAG.c.updated_by,
                _FLAG.c.reason,
            )
            .select_from(_FLAG.join(_ENV, _ENV.c.id == _FLAG.c.environment_id))
            .where(_ENV.c.team == team, _ENV.c.name == env)
            .order_by(_FLAG.c.flag)
        ).all()
    return {str(r.flag): _row_value(r) for r in rows}


@dataclass(frozen=True)
class FlagChange:
    """The outcome of `set_flag`."""

    team: str
    environment: str
    flag: str
    before: FlagValue | None
    after: FlagValue
    release: str | None
    generation: int
    event_seq: int | None
    noop: bool = False

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return {
            "team": self.team,
            "environment": self.environment,
            "flag": self.flag,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json(),
            "release": self.release,
            "generation": self.generation,
            "event_seq": self.event_seq,
            "noop": self.noop,
        }


def set_flag(
    store: Store,
    team: str,
    env: str,
    flag: str,
    state: FlagStateName,
    percent: float | None,
    *,
    actor: str,
    reason: str | None,
    check: Callable[[Manifest, Mapping[str, FlagValue]], None] | None = None,
) -> FlagChange:
    """Set `flag` in `env`: one transaction, compare-and-swap on the environment's
    generation, one `flag` audit event. `check(live manifest, values after the change)` may
    refuse it (raising) before anything is written."""
    now = iso(utcnow())
    with store._tx(write=True) as conn:
        row = store._env_row(conn, team, env)
        if row is None or row.manifest_digest is None:
            raise NotFoundError(
                f"nothing is live in {env} of team {team}: flags belong to a live release",
                hint=f"promote a release to {env} first",
            )
        manifest = store._load_manifest(conn, str(row.manifest_digest))
        current = _current_values(conn, row.id)
        after = FlagValue(flag, state, percent, now, actor, reason)
        before = current.get(flag)
        if check is not None:
            _check_served(store, conn, row, manifest, {**current, flag: after}, check)
        if before is not None and (before.state, before.percent) == (state, percent):
            return FlagChange(
                team, env, flag, before, before, manifest.release, int(row.generation), None, True
            )
        generation = store._cas(conn, row, {}, env, team)
        _write_value(conn, row.id, env, before, after)
        seq = store._append_event(
            conn,
            action="flag",
            team=team,
            environment=env,
            release_from=manifest.release,
            release_to=manifest.release,
            from_manifest=manifest.digest,
            to_manifest=manifest.digest,
            generation=generation,
            actor=actor,
            reason=reason,
            details={
                "flag": flag,
                "from": before.describe() if before else None,
                "to": after.describe(),
            },
            at=now,
        )
    return FlagChange(team, env, flag, before, after, manifest.release, generation, seq)


def _current_values(conn: Connection, env_id: int) -> dict[str, FlagValue]:
    """Every flag set in an environment (by its row id), in the caller's transaction."""
    return {
        str(r.flag): _row_value(r)
        for r in conn.execute(
            select(
                _FLAG.c.flag,
                _FLAG.c.state,
                _FLAG.c.percent_bp,
                _FLAG.c.updated_at,
                _FLAG.c.updated_by,
                _FLAG.c.reason,
            ).where(_FLAG.c.environment_id == env_id)
        )
    }


def _check_served(
    store: Store,
    conn: Connection,
    row: Any,
    manifest: Manifest,
    values: Mapping[str, FlagValue],
    check: Callable[[Manifest, Mapping[str, FlagValue]], None],
) -> None:
    """Let `check` refuse `values` for every release serving runs in the environment: the
    live one and an open rollout's candidate."""
    check(manifest, values)
    rollout = store._open_rollout(conn, row.id)
    if rollout is not None and rollout.candidate_digest != manifest.digest:
        # a rollout's candidate serves runs too: it must have proved the state as well
        check(store._load_manifest(conn, str(rollout.candidate_digest)), values)


def _write_value(
    conn: Connection, env_id: int, env: str, before: FlagValue | None, after: FlagValue
) -> None:
    """Insert or update one flag's row (the caller moved the environment's generation)."""
    values = {
        "state": after.state,
        "percent_bp": after.percent_bp,
        "updated_at": after.updated_at,
        "updated_by": after.updated_by,
        "reason": after.reason,
    }
    if before is None:
        conn.execute(insert(_FLAG).values(environment_id=env_id, flag=after.flag, **values))
        return
    done = conn.execute(
        update(_FLAG)
        .where(_FLAG.c.environment_id == env_id, _FLAG.c.flag == after.flag)
        .values(**values)
    )
    if done.rowcount != 1:  # pragma: no cover - the CAS above serialises writers
        raise ConflictError(f"conflict: flag {after.flag} of {env} changed concurrently")


def flag_history(store: Store, team: str, env: str) -> list[Event]:
    """Every flag change of `env`, oldest first (the `flag` events of the audit log)."""
    events = [e for e in store.events(team, env) if e.action == "flag"]
    return sorted(events, key=lambda e: e.seq)
