"""The incident path, end to end, against team size: what an on-call engineer types.

    python bench/incident.py                                  # SQLite, 10 / 1,000 / 10,000
    python bench/incident.py --sizes 10 1000 --runs 5
    python bench/incident.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/incident.py --json > figures.json

For each team size N this generates a workspace with bench/gen_team.py (N agents, 5 handoffs
per agent, one prompt file each), records two releases through the library (r1, then r2 with
a tenth of the prompts changed; the check is not what is measured here, so it is not run),
promotes r1 then r2 to `prod` (which requires a reason), and then times the real command line
in a subprocess, each run `--runs` times:

- `rollback`: `teamrel rollback --env prod --reason ...` (r2 -> r1), then `teamrel promote r2`
  to put r2 back for the next run (timed as `promote`). The working tree still declares r2, so
  the re-ship warning fires, as it does in a real incident. Three figures: the moment the
  result line is printed (what the operator waits for), the end of the process (after the
  working-tree comparison), and the whole command with `--no-workspace-check`;
- `status`, `resolve --member NAME`, and the whole-team `resolve --format json` (with the
  child's peak RSS).

Every figure is the median of the runs: wall time (what a person waits) and CPU time of the
child (user + system: what teamrel did, whatever else the shared machine was doing).
With `--db` each size gets a fresh PostgreSQL database (created and dropped; the URL names the
maintenance database to connect to for that).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEAMREL = [sys.executable, "-m", "teamrel"]
PASSED = {
    "edges": 0,
    "compatible": 0,
    "incompatible": 0,
    "unknown": 0,
    "unchecked": 0,
    "engine_version": "bench",
    "passed": True,
}


@dataclass
class Sample:
    """One timed child: wall seconds, CPU seconds, peak RSS (MiB), first-line wall seconds."""

    wall: float
    cpu: float
    rss_mib: float
    first_line: float | None = None


@dataclass
class Figures:
    """Every sample of one measurement."""

    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        values = [getattr(s, attr) for s in self.samples if getattr(s, attr) is not None]
        return statistics.median(values) if values else float("nan")


def timed(args: list[str], env: dict[str, str], watch_first_line: bool = False) -> Sample:
    """Run `args`; wall and CPU time, peak RSS, and when the first stdout line appeared."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout is not None and proc.stderr is not None
    first: float | None = None
    if watch_first_line:
        proc.stdout.readline()
        first = time.perf_counter() - start
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{out[-2000:]}{err[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, first)


@contextmanager
def database(url: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database for one size (None: the workspace's SQLite store)."""
    if url is None:
        yield None
        return
    import psycopg

    name = f"teamrel_bench_{uuid.uuid4().hex[:12]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup(root: Path, n: int, db: str | None) -> str:
    """Generate the workspace, record r1 and r2, make r2 live in prod; a member's name."""
    gen = [sys.executable, str(HERE / "gen_team.py"), str(n), str(5 * n), str(root)]
    if n < 200:
        # one message family: a small team can only place 5 handoffs a member that way
        gen = [*gen[:3], str(min(5 * n, n * (n - 1) // 2 - n)), *gen[4:], "--families", "1"]
    subprocess.run(gen, check=True, capture_output=True)
    from teamrel import release as rel
    from teamrel.store import open_store
    from teamrel.workspace import load_workspace

    store = open_store(db, root)
    try:
        for name, change in (("r1", False), ("r2", True)):
            if change:
                for prompt in sorted((root / "prompts").iterdir())[:: max(1, 10)]:
                    prompt.write_text(prompt.read_text() + "\nConfirm the ticket id first.\n")
            ws = load_workspace(root)
            rel.release(
                store,
                root,
                ws.team.team,
                ws.members,
                check_summary=PASSED,
                environments=ws.team.environments,
                actor="bench@teamrel",
                name=name,
            )
        team, envs = ws.team.team, ws.team.environments
        for name in ("r1", "r2"):
            rel.promote(store, root, team, envs, name, "prod", actor="bench", reason="bench")
        return next(iter(ws.members))
    finally:
        store.close()


def measure_size(n: int, runs: int, db_url: str | None) -> dict[str, Figures]:
    out: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp, database(db_url) as db:
        root = Path(tmp) / "team"
        t0 = time.perf_counter()
        # in a child process: a parent holding a loaded 10,000-member workspace would lend
        # its memory to every child's peak RSS (fork shares the pages until exec)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--setup", str(root), str(n)]
        member = subprocess.run(
            [*cmd, *([db] if db else [])], check=True, capture_output=True, text=True
        ).stdout.strip()
        print(f"  {n} members: set up in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        env = dict(os.environ, TEAMREL_ROLLBACK_GUARD_SECONDS="0", TEAMREL_ACTOR="bench")
        if db is not None:
            env["TEAMREL_DATABASE_URL"] = db
        base = [*TEAMREL, "-C", str(root)]
        rollback = [*base, "rollback", "--env", "prod", "--reason", "INC-1: bench"]
        promote = [*base, "promote", "r2", "--env", "prod", "--reason", "bench"]
        commands: dict[str, Callable[[], Sample]] = {
            "rollback": lambda: timed(rollback, env, watch_first_line=True),
            "promote": lambda: timed(promote, env),
            "rollback --no-workspace-check": lambda: timed(
                [*rollback, "--no-workspace-check"], env
            ),
        }
        for _ in range(runs):
            for name in ("rollback", "promote", "rollback --no-workspace-check", "promote"):
                out.setdefault(name, Figures()).samples.append(commands[name]())
        for name, args in (
            ("status", [*base, "status"]),
            ("resolve --member", [*base, "resolve", "--env", "prod", "--member", member]),
            ("resolve --format json", [*base, "resolve", "--env", "prod", "--format", "json"]),
        ):
            for _ in range(runs):
                out.setdefault(name, Figures()).samples.append(timed(args, env))
        shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    if sys.argv[1:2] == ["--setup"]:  # the child process of `measure_size`
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
        root, n, db = Path(sys.argv[2]), int(sys.argv[3]), (sys.argv[4:5] or [None])[0]
        print(setup(root, n, db))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 10000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", help="PostgreSQL maintenance URL (a fresh database per size)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    # bench/ is sys.path[0]: keep its scripts from shadowing packages teamrel imports
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

    results: dict[int, dict[str, Figures]] = {}
    for n in args.sizes:
        results[n] = measure_size(n, args.runs, args.db)
    start = time.perf_counter()
    subprocess.run([*TEAMREL, "--version"], check=True, capture_output=True)
    startup = time.perf_counter() - start

    if args.json:
        doc: dict[str, Any] = {
            "store": "postgresql" if args.db else "sqlite",
            "runs": args.runs,
            "startup_s": startup,
            "sizes": {
                str(n): {
                    name: {
                        "wall_s": f.median("wall"),
                        "cpu_s": f.median("cpu"),
                        "rss_mib": f.median("rss_mib"),
                        **({"first_line_s": f.median("first_line")} if name == "rollback" else {}),
                    }
                    for name, f in figures.items()
                }
                for n, figures in results.items()
            },
        }
        print(json.dumps(doc, indent=2))
        return
    store = "PostgreSQL" if args.db else "SQLite"
    print(f"store: {store}; median of {args.runs} runs; wall s / CPU s (peak RSS)")
    names = list(next(iter(results.values())))
    header = f"{'command':<32}" + "".join(f"{n:>26,}" for n in results)
    print(header)
    for name in names:
        row = f"{name:<32}"
        for figures in results.values():
            f = figures[name]
            cell = f"{f.median('wall'):.2f} / {f.median('cpu'):.2f}"
            if name == "resolve --format json":
                cell += f" ({f.median('rss_mib'):.0f} MiB)"
            row += f"{cell:>26}"
        print(row)
        if name == "rollback":
            row = f"{'  result line printed':<32}"
            for figures in results.values():
                row += f"{figures[name].median('first_line'):>26.2f}"
            print(row)
    print(f"`teamrel --version` (start-up): {startup:.2f} s wall")


if __name__ == "__main__":
    main()
