"""Release operations: release, promote, rollback, status, history, diff, verify, resolve.

Owns the rules around the state store's primitives: release naming and idempotency, the check
gate (`--allow-incompatible --reason`), stale-plan refusal, environment protection from
`teamrel.yaml` (`require_reason`, `allow_incompatible: false` -> `PolicyError`), importing a
committed manifest into a fresh store, the manifest file check before a pointer moves, the
post-rollback warning about a working tree that would re-ship what was rolled back, and the
report values the CLI renders. The check itself is run by the caller (`Context.release`) and
passed in as its summary: this module does not import `teamrel.check`.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from teamrel.canonical import JSON, JsonObject, sha256_hex
from teamrel.errors import (
    ConflictError,
    ExitCode,
    IntegrityError,
    NotFoundError,
    PolicyError,
    RecentRollback,
    RollbackTargetRefused,
    RolledBackFrom,
    TeamrelError,
    UsageError,
)
from teamrel.fileio import atomic_write
from teamrel.gates import evaluate as evaluate_gates
from teamrel.manifest import (
    DIGEST_RE,
    MANIFESTS_DIR,
    SNAPSHOTS_DIR,
    Manifest,
    PinnedEntry,
    build_manifest,
    check_name,
    content_key,
    list_manifests,
    manifest_file_bytes,
    manifest_path,
    read_manifest,
    read_snapshot,
    write_manifest,
    write_snapshot,
)
from teamrel.memberdiff import field_changes
from teamrel.models import EnvironmentSpec, ResolvedMember
from teamrel.pinned import (
    PinnedRelease,
    flag_definitions,
    flagged,
    live_digest,
    member_entry,
    nothing_live,
    pin_member,
    read_text,
)
from teamrel.safety import UnsafeCrossing
from teamrel.store import (
    ROLLBACK_GUARD_SECONDS,
    EnvState,
    Event,
    FlagValue,
    RolloutState,
    Store,
    TargetInfo,
    Transition,
    VerifyProblem,
    VerifyReport,
    flag_values,
    iso,
    utcnow,
)

if TYPE_CHECKING:
    from teamrel.plandoc import Plan

#: Version of every JSON document the release commands print.
RELEASE_FORMAT_VERSION = 1
#: Environment variable naming the actor recorded in the audit log.
ACTOR_ENV = "TEAMREL_ACTOR"
#: Environment variable overriding the rollback guard window (seconds; 0 disables it).
ROLLBACK_GUARD_ENV = "TEAMREL_ROLLBACK_GUARD_SECONDS"

_AUTO_NAME = re.compile(r"^r([0-9]{1,9})$")


class CheckFailed(TeamrelError):
    """`release` refused: the check did not pass and --allow-incompatible was not given."""

    exit_code = ExitCode.FINDINGS


class GateFailed(TeamrelError):
    """`promote` refused: an eval gate of the environment failed (or was inconclusive)."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, findings: list[str], report: dict[str, Any]) -> None:
        super().__init__(
            "\n".join([message, *(f"  ✗ {f}" for f in findings)]),
            hint="fix the member or re-run its suite; where the environment sets "
            "allow_gate_override: true, --override-gates --reason TEXT ships anyway",
        )
        self.findings = findings
        self.report = report

    def to_json(self) -> JsonObject:
        doc = super().to_json()
        doc["findings"] = self.findings
        doc["gates"] = self.report
        return doc


class SafetyCheck(Protocol):
    """What a rollback safety hook returns (`teamrel.meet.SafetyReport`)."""

    def refusals(self) -> list[str]:
        """One sentence per persisted handoff the move is not proven safe for."""
        ...

    def to_json(self) -> JsonObject:
        """The `safety` object of the rollback document."""
        ...


class RollbackUnsafe(UnsafeCrossing):
    """`rollback` refused: a consumer of the target release cannot read what a producer of
    the current release may have persisted (exit 1; `--force --reason` rolls back anyway)."""

    def __init__(self, message: str, findings: list[str], safety: dict[str, Any]) -> None:
        super().__init__(
            message,
            findings,
            safety,
            hint="roll back to a release that reads what was written (--to RELEASE), or "
            "accept it with --force --reason TEXT (recorded in the audit event)",
        )


def _named(
    members: Mapping[str, str], load: Callable[[str], ResolvedMember]
) -> dict[str, ResolvedMember]:
    return {n: load(d).model_copy(update={"name": n}) for n, d in members.items()}


def _gate(
    store: Store,
    root: Path | None,
    team: str,
    env: str,
    rules: EnvironmentSpec,
    candidate: Callable[[], Mapping[str, ResolvedMember]],
    *,
    override: str | None,
    reason: str | None,
) -> str | None:
    """Evaluate `env`'s eval gates on the candidate team; raise GateFailed when one blocks.

    Returns the reason to record: with an allowed override, the reason says so (the audit
    event keeps it); None when nothing was overridden.
    """
    if override is not None and not rules.allow_gate_override:
        raise PolicyError(
            f"environment {env} does not allow --override-gates "
            f"(environments.{env}.allow_gate_override: false in teamrel.yaml)"
        )
    if not rules.gates and rules.stale_evals != "block":
        return None
    live_manifest = store.live_manifest(team, env)
    load = snapshot_loader(store, root, team)
    live = _named(live_manifest.member_digests, load) if live_manifest is not None else {}
    report = evaluate_gates(env, rules, candidate(), live)
    blocking = report.blocking
    if not blocking:
        return None
    if override is None:
        raise GateFailed(
            f"{len(blocking)} eval gate finding(s) refuse promotion to {env}; nothing was promoted",
            blocking,
            report.to_json(),
        )
    return f"{reason or ''} [eval gates overridden: {override}; {'; '.join(blocking)}]".strip()


def rollback_guard_seconds() -> float:
    """How long after a rollback a plain `rollback` of the same environment is refused:
    `TEAMREL_ROLLBACK_GUARD_SECONDS` (0 disables the guard), else 10."""
    raw = os.environ.get(ROLLBACK_GUARD_ENV)
    if raw is None or not raw.strip():
        return ROLLBACK_GUARD_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{ROLLBACK_GUARD_ENV}={raw!r}: not a number of seconds") from None
    if value < 0:
        raise UsageError(f"{ROLLBACK_GUARD_ENV} must not be negative")
    return value


def resolve_actor(actor: str | None) -> str:
    """`--actor`, else `TEAMREL_ACTOR`, else `user@host`."""
    if actor:
        return actor
    env_actor = os.environ.get(ACTOR_ENV)
    if env_actor:
        return env_actor
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname() or 'localhost'}"


