"""The on-disk result cache of the compat checks (`<workspace>/.teamrel/cache/`).

Owns `ResultCache` (proven compat results keyed by both schemas' content, the engine version
and the options; one JSON file loaded once, written once, atomically) and the JSON form of a
cached result. The cache never changes a verdict: it only stores proven answers (compatible,
or incompatible with a witness); an `unknown` is recomputed every time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from teamrel import compat
from teamrel.canonical import JSON, JsonObject
from teamrel.fileio import atomic_write
from teamrel.models import SchemaDoc

#: Version of the cache file layout (entries are keyed by engine version as well).
CACHE_FORMAT_VERSION = 1
CACHE_FILE = "compat-results.json"
#: Most cache entries kept; the ones used by the latest run are kept first.
CACHE_MAX_ENTRIES = 30_000


def fast_digest(doc: SchemaDoc) -> str:
    """A schema's key in the result cache."""
    # Only a cache key: it must be deterministic and injective, not canonical, so the C
    # json encoder does (an order of magnitude faster than the canonical encoder).
    text = json.dumps(doc.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def result_to_json(r: compat.CompatResult) -> JsonObject:
    """A proven result as the cache stores it."""
    return {
        "verdict": r.verdict,
        "witness": r.witness if r.has_witness else None,
        "has_witness": r.has_witness,
        "reason": r.reason,
        "problems": [dataclasses.asdict(p) for p in r.problems],
    }


_PROBLEM_FIELDS = frozenset(f.name for f in dataclasses.fields(compat.Problem))


def problem_from_json(d: Mapping[str, JSON]) -> compat.Problem:
    """A problem read back from the cache or a remembered report."""
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

    def get(self, key: str) -> JsonObject | None:
        """A cached result document, or None."""
        hit = self._new.get(key) or self._entries.get(key)
        if hit is not None:
            self._used.add(key)
        return hit

    def put(self, key: str, value: JsonObject) -> None:
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
