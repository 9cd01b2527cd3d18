"""Benchmark and simulation of eval scorecards and gates.

    python bench/evals.py [--sims 10000] [--cases 100000] [--agents 1000] [--handoffs 5000]

1. Simulation (seeded): `--sims` paired comparisons of 250 cases, 10% of them disagreeing,
   against a 5-point non-inferiority margin (one-sided 95%, Tango's score interval): how
   often a candidate truly 5 points worse passes (target <= 5%) and how often an identical
   one passes (target >= 80%). The exact probabilities (the trinomial enumerated) are printed
   beside the simulated ones.
2. Ingest: `teamrel eval record` of `--cases` JSONL cases (target <= 2 s), in process, timed.
3. Plan: the 1,000-agent benchmark team (bench/gen_team.py) with a scorecard per agent of
   200 cases, one agent's prompt changed: `teamrel plan` end to end (target <= 5 s warm).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from teamrel.evalstats import Z_ONE_SIDED_95, paired_proportions  # noqa: E402
from teamrel.scorecard import build_scorecard, read_results  # noqa: E402

N, DISAGREE, MARGIN = 250, 0.10, 0.05


def _passes(better: int, worse: int) -> bool:
    return paired_proportions(better, worse, N, Z_ONE_SIDED_95)[1] > -MARGIN


def simulate(delta: float, sims: int, rng: random.Random) -> float:
    """Share of `sims` paired comparisons that pass when the true difference is `delta`."""
    p_better, p_worse = (DISAGREE + delta) / 2, (DISAGREE - delta) / 2
    passed = 0
    for _ in range(sims):
        better = worse = 0
        for _ in range(N):
            u = rng.random()
            if u < p_better:
                better += 1
            elif u < p_better + p_worse:
                worse += 1
        passed += _passes(better, worse)
    return passed / sims


def exact(delta: float) -> float:
    """The same probability, exactly: the trinomial of (better, worse, agree) enumerated."""
    pb, pw = (DISAGREE + delta) / 2, (DISAGREE - delta) / 2
    pa = 1 - pb - pw
    lf = [math.lgamma(i + 1) for i in range(N + 1)]
    total = 0.0
    for b in range(0, 90):
        for w in range(0, 90):
            if b + w > N:
                continue
            lp = lf[N] - lf[b] - lf[w] - lf[N - b - w]
            lp += b * math.log(pb) + w * math.log(pw) + (N - b - w) * math.log(pa)
            if _passes(b, w):
                total += math.exp(lp)
    return total


def ingest(cases: int, tmp: Path) -> float:
    rng = random.Random(7)
    path = tmp / "results.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(cases):
            row = {"id": f"case-{i:06d}", "pass": rng.random() < 0.9, "score": rng.random()}
            row["latency_ms"] = round(rng.lognormvariate(6, 0.5), 1)
            row["cost_usd"] = 0.0004
            fh.write(json.dumps(row) + "\n")
    start = time.perf_counter()
    parsed = read_results(path, "results.jsonl")
    build_scorecard(
        "bench",
        "suite",
        parsed,
        behaviour_digest="sha256:" + "0" * 64,
        member_version="1.0.0",
        source_format="jsonl",
    )
    return time.perf_counter() - start


def bump_version(yaml_path: Path, member: str, version: str) -> None:
    """`member`'s version in teamrel.yaml, patch-bumped (the generator writes one per member)."""
    major, minor, patch = (int(x) for x in version.split("."))
    text = yaml_path.read_text(encoding="utf-8")
    start = text.index(f"\n  {member}:\n")
    at = text.index(f"version: {version}", start)
    new = f"version: {major}.{minor}.{patch + 1}"
    yaml_path.write_text(
        text[:at] + new + text[at + len(f"version: {version}") :], encoding="utf-8"
    )


def plan_with_scorecards(agents: int, handoffs: int, tmp: Path) -> float:
    root = tmp / "team"
    subprocess.run(
        [sys.executable, str(HERE / "gen_team.py"), str(agents), str(handoffs), str(root)],
        check=True,
        capture_output=True,
    )
    teamrel = [sys.executable, "-m", "teamrel", "-q", "-C", str(root)]
    rng = random.Random(11)
    names = sorted(p.stem for p in (root / "prompts").iterdir())
    from teamrel.workspace import load_workspace

    ws = load_workspace(root)
    for name in names:
        m = ws.members.get(name)
        if m is None or m.kind != "agent":
            continue
        rows = [{"id": f"c{i}", "pass": rng.random() < 0.9} for i in range(200)]
        folder = root / "evals" / "scorecards" / name
        folder.mkdir(parents=True, exist_ok=True)
        from teamrel.scorecard import Case

        doc = build_scorecard(
            name,
            "main",
            [Case(str(r["id"]), bool(r["pass"]), None) for r in rows],
            behaviour_digest=m.behaviour_digest,
            member_version=m.version,
            source_format="jsonl",
        )
        (folder / "main.json").write_text(json.dumps(doc), encoding="utf-8")
    subprocess.run([*teamrel, "release", "--name", "r1"], check=True, capture_output=True)
    prompt = root / "prompts" / f"{names[0]}.md"
    prompt.write_text(prompt.read_text() + "\nConfirm the order id before answering.\n")
    # a prompt change needs at least a patch bump, or plan exits 1 on it
    bump_version(root / "teamrel.yaml", names[0], ws.members[names[0]].version)
    subprocess.run([*teamrel, "plan"], capture_output=True)  # warm the caches
    times = []
    for _ in range(3):
        start = time.perf_counter()
        done = subprocess.run([*teamrel, "plan"], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"plan exited {done.returncode}: {done.stdout[-2000:]}")
    return sorted(times)[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sims", type=int, default=10000)
    ap.add_argument("--cases", type=int, default=100000)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--handoffs", type=int, default=5000)
    ap.add_argument("--skip-plan", action="store_true")
    args = ap.parse_args()
    rng = random.Random(2025)
    worse = simulate(-MARGIN, args.sims, rng)
    same = simulate(0.0, args.sims, rng)
    print(
        f"simulation ({args.sims} x {N} paired cases, {DISAGREE:.0%} disagreeing, margin {MARGIN}):"
    )
    print(f"  5 points worse passes {worse:.2%} (exact {exact(-MARGIN):.2%}; target <= 5%)")
    print(f"  identical passes      {same:.2%} (exact {exact(0.0):.2%}; target >= 80%)")
    with tempfile.TemporaryDirectory() as tmp:
        secs = ingest(args.cases, Path(tmp))
        print(f"ingest {args.cases} cases: {secs:.2f} s (target <= 2 s)")
        if not args.skip_plan:
            secs = plan_with_scorecards(args.agents, args.handoffs, Path(tmp))
            print(
                f"plan, {args.agents} agents with a scorecard each, one prompt changed: "
                f"{secs:.2f} s median of 3 warm (target <= 5 s)"
            )


if __name__ == "__main__":
    main()