def environment_rules(environments: Mapping[str, EnvironmentSpec], env: str) -> EnvironmentSpec:
    """The protection rules of `env`; an undeclared name is refused when any are declared."""
    check_name(env, "environment")
    if environments and env not in environments:
        raise UsageError(
            f"unknown environment {env!r}",
            hint=f"teamrel.yaml declares: {', '.join(sorted(environments))}",
        )
    return environments.get(env) or EnvironmentSpec()


def _require_reason(rules: EnvironmentSpec, env: str, reason: str | None, what: str) -> None:
    if rules.require_reason and not (reason and reason.strip()):
        raise PolicyError(
            f"environment {env} requires a reason to {what} "
            f"(environments.{env}.require_reason: true in teamrel.yaml)",
            hint="add --reason TEXT",
        )


class FileStamps:
    """Which manifest files were last seen hashing to their recorded digest, by (size, mtime).

    Like git's index: a file whose size and modification time (nanoseconds) are what they
    were when it last hashed correctly is not re-read, which keeps promote and rollback flat
    in team size. Any write to the file changes its stamp, so it is hashed again; `verify`
    never uses the stamps. Kept in `.teamrel/file-stamps.json` (safe to delete).
    """

    def __init__(self, root: Path) -> None:
        self.path = root / ".teamrel" / "file-stamps.json"
        self.root = root
        try:
            raw = json.loads(self.path.read_text("utf-8"))
            self.stamps: dict[str, list[Any]] = raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            self.stamps = {}

    def _key(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def unchanged(self, path: Path, stat: os.stat_result, sha: str) -> bool:
        """Whether `path` still has the stamp it had when it last hashed to `sha`."""
        return self.stamps.get(self._key(path)) == [stat.st_size, stat.st_mtime_ns, sha]

    def record(self, path: Path, stat: os.stat_result, sha: str) -> None:
        """Remember that `path` with this stamp hashes to `sha` (best effort)."""
        self.stamps[self._key(path)] = [stat.st_size, stat.st_mtime_ns, sha]
        with contextlib.suppress(OSError):
            atomic_write(
                self.path, json.dumps(self.stamps, sort_keys=True).encode("utf-8"), durable=False
            )


def target_check(
    root: Path | None, env: str, rules: EnvironmentSpec
) -> Callable[[TargetInfo], None]:
    """The check run inside the promote/rollback transaction before the pointer moves."""

    def check(target: TargetInfo) -> None:
        if target.allow_incompatible is not None and not rules.allow_incompatible:
            raise PolicyError(
                f"environment {env} forbids releases made with --allow-incompatible "
                f"(environments.{env}.allow_incompatible: false in teamrel.yaml); "
                f"{target.release} was released with it: {target.allow_incompatible}"
            )
        if root is None:
            return
        path = manifest_path(root, target.team, target.release)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return  # the store holds the verified record; the file is an export
        seen = FileStamps(root)
        if seen.unchanged(path, stat, target.file_sha256):
            return
        if sha256_hex(path.read_bytes()) == target.file_sha256:
            seen.record(path, stat, target.file_sha256)
            return
        try:
            on_disk = read_manifest(path)
        except TeamrelError as err:
            raise IntegrityError(
                f"refusing to make {target.release} live in {env}: {err.message}",
                hint="restore the file from version control, then run `teamrel verify`",
            ) from None
        if on_disk.digest != target.digest:
            raise IntegrityError(
                f"refusing to make {target.release} live in {env}: {path} holds a different "
                f"release ({on_disk.digest}) than the state store ({target.digest})",
                hint="run `teamrel verify`",
            )

    return check


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReleaseResult:
    """What `release` did."""

    manifest: Manifest
    created: bool
    path: Path
    promotion: Transition | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel release --format json` document."""
        m = self.manifest
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "team": m.team,
            "release": m.release,
            "digest": m.digest,
            "created": self.created,
            "path": str(self.path),
            "parent": m.parent,
            "members": len(m.members),
            "check": m.check,
            "allow_incompatible": m.allow_incompatible,
            "promotion": self.promotion.to_json() if self.promotion else None,
            "warnings": list(self.warnings),
        }


@dataclass
class TransitionResult:
    """What `promote` or `rollback` did, with warnings for the operator.

    `pending` holds the checks that take longer than the transition itself (comparing the
    working tree with what was rolled back): the pointer has already moved, so a caller shows
    the result first and then calls `finish()`, which runs them once and adds their warnings.
    """

    transition: Transition
    warnings: list[str] = field(default_factory=list)
    pending: Callable[[], list[str]] | None = None
    #: the rollback safety proof (persisted handoffs), when one was made
    safety: dict[str, Any] | None = None

    def finish(self) -> list[str]:
        """Run the pending checks (once); the warnings they add."""
        check, self.pending = self.pending, None
        added = check() if check is not None else []
        self.warnings.extend(added)
        return added

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel promote|rollback --format json` document (after `finish()`)."""
        doc: dict[str, JSON] = {"format_version": RELEASE_FORMAT_VERSION}
        doc.update(self.transition.to_json())
        doc["warnings"] = list(self.warnings)
        if self.safety is not None:
            doc["safety"] = self.safety
        return doc


@dataclass(frozen=True)
class StatusReport:
    """What is live where, since when, set by whom."""

    team: str
    environments: list[EnvState]
    declared: list[str]
    latest_release: str | None
    releases: int
    #: the open rollout of each environment that has one (stable keeps the pointer)
    rollouts: Mapping[str, RolloutState] = field(default_factory=dict)

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel status --format json` document (`rollout`: null or the open one)."""
        envs: list[JSON] = []
        for e in self.environments:
            doc = e.to_json()
            open_rollout = self.rollouts.get(e.name)
            doc["rollout"] = _rollout_summary(open_rollout) if open_rollout else None
            envs.append(doc)
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "team": self.team,
            "latest_release": self.latest_release,
            "releases": self.releases,
            "environments": envs,
        }


def _rollout_summary(r: RolloutState) -> dict[str, JSON]:
    """What `status` and `resolve` say of an open rollout (`rollout status` says the rest)."""
    return {
        "rollout_id": r.rollout_id,
        "candidate_release": r.candidate_release,
        "candidate_digest": r.candidate_digest,
        "phase": r.phase,
        "weight": r.weight,
        "state": r.state,
        "started_at": r.started_at,
        "started_by": r.started_by,
    }


