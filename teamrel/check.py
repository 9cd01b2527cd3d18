"""`teamrel check`: prove every handoff of a workspace, the CI gate.

Owns: `run_check` (every edge proved as producer ⊆ contract ⊆ consumer, one compat check per
step, the edge's verdict the worst of its steps), the report it returns (`CheckReport`,
`EdgeResult`, `StepResult`, their stable JSON), the on-disk result cache
(`<workspace>/.teamrel/cache/`), the selection of members (`changed_since` via git,
`changed_against` a base), and `load_base`: the release a check or a plan is measured
against (an environment's live manifest, a manifest file, the newest manifest under
`manifests/<team>/`, or nothing). The report also carries warnings that never fail it: a
scorecard whose stamped behavioural digest is not its member's current one (`stale-scorecard`).

The cache never changes a verdict: it only stores proven answers (compatible, or incompatible
with a witness), keyed by both schemas' content, the engine version and the options; an
`unknown` is recomputed every time (it may depend on the time budget).

With `flags:` declared, `prove_flag_states` proves every flag state `teamrel.flags.explore`
picks after the default state (see the section at the end of this module).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import subprocess
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from teamrel import compat
from teamrel.canonical import JSON
from teamrel.compat import semantic_fingerprint
from teamrel.errors import InputError, SchemaError, TeamrelError, UsageError
from teamrel.fileio import atomic_write
from teamrel.flags import (
    MAX_FLAG_STATES,
    MAX_GROUP_FLAGS,
    Exploration,
    explore,
    label,
    state_edges,
    state_workspace,
    touched_edges,
)
from teamrel.models import (
    NAME_RE,
    ResolvedHandoff,
    ResolvedMember,
    SchemaDoc,
    Source,
    modes_intersect,
)
from teamrel.progress import PROVING, Progress, Ticker
from teamrel.scorecard import SCORECARDS_DIR, stale_scorecards
from teamrel.workspace import Workspace
from teamrel.yamlsrc import parse_yaml

#: Version of the `teamrel check --format json` document.
CHECK_FORMAT_VERSION = 1
#: Version of the cache file layout (entries are keyed by engine version as well).
CACHE_FORMAT_VERSION = 1
#: Version of the remembered report (2: it carries warnings, and scorecards are its inputs).
REPORT_FORMAT_VERSION = 2
CACHE_FILE = "compat-results.json"
#: Most cache entries kept; the ones used by the latest run are kept first.
CACHE_MAX_ENTRIES = 30_000

Verdict = Literal["compatible", "incompatible", "unknown", "unchecked"]
UnknownPolicy = Literal["fail", "warn"]

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


@dataclass(frozen=True)
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

    def to_json(self) -> dict[str, Any]:
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
    def from_json(cls, d: Mapping[str, Any]) -> StepResult:
        """The inverse of `to_json` (KeyError/TypeError on a malformed document)."""
        return cls(
            str(d["step"]),
            str(d["left"]),
            str(d["right"]),
            d["verdict"],
            tuple(_problem_from_json(p) for p in d["problems"]),
            d["witness"],
            bool(d["has_witness"]),
            d["reason"],
            cached=True,
        )


@dataclass(frozen=True)
class EdgeEnd:
    """One end of an edge: the member, its version, and whether a base pinned it."""

    name: str
    version: str | None
    pinned: bool = False

    def label(self) -> str:
        """`name@version`, marked when pinned by the base."""
        s = f"{self.name}@{self.version}" if self.version else self.name
        return f"{s} (pinned)" if self.pinned else s

    def to_json(self) -> dict[str, Any]:
        """Stable JSON form."""
        return {"name": self.name, "version": self.version, "pinned": self.pinned}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> EdgeEnd:
        """The inverse of `to_json`."""
        return cls(str(d["name"]), d["version"], bool(d["pinned"]))


@dataclass(frozen=True)
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
    #: a pair added by a handoff's `compat:` mode (mode, transitive, direction, handoff,
    #: releases): absent from the JSON of every atomic edge (see `teamrel.meet`)
    compat_mode: dict[str, Any] | None = None
    #: proved in this flag state (flags flipped from their defaults), None: the default state
    flag_state: dict[str, bool] | None = None

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

    def to_json(self) -> dict[str, Any]:
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
            **({"compat_mode": self.compat_mode} if self.compat_mode is not None else {}),
            **({"flag_state": self.flag_state} if self.flag_state is not None else {}),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> EdgeResult:
        """The inverse of `to_json`."""
        src = d["source"]
        return cls(
            key=str(d["key"]),
            kind=str(d["kind"]),
            producer=EdgeEnd.from_json(d["producer"]),
            consumer=EdgeEnd.from_json(d["consumer"]),
            contract=d["contract"],
            verdict=d["verdict"],
            steps=tuple(StepResult.from_json(x) for x in d["steps"]),
            note=d["note"],
            source=Source(file=src["file"], line=src["line"]) if src else None,
            hint=(d["file"], d["line"]) if d.get("hint") else None,
            compat_mode=d.get("compat_mode"),
            flag_state=d.get("flag_state"),
        )


@dataclass
class CheckReport:
    """Everything `teamrel check` found; `passed` applies the unknown policy."""

    team: str
    edges: list[EdgeResult]
    unknown: UnknownPolicy = "fail"
    format_assertion: bool = False
    selected: list[str] | None = None  # members selected, None for the whole team
    base: dict[str, Any] | None = None  # the base pinned members came from (--against)
    pinned: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    #: findings that never fail the check: `stale-scorecard` (code, member, suite, file, message)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: declared compatibility modes: the live releases considered and the pairs added per
    #: mode (`compat_modes` in the JSON; absent when no handoff declares a mode)
    modes: dict[str, Any] | None = None
    #: the flag states proved besides the default (`prove_flag_states`), None without flags
    flags: dict[str, Any] | None = None

    def count(self, verdict: Verdict) -> int:
        """How many edges have this verdict."""
        return sum(1 for e in self.edges if e.verdict == verdict)

    @property
    def passed(self) -> bool:
        """No incompatible edge, and no unknown one unless unknowns only warn."""
        if self.count("incompatible"):
            return False
        return not (self.unknown == "fail" and self.count("unknown"))

    def summary(self) -> dict[str, Any]:
        """Counts per verdict, the engine version and whether the gate passed."""
        return {
            "edges": len(self.edges),
            "compatible": self.count("compatible"),
            "incompatible": self.count("incompatible"),
            "unknown": self.count("unknown"),
            "unchecked": self.count("unchecked"),
            "engine_version": compat.ENGINE_VERSION,
            "passed": self.passed,
        }

    def to_json(self) -> dict[str, Any]:
        """The `teamrel check --format json` document (format_version 1, docs/check.md)."""
        return {
            "format_version": CHECK_FORMAT_VERSION,
            "team": self.team,
            "passed": self.passed,
            "unknown_policy": self.unknown,
            "format_assertion": self.format_assertion,
            "selected_members": self.selected,
            "base": self.base,
            "pinned_members": self.pinned,
            "summary": self.summary(),
            "edges": [e.to_json() for e in self.edges],
            "warnings": self.warnings,
            **({"compat_modes": self.modes} if self.modes is not None else {}),
            **({"flags": self.flags} if self.flags is not None else {}),
        }


# --------------------------------------------------------------------------- cache


def _fast_digest(doc: SchemaDoc) -> str:
    # Only a cache key: it must be deterministic and injective, not canonical, so the C
    # json encoder does (an order of magnitude faster than the canonical encoder).
    text = json.dumps(doc.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _result_to_json(r: compat.CompatResult) -> dict[str, Any]:
    return {
        "verdict": r.verdict,
        "witness": r.witness if r.has_witness else None,
        "has_witness": r.has_witness,
        "reason": r.reason,
        "problems": [dataclasses.asdict(p) for p in r.problems],
    }


_PROBLEM_FIELDS = frozenset(f.name for f in dataclasses.fields(compat.Problem))


def _problem_from_json(d: Mapping[str, Any]) -> compat.Problem:
    return compat.Problem(**{k: v for k, v in d.items() if k in _PROBLEM_FIELDS})


class ResultCache:
    """Proven compat results on disk: one JSON file loaded once, written once, atomically.

    Safe to delete; a corrupt or foreign file is ignored (and replaced on the next write).
    Concurrent runs may each write; the last writer wins and the others' new entries are
    merged in when the file is re-read just before writing.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._entries: dict[str, dict[str, Any]] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self._used: set[str] = set()
        if directory is not None:
            self._entries = self._read(directory / CACHE_FILE)

    @staticmethod
    def _read(path: Path) -> dict[str, dict[str, Any]]:
        try:
            doc = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(doc, dict) or doc.get("format_version") != CACHE_FORMAT_VERSION:
            return {}
        entries = doc.get("entries")
        if not isinstance(entries, dict):
            return {}
        return {k: v for k, v in entries.items() if isinstance(v, dict)}

    def get(self, key: str) -> dict[str, Any] | None:
        """A cached result document, or None."""
        hit = self._new.get(key) or self._entries.get(key)
        if hit is not None:
            self._used.add(key)
        return hit

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Remember a proven result (written by `save`)."""
        self._new[key] = value
        self._used.add(key)

    def save(self) -> None:
        """Write new entries (merged with what is on disk now); errors are ignored."""
        if self.directory is None or not self._new:
            return
        with contextlib.suppress(OSError):
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / CACHE_FILE
            merged = self._read(path)
            merged.update(self._entries)
            merged.update(self._new)
            if len(merged) > CACHE_MAX_ENTRIES:
                keep = [k for k in merged if k in self._used]
                keep += [k for k in merged if k not in self._used]
                merged = {k: merged[k] for k in keep[:CACHE_MAX_ENTRIES]}
            data = json.dumps(
                {"format_version": CACHE_FORMAT_VERSION, "entries": merged},
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode("utf-8")
            atomic_write(path, data, durable=False)
            self._entries = merged
            self._new = {}


# --------------------------------------------------------------------------- report cache

#: The last full report and the content digest of every file it was computed from.
REPORT_FILE = "check-report.json"
#: Bumped whenever what a report holds changes, so an older cached report is not served.
REPORT_CACHE_VERSION = 2


def _input_files(ws: Workspace) -> list[str]:
    """Every workspace file a check of `ws` depends on: teamrel.yaml, each member's files
    (prompt, schemas and every file they `$ref`) and each handoff contract's files."""
    files = {"teamrel.yaml"}
    for m in ws.members.values():
        files.update(m.files)
        # a scorecard's freshness is part of the report (its warnings)
        files.update(f"{SCORECARDS_DIR}/{m.name}/{suite}.json" for suite in m.scorecards)
    for h in ws.handoffs:
        for doc in (h.producer_schema, h.contract, h.consumer_schema):
            files |= _schema_files(doc)
    for variants in ws.variants.values():  # what the flag states were proved with
        for v in variants.values():
            files.update(v.files)
    return sorted(files)


