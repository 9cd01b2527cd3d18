"""Rollback and rollout safety on persisted handoffs: the findings, and their cache.

Owns `Crossing` (one handoff declared `persisted: true`, across two releases: does the
reading release's consumer accept what the writing release's producer may have written?),
`SafetyReport` (the crossings a rollback or a rollout start was proved with) and
`PairCache`, the answers for a pair of manifests kept by the pair's digests
(`.teamrel/cache/release-pairs.json`, safe to delete).

This module is deliberately light (no compatibility engine, no workspace, no store import):
`teamrel rollback` reads a cached answer through it, and only a miss imports the engine
(`teamrel.meet.crossings` proves and fills the cache). See docs/operations.md, "Is it safe
to roll back?".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamrel import __version__
from teamrel.canonical import JSON, JsonObject, canonical_json
from teamrel.errors import ExitCode, TeamrelError
from teamrel.fileio import atomic_write


class UnsafeCrossing(TeamrelError):
    """Two releases would meet over persisted data one of them cannot read: the refusal of
    `rollback` and `rollout start` (exit 1), with every finding and the safety document."""

    exit_code = ExitCode.FINDINGS

    def __init__(
        self, message: str, findings: list[str], safety: dict[str, Any], *, hint: str
    ) -> None:
        super().__init__("\n".join([message, *(f"  ✗ {f}" for f in findings)]), hint=hint)
        self.findings = findings
        self.safety = safety

    def to_json(self) -> JsonObject:
        doc = super().to_json()
        doc["findings"] = self.findings
        doc["safety"] = self.safety
        return doc


#: The cache of crossings between two manifests.
PAIR_CACHE_FILE = "release-pairs.json"
PAIR_CACHE_VERSION = 1
PAIR_CACHE_MAX_ENTRIES = 2_000


@dataclass(frozen=True)
class Crossing:
    """One persisted handoff across two releases: does the reading release's consumer accept
    what the writing release's producer may have written?"""

    handoff: str
    producer: str
    producer_version: str | None
    writer: str  # the release whose producer wrote
    consumer: str
    consumer_version: str | None
    reader: str  # the release whose consumer reads
    what: str  # what the messages are (the producer's output schema's file name)
    verdict: str  # compatible | incompatible | unknown | unchecked
    #: the engine's problems (`teamrel.compat.Problem.to_json()` objects), first one first
    problems: tuple[dict[str, Any], ...] = ()
    witness: JSON = None
    has_witness: bool = False
    reason: str | None = None

    @property
    def safe(self) -> bool:
        """Proven readable, or nothing to prove (a side missing from a release)."""
        return self.verdict in ("compatible", "unchecked")

    def sentence(self) -> str:
        """`responder@2.0.0 cannot read a refund_decision with `refund_amount_cents` written
        by refunds@1.3.0 (r2 -> r1): ...`, or why it is safe or undecided."""
        reader = f"{self.consumer}@{self.consumer_version} ({self.reader})"
        writer = f"{self.producer}@{self.producer_version} ({self.writer})"
        if self.verdict == "compatible":
            return f"{reader} reads every {self.what} written by {writer}"
        if self.verdict == "unchecked":
            return f"{self.handoff}: {self.reason or 'nothing to prove'}"
        if self.verdict == "unknown":
            return (
                f"cannot prove that {reader} reads every {self.what} written by {writer}: "
                f"{self.reason or 'undecided'}"
            )
        p = self.problems[0] if self.problems else None
        field_ = str(p.get("instance_pointer") or "").lstrip("/") if p is not None else ""
        with_ = f" with `{field_}`" if field_ else ""
        why = f": {p.get('message')}" if p is not None else ""
        return f"{reader} cannot read a {self.what}{with_} written by {writer}{why}"

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "handoff": self.handoff,
            "producer": {"name": self.producer, "version": self.producer_version},
            "writer": self.writer,
            "consumer": {"name": self.consumer, "version": self.consumer_version},
            "reader": self.reader,
            "what": self.what,
            "verdict": self.verdict,
            "message": self.sentence(),
            "problems": [dict(p) for p in self.problems],
            "has_witness": self.has_witness,
            "witness": self.witness if self.has_witness else None,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> Crossing:
        """The inverse of `to_json` (KeyError/TypeError on a malformed document)."""
        return cls(
            handoff=str(d["handoff"]),
            producer=str(d["producer"]["name"]),
            producer_version=d["producer"]["version"],
            writer=str(d["writer"]),
            consumer=str(d["consumer"]["name"]),
            consumer_version=d["consumer"]["version"],
            reader=str(d["reader"]),
            what=str(d["what"]),
            verdict=str(d["verdict"]),
            problems=tuple(dict(p) for p in d["problems"]),
            witness=d["witness"],
            has_witness=bool(d["has_witness"]),
            reason=d["reason"],
        )