@dataclass(frozen=True)
class HistoryReport:
    """Audit events, newest first."""

    team: str
    environment: str | None
    events: list[Event]

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel history --format json` document."""
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "team": self.team,
            "environment": self.environment,
            "events": [e.to_json() for e in self.events],
        }


@dataclass(frozen=True)
class MemberDiff:
    """How one member differs between two manifests."""

    name: str
    status: Literal["added", "removed", "changed", "unchanged"]
    old_version: str | None
    new_version: str | None
    changes: dict[str, dict[str, JSON]] = field(default_factory=dict)
    #: unified diff of the prompt text, when both snapshots were available
    prompt_diff: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form."""
        return {
            "name": self.name,
            "status": self.status,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "changes": dict(self.changes),
            "prompt_diff": list(self.prompt_diff),
        }


@dataclass(frozen=True)
class ManifestDiff:
    """Two manifests compared member by member."""

    a_label: str
    b_label: str
    a: Manifest
    b: Manifest
    members: list[MemberDiff]

    @property
    def identical(self) -> bool:
        """Whether every member is unchanged (and none added or removed)."""
        return all(m.status == "unchanged" for m in self.members)

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel diff --format json` document."""

        def side(label: str, m: Manifest) -> dict[str, JSON]:
            return {"ref": label, "team": m.team, "release": m.release, "digest": m.digest}

        counts = {s: 0 for s in ("added", "removed", "changed", "unchanged")}
        for m in self.members:
            counts[m.status] += 1
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "a": side(self.a_label, self.a),
            "b": side(self.b_label, self.b),
            "identical": self.identical,
            "summary": dict(counts),
            "members": [m.to_json() for m in self.members],
        }


@dataclass
class VerifyResult:
    """What `teamrel verify` checked and every mismatch found."""

    store: VerifyReport
    files: int = 0
    problems: list[VerifyProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed to verify."""
        return not self.problems

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel verify --format json` document."""
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "ok": self.ok,
            "checked": {
                "manifests": self.store.manifests,
                "snapshots": self.store.snapshots,
                "events": self.store.events,
                "environments": self.store.environments,
                "files": self.files,
            },
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True)
class ResolvedFlag:
    """A flag of the release live in an environment: its value there (`on`, `off` or a
    percentage; the default when never `set`) and what it switches."""

    flag: str
    value: str
    default: str
    set: bool
    switches: tuple[str, ...]

    def to_json(self) -> dict[str, JSON]:
        """Stable JSON form (an entry of `flags` in the resolve document)."""
        return {
            "flag": self.flag,
            "value": self.value,
            "default": self.default,
            "set": self.set,
            "switches": list(self.switches),
        }


def _switch_text(sw: Mapping[str, object]) -> str:
    if "handoff" in sw:
        return f"handoff {sw['handoff']}"
    if "variant" in sw:
        return f"{sw.get('member')}: variant {sw['variant']}"
    return f"{sw.get('member')}: tool {sw.get('tool')}"


@dataclass(frozen=True)
class Resolution(PinnedRelease):
    """The exact configuration pinned in an environment (what a runtime loads): the
    `PinnedRelease` with the members asked for.

    Members are read from their snapshots as they are iterated (`members()`, `iter_json()`),
    a chunk at a time: resolving a 10,000-member team never holds all of them at once.
    """

    #: every member asked for, in manifest order
    entries: Mapping[str, PinnedEntry]
    #: loads snapshots by digest (re-hashed)
    load: Callable[[list[str]], Mapping[str, ResolvedMember]] = field(repr=False)
    #: the environment's open rollout: the members above are stable's, which the pointer
    #: names; the candidate serves the rollout's share of runs (`teamrel.Runtime` routes)
    rollout: RolloutState | None = None
    #: the flags the release pins (name -> definition) and the values set in the
    #: environment (a flag without one is at its default)
    flag_defs: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    flag_set: Mapping[str, FlagValue] = field(default_factory=dict)

    #: Snapshots read per store round trip.
    CHUNK = 500

    def members(self) -> Iterator[tuple[str, ResolvedMember]]:
        """(name, member as its runs are served), in manifest order, loaded a chunk at a
        time: as pinned, unless a flag set on or off in the environment selects a variant or
        switches a tool off (a flag at a percentage counts at its default, see `flags`)."""
        names = list(self.entries)
        for i in range(0, len(names), self.CHUNK):
            chunk = names[i : i + self.CHUNK]
            snaps = self.load([self.entries[n].digest for n in chunk])
            for name in chunk:
                e = self.entries[name]
                m = pin_member(self.release, name, e, snaps[e.digest])
                if self.flag_defs:
                    m = flagged(m, name, self.flag_defs, self._flag_on, self._variant)
                yield name, m

    def flags(self) -> list[ResolvedFlag]:
        """Each flag the release pins, with its value in the environment and what it
        switches."""
        out = []
        for name, d in self.flag_defs.items():
            v = self.flag_set.get(name)
            default = "on" if d.get("default") else "off"
            switches = d.get("switches")
            out.append(
                ResolvedFlag(
                    flag=name,
                    value=v.describe() if v is not None else default,
                    default=default,
                    set=v is not None,
                    switches=tuple(
                        _switch_text(sw)
                        for sw in (switches if isinstance(switches, list) else [])
                        if isinstance(sw, dict)
                    ),
                )
            )
        return out

    def _flag_on(self, name: str) -> bool:
        v = self.flag_set.get(name)
        if v is None or v.state == "percent":
            return bool(self.flag_defs[name].get("default"))
        return v.state == "on"

    def _variant(self, digest: str) -> ResolvedMember:
        return self.load([digest])[digest]

    def _head(self) -> dict[str, JSON]:
        return {
            "format_version": RELEASE_FORMAT_VERSION,
            "team": self.team,
            "environment": self.environment,
            "release": self.release,
            "manifest_digest": self.manifest_digest,
            "rollout": _rollout_summary(self.rollout) if self.rollout else None,
            "flags": [f.to_json() for f in self.flags()],
        }

    @staticmethod
    def _member_doc(m: ResolvedMember) -> dict[str, JSON]:
        return {"kind": m.kind, "version": m.version, "digest": m.digest, "spec": m.spec}

    def to_json(self) -> dict[str, JSON]:
        """The `teamrel resolve --format json` document, whole (see `iter_json`)."""
        doc = self._head()
        doc["members"] = {name: self._member_doc(m) for name, m in self.members()}
        return doc

    def iter_json(self) -> Iterator[str]:
        """The `to_json()` document as text, in pieces: one member at a time, so memory
        stays bounded for any team size. The document is indented like every other one,
        except that each member is one line (`"router": {"kind": ...}`): a 10,000-member
        team prints 10,000 lines, greppable, and is encoded at the C encoder's speed."""
        head = json.dumps(self._head(), indent=2, ensure_ascii=False)
        yield head[: -len("\n}")] + ',\n  "members": {'
        sep = "\n    "
        any_member = False
        for name, m in self.members():
            key = json.dumps(name, ensure_ascii=False)
            yield f"{sep}{key}: {json.dumps(self._member_doc(m), ensure_ascii=False)}"
            sep = ",\n    "
            any_member = True
        yield "\n  }\n}" if any_member else "}\n}"


# --------------------------------------------------------------------------- finding manifests


def file_manifests(root: Path | None, team: str) -> list[Manifest]:
    """The team's manifest files (verified), oldest first; none without a workspace."""
    return list_manifests(root, team) if root is not None else []


def import_manifest(
    store: Store,
    root: Path,
    manifest: Manifest,
    actor: str,
    known: Mapping[str, ResolvedMember] | None = None,
) -> Manifest:
    """Record a committed manifest file (and its snapshot files) in the store.

    `known` members (e.g. the working tree's) stand in for snapshot files with the same
    digest; every member is re-hashed by the store either way.
    """
    by_digest = {m.digest: m for m in (known or {}).values()}
    members = {
        name: by_digest.get(entry.digest)
        or read_snapshot(root, manifest.team, entry.digest, name=name)
        for name, entry in manifest.members.items()
    }
    # the variants its flags select are snapshotted with it (docs/flags.md)
    variants: dict[str, ResolvedMember] = {}
    definitions = (manifest.flags or {}).get("definitions")
    for flag in definitions.values() if isinstance(definitions, dict) else []:
        switches = flag.get("switches") if isinstance(flag, dict) else None
        for sw in switches if isinstance(switches, list) else []:
            if isinstance(sw, dict) and isinstance(sw.get("digest"), str):
                d = str(sw["digest"])
                variants[d] = read_snapshot(root, manifest.team, d, name=str(sw.get("member")))
    recorded, _ = store.record_release(
        manifest,
        members,
        file_sha256=sha256_hex(manifest_file_bytes(manifest)),
        actor=actor,
        reuse_same_content=False,
        action="import",
        extra_snapshots=variants,
    )
    return recorded


def find_release(store: Store, root: Path | None, team: str, ref: str, actor: str) -> Manifest:
    """Release `ref` (name or digest) of `team`: from the store, else imported from its file."""
    found = store.find_manifest(team, ref)
    if found is not None:
        return found
    if root is not None:
        for manifest in file_manifests(root, team) if DIGEST_RE.fullmatch(ref) else []:
            if manifest.digest == ref:
                return import_manifest(store, root, manifest, actor)
        if not DIGEST_RE.fullmatch(ref):
            check_name(ref, "release")
            path = manifest_path(root, team, ref)
            if path.is_file():
                return import_manifest(store, root, read_manifest(path), actor)
    raise NotFoundError(
        f"no release {ref} of team {team}",
        hint="`teamrel status` lists what is live; releases are under manifests/<team>/",
    )


def _release_no_import(store: Store, root: Path | None, team: str, ref: str) -> Manifest | None:
    found = store.find_manifest(team, ref)
    if found is not None or root is None:
        return found
    if DIGEST_RE.fullmatch(ref):
        return next((m for m in file_manifests(root, team) if m.digest == ref), None)
    check_name(ref, "release")
    path = manifest_path(root, team, ref)
    return read_manifest(path) if path.is_file() else None


def _live(store: Store, team: str, env: str) -> Manifest:
    live = store.live_manifest(team, env)
    if live is None:
        raise nothing_live(team, env)
    return live


def lookup(
    store: Store,
    root: Path | None,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    ref: str,
) -> Manifest:
    """A manifest by reference, read-only: `env:NAME`, `release:NAME`, a manifest file path,
    a digest, or a bare name (an environment or a release; ambiguous names are refused)."""
    if ref.startswith("env:"):
        env = ref.removeprefix("env:")
        environment_rules(environments, env)
        return _live(store, team, env)
    if ref.startswith("release:"):
        name = ref.removeprefix("release:")
        found = _release_no_import(store, root, team, name)
        if found is None:
            raise NotFoundError(f"no release {name} of team {team}")
        return found
    if ref.endswith(".json") or "/" in ref or os.sep in ref:
        path = Path(ref)
        if not path.is_absolute() and not path.exists() and root is not None:
            path = root / ref
        return read_manifest(path)
    if DIGEST_RE.fullmatch(ref):
        found = _release_no_import(store, root, team, ref)
        if found is None:
            raise NotFoundError(f"no manifest {ref} of team {team}")
        return found
    check_name(ref, "release or environment")
    is_env = ref in environments or store.environment(team, ref) is not None
    release_found = _release_no_import(store, root, team, ref)
    if is_env and release_found is not None:
        raise UsageError(
            f"{ref!r} is both an environment and a release",
            hint=f"say env:{ref} or release:{ref}",
        )
    if is_env:
        return _live(store, team, ref)
    if release_found is not None:
        return release_found
    raise NotFoundError(f"{ref!r} is neither a release, an environment nor a manifest file")


def _next_name(store: Store, files: Sequence[Manifest], team: str) -> str:
    highest = 0
    for name in [r.release for r in store.releases(team)] + [m.release for m in files]:
        match = _AUTO_NAME.match(name)
        if match:
            highest = max(highest, int(match.group(1)))
    return f"r{highest + 1}"


def _check_plan(
    store: Store,
    files: list[Manifest],
    team: str,
    members: Mapping[str, ResolvedMember],
    plan: Plan,
) -> str | None:
    """Refuse a stale plan; returns the plan's base manifest digest (the parent)."""
    plan_team, plan_members, plan_base = plan.team, plan.desired_members, plan.base
    if plan_team != team:
        raise UsageError(f"the plan is for team {plan_team}, this workspace is team {team}")
    working = {n: m.digest for n, m in members.items()}
    if working != dict(plan_members):
        changed = sorted(
            n for n in set(working) | set(plan_members) if working.get(n) != plan_members.get(n)
        )
        raise ConflictError(
            "conflict: the working tree no longer matches the reviewed plan "
            f"(differs in: {', '.join(changed)}); nothing was released",
            hint="run `teamrel plan --out plan.json` again and review it",
        )
    kind = plan_base.kind
    base_digest = plan_base.manifest_digest
    if kind == "env":
        env = str(plan_base.env)
        live = store.live_digest(team, env)
        if live != base_digest:
            raise ConflictError(
                f"conflict: stale plan: it was made against {env} at {base_digest or 'nothing'}, "
                f"but {live or 'nothing'} is live there now; nothing was released",
                hint="run `teamrel plan` again and review it",
            )
    else:
        latest = store.latest_manifest(team)
        newest = latest.digest if latest is not None else (files[-1].digest if files else None)
        if kind == "empty" and newest is not None:
            raise ConflictError(
                "conflict: stale plan: it was made against an empty team, but a release "
                "exists now; nothing was released",
                hint="run `teamrel plan` again and review it",
            )
        if kind == "manifest" and newest != base_digest:
            raise ConflictError(
                f"conflict: stale plan: it was made against release {plan_base.release} "
                f"({base_digest}), but the newest release is {newest}; nothing was released",
                hint="run `teamrel plan` again and review it",
            )
    return str(base_digest) if base_digest else None


def _write_files(
    root: Path,
    manifest: Manifest,
    members: Mapping[str, ResolvedMember],
    extra: Mapping[str, ResolvedMember] | None = None,
) -> Path:
    """Write snapshots then the manifest; returns the manifest's workspace-relative path.
    `extra`: more snapshots to write (the variants the release's flags select)."""
    for member in [*members.values(), *(extra or {}).values()]:
        write_snapshot(root, manifest.team, member)
    path = write_manifest(root, manifest)
    try:
        return path.relative_to(root)
    except ValueError:
        return path


# --------------------------------------------------------------------------- operations


def _record_new(
    store: Store,
    files: list[Manifest],
    team: str,
    name: str,
    members: Mapping[str, ResolvedMember],
    *,
    key: str,
    numbered: bool,
    actor: str,
    parent: str | None,
    check_summary: Mapping[str, JSON] | None,
    allow: str | None,
    reason: str | None,
    flags: Mapping[str, JSON] | None = None,
    extra: Mapping[str, ResolvedMember] | None = None,
) -> tuple[Manifest, bool]:
    """Build and record a new manifest. Losing a race to a concurrent `release` returns the
    winner when it holds the same content, and takes the next number when the name was
    automatic; a clash on an explicit name is a conflict."""
    for _attempt in range(5):
        manifest = build_manifest(
            team,
            name,
            members,
            created_at=iso(utcnow()),
            created_by=actor,
            parent=parent,
            check=check_summary,
            allow_incompatible=allow,
            flags=flags,
        )
        try:
            return store.record_release(
                manifest,
                members,
                extra_snapshots=extra,
                file_sha256=sha256_hex(manifest_file_bytes(manifest)),
                actor=actor,
                reason=allow or reason,
                # an automatic name must not record content another `release` recorded
                # since we looked (inside the transaction, so the check cannot race);
                # an explicit --name may deliberately name the same content again
                reuse_same_content=numbered,
            )
        except ConflictError:
            winner = store.find_by_content(team, key)
            if winner is not None and (numbered or winner.release == name):
                return winner, False
            if not numbered:
                raise
            name = _next_name(store, files, team)
    raise ConflictError(
        "conflict: other releases kept taking the next release number; nothing was released",
        hint="re-run the command",
    )


def release(
    store: Store,
    root: Path,
    team: str,
    members: Mapping[str, ResolvedMember],
    *,
    check_summary: Mapping[str, JSON] | None,
    environments: Mapping[str, EnvironmentSpec],
    actor: str,
    name: str | None = None,
    allow_incompatible: str | None = None,
    promote_env: str | None = None,
    reason: str | None = None,
    override_gates: str | None = None,
    reviewed: Plan | None = None,
    flags: Mapping[str, JSON] | None = None,
    variants: Mapping[str, ResolvedMember] | None = None,
) -> ReleaseResult:
    """Record the working tree (or exactly the `reviewed` plan) as a release, then maybe promote.

    `flags` is the manifest's `flags` section and `variants` the variant members it pins (by
    digest), both only when the team declares flags (docs/flags.md).

    Refuses (CheckFailed, exit 1) when the check did not pass unless `allow_incompatible`
    carries a reason. Idempotent: content identical to an existing release (and no different
    `name` asked for) returns that release, `created=False`.
    """
    recorded_allow, gate_reason = _before_recording(
        store,
        root,
        team,
        members,
        environments,
        name=name,
        check_summary=check_summary,
        allow_incompatible=allow_incompatible,
        promote_env=promote_env,
        reason=reason,
        override_gates=override_gates,
    )
    result = _record(
        store,
        root,
        team,
        members,
        name=name,
        actor=actor,
        check_summary=check_summary,
        allow=recorded_allow,
        reason=reason,
        flags=flags,
        variants=variants,
        plan=reviewed,
    )
    if promote_env is None:
        return result
    promotion_reason = gate_reason or reason or recorded_allow
    return _promote_released(
        store, root, team, environments, result, promote_env, actor, promotion_reason
    )


def _record(
    store: Store,
    root: Path,
    team: str,
    members: Mapping[str, ResolvedMember],
    *,
    name: str | None,
    actor: str,
    check_summary: Mapping[str, JSON] | None,
    allow: str | None,
    reason: str | None,
    flags: Mapping[str, JSON] | None,
    variants: Mapping[str, ResolvedMember] | None,
    plan: Plan | None,
) -> ReleaseResult:
    """The release holding exactly `members` (and `flags`): the existing one with that
    content unless another `name` is asked for, else a new one recorded (its parent: the
    reviewed plan's base, else the newest release). Its files are written either way.

    `plan`: the reviewed plan, refused when stale (its team, member digests or base moved)."""
    files = file_manifests(root, team)
    parent = _check_plan(store, files, team, members, plan) if plan is not None else None
    key = content_key(team, {n: m.digest for n, m in members.items()}, flags)
    existing = _existing_release(store, root, files, team, key, actor, members)
    if existing is not None and (name is None or name == existing.release):
        path = _write_files(root, existing, members, variants)
        return ReleaseResult(manifest=existing, created=False, path=path)
    if parent is None:
        latest = store.latest_manifest(team)
        parent = latest.digest if latest is not None else (files[-1].digest if files else None)
    recorded, created = _record_new(
        store,
        files,
        team,
        _new_name(store, root, files, team, name),
        members,
        key=key,
        numbered=name is None,
        actor=actor,
        parent=parent,
        check_summary=check_summary,
        allow=allow,
        reason=reason,
        flags=flags,
        extra=variants,
    )
    path = _write_files(root, recorded, members, variants)
    return ReleaseResult(manifest=recorded, created=created, path=path)


def _promote_released(
    store: Store,
    root: Path,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    result: ReleaseResult,
    env: str,
    actor: str,
    reason: str | None,
) -> ReleaseResult:
    """`release --promote ENV`: the release just recorded (or found) made live in `env`; its
    gates were evaluated before anything was recorded."""
    moved = promote(
        store,
        root,
        team,
        environments,
        result.manifest.digest,
        env,
        actor=actor,
        reason=reason,
        gates_checked=True,
    )
    return ReleaseResult(
        manifest=result.manifest,
        created=result.created,
        path=result.path,
        promotion=moved.transition,
        warnings=moved.warnings,
    )


def _before_recording(
    store: Store,
    root: Path,
    team: str,
    members: Mapping[str, ResolvedMember],
    environments: Mapping[str, EnvironmentSpec],
    *,
    name: str | None,
    check_summary: Mapping[str, JSON] | None,
    allow_incompatible: str | None,
    promote_env: str | None,
    reason: str | None,
    override_gates: str | None,
) -> tuple[str | None, str | None]:
    """What `release` refuses before anything is recorded (a refused promotion leaves no
    release behind): a bad team or release name, a missing reason, a failed check, the
    environment's gates. Returns the `--allow-incompatible` reason to record and the gates'
    reason for the promotion."""
    check_name(team, "team")
    if name is not None:
        check_name(name, "release")
    if allow_incompatible is not None and not allow_incompatible.strip():
        raise UsageError("--allow-incompatible needs --reason TEXT")
    rules: EnvironmentSpec | None = None
    if promote_env is not None:
        rules = environment_rules(environments, promote_env)
        _require_reason(rules, promote_env, reason or allow_incompatible, "promote")
    recorded_allow = _allowance(check_summary, allow_incompatible, rules, promote_env)
    if promote_env is None or rules is None:
        return recorded_allow, None
    gate_reason = _gate(
        store,
        root,
        team,
        promote_env,
        rules,
        lambda: members,
        override=override_gates,
        reason=reason or recorded_allow,
    )
    return recorded_allow, gate_reason


def _allowance(
    check_summary: Mapping[str, JSON] | None,
    allow_incompatible: str | None,
    rules: EnvironmentSpec | None,
    promote_env: str | None,
) -> str | None:
    """The `--allow-incompatible` reason a release records (None when the check passed);
    refuses a failed check without one, or where the environment forbids it."""
    passed = bool(check_summary.get("passed")) if check_summary is not None else True
    if passed:
        return None
    if allow_incompatible is None:
        raise CheckFailed(
            "the check did not pass "
            f"({check_summary.get('incompatible') if check_summary else '?'} incompatible, "
            f"{check_summary.get('unknown') if check_summary else '?'} unknown); "
            "nothing was released",
            hint="fix the handoffs (`teamrel check`), or ship anyway with "
            "--allow-incompatible --reason TEXT",
        )
    if rules is not None and not rules.allow_incompatible:
        raise PolicyError(
            f"environment {promote_env} forbids --allow-incompatible "
            f"(environments.{promote_env}.allow_incompatible: false in teamrel.yaml)"
        )
    return allow_incompatible.strip()


def _existing_release(
    store: Store,
    root: Path,
    files: Sequence[Manifest],
    team: str,
    key: str,
    actor: str,
    members: Mapping[str, ResolvedMember],
) -> Manifest | None:
    """The release with this content: in the store, else a committed manifest file (imported)."""
    existing = store.find_by_content(team, key)
    if existing is None:
        for manifest in reversed(files):
            if manifest.content_key == key:
                return import_manifest(store, root, manifest, actor, members)
    return existing


def _new_name(
    store: Store, root: Path, files: Sequence[Manifest], team: str, name: str | None
) -> str:
    """The name of a new release: the next number, or `name` if no release has it."""
    if name is None:
        return _next_name(store, files, team)
    if store.find_manifest(team, name) is not None or manifest_path(root, team, name).exists():
        raise ConflictError(
            f"conflict: release {name} of team {team} already exists with different content",
            hint="choose another --name, or omit it to number the release",
        )
    return name


def promote(
    store: Store,
    root: Path | None,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    ref: str,
    env: str,
    *,
    actor: str,
    reason: str | None = None,
    expect: str | None = None,
    override_gates: str | None = None,
    gates_checked: bool = False,
) -> TransitionResult:
    """Make release `ref` live in `env` (compare-and-swap; `expect` must be live if given).

    Refuses (GateFailed, exit 1) when an eval gate of `env` blocks, unless `override_gates`
    carries a reason and the environment allows it (the reason recorded then says so)."""
    rules = environment_rules(environments, env)
    _require_reason(rules, env, reason, "promote")
    # O(1): only the release's row; a release only committed as a file is imported first
    info = store.release_info(team, ref)
    target_digest = info.digest if info else find_release(store, root, team, ref, actor).digest
    if not gates_checked:

        def candidate() -> dict[str, ResolvedMember]:
            manifest = store.get_manifest(target_digest, team)
            return _named(manifest.member_digests, snapshot_loader(store, root, team))

        reason = (
            _gate(store, root, team, env, rules, candidate, override=override_gates, reason=reason)
            or reason
        )
    transition = store.promote(
        team,
        env,
        target_digest,
        actor=actor,
        reason=reason,
        expect=expect,
        check_target=target_check(root, env, rules),
    )
    warnings: list[str] = []
    if transition.noop:
        warnings.append(f"{transition.to_release} was already live in {env}: nothing changed")
    return TransitionResult(transition, warnings)


def rollback(
    store: Store,
    root: Path | None,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    env: str,
    *,
    actor: str,
    reason: str | None = None,
    to: str | None = None,
    steps: int | None = None,
    expect: str | None = None,
    working_digests: Callable[[], Mapping[str, str]] | None = None,
    guard_seconds: float | None = None,
    safety: Callable[[str, str], SafetyCheck] | None = None,
    force: bool = False,
) -> TransitionResult:
    """Move `env` back to an earlier promotion (see `Store.rollback`).

    With `working_digests` (the working tree's member digests), the result's pending check
    compares the working tree with what was rolled back and warns if the next release would
    ship it again: O(members), run by `TransitionResult.finish()` once the result is shown.

    With `safety` (the persisted handoffs' proof, `teamrel.meet.rollback_safety`), the move
    the store would make now is proved first, outside the write transaction; a refusal
    raises `RollbackUnsafe` (exit 1) unless `force` (which needs a reason: the overridden
    findings are appended to it, and kept as the audit event's `safety_overridden` detail).
    Inside the transaction the store hands the pair it is about to move between to the
    check hook: a pointer moved by someone else meanwhile is a conflict, never an unproven
    rollback. The store's refusals (a recent rollback, a target that is not earlier) get
    the command to run instead as their hint.
    """
    rules = environment_rules(environments, env)
    _require_reason(rules, env, reason, "roll back")
    guard_seconds = _check_rollback_request(
        store, root, team, actor, to, steps, reason=reason, force=force, guard=guard_seconds
    )
    proof = _RollbackProof()
    if safety is not None:
        proof = _prove_rollback(store, team, env, to, steps, safety, force=force)
    if proof.overridden:
        reason = f"{reason} [rollback safety overridden: {'; '.join(proof.overridden)}]"
    try:
        transition = store.rollback(
            team,
            env,
            actor=actor,
            reason=reason,
            to=to,
            steps=steps,
            expect=expect,
            check_target=_proved_check(team, env, proof.pair, target_check(root, env, rules)),
            guard_seconds=guard_seconds,
            details={"safety_overridden": list(proof.overridden)} if proof.overridden else None,
        )
    except (RecentRollback, RollbackTargetRefused) as err:
        err.hint = err.hint or _rollback_hint(err)
        raise
    pending = _reship_check(store, transition, working_digests)
    return TransitionResult(transition, [], pending, proof.report)


def _reship_check(
    store: Store,
    transition: Transition,
    working_digests: Callable[[], Mapping[str, str]] | None,
) -> Callable[[], list[str]] | None:
    """The pending check of a rollback's result (`reship_warning`), when there is a working
    tree to compare and a release was rolled back from."""
    if working_digests is None or transition.from_manifest is None:
        return None
    working = working_digests
    return lambda: reship_warning(store, transition, working)


def _check_rollback_request(
    store: Store,
    root: Path | None,
    team: str,
    actor: str,
    to: str | None,
    steps: int | None,
    *,
    reason: str | None,
    force: bool,
    guard: float | None,
) -> float:
    """Refuse a rollback asked for wrongly (`--force` without a reason, `--to` with
    `--steps`...; a `--to` release only committed as a file is imported first); returns
    the guard window to apply (`guard`, else `rollback_guard_seconds()`)."""
    if force and not (reason and reason.strip()):
        raise UsageError("--force needs --reason TEXT (recorded in the audit event)")
    if guard is None:
        guard = rollback_guard_seconds()
    if to is not None and store.release_info(team, to) is None:
        find_release(store, root, team, to, actor)  # import a committed release, or NotFound
    if to is not None and steps is not None:
        raise UsageError("give --to or --steps, not both")
    if steps is not None and steps < 1:
        raise UsageError("--steps must be at least 1")
    return guard


@dataclass(frozen=True)
class _RollbackProof:
    """What rollback safety proved before the write: the `(current, target)` pair it was
    proved for (None: nothing proved, or no move), its report, and the refusals a forced
    rollback overrode."""

    pair: tuple[str, str] | None = None
    report: dict[str, Any] | None = None
    overridden: tuple[str, ...] = ()


def _prove_rollback(
    store: Store,
    team: str,
    env: str,
    to: str | None,
    steps: int | None,
    safety: Callable[[str, str], SafetyCheck],
    *,
    force: bool,
) -> _RollbackProof:
    """Prove the move a rollback would make now, outside the write transaction; refused
    (`RollbackUnsafe`) when a persisted handoff would not be readable, unless `force`."""
    pair = store.rollback_plan(team, env, to=to, steps=steps)
    if pair is None:
        return _RollbackProof()
    found = safety(*pair)
    report = found.to_json()
    refusals = found.refusals()
    if refusals and not force:
        raise RollbackUnsafe(
            f"refusing to roll back {env}: {len(refusals)} persisted handoff(s) would "
            "carry data the target release cannot read; nothing was changed",
            refusals,
            report,
        )
    return _RollbackProof(pair, report, tuple(refusals))


def _proved_check(
    team: str,
    env: str,
    proved: tuple[str, str] | None,
    target_check: Callable[[TargetInfo], None],
) -> Callable[[TargetInfo], None]:
    """The store's check hook for a rollback: the environment's target rules, and (when
    safety proved a pair) the move the store is about to make must be that pair."""

    def check(target: TargetInfo) -> None:
        if proved is not None and (target.current, target.digest) != proved:
            raise ConflictError(
                f"conflict: {env} of team {team} changed while the rollback's safety was "
                "being proved; nothing was changed",
                hint="check `teamrel status` and re-run if still needed",
            )
        target_check(target)

    return check


def _rollback_hint(err: RecentRollback | RollbackTargetRefused) -> str:
    """The command a refused rollback suggests, from the store's facts."""
    env = err.environment
    if isinstance(err, RecentRollback):
        return (
            f"to go further back, say so: `teamrel rollback --env {env} "
            f"--expect {err.live_release}` (or --to RELEASE / --steps N)"
        )
    if isinstance(err, RolledBackFrom):
        return (
            f"to make it live again, promote it explicitly: "
            f"`teamrel promote {err.release} --env {env}`"
        )
    return f"use `teamrel promote {err.release} --env {env}` to go forward"