def _fingerprint(root: Path, files: Iterable[str], opts: Mapping[str, Any]) -> str | None:
    h = hashlib.sha256(json.dumps(opts, sort_keys=True).encode())
    for rel in files:
        if rel.startswith("/") or ".." in Path(rel).parts:
            return None  # never read outside the workspace, whatever the cache file says
        try:
            data = (root / rel).read_bytes()
        except OSError:
            return None
        h.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\0".encode())
    return h.hexdigest()


def _listing(root: Path, rel_dir: str | None) -> list[str]:
    if not rel_dir:
        return []
    try:
        return sorted(f"{rel_dir}/{p.name}" for p in (root / rel_dir).glob("*.json"))
    except OSError:
        return []


def cached_report(root: Path, cache_dir: Path, opts: Mapping[str, Any]) -> CheckReport | None:
    """The previous report, when every file it was computed from is byte-identical and the
    engine version and options are the same; else None. Hashing the files is much cheaper
    than loading the workspace, so re-checking an unchanged team costs almost nothing."""
    try:
        doc = json.loads((cache_dir / REPORT_FILE).read_bytes())
        if doc.get("format_version") != REPORT_FORMAT_VERSION or doc.get("opts") != dict(opts):
            return None
        if _listing(root, doc["watch_dir"]) != doc["watch_listing"]:
            return None  # a release was added or removed: the base of tool edges moved
        if _fingerprint(root, doc["files"], opts) != doc["fingerprint"]:
            return None
        r = doc["report"]
        return CheckReport(
            team=str(r["team"]),
            edges=[EdgeResult.from_json(e) for e in r["edges"]],
            unknown=r["unknown_policy"],
            format_assertion=bool(r["format_assertion"]),
            selected=r["selected_members"],
            stats={"report_cache_hits": 1},
            warnings=list(r.get("warnings") or []),
            flags=r.get("flags"),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def save_report(
    ws: Workspace,
    cache_dir: Path,
    report: CheckReport,
    opts: Mapping[str, Any],
    *,
    uses_releases: bool = False,
) -> None:
    """Remember a report for `cached_report` (only a fully decided one). `uses_releases`:
    some edges were proved against the newest release, so the release files are inputs too."""
    if report.count("unknown"):
        return  # an unknown may depend on the time budget: always recompute it
    watch_dir = f"manifests/{ws.team.team}" if uses_releases else None
    watch_listing = _listing(ws.root, watch_dir)
    files = sorted({*_input_files(ws), *watch_listing})
    fingerprint = _fingerprint(ws.root, files, opts)
    if fingerprint is None:
        return
    doc = {
        "format_version": REPORT_FORMAT_VERSION,
        "opts": dict(opts),
        "files": files,
        "watch_dir": watch_dir,
        "watch_listing": watch_listing,
        "fingerprint": fingerprint,
        "report": report.to_json(),
    }
    with contextlib.suppress(OSError):
        data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        atomic_write(cache_dir / REPORT_FILE, data, durable=False)


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
                shared = (doc, _fast_digest(doc))
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
            self._memo[(dl, dr)] = res
            return res
        key = hashlib.sha256(f"{self._salt}\0{dl}\0{dr}".encode()).hexdigest()
        doc = self.cache.get(key)
        if doc is not None:
            try:
                res = StepResult(
                    step,
                    left.uri,
                    right.uri,
                    doc["verdict"],
                    tuple(_problem_from_json(p) for p in doc["problems"]),
                    doc["witness"],
                    bool(doc["has_witness"]),
                    doc["reason"],
                    cached=True,
                )
                if res.verdict in ("compatible", "incompatible"):
                    self.stats["cache_hits"] += 1
                    self._memo[(dl, dr)] = res
                    return res
            except (KeyError, TypeError, ValueError):
                pass  # a corrupt entry: recompute
        self.stats["computed"] += 1
        try:
            r = compat.check(left, right, format_assertion=self.format_assertion)
        except SchemaError as err:
            # bad input (e.g. an invalid `pattern`): exit 3, saying which proof needed it
            raise type(err)(
                f"{err.message} (while proving {left.uri} ⊆ {right.uri})",
                uri=err.uri,
                pointer=err.pointer,
            ) from None
        except TeamrelError:
            raise
        except RecursionError:
            r = None
            reason = "the compatibility engine ran out of stack on this pair"
        except Exception as err:  # an engine bug must fail the edge, not crash the gate
            r = None
            reason = f"internal error in the compatibility engine: {type(err).__name__}: {err}"
        if r is None:
            res = StepResult(step, left.uri, right.uri, "unknown", reason=reason)
        else:
            res = StepResult(
                step,
                left.uri,
                right.uri,
                r.verdict,
                tuple(r.problems),
                r.witness if r.has_witness else None,
                r.has_witness,
                r.reason,
            )
            if r.verdict in ("compatible", "incompatible"):
                self.cache.put(key, _result_to_json(r))
        self._memo[(dl, dr)] = res
        return res


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


def check_edge(
    ws: Workspace,
    h: ResolvedHandoff,
    prover: Prover,
    *,
    base: Mapping[str, ResolvedMember] | None = None,
    pinned: Collection[str] = (),
) -> EdgeResult:
    """Prove one edge: producer ⊆ contract ⊆ consumer (or the tool's evolution)."""
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
    base_info: dict[str, Any] | None = None,
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
        edges=edges,
        warnings=stale_warnings(ws, wanted, pinned),
        unknown=unknown,
        format_assertion=format_assertion,
        selected=sorted(wanted) if wanted is not None else None,
        base=base_info,
        pinned=sorted(pinned),
        stats=dict(prover.stats),
    )


