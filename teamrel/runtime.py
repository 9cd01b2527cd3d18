"""`teamrel.Runtime`: what an agent runtime calls to load the team pinned in an environment.

Owns the read side used in production. `run(team, env)` pins ONE manifest for a whole
multi-agent run: every member the run resolves comes from the same release, so a rollback in
the middle of a conversation never mixes members of two releases (the next run picks the
rollback up). `resolve(team, env, member)` is one member of the team pinned right now.

    rt = teamrel.Runtime("/srv/support-team")          # or a database URL
    with rt.run("support", "prod") as team:
        router = team.member("router")                 # prompt, model, tools, schemas

Feature flags (docs/flags.md): a run resolves every flag of its release once, when it starts
(`team.flag("refund_v2")`), from the environment's flag values read with the pointer: a
percentage is decided per key by the same sticky, monotone hashing as a rollout's canary
split (`teamrel.store.bucket`), so the same key sees the same value and raising the share only
turns it on for more keys. `team.member(name)` is the variant the run's flags select, without
the tools its flags switch off. Flag changes move the environment's generation, so runtimes
hear of them like of a rollback (PostgreSQL: pushed by NOTIFY; SQLite: data_version) and
within the TTL at most.

Noticing a promote or rollback made by another process: every call asks the store's change
feed (SQLite `PRAGMA data_version` on a kept connection, microseconds; PostgreSQL
LISTEN/NOTIFY heard by a daemon thread, a memory read) whether any pointer may have moved,
and re-reads the environment's pointer (one indexed read) only when it may have. The TTL is
only an upper bound on trusting the feed; while the feed cannot tell (PostgreSQL listener
reconnecting) every call re-reads the pointer.

Switching to a release is flat in team size: nothing is loaded up front but the manifest's
stored text, re-hashed (integrity) and not parsed. A member is located in that text, checked
against the store's member index, and its snapshot read (and re-hashed) the first time a run
asks for it. Snapshots are immutable and content-addressed, so they are cached by digest
across releases: a rollback mostly returns to snapshots already loaded.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import os
import threading
import time
from collections.abc import ItemsView, Iterator, Mapping, Sequence, ValuesView
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from teamrel.errors import NotFoundError, StoreError
from teamrel.manifest import Manifest, ManifestText, PinnedEntry
from teamrel.models import ResolvedMember
from teamrel.pinned import (
    PinnedRelease,
    flag_definitions,
    flagged,
    no_member,
    nothing_live,
    pin_member,
    read_text,
)
from teamrel.store import FlagValue, Outcome, Route, Store, bucket, flag_values, open_store
from teamrel.store.watch import ChangeFeed

#: Seconds a resolved pointer is trusted at most, even when the change feed reports nothing.
DEFAULT_TTL_SECONDS = 5.0


class _Snapshots:
    """Member snapshots by digest, shared by every release a runtime has seen (immutable)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cache: dict[str, ResolvedMember] = {}

    def get(self, member_digest: str) -> ResolvedMember:
        found = self._cache.get(member_digest)
        if found is None:
            found = self._cache[member_digest] = self._store.snapshot(member_digest)
        return found

    def prefetch(self, digests: Sequence[str]) -> None:
        missing = [d for d in dict.fromkeys(digests) if d not in self._cache]
        if missing:
            self._cache.update(self._store.snapshots(missing))