def reship_warning(
    store: Store, transition: Transition, working_digests: Callable[[], Mapping[str, str]]
) -> list[str]:
    """Warn when the working tree still declares (members of) the release just rolled back
    from: the next `teamrel release` would ship it again. Linear in team size."""
    try:
        working = dict(working_digests())
        bad = store.get_manifest(str(transition.from_manifest)).member_digests
        good = store.get_manifest(transition.to_manifest).member_digests
    except TeamrelError as err:
        return [f"could not compare the working tree with {transition.from_release}: {err}"]
    if working == bad:
        changed = sorted(n for n, d in bad.items() if good.get(n) != d) + sorted(
            n for n in good if n not in bad
        )
        return [
            f"the working tree still declares exactly {transition.from_release}, which was just "
            f"rolled back (changed: {', '.join(changed) or 'nothing'}): the next "
            "`teamrel release` would ship it again; revert the working tree first"
        ]
    same = sorted(name for name, d in working.items() if bad.get(name) == d and good.get(name) != d)
    if not same:
        return []
    return [
        f"the working tree still declares {transition.from_release}'s version of "
        f"{', '.join(same)} (rolled back): the next `teamrel release` would ship "
        f"{'it' if len(same) == 1 else 'them'} again"
    ]


def status(
    store: Store,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    env: str | None = None,
) -> StatusReport:
    """What is live in each environment (declared ones first, never-promoted ones included)."""
    if env is not None:
        environment_rules(environments, env)
    states = {s.name: s for s in store.environments(team, only=env)}
    names = [env] if env is not None else list(dict.fromkeys([*environments, *sorted(states)]))
    rows = [
        states.get(n)
        or EnvState(
            team=team,
            name=n,
            release=None,
            manifest_digest=None,
            generation=0,
            last_action=None,
            updated_at=None,
            updated_by=None,
            reason=None,
        )
        for n in names
    ]
    releases = store.releases(team)
    return StatusReport(
        team=team,
        environments=rows,
        declared=list(environments),
        latest_release=releases[-1].release if releases else None,
        releases=len(releases),
        rollouts=store.open_rollouts(team, env),
    )


