"""A rollout of the demo team aborted by its analysis, end to end.

    python examples/rollout/story.py [--keep DIR]

In a temporary copy of the repo-root demo workspace (its own SQLite store in .teamrel/):

1. `teamrel release` r1 and promote it to prod;
2. change the router's prompt (2.1.0 -> 2.1.1), `teamrel release` r2;
3. `teamrel rollout start r2 --env prod`: 5% of conversations go to r2 (prod's `rollout:`
   policy in teamrel.yaml);
4. simulate conversations through `teamrel.Runtime`: each conversation asks `rt.run(...)`
   for the team (sticky by user id), "runs" it and reports `team.record(ok=..., latency_ms=...,
   cost_usd=...)`; the new router fails 8% of conversations, the old one 2%;
5. after every 1,000 conversations, `teamrel rollout step --env prod` (what `teamrel rollout
   watch` runs on a timer) analyses both arms and applies its decision, until it aborts (exit
   1): stable serves everyone again, and the abort is in the audit log (`teamrel history`).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
PARTS = ("teamrel.yaml", "contracts", "prompts")
P_STABLE, P_CANARY = 0.02, 0.08


def teamrel(root: Path, *args: str, check: bool = True) -> int:
    """Run the real CLI in `root` and show what it prints."""
    print(f"$ teamrel {' '.join(args)}", flush=True)
    done = subprocess.run(
        [sys.executable, "-m", "teamrel", "-C", str(root), *args],
        env={**os.environ, "TEAMREL_DATABASE_URL": "", "TEAMREL_ACTOR": "story@acme.example"},
        text=True,
        capture_output=True,
    )
    print(done.stdout + done.stderr, flush=True)
    if check and done.returncode != 0:
        raise SystemExit(f"teamrel {args[0]} exited {done.returncode}")
    return done.returncode


def simulate(root: Path, start: int, n: int, rng: random.Random) -> tuple[int, int]:
    """`n` conversations through a Runtime; returns (on canary, failed)."""
    from teamrel import Runtime

    canary = failed = 0
    with Runtime(root, ttl=5) as rt:
        for i in range(start, start + n):
            with rt.run("support", "prod", key=f"user-{i}") as team:
                router = team.member("router")  # what the agent runtime would call
                bad = team.arm == "canary"
                ok = rng.random() >= (P_CANARY if bad else P_STABLE)
                team.record(
                    ok,
                    latency_ms=rng.lognormvariate(6.7, 0.4),
                    cost_usd=0.004 * len(router.spec["prompt"]["text"]) / 1000,
                )
                canary += bad
                failed += not ok
    return canary, failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    ap.add_argument("--max-steps", type=int, default=40, help="give up after this many steps")
    args = ap.parse_args()
    tmp = None if args.keep else tempfile.TemporaryDirectory()
    root = args.keep or Path(tmp.name) / "demo"  # type: ignore[union-attr]
    try:
        root.mkdir(parents=True, exist_ok=True)
        for part in PARTS:
            src = REPO / part
            if src.is_dir():
                shutil.copytree(src, root / part)
            else:
                shutil.copy2(src, root / part)
        teamrel(root, "release", "--name", "r1")
        teamrel(root, "promote", "r1", "--env", "prod", "--reason", "baseline")
        yaml = root / "teamrel.yaml"
        yaml.write_text(
            yaml.read_text("utf-8").replace("version: 2.1.0", "version: 2.1.1", 1), "utf-8"
        )
        with (root / "prompts/router.md").open("a", encoding="utf-8") as f:
            f.write("\nWhen in doubt between billing and refunds, pick refunds.\n")
        teamrel(root, "release", "--name", "r2")
        teamrel(root, "rollout", "start", "r2", "--env", "prod", "--reason", "router 2.1.1")
        rng = random.Random(11)
        seen = 0
        for _ in range(args.max_steps):
            canary, failed = simulate(root, seen, 1000, rng)
            seen += 1000
            print(f"# simulated 1,000 conversations: {canary} on the canary, {failed} failed")
            if teamrel(root, "rollout", "step", "--env", "prod", check=False) == 1:
                break
        else:
            raise SystemExit("the rollout was not aborted")
        teamrel(root, "status", "--env", "prod")
        teamrel(root, "history", "--env", "prod", "--limit", "3")
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
