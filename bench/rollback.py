"""Rollback latency vs team size, and Runtime resolve from its cache.

For each team size N (default 10, 100, 1,000, 10,000 members) this builds a synthetic team
(agents with multi-paragraph prompts and closed-object schemas), releases it twice (A, and B
with a tenth of the members changed) through `teamrel.release.release` into a fresh SQLite
store (files written under a temporary workspace), promotes A then B, and then measures, in
process, `teamrel.release.rollback` (B -> A: one transaction, compare-and-swap, event) and
`teamrel.release.promote` (A -> B again, which clears the rollback mark) alternately.
Finally it times `Runtime.resolve` served from the cache.

    /work/venv/bin/python bench/rollback.py                 # all sizes, 30 rollbacks each
    /work/venv/bin/python bench/rollback.py --sizes 10 1000 --runs 50 --json
    /work/venv/bin/python bench/rollback.py --db postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from teamrel import release as rel
from teamrel.models import EnvironmentSpec, ResolvedMember, member_digest
from teamrel.runtime import Runtime
from teamrel.store import open_store

PASSED = {
    "edges": 0,
    "compatible": 0,
    "incompatible": 0,
    "unknown": 0,
    "unchecked": 0,
    "engine_version": "bench",
    "passed": True,
}

PROMPT = (
    "You are agent {i} of a customer-support team. Read the ticket, decide what the customer "
    "needs and answer with the structured case update described by your output schema.\n\n"
) * 6


def _schema(i: int) -> dict[str, Any]:
    return {
        "uri": f"file:///contracts/c{i % 50}.json",
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ticket_id", "status"],
            "properties": {
                "ticket_id": {"type": "string", "pattern": "^TCK-[0-9]{8}$"},
                "status": {"enum": ["open", "pending", "resolved"]},
                "amount_cents": {"type": "integer", "minimum": 0},
                "notes": {"type": "array", "items": {"type": "string", "maxLength": 500}},
            },
        },
        "resources": {},
    }


def _member(i: int, variant: int) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": f"1.{variant}.0",
        "description": f"agent {i}",
        "model": {
            "provider": "anthropic",
            "id": "claude-sonnet-4-5-20250929",
            "parameters": {"temperature": 0.2, "max_tokens": 4096},
        },
        "prompt": {"sha256": f"{i:064x}", "text": PROMPT.format(i=i) + f"variant {variant}\n"},
        "input": _schema(i),
        "output": _schema(i + 1),
        "tools": [],
        "evals": [],
        "metadata": {},
    }
    return ResolvedMember(
        name=f"agent_{i:05d}",
        kind="agent",
        version=str(spec["version"]),
        spec=spec,
        digest=member_digest(spec),
    )


def _team(n: int, changed_every: int | None) -> dict[str, ResolvedMember]:
    out = {}
    for i in range(n):
        variant = 1 if changed_every and i % changed_every == 0 else 0
        m = _member(i, variant)
        out[m.name] = m
    return out


def measure(n: int, runs: int, db: str | None = None) -> dict[str, Any]:
    """Release/promote/rollback figures for a team of `n` members (`db`: a store URL, else
    a fresh SQLite store in a temporary workspace)."""
    envs = {"prod": EnvironmentSpec()}
    team = f"bench{n}-{uuid.uuid4().hex[:8]}"  # unique: a shared store may hold earlier runs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = open_store(db, root)
        a_members, b_members = _team(n, None), _team(n, 10)
        t0 = time.perf_counter()
        a = rel.release(
            store, root, team, a_members, check_summary=PASSED, environments=envs, actor="b"
        )
        release_s = time.perf_counter() - t0
        b = rel.release(
            store, root, team, b_members, check_summary=PASSED, environments=envs, actor="b"
        )
        rel.promote(store, root, team, envs, a.manifest.release, "prod", actor="bench")
        rel.promote(store, root, team, envs, b.manifest.release, "prod", actor="bench")
        rollbacks: list[float] = []
        promotes: list[float] = []
        for _ in range(runs):
            t0 = time.perf_counter()
            moved = rel.rollback(store, root, team, envs, "prod", actor="bench", steps=1)
            rollbacks.append(time.perf_counter() - t0)
            assert moved.transition.to_release == a.manifest.release
            t0 = time.perf_counter()
            rel.promote(store, root, team, envs, b.manifest.release, "prod", actor="bench")
            promotes.append(time.perf_counter() - t0)
        store.close()

        with Runtime(root, ttl=3600, db_url=db) as rt:
            name = next(iter(b_members))
            rt.resolve(team, "prod", name)  # warm the cache
            batch = 100_000
            per_call: list[float] = []
            for _ in range(5):
                t0 = time.perf_counter()
                for _ in range(batch):
                    rt.resolve(team, "prod", name)
                per_call.append((time.perf_counter() - t0) / batch)
            t0 = time.perf_counter()
            rt.invalidate()
            rt.resolve(team, "prod", name)
            cold_s = time.perf_counter() - t0

    def ms(xs: list[float]) -> float:
        return round(statistics.median(xs) * 1000, 2)

    def p95(xs: list[float]) -> float:
        return round(sorted(xs)[max(0, int(len(xs) * 0.95) - 1)] * 1000, 2)

    return {
        "members": n,
        "release_s": round(release_s, 3),
        "rollback_median_ms": ms(rollbacks),
        "rollback_p95_ms": p95(rollbacks),
        "promote_median_ms": ms(promotes),
        "resolve_cached_us": round(statistics.median(per_call) * 1e6, 3),
        "resolve_refresh_ms": round(cold_s * 1000, 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=30, help="rollbacks per size")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    parser.add_argument(
        "--db", help="store URL (e.g. PostgreSQL; use a scratch database or schema)"
    )
    args = parser.parse_args(argv)
    header = (
        f"{'members':>8} {'release s':>10} {'rollback med ms':>16} {'p95 ms':>8} "
        f"{'promote med ms':>15} {'resolve cached us':>18} {'refresh ms':>11}"
    )
    if not args.json:
        sys.stdout.write(header + "\n")
    for n in args.sizes:
        row = measure(n, args.runs, args.db)
        if args.json:
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            sys.stdout.write(
                f"{row['members']:>8} {row['release_s']:>10} {row['rollback_median_ms']:>16} "
                f"{row['rollback_p95_ms']:>8} {row['promote_median_ms']:>15} "
                f"{row['resolve_cached_us']:>18} {row['resolve_refresh_ms']:>11}\n"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
