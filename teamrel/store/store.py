"""The state store: releases, environments, promotion chains and the audit log, transactionally.

Owns every read and write of the store's tables. Each write operation is ONE transaction
(`_tx(write=True)`): recording a release (snapshots, manifest, member index, event), promoting a
manifest into an environment, rolling an environment back. Environment pointers move by
compare-and-swap on the environment's `generation` (`UPDATE ... WHERE generation = :read`): a
concurrent operator gets a `ConflictError` and nothing changes. Every change appends an audit
event whose hash chains to the previous one, in the same transaction.

Promote and rollback do no per-member work: a manifest is verified member by member when it is
recorded (`verified` flag); moving a pointer to it re-hashes only the stored manifest bytes and
counts its snapshots through an index (see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Table, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from teamrel.canonical import JSON, canonical_json, digest, sha256_hex
from teamrel.errors import (
    ConflictError,
    GenerationConflict,
    IntegrityError,
    NotAnEarlierRelease,
    NotFoundError,
    RecentRollback,
    ReleaseNameTaken,
    RolledBackFrom,
    RolloutOpen,
    StaleRolloutDecision,
    StoreError,
    StoreUnreachable,
    TamperedStore,
    TeamrelError,
    UnexpectedLive,
    UsageError,
)
from teamrel.manifest import DIGEST_RE, Manifest, member_from_spec
from teamrel.models import ResolvedMember
from teamrel.store.engine import (
    describe_error,
    display_url,
    fault,
    make_empty_engine,
    make_engine,
)
from teamrel.store.migrations import SCHEMA_VERSION, migrate, read_version
from teamrel.store.tables import table
from teamrel.store.watch import CHANNEL, ChangeFeed, change_feed, notify_payload

#: Seconds after a rollback during which a plain rollback (no `to`, `steps` or `expect`) of the
#: same environment is refused rather than going further back (two operators, one incident).
ROLLBACK_GUARD_SECONDS = 10

_META = table("teamrel_meta")
_SNAP = table("teamrel_snapshots")
_MAN = table("teamrel_manifests")
_MM = table("teamrel_manifest_members")
_ENV = table("teamrel_environments")
_PROMO = table("teamrel_promotions")
_EVENT = table("teamrel_events")
_CHAIN = table("teamrel_chain")
_MARK = table("teamrel_rollback_marks")
_ROLL = table("teamrel_rollouts")
_OUT = table("teamrel_outcomes")
_SCORE = table("teamrel_outcome_scores")

Action = Literal["release", "import", "promote", "rollback", "rollout", "flag"]

#: Rollout states in which a rollout is open (routes traffic or waits for a human).
OPEN_STATES = ("active", "paused")
#: Routing resolution: a key hashes into one of this many buckets.
BUCKETS = 10_000


def utcnow() -> datetime:
    """The current UTC time (one place, so tests can reason about it)."""
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """RFC 3339 UTC with microseconds and a `Z`: sortable as text."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(value: str) -> datetime:
    """Inverse of `iso`."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class ReleaseInfo:
    """A recorded release without its member list."""

    team: str
    release: str
    digest: str
    created_at: str
    created_by: str
    parent: str | None
    allow_incompatible: str | None
    member_count: int

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class TargetInfo:
    """What promote/rollback is about to make live, handed to the caller's check hook."""

    team: str
    release: str
    digest: str
    allow_incompatible: str | None
    file_sha256: str
    #: rollback only: the manifest live when the transaction read the environment (the
    #: caller's safety proof was made for one (current, target) pair: it checks both)
    current: str | None = None


@dataclass(frozen=True)
class EnvState:
    """One environment: what is live, since when, set by whom and how."""

    team: str
    name: str
    release: str | None
    manifest_digest: str | None
    generation: int
    last_action: str | None
    updated_at: str | None
    updated_by: str | None
    reason: str | None
    rolled_back: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        doc = asdict(self)
        doc["rolled_back"] = list(self.rolled_back)
        return doc


@dataclass(frozen=True)
class Event:
    """One audit event."""

    seq: int
    at: str
    action: str
    team: str
    environment: str | None
    release_from: str | None
    release_to: str | None
    from_manifest: str | None
    to_manifest: str | None
    generation: int | None
    actor: str
    reason: str | None
    details: dict[str, JSON]
    prev_hash: str | None
    hash: str

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class Transition:
    """The outcome of a promote or rollback."""

    action: Literal["promote", "rollback"]
    team: str
    environment: str
    from_release: str | None
    from_manifest: str | None
    to_release: str
    to_manifest: str
    generation: int
    actor: str
    reason: str | None
    at: str
    event_seq: int | None
    #: releases a rollback went back past (now marked rolled back in the environment)
    rolled_back: tuple[str, ...] = ()
    #: the target was already live: nothing was written
    noop: bool = False

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        doc = asdict(self)
        doc["rolled_back"] = list(self.rolled_back)
        return doc


@dataclass(frozen=True)
class VerifyProblem:
    """Something in the store (or a manifest file) that does not match its digest or chain."""

    kind: str  # manifest | snapshot | event | chain | environment | file
    subject: str
    message: str

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return asdict(self)


@dataclass
class VerifyReport:
    """What `Store.verify` checked and what did not match."""

    manifests: int = 0
    snapshots: int = 0
    events: int = 0
    environments: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)


@dataclass(frozen=True)
class RolloutState:
    """A rollout of a candidate release in an environment (open or ended)."""

    rollout_id: str
    team: str
    environment: str
    stable_release: str | None
    stable_digest: str
    candidate_release: str
    candidate_digest: str
    phase: str
    weight: float
    step_index: int
    steps: list[float]
    policy: dict[str, JSON]
    state: str
    started_at: str
    started_by: str
    reason: str | None
    updated_at: str
    ended_at: str | None
    last_decision: dict[str, JSON] | None
    #: the environment's generation when this state was read (CAS for the next change)
    generation: int

    @property
    def is_open(self) -> bool:
        """Still routing traffic (active or paused)."""
        return self.state in OPEN_STATES

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        doc = asdict(self)
        doc["steps"] = list(self.steps)
        return doc


@dataclass(frozen=True)
class Route:
    """What a runtime needs to route a run in an environment: one indexed read."""

    stable_digest: str
    generation: int
    rollout_id: str | None = None
    candidate_digest: str | None = None
    phase: str | None = None
    weight_bp: int = 0
    step_index: int = -1


@dataclass(frozen=True)
class Outcome:
    """The outcome of one run (an arm of a rollout), as recorded."""

    rollout_id: str
    run_id: str
    arm: str
    step: int
    release: str
    ok: bool
    latency_ms: float | None = None
    cost_usd: float | None = None
    tool_calls: int | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    at: str | None = None


@dataclass(frozen=True)
class StepCounts:
    """Conversations and failures of one arm in one step."""

    step: int
    n: int
    failures: int


@dataclass(frozen=True)
class ArmStats:
    """Aggregates of one arm of a rollout, computed in SQL."""

    arm: str
    steps: list[StepCounts]
    latency_n: int
    latency_p50: float | None
    latency_p95: float | None
    cost_n: int
    cost_sum: float
    cost_sumsq: float
    #: runs with a latency above the threshold asked for (None when none was asked)
    latency_over: int | None
    #: name -> (n, sum, sum of squares)
    scores: dict[str, tuple[int, float, float]]

    @property
    def n(self) -> int:
        """Conversations."""
        return sum(s.n for s in self.steps)

    @property
    def failures(self) -> int:
        """Failed conversations."""
        return sum(s.failures for s in self.steps)


def bucket(rollout_id: str, key: str) -> int:
    """The routing bucket (0..BUCKETS-1) of `key` in a rollout: a run goes to the candidate
    iff its bucket is below the weight in basis points, so a key keeps its arm at a given
    weight (sticky) and raising the weight only adds keys to the candidate (monotone)."""
    h = hashlib.blake2b(f"{rollout_id}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") % BUCKETS


def event_hash(fields: Mapping[str, JSON]) -> str:
    """The chained hash of an event: sha256 over the canonical JSON of every other field."""
    return digest({k: v for k, v in fields.items() if k != "hash"})


# --------------------------------------------------------------------------- the store


