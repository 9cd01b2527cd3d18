"""Verdict diff: the engine's full answers on every corpus direction and every table pair.

A refactoring of teamrel/compat/ must be verdict-identical. This script records, for every
labelled direction of the 2020-12 containment corpus (../shared/corpora/, skipped when absent)
and every pair of the hand-made table (tests/unit/compat/pairs/), the verdict, the reason, the
witness and the problems `check` returns, one JSON line per case, and compares two recordings.

Usage:
    python bench/verdict_diff.py --record /tmp/verdicts-before.jsonl
    python bench/verdict_diff.py --record /tmp/verdicts-after.jsonl \
        --against /tmp/verdicts-before.jsonl

Prints the number of cases and every difference (none: "0 differences"); exits 1 on a difference.
An "unknown" whose reason is the wall-clock budget depends on the machine's load, not on the
code: such a case is reported apart ("time-budget flips") and does not count as a difference.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# bench/ holds scripts named like PyPI modules: never import from it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO / "bench"]
sys.path.insert(0, str(REPO / "tests" / "unit" / "compat"))
CORPUS = REPO.parent / "shared" / "corpora" / "containment-2020-12.jsonl"


def _cases() -> Iterator[tuple[str, Any, Any, bool]]:
    """(key, producer, consumer, format_assertion) for every case, in a fixed order."""
    from pairs import ALL_PAIRS

    for pair in ALL_PAIRS:
        yield f"table:{pair.id}", pair.producer, pair.consumer, pair.format_assertion
    if not CORPUS.is_file():
        print(f"corpus not present at {CORPUS}: table pairs only", file=sys.stderr)
        return
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            fa = "/optional/format/" in row["source"]
            key = f"corpus:{row['source']}#{row['id']}"
            yield f"{key}:s1_subset_of_s2", row["schema1"], row["schema2"], fa
            if row["s2_subset_of_s1"] is not None:
                yield f"{key}:s2_subset_of_s1", row["schema2"], row["schema1"], fa


def _answer(producer: Any, consumer: Any, fa: bool) -> dict[str, Any]:
    from teamrel.compat import check

    try:
        r = check(producer, consumer, format_assertion=fa)
    except Exception as err:
        return {"raised": type(err).__name__, "message": str(err)}
    return {
        "verdict": r.verdict,
        "reason": r.reason,
        "has_witness": r.has_witness,
        "witness": r.witness,
        "problems": [p.to_json() for p in r.problems],
    }


def record(out: Path) -> dict[str, dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = {}
    start = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh:
        for key, producer, consumer, fa in _cases():
            answers[key] = _answer(producer, consumer, fa)
            fh.write(json.dumps({"case": key, **answers[key]}, sort_keys=True) + "\n")
    print(f"recorded {len(answers)} cases in {time.perf_counter() - start:.1f} s -> {out}")
    return answers


def _load(path: Path) -> dict[str, dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return {row.pop("case"): row for row in rows}


def _time_budget(a: dict[str, Any]) -> bool:
    reason = str(a.get("reason") or "")
    return a.get("verdict") == "unknown" and (
        "time budget" in reason or "wall-clock safety net" in reason
    )


def diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> int:
    differences = flips = 0
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        if a is not None and b is not None and (_time_budget(a) or _time_budget(b)):
            flips += 1
            print(f"time-budget flip {key}: {a.get('verdict')} -> {b.get('verdict')}")
            continue
        differences += 1
        print(f"DIFF {key}\n  before: {json.dumps(a, sort_keys=True)}")
        print(f"  after:  {json.dumps(b, sort_keys=True)}")
    print(f"{len(after)} cases compared: {differences} differences, {flips} time-budget flips")
    return differences


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", type=Path, required=True, help="write this run's answers here")
    ap.add_argument("--against", type=Path, help="an earlier recording to diff with")
    args = ap.parse_args()
    after = record(args.record)
    if args.against is None:
        return 0
    return 1 if diff(_load(args.against), after) else 0


if __name__ == "__main__":
    raise SystemExit(main())
