"""The remembered `teamrel check` report: re-checking an unchanged team costs a few hashes.

Owns `cached_report` and `save_report`: the last fully decided report of a plain check, with
the content digest of every file it was computed from (`<workspace>/.teamrel/cache/`). Served
only when every such file is byte-identical and the engine version and options are the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from teamrel.canonical import JSON
from teamrel.check import CheckReport, CheckStats, CheckWarning, EdgeResult, schema_files
from teamrel.fileio import atomic_write
from teamrel.flags import FlagsReport
from teamrel.scorecard import SCORECARDS_DIR
from teamrel.workspace import Workspace

#: Version of the remembered report (2: it carries warnings, and scorecards are its inputs).
REPORT_FORMAT_VERSION = 2
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
            files |= schema_files(doc)
    for variants in ws.variants.values():  # what the flag states were proved with
        for v in variants.values():
            files.update(v.files)
    return sorted(files)


def _fingerprint(root: Path, files: Iterable[str], opts: Mapping[str, JSON]) -> str | None:
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


def cached_report(root: Path, cache_dir: Path, opts: Mapping[str, JSON]) -> CheckReport | None:
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
        selected = r["selected_members"]
        flags = r.get("flags")
        return CheckReport(
            team=str(r["team"]),
            edges=tuple(EdgeResult.from_json(e) for e in r["edges"]),
            unknown=r["unknown_policy"],
            format_assertion=bool(r["format_assertion"]),
            selected=tuple(str(n) for n in selected) if selected is not None else None,
            stats=CheckStats(from_report_cache=True),
            warnings=tuple(CheckWarning.from_json(w) for w in r.get("warnings") or []),
            flags=FlagsReport.from_json(flags) if flags is not None else None,
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def save_report(
    ws: Workspace,
    cache_dir: Path,
    report: CheckReport,
    opts: Mapping[str, JSON],
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