def stale_warnings(
    ws: Workspace, wanted: Collection[str] | None, pinned: Collection[str]
) -> list[dict[str, Any]]:
    """A warning per scorecard that measured another configuration than the member's current
    one (members taken from a base release are the base's business, not this change's)."""
    out: list[dict[str, Any]] = []
    for name, m in ws.members.items():
        if not m.scorecards or name in pinned or (wanted is not None and name not in wanted):
            continue
        for suite, message in stale_scorecards(name, m.spec, m.behaviour_digest):
            out.append(
                {
                    "code": "stale-scorecard",
                    "member": name,
                    "suite": suite,
                    "file": f"{SCORECARDS_DIR}/{name}/{suite}.json",
                    "message": message,
                }
            )
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


def _schema_files(doc: SchemaDoc | None) -> set[str]:
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
        files = _schema_files(h.contract)
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


# --------------------------------------------------------------------------- base releases


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

    def to_json(self) -> dict[str, Any]:
        """What a plan records of its base (docs/plan-format.md)."""
        return {
            "kind": self.kind,
            "env": self.env,
            "manifest_digest": self.manifest_digest,
            "release": self.release,
            "path": self.path,
        }

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
    from teamrel.manifest import latest_manifest, read_manifest, read_snapshot

    root, team = ws.root, ws.team.team
    known = {m.digest: m for m in ws.members.values()}

    def file_loader(digest: str) -> ResolvedMember:
        return read_snapshot(root, team, digest)

    if env is not None and manifest is not None:
        raise UsageError("give an environment or a manifest as the base, not both")
    if manifest is not None:
        path = find_manifest_path(root, team, manifest)
        if path is None:
            if manifest.endswith(".json") or "/" in manifest or os.sep in manifest:
                raise InputError(f"{manifest}: no such manifest file")
            raise UsageError(
                f"{manifest!r} is neither a manifest file nor a release under manifests/{team}/"
            )
        base_manifest = read_manifest(path)
        if base_manifest.team != team:
            # otherwise the first symptom is a "missing snapshot" under the wrong team's dir
            raise InputError(
                f"{path}: manifest of team {base_manifest.team!r}, but this workspace is "
                f"team {team!r}"
            )
        return _base_from_manifest(
            base_manifest, "manifest", file_loader, known, path=_rel(root, path)
        )
    if env is not None:
        declared = ws.team.environments
        if declared and env not in declared:
            raise UsageError(
                f"unknown environment {env!r}", hint=f"declared: {', '.join(sorted(declared))}"
            )
        if store_factory is None:
            raise UsageError(f"environment {env!r} needs the state store")
        store = store_factory()
        live = store.live_manifest(team, env)
        if live is None:
            return Base(kind="env", members={}, env=env)

        def store_loader(digest: str) -> ResolvedMember:
            try:
                return file_loader(digest)
            except TeamrelError:
                member: ResolvedMember = store.snapshot(digest)
                return member

        return _base_from_manifest(live, "env", store_loader, known, env=env)
    if default == "latest":
        latest = latest_manifest(root, team)
        if latest is not None:
            path = root / "manifests" / team / f"{latest.release}.json"
            return _base_from_manifest(
                latest,
                "manifest",
                file_loader,
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
    states: list[dict[str, Any]] = []
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
            {
                "state": name,
                "flags": dict(flips),
                "edges": len(edges),
                "incompatible": len(bad),
                "unknown": len(unknown),
                "passed": passed,
            }
        )
        report.edges.extend(edges)
    report.stats = dict(prover.stats)
    report.flags = {
        "declared": sorted(flags),
        "states": states,
        "groups": exploration.groups,
        "unexplored": exploration.unexplored_count,
        "unexplored_examples": [label(f) for f in exploration.unexplored],
        "bounds": {"group_flags": MAX_GROUP_FLAGS, "states": MAX_FLAG_STATES},
    }
    return report, exploration


def proven_states(report: CheckReport) -> list[tuple[dict[str, bool], bool]]:
    """(flips, passed) of every flag state the report proved (for the manifest)."""
    if report.flags is None:
        return []
    return [(dict(s["flags"]), bool(s["passed"])) for s in report.flags["states"]]
