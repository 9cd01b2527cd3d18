"""How fast a kill switch (`teamrel flags set ENV FLAG off`) reaches a runtime in another process.

    .venv/bin/python bench/flag_kill_switch.py                      # SQLite (a temporary file)
    .venv/bin/python bench/flag_kill_switch.py --db postgresql+psycopg://postgres@127.0.0.1/test
    .venv/bin/python bench/flag_kill_switch.py --repeats 21 --json

Releases a copy of the demo workspace (its flag `refund_v2`) to `staging` and sets the flag
on. A child process's `teamrel.Runtime` (ttl=3600: only the change feed can tell it anything;
PostgreSQL: LISTEN/NOTIFY, SQLite: `PRAGMA data_version`) runs conversations in a loop, each
deciding its flags when it starts. The parent flips the flag (library call, the command's one
transaction) and notes the wall clock right after the commit; the child reports the wall clock
of the first run that saw the new value. Propagation = the difference (across processes, by
`time.time()`). Each repeat flips the flag once (off, then on again, ...).

Target: a flag change reaches runtimes by push on PostgreSQL within 1 s (and within
their cache TTL anywhere).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from teamrel.context import Context  # noqa: E402
from teamrel.runtime import Runtime  # noqa: E402


def _child(url: str, conn: Connection) -> None:
    with Runtime(url, ttl=3600) as rt:
        # warm: the release is loaded and the feed is listening before the first flip
        with rt.run("support", "staging", key="k") as team:
            team.member("refunds")
        conn.send("ready")
        while True:
            want = conn.recv()
            if want is None:
                return
            while True:
                with rt.run("support", "staging", key="k") as team:
                    seen = time.time()
                    if team.flag("refund_v2") == want:
                        team.member("refunds")
                        break
                time.sleep(0.0005)
            conn.send(seen)


def _pg_schema(url: str) -> tuple[str, str]:
    """A private schema on the PostgreSQL server (dropped afterwards), as the tests do."""
    import psycopg

    schema = f"teamrel_bench_{uuid.uuid4().hex[:10]}"
    base = url.split("?", 1)[0].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}", schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--db", help="a PostgreSQL URL (default: SQLite in a temporary directory)")
    ap.add_argument("--repeats", type=int, default=11)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        shutil.copytree(
            REPO,
            root,
            ignore=shutil.ignore_patterns(
                ".teamrel", ".git", ".venv", "tests", "bench", "docs", "examples", "*.egg-info"
            ),
        )
        schema = None
        if args.db:
            url, schema = _pg_schema(args.db)
        else:
            url = f"sqlite:///{Path(tmp) / 'state.db'}"
        ctx = Context(root, db_url=url)
        try:
            ctx.release(promote="staging", actor="bench@teamrel")
            ctx.flags_set("staging", "refund_v2", "on", actor="bench@teamrel")
            parent, child_end = multiprocessing.Pipe()
            child = multiprocessing.get_context("spawn").Process(
                target=_child, args=(url, child_end)
            )
            child.start()
            assert parent.recv() == "ready"
            delays: list[float] = []
            value = True
            for _ in range(args.repeats):
                value = not value
                parent.send(value)
                time.sleep(0.05)  # the child is polling the old value
                ctx.flags_set(
                    "staging", "refund_v2", "on" if value else "off", actor="bench@teamrel"
                )
                committed = time.time()
                seen = parent.recv()
                delays.append(max(0.0, seen - committed))
            parent.send(None)
            child.join(timeout=30)
        finally:
            ctx.close_store()
            if schema is not None:
                import psycopg

                base = args.db.split("?", 1)[0].replace("postgresql+psycopg://", "postgresql://")
                with psycopg.connect(base, autocommit=True) as c:
                    c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    backend = "postgresql" if args.db else "sqlite"
    result = {
        "backend": backend,
        "repeats": args.repeats,
        "median_ms": round(statistics.median(delays) * 1000, 1),
        "max_ms": round(max(delays) * 1000, 1),
        "target_ms": 1000,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{backend}: kill switch propagation over {args.repeats} flips: median "
            f"{result['median_ms']} ms, max {result['max_ms']} ms (target <= 1000 ms)"
        )


if __name__ == "__main__":
    main()
