"""`teamrel check`: prove every handoff of a workspace, the CI gate.

Owns: `run_check` (every edge proved as producer ⊆ contract ⊆ consumer, one compat check per
step, the edge's verdict the worst of its steps), the report it returns (`CheckReport`,
`EdgeResult`, `StepResult` and the typed findings they carry: `ModePair`, `CheckWarning`,
`ModesReport`, `CheckSummary`, `CheckStats`; frozen dataclasses whose `to_json` is the
stable JSON and whose `from_json` reads it back, and `PlanCheck`, the same read from a
plan), the `Prover` that runs (and dedupes, and caches) the compat checks of one
invocation, and the selection of members (`changed_since` via git, `changed_against` a
base). The flag states' section is `teamrel.flags.FlagsReport`, the base's
`teamrel.baserelease.BaseRef`. The report also carries warnings that never fail it: a
scorecard whose stamped behavioural digest is not its member's current one (`stale-scorecard`).

Elsewhere: the on-disk result cache is `teamrel.resultcache`, the remembered report
`teamrel.reportcache`, the base release (`load_base`, `resolve_against`)
`teamrel.baserelease`; the whole `teamrel check` operation
(caches, selection, pinning against a base, compat modes) is `teamrel.checkrun`.

With `flags:` declared, `prove_flag_states` proves every flag state `teamrel.flags.explore`
picks after the default state (see the section at the end of this module).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from teamrel import compat
from teamrel.baserelease import BaseRef
from teamrel.canonical import JSON, JsonObject
from teamrel.compat import semantic_fingerprint
from teamrel.errors import InputError, SchemaError, TeamrelError, UsageError
from teamrel.flags import (
    MAX_FLAG_STATES,
    MAX_GROUP_FLAGS,
    Exploration,
    FlagsReport,
    FlagStateResult,
    explore,
    label,
    state_edges,
    state_workspace,
    touched_edges,
)
from teamrel.models import (
    ResolvedHandoff,
    ResolvedMember,
    SchemaDoc,
    Source,
    modes_intersect,
)
from teamrel.progress import PROVING, Progress, Ticker
from teamrel.resultcache import ResultCache, fast_digest, problem_from_json, result_to_json
from teamrel.scorecard import SCORECARDS_DIR, stale_scorecards
from teamrel.workspace import Workspace
from teamrel.yamlsrc import parse_yaml

if TYPE_CHECKING:
    from teamrel.plandoc import Plan

#: Version of the `teamrel check --format json` document.
CHECK_FORMAT_VERSION = 1

Verdict = Literal["compatible", "incompatible", "unknown", "unchecked"]
UnknownPolicy = Literal["fail", "warn"]
#: A compatibility mode's pair: an old producer against the new consumer, or the reverse.
ModeDirection = Literal["backward", "forward"]

#: Worst first: an edge's verdict is the worst of its steps.
_SEVERITY: dict[str, int] = {"incompatible": 3, "unknown": 2, "unchecked": 1, "compatible": 0}


def worst(verdicts: Iterable[str]) -> Verdict:
    """The worst of some verdicts (compatible when there are none)."""
    out: Verdict = "compatible"
    for v in verdicts:
        if _SEVERITY[v] > _SEVERITY[out]:
            out = v  # type: ignore[assignment]
    return out


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class StepResult:
    """One containment proof inside an edge: every value valid under `left` valid under `right`?"""

    #: producer-contract | contract-consumer | producer-consumer | tool-input-evolution |
    #: tool-output-evolution
    step: str
    left: str  # URI of the schema on the producing side
    right: str  # URI of the schema on the consuming side
    verdict: Literal["compatible", "incompatible", "unknown"]
    problems: tuple[compat.Problem, ...] = ()
    witness: JSON = None
    has_witness: bool = False
    reason: str | None = None
    cached: bool = False

    def to_json(self) -> JsonObject:
        """Stable JSON form (part of the check document)."""
        return {
            "step": self.step,
            "left": self.left,
            "right": self.right,
            "verdict": self.verdict,
            "reason": self.reason,
            "problems": [p.to_json() for p in self.problems],
            "has_witness": self.has_witness,
            "witness": self.witness if self.has_witness else None,
            "cached": self.cached,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON], *, remembered: bool = True) -> StepResult:
        """The inverse of `to_json` (KeyError/TypeError on a malformed document). A step of a
        `remembered` report counts as cached; else `cached` is read as written."""
        return cls(
            str(d["step"]),
            str(d["left"]),
            str(d["right"]),
            d["verdict"],
            tuple(problem_from_json(p) for p in d["problems"]),
            d["witness"],
            bool(d["has_witness"]),
            d["reason"],
            cached=True if remembered else bool(d["cached"]),
        )


@dataclass(frozen=True, slots=True)
class EdgeEnd:
    """One end of an edge: the member, its version, and whether a base pinned it."""

    name: str
    version: str | None
    pinned: bool = False

    def label(self) -> str:
        """`name@version`, marked when pinned by the base."""
        s = f"{self.name}@{self.version}" if self.version else self.name
        return f"{s} (pinned)" if self.pinned else s

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {"name": self.name, "version": self.version, "pinned": self.pinned}

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> EdgeEnd:
        """The inverse of `to_json`."""
        return cls(str(d["name"]), d["version"], bool(d["pinned"]))


@dataclass(frozen=True, slots=True)
class ModePair:
    """Why a pair was added by a handoff's `compat:` mode (`compat_mode` in the JSON): the
    mode, the direction proved, the declared handoff and the live releases it meets."""

    mode: str
    transitive: bool
    direction: ModeDirection
    handoff: str
    releases: tuple[str, ...]

    def to_json(self) -> JsonObject:
        """Stable JSON form (part of an edge of the check document)."""
        return {
            "mode": self.mode,
            "transitive": self.transitive,
            "direction": self.direction,
            "handoff": self.handoff,
            "releases": list(self.releases),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> ModePair:
        """The inverse of `to_json`."""
        return cls(
            str(d["mode"]),
            bool(d["transitive"]),
            d["direction"],
            str(d["handoff"]),
            tuple(str(r) for r in d["releases"]),
        )


@dataclass(frozen=True, slots=True)
class EdgeResult:
    """The verdict on one handoff (or implicit tool edge) with every step that decided it."""

    key: str
    kind: str
    producer: EdgeEnd
    consumer: EdgeEnd
    contract: str | None  # workspace-relative path (or inline URI) of the contract
    verdict: Verdict
    steps: tuple[StepResult, ...] = ()
    note: str | None = None  # why an edge is unchecked
    source: Source | None = None
    #: for an incompatible edge through a contract: the contract file (or a file it `$ref`s)
    #: and the line of the keyword that rejects the witness
    hint: tuple[str, int] | None = None
    #: a pair added by a handoff's `compat:` mode: absent from the JSON of every atomic edge
    #: (see `teamrel.meet`)
    compat_mode: ModePair | None = None
    #: proved in this flag state (flags flipped from their defaults), None: the default state
    flag_state: dict[str, bool] | None = None

    @property
    def handoff(self) -> str:
        """The key of the declared handoff (or tool edge) this edge proves, whichever flag
        state or compatibility-mode pair it was proved in."""
        if self.compat_mode is not None:
            return self.compat_mode.handoff
        if self.flag_state:
            return self.key.removeprefix(f"{label(self.flag_state)}: ")
        return self.key

    @property
    def proved_in(self) -> str | None:
        """Where this edge's verdict holds besides the default state: the flag state
        ("with `a` on") or the pair a compatibility mode added; None for the default state."""
        if self.compat_mode is not None:
            return f"{self.compat_mode.mode} pair {self.key}"
        if self.flag_state:
            return label(self.flag_state)
        return None

    @property
    def failing(self) -> tuple[StepResult, ...]:
        """Steps that are not compatible, worst first."""
        bad = [s for s in self.steps if s.verdict != "compatible"]
        return tuple(sorted(bad, key=lambda s: -_SEVERITY[s.verdict]))

    @property
    def problems(self) -> list[compat.Problem]:
        """Every problem of every incompatible step."""
        return [p for s in self.steps if s.verdict == "incompatible" for p in s.problems]

    def first_problem(self) -> str | None:
        """One line saying what is wrong (None when compatible)."""
        for s in self.failing:
            if s.problems:
                p = s.problems[0]
                where = p.instance_pointer or "/"
                return p.message if f" {where}" in p.message else f"{where}: {p.message}"
            if s.reason:
                return s.reason
        return self.note

    def location(self) -> tuple[str | None, int | None]:
        """The file and line a CI annotation should point at: the contract (at the failing
        keyword when known), else the handoff's line in teamrel.yaml."""
        if self.hint is not None:
            return self.hint
        if self.contract and not self.contract.startswith("urn:"):
            return self.contract, 1
        if self.source is not None:
            return self.source.file, self.source.line
        return None, None

    def to_json(self) -> JsonObject:
        """Stable JSON form (see docs/check.md)."""
        file, line = self.location()
        return {
            "key": self.key,
            "kind": self.kind,
            "producer": self.producer.to_json(),
            "consumer": self.consumer.to_json(),
            "contract": self.contract,
            "verdict": self.verdict,
            "first_problem": self.first_problem(),
            "note": self.note,
            "file": file,
            "line": line,
            "hint": self.hint is not None,
            "source": (
                {"file": self.source.file, "line": self.source.line} if self.source else None
            ),
            "steps": [s.to_json() for s in self.steps],
            **({"compat_mode": self.compat_mode.to_json()} if self.compat_mode is not None else {}),
            **({"flag_state": self.flag_state} if self.flag_state is not None else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON], *, remembered: bool = True) -> EdgeResult:
        """The inverse of `to_json` (`remembered`: see `StepResult.from_json`)."""
        src = d["source"]
        return cls(
            key=str(d["key"]),
            kind=str(d["kind"]),
            producer=EdgeEnd.from_json(d["producer"]),
            consumer=EdgeEnd.from_json(d["consumer"]),
            contract=d["contract"],
            verdict=d["verdict"],
            steps=tuple(StepResult.from_json(x, remembered=remembered) for x in d["steps"]),
            note=d["note"],
            source=Source(file=src["file"], line=src["line"]) if src else None,
            hint=(d["file"], d["line"]) if d.get("hint") else None,
            compat_mode=ModePair.from_json(d["compat_mode"]) if "compat_mode" in d else None,
            flag_state=d.get("flag_state"),
        )