class PinnedMembers(Mapping[str, ResolvedMember]):
    """The members of one release, each loaded (and re-hashed) on first access."""

    def __init__(self, text: ManifestText, snapshots: _Snapshots) -> None:
        self._text = text
        self._snapshots = snapshots
        self._loaded: dict[str, ResolvedMember] = {}

    def __getitem__(self, name: str) -> ResolvedMember:
        found = self._loaded.get(name)
        if found is not None:
            return found
        entry = self._text.entry(name) if isinstance(name, str) else None
        if entry is None:
            raise KeyError(name)
        return self._pin(name, entry, self._snapshots.get(entry.digest))

    def _pin(self, name: str, entry: PinnedEntry, snapshot: ResolvedMember) -> ResolvedMember:
        member = self._loaded[name] = pin_member(self._text.release, name, entry, snapshot)
        return member

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._text.entry(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._text.all_entries())

    def __len__(self) -> int:
        return len(self._text.all_entries())

    def load_all(self) -> None:
        """Load every member now, in batched reads (what iterating values or items does)."""
        entries = self._text.all_entries()
        self._snapshots.prefetch([e.digest for e in entries.values()])
        for name, entry in entries.items():
            if name not in self._loaded:
                self._pin(name, entry, self._snapshots.get(entry.digest))

    def values(self) -> ValuesView[ResolvedMember]:
        """Every member (all loaded first, in batches)."""
        self.load_all()
        return super().values()

    def items(self) -> ItemsView[str, ResolvedMember]:
        """Every (name, member) (all loaded first, in batches)."""
        self.load_all()
        return super().items()


class PinnedTeam(PinnedRelease):
    """One release of a team as live in an environment (a `PinnedRelease`, like what
    `teamrel resolve` prints): every member exactly as pinned, and what a run adds (its
    rollout arm, its flags, its outcome).

    Bound to one manifest digest: members loaded later (lazily) still come from this release
    even after the environment's pointer moved on.
    """

    def __init__(self, team: str, environment: str, text: ManifestText, snapshots: _Snapshots):
        super().__init__(team, environment, text.release, text.digest)
        self._text = text
        self.members: Mapping[str, ResolvedMember] = PinnedMembers(text, snapshots)
        #: which arm of a rollout this run is on (`stable` without a rollout)
        self.arm = "stable"
        #: in a rollout's shadow phase: the candidate team, to run on a copy of the input
        self.shadow: PinnedTeam | None = None
        self.rollout_id: str | None = None
        self.run_id: str | None = None
        self._step = -1
        self._recorder: _Recorder | None = None
        self._recorded = False
        self._snapshots = snapshots
        #: flag -> its definition in the release (None: not read yet; shared by the views)
        self._flag_defs: list[dict[str, dict[str, object]] | None] = [None]
        #: this run's flag values, decided when it started (None: every flag at its default)
        self._flag_values: dict[str, bool] | None = None

    @property
    def flag_definitions(self) -> dict[str, dict[str, object]]:
        """The flags the release pins (name -> definition), read once per release."""
        defs = self._flag_defs[0]
        if defs is None:
            defs = self._flag_defs[0] = flag_definitions(self._text)
        return defs

    def _with_flags(self, values: Mapping[str, FlagValue], key: str | None) -> PinnedTeam:
        """A view of this team for one run, every flag decided once (sticky per key)."""
        defs = self.flag_definitions
        if not defs:
            return self
        decided: dict[str, bool] = {}
        for name, d in defs.items():
            v = values.get(name)
            if v is None:
                decided[name] = bool(d.get("default"))
            elif v.state != "percent":
                decided[name] = v.state == "on"
            else:
                decided[name] = flag_is_on(self.team, name, key, v.percent_bp)
        view = copy.copy(self)
        view._flag_values = decided
        return view

    def flag(self, name: str) -> bool:
        """Whether flag `name` is on for this run (decided when the run started)."""
        d = self.flag_definitions.get(name)
        if d is None:
            raise NotFoundError(
                f"release {self.release} live in {self.environment} declares no flag {name!r}"
            )
        if self._flag_values is not None and name in self._flag_values:
            return self._flag_values[name]
        return bool(d.get("default"))

    def _for_run(
        self, arm: str, route: Route, recorder: _Recorder | None, run_id: str
    ) -> PinnedTeam:
        """A view of this release for one run of a rollout (shares the member caches)."""
        view = copy.copy(self)
        view.arm = arm
        view.rollout_id = route.rollout_id
        view.run_id = run_id
        view._step = route.step_index
        view._recorder = recorder
        view._recorded = False
        view.shadow = None
        return view

    def record(
        self,
        ok: bool,
        *,
        latency_ms: float | None = None,
        cost_usd: float | None = None,
        tool_calls: int | None = None,
        scores: Mapping[str, float] | None = None,
    ) -> bool:
        """Record this run's outcome for the rollout's analysis: buffered in memory and
        written by a background thread in batches. Once per run (a second call is ignored);
        False when there is no rollout to record for."""
        if self._recorder is None or self.rollout_id is None or self._recorded:
            return False
        self._recorded = True
        self._recorder.add(
            Outcome(
                self.rollout_id,
                self.run_id or "",
                self.arm,
                self._step,
                self.release,
                bool(ok),
                latency_ms,
                cost_usd,
                tool_calls,
                dict(scores) if scores else {},
            )
        )
        return True

    @property
    def digest(self) -> str:
        """The manifest digest (`manifest_digest`)."""
        return self.manifest_digest

    @property
    def manifest(self) -> Manifest:
        """The whole manifest (parsed on first use: costs time linear in team size)."""
        return self._text.manifest()

    def member(self, name: str) -> ResolvedMember:
        """A member as pinned (its `spec` holds prompt text, model, parameters, tools...):
        the variant this run's flags select, without the tools they switch off."""
        try:
            member = self.members[name]
        except KeyError:
            raise no_member(self._text, self.environment, name) from None
        defs = self.flag_definitions
        return flagged(member, name, defs, self.flag, self._snapshots.get) if defs else member

    def __repr__(self) -> str:
        return (
            f"PinnedTeam({self.team!r}, {self.environment!r}, release={self.release!r}, "
            f"arm={self.arm!r})"
        )