def history(
    store: Store,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    env: str | None = None,
    limit: int | None = None,
) -> HistoryReport:
    """Audit events of the team (or one environment), newest first."""
    if env is not None:
        environment_rules(environments, env)
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    return HistoryReport(team=team, environment=env, events=store.events(team, env, limit=limit))


def _model_view(m: Any) -> JSON:
    return m.model_dump(mode="json") if m is not None else None


def _snapshot(
    loader: Callable[[str], ResolvedMember] | None, member_digest: str
) -> ResolvedMember | None:
    if loader is None:
        return None
    try:
        return loader(member_digest)
    except TeamrelError:
        return None  # no snapshot at hand: the digests still say what changed


def snapshot_loader(store: Store, root: Path | None, team: str) -> Callable[[str], ResolvedMember]:
    """Load a snapshot by digest from the store, else from `manifests/<team>/snapshots/`."""

    def load(member_digest: str) -> ResolvedMember:
        try:
            return store.snapshot(member_digest)
        except IntegrityError:
            if root is None:
                raise
            return read_snapshot(root, team, member_digest)

    return load


def diff(
    a: Manifest,
    b: Manifest,
    a_label: str,
    b_label: str,
    loader: Callable[[str], ResolvedMember] | None = None,
) -> ManifestDiff:
    """`a` and `b` compared member by member (version, digest, model, prompt, tools, schemas);
    with a snapshot `loader`, changed prompts also get a unified diff of their text."""
    out: list[MemberDiff] = []
    for name in list(dict.fromkeys([*a.members, *b.members])):
        old, new = a.members.get(name), b.members.get(name)
        if old is None and new is not None:
            out.append(MemberDiff(name, "added", None, new.version))
            continue
        if new is None and old is not None:
            out.append(MemberDiff(name, "removed", old.version, None))
            continue
        assert old is not None and new is not None
        if old.digest == new.digest:
            out.append(MemberDiff(name, "unchanged", old.version, new.version))
            continue
        changes: dict[str, dict[str, JSON]] = {}
        pairs: list[tuple[str, JSON, JSON]] = [
            ("version", old.version, new.version),
            ("kind", old.kind, new.kind),
            ("digest", old.digest, new.digest),
            ("model", _model_view(old.model), _model_view(new.model)),
            ("prompt_digest", old.prompt_digest, new.prompt_digest),
            ("tools", list(old.tools), list(new.tools)),
        ]
        for key, x, y in pairs:
            if x != y:
                changes[key] = {"old": x, "new": y}
        for role in list(dict.fromkeys([*old.schemas, *new.schemas])):
            x, y = old.schemas.get(role), new.schemas.get(role)
            if x != y:
                changes[f"schemas/{role}"] = {"old": x, "new": y}
        prompt_diff: list[str] = []
        old_member, new_member = _snapshot(loader, old.digest), _snapshot(loader, new.digest)
        if old_member is not None and new_member is not None:
            # field by field (model.id, each parameter, evals...) instead of whole objects
            fields, diff_text = field_changes(
                old_member.model_copy(update={"name": name}),
                new_member.model_copy(update={"name": name}),
            )
            changes.pop("model", None)
            for change in fields:
                if change.field not in ("version", "prompt", "tools"):
                    changes[change.field] = {"old": change.old, "new": change.new}
            prompt_diff = diff_text.splitlines() if diff_text else []
        out.append(MemberDiff(name, "changed", old.version, new.version, changes, prompt_diff))
    return ManifestDiff(a_label=a_label, b_label=b_label, a=a, b=b, members=out)


