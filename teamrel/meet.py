"""Where two releases meet: compatibility modes, rollback and rollout safety, drift.

Owns the proofs that cross releases (docs/check.md "Compatibility modes", docs/operations.md
"Is it safe to roll back?" and "Drift"):

- `live_releases`: what is live for a team: every environment's pointer, every open rollout's
  candidate and, for `*-transitive` modes, every release moved to or from in an environment
  inside `policy.retention` (from the audit log);
- `mode_edges`: the pairs a handoff's `compat:` mode adds to `teamrel check`: `backward`
  proves each producer still live against the working tree's consumer, `forward` the working
  tree's producer against each consumer still live, `full` both. Pairs are grouped by the
  schema each live version pins for the slot that meets (the manifest's schema digests): a
  version whose schema is the working tree's adds nothing, versions sharing a schema are
  proved once, and one snapshot per distinct schema is read. The work grows linearly with the
  number of live releases, and each proof comes from the digest-pair cache when it was made
  before;
- `crossings`: for the handoffs declared `persisted: true`, whether the consumers of one
  release read what the producers of another may have written (rollback: the target's
  consumers against the current producers; a rollout: stable and candidate, both ways). The
  answer for a pair of manifests is cached by that pair's digests
  (`.teamrel/cache/release-pairs.json`), so the incident path reads one small file;
- `drift`: each external member's current interface, re-read from its origin
  (`teamrel.origins`), proved against what every environment's live release pinned.

The library only finds and proves; refusing (rollback, rollout start) is the caller's rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from teamrel import compat, origin_readers
from teamrel.canonical import JSON, JsonObject, canonical_json, digest
from teamrel.check import (
    EdgeEnd,
    EdgeResult,
    LiveReleaseRef,
    ModeDirection,
    ModePair,
    ModesReport,
    Prover,
    StepResult,
)
from teamrel.errors import InputError, TeamrelError
from teamrel.manifest import Manifest
from teamrel.models import CompatMode, ResolvedHandoff, ResolvedMember, SchemaDoc
from teamrel.origins import (
    OriginReader,
    OriginUnavailable,
    origin_kind,
    parse_origin,
    read_origin,
)
from teamrel.resultcache import ResultCache
from teamrel.safety import Crossing, PairCache, pair_key
from teamrel.store import Store, parse_iso, utcnow
from teamrel.workspace import Workspace

#: Version of the `teamrel drift --format json` document.
DRIFT_FORMAT_VERSION = 1


# --------------------------------------------------------------------------- live releases


@dataclass(frozen=True)
class LiveRelease:
    """A release some conversation may still be on, and why (`prod`, `prod (candidate)`,
    `staging (within retention)`)."""

    release: str
    digest: str
    where: tuple[str, ...]
    manifest: Manifest
    #: only inside the retention window (not live now): counted by transitive modes only
    retained_only: bool = False

    def label(self) -> str:
        """`r3 (prod, staging)`."""
        return f"{self.release} ({', '.join(self.where)})"


def live_releases(
    store: Store, team: str, *, retention_seconds: int | None = None
) -> list[LiveRelease]:
    """The releases live for `team`: environment pointers and open rollouts' candidates, and
    with `retention_seconds` every release an environment moved to or from inside the
    window (the audit log, newest first, read until the window ends)."""
    where: dict[str, list[str]] = {}
    live_now: set[str] = set()
    for env in store.environments(team):
        if env.manifest_digest:
            where.setdefault(env.manifest_digest, []).append(env.name)
            live_now.add(env.manifest_digest)
    for env_name, roll in sorted(store.open_rollouts(team).items()):
        where.setdefault(roll.candidate_digest, []).append(f"{env_name} (candidate)")
        live_now.add(roll.candidate_digest)
    if retention_seconds is not None:
        since = utcnow() - timedelta(seconds=retention_seconds)
        for event in store.events(team):
            if parse_iso(event.at) < since:
                break
            for d in (event.from_manifest, event.to_manifest):
                if d and d not in live_now:
                    label = f"{event.environment} (within retention)"
                    if label not in where.setdefault(d, []):
                        where[d].append(label)
    out: list[LiveRelease] = []
    for d, labels in where.items():
        manifest = store.get_manifest(d, team)
        out.append(LiveRelease(manifest.release, d, tuple(labels), manifest, d not in live_now))
    return sorted(out, key=lambda r: (r.manifest.created_at, r.release))


def _snapshots(
    store: Store, wanted: Iterable[str], known: Mapping[str, ResolvedMember]
) -> dict[str, ResolvedMember]:
    """Member snapshots by digest; members of the working tree stand in for their own."""
    by_digest = {m.digest: m for m in known.values()}
    missing = sorted({d for d in wanted if d not in by_digest})
    if missing:
        by_digest.update(store.snapshots(missing))
    return by_digest


# --------------------------------------------------------------------------- modes


def effective_mode(ws: Workspace, index: int) -> CompatMode | None:
    """The compatibility mode of declared handoff `index` (its own, else `policy.compat`),
    None for atomic."""
    h = ws.team.handoffs[index]
    mode = h.compat if h.compat is not None else ws.team.policy.compat
    return None if mode is None or mode.mode == "atomic" else mode


def declares_modes(ws: Workspace) -> bool:
    """Whether any handoff is proved beyond atomic."""
    return any(effective_mode(ws, i) is not None for i in range(len(ws.team.handoffs)))


def _modes_report(live: Sequence[LiveRelease], edges: Sequence[EdgeResult]) -> ModesReport:
    """What the modes added to a check: the live releases considered and the pairs per
    direction."""
    directions = [e.compat_mode.direction for e in edges if e.compat_mode is not None]
    return ModesReport(
        tuple(LiveReleaseRef(r.release, r.digest, r.where, r.retained_only) for r in live),
        backward=directions.count("backward"),
        forward=directions.count("forward"),
    )


@dataclass(frozen=True, slots=True)
class _PairGroup:
    """The live versions of one end of a declared handoff that pin one schema for the slot
    that meets: proved once, as one pair."""

    index: int  # of the declared handoff
    mode: CompatMode
    direction: ModeDirection
    schema_digest: str
    releases: tuple[tuple[LiveRelease, str], ...]  # (release, the end's version in it)


def _modes_live(ws: Workspace, store: Store | None) -> list[LiveRelease]:
    """The releases the modes meet: those live now, and with a transitive mode those inside
    the retention window too (none without a store)."""
    if store is None or store.is_missing:
        return []
    needs_window = any(
        (m := effective_mode(ws, i)) is not None and m.transitive
        for i in range(len(ws.team.handoffs))
    )
    window = ws.team.policy.retention_seconds if needs_window else None
    return live_releases(store, ws.team.team, retention_seconds=window)


def _pair_groups(
    ws: Workspace, live: Sequence[LiveRelease]
) -> tuple[list[_PairGroup], dict[str, str]]:
    """Each declared handoff's end in each live release, grouped by the schema its manifest
    pins for the slot that meets (a producer's output, a consumer's input): a version whose
    schema is the working tree's adds nothing (the atomic edge proves that pair), and
    versions sharing a schema are proved once. Also returns, per schema digest, one member
    digest pinning it: only one snapshot per distinct schema is read."""
    groups: list[_PairGroup] = []
    wanted: dict[str, str] = {}  # schema digest -> a member digest pinning it
    current: dict[int, str] = {}  # id of a working-tree schema object -> its digest

    def now_digest(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        found = current.get(id(value))
        if found is None:
            found = current[id(value)] = digest(value)
        return found

    for i, spec in enumerate(ws.team.handoffs):
        mode = effective_mode(ws, i)
        if mode is None or spec.from_ not in ws.members or spec.to not in ws.members:
            continue
        sources = [r for r in live if mode.transitive or not r.retained_only]
        ends: tuple[tuple[ModeDirection, str], ...] = (
            ("backward", spec.from_),
            ("forward", spec.to),
        )
        for direction, end in ends:
            if not getattr(mode, direction):
                continue
            member = ws.members[end]
            role = ("output" if direction == "backward" else "input") + (
                "_schema" if member.kind == "tool" else ""
            )
            mine = now_digest(member.spec.get(role))
            by_schema: dict[str, list[tuple[LiveRelease, str]]] = {}
            for r in sources:
                entry = r.manifest.members.get(end)
                if entry is None or entry.digest == member.digest:
                    continue
                pinned = entry.schemas.get(role)
                if pinned is None or pinned == mine:
                    continue
                by_schema.setdefault(pinned, []).append((r, entry.version))
                wanted.setdefault(pinned, entry.digest)
            for schema_digest, rels in by_schema.items():
                groups.append(_PairGroup(i, mode, direction, schema_digest, tuple(rels)))
    return groups, wanted


def _mode_pair(
    ws: Workspace,
    h: ResolvedHandoff,
    group: _PairGroup,
    old: SchemaDoc | None,
    prover: Prover,
    labels: Mapping[str, str],
) -> EdgeResult:
    """One pair a mode adds, proved: the live versions' schema `old` against the working
    tree's other end (backward: as the producer, forward: as the consumer)."""
    spec = ws.team.handoffs[group.index]
    versions = ",".join(dict.fromkeys(v for _, v in group.releases))
    if group.direction == "backward":
        left, right = old, h.consumer_schema
        producer = EdgeEnd(spec.from_, versions)
        consumer = EdgeEnd(spec.to, ws.members[spec.to].version)
        key = f"{spec.from_}@{versions}->{spec.to}"
    else:
        left, right = h.producer_schema, old
        producer = EdgeEnd(spec.from_, ws.members[spec.from_].version)
        consumer = EdgeEnd(spec.to, versions)
        key = f"{spec.from_}->{spec.to}@{versions}"
    steps: tuple[StepResult, ...] = ()
    note = None
    if left is None or right is None:
        note = f"{key}: one side declares no schema"
        verdict = "unchecked"
    else:
        step = prover.prove(f"{group.direction}-producer-consumer", left, right)
        steps = (step,)
        verdict = step.verdict
    return EdgeResult(
        key=key,
        kind="handoff",
        producer=producer,
        consumer=consumer,
        contract=None,
        verdict=verdict,  # type: ignore[arg-type]
        steps=steps,
        note=note,
        source=h.source,
        compat_mode=ModePair(
            mode=group.mode.mode,
            transitive=group.mode.transitive,
            direction=group.direction,
            handoff=h.key,
            releases=tuple(labels[r.digest] for r, _ in group.releases),
        ),
    )