class Store:
    """A teamrel state store on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, *, migrate_schema: bool = True) -> None:
        self._engine = engine
        self._write_engine = engine.execution_options(teamrel_write=True)
        self.url = display_url(engine.url.render_as_string(hide_password=True))
        self.backend = engine.dialect.name
        #: True for the empty stand-in of a store that does not exist yet (`missing`)
        self.is_missing = False
        if migrate_schema:
            try:
                migrate(engine, self.url)
            except BaseException:
                engine.dispose()  # a refused or unreachable store leaves no connection open
                raise

    @classmethod
    def connect(cls, url: str) -> Store:
        """Open (creating or upgrading) the store at `url`."""
        try:
            return cls(make_engine(url))
        except SQLAlchemyError as err:
            reason = describe_error(err)
            raise StoreUnreachable(
                f"cannot open the state store {display_url(url)}: {reason}",
                url=display_url(url),
                reason=reason,
            ) from None

    @classmethod
    def missing(cls, url: str) -> Store:
        """An empty in-memory store standing in for the SQLite store at `url`, which does not
        exist yet: reads answer "nothing released yet" and no file is created. Read-only
        commands use it; it must never be written to."""
        store = cls(make_empty_engine())
        store.url = display_url(url)
        store.is_missing = True
        return store

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    def schema_version(self) -> int:
        """The store's schema version."""
        with self._tx() as conn:
            return read_version(conn)

    @contextmanager
    def _tx(self, *, write: bool = False) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        engine = self._write_engine if write else self._engine
        try:
            with engine.connect() as conn, conn.begin():
                yield conn
        except TeamrelError:
            raise
        except SAIntegrityError as err:
            raise ConflictError(
                f"conflict: a concurrent operation changed the state store first ({_orig(err)}); "
                "nothing was changed",
                hint="re-run the command",
            ) from None
        except DBAPIError as err:
            raise StoreError(f"state store {self.url}: {_orig(err)}") from None
        except SQLAlchemyError as err:
            raise StoreError(f"state store {self.url}: {describe_error(err)}") from None

    # ------------------------------------------------------------------ releases

    def record_release(
        self,
        manifest: Manifest,
        members: Mapping[str, ResolvedMember],
        *,
        file_sha256: str,
        actor: str,
        reason: str | None = None,
        reuse_same_content: bool = True,
        action: Literal["release", "import"] = "release",
        extra_snapshots: Mapping[str, ResolvedMember] | None = None,
    ) -> tuple[Manifest, bool]:
        """Record a release (snapshots, manifest, event) in one transaction.

        Returns `(manifest, created)`. Idempotent: the same manifest again, or (when
        `reuse_same_content`) a release of the same team content under another name,
        returns the existing manifest with `created=False`. A different manifest under an
        existing release name is a ConflictError.
        """
        body_text = canonical_json(manifest.body())
        if sha256_hex(body_text.encode("utf-8")) != manifest.digest:
            raise IntegrityError(f"release {manifest.release}: manifest digest does not match")
        snapshots = _verified_snapshots(manifest, members, extra_snapshots or {})
        key = manifest.content_key  # linear in team size: computed once
        with self._tx(write=True) as conn:
            existing = self._recorded_as(conn, manifest, key if reuse_same_content else None)
            if existing is not None:
                return self._load_manifest(conn, existing), False
            self._refuse_name_clash(conn, manifest)
            new_snapshots = self._insert_release(
                conn, manifest, snapshots, body_text=body_text, key=key, file_sha256=file_sha256
            )
            self._append_event(
                conn,
                action=action,
                team=manifest.team,
                environment=None,
                release_from=None,
                release_to=manifest.release,
                from_manifest=manifest.parent,
                to_manifest=manifest.digest,
                generation=None,
                actor=actor,
                reason=reason,
                details={
                    "members": len(manifest.members),
                    "new_snapshots": new_snapshots,
                    "allow_incompatible": manifest.allow_incompatible is not None,
                    "check_passed": (manifest.check or {}).get("passed"),
                },
            )
        return manifest, True

    def _recorded_as(self, conn: Connection, manifest: Manifest, key: str | None) -> str | None:
        """The digest of a recorded manifest standing for `manifest`: itself, or (given its
        content `key`) the newest release of the same team content."""
        existing = conn.execute(
            select(_MAN.c.digest).where(_MAN.c.digest == manifest.digest)
        ).scalar()
        if existing is None and key is not None:
            existing = conn.execute(
                select(_MAN.c.digest)
                .where(_MAN.c.team == manifest.team, _MAN.c.content_key == key)
                .order_by(_MAN.c.id.desc())
                .limit(1)
            ).scalar()
        return None if existing is None else str(existing)

    def _refuse_name_clash(self, conn: Connection, manifest: Manifest) -> None:
        """Refuse a release name already recorded with other content."""
        clash = conn.execute(
            select(_MAN.c.digest).where(
                _MAN.c.team == manifest.team, _MAN.c.release == manifest.release
            )
        ).scalar()
        if clash is not None:
            raise ReleaseNameTaken(
                f"conflict: release {manifest.release} of team {manifest.team} already exists "
                f"with different content ({clash})",
                team=manifest.team,
                release=manifest.release,
                existing=str(clash),
            )

    def _insert_release(
        self,
        conn: Connection,
        manifest: Manifest,
        snapshots: Mapping[str, tuple[ResolvedMember, str]],
        *,
        body_text: str,
        key: str,
        file_sha256: str,
    ) -> int:
        """Write a release's new snapshots, its manifest row (canonical body, content key)
        and member index, all verified by the caller; returns how many snapshots were new."""
        present = self._present_snapshots(conn, list(snapshots))
        new_rows = [
            {"digest": d, "kind": m.kind, "version": m.version, "body": spec_text}
            for d, (m, spec_text) in snapshots.items()
            if d not in present
        ]
        if new_rows:
            # another release may record the same (immutable) snapshot concurrently
            conn.execute(_insert_ignoring_duplicates(conn, _SNAP), new_rows)
        conn.execute(
            insert(_MAN).values(
                digest=manifest.digest,
                team=manifest.team,
                release=manifest.release,
                content_key=key,
                created_at=manifest.created_at,
                created_by=manifest.created_by,
                parent=manifest.parent,
                allow_incompatible=manifest.allow_incompatible,
                member_count=len(manifest.members),
                file_sha256=file_sha256,
                verified=True,
                body=body_text,
            )
        )
        if manifest.members:
            conn.execute(
                insert(_MM),
                [
                    {"manifest_digest": manifest.digest, "name": n, "member_digest": e.digest}
                    for n, e in manifest.members.items()
                ],
            )
        return len(new_rows)

    def _present_snapshots(self, conn: Connection, digests: Sequence[str]) -> set[str]:
        present: set[str] = set()
        for i in range(0, len(digests), 500):
            chunk = digests[i : i + 500]
            present.update(
                conn.execute(select(_SNAP.c.digest).where(_SNAP.c.digest.in_(chunk))).scalars()
            )
        return present

    def _verified_text(self, conn: Connection, manifest_digest: str) -> Any:
        """The row (release, body, member_count) of a manifest whose body hashes to its
        digest; a modified one is refused."""
        row = conn.execute(
            select(_MAN.c.release, _MAN.c.body, _MAN.c.member_count).where(
                _MAN.c.digest == manifest_digest
            )
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"no manifest {manifest_digest} in the state store")
        if sha256_hex(row.body.encode("utf-8")) != manifest_digest:
            raise TamperedStore(
                f"release {row.release} ({manifest_digest}) in the state store does not match "
                "its digest: it was modified",
                kind="manifest",
                digest=manifest_digest,
                release=row.release,
            )
        return row

    def _load_manifest(self, conn: Connection, manifest_digest: str) -> Manifest:
        doc = json.loads(self._verified_text(conn, manifest_digest).body)
        doc["digest"] = manifest_digest
        return Manifest.model_validate(doc)

    def _resolve_ref(self, conn: Connection, team: str, ref: str) -> str | None:
        """The digest of the manifest `ref` (release name or digest) of `team`, if any."""
        if (
            not DIGEST_RE.fullmatch(ref)
            and len(ref) == 64
            and all(c in "0123456789abcdef" for c in ref)
        ):
            ref = f"sha256:{ref}"
        if DIGEST_RE.fullmatch(ref):
            return conn.execute(
                select(_MAN.c.digest).where(_MAN.c.team == team, _MAN.c.digest == ref)
            ).scalar()
        return conn.execute(
            select(_MAN.c.digest).where(_MAN.c.team == team, _MAN.c.release == ref)
        ).scalar()

    def release_info(self, team: str, ref: str) -> ReleaseInfo | None:
        """Release `ref` (name or digest) of `team` without its member list (cheap)."""
        with self._tx() as conn:
            found = self._resolve_ref(conn, team, ref)
            if found is None:
                return None
            row = conn.execute(
                select(
                    _MAN.c.team,
                    _MAN.c.release,
                    _MAN.c.digest,
                    _MAN.c.created_at,
                    _MAN.c.created_by,
                    _MAN.c.parent,
                    _MAN.c.allow_incompatible,
                    _MAN.c.member_count,
                ).where(_MAN.c.digest == found)
            ).one()
            return ReleaseInfo(**row._asdict())

    def find_manifest(self, team: str, ref: str) -> Manifest | None:
        """The manifest `ref` (release name or digest) of `team`, or None."""
        with self._tx() as conn:
            found = self._resolve_ref(conn, team, ref)
            return self._load_manifest(conn, found) if found else None

    def get_manifest(self, ref: str, team: str | None = None) -> Manifest:
        """The manifest `ref`: a digest (any team), or a release name of `team`."""
        with self._tx() as conn:
            if team is not None:
                found = self._resolve_ref(conn, team, ref)
            elif DIGEST_RE.fullmatch(ref):
                found = conn.execute(select(_MAN.c.digest).where(_MAN.c.digest == ref)).scalar()
            else:
                raise UsageError(f"{ref!r}: a release name needs a team")
            if found is None:
                where = f" of team {team}" if team else ""
                raise NotFoundError(f"no release {ref}{where} in the state store {self.url}")
            return self._load_manifest(conn, found)

    def find_by_content(self, team: str, key: str) -> Manifest | None:
        """The newest release of `team` with this content key (see Manifest.content_key)."""
        with self._tx() as conn:
            found = conn.execute(
                select(_MAN.c.digest)
                .where(_MAN.c.team == team, _MAN.c.content_key == key)
                .order_by(_MAN.c.id.desc())
                .limit(1)
            ).scalar()
            return self._load_manifest(conn, found) if found else None

    def releases(self, team: str) -> list[ReleaseInfo]:
        """Every release of `team`, oldest first (without member lists)."""
        with self._tx() as conn:
            rows = conn.execute(
                select(
                    _MAN.c.team,
                    _MAN.c.release,
                    _MAN.c.digest,
                    _MAN.c.created_at,
                    _MAN.c.created_by,
                    _MAN.c.parent,
                    _MAN.c.allow_incompatible,
                    _MAN.c.member_count,
                )
                .where(_MAN.c.team == team)
                # creation order, not recording order: a fresh clone imports older releases
                # from manifests/ after it has recorded newer ones
                .order_by(_MAN.c.created_at, _MAN.c.id)
            ).all()
        return [ReleaseInfo(**row._asdict()) for row in rows]

    def latest_manifest(self, team: str) -> Manifest | None:
        """The most recently recorded release of `team`."""
        with self._tx() as conn:
            found = conn.execute(
                select(_MAN.c.digest)
                .where(_MAN.c.team == team)
                .order_by(_MAN.c.created_at.desc(), _MAN.c.id.desc())
                .limit(1)
            ).scalar()
            return self._load_manifest(conn, found) if found else None

    def snapshot(self, member_digest: str) -> ResolvedMember:
        """The member snapshot with this digest (re-hashed: a modified one is refused)."""
        return self.snapshots([member_digest])[member_digest]

    def snapshots(self, digests: Sequence[str]) -> dict[str, ResolvedMember]:
        """Several snapshots by digest, each re-hashed."""
        out: dict[str, ResolvedMember] = {}
        wanted = list(dict.fromkeys(digests))
        with self._tx() as conn:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                for row in conn.execute(
                    select(_SNAP.c.digest, _SNAP.c.kind, _SNAP.c.version, _SNAP.c.body).where(
                        _SNAP.c.digest.in_(chunk)
                    )
                ):
                    where = f"snapshot {row.digest} in the state store"
                    if sha256_hex(row.body.encode("utf-8")) != row.digest:
                        raise TamperedStore(
                            f"{where} does not match its digest: it was modified",
                            kind="snapshot",
                            digest=row.digest,
                        )
                    out[row.digest] = member_from_spec(
                        json.loads(row.body),
                        row.digest,
                        where=where,
                        kind="tool" if row.kind == "tool" else "agent",
                        version=row.version,
                        text_verified=True,  # the stored text was hashed just above
                    )
        missing = [d for d in wanted if d not in out]
        if missing:
            raise IntegrityError(f"snapshot {missing[0]} is missing from the state store")
        return out

    def pinned(self, manifest: Manifest) -> dict[str, ResolvedMember]:
        """Every member of `manifest` from its snapshots, named as the manifest names them."""
        snaps = self.snapshots([m.digest for m in manifest.members.values()])
        return {
            name: snaps[e.digest].model_copy(
                update={"name": name, "kind": e.kind, "version": e.version}
            )
            for name, e in manifest.members.items()
        }

    # ------------------------------------------------------------------ environments

    def _env_row(self, conn: Connection, team: str, env: str) -> Any:
        return conn.execute(
            select(
                _ENV.c.id,
                _ENV.c.manifest_digest,
                _ENV.c.promotion_id,
                _ENV.c.generation,
                _ENV.c.last_action,
                _ENV.c.updated_at,
                _ENV.c.updated_by,
                _ENV.c.reason,
            ).where(_ENV.c.team == team, _ENV.c.name == env)
        ).one_or_none()

    def _release_name(self, conn: Connection, manifest_digest: str | None) -> str | None:
        if manifest_digest is None:
            return None
        return conn.execute(select(_MAN.c.release).where(_MAN.c.digest == manifest_digest)).scalar()

    def live_digest(self, team: str, env: str) -> str | None:
        """The digest of the manifest live in `env` (one indexed read), or None."""
        with self._tx() as conn:
            return conn.execute(
                select(_ENV.c.manifest_digest).where(_ENV.c.team == team, _ENV.c.name == env)
            ).scalar()

    def live_manifest(self, team: str, env: str) -> Manifest | None:
        """The manifest live in `env`, or None when nothing was ever promoted there."""
        with self._tx() as conn:
            found = conn.execute(
                select(_ENV.c.manifest_digest).where(_ENV.c.team == team, _ENV.c.name == env)
            ).scalar()
            return self._load_manifest(conn, found) if found else None

    # -- runtime reads: what `teamrel.Runtime` needs to switch releases without per-member work

    def live_pointer(self, team: str, env: str) -> tuple[str, int] | None:
        """`(manifest digest, generation)` live in `env` (one indexed read), or None."""
        with self._tx() as conn:
            row = conn.execute(
                select(_ENV.c.manifest_digest, _ENV.c.generation).where(
                    _ENV.c.team == team, _ENV.c.name == env
                )
            ).one_or_none()
        if row is None or row.manifest_digest is None:
            return None
        return str(row.manifest_digest), int(row.generation)

    def manifest_text(self, manifest_digest: str) -> tuple[str, str, int]:
        """`(release, body, member count)` of a manifest, its canonical body re-hashed
        (IntegrityError if modified) but not parsed: parsing a large team's manifest costs
        far more than hashing it."""
        with self._tx() as conn:
            row = self._verified_text(conn, manifest_digest)
        return str(row.release), str(row.body), int(row.member_count)

    def member_digest(self, manifest_digest: str, name: str) -> str | None:
        """The snapshot digest of member `name` of a manifest, from the member index (one
        primary-key read; the index is not covered by the manifest digest: check it against
        the manifest body)."""
        with self._tx() as conn:
            found = conn.execute(
                select(_MM.c.member_digest).where(
                    _MM.c.manifest_digest == manifest_digest, _MM.c.name == name
                )
            ).scalar()
        return None if found is None else str(found)

    def rollback_target(self, team: str, env: str) -> str | None:
        """The manifest digest a plain `rollback` of `env` would make live now, or None
        (what a runtime keeps warm: the release an incident most likely switches to)."""
        with self._tx() as conn:
            row = self._env_row(conn, team, env)
            if row is None or row.manifest_digest is None:
                return None
            walk = self._earlier_promotions(conn, env, row.promotion_id)
            current = str(row.manifest_digest)
            promo, _ = _walk_back(walk, current, self._marks(conn, row.id), None, 1)
        return None if promo is None else str(promo.manifest_digest)

    def rollback_plan(
        self, team: str, env: str, *, to: str | None = None, steps: int | None = None
    ) -> tuple[str, str] | None:
        """`(current, target)` manifest digests a `rollback` of `env` with these options would
        move between if it ran now, read-only; None when it would not move the pointer (an
        open rollout aborted by a plain rollback) or would be refused (`rollback` says why).

        The same walk as `rollback` (earlier promotions, newest first, skipping manifests
        rolled back from); rollback safety proves this pair before the write, and `rollback`
        hands `current` to its check hook so a pointer moved in between is noticed."""
        with self._tx() as conn:
            row = self._env_row(conn, team, env)
            if row is None or row.promotion_id is None or row.manifest_digest is None:
                return None
            if to is None and steps is None and self._open_rollout(conn, row.id) is not None:
                return None
            current = str(row.manifest_digest)
            to_digest = self._resolve_ref(conn, team, to) if to is not None else None
            if to is not None and to_digest is None:
                return None
            walk = self._earlier_promotions(conn, env, row.promotion_id)
            promo, _ = _walk_back(walk, current, self._marks(conn, row.id), to_digest, steps or 1)
        return None if promo is None else (current, str(promo.manifest_digest))

    def change_feed(self) -> ChangeFeed:
        """A feed telling, cheaply, when any environment pointer may have moved (SQLite:
        `PRAGMA data_version`; PostgreSQL: LISTEN/NOTIFY). Close it after use."""
        return change_feed(self._engine)

    def environment(self, team: str, env: str) -> EnvState | None:
        """The state of one environment, or None when it was never promoted to."""
        states = self.environments(team, only=env)
        return states[0] if states else None

    def environments(self, team: str, *, only: str | None = None) -> list[EnvState]:
        """Every environment of `team` that has a row, by name."""
        query = (
            select(
                _ENV.c.id,
                _ENV.c.name,
                _ENV.c.manifest_digest,
                _ENV.c.generation,
                _ENV.c.last_action,
                _ENV.c.updated_at,
                _ENV.c.updated_by,
                _ENV.c.reason,
                _MAN.c.release,
            )
            .select_from(_ENV.outerjoin(_MAN, _MAN.c.digest == _ENV.c.manifest_digest))
            .where(_ENV.c.team == team)
            .order_by(_ENV.c.name)
        )
        if only is not None:
            query = query.where(_ENV.c.name == only)
        with self._tx() as conn:
            rows = conn.execute(query).all()
            marks: dict[int, list[str]] = {}
            for mark in conn.execute(
                select(_MARK.c.environment_id, _MAN.c.release)
                .select_from(_MARK.join(_MAN, _MAN.c.digest == _MARK.c.manifest_digest))
                .where(_MARK.c.environment_id.in_([r.id for r in rows]))
                .order_by(_MARK.c.event_seq)
            ):
                marks.setdefault(mark.environment_id, []).append(mark.release)
        return [
            EnvState(
                team=team,
                name=r.name,
                release=r.release,
                manifest_digest=r.manifest_digest,
                generation=r.generation,
                last_action=r.last_action,
                updated_at=r.updated_at,
                updated_by=r.updated_by,
                reason=r.reason,
                rolled_back=tuple(marks.get(r.id, ())),
            )
            for r in rows
        ]

    def _check_expect(self, conn: Connection, team: str, env: str, row: Any, expect: str) -> None:
        live = row.manifest_digest if row is not None else None
        live_name = self._release_name(conn, live)
        wanted = expect if not _is_hex64(expect) else f"sha256:{expect}"
        if live is None or wanted not in (live, live_name):
            now_live = f"{live_name} ({live})" if live else "nothing"
            raise UnexpectedLive(
                f"conflict: {env} of team {team}: expected {expect} to be live, but {now_live} is; "
                "nothing was changed",
                team=team,
                environment=env,
                expected=expect,
                live=live,
                live_release=live_name,
            )

    def _verified_target(
        self,
        conn: Connection,
        team: str,
        manifest_digest: str,
        check_target: Callable[[TargetInfo], None] | None,
        *,
        count_snapshots: bool = True,
        current: str | None = None,
    ) -> TargetInfo:
        """Refuse a target manifest that is unverified, modified, or missing snapshots.

        The snapshots themselves were re-hashed when the release was recorded (`verified`)
        and are immutable and kept alive by a RESTRICT foreign key; `count_snapshots`
        additionally counts them through the member index (linear in team size: promote
        does it, rollback, which must stay flat, relies on the constraint).
        """
        row = self._target_row(conn, team, manifest_digest)
        count = row.member_count
        if count_snapshots:
            count = conn.execute(
                select(func.count())
                .select_from(_MM.join(_SNAP, _SNAP.c.digest == _MM.c.member_digest))
                .where(_MM.c.manifest_digest == manifest_digest)
            ).scalar_one()
        if count != row.member_count:
            raise TamperedStore(
                f"release {row.release}: {row.member_count - count} member snapshot(s) missing "
                "from the state store; refusing to make it live",
                kind="manifest",
                digest=manifest_digest,
                release=row.release,
                missing=row.member_count - count,
            )
        target = TargetInfo(
            team=team,
            release=row.release,
            digest=manifest_digest,
            allow_incompatible=row.allow_incompatible,
            file_sha256=row.file_sha256,
            current=current,
        )
        if check_target is not None:
            check_target(target)
        return target

    def _target_row(self, conn: Connection, team: str, manifest_digest: str) -> Any:
        """The row of a manifest about to be made live, refused unless it was verified when
        recorded and its stored body still hashes to its digest."""
        if conn.dialect.name == "postgresql":
            # hash where the bytes are: no megabytes over the wire for a large team
            body_hash: Any = func.encode(func.sha256(func.convert_to(_MAN.c.body, "UTF8")), "hex")
        else:
            body_hash = _MAN.c.body
        row = conn.execute(
            select(
                _MAN.c.release,
                _MAN.c.verified,
                _MAN.c.member_count,
                _MAN.c.allow_incompatible,
                _MAN.c.file_sha256,
                body_hash.label("body_hash"),
            ).where(_MAN.c.digest == manifest_digest, _MAN.c.team == team)
        ).one_or_none()
        if row is None:
            raise IntegrityError(f"manifest {manifest_digest} is missing from the state store")
        if not row.verified:
            raise IntegrityError(f"release {row.release} was never verified; refusing to use it")
        stored = (
            f"sha256:{row.body_hash}"
            if conn.dialect.name == "postgresql"
            else sha256_hex(row.body_hash.encode("utf-8"))
        )
        if stored != manifest_digest:
            raise TamperedStore(
                f"release {row.release} ({manifest_digest}) in the state store does not match "
                "its digest (modified); refusing to make it live",
                kind="manifest",
                digest=manifest_digest,
                release=row.release,
            )
        return row

    def _earlier_promotions(
        self, conn: Connection, env: str, promotion_id: int | None
    ) -> Iterator[Any]:
        """The promotions before `promotion_id` (the live one) in `env`, newest first."""
        promo_id = promotion_id
        visited: set[int] = set()
        while promo_id is not None:
            if promo_id in visited:  # defensive: a corrupted chain must not loop
                raise IntegrityError(f"the promotion chain of {env} loops at #{promo_id}")
            visited.add(promo_id)
            promo = conn.execute(
                select(_PROMO.c.id, _PROMO.c.manifest_digest, _PROMO.c.previous_id).where(
                    _PROMO.c.id == promo_id
                )
            ).one_or_none()
            if promo is None:
                raise IntegrityError(f"the promotion chain of {env} is broken at #{promo_id}")
            promo_id = promo.previous_id
            if len(visited) > 1:  # not the live promotion itself
                yield promo

    def _cas(
        self, conn: Connection, row: Any, values: Mapping[str, Any], env: str, team: str
    ) -> int:
        """Move the environment pointer iff its generation is still the one read."""
        generation = int(row.generation) + 1
        result = conn.execute(
            update(_ENV)
            .where(_ENV.c.id == row.id, _ENV.c.generation == row.generation)
            .values(generation=generation, **values)
        )
        if result.rowcount != 1:
            found = conn.execute(select(_ENV.c.generation).where(_ENV.c.id == row.id)).scalar()
            raise GenerationConflict(
                f"conflict: {env} of team {team} was changed by another operator while this "
                "command ran; nothing was changed",
                team=team,
                environment=env,
                expected=int(row.generation),
                found=None if found is None else int(found),
            )
        if conn.dialect.name == "postgresql":
            # part of this transaction: listening runtimes hear of the move only once it commits
            conn.execute(select(func.pg_notify(CHANNEL, notify_payload(team, env, generation))))
        return generation

    def promote(
        self,
        team: str,
        env: str,
        ref: str,
        *,
        actor: str,
        reason: str | None = None,
        expect: str | None = None,
        check_target: Callable[[TargetInfo], None] | None = None,
    ) -> Transition:
        """Make release `ref` live in `env`: one transaction, compare-and-swap, one event."""
        with self._tx(write=True) as conn:
            row = self._env_row(conn, team, env)
            if expect is not None:
                self._check_expect(conn, team, env, row, expect)
            target_digest = self._resolve_ref(conn, team, ref)
            if target_digest is None:
                raise NotFoundError(f"no release {ref} of team {team} in the state store")
            target = self._verified_target(conn, team, target_digest, check_target)
            now = iso(utcnow())
            if row is None:
                conn.execute(insert(_ENV).values(team=team, name=env, generation=0, updated_at=now))
                row = self._env_row(conn, team, env)
            transition = Transition(
                action="promote",
                team=team,
                environment=env,
                from_release=self._release_name(conn, row.manifest_digest),
                from_manifest=row.manifest_digest,
                to_release=target.release,
                to_manifest=target.digest,
                generation=int(row.generation),
                actor=actor,
                reason=reason,
                at=now,
                event_seq=None,
                noop=row.manifest_digest == target.digest,
            )
            if transition.noop:
                return transition
            transition = self._write_promote(conn, row, transition, {"expect": expect})
            fault("promote.before_commit")
        fault("promote.after_commit")
        return transition

    def _new_promotion(
        self, conn: Connection, row: Any, manifest_digest: str, now: str, actor: str
    ) -> int:
        """Append a promotion of `manifest_digest` to the environment's chain; its id."""
        return int(
            conn.execute(
                insert(_PROMO)
                .values(
                    environment_id=row.id,
                    manifest_digest=manifest_digest,
                    previous_id=row.promotion_id,
                    created_at=now,
                    actor=actor,
                )
                .returning(_PROMO.c.id)
            ).scalar_one()
        )

    def _write_promote(
        self, conn: Connection, row: Any, transition: Transition, details: dict[str, JSON]
    ) -> Transition:
        """Chain the promotion, move the pointer (CAS), clear the target's rolled-back mark
        and append the event: the writes of one promote, in the caller's transaction;
        returns the transition with its generation and event number."""
        env, team, now = transition.environment, transition.team, transition.at
        promotion_id = self._new_promotion(conn, row, transition.to_manifest, now, transition.actor)
        fault("promote.before_update")
        generation = self._cas(
            conn,
            row,
            {
                "manifest_digest": transition.to_manifest,
                "promotion_id": promotion_id,
                "last_action": "promote",
                "updated_at": now,
                "updated_by": transition.actor,
                "reason": transition.reason,
            },
            env,
            team,
        )
        fault("promote.after_update")
        self._unmark(conn, row.id, transition.to_manifest)
        fault("promote.before_event")
        seq = self._append_event(
            conn,
            action="promote",
            team=team,
            environment=env,
            release_from=transition.from_release,
            release_to=transition.to_release,
            from_manifest=transition.from_manifest,
            to_manifest=transition.to_manifest,
            generation=generation,
            actor=transition.actor,
            reason=transition.reason,
            details=details,
            at=now,
        )
        fault("promote.after_event")
        return replace(transition, generation=generation, event_seq=seq)

    def _unmark(self, conn: Connection, env_id: int, manifest_digest: str) -> None:
        """A manifest promoted again is no longer one rolled back from in the environment."""
        conn.execute(
            delete(_MARK).where(
                _MARK.c.environment_id == env_id, _MARK.c.manifest_digest == manifest_digest
            )
        )

    def rollback(
        self,
        team: str,
        env: str,
        *,
        actor: str,
        reason: str | None = None,
        to: str | None = None,
        steps: int | None = None,
        expect: str | None = None,
        check_target: Callable[[TargetInfo], None] | None = None,
        guard_seconds: float = ROLLBACK_GUARD_SECONDS,
        details: Mapping[str, JSON] | None = None,
    ) -> Transition:
        """Move `env` back along its promotion chain: one transaction, CAS, one event.

        Without `to`/`steps`, goes back to what was live before the current promotion,
        skipping manifests already rolled back from in this environment; never forward.
        A plain rollback right after another rollback (within `guard_seconds`) is refused
        unless the caller is explicit (`to`, `steps` or `expect`), so two operators reacting
        to the same incident do not take the environment back twice. `details` are added
        to the audit event's (e.g. the safety findings a forced rollback overrode).
        """
        _check_rollback_options(to, steps)
        with self._tx(write=True) as conn:
            row = self._rollback_row(conn, team, env, expect)
            roll = self._open_rollout(conn, row.id)
            if roll is not None and to is None and steps is None:
                # the candidate was never live: rolling back means stable keeps all traffic
                return self._abort_by_rollback(conn, team, env, row, roll, actor, reason)
            now = utcnow()
            current_name = self._release_name(conn, row.manifest_digest)
            if to is None and steps is None and expect is None:
                _rollback_guard(team, env, row, current_name, now, guard_seconds)
            marked = self._marks(conn, row.id)
            target_promo, passed = self._rollback_walk(
                conn, team, env, row, to, steps or 1, current_name, marked
            )
            move = Transition(
                action="rollback",
                team=team,
                environment=env,
                from_release=current_name,
                from_manifest=row.manifest_digest,
                to_release="",  # named once the target is verified
                to_manifest=target_promo.manifest_digest,
                generation=0,
                actor=actor,
                reason=reason,
                at=iso(now),
                event_seq=0,
            )
            move = self._rollback_transition(conn, move, passed, check_target)
            options: dict[str, JSON] = {"to": to, "steps": steps, "expect": expect}
            options.update(details or {})
            move = self._write_rollback(conn, row, target_promo.id, move, passed, marked, options)
            fault("rollback.before_commit")
        fault("rollback.after_commit")
        return move

    def _rollback_row(self, conn: Connection, team: str, env: str, expect: str | None) -> Any:
        """The environment a rollback starts from: refused when nothing was ever promoted
        there, or when `expect` is given and not live."""
        row = self._env_row(conn, team, env)
        if row is None or row.promotion_id is None:
            raise NotFoundError(
                f"nothing to roll back: no release was ever promoted to {env} of team {team}"
            )
        if expect is not None:
            self._check_expect(conn, team, env, row, expect)
        return row

    def _rollback_transition(
        self,
        conn: Connection,
        move: Transition,
        passed: Sequence[str],
        check_target: Callable[[TargetInfo], None] | None,
    ) -> Transition:
        """`move` (to the manifest `to_manifest`) once its target is verified (without
        counting snapshots: rollback stays flat in team size) and passed by the caller's
        check hook, named, with the releases it goes back past; nothing is written yet."""
        target = self._verified_target(
            conn,
            move.team,
            move.to_manifest,
            check_target,
            count_snapshots=False,
            current=move.from_manifest,
        )
        return replace(
            move,
            to_release=target.release,
            rolled_back=tuple(str(self._release_name(conn, d) or d) for d in passed),
        )

    def _marks(self, conn: Connection, env_id: int) -> set[str]:
        """The manifests rolled back from in an environment (rollback never returns to them)."""
        return set(
            conn.execute(
                select(_MARK.c.manifest_digest).where(_MARK.c.environment_id == env_id)
            ).scalars()
        )

    def _rollback_walk(
        self,
        conn: Connection,
        team: str,
        env: str,
        row: Any,
        to: str | None,
        steps: int,
        current_name: str | None,
        marked: set[str],
    ) -> tuple[Any, list[str]]:
        """The promotion a rollback goes back to and the manifests it passes (`_walk_back`);
        refused when there is none."""
        current = row.manifest_digest
        to_digest = None
        if to is not None:
            to_digest = self._rollback_to_digest(conn, team, env, to, current, marked)
        walk = self._earlier_promotions(conn, env, row.promotion_id)
        target_promo, passed = _walk_back(walk, current, marked, to_digest, steps)
        if target_promo is None:
            raise _no_rollback_target(team, env, to, to_digest, current_name, steps)
        return target_promo, passed

    def _rollback_to_digest(
        self, conn: Connection, team: str, env: str, to: str, current: str, marked: set[str]
    ) -> str:
        """The manifest a rollback's `to` names, refused when live or rolled back from."""
        to_digest = self._resolve_ref(conn, team, to)
        if to_digest is None:
            raise NotFoundError(f"no release {to} of team {team} in the state store")
        if to_digest == current:
            raise UsageError(f"{to} is already live in {env}: nothing to roll back")
        if to_digest in marked:
            raise RolledBackFrom(
                f"{to} was rolled back from in {env}; rollback never returns to it",
                team=team,
                environment=env,
                release=to,
                digest=to_digest,
            )
        return to_digest

    def _write_rollback(
        self,
        conn: Connection,
        row: Any,
        promotion_id: int,
        transition: Transition,
        passed: Sequence[str],
        marked: set[str],
        options: dict[str, JSON],
    ) -> Transition:
        """Move the pointer (CAS), append the event and mark what was passed: the writes of
        one rollback, in the caller's transaction; returns the transition with its
        generation and event number."""
        env, team, now = transition.environment, transition.team, transition.at
        fault("rollback.before_update")
        generation = self._cas(
            conn,
            row,
            {
                "manifest_digest": transition.to_manifest,
                "promotion_id": promotion_id,
                "last_action": "rollback",
                "updated_at": now,
                "updated_by": transition.actor,
                "reason": transition.reason,
            },
            env,
            team,
        )
        fault("rollback.after_update")
        fault("rollback.before_event")
        seq = self._append_event(
            conn,
            action="rollback",
            team=team,
            environment=env,
            release_from=transition.from_release,
            release_to=transition.to_release,
            from_manifest=transition.from_manifest,
            to_manifest=transition.to_manifest,
            generation=generation,
            actor=transition.actor,
            reason=transition.reason,
            details={"rolled_back": list(transition.rolled_back), **options},
            at=now,
        )
        fault("rollback.after_event")
        new_marks = [d for d in dict.fromkeys(passed) if d not in marked]
        if new_marks:
            conn.execute(
                insert(_MARK),
                [
                    {"environment_id": row.id, "manifest_digest": d, "event_seq": seq, "at": now}
                    for d in new_marks
                ],
            )
        return replace(transition, generation=generation, event_seq=seq)

    # ------------------------------------------------------------------ rollouts

    def _open_rollout(self, conn: Connection, env_id: int) -> Any:
        return conn.execute(
            select(_ROLL)
            .where(_ROLL.c.environment_id == env_id, _ROLL.c.state.in_(OPEN_STATES))
            .order_by(_ROLL.c.id.desc())
            .limit(1)
        ).one_or_none()

    def _rollout_state(self, conn: Connection, row: Any, generation: int) -> RolloutState:
        return RolloutState(
            rollout_id=row.rollout_id,
            team=row.team,
            environment=row.environment,
            stable_release=self._release_name(conn, row.stable_digest),
            stable_digest=row.stable_digest,
            candidate_release=row.candidate_release,
            candidate_digest=row.candidate_digest,
            phase=row.phase,
            weight=row.weight_bp / 100,
            step_index=row.step_index,
            steps=[float(x) for x in json.loads(row.steps)],
            policy=json.loads(row.policy),
            state=row.state,
            started_at=row.started_at,
            started_by=row.started_by,
            reason=row.reason,
            updated_at=row.updated_at,
            ended_at=row.ended_at,
            last_decision=json.loads(row.last_decision) if row.last_decision else None,
            generation=generation,
        )

    def rollout(self, team: str, env: str) -> RolloutState | None:
        """The open rollout of `env`, or None."""
        with self._tx() as conn:
            env_row = self._env_row(conn, team, env)
            if env_row is None:
                return None
            row = self._open_rollout(conn, env_row.id)
            return None if row is None else self._rollout_state(conn, row, env_row.generation)

    def open_rollouts(self, team: str, env: str | None = None) -> dict[str, RolloutState]:
        """The open rollout of each environment of `team` (of `env` only), by environment."""
        query = (
            select(_ROLL, _ENV.c.generation.label("env_generation"))
            .select_from(_ROLL.join(_ENV, _ENV.c.id == _ROLL.c.environment_id))
            .where(_ROLL.c.team == team, _ROLL.c.state.in_(OPEN_STATES))
            .order_by(_ROLL.c.id)
        )
        if env is not None:
            query = query.where(_ROLL.c.environment == env)
        with self._tx() as conn:
            return {
                row.environment: self._rollout_state(conn, row, int(row.env_generation))
                for row in conn.execute(query).all()
            }

    def rollouts(
        self, team: str, env: str | None = None, *, limit: int | None = None
    ) -> list[RolloutState]:
        """Rollouts of `team` (of one environment), newest first."""
        query = select(_ROLL).where(_ROLL.c.team == team).order_by(_ROLL.c.id.desc())
        if env is not None:
            query = query.where(_ROLL.c.environment == env)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            gens = {
                r.id: int(r.generation) for r in conn.execute(select(_ENV.c.id, _ENV.c.generation))
            }
            return [
                self._rollout_state(conn, row, gens.get(row.environment_id, 0))
                for row in conn.execute(query).all()
            ]

    def live_route(self, team: str, env: str) -> Route | None:
        """The stable pointer and the open rollout's routing of `env` (one indexed read)."""
        with self._tx() as conn:
            row = conn.execute(
                select(
                    _ENV.c.manifest_digest,
                    _ENV.c.generation,
                    _ROLL.c.rollout_id,
                    _ROLL.c.candidate_digest,
                    _ROLL.c.phase,
                    _ROLL.c.weight_bp,
                    _ROLL.c.step_index,
                )
                .select_from(
                    _ENV.outerjoin(
                        _ROLL,
                        (_ROLL.c.environment_id == _ENV.c.id) & _ROLL.c.state.in_(OPEN_STATES),
                    )
                )
                .where(_ENV.c.team == team, _ENV.c.name == env)
            ).first()
        if row is None or row.manifest_digest is None:
            return None
        if row.rollout_id is None:
            return Route(str(row.manifest_digest), int(row.generation))
        return Route(
            str(row.manifest_digest),
            int(row.generation),
            str(row.rollout_id),
            str(row.candidate_digest),
            str(row.phase),
            int(row.weight_bp),
            int(row.step_index),
        )

    def start_rollout(
        self,
        team: str,
        env: str,
        ref: str,
        *,
        rollout_id: str,
        shadow: bool,
        steps: Sequence[float],
        policy: Mapping[str, JSON],
        actor: str,
        reason: str | None = None,
        check_target: Callable[[TargetInfo], None] | None = None,
    ) -> RolloutState:
        """Open a rollout of release `ref` in `env`: one transaction, CAS, one event."""
        with self._tx(write=True) as conn:
            row, target = self._rollout_target(conn, team, env, ref, check_target)
            opened: dict[str, Any] = {
                "environment": env,
                "rollout_id": rollout_id,
                "phase": "shadow" if shadow else "canary",
                "weight_bp": 0 if shadow else round(steps[0] * 100),
                "step_index": -1 if shadow else 0,
                "steps": [float(x) for x in steps],
                "policy": dict(policy),
            }
            generation = self._write_rollout_start(conn, row, target, opened, actor, reason)
            fault("rollout.before_commit")
            new = self._open_rollout(conn, row.id)
            state = self._rollout_state(conn, new, generation)
        fault("rollout.after_commit")
        return state

    def _rollout_target(
        self,
        conn: Connection,
        team: str,
        env: str,
        ref: str,
        check_target: Callable[[TargetInfo], None] | None,
    ) -> tuple[Any, TargetInfo]:
        """The environment row and the verified candidate of a new rollout; refused when
        nothing is live, a rollout is open already, or the candidate is what is live."""
        row = self._env_row(conn, team, env)
        if row is None or row.manifest_digest is None:
            raise NotFoundError(
                f"nothing is live in {env} of team {team}: promote a first release before "
                "rolling one out"
            )
        current = self._open_rollout(conn, row.id)
        if current is not None:
            raise RolloutOpen(
                f"conflict: {env} already has rollout {current.rollout_id} of "
                f"{current.candidate_release} ({current.state}); nothing was changed",
                team=team,
                environment=env,
                rollout_id=current.rollout_id,
                candidate_release=current.candidate_release,
                state=current.state,
            )
        target_digest = self._resolve_ref(conn, team, ref)
        if target_digest is None:
            raise NotFoundError(f"no release {ref} of team {team} in the state store")
        target = self._verified_target(conn, team, target_digest, check_target)
        if target.digest == row.manifest_digest:
            raise UsageError(f"{target.release} is already live in {env}: nothing to roll out")
        return row, target

    def _write_rollout_start(
        self,
        conn: Connection,
        row: Any,
        target: TargetInfo,
        opened: Mapping[str, Any],
        actor: str,
        reason: str | None,
    ) -> int:
        """The writes of `start_rollout` (CAS, rollout row, `start` event): the generation."""
        team, env, now = target.team, opened["environment"], iso(utcnow())
        fault("rollout.before_update")
        generation = self._cas(conn, row, {}, env, team)
        fault("rollout.after_update")
        conn.execute(
            insert(_ROLL).values(
                rollout_id=opened["rollout_id"],
                environment_id=row.id,
                team=team,
                environment=env,
                stable_digest=row.manifest_digest,
                candidate_digest=target.digest,
                candidate_release=target.release,
                phase=opened["phase"],
                weight_bp=opened["weight_bp"],
                step_index=opened["step_index"],
                steps=canonical_json(opened["steps"]),
                policy=canonical_json(opened["policy"]),
                state="active",
                started_at=now,
                started_by=actor,
                reason=reason,
                updated_at=now,
            )
        )
        fault("rollout.before_event")
        self._append_event(
            conn,
            action="rollout",
            team=team,
            environment=env,
            release_from=self._release_name(conn, row.manifest_digest),
            release_to=target.release,
            from_manifest=row.manifest_digest,
            to_manifest=target.digest,
            generation=generation,
            actor=actor,
            reason=reason,
            details={
                "op": "start",
                "rollout_id": opened["rollout_id"],
                "phase": opened["phase"],
                "weight": opened["weight_bp"] / 100,
                "steps": opened["steps"],
                "policy": opened["policy"],
            },
            at=now,
        )
        fault("rollout.after_event")
        return generation

    def change_rollout(
        self,
        team: str,
        env: str,
        op: Literal["advance", "hold", "pause", "resume", "abort", "promote"],
        *,
        actor: str,
        reason: str | None = None,
        rollout_id: str | None = None,
        expect_generation: int | None = None,
        decision: Mapping[str, JSON] | None = None,
        check_target: Callable[[TargetInfo], None] | None = None,
    ) -> RolloutState:
        """Apply one change to the open rollout of `env`: one transaction, CAS, one event.

        `expect_generation` (what an analysis read) makes a decision apply only to the state
        it was computed from: two analyses racing never both advance.
        `promote` makes the candidate live (the same pointer move as `promote`).
        """
        with self._tx(write=True) as conn:
            row, roll = self._rollout_to_change(conn, team, env, rollout_id, expect_generation)
            now = iso(utcnow())
            values = _rollout_change(roll, op, now)
            if decision is not None:
                values["last_decision"] = canonical_json(dict(decision))
            env_values: dict[str, Any] = {}
            if op == "promote":
                env_values = self._candidate_promotion(
                    conn, team, row, roll.candidate_digest, now, actor, reason, check_target
                )
            fault("rollout.before_update")
            generation = self._cas(conn, row, env_values, env, team)
            conn.execute(update(_ROLL).where(_ROLL.c.id == roll.id).values(**values))
            fault("rollout.after_update")
            if op == "promote":
                self._unmark(conn, row.id, roll.candidate_digest)
            fault("rollout.before_event")
            self._append_event(
                conn,
                action="promote" if op == "promote" else "rollout",
                team=team,
                environment=env,
                release_from=self._release_name(conn, roll.stable_digest),
                release_to=roll.candidate_release,
                from_manifest=roll.stable_digest,
                to_manifest=roll.candidate_digest,
                generation=generation,
                actor=actor,
                reason=reason,
                details=_rollout_change_details(roll, op, values, decision),
                at=now,
            )
            fault("rollout.after_event")
            fault("rollout.before_commit")
            done = conn.execute(select(_ROLL).where(_ROLL.c.id == roll.id)).one()
            state = self._rollout_state(conn, done, generation)
        fault("rollout.after_commit")
        return state

    def _candidate_promotion(
        self,
        conn: Connection,
        team: str,
        row: Any,
        candidate: str,
        now: str,
        actor: str,
        reason: str | None,
        check_target: Callable[[TargetInfo], None] | None,
    ) -> dict[str, Any]:
        """The environment columns a rollout's promotion sets: its candidate verified (its
        snapshots were counted when the rollout started) and chained as a promotion."""
        target = self._verified_target(conn, team, candidate, check_target, count_snapshots=False)
        return {
            "manifest_digest": target.digest,
            "promotion_id": self._new_promotion(conn, row, target.digest, now, actor),
            "last_action": "promote",
            "updated_at": now,
            "updated_by": actor,
            "reason": reason,
        }

    def _rollout_to_change(
        self,
        conn: Connection,
        team: str,
        env: str,
        rollout_id: str | None,
        expect_generation: int | None,
    ) -> tuple[Any, Any]:
        """The environment row and its open rollout, refused when none is open, when it is
        not `rollout_id`, or when the environment moved past `expect_generation`."""
        row = self._env_row(conn, team, env)
        roll = None if row is None else self._open_rollout(conn, row.id)
        if row is None or roll is None:
            raise NotFoundError(f"no rollout is open in {env} of team {team}")
        if rollout_id is not None and roll.rollout_id != rollout_id:
            raise ConflictError(
                f"conflict: the open rollout of {env} is {roll.rollout_id}, not {rollout_id}; "
                "nothing was changed"
            )
        if expect_generation is not None and int(row.generation) != expect_generation:
            raise StaleRolloutDecision(
                f"conflict: {env} of team {team} changed while the rollout was analysed; "
                "nothing was changed",
                team=team,
                environment=env,
                rollout_id=roll.rollout_id,
                expected=expect_generation,
                found=int(row.generation),
            )
        return row, roll

    def _abort_by_rollback(
        self,
        conn: Connection,
        team: str,
        env: str,
        row: Any,
        roll: Any,
        actor: str,
        reason: str | None,
    ) -> Transition:
        """A plain rollback during a rollout: the rollout is aborted and stable, which never
        stopped being live, keeps all traffic (the pointer does not move)."""
        stable_name = self._release_name(conn, row.manifest_digest) or str(row.manifest_digest)
        abort = Transition(
            action="rollback",
            team=team,
            environment=env,
            from_release=roll.candidate_release,
            from_manifest=roll.candidate_digest,
            to_release=stable_name,
            to_manifest=row.manifest_digest,
            generation=0,
            actor=actor,
            reason=reason,
            at=iso(utcnow()),
            event_seq=0,
            rolled_back=(roll.candidate_release,),
        )
        return self._write_abort(conn, row, roll, abort)

    def _write_abort(self, conn: Connection, row: Any, roll: Any, abort: Transition) -> Transition:
        """Move the generation (CAS), end the rollout and append the rollback event: the
        writes of `_abort_by_rollback`, in the caller's transaction."""
        now, actor, reason = abort.at, abort.actor, abort.reason
        fault("rollback.before_update")
        generation = self._cas(
            conn,
            row,
            {"last_action": "rollback", "updated_at": now, "updated_by": actor, "reason": reason},
            abort.environment,
            abort.team,
        )
        conn.execute(
            update(_ROLL)
            .where(_ROLL.c.id == roll.id)
            .values(state="aborted", ended_at=now, updated_at=now, weight_bp=0)
        )
        fault("rollback.after_update")
        fault("rollback.before_event")
        seq = self._append_event(
            conn,
            action="rollback",
            team=abort.team,
            environment=abort.environment,
            release_from=abort.from_release,
            release_to=abort.to_release,
            from_manifest=abort.from_manifest,
            to_manifest=abort.to_manifest,
            generation=generation,
            actor=actor,
            reason=reason,
            details={
                "rolled_back": [roll.candidate_release],
                "rollout_aborted": roll.rollout_id,
                "weight": roll.weight_bp / 100,
            },
            at=now,
        )
        fault("rollback.after_event")
        fault("rollback.before_commit")
        return replace(abort, generation=generation, event_seq=seq)

    # ------------------------------------------------------------------ outcomes

    def record_outcomes(self, outcomes: Sequence[Outcome]) -> int:
        """Record outcomes in one transaction; a run already recorded is skipped (a retried
        flush never double-counts). Returns how many were new."""
        if not outcomes:
            return 0
        now = iso(utcnow())
        rows = [
            {
                "rollout_id": o.rollout_id,
                "run_id": o.run_id,
                "arm": o.arm,
                "step": o.step,
                "release": o.release,
                "ok": 1 if o.ok else 0,
                "latency_ms": o.latency_ms,
                "cost_usd": o.cost_usd,
                "tool_calls": o.tool_calls,
                "at": o.at or now,
            }
            for o in outcomes
        ]
        scores = [
            {"rollout_id": o.rollout_id, "run_id": o.run_id, "name": k, "arm": o.arm, "value": v}
            for o in outcomes
            for k, v in o.scores.items()
        ]
        with self._tx(write=True) as conn:
            # RETURNING counts the rows inserted (rowcount is unreliable for executemany)
            new = conn.execute(
                _insert_ignoring_duplicates(conn, _OUT).returning(_OUT.c.id), rows
            ).all()
            if scores:
                conn.execute(_insert_ignoring_duplicates(conn, _SCORE), scores)
        return len(new)

    def arm_stats(
        self,
        rollout_id: str,
        arm: str,
        *,
        latency_over: float | None = None,
        scores: Sequence[str] = (),
    ) -> ArmStats:
        """Aggregates of one arm, in SQL over the outcome indexes (no row reaches Python but
        two percentiles)."""
        where = (_OUT.c.rollout_id == rollout_id, _OUT.c.arm == arm)
        with self._tx() as conn:
            steps = [
                StepCounts(int(r.step), int(r.n), int(r.failures or 0))
                for r in conn.execute(
                    select(
                        _OUT.c.step,
                        func.count().label("n"),
                        func.sum(1 - _OUT.c.ok).label("failures"),
                    )
                    .where(*where)
                    .group_by(_OUT.c.step)
                    .order_by(_OUT.c.step)
                )
            ]
            cost = conn.execute(
                select(
                    func.count(_OUT.c.cost_usd),
                    func.sum(_OUT.c.cost_usd),
                    func.sum(_OUT.c.cost_usd * _OUT.c.cost_usd),
                ).where(*where)
            ).one()
            lat_n, p50, p95 = _latency_percentiles(conn, where)
            over = None
            if latency_over is not None:
                over = int(
                    conn.execute(
                        select(func.count()).where(*where, _OUT.c.latency_ms > latency_over)
                    ).scalar_one()
                )
            found = {name: _score_sums(conn, rollout_id, arm, name) for name in scores}
        return ArmStats(
            arm=arm,
            steps=steps,
            latency_n=lat_n,
            latency_p50=p50,
            latency_p95=p95,
            cost_n=int(cost[0]),
            cost_sum=float(cost[1] or 0.0),
            cost_sumsq=float(cost[2] or 0.0),
            latency_over=over,
            scores=found,
        )

    # ------------------------------------------------------------------ audit log

    def _append_event(
        self,
        conn: Connection,
        *,
        action: Action,
        team: str,
        environment: str | None,
        release_from: str | None,
        release_to: str | None,
        from_manifest: str | None,
        to_manifest: str | None,
        generation: int | None,
        actor: str,
        reason: str | None,
        details: dict[str, JSON],
        at: str | None = None,
    ) -> int:
        chain = conn.execute(
            select(_CHAIN.c.seq, _CHAIN.c.head).where(_CHAIN.c.id == 1).with_for_update()
        ).one()
        seq = int(chain.seq) + 1
        fields: dict[str, JSON] = {
            "seq": seq,
            "at": at or iso(utcnow()),
            "action": action,
            "team": team,
            "environment": environment,
            "release_from": release_from,
            "release_to": release_to,
            "from_manifest": from_manifest,
            "to_manifest": to_manifest,
            "generation": generation,
            "actor": actor,
            "reason": reason,
            "details": details,
            "prev_hash": chain.head,
        }
        fields["hash"] = event_hash(fields)
        conn.execute(insert(_EVENT).values(**{**fields, "details": canonical_json(details)}))
        result = conn.execute(
            update(_CHAIN)
            .where(_CHAIN.c.id == 1, _CHAIN.c.seq == chain.seq)
            .values(seq=seq, head=fields["hash"])
        )
        if result.rowcount != 1:
            raise ConflictError(
                "conflict: the audit log was appended to concurrently; nothing was changed"
            )
        return seq

    def events(self, team: str, env: str | None = None, *, limit: int | None = None) -> list[Event]:
        """Audit events of `team` (of one environment when `env` is given), newest first."""
        query = select(_EVENT).where(_EVENT.c.team == team).order_by(_EVENT.c.seq.desc())
        if env is not None:
            query = query.where(_EVENT.c.environment == env)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [_event(row) for row in conn.execute(query)]

    # ------------------------------------------------------------------ verify

    def verify(self, *, team: str | None = None, env: str | None = None) -> VerifyReport:
        """Re-hash every manifest and snapshot, walk the audit chain, check every pointer.

        With `team` and `env`: only the release live there (its manifest, member index and
        snapshots) and that environment's pointer, beside the whole audit chain: what an
        incident needs to trust, in time linear in that release rather than the store.
        """
        report = VerifyReport()
        with self._tx() as conn:
            manifests = select(_MAN.c.digest, _MAN.c.team, _MAN.c.release, _MAN.c.body)
            envs = select(_ENV.c.team, _ENV.c.name, _ENV.c.manifest_digest, _ENV.c.generation)
            scoped = team is not None and env is not None
            if scoped:
                envs = envs.where(_ENV.c.team == team, _ENV.c.name == env)
                live = conn.execute(envs).one_or_none()
                if live is None or live.manifest_digest is None:
                    raise NotFoundError(f"nothing is live in {env} of team {team}")
                manifests = manifests.where(_MAN.c.digest == live.manifest_digest)
                snapshot_rows = conn.execute(
                    select(_SNAP.c.digest, _SNAP.c.body)
                    .select_from(_MM.join(_SNAP, _SNAP.c.digest == _MM.c.member_digest))
                    .where(_MM.c.manifest_digest == live.manifest_digest)
                    .distinct()
                    .order_by(_SNAP.c.digest)
                )
            else:
                snapshot_rows = conn.execute(
                    select(_SNAP.c.digest, _SNAP.c.body).order_by(_SNAP.c.digest)
                )
            seen: set[str] = set()
            _rehash_snapshots(report, snapshot_rows, seen)
            for row in conn.execute(manifests.order_by(_MAN.c.id)):
                self._verify_manifest(conn, report, row, seen, scoped=scoped)
            latest_by_env = self._verify_chain(conn, report)
            for row in conn.execute(envs.order_by(_ENV.c.team, _ENV.c.name)):
                self._verify_environment(conn, report, row, latest_by_env)
        return report

    def _verify_manifest(
        self, conn: Connection, report: VerifyReport, row: Any, seen: set[str], *, scoped: bool
    ) -> None:
        """One manifest: its digest, its member index, the snapshots it pins (`seen`: the
        snapshots re-hashed so far)."""
        problems = report.problems
        report.manifests += 1
        subject = f"{row.team}/{row.release} ({row.digest})"
        if sha256_hex(row.body.encode("utf-8")) != row.digest:
            problems.append(
                VerifyProblem("manifest", subject, "stored manifest does not match its digest")
            )
            return
        doc = json.loads(row.body)
        pinned = {n: m.get("digest") for n, m in (doc.get("members") or {}).items()}
        indexed = {
            r.name: r.member_digest
            for r in conn.execute(
                select(_MM.c.name, _MM.c.member_digest).where(_MM.c.manifest_digest == row.digest)
            )
        }
        if indexed != pinned:
            problems.append(
                VerifyProblem("manifest", subject, "member index disagrees with the manifest")
            )
        if scoped:
            # the index may disagree (reported above): what the manifest pins is what
            # is served, so those snapshots are re-hashed too
            unseen = sorted({str(d) for d in pinned.values()} - seen)
            _rehash_snapshots(
                report,
                conn.execute(
                    select(_SNAP.c.digest, _SNAP.c.body).where(_SNAP.c.digest.in_(unseen))
                ),
                seen,
            )
        for name, d in pinned.items():
            if d not in seen:
                problems.append(
                    VerifyProblem("snapshot", str(d), f"missing (member {name} of {subject})")
                )

    def _verify_chain(self, conn: Connection, report: VerifyReport) -> dict[tuple[str, str], Event]:
        """Walk the whole audit chain; returns the last pointer-moving event per environment."""
        problems = report.problems
        prev: str | None = None
        last_seq = 0
        latest_by_env: dict[tuple[str, str], Event] = {}
        for row in conn.execute(select(_EVENT).order_by(_EVENT.c.seq)):
            report.events += 1
            ev = _event(row)
            subject = f"event #{ev.seq} ({ev.action} {ev.team}/{ev.environment or '-'})"
            if ev.seq != last_seq + 1:
                problems.append(
                    VerifyProblem("chain", subject, f"follows event #{last_seq}: events missing")
                )
            if ev.prev_hash != prev:
                problems.append(
                    VerifyProblem("event", subject, "does not chain to the previous event")
                )
            if event_hash(ev.to_json()) != ev.hash:
                problems.append(VerifyProblem("event", subject, "content does not match its hash"))
            prev, last_seq = ev.hash, ev.seq
            if ev.environment and ev.action in ("promote", "rollback", "rollout", "flag"):
                latest_by_env[(ev.team, ev.environment)] = ev
        chain = conn.execute(select(_CHAIN.c.seq, _CHAIN.c.head)).one()
        if chain.seq != last_seq or chain.head != prev:
            problems.append(
                VerifyProblem(
                    "chain",
                    f"head #{chain.seq}",
                    f"audit chain head does not match the last event (#{last_seq}): "
                    "events were removed or altered",
                )
            )
        return latest_by_env

    def _verify_environment(
        self,
        conn: Connection,
        report: VerifyReport,
        row: Any,
        latest_by_env: Mapping[tuple[str, str], Event],
    ) -> None:
        """One environment pointer: its manifest exists and agrees with the audit log."""
        problems = report.problems
        report.environments += 1
        subject = f"{row.team}/{row.name}"
        last = latest_by_env.get((row.team, row.name))
        if row.manifest_digest is None:
            return
        exists = conn.execute(
            select(_MAN.c.digest).where(_MAN.c.digest == row.manifest_digest)
        ).scalar()
        if exists is None:
            problems.append(
                VerifyProblem(
                    "environment", subject, f"live manifest {row.manifest_digest} missing"
                )
            )
        # a rollout event leaves stable (its from_manifest) live
        logged: str | None = None
        if last is not None:
            logged = last.from_manifest if last.action == "rollout" else last.to_manifest
        if last is None or logged != row.manifest_digest:
            problems.append(
                VerifyProblem(
                    "environment",
                    subject,
                    "live manifest disagrees with the audit log's last event",
                )
            )
        elif last.generation != row.generation:
            problems.append(
                VerifyProblem(
                    "environment",
                    subject,
                    f"generation {row.generation} disagrees with the audit log ({last.generation})",
                )
            )


