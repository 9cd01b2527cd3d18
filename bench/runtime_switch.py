"""How fast a `teamrel.Runtime` in another process follows a rollback, and what the switch costs.

For each team size N (default 10, 1,000, 10,000 members) this builds the synthetic team of
bench/rollback.py, releases it twice (A, and B with every tenth member changed) and promotes
A then B. Then, `--runs` times: a fresh child process's Runtime (ttl=3600, so only the change
feed can tell it anything) warms up on B with runs that each resolve the same 5 members (two
of them changed between A and B), and reports its warm run time; this process rolls back to
A and notes the wall clock right after the commit; the child calls `run()` in a loop until it
serves A, resolves the same 5 members in that first run, and reports when it saw A and what
that first run cost (wall and CPU time); then B is promoted again for the next repeat.

Reported, medians over the repeats: propagation (commit to the child's first run serving A,
across processes by `time.time()`, taken when that run got its release), the warm run, the
first run after the switch and its extra cost over the warm run. Targets: extra
<= 50 ms at 10,000 members; propagation <= 100 ms on SQLite, <= 1 s on PostgreSQL.

    .venv/bin/python bench/runtime_switch.py                       # SQLite, 10 / 1k / 10k
    .venv/bin/python bench/runtime_switch.py --sizes 10 1000 --runs 7 --json
    .venv/bin/python bench/runtime_switch.py --db postgresql+psycopg://postgres@127.0.0.1/test
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rollback import PASSED, _team  # the synthetic team of bench/rollback.py

from teamrel import release as rel
from teamrel.models import EnvironmentSpec
from teamrel.runtime import Runtime
from teamrel.store import open_store, store_url

#: warm runs measured per repeat (the median is the baseline)
WARM_RUNS = 20


def _names(n: int) -> list[str]:
    """The members each run resolves: agent 0 and 10 differ between A and B (when the team
    has them), the others are shared."""
    picks = [0, 10, 1, n // 2, n - 1]
    return list(dict.fromkeys(f"agent_{i:05d}" for i in picks if i < n))


def _one_run(rt: Runtime, team: str, names: list[str]) -> tuple[str, float, float, float]:
    """(digest served, time.time() when the run got its release, wall s, CPU s)."""
    w0, c0 = time.perf_counter(), time.process_time()
    with rt.run(team, "prod") as pinned:
        seen = time.time()
        for name in names:
            pinned.member(name).spec["prompt"]
        digest = pinned.digest
    return digest, seen, time.perf_counter() - w0, time.process_time() - c0


def child(url: str, team: str, names: list[str], old: str, pipe: Connection) -> None:
    """One repeat in another process: warm on `old`, then report the first run that is not."""
    with Runtime(url, ttl=3600) as rt:
        warm = []
        for _ in range(WARM_RUNS):
            digest, _seen, wall, _cpu = _one_run(rt, team, names)
            assert digest == old
            warm.append(wall)
        pipe.send(("ready", statistics.median(warm)))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            digest, seen, wall, cpu = _one_run(rt, team, names)
            if digest != old:
                pipe.send(("seen", seen, wall, cpu, digest))
                return
            time.sleep(0.0005)
        pipe.send(("timeout",))


def measure(n: int, runs: int, db: str | None) -> dict[str, Any]:
    """Propagation and switch figures for a team of `n` members."""
    envs = {"prod": EnvironmentSpec()}
    team = f"switch{n}-{uuid.uuid4().hex[:8]}"  # unique: a shared store may hold earlier runs
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = store_url(db, root)
        store = open_store(url, None)
        a = rel.release(
            store, root, team, _team(n, None), check_summary=PASSED, environments=envs, actor="b"
        )
        b = rel.release(
            store, root, team, _team(n, 10), check_summary=PASSED, environments=envs, actor="b"
        )
        rel.promote(store, root, team, envs, a.manifest.release, "prod", actor="bench")
        rel.promote(store, root, team, envs, b.manifest.release, "prod", actor="bench")
        names = _names(n)
        prop, warm, first_wall, first_cpu = [], [], [], []
        for _ in range(runs):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=child, args=(url, team, names, b.manifest.digest, theirs))
            proc.start()
            msg = ours.recv()
            assert msg[0] == "ready", msg
            warm.append(msg[1])
            time.sleep(0.05)  # let the child settle into its polling loop
            moved = rel.rollback(store, root, team, envs, "prod", actor="bench", steps=1)
            committed = time.time()
            assert moved.transition.to_manifest == a.manifest.digest
            msg = ours.recv()
            assert msg[0] == "seen" and msg[4] == a.manifest.digest, msg
            prop.append(msg[1] - committed)
            first_wall.append(msg[2])
            first_cpu.append(msg[3])
            proc.join()
            rel.promote(store, root, team, envs, b.manifest.release, "prod", actor="bench")
        store.close()

    def ms(xs: list[float]) -> float:
        return round(statistics.median(xs) * 1000, 2)

    warm_ms = ms(warm)
    return {
        "backend": url.split(":", 1)[0].split("+", 1)[0],
        "members": n,
        "runs": runs,
        "members_per_run": len(names),
        "propagation_median_ms": ms(prop),
        "propagation_max_ms": round(max(prop) * 1000, 2),
        "warm_run_ms": warm_ms,
        "first_run_ms": ms(first_wall),
        "first_run_extra_ms": round(ms(first_wall) - warm_ms, 2),
        "first_run_cpu_ms": ms(first_cpu),
    }


COLUMNS = (
    ("backend", "backend", 10),
    ("members", "members", 8),
    ("propagation_median_ms", "propagation ms", 15),
    ("propagation_max_ms", "max ms", 8),
    ("warm_run_ms", "warm run ms", 12),
    ("first_run_ms", "first run ms", 13),
    ("first_run_extra_ms", "extra ms", 9),
    ("first_run_cpu_ms", "first CPU ms", 13),
)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON lines)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000])
    parser.add_argument("--runs", type=int, default=5, help="rollbacks per size (>= 5)")
    parser.add_argument("--json", action="store_true", help="print JSON lines")
    parser.add_argument(
        "--db", help="store URL (e.g. PostgreSQL; use a scratch database or schema)"
    )
    args = parser.parse_args(argv)
    if not args.json:
        sys.stdout.write(" ".join(f"{title:>{w}}" for _, title, w in COLUMNS) + "\n")
    for n in args.sizes:
        row = measure(n, args.runs, args.db)
        if args.json:
            sys.stdout.write(json.dumps(row) + "\n")
        else:
            sys.stdout.write(" ".join(f"{row[k]!s:>{w}}" for k, _, w in COLUMNS) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