def flag_is_on(team: str, flag: str, key: str | None, percent_bp: int) -> bool:
    """Whether a flag set on for `percent_bp`/10,000 of keys is on for `key`: the canary
    split's hashing (`teamrel.store.bucket`), seeded by team and flag, so a key keeps its
    value at a given share (sticky) and raising the share only adds keys (monotone); without
    a key, at random."""
    if percent_bp >= 10_000:
        return True
    if percent_bp <= 0:
        return False
    if key is None:
        return int.from_bytes(os.urandom(4), "big") % 10_000 < percent_bp
    return bucket(f"flag:{team}:{flag}", key) < percent_bp


class _Recorder:
    """Outcomes buffered in memory, written by a daemon thread (`teamrel-outcomes`) in
    batches: `record` never waits for the database. A failed write keeps the batch for the
    next attempt; the store ignores runs already recorded, so a retry never double-counts."""

    def __init__(self, store: Store, *, interval: float = 0.5, batch: int = 2000) -> None:
        self._store = store
        self._interval = interval
        self._batch = batch
        self._buf: list[Outcome] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        #: outcomes written so far (new ones) and the last write error, for diagnostics
        self.written = 0
        self.last_error: Exception | None = None

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self._buf.append(outcome)
            full = len(self._buf) >= self._batch
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(
                    target=self._run, name="teamrel-outcomes", daemon=True
                )
                self._thread.start()
        if full:
            self._wake.set()

    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            with contextlib.suppress(Exception):  # kept for the next attempt
                self.flush()

    def flush(self) -> None:
        """Write everything buffered now (in batches)."""
        with self._flush_lock:
            with self._lock:
                pending, self._buf = self._buf, []
            try:
                for i in range(0, len(pending), self._batch):
                    self.written += self._store.record_outcomes(pending[i : i + self._batch])
            except Exception as err:
                self.last_error = err
                with self._lock:
                    self._buf[:0] = pending  # idempotent: the written part is skipped later
                raise

    def close(self) -> None:
        """Stop the thread and write what is left."""
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()


