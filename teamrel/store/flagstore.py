"""Feature flag values per environment (schema v4, `teamrel_flags`), read and written.

Owns `flag_values` (an environment's flag settings, one indexed read: what runtimes and
`flags status` read), `set_flag` and `flag_history`. A flag change is like a promotion: ONE
transaction that reads the environment row, lets the caller's check refuse it (against the
live manifest, and an open rollout's candidate, with every current value: `flags set`
refuses a state a release serving runs did not prove), moves the environment's generation by
compare-and-swap (on PostgreSQL that transaction sends the NOTIFY runtimes listen for, so a
kill switch reaches them by push), writes the value and appends a `flag` audit event.
Release pointers are never touched, and `rollback` never touches flag values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import insert, select, update

from teamrel.canonical import JSON
from teamrel.errors import ConflictError, NotFoundError, UsageError
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


def normalise(state: str, percent: float | None) -> tuple[FlagStateName, float | None]:
    """(state, percent) as stored: `--percent 0` is off, `--percent 100` is on."""
    if percent is not None:
        if state not in ("percent", ""):
            raise UsageError("give either on|off or --percent N, not both")
        if not 0 <= percent <= 100 or round(percent * 100) != percent * 100:
            raise UsageError(
                f"--percent must be between 0 and 100 with at most two decimals, not {percent}"
            )
        if percent == 0:
            return "off", None
        if percent == 100:
            return "on", None
        return "percent", float(percent)
    if state not in ("on", "off"):
        raise UsageError(f"a flag is set on, off or --percent N, not {state!r}")
    return ("on" if state == "on" else "off"), None


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
        current = {
            str(r.flag): _row_value(r)
            for r in conn.execute(
                select(
                    _FLAG.c.flag,
                    _FLAG.c.state,
                    _FLAG.c.percent_bp,
                    _FLAG.c.updated_at,
                    _FLAG.c.updated_by,
                    _FLAG.c.reason,
                ).where(_FLAG.c.environment_id == row.id)
            )
        }
        after = FlagValue(flag, state, percent, now, actor, reason)
        before = current.get(flag)
        if check is not None:
            check(manifest, {**current, flag: after})
            rollout = store._open_rollout(conn, row.id)
            if rollout is not None and rollout.candidate_digest != manifest.digest:
                # a rollout's candidate serves runs too: it must have proved the state as well
                check(
                    store._load_manifest(conn, str(rollout.candidate_digest)),
                    {**current, flag: after},
                )
        if before is not None and (before.state, before.percent) == (state, percent):
            return FlagChange(
                team, env, flag, before, before, manifest.release, int(row.generation), None, True
            )
        generation = store._cas(conn, row, {}, env, team)
        values = {
            "state": state,
            "percent_bp": after.percent_bp,
            "updated_at": now,
            "updated_by": actor,
            "reason": reason,
        }
        if before is None:
            conn.execute(insert(_FLAG).values(environment_id=row.id, flag=flag, **values))
        else:
            done = conn.execute(
                update(_FLAG)
                .where(_FLAG.c.environment_id == row.id, _FLAG.c.flag == flag)
                .values(**values)
            )
            if done.rowcount != 1:  # pragma: no cover - the CAS above serialises writers
                raise ConflictError(f"conflict: flag {flag} of {env} changed concurrently")
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


def flag_history(store: Store, team: str, env: str) -> list[Event]:
    """Every flag change of `env`, oldest first (the `flag` events of the audit log)."""
    events = [e for e in store.events(team, env) if e.action == "flag"]
    return sorted(events, key=lambda e: e.seq)