@dataclass(frozen=True, slots=True)
class CheckWarning:
    """A finding that never fails the check: a scorecard that measured another configuration
    than its member's current one (`stale-scorecard`)."""

    code: Literal["stale-scorecard"]
    member: str
    suite: str
    file: str  # workspace-relative path of the scorecard
    message: str

    def to_json(self) -> JsonObject:
        """Stable JSON form (`warnings[]` of the check document)."""
        return {
            "code": self.code,
            "member": self.member,
            "suite": self.suite,
            "file": self.file,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> CheckWarning:
        """The inverse of `to_json`."""
        return cls(d["code"], str(d["member"]), str(d["suite"]), str(d["file"]), str(d["message"]))


@dataclass(frozen=True, slots=True)
class LiveReleaseRef:
    """A release the compatibility modes met: where it is live (or only retained)."""

    release: str
    digest: str
    where: tuple[str, ...]
    retained_only: bool

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "release": self.release,
            "digest": self.digest,
            "where": list(self.where),
            "retained_only": self.retained_only,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> LiveReleaseRef:
        """The inverse of `to_json`."""
        where = tuple(str(w) for w in d["where"])
        return cls(str(d["release"]), str(d["digest"]), where, bool(d["retained_only"]))


@dataclass(frozen=True, slots=True)
class ModesReport:
    """What the declared compatibility modes added to a check (`compat_modes` in the JSON):
    the live releases considered and how many pairs each direction added."""

    live_releases: tuple[LiveReleaseRef, ...]
    backward: int = 0
    forward: int = 0

    def to_json(self) -> JsonObject:
        """Stable JSON form (`added` keeps the direction names as keys)."""
        return {
            "live_releases": [r.to_json() for r in self.live_releases],
            "added": {"backward": self.backward, "forward": self.forward},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> ModesReport:
        """The inverse of `to_json`."""
        live = tuple(LiveReleaseRef.from_json(r) for r in d["live_releases"])
        added = d["added"]
        return cls(live, int(added["backward"]), int(added["forward"]))


@dataclass(frozen=True, slots=True)
class ProofStats:
    """How the containment proofs of one prover were answered (`Prover.stats`)."""

    checks: int = 0
    computed: int = 0
    cache_hits: int = 0
    deduped: int = 0

    @classmethod
    def of(cls, counts: Mapping[str, int]) -> ProofStats:
        """From the prover's counters."""
        return cls(
            counts.get("checks", 0),
            counts.get("computed", 0),
            counts.get("cache_hits", 0),
            counts.get("deduped", 0),
        )


@dataclass(frozen=True, slots=True)
class CheckStats:
    """What a check cost: its proofs, those of the compatibility modes' pairs, and whether
    the whole report was the remembered one (`teamrel.reportcache`). Not in the JSON."""

    proofs: ProofStats = ProofStats()
    modes: ProofStats | None = None
    from_report_cache: bool = False


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """Counts per verdict, the engine version and whether the gate passed (`summary`)."""

    edges: int
    compatible: int
    incompatible: int
    unknown: int
    unchecked: int
    engine_version: str
    passed: bool

    def count(self, verdict: str) -> int:
        """The count of one verdict (`compatible`, `incompatible`, `unknown`, `unchecked`)."""
        counts = {
            "compatible": self.compatible,
            "incompatible": self.incompatible,
            "unknown": self.unknown,
            "unchecked": self.unchecked,
        }
        return counts[verdict]

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "edges": self.edges,
            "compatible": self.compatible,
            "incompatible": self.incompatible,
            "unknown": self.unknown,
            "unchecked": self.unchecked,
            "engine_version": self.engine_version,
            "passed": self.passed,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> CheckSummary:
        """The inverse of `to_json`."""
        return cls(
            int(d["edges"]),
            int(d["compatible"]),
            int(d["incompatible"]),
            int(d["unknown"]),
            int(d["unchecked"]),
            str(d["engine_version"]),
            bool(d["passed"]),
        )


@dataclass(frozen=True, slots=True)
class HandoffVerdict:
    """A handoff's worst verdict and where it was found (`proved_in`; None: the default
    state)."""

    verdict: Verdict
    proved_in: str | None = None


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Everything `teamrel check` found; `passed` applies the unknown policy."""

    team: str
    edges: tuple[EdgeResult, ...]
    unknown: UnknownPolicy = "fail"
    format_assertion: bool = False
    selected: tuple[str, ...] | None = None  # members selected, None for the whole team
    base: BaseRef | None = None  # the base pinned members came from (--against)
    pinned: tuple[str, ...] = ()
    stats: CheckStats = CheckStats()
    #: findings that never fail the check (`stale-scorecard`)
    warnings: tuple[CheckWarning, ...] = ()
    #: declared compatibility modes: the live releases considered and the pairs added per
    #: mode (`compat_modes` in the JSON; absent when no handoff declares a mode)
    modes: ModesReport | None = None
    #: the flag states proved besides the default (`prove_flag_states`), None without flags
    flags: FlagsReport | None = None

    def count(self, verdict: Verdict) -> int:
        """How many edges have this verdict."""
        return sum(1 for e in self.edges if e.verdict == verdict)

    def handoff_verdicts(self) -> dict[str, HandoffVerdict]:
        """Each handoff's worst verdict over every state it was proved in (the default, each
        flag state, each compatibility-mode pair), and where it was found: what a drawing of
        the graph colours an edge by, so a broken flag state is not hidden by a green default."""
        out: dict[str, HandoffVerdict] = {}
        for e in self.edges:
            seen = out.get(e.handoff)
            if seen is None or _SEVERITY[e.verdict] > _SEVERITY[seen.verdict]:
                out[e.handoff] = HandoffVerdict(e.verdict, e.proved_in)
        return out

    @property
    def passed(self) -> bool:
        """No incompatible edge, and no unknown one unless unknowns only warn."""
        if self.count("incompatible"):
            return False
        return not (self.unknown == "fail" and self.count("unknown"))

    def summary(self) -> CheckSummary:
        """Counts per verdict, the engine version and whether the gate passed."""
        return CheckSummary(
            edges=len(self.edges),
            compatible=self.count("compatible"),
            incompatible=self.count("incompatible"),
            unknown=self.count("unknown"),
            unchecked=self.count("unchecked"),
            engine_version=compat.ENGINE_VERSION,
            passed=self.passed,
        )

    def to_json(self) -> JsonObject:
        """The `teamrel check --format json` document (format_version 1, docs/check.md)."""
        return {
            "format_version": CHECK_FORMAT_VERSION,
            "team": self.team,
            "passed": self.passed,
            "unknown_policy": self.unknown,
            "format_assertion": self.format_assertion,
            "selected_members": list(self.selected) if self.selected is not None else None,
            "base": self.base.to_json() if self.base is not None else None,
            "pinned_members": list(self.pinned),
            "summary": self.summary().to_json(),
            "edges": [e.to_json() for e in self.edges],
            "warnings": [w.to_json() for w in self.warnings],
            **({"compat_modes": self.modes.to_json()} if self.modes is not None else {}),
            **({"flags": self.flags.to_json()} if self.flags is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class PlanCheck:
    """The check results a plan document embeds (`handoffs`, `flags` and the `compat_modes`
    section with its `pairs`), read back as the check's types: the plan renderers read
    attributes whether the plan was just built or loaded from a file. (`summary.handoffs`
    is `CheckSummary.from_json`, read where a renderer shows the counts.)"""

    edges: tuple[EdgeResult, ...]
    flags: FlagsReport | None = None
    modes: ModesReport | None = None
    pairs: tuple[EdgeResult, ...] = ()

    @classmethod
    def of(cls, plan: Plan) -> PlanCheck:
        """The check results of `plan` (KeyError/TypeError on a malformed document)."""
        section = plan.compat_modes
        pairs: Any = section.get("pairs") or [] if section is not None else []
        return cls(
            edges=tuple(EdgeResult.from_json(e, remembered=False) for e in plan.handoffs),
            flags=FlagsReport.from_json(plan.flags) if plan.flags is not None else None,
            modes=ModesReport.from_json(section) if section is not None else None,
            pairs=tuple(EdgeResult.from_json(e, remembered=False) for e in pairs),
        )


# --------------------------------------------------------------------------- the prover


class Prover:
    """Runs (and dedupes, and caches) the containment checks of one invocation."""

    def __init__(self, cache: ResultCache, *, format_assertion: bool) -> None:
        self.cache = cache
        self.format_assertion = format_assertion
        self._digests: dict[int, tuple[SchemaDoc, str]] = {}
        self._by_content: dict[tuple[Any, ...], tuple[SchemaDoc, str]] = {}
        self._semantic: dict[Any, tuple[SchemaDoc, str]] = {}
        self._rows: dict[tuple[str, str, str, str, str], StepResult] = {}
        self._memo: dict[tuple[str, str], StepResult] = {}
        self.stats = {"checks": 0, "computed": 0, "cache_hits": 0, "deduped": 0}
        opts = json.dumps({"format_assertion": format_assertion}, sort_keys=True)
        self._salt = f"{compat.ENGINE_VERSION}\0{opts}"

    def digest(self, doc: SchemaDoc) -> str:
        """The cache-key digest of a schema document (memoised: by object, then by content
        identity, since edges share the member's and the contract file's parsed JSON)."""
        hit = self._digests.get(id(doc))
        if hit is None:
            # The documents are kept alive in the memo values, so their ids stay unique.
            ident = (doc.uri, id(doc.schema_), *((k, id(v)) for k, v in doc.resources.items()))
            shared = self._by_content.get(ident)
            if shared is None:
                shared = (doc, fast_digest(doc))
                self._by_content[ident] = shared
            hit = (doc, shared[1])
            self._digests[id(doc)] = hit
        return hit[1]

    def semantic_digest(self, doc: SchemaDoc) -> str:
        """The digest of a schema document without its annotations (title, description...,
        see `teamrel.compat.annotations`): equal for two documents that accept the same values
        and differ only there; the content digest when annotations cannot be set apart."""
        hit = self._semantic.get(id(doc))
        if hit is None:
            ident = (doc.uri, id(doc.schema_), *((k, id(v)) for k, v in doc.resources.items()))
            hit = self._semantic.get(ident)
        if hit is None:
            fp = semantic_fingerprint(doc)
            digest = (
                "s" + hashlib.sha256(fp.encode("utf-8")).hexdigest()
                if fp is not None
                else self.digest(doc)
            )
            # the document is kept alive in the value, so its id stays unique
            hit = (doc, digest)
            self._semantic[ident] = hit
        self._semantic[id(doc)] = hit
        return hit[1]

    def prove(self, step: str, left: SchemaDoc, right: SchemaDoc) -> StepResult:
        """left ⊆ right, from the memo, the cache, or the engine (memo and cache are keyed by
        the documents' semantic digests: an edit of annotations only is not proved again)."""
        self.stats["checks"] += 1
        dl, dr = self.semantic_digest(left), self.semantic_digest(right)
        memo = self._memo.get((dl, dr))
        if memo is not None:
            self.stats["deduped"] += 1
            row_key = (step, left.uri, right.uri, dl, dr)
            row = self._rows.get(row_key)
            if row is None:
                row = dataclasses.replace(memo, step=step, left=left.uri, right=right.uri)
                self._rows[row_key] = row
            return row
        if dl == dr:
            why = "identical schemas" if self.digest(left) == self.digest(right) else None
            why = why or "identical schemas but for annotations (title, description, ...)"
            res = StepResult(step, left.uri, right.uri, "compatible", reason=why)
        else:
            key = hashlib.sha256(f"{self._salt}\0{dl}\0{dr}".encode()).hexdigest()
            cached = self._cached(key, step, left, right)
            res = cached if cached is not None else self._computed(key, step, left, right)
        self._memo[(dl, dr)] = res
        return res

    def _cached(self, key: str, step: str, left: SchemaDoc, right: SchemaDoc) -> StepResult | None:
        """The proof the result cache holds under `key`, if it holds a definite verdict
        (None for anything else, a corrupt entry included: the engine proves it again)."""
        doc = self.cache.get(key)
        if doc is None:
            return None
        try:
            res = StepResult(
                step,
                left.uri,
                right.uri,
                doc["verdict"],
                tuple(problem_from_json(p) for p in doc["problems"]),
                doc["witness"],
                bool(doc["has_witness"]),
                doc["reason"],
                cached=True,
            )
        except (KeyError, TypeError, ValueError):
            return None  # a corrupt entry: recompute
        if res.verdict not in ("compatible", "incompatible"):
            return None
        self.stats["cache_hits"] += 1
        return res

    def _computed(self, key: str, step: str, left: SchemaDoc, right: SchemaDoc) -> StepResult:
        """The engine's proof of left ⊆ right, put in the result cache under `key` when it
        is definite."""
        self.stats["computed"] += 1
        r, reason = self._run_engine(left, right)
        if r is None:
            return StepResult(step, left.uri, right.uri, "unknown", reason=reason)
        if r.verdict in ("compatible", "incompatible"):
            self.cache.put(key, result_to_json(r))
        return StepResult(
            step,
            left.uri,
            right.uri,
            r.verdict,
            tuple(r.problems),
            r.witness if r.has_witness else None,
            r.has_witness,
            r.reason,
        )

    def _run_engine(
        self, left: SchemaDoc, right: SchemaDoc
    ) -> tuple[compat.CompatResult | None, str]:
        """`compat.check(left, right)`, or None and why when the engine failed on the pair
        (an engine bug must fail the edge, not crash the gate). Bad input (e.g. an invalid
        `pattern`) raises, saying which proof needed it: exit 3."""
        try:
            return compat.check(left, right, format_assertion=self.format_assertion), ""
        except SchemaError as err:
            raise type(err)(
                f"{err.message} (while proving {left.uri} ⊆ {right.uri})",
                uri=err.uri,
                pointer=err.pointer,
            ) from None
        except TeamrelError:
            raise
        except RecursionError:
            return None, "the compatibility engine ran out of stack on this pair"
        except Exception as err:
            return None, f"internal error in the compatibility engine: {type(err).__name__}: {err}"


def _contract_label(doc: SchemaDoc | None) -> str | None:
    if doc is None:
        return None
    return doc.uri.removeprefix("file:///")


def _end(ws: Workspace, name: str, pinned: Collection[str]) -> EdgeEnd:
    m = ws.members.get(name)
    return EdgeEnd(name, m.version if m else None, name in pinned)


def _tool_evolution(
    h: ResolvedHandoff, base: Mapping[str, ResolvedMember], prover: Prover
) -> tuple[list[StepResult], str | None]:
    """An undeclared tool side: prove the tool's own evolution against the base's pin."""
    tool = h.consumer if h.kind == "tool-call" else h.producer
    old = base.get(tool)
    which: Literal["input", "output"] = "input" if h.kind == "tool-call" else "output"
    if old is None:
        agent = h.producer if h.kind == "tool-call" else h.consumer
        what = "call" if h.kind == "tool-call" else "result"
        return [], (
            f"{agent} declares no `{what}` schema for {tool} and no base release pins {tool}"
        )
    old_doc = old.schema_doc(which)
    new_doc = h.consumer_schema if h.kind == "tool-call" else h.producer_schema
    if old_doc is None or new_doc is None:
        return [], f"{tool} declares no {which} schema"
    if which == "input":
        # the agent sends what the pinned tool accepted: the new tool must accept all of it
        return [prover.prove("tool-input-evolution", old_doc, new_doc)], None
    # the agent expects what the pinned tool returned: the new tool must return no more
    return [prover.prove("tool-output-evolution", new_doc, old_doc)], None


def _contract_hint(
    root: Path, contract: SchemaDoc | None, steps: list[StepResult]
) -> tuple[str, int] | None:
    """Where in the contract the first problem is: the file and line of the rejecting keyword
    (best effort: None when it cannot be located)."""
    if contract is None or not contract.uri.startswith("file:///"):
        return None
    for s in steps:
        if s.verdict != "incompatible" or not s.problems:
            continue
        p = s.problems[0]
        if s.step == "producer-contract":
            where, side = p.consumer_location, "consumer#"
        elif s.step == "contract-consumer":
            where, side = p.producer_location, "producer#"
        else:
            continue
        uri, _, pointer = where.partition("#")
        rel = contract.uri if f"{uri}#" == side else uri
        if not rel.startswith("file:///"):
            return None
        rel = rel.removeprefix("file:///")
        if rel.startswith("/") or ".." in Path(rel).parts:
            return None
        try:
            doc = parse_yaml((root / rel).read_text(encoding="utf-8"), rel)
        except (OSError, UnicodeDecodeError, TeamrelError, RecursionError):
            return None
        line = doc.line_of(pointer)
        return (rel, line) if line else (rel, 1)
    return None


def _schema_steps(
    h: ResolvedHandoff, prover: Prover, base: Mapping[str, ResolvedMember] | None
) -> tuple[list[StepResult], str | None]:
    """The containment steps of an edge's declared schemas (a tool side left undeclared is
    proved through the tool's evolution from `base`), and a note when a side is missing."""
    p, k, c = h.producer_schema, h.contract, h.consumer_schema
    steps: list[StepResult] = []
    note: str | None = None
    if p is not None and c is not None:
        if k is not None:
            steps.append(prover.prove("producer-contract", p, k))
            steps.append(prover.prove("contract-consumer", k, c))
        else:
            steps.append(prover.prove("producer-consumer", p, c))
    elif h.kind in ("tool-call", "tool-result") and (
        (h.kind == "tool-call" and p is None and c is not None)
        or (h.kind == "tool-result" and c is None and p is not None)
    ):
        steps, note = _tool_evolution(h, base or {}, prover)
    else:
        missing = "producer" if p is None else "consumer"
        note = f"the {missing} side of {h.key} declares no schema"
        if k is not None and (p is not None or c is not None):
            # the contract still constrains the side that is declared
            if p is not None:
                steps.append(prover.prove("producer-contract", p, k))
            if c is not None:
                steps.append(prover.prove("contract-consumer", k, c))
    return steps, note


def check_edge(
    ws: Workspace,
    h: ResolvedHandoff,
    prover: Prover,
    *,
    base: Mapping[str, ResolvedMember] | None = None,
    pinned: Collection[str] = (),
) -> EdgeResult:
    """Prove one edge: producer ⊆ contract ⊆ consumer (or the tool's evolution)."""
    k = h.contract
    steps, note = _schema_steps(h, prover, base)
    if h.kind == "handoff":
        modes = _modes_step(ws, h)
        if modes is not None:
            steps.append(modes)
    verdict = worst(s.verdict for s in steps) if steps else "unchecked"
    if (
        note is not None
        and verdict == "compatible"
        and not any(s.step.startswith("tool-") for s in steps)
    ):
        verdict = "unchecked"
    hint = _contract_hint(ws.root, k, steps) if verdict == "incompatible" else None
    return EdgeResult(
        key=h.key,
        kind=h.kind,
        hint=hint,
        producer=_end(ws, h.producer, pinned),
        consumer=_end(ws, h.consumer, pinned),
        contract=_contract_label(k),
        verdict=verdict,
        steps=tuple(steps),
        note=note if not steps or verdict == "unchecked" else None,
        source=h.source,
    )


def _declared_modes(member: ResolvedMember | None, side: str) -> list[str] | None:
    modes = member.spec.get("modes") if member is not None else None
    got = modes.get(side) if isinstance(modes, dict) else None
    return [str(m) for m in got] if isinstance(got, list) and got else None


def _modes_step(ws: Workspace, h: ResolvedHandoff) -> StepResult | None:
    """The media-type step of a handoff: the producer's output modes and the consumer's input
    modes must share a media type (A2A input/output modes); None unless both declare them."""
    produced = _declared_modes(ws.members.get(h.producer), "output")
    accepted = _declared_modes(ws.members.get(h.consumer), "input")
    if produced is None or accepted is None:
        return None
    left, right = f"modes:{h.producer}/output", f"modes:{h.consumer}/input"
    if modes_intersect(produced, accepted):
        return StepResult("media-modes", left, right, "compatible")
    return StepResult(
        "media-modes",
        left,
        right,
        "incompatible",
        reason=(
            f"handoff {h.producer} -> {h.consumer}: no media type in common: "
            f"{h.producer} produces [{', '.join(produced)}], "
            f"{h.consumer} accepts [{', '.join(accepted)}]"
        ),
    )


def run_check(
    ws: Workspace,
    *,
    members: Collection[str] | None = None,
    unknown: UnknownPolicy = "fail",
    format_assertion: bool = False,
    cache_dir: Path | None = None,
    base: Mapping[str, ResolvedMember] | None = None,
    pinned: Collection[str] = (),
    base_info: BaseRef | None = None,
    prover: Prover | None = None,
    progress: Progress | None = None,
) -> CheckReport:
    """Prove every edge of `ws` (only those touching `members` when given).

    `base` maps member names to the versions a base release pins: an agent's undeclared tool
    `call`/`result` is then proved through the tool's evolution from that pin. `pinned`
    names the members that `ws` took from the base (shown in the output). A `prover` shares
    the cache and the dedupe memo with the caller (the plan); it is saved by its owner.
    `progress` is told how many of the edges are proved (see `teamrel.progress`).
    """
    if members is not None:
        unknown_names = sorted(set(members) - set(ws.members))
        if unknown_names:
            import difflib

            close = [
                c for n in unknown_names for c in difflib.get_close_matches(n, list(ws.members), 1)
            ]
            raise UsageError(
                f"--member: no member named {', '.join(map(repr, unknown_names))} in team "
                f"{ws.team.team}" + (f" (did you mean {close[0]!r}?)" if close else ""),
                hint=f"members: {', '.join(ws.members)}",
            )
    wanted = set(members) if members is not None else None
    own = prover is None
    if prover is None:
        prover = Prover(ResultCache(cache_dir), format_assertion=format_assertion)
    todo = [
        h for h in ws.handoffs if wanted is None or h.producer in wanted or h.consumer in wanted
    ]
    tick = Ticker(progress, PROVING, len(todo))
    edges: list[EdgeResult] = []
    for h in todo:
        edges.append(check_edge(ws, h, prover, base=base, pinned=pinned))
        tick.advance()
    tick.finish()
    if own:
        prover.cache.save()
    return CheckReport(
        team=ws.team.team,
        edges=tuple(edges),
        warnings=tuple(stale_warnings(ws, wanted, pinned)),
        unknown=unknown,
        format_assertion=format_assertion,
        selected=tuple(sorted(wanted)) if wanted is not None else None,
        base=base_info,
        pinned=tuple(sorted(pinned)),
        stats=CheckStats(ProofStats.of(prover.stats)),
    )


def stale_warnings(
    ws: Workspace, wanted: Collection[str] | None, pinned: Collection[str]
) -> list[CheckWarning]:
    """A warning per scorecard that measured another configuration than the member's current
    one (members taken from a base release are the base's business, not this change's)."""
    out: list[CheckWarning] = []
    for name, m in ws.members.items():
        if not m.scorecards or name in pinned or (wanted is not None and name not in wanted):
            continue
        for suite, message in stale_scorecards(name, m.spec, m.behaviour_digest):
            file = f"{SCORECARDS_DIR}/{name}/{suite}.json"
            out.append(CheckWarning("stale-scorecard", name, suite, file, message))
    return out


# --------------------------------------------------------------------------- selection


def _git(root: Path, *args: str) -> str:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {' '.join(args)} did not answer within 60 s") from None
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()
        first = msg[0] if msg else f"exit status {proc.returncode}"
        if "not a git repository" in proc.stderr:
            raise UsageError(
                f"--changed-since needs a git repository: {root} is not inside one",
                hint="use --member NAME to select members instead",
            )
        raise UsageError(f"git {' '.join(args)} failed: {first}")
    return proc.stdout


def schema_files(doc: SchemaDoc | None) -> set[str]:
    """The workspace files (relative paths) a schema document was read from."""
    if doc is None:
        return set()
    uris = [doc.uri, *doc.resources]
    return {u.removeprefix("file:///") for u in uris if u.startswith("file:///")}


def changed_since(ws: Workspace, ref: str, *, workspace_file: str = "teamrel.yaml") -> set[str]:
    """Members whose files changed since git `ref` (working tree, staged and untracked).

    A member is changed when one of its files (`ResolvedMember.files`: prompt, schemas)
    changed, when its entry in teamrel.yaml changed, or when a handoff touching it (its
    entry, or its contract's files) changed.
    """
    if ref.startswith("-"):
        raise UsageError(f"--changed-since {ref!r}: not a git revision")
    root = ws.root
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except UsageError as err:
        if "needs" in err.message:  # no git, or not a repository: already clear
            raise
        raise UsageError(
            f"--changed-since {ref!r}: no such commit, branch or tag in the git repository "
            f"at {root}",
            hint="in CI, fetch enough history (e.g. `git fetch origin main`, or "
            "actions/checkout with fetch-depth: 0)",
        ) from None
    out = _git(root, "diff", "--name-only", "--relative", "--no-renames", ref, "--", ".")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".")
    changed_files = {line.strip() for line in (out + untracked).splitlines() if line.strip()}
    result: set[str] = set()
    for name, m in ws.members.items():
        if changed_files.intersection(m.files):
            result.add(name)
    for h in ws.handoffs:
        files = schema_files(h.contract)
        if h.kind == "handoff" and changed_files & files:
            result.update((h.producer, h.consumer))
    if workspace_file in changed_files:
        result |= _yaml_entry_changes(ws, ref, workspace_file)
    return result


def _yaml_entry_changes(ws: Workspace, ref: str, workspace_file: str) -> set[str]:
    """Members whose teamrel.yaml entry (or a handoff naming them) differs from `ref`'s."""
    try:
        old_text = _git(ws.root, "show", f"{ref}:./{workspace_file}")
    except UsageError:
        return set(ws.members)  # the file is new since ref: every member is new
    try:
        old = yaml.safe_load(old_text)
        new = yaml.safe_load((ws.root / workspace_file).read_text(encoding="utf-8"))
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return set(ws.members)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return set(ws.members)
    old_members = old.get("members") if isinstance(old.get("members"), dict) else {}
    new_members = new.get("members") if isinstance(new.get("members"), dict) else {}
    assert isinstance(old_members, dict) and isinstance(new_members, dict)
    result = {n for n in ws.members if old_members.get(n) != new_members.get(n)}

    def handoffs(doc: dict[str, Any]) -> list[str]:
        raw = doc.get("handoffs")
        items = raw if isinstance(raw, list) else []
        return [json.dumps(h, sort_keys=True, default=str) for h in items]

    old_h, new_h = handoffs(old), handoffs(new)
    for text in set(old_h).symmetric_difference(new_h):
        h = json.loads(text)
        if isinstance(h, dict):
            result.update(str(h[k]) for k in ("from", "to") if k in h and h[k] in ws.members)
    if old.get("policy") != new.get("policy"):
        result |= set(ws.members)  # policy changes how every edge is judged
    return result


def changed_against(ws: Workspace, base: Mapping[str, ResolvedMember]) -> set[str]:
    """Members of `ws` that are new, or whose digest differs from the base's."""
    return {n for n, m in ws.members.items() if n not in base or base[n].digest != m.digest}


# --------------------------------------------------------------------------- flag states
#
# With `flags:` declared, the default state's check is followed by each state
# `teamrel.flags.explore` picks, proved on the edges its flipped flags touch (the rest of the
# graph is the default state's, already proved) with the same `Prover`, so a schema pair met
# in several states is proved once (and comes from the on-disk digest-pair cache across
# runs). Each edge proved in a state joins the report under a key naming the state ("with
# `refund_v2` on: refunds->responder"), so every output format names it; `report.flags`
# lists the states, whether each passed, and the combinations the bounds left out.


def default_workspace(ws: Workspace) -> Workspace:
    """The team graph with every flag at its default (`ws` itself without flags)."""
    return state_workspace(ws, {}) if ws.team.flags else ws


def prove_flag_states(
    ws: Workspace,
    report: CheckReport,
    prover: Prover,
    *,
    members: Collection[str] | None = None,
    base: Mapping[str, ResolvedMember] | None = None,
    pinned: Collection[str] = (),
) -> tuple[CheckReport, Exploration | None]:
    """Add the edges of every explored flag state to `report` (see the module docstring);
    returns the report and what was explored (None without flags)."""
    flags = ws.team.flags
    if not flags:
        return report, None
    exploration = explore(ws)
    touched = {name: touched_edges(ws, spec) for name, spec in flags.items()}
    wanted = set(members) if members is not None else None
    states: list[FlagStateResult] = []
    added: list[EdgeResult] = []
    for flips in exploration.states:
        keys = set().union(*(touched[f] for f in flips))
        sws, state_edges_ = state_edges(ws, flips, keys)
        name = label(flips)
        edges = []
        for h in state_edges_:
            if wanted is not None and h.producer not in wanted and h.consumer not in wanted:
                continue
            e = check_edge(sws, h, prover, base=base, pinned=pinned)
            edges.append(dataclasses.replace(e, key=f"{name}: {e.key}", flag_state=dict(flips)))
        bad = [e for e in edges if e.verdict == "incompatible"]
        unknown = [e for e in edges if e.verdict == "unknown"]
        passed = not bad and not (report.unknown == "fail" and unknown)
        states.append(
            FlagStateResult(name, dict(flips), len(edges), len(bad), len(unknown), passed)
        )
        added.extend(edges)
    proved = FlagsReport(
        declared=tuple(sorted(flags)),
        states=tuple(states),
        groups=tuple(tuple(g) for g in exploration.groups),
        unexplored=exploration.unexplored_count,
        unexplored_examples=tuple(label(f) for f in exploration.unexplored),
        group_flags=MAX_GROUP_FLAGS,
        max_states=MAX_FLAG_STATES,
    )
    stats = dataclasses.replace(report.stats, proofs=ProofStats.of(prover.stats))
    report = dataclasses.replace(report, edges=(*report.edges, *added), stats=stats, flags=proved)
    return report, exploration


def proven_states(report: CheckReport) -> list[tuple[dict[str, bool], bool]]:
    """(flips, passed) of every flag state the report proved (for the manifest)."""
    if report.flags is None:
        return []
    return [(dict(s.flags), s.passed) for s in report.flags.states]