class _Cached(NamedTuple):
    expires: float
    token: int | None
    pinned: PinnedTeam
    route: Route | None = None
    candidate: PinnedTeam | None = None
    #: the environment's flag values (read only when a release it serves declares flags)
    flags: Mapping[str, FlagValue] | None = None


class Runtime:
    """Resolve pinned team members from a state store, following pointer moves promptly."""

    def __init__(
        self,
        workspace_or_db_url: str | Path,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        db_url: str | None = None,
        watch: bool = True,
        warm: bool = True,
    ) -> None:
        """`workspace_or_db_url`: a workspace directory (its store: `db_url`, else
        TEAMREL_DATABASE_URL, else .teamrel/state.db) or a database URL. `ttl`: seconds a
        pointer is trusted at most (0: re-read on every call). `watch=False`: no change
        feed, a pointer is trusted for the whole `ttl`. `warm=False`: do not read ahead the
        release a rollback would switch to (a background thread per switch)."""
        target = str(workspace_or_db_url)
        if isinstance(workspace_or_db_url, str) and "://" in target:
            self._store: Store = open_store(target, None)
        else:
            self._store = open_store(db_url, Path(target))
        self.ttl = ttl
        self._watching = watch and ttl > 0
        try:
            self._feed: ChangeFeed = self._store.change_feed() if self._watching else ChangeFeed()
        except BaseException:
            self._store.close()
            raise
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._by_digest: dict[tuple[str, str, str], PinnedTeam] = {}
        self._texts: dict[str, ManifestText] = {}
        self._snapshots = _Snapshots(self._store)
        self._lock = threading.Lock()
        #: keep the release a rollback would return to read ahead (see `_warm`)
        self.warm = warm
        self._warming: set[tuple[str, str]] = set()
        self._warmers: list[threading.Thread] = []
        self._closed = False
        self._recorder = _Recorder(self._store)
        # outcomes buffered at interpreter exit are written, not lost
        atexit.register(self._flush_at_exit)

    def _flush_at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self._recorder.close()

    def flush(self) -> None:
        """Write the buffered outcomes now (the background thread does it every 0.5 s)."""
        self._recorder.flush()

    def close(self) -> None:
        """Stop the change feed (and its thread) and release the store's connections."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._flush_at_exit)
        for thread in self._warmers:
            thread.join(timeout=5)
        try:
            self._recorder.close()
        finally:
            try:
                self._feed.close()
            finally:
                self._store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def feed(self) -> ChangeFeed:
        """The change feed this runtime follows (diagnostics)."""
        return self._feed

    def invalidate(self) -> None:
        """Forget cached pointers (the next resolve re-reads every environment)."""
        with self._lock:
            self._cache.clear()

    def pinned(self, team: str, env: str) -> PinnedTeam:
        """The team live (stable) in `env` now: from the cache while the change feed reports
        no move (and within the TTL), else re-read."""
        return self._entry(team, env).pinned

    def _entry(self, team: str, env: str) -> _Cached:
        entry = self._cache.get((team, env))
        if entry is not None and entry.expires > time.monotonic():
            if not self._watching:
                return entry
            # asked BEFORE the pointer is read: a move committed in between changes the token
            token = self._feed.token()
            if token is not None and token == entry.token:
                return entry
        else:
            token = self._feed.token() if self._watching else None
        return self._refresh(team, env, token, entry)

    def _refresh(self, team: str, env: str, token: int | None, entry: _Cached | None) -> _Cached:
        try:
            route = self._store.live_route(team, env)
        except StoreError:
            # the store is unreachable: what was live a moment ago beats failing the run
            if entry is not None and entry.expires > time.monotonic():
                return entry
            raise
        if route is None:
            raise nothing_live(team, env)
        manifest_digest = route.stable_digest
        if entry is not None and entry.pinned.digest == manifest_digest:
            pinned = entry.pinned
        else:
            pinned = self._open(team, env, manifest_digest)
        candidate = None
        if route.candidate_digest is not None:
            if (
                entry is not None
                and entry.candidate is not None
                and (entry.candidate.digest == route.candidate_digest)
            ):
                candidate = entry.candidate
            else:
                candidate = self._open(team, env, route.candidate_digest, warm=False)
        flags: Mapping[str, FlagValue] | None = None
        if pinned.flag_definitions or (candidate is not None and candidate.flag_definitions):
            flags = flag_values(self._store, team, env)
        fresh = _Cached(time.monotonic() + self.ttl, token, pinned, route, candidate, flags)
        self._cache[(team, env)] = fresh
        return fresh

    def _open(self, team: str, env: str, manifest_digest: str, *, warm: bool = True) -> PinnedTeam:
        with self._lock:
            key = (team, env, manifest_digest)
            pinned = self._by_digest.get(key)
            if pinned is None:
                text = self._texts.get(manifest_digest)
                if text is None:
                    text = self._texts[manifest_digest] = read_text(self._store, manifest_digest)
                pinned = self._by_digest[key] = PinnedTeam(team, env, text, self._snapshots)
        if self.warm and warm:
            self._start_warming(team, env)
        return pinned

    def _start_warming(self, team: str, env: str) -> None:
        with self._lock:
            if (team, env) in self._warming or self._closed:
                return
            self._warming.add((team, env))
            self._warmers = [t for t in self._warmers if t.is_alive()]
        thread = threading.Thread(
            target=self._warm, args=(team, env), name="teamrel-warm", daemon=True
        )
        self._warmers.append(thread)
        thread.start()

    def _warm(self, team: str, env: str) -> None:
        """Read (and verify) the manifest a rollback of `env` would switch to, ahead of time:
        the run that first sees that rollback then pays no per-team read."""
        try:
            target = self._store.rollback_target(team, env)
            if target is not None and target not in self._texts and not self._closed:
                text = read_text(self._store, target)
                with self._lock:
                    self._texts.setdefault(target, text)
        except Exception:
            pass  # best effort: the switch reads it itself when needed
        finally:
            with self._lock:
                self._warming.discard((team, env))

    def resolve(self, team: str, env: str, member: str) -> ResolvedMember:
        """One member as pinned in `env` now (see `pinned`)."""
        return self.pinned(team, env).member(member)

    @contextmanager
    def run(self, team: str, env: str, *, key: str | None = None) -> Iterator[PinnedTeam]:
        """Pin one manifest for a whole multi-agent run (see the module docstring).

        During a rollout the run is routed to one arm (`team.arm`): with `key` (a user or
        conversation id) by its bucket, so the same key stays on its arm and raising the
        weight only moves keys onto the candidate; without one, at random. In the shadow
        phase stable serves every run and `team.shadow` is the candidate, to run on a copy of
        the input. `team.record(...)` reports the run's outcome.
        """
        yield self.route(team, env, key=key)

    def route(self, team: str, env: str, *, key: str | None = None) -> PinnedTeam:
        """The team a run with `key` is served by now (what `run` yields), its flags decided."""
        entry = self._entry(team, env)
        chosen = self._route(entry, key)
        if entry.flags is None:
            return chosen
        return chosen._with_flags(entry.flags, key)

    def _route(self, entry: _Cached, key: str | None) -> PinnedTeam:
        route = entry.route
        if route is None or route.rollout_id is None or entry.candidate is None:
            return entry.pinned
        run_id = os.urandom(8).hex()
        if route.phase == "shadow":
            team_ = entry.pinned._for_run("stable", route, self._recorder, run_id)
            team_.shadow = entry.candidate._for_run(
                "shadow", route, self._recorder, run_id + "-shadow"
            )
            return team_
        b = (
            bucket(route.rollout_id, key)
            if key is not None
            else int.from_bytes(os.urandom(4), "big") % 10_000
        )
        if b < route.weight_bp:
            return entry.candidate._for_run("canary", route, self._recorder, run_id)
        return entry.pinned._for_run("stable", route, self._recorder, run_id)
