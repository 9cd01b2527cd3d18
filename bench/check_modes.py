"""What `compat: full` costs `teamrel check` on the 1,000-agent team with 3 live releases.

    python bench/check_modes.py [--agents 1000] [--handoffs 5000] [--runs 3] [--keep DIR]

Generates the check/plan benchmark's workspace (bench/gen_team.py, 1,000 agents and 5,000
handoffs by default) with three environments, and gives it a history: r1 live in staging, r2
in canary, r3 in prod, each release changing a tenth of the agents' prompts and adding one
optional field to every message family, to what producers may send (`message.json`) and to
what consumers accept (`accept.json`): every agent's schemas differ in every release, so
every handoff meets each live release in both directions (the worst case), and the pairs are
real proofs. The working tree carries a fourth such change. The consumers are closed, so the
forward pairs fail (an older consumer rejects the newer field: what `forward` is for). Then
it times the real `teamrel check` in a subprocess, cold (result caches deleted) and warm
(caches left from the previous run):

- without a mode (atomic: today's check);
- with `policy: {compat: full}`: every handoff also proved from each live producer version
  to the working tree's consumer and from the working tree's producer to each live consumer
  version (the pairs come from the digest-pair cache when proved before).

Prints the medians (wall and the child's CPU) and the number of pairs the modes added.
"""

from __future__ import annotations

import argparse
import json
import re
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


def run(args: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def measure(
    runs: int,
    args: list[str],
    before: Callable[[], None] | None = None,
    ok: tuple[int, ...] = (0,),
) -> dict:
    walls, cpus = [], []
    for _ in range(runs):
        if before is not None:
            before()
        wall, cpu, _ = run(args, ok)
        walls.append(wall)
        cpus.append(cpu)
    return {
        "wall_s": round(statistics.median(walls), 2),
        "cpu_s": round(statistics.median(cpus), 2),
    }


def change(root: Path, stage: int, agents: int) -> None:
    """A tenth of the prompts (a different tenth per stage), and one more optional field in
    every family: producers may send it (message.json), consumers accept it (accept.json)."""
    prompts = sorted((root / "prompts").iterdir())
    for p in prompts[stage * agents // 10 : (stage + 1) * agents // 10]:
        p.write_text(p.read_text() + f"\nStage {stage}: confirm the ticket id first.\n")
    for name in ("accept.json", "message.json"):
        for path in (root / "contracts").glob(f"f*/{name}"):
            doc = json.loads(path.read_text())
            doc["properties"][f"note_{stage}"] = {"type": "string", "maxLength": 200}
            path.write_text(json.dumps(doc, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--handoffs", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = ap.parse_args()
    tmp = None if args.keep else tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name) / "team"  # type: ignore[union-attr]
    if root.exists():
        shutil.rmtree(root)
    gen = [sys.executable, str(HERE / "gen_team.py"), str(args.agents), str(args.handoffs)]
    subprocess.run([*gen, str(root)], check=True, capture_output=True)
    yml = root / "teamrel.yaml"
    yml.write_text(yml.read_text().replace("  staging: {}\n", "  staging: {}\n  canary: {}\n"))
    cli = [*TEAMREL, "-C", str(root)]
    for stage, env in ((1, "staging"), (2, "canary"), (3, "prod")):
        if stage > 1:
            change(root, stage, args.agents)
        run([*cli, "release", "--name", f"r{stage}", "--actor", "bench@teamrel"])
        run([*cli, "promote", f"r{stage}", "--env", env, "--reason", "bench"])
    change(root, 4, args.agents)
    cache = root / ".teamrel" / "cache"
    check = [*cli, "-q", "check"]

    def cold() -> None:
        shutil.rmtree(cache, ignore_errors=True)

    figures: dict = {"agents": args.agents, "handoffs": args.handoffs, "runs": args.runs}
    figures["atomic"] = {"cold": measure(args.runs, check, cold), "warm": measure(args.runs, check)}
    yml.write_text(yml.read_text() + "policy:\n  compat: full\n")
    figures["full"] = {
        "cold": measure(args.runs, check, cold, ok=(0, 1)),
        "warm": measure(args.runs, check, ok=(0, 1)),
    }
    _, _, out = run([*cli, "check", "--format", "json"], ok=(0, 1))
    doc = json.loads(out)
    modes = doc["compat_modes"]
    figures["live_releases"] = [r["release"] for r in modes["live_releases"]]
    figures["pairs_added"] = modes["added"]
    figures["edges"] = doc["summary"]["edges"]
    figures["passed"] = doc["passed"]
    figures["failing_pairs"] = sum(
        1 for e in doc["edges"] if "compat_mode" in e and e["verdict"] != "compatible"
    )
    print(json.dumps(figures, indent=2))
    assert re.fullmatch(r"r\d+", figures["live_releases"][0])


if __name__ == "__main__":
    main()