def mode_edges(
    ws: Workspace,
    store: Store | None,
    prover: Prover,
    *,
    live: Sequence[LiveRelease] | None = None,
) -> tuple[list[EdgeResult], ModesReport]:
    """The pairs every declared mode adds (see the module docstring), proved.

    `store` None (no state store yet): nothing is live, nothing is added. `live` (default:
    `live_releases` of the store) names the releases to meet, e.g. for a benchmark."""
    live = list(live) if live is not None else _modes_live(ws, store)
    if not live:
        return [], _modes_report(live, [])
    groups, wanted = _pair_groups(ws, live)
    snaps = (
        _snapshots(store, set(wanted.values()), ws.members) if wanted and store is not None else {}
    )
    labels = {r.digest: r.label() for r in live}
    docs: dict[str, SchemaDoc | None] = {}
    edges: list[EdgeResult] = []
    by_pair = {(h.producer, h.consumer): h for h in ws.handoffs if h.kind == "handoff"}
    for group in groups:
        spec = ws.team.handoffs[group.index]
        schema_digest = group.schema_digest
        if schema_digest not in docs:
            side: Literal["input", "output"] = (
                "output" if group.direction == "backward" else "input"
            )
            docs[schema_digest] = snaps[wanted[schema_digest]].schema_doc(side)
        h = by_pair[(spec.from_, spec.to)]
        edges.append(_mode_pair(ws, h, group, docs[schema_digest], prover, labels))
    return edges, _modes_report(live, edges)


