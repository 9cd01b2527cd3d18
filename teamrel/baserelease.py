"""The base release a check or a plan is measured against.

Owns `Base` (and `BaseRef`, what a check or a plan document records of it) and `load_base`:
an environment's live manifest (read through the state store), a manifest file or release
name, the newest manifest under `manifests/<team>/`, or nothing; and `resolve_against`, the
`--against ENV|MANIFEST` spelling of either. Members whose working tree digest is the pinned
one are not re-read (content addressing).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from teamrel.canonical import JsonObject
from teamrel.errors import InputError, TeamrelError, UsageError
from teamrel.models import NAME_RE, ResolvedMember
from teamrel.workspace import Workspace


@dataclass(frozen=True, slots=True)
class BaseRef:
    """What a check or a plan records of its base (`base` in their documents)."""

    kind: Literal["env", "manifest", "empty"]
    env: str | None = None
    manifest_digest: str | None = None
    release: str | None = None
    path: str | None = None

    def to_json(self) -> JsonObject:
        """Stable JSON form (docs/plan-format.md, docs/check.md)."""
        return {
            "kind": self.kind,
            "env": self.env,
            "manifest_digest": self.manifest_digest,
            "release": self.release,
            "path": self.path,
        }


@dataclass(frozen=True)
class Base:
    """The release a check or a plan is measured against."""

    kind: Literal["env", "manifest", "empty"]
    members: dict[str, ResolvedMember]
    env: str | None = None
    manifest_digest: str | None = None
    release: str | None = None
    path: str | None = None  # workspace-relative manifest file, when read from one
    created_at: str | None = None

    def ref(self) -> BaseRef:
        """What a check or a plan records of this base."""
        return BaseRef(self.kind, self.env, self.manifest_digest, self.release, self.path)

    def to_json(self) -> JsonObject:
        """What a plan records of its base (docs/plan-format.md)."""
        return self.ref().to_json()

    def describe(self) -> str:
        """A short human label: `env prod (r7)`, `manifest r7`, `empty team`."""
        if self.kind == "env":
            return f"env {self.env} ({self.release or 'nothing live'})"
        if self.kind == "manifest":
            return f"release {self.release}" + (f" ({self.path})" if self.path else "")
        return "empty team (no release yet)"


def _rel(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _base_from_manifest(
    manifest: Any,
    kind: Literal["env", "manifest"],
    loader: Callable[[str], ResolvedMember],
    known: Mapping[str, ResolvedMember],
    *,
    env: str | None = None,
    path: str | None = None,
) -> Base:
    from teamrel.manifest import pinned_members

    def load(member_digest: str) -> ResolvedMember:
        # A member whose working-tree digest is the pinned one *is* the pinned member
        # (content addressing): no need to read and re-hash its snapshot. Only changed and
        # removed members are read from their snapshots (and verified).
        hit = known.get(member_digest)
        return hit if hit is not None else loader(member_digest)

    members = dict(pinned_members(manifest, load))
    created = getattr(manifest, "created_at", None)
    return Base(
        kind=kind,
        members=members,
        env=env,
        manifest_digest=str(manifest.digest),
        release=str(manifest.release),
        path=path,
        created_at=str(created) if created is not None else None,
    )


def find_manifest_path(root: Path, team: str, ref: str) -> Path | None:
    """A manifest reference that names a file: a path (absolute, or relative to the current
    directory or the workspace) or a release name under `manifests/<team>/`."""
    candidates = [Path(ref)] if Path(ref).is_absolute() else [Path.cwd() / ref, root / ref]
    if NAME_RE.match(ref):
        candidates.append(root / "manifests" / team / f"{ref}.json")
    for c in candidates:
        if c.is_file():
            return c
    return None


def _file_loader(ws: Workspace) -> Callable[[str], ResolvedMember]:
    """Reads a member snapshot from the workspace's `manifests/<team>/snapshots/`."""
    from teamrel.manifest import read_snapshot

    root, team = ws.root, ws.team.team

    def load(digest: str) -> ResolvedMember:
        return read_snapshot(root, team, digest)

    return load


