"""What rollback safety (persisted handoffs) adds to a rollback of the demo.

    python bench/rollback_safety.py                    # 30 in-process runs, 7 CLI runs
    python bench/rollback_safety.py --runs 50 --cli-runs 11 --json

The repo-root demo (its committed releases r1 and r2, its four persisted case-update
handoffs) is copied twice into a temporary directory: as it is, and with `persisted: true`
removed (the baseline: the rollback of before). In each copy r1 then r2 are promoted to
`staging` in a fresh SQLite store (staging has no eval gates), and then `rollback` (r2 -> r1)
and `promote r2` alternate; only the rollback is timed. Figures, medians:

- in process, a fresh `Context` per run as the CLI makes one: the baseline; with safety and
  the proof in the cache (`promote` primes it: the incident's case); with safety and the
  cache deleted before each run (a miss: the proofs are made again, engine already imported);
- the real command line in a subprocess (`teamrel rollback --env staging
  --no-workspace-check`), baseline against safety with the cache primed: wall time and the
  child's CPU time (user + system: steadier on a shared machine), which include the extra
  imports the safety path needs on a hit (`teamrel.safety`, no engine);
- the import of the engine a miss needs (`teamrel.meet`), in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TEAMREL = [sys.executable, "-m", "teamrel"]
PARTS = ("teamrel.yaml", "contracts", "prompts", "evals", "manifests")


def _copy(dest: Path, *, persisted: bool) -> Path:
    dest.mkdir(parents=True)
    for part in PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    if not persisted:
        yml = dest / "teamrel.yaml"
        yml.write_text(yml.read_text("utf-8").replace(", persisted: true}", "}"), "utf-8")
    return dest


def _promote(root: Path, release: str) -> None:
    from teamrel.context import Context

    ctx = Context(root)
    try:
        ctx.promote(release, env="staging", actor="bench").finish()
    finally:
        ctx.close_store()


def _rollback(root: Path) -> tuple[float, Any]:
    from teamrel.context import Context

    start = time.perf_counter()
    ctx = Context(root)
    try:
        result = ctx.rollback(env="staging", actor="bench", workspace_check=False)
    finally:
        ctx.close_store()
    return time.perf_counter() - start, result


def _in_process(root: Path, runs: int, *, drop_cache: bool) -> list[float]:
    times: list[float] = []
    cache = root / ".teamrel" / "cache" / "release-pairs.json"
    for _ in range(runs):
        if drop_cache:
            cache.unlink(missing_ok=True)
        took, _result = _rollback(root)
        times.append(took)
        _promote(root, "r2")
    return times


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cli(root: Path, runs: int) -> tuple[list[float], list[float]]:
    times: list[float] = []
    cpu: list[float] = []
    env = {**os.environ, "TEAMREL_ROLLBACK_GUARD_SECONDS": "0", "TEAMREL_ACTOR": "bench"}
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), _cpu()
        subprocess.run(
            [*TEAMREL, "-C", str(root), "rollback", "--env", "staging", "--no-workspace-check"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
        cpu.append(_cpu() - start_cpu)
        subprocess.run(
            [*TEAMREL, "-C", str(root), "promote", "r2", "--env", "staging"],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return times, cpu


def _engine_import() -> float:
    code = (
        "import time; import teamrel.release, teamrel.safety; t = time.perf_counter(); "
        "import teamrel.meet; print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cli-runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["TEAMREL_ROLLBACK_GUARD_SECONDS"] = "0"
    os.environ.pop("TEAMREL_DATABASE_URL", None)
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        base = _copy(Path(tmp) / "baseline", persisted=False)
        safe = _copy(Path(tmp) / "safety", persisted=True)
        for root in (base, safe):
            _promote(root, "r1")
            _promote(root, "r2")
        _, first = _rollback(safe)
        assert first.safety is not None and first.safety["safe"], first.safety
        _promote(safe, "r2")
        figures: dict[str, Any] = {
            "persisted_handoffs": 4,
            "in_process_ms": {
                "baseline": ms(_in_process(base, args.runs, drop_cache=False)),
                "safety_cache_hit": ms(_in_process(safe, args.runs, drop_cache=False)),
                "safety_cache_miss": ms(_in_process(safe, args.runs, drop_cache=True)),
            },
            "cli_ms": {},
            "engine_import_ms": round(_engine_import() * 1000, 1),
            "runs": args.runs,
            "cli_runs": args.cli_runs,
        }
        # interleaved, one run of each at a time: a shared machine's load drifts
        runs: dict[str, tuple[list[float], list[float]]] = {
            "baseline": ([], []),
            "safety_cache_hit": ([], []),
        }
        for _ in range(args.cli_runs):
            for label, root in (("baseline", base), ("safety_cache_hit", safe)):
                wall, cpu = _cli(root, 1)
                runs[label][0].extend(wall)
                runs[label][1].extend(cpu)
        for label, (wall, cpu) in runs.items():
            figures["cli_ms"][label] = {"wall": ms(wall), "cpu": ms(cpu)}
    inproc = figures["in_process_ms"]
    figures["overhead_ms"] = {
        "in_process_hit": round(inproc["safety_cache_hit"] - inproc["baseline"], 1),
        "in_process_miss": round(inproc["safety_cache_miss"] - inproc["baseline"], 1),
        "cli_hit_cpu": round(
            figures["cli_ms"]["safety_cache_hit"]["cpu"] - figures["cli_ms"]["baseline"]["cpu"], 1
        ),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for section in ("in_process_ms", "cli_ms", "overhead_ms"):
        print(section, figures[section])
    print("engine import on a miss (ms):", figures["engine_import_ms"])


if __name__ == "__main__":
    main()