def diff_refs(
    store: Store,
    root: Path,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    a: str,
    b: str,
) -> ManifestDiff:
    """`teamrel diff A B`: two releases, manifest files or environments (`lookup`), member
    by member, changed prompts with their text diffed (snapshots from the store or files)."""
    return diff(
        lookup(store, root, team, environments, a),
        lookup(store, root, team, environments, b),
        a,
        b,
        snapshot_loader(store, root, team),
    )


def verify(
    store: Store, root: Path | None, *, team: str | None = None, env: str | None = None
) -> VerifyResult:
    """Re-hash the store (manifests, snapshots, audit chain, pointers) and every manifest and
    snapshot file under `manifests/`, and cross-check files against the store.

    With `team` and `env`: only what is live there, and the audit chain (see `Store.verify`);
    no file is read (a runtime loads from the store).
    """
    if env is not None:
        check_name(env, "environment")
    result = VerifyResult(store=store.verify(team=team, env=env))
    problems = result.problems
    problems.extend(result.store.problems)
    if root is None or env is not None:
        return result
    base = root / MANIFESTS_DIR
    if not base.is_dir():
        return result
    for team_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        recorded = {r.release: r.digest for r in store.releases(team_dir.name)}
        for path in sorted(team_dir.glob("*.json")):
            result.files += 1
            problems.extend(_verify_manifest_file(root, team_dir, path, recorded))
        snap_dir = team_dir / SNAPSHOTS_DIR
        if snap_dir.is_dir():
            for path in sorted(snap_dir.glob("*.json")):
                result.files += 1
                try:
                    read_snapshot(root, team_dir.name, f"sha256:{path.stem}")
                except TeamrelError as err:
                    problems.append(VerifyProblem("file", str(path.relative_to(root)), err.message))
    return result


