"""Benchmark `teamrel check` (cold and warm cache) and `teamrel plan` (one agent changed).

    python bench/check_plan.py [--agents 1000] [--handoffs 5000] [--runs 3] [--keep DIR]

Generates a workspace with bench/gen_team.py, releases it once as the base (`teamrel release
--name r1`), then times the real command line, end to end, in a subprocess each:

- check cold: the result cache deleted before each run;
- check warm: the caches left from the previous run (nothing changed: the report cache);
- check warm, files changed: the per-pair result cache only (the workspace is loaded again);
- plan warm: one agent's prompt changed (and its version bumped), cache warm.

Targets: check cold <= 30 s, warm <= 3 s; plan for a change to one agent <= 5 s
warm. Prints the median and the worst of `--runs` runs for each.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEAMREL = [sys.executable, "-m", "teamrel"]


#: CPU seconds (user + system) of the timed children, in the order they ran, beside their wall
#: times: on a shared machine the wall time also measures the other jobs, the CPU time what
#: teamrel did.
CPU: list[float] = []


def timed(args: list[str], ok: tuple[int, ...] = (0,)) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    CPU.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return elapsed


def report(name: str, times: list[float], target: float, cpu: list[float] | None = None) -> None:
    med = statistics.median(times)
    verdict = "ok" if med <= target else "OVER TARGET"
    line = (
        f"{name:<30} best {min(times):5.2f} s   median {med:5.2f} s   worst {max(times):5.2f} s"
        f"   target <= {target:.0f} s   {verdict}"
    )
    if cpu:
        line += f"   (CPU median {statistics.median(cpu):5.2f} s)"
    print(line)


def measure(
    n: int, args: list[str], before: Callable[[], object] | None = None
) -> tuple[list[float], list[float]]:
    """`n` timed runs of `args` (calling `before` ahead of each): wall and CPU seconds."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(n):
        if before is not None:
            before()
        walls.append(timed(args))
        cpus.append(CPU[-1])
    return walls, cpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--handoffs", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--families", type=int, help="message families (gen_team default: N/40)")
    ap.add_argument("--tools", type=int, default=0, help="tool members (gen_team --tools)")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = ap.parse_args()

    tmp = None if args.keep else tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name) / "team"  # type: ignore[union-attr]
    if root.exists():
        shutil.rmtree(root)
    gen = [sys.executable, str(HERE / "gen_team.py"), str(args.agents), str(args.handoffs)]
    gen += [str(root), "--tools", str(args.tools)]
    if args.families:
        gen += ["--families", str(args.families)]
    subprocess.run(gen, check=True, capture_output=True)
    print(
        f"workspace: {args.agents} agents, {args.tools} tools, {args.handoffs} handoffs, "
        f"families {args.families or 'default'} at {root}"
    )
    cache = root / ".teamrel" / "cache"
    check = [*TEAMREL, "-q", "-C", str(root), "check"]

    cold, cold_cpu = measure(args.runs, check, lambda: shutil.rmtree(cache, ignore_errors=True))
    warm, warm_cpu = measure(args.runs, check)

    timed([*TEAMREL, "-C", str(root), "release", "--name", "r1", "--actor", "bench@teamrel"])
    prompt = sorted((root / "prompts").iterdir())[0]
    prompt.write_text(prompt.read_text() + "\nConfirm the order id before answering.\n")
    agent = prompt.stem
    yaml_path = root / "teamrel.yaml"
    text = yaml_path.read_text()
    head, sep, rest = text.partition(f"  {agent}:\n")
    version_line = next(line for line in rest.splitlines() if "version:" in line)
    old = version_line.split("version:")[1].strip()
    major, minor, patch = (int(x) for x in old.split("."))
    rest = rest.replace(version_line, version_line.replace(old, f"{major}.{minor}.{patch + 1}"), 1)
    yaml_path.write_text(head + sep + rest)
    plan = [*TEAMREL, "-q", "-C", str(root), "plan"]
    timed(plan)  # warm the cache for the changed member's schemas
    plans, plans_cpu = measure(args.runs, plan)
    report_file = cache / "check-report.json"
    # as after any edit: the report cache misses, the workspace is loaded again
    changed, changed_cpu = measure(args.runs, check, lambda: report_file.unlink(missing_ok=True))

    # The same operations in-process (no interpreter start-up, no imports): what teamrel
    # itself costs, separated from the environment's import time.
    # bench/ is sys.path[0] here, and bench/regex.py would shadow the `regex` package some
    # optional dependencies import: drop it before importing teamrel in-process.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    from teamrel.context import Context

    def inproc(fn: Callable[[], object]) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    ip_warm = [inproc(lambda: Context(root).check()) for _ in range(args.runs)]
    ip_changed: list[float] = []
    for _ in range(args.runs):
        report_file.unlink(missing_ok=True)
        ip_changed.append(inproc(lambda: Context(root).check()))
    ip_plan = [inproc(lambda: Context(root).plan()) for _ in range(args.runs)]
    start = time.perf_counter()
    subprocess.run([*TEAMREL, "--version"], check=True, capture_output=True)
    startup = time.perf_counter() - start

    report("check, cold cache", cold, 30, cold_cpu)
    report("check, warm cache", warm, 3, warm_cpu)
    report("check, warm, files changed", changed, 3, changed_cpu)
    report("plan, one agent changed", plans, 5, plans_cpu)
    print("in-process (Context API, imports excluded):")
    report("  check, warm cache", ip_warm, 3)
    report("  check, warm, files changed", ip_changed, 3)
    report("  plan, one agent changed", ip_plan, 5)
    print(f"`teamrel --version` (start-up and imports): {startup:.2f} s")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
