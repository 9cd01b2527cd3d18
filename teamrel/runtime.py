"""`teamrel.Runtime`: what an agent runtime calls to load the team pinned in an environment.

Owns the read side used in production: `resolve(team, env, member)` answers from a short TTL
cache (a dictionary lookup, microseconds) and refreshes with one indexed read of the
environment's pointer, loading a manifest's snapshots only the first time that manifest is
seen. `run(team, env)` pins ONE manifest for a whole multi-agent run: every member the run
resolves comes from the same release, so a rollback in the middle of a conversation never
mixes members of two releases (the next run picks the rollback up).

    rt = teamrel.Runtime("/srv/support-team")          # or a database URL
    with rt.run("support", "prod") as team:
        router = team.member("router")                 # prompt, model, tools, schemas
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType, TracebackType

from teamrel.errors import NotFoundError
from teamrel.manifest import Manifest
from teamrel.models import ResolvedMember
from teamrel.store import Store, open_store

#: Seconds a resolved environment is served from the cache before its pointer is re-read.
DEFAULT_TTL_SECONDS = 5.0


@dataclass(frozen=True)
class PinnedTeam:
    """One release of a team as live in an environment: every member exactly as pinned."""

    team: str
    environment: str
    manifest: Manifest
    members: Mapping[str, ResolvedMember]

    @property
    def release(self) -> str:
        """The release name."""
        return self.manifest.release

    @property
    def digest(self) -> str:
        """The manifest digest."""
        return self.manifest.digest

    def member(self, name: str) -> ResolvedMember:
        """A member as pinned (its `spec` holds prompt text, model, parameters, tools...)."""
        try:
            return self.members[name]
        except KeyError:
            raise NotFoundError(
                f"release {self.manifest.release} live in {self.environment} has no member {name!r}"
            ) from None


class Runtime:
    """Resolve pinned team members from a state store, with a short cache."""

    def __init__(
        self,
        workspace_or_db_url: str | Path,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        db_url: str | None = None,
    ) -> None:
        """`workspace_or_db_url`: a workspace directory (its store: `db_url`, else
        TEAMREL_DATABASE_URL, else .teamrel/state.db) or a database URL."""
        target = str(workspace_or_db_url)
        if isinstance(workspace_or_db_url, str) and "://" in target:
            self._store: Store = open_store(target, None)
        else:
            self._store = open_store(db_url, Path(target))
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, PinnedTeam]] = {}
        self._by_digest: dict[tuple[str, str, str], PinnedTeam] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Release the store's connections."""
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

    def invalidate(self) -> None:
        """Forget cached pointers (the next resolve re-reads every environment)."""
        with self._lock:
            self._cache.clear()

    def pinned(self, team: str, env: str) -> PinnedTeam:
        """The team live in `env`: from the cache within the TTL, else re-read."""
        entry = self._cache.get((team, env))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        return self._refresh(team, env)

    def _refresh(self, team: str, env: str) -> PinnedTeam:
        with self._lock:
            manifest_digest = self._store.live_digest(team, env)
            if manifest_digest is None:
                raise NotFoundError(f"nothing is live in {env} of team {team}")
            key = (team, env, manifest_digest)
            pinned = self._by_digest.get(key)
            if pinned is None:
                manifest = self._store.get_manifest(manifest_digest)
                members = self._store.pinned(manifest)
                pinned = PinnedTeam(team, env, manifest, MappingProxyType(dict(members)))
                self._by_digest[key] = pinned
            self._cache[(team, env)] = (time.monotonic() + self.ttl, pinned)
            return pinned

    def resolve(self, team: str, env: str, member: str) -> ResolvedMember:
        """One member as pinned in `env` (cached: see `ttl`)."""
        return self.pinned(team, env).member(member)

    @contextmanager
    def run(self, team: str, env: str) -> Iterator[PinnedTeam]:
        """Pin one manifest for a whole multi-agent run (see the module docstring)."""
        yield self.pinned(team, env)