def _verify_manifest_file(
    root: Path, team_dir: Path, path: Path, recorded: Mapping[str, str]
) -> list[VerifyProblem]:
    """One manifest file under `manifests/<team>/`: readable, named after what it holds, the
    same as the store's release of that name, its snapshot files present."""
    team = team_dir.name
    rel = str(path.relative_to(root))
    try:
        manifest = read_manifest(path)
    except TeamrelError as err:
        return [VerifyProblem("file", rel, err.message)]
    problems: list[VerifyProblem] = []
    if manifest.team != team or manifest.release != path.stem:
        problems.append(
            VerifyProblem("file", rel, f"holds release {manifest.release} of team {manifest.team}")
        )
    in_store = recorded.get(manifest.release)
    if in_store is not None and in_store != manifest.digest:
        problems.append(
            VerifyProblem(
                "file",
                rel,
                f"differs from release {manifest.release} in the state store ({in_store})",
            )
        )
    for name, entry in manifest.members.items():
        snap = team_dir / SNAPSHOTS_DIR / f"{entry.digest.removeprefix('sha256:')}.json"
        if not snap.is_file():
            problems.append(
                VerifyProblem(
                    "file",
                    str(snap.relative_to(root)),
                    f"missing (member {name} of {manifest.release})",
                )
            )
    return problems


def resolve(store: Store, team: str, env: str, member: str | None = None) -> Resolution:
    """The exact pinned configuration live in `env` (every member, or one).

    Reads the live manifest's verified text; `member` is found in it without parsing the
    rest, and members are loaded from their snapshots only when the result is iterated, so
    one member costs one snapshot whatever the team's size.
    """
    digest = live_digest(store, team, env)  # immutable from here on: a move changes nothing
    text = read_text(store, digest)
    entries = text.all_entries() if member is None else {member: member_entry(text, env, member)}
    defs = flag_definitions(text)
    return Resolution(
        team=team,
        environment=env,
        release=text.release,
        manifest_digest=digest,
        entries=entries,
        load=store.snapshots,
        rollout=store.rollout(team, env),
        flag_defs=defs,
        flag_set=flag_values(store, team, env) if defs else {},
    )