# --------------------------------------------------------------------------- crossings


def _what(doc: SchemaDoc | None) -> str:
    if doc is None or not doc.uri.startswith("file:///"):
        return "message"
    return Path(doc.uri.removeprefix("file:///")).stem or "message"


def crossings(
    store: Store,
    cache_dir: Path | None,
    team: str,
    persisted: Sequence[tuple[str, str]],
    writer_digest: str,
    reader_digest: str,
    *,
    pair_cache: PairCache | None = None,
) -> list[Crossing]:
    """For every persisted handoff `(p, c)`: does `c` as the reader manifest pins it accept
    every output of `p` as the writer manifest pins it? Cached by the manifests' digests."""
    cache = pair_cache or PairCache(cache_dir)
    key = pair_key(writer_digest, reader_digest, persisted)
    hit = cache.get(key)
    if hit is not None:
        return hit
    writer = store.get_manifest(writer_digest, team)
    reader = store.get_manifest(reader_digest, team)
    wanted = [writer.members[p].digest for p, _ in persisted if p in writer.members]
    wanted += [reader.members[c].digest for _, c in persisted if c in reader.members]
    snaps = store.snapshots(wanted) if wanted else {}
    prover = Prover(ResultCache(cache_dir), format_assertion=False)
    out = [_crossing(p, c, writer, reader, snaps, prover) for p, c in persisted]
    prover.cache.save()
    cache.put(key, out)
    return out