def _manifest_base(ws: Workspace, ref: str, known: Mapping[str, ResolvedMember]) -> Base:
    """A manifest file or a release name under `manifests/<team>/` as the base."""
    from teamrel.manifest import read_manifest

    root, team = ws.root, ws.team.team
    path = find_manifest_path(root, team, ref)
    if path is None:
        if ref.endswith(".json") or "/" in ref or os.sep in ref:
            raise InputError(f"{ref}: no such manifest file")
        raise UsageError(
            f"{ref!r} is neither a manifest file nor a release under manifests/{team}/"
        )
    base_manifest = read_manifest(path)
    if base_manifest.team != team:
        # otherwise the first symptom is a "missing snapshot" under the wrong team's dir
        raise InputError(
            f"{path}: manifest of team {base_manifest.team!r}, but this workspace is team {team!r}"
        )
    return _base_from_manifest(
        base_manifest, "manifest", _file_loader(ws), known, path=_rel(root, path)
    )


def _env_base(
    ws: Workspace,
    env: str,
    store_factory: Callable[[], Any] | None,
    known: Mapping[str, ResolvedMember],
) -> Base:
    """An environment's live release as the base (read through the state store); snapshots
    come from the workspace's files when there, else from the store."""
    declared = ws.team.environments
    if declared and env not in declared:
        raise UsageError(
            f"unknown environment {env!r}", hint=f"declared: {', '.join(sorted(declared))}"
        )
    if store_factory is None:
        raise UsageError(f"environment {env!r} needs the state store")
    store = store_factory()
    live = store.live_manifest(ws.team.team, env)
    if live is None:
        return Base(kind="env", members={}, env=env)
    file_loader = _file_loader(ws)

    def store_loader(digest: str) -> ResolvedMember:
        try:
            return file_loader(digest)
        except TeamrelError:
            member: ResolvedMember = store.snapshot(digest)
            return member

    return _base_from_manifest(live, "env", store_loader, known, env=env)


def load_base(
    ws: Workspace,
    *,
    env: str | None = None,
    manifest: str | None = None,
    store_factory: Callable[[], Any] | None = None,
    default: Literal["latest", "empty"] = "latest",
) -> Base:
    """Resolve the base: `env`'s live manifest (needs the store), a manifest file or release
    name, else (default `latest`) the newest manifest under `manifests/<team>/`, else empty."""
    from teamrel.manifest import latest_manifest

    root, team = ws.root, ws.team.team
    known = {m.digest: m for m in ws.members.values()}
    if env is not None and manifest is not None:
        raise UsageError("give an environment or a manifest as the base, not both")
    if manifest is not None:
        return _manifest_base(ws, manifest, known)
    if env is not None:
        return _env_base(ws, env, store_factory, known)
    if default == "latest":
        latest = latest_manifest(root, team)
        if latest is not None:
            path = root / "manifests" / team / f"{latest.release}.json"
            return _base_from_manifest(
                latest,
                "manifest",
                _file_loader(ws),
                known,
                path=_rel(root, path) if path.is_file() else None,
            )
    return Base(kind="empty", members={})


def resolve_against(ws: Workspace, ref: str, store_factory: Callable[[], Any] | None) -> Base:
    """`--against ENV|MANIFEST`: a manifest file or release name if one exists, else an env."""
    if find_manifest_path(ws.root, ws.team.team, ref) is not None or ref.endswith(".json"):
        return load_base(ws, manifest=ref)
    declared = ws.team.environments
    if declared and ref not in declared:
        # a typo'd release name must not read as "unknown environment" only
        raise UsageError(
            f"--against {ref!r}: no environment, release under manifests/{ws.team.team}/ "
            "or manifest file of that name",
            hint=f"environments: {', '.join(sorted(declared))}",
        )
    return load_base(ws, env=ref, store_factory=store_factory)