class PairCache:
    """Crossings between two manifests, by the pair's digests (one small JSON file)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.path = directory / PAIR_CACHE_FILE if directory is not None else None
        self._entries: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            if self.path is not None:
                with contextlib.suppress(OSError, ValueError, RecursionError, AttributeError):
                    doc = json.loads(self.path.read_bytes())
                    if doc.get("format_version") == PAIR_CACHE_VERSION:
                        self._entries = dict(doc.get("entries") or {})
        return self._entries

    def get(self, key: str) -> list[Crossing] | None:
        """The cached crossings of `key`, or None (absent or unreadable)."""
        raw = self._load().get(key)
        if not isinstance(raw, list):
            return None
        try:
            return [Crossing.from_json(c) for c in raw]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, key: str, crossings: Sequence[Crossing]) -> None:
        """Remember fully decided crossings (an `unknown` may depend on the time budget)."""
        if self.path is None or any(c.verdict == "unknown" for c in crossings):
            return
        entries = self._load()
        entries.pop(key, None)
        entries[key] = [c.to_json() for c in crossings]
        kept = dict(list(entries.items())[-PAIR_CACHE_MAX_ENTRIES:])
        self._entries = kept
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = json.dumps({"format_version": PAIR_CACHE_VERSION, "entries": kept})
            atomic_write(self.path, data.encode("utf-8"), durable=False)


def pair_key(writer: str, reader: str, persisted: Sequence[tuple[str, str]]) -> str:
    """The cache key of the crossings of (writer manifest, reader manifest, handoffs)."""
    # teamrel's version, not the engine's: reading the engine's would import the engine, which
    # the incident path must not pay for; every engine change ships in a new teamrel version
    text = canonical_json([__version__, writer, reader, [list(p) for p in persisted]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SafetyReport:
    """The crossings proved before a rollback (or a rollout start) may go ahead."""

    action: str  # rollback | rollout
    environment: str
    crossings: tuple[Crossing, ...]

    def refusals(self) -> list[str]:
        """One sentence per crossing that is not proven safe (incompatible or unknown)."""
        return [c.sentence() for c in self.crossings if not c.safe]

    def to_json(self) -> JsonObject:
        """The `safety` object of the rollback / rollout document."""
        return {
            "action": self.action,
            "environment": self.environment,
            "safe": not self.refusals(),
            "crossings": [c.to_json() for c in self.crossings],
        }


def safety_report(
    action: str,
    env: str,
    cache: PairCache,
    pairs: Sequence[tuple[str, str]],
    persisted: Sequence[tuple[str, str]],
    compute: Callable[[str, str], list[Crossing]],
) -> SafetyReport:
    """The crossings of every `(writer, reader)` manifest pair, from the cache when there,
    else from `compute(writer, reader)` (which proves them and fills the cache)."""
    found: list[Crossing] = []
    for writer, reader in pairs:
        hit = cache.get(pair_key(writer, reader, persisted))
        found.extend(hit if hit is not None else compute(writer, reader))
    return SafetyReport(action, env, tuple(found))