def _crossing(
    p: str,
    c: str,
    writer: Manifest,
    reader: Manifest,
    snaps: Mapping[str, ResolvedMember],
    prover: Prover,
) -> Crossing:
    """Does `c` as `reader` pins it accept every output of `p` as `writer` pins it?"""
    pe, ce = writer.members.get(p), reader.members.get(c)
    producer = snaps[pe.digest] if pe is not None else None
    consumer = snaps[ce.digest] if ce is not None else None
    left = producer.schema_doc("output") if producer is not None else None
    right = consumer.schema_doc("input") if consumer is not None else None
    base: dict[str, Any] = {
        "handoff": f"{p}->{c}",
        "producer": p,
        "producer_version": pe.version if pe is not None else None,
        "writer": writer.release,
        "consumer": c,
        "consumer_version": ce.version if ce is not None else None,
        "reader": reader.release,
        "what": _what(left),
    }
    if pe is None or ce is None:
        missing = f"{p} in {writer.release}" if pe is None else f"{c} in {reader.release}"
        return Crossing(**base, verdict="unchecked", reason=f"no {missing}")
    if left is None or right is None:
        return Crossing(**base, verdict="unchecked", reason="a side declares no schema")
    step = prover.prove("persisted", left, right)
    return Crossing(
        **base,
        verdict=step.verdict,
        problems=tuple(p.to_json() for p in step.problems),
        witness=step.witness,
        has_witness=step.has_witness,
        reason=step.reason,
    )


# --------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class DriftResult:
    """One external member's slot in one environment: the pin against the origin now."""

    environment: str
    release: str
    member: str
    kind: str
    origin: str  # file | mcp | a2a
    slot: str
    #: `pinned ⊆ live` (what callers send must still be accepted) or `live ⊆ pinned`
    #: (what it returns now must be what readers were proven against)
    direction: str
    verdict: str  # compatible | incompatible | unknown | unavailable
    problems: tuple[compat.Problem, ...] = ()
    witness: JSON = None
    has_witness: bool = False
    reason: str | None = None

    @property
    def failing(self) -> bool:
        """A breaking drift (or one that cannot be proven safe)."""
        return self.verdict in ("incompatible", "unknown")

    def message(self) -> str:
        """One line for the operator."""
        where = f"{self.member} in {self.environment} ({self.release}), {self.slot}"
        if self.verdict == "unavailable":
            return f"{self.member}: {self.reason}"
        if self.verdict == "compatible":
            return f"{where}: no breaking drift ({self.direction})"
        if self.verdict == "unknown":
            return f"{where}: cannot prove {self.direction}: {self.reason}"
        p = self.problems[0] if self.problems else None
        what = "now returns" if self.direction == "live ⊆ pinned" else "no longer accepts"
        detail = f": {p.message}" if p is not None else ""
        return (
            f"{where}: {what} {json.dumps(self.witness, sort_keys=True)} "
            f"(breaking drift, {self.direction}){detail}"
        )

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "environment": self.environment,
            "release": self.release,
            "member": self.member,
            "kind": self.kind,
            "origin": self.origin,
            "slot": self.slot,
            "direction": self.direction,
            "verdict": self.verdict,
            "message": self.message(),
            "problems": [p.to_json() for p in self.problems],
            "has_witness": self.has_witness,
            "witness": self.witness if self.has_witness else None,
            "reason": self.reason,
        }


