"""Time workspace loading and validation at scale.

    python bench/bench_workspace.py [N] [M] [--runs R]

Generates (bench/gen_team.py) a workspace of N agents and M handoffs (default 2000 and
10000) in a temporary directory, then runs `teamrel -C DIR validate` R times (default 5) as a
subprocess, the way a user does, and prints every wall-clock and CPU time and the best.
Also times an in-process `load_workspace` to separate CLI start-up from loading.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Python puts this script's directory first on sys.path; other bench scripts there (e.g.
# bench/regex.py) would shadow installed modules of the same name, so drop it.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]

from teamrel.workspace import load_workspace  # noqa: E402


def _generate() -> Any:
    spec = importlib.util.spec_from_file_location("gen_team", _BENCH / "gen_team.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.generate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=2000)
    ap.add_argument("m", type=int, nargs="?", default=10000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    teamrel = Path(sys.executable).with_name("teamrel")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "team"
        _generate()(args.n, args.m, root)
        times = []
        cpu = []
        for _ in range(args.runs):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(
                [str(teamrel), "-C", str(root), "validate"], capture_output=True, text=True
            )
            times.append(time.perf_counter() - t0)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
            if proc.returncode != 0:
                raise SystemExit(f"validate failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
        print(proc.stdout.strip())
        print("teamrel validate wall times:", ", ".join(f"{t:.2f}s" for t in times))
        print(f"best {min(times):.2f}s, median {sorted(times)[len(times) // 2]:.2f}s")
        print("CPU time (user+sys):", ", ".join(f"{t:.2f}s" for t in cpu))
        print(f"(load average during the runs: {os.getloadavg()[0]:.1f})")
        walls, cpus = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            ws = load_workspace(root)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        print(
            f"in-process load_workspace ({len(ws.members)} members, {len(ws.handoffs)} edges): "
            f"wall best {min(walls):.2f}s, CPU best {min(cpus):.2f}s"
        )
        t0 = time.perf_counter()
        subprocess.run([str(teamrel), "--version"], capture_output=True, check=True)
        print(f"CLI start-up (teamrel --version): {time.perf_counter() - t0:.2f}s")


if __name__ == "__main__":
    main()