def _event(row: Any) -> Event:
    try:
        details = json.loads(row.details)
    except ValueError:
        details = {"unreadable": row.details}
    return Event(
        seq=row.seq,
        at=row.at,
        action=row.action,
        team=row.team,
        environment=row.environment,
        release_from=row.release_from,
        release_to=row.release_to,
        from_manifest=row.from_manifest,
        to_manifest=row.to_manifest,
        generation=row.generation,
        actor=row.actor,
        reason=row.reason,
        details=details if isinstance(details, dict) else {"value": details},
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _rollout_change(roll: Any, op: str, now: str) -> dict[str, Any]:
    """The columns of rollout `roll` that `op` changes; refused when `op` does not apply
    to its state (advancing past the last step before 100%, pausing a paused rollout...)."""
    values: dict[str, Any] = {"updated_at": now}
    if op == "advance":
        steps = [float(x) for x in json.loads(roll.steps)]
        nxt = roll.step_index + 1
        if nxt >= len(steps) or steps[nxt] >= 100:
            raise UsageError(
                f"rollout {roll.rollout_id} is at its last step before 100%: promote it"
            )
        values.update(phase="canary", step_index=nxt, weight_bp=round(steps[nxt] * 100))
    elif op == "pause":
        if roll.state == "paused":
            raise UsageError(f"rollout {roll.rollout_id} is already paused")
        values["state"] = "paused"
    elif op == "resume":
        if roll.state != "paused":
            raise UsageError(f"rollout {roll.rollout_id} is not paused")
        values["state"] = "active"
    elif op == "abort":
        values.update(state="aborted", ended_at=now, weight_bp=0)
    elif op == "promote":
        values.update(state="promoted", ended_at=now, weight_bp=10_000)
    return values


def _rollout_change_details(
    roll: Any, op: str, values: Mapping[str, Any], decision: Mapping[str, JSON] | None
) -> dict[str, JSON]:
    """The audit event details of a rollout change: the rollout's state after it."""
    return {
        "op": op,
        "rollout_id": roll.rollout_id,
        "phase": values.get("phase", roll.phase),
        "weight": values.get("weight_bp", roll.weight_bp) / 100,
        "state": values.get("state", roll.state),
        "decision": dict(decision) if decision is not None else None,
    }


def _latency_percentiles(
    conn: Connection, where: Sequence[Any]
) -> tuple[int, float | None, float | None]:
    """`(n, p50, p95)` of the latencies of the outcomes `where` selects, in SQL (nearest
    rank; None when there is none)."""
    lat_n = int(
        conn.execute(
            select(func.count()).where(*where, _OUT.c.latency_ms.is_not(None))
        ).scalar_one()
    )
    if lat_n == 0:
        return 0, None, None

    def rank(q: float) -> int:
        """The 0-based rank of the q-quantile among `lat_n` latencies."""
        return min(lat_n - 1, max(0, int(q * lat_n + 0.5) - 1))

    if conn.dialect.name == "postgresql":
        # OFFSET walks the index and visits the heap for each entry (ten times SQLite's
        # cost here); one sort gives both ranks. percentile_disc(f) is the value of
        # rank ceil(f*n) (1-based), so f = (k + 0.5)/n names 0-based rank k exactly
        fractions = [(rank(q) + 0.5) / lat_n for q in (0.5, 0.95)]
        values = conn.execute(
            select(func.percentile_disc(pg_array(fractions)).within_group(_OUT.c.latency_ms)).where(
                *where, _OUT.c.latency_ms.is_not(None)
            )
        ).scalar_one()
        p50, p95 = (float(v) for v in values)
        return lat_n, p50, p95

    def quantile(q: float) -> float | None:
        value = conn.execute(
            select(_OUT.c.latency_ms)
            .where(*where, _OUT.c.latency_ms.is_not(None))
            .order_by(_OUT.c.latency_ms)
            .offset(rank(q))
            .limit(1)
        ).scalar()
        return None if value is None else float(value)

    return lat_n, quantile(0.5), quantile(0.95)


def _score_sums(conn: Connection, rollout_id: str, arm: str, name: str) -> tuple[int, float, float]:
    """`(n, sum, sum of squares)` of score `name` of one arm of a rollout, in SQL."""
    r = conn.execute(
        select(
            func.count(),
            func.sum(_SCORE.c.value),
            func.sum(_SCORE.c.value * _SCORE.c.value),
        ).where(_SCORE.c.rollout_id == rollout_id, _SCORE.c.arm == arm, _SCORE.c.name == name)
    ).one()
    return int(r[0]), float(r[1] or 0.0), float(r[2] or 0.0)


def _check_rollback_options(to: str | None, steps: int | None) -> None:
    # the command's wording of these options is release.rollback's; this guards the API
    if to is not None and steps is not None:
        raise UsageError("rollback takes a target `to` or a number of `steps`, not both")
    if steps is not None and steps < 1:
        raise UsageError(f"rollback `steps` must be at least 1, not {steps}")


def _rollback_guard(
    team: str,
    env: str,
    row: Any,
    current_name: str | None,
    now: datetime,
    guard_seconds: float,
) -> None:
    """Refuse a plain rollback right after another one (two operators, one incident)."""
    if row.last_action != "rollback" or not row.updated_at:
        return
    age = (now - parse_iso(row.updated_at)).total_seconds()
    if age < guard_seconds:
        seconds = max(int(age), 0)
        raise RecentRollback(
            f"conflict: {env} was already rolled back {seconds}s ago by "
            f"{row.updated_by} (now live: {current_name}); nothing was changed",
            team=team,
            environment=env,
            seconds_ago=seconds,
            by=row.updated_by,
            live_release=current_name,
        )


def _walk_back(
    promotions: Iterator[Any],
    current: str,
    marked: set[str],
    to_digest: str | None,
    steps: int,
) -> tuple[Any, list[str]]:
    """Walk earlier promotions (newest first) to the rollback target: the one whose manifest is
    `to_digest`, or else the `steps`-th distinct manifest not rolled back from. Returns it
    (None if the chain ends first) and the manifests passed on the way, `current` first."""
    passed: list[str] = [current]
    found = 0
    for promo in promotions:
        d = promo.manifest_digest
        if d in marked or d in passed:
            continue
        if to_digest is not None:
            if d == to_digest:
                return promo, passed
        else:
            found += 1
            if found == steps:
                return promo, passed
        passed.append(d)
    return None, passed


def _no_rollback_target(
    team: str,
    env: str,
    to: str | None,
    to_digest: str | None,
    current_name: str | None,
    steps: int,
) -> TeamrelError:
    """Why the walk back found no target."""
    if to is not None:
        return NotAnEarlierRelease(
            f"{to} was not live in {env} before {current_name}: rollback only goes "
            "back through earlier promotions",
            team=team,
            environment=env,
            release=to,
            digest=to_digest,
            live_release=current_name,
        )
    return NotFoundError(
        f"nothing earlier to roll back to in {env}: {current_name} is the "
        "oldest release promoted there that was not rolled back from"
        if steps == 1
        else f"{env} has fewer than {steps} earlier releases to go back to"
    )


def _verified_snapshots(
    manifest: Manifest,
    members: Mapping[str, ResolvedMember],
    extra: Mapping[str, ResolvedMember],
) -> dict[str, tuple[ResolvedMember, str]]:
    """The snapshots a release records, by digest, with the canonical text that is both
    hashed here and stored; a member (or a flag's variant) not matching its digest is
    refused."""
    snapshots: dict[str, tuple[ResolvedMember, str]] = {}
    for name, entry in manifest.members.items():
        member = members.get(name)
        if entry.digest in snapshots:
            continue
        spec_text = canonical_json(member.spec) if member is not None else ""
        if member is None or sha256_hex(spec_text.encode("utf-8")) != entry.digest:
            raise IntegrityError(
                f"release {manifest.release}: member {name} does not match its pinned "
                f"digest {entry.digest}"
            )
        snapshots[entry.digest] = (member, spec_text)
    for extra_digest, member in extra.items():
        # the variants a release's flags select: snapshotted with it, by their digest
        spec_text = canonical_json(member.spec)
        if sha256_hex(spec_text.encode("utf-8")) != extra_digest:
            raise IntegrityError(
                f"release {manifest.release}: variant of {member.name} does not match its "
                f"digest {extra_digest}"
            )
        snapshots.setdefault(extra_digest, (member, spec_text))
    return snapshots


def _rehash_snapshots(report: VerifyReport, snapshots: Any, seen: set[str]) -> None:
    """Re-hash stored snapshots, adding each digest to `seen` and each mismatch to `report`."""
    for snap in snapshots:
        report.snapshots += 1
        seen.add(snap.digest)
        if sha256_hex(snap.body.encode("utf-8")) != snap.digest:
            report.problems.append(
                VerifyProblem("snapshot", snap.digest, "stored snapshot does not match its digest")
            )


def _insert_ignoring_duplicates(conn: Connection, table_: Table) -> Any:
    """`INSERT ... ON CONFLICT DO NOTHING` for content-addressed rows, on either backend."""
    if conn.dialect.name == "postgresql":
        return pg_insert(table_).on_conflict_do_nothing()
    return sqlite_insert(table_).on_conflict_do_nothing()


def _is_hex64(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _orig(err: DBAPIError) -> str:
    return describe_error(err)


__all__ = [
    "BUCKETS",
    "OPEN_STATES",
    "ROLLBACK_GUARD_SECONDS",
    "SCHEMA_VERSION",
    "ArmStats",
    "EnvState",
    "Event",
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
]