@dataclass
class DriftReport:
    """What `teamrel drift` found for every external member of every live release."""

    team: str
    environment: str | None
    results: list[DriftResult]

    @property
    def passed(self) -> bool:
        """No breaking (or undecidable) drift."""
        return not any(r.failing for r in self.results)

    def to_json(self) -> JsonObject:
        """The versioned `teamrel drift --format json` document."""
        return {
            "format_version": DRIFT_FORMAT_VERSION,
            "team": self.team,
            "environment": self.environment,
            "passed": self.passed,
            "summary": {
                v: sum(1 for r in self.results if r.verdict == v)
                for v in ("compatible", "incompatible", "unknown", "unavailable")
            },
            "results": [r.to_json() for r in self.results],
        }


def drift(
    store: Store,
    root: Path,
    team: str,
    *,
    env: str | None = None,
    cache_dir: Path | None = None,
    reader: OriginReader = read_origin,
) -> DriftReport:
    """Re-read every external member pinned by a live release from its origin (each origin
    once) and prove it against each environment's pin: inputs pinned ⊆ live, outputs live ⊆
    pinned. An origin kind without a reader is reported `unavailable`; an unreadable origin
    raises `InputError` naming the member."""
    origin_readers.install()
    prover = Prover(ResultCache(cache_dir), format_assertion=False)
    read: dict[str, dict[str, SchemaDoc] | OriginUnavailable] = {}
    results: list[DriftResult] = []
    for state in store.environments(team, only=env):
        if not state.manifest_digest:
            continue
        manifest = store.get_manifest(state.manifest_digest, team)
        for name, member in store.pinned(manifest).items():
            if member.spec.get("external") is not True:
                continue
            raw = member.spec.get("origin")
            if not isinstance(raw, dict):
                continue
            try:
                origin = parse_origin(raw)
            except InputError as err:
                raise InputError(f"member {name}: {err.message}") from None
            kind = origin_kind(origin)
            memo = canonical_json([member.kind, raw])
            if memo not in read:
                try:
                    read[memo] = reader(root, member.kind, origin)
                except OriginUnavailable as err:
                    read[memo] = err
                except InputError as err:
                    raise InputError(f"member {name}: {err.message}", hint=err.hint) from None
            live = read[memo]
            base: dict[str, Any] = {
                "environment": state.name,
                "release": manifest.release,
                "member": name,
                "kind": member.kind,
                "origin": kind,
            }
            if isinstance(live, TeamrelError):
                results.append(
                    DriftResult(
                        **base, slot="*", direction="-", verdict="unavailable", reason=live.message
                    )
                )
                continue
            results.extend(_prove_drift(prover, member, live, base))
    prover.cache.save()
    return DriftReport(team, env, results)


def _prove_drift(
    prover: Prover, member: ResolvedMember, live: Mapping[str, SchemaDoc], base: dict[str, Any]
) -> list[DriftResult]:
    """The member's interface re-read from its origin (`live`) proved against its pin, one
    result per schema slot both sides have: inputs pinned ⊆ live, outputs live ⊆ pinned."""
    slots = ("input_schema", "output_schema") if member.kind == "tool" else ("input", "output")
    results: list[DriftResult] = []
    for slot in slots:
        now = live.get(slot)
        pinned = member.schema_doc("input" if slot.startswith("input") else "output")
        if now is None or pinned is None:
            continue
        if slot.startswith("input"):
            step, direction = prover.prove("drift-input", pinned, now), "pinned ⊆ live"
        else:
            step, direction = prover.prove("drift-output", now, pinned), "live ⊆ pinned"
        results.append(
            DriftResult(
                **base,
                slot=slot,
                direction=direction,
                verdict=step.verdict,
                problems=step.problems,
                witness=step.witness,
                has_witness=step.has_witness,
                reason=step.reason,
            )
        )
    return results
