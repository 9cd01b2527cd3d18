"""Per-case eval results for the example workspaces, and their scorecards.

    python examples/eval_results.py [--root DIR]   # the repo-root demo's current state

Nobody can run the demo's agents, so their eval runs are simulated, reproducibly: each suite
has a few hundred cases, each case a fixed difficulty (seeded by member and suite), and a
configuration a quality; a case passes when the configuration's quality beats its difficulty,
give or take a little per-run noise (seeded by member, suite and the configuration's stage).
A better configuration therefore passes mostly the same cases plus some more, which is what
makes the gates' paired comparisons meaningful.

The results are written as teamrel JSONL (`evals/results/<member>/<suite>.jsonl`) and turned
into scorecards by the library function behind `teamrel eval record` (`teamrel.gates.record`),
so each scorecard carries the behavioural digest of the configuration in the working tree.
`examples/demo_history.py` and `examples/stories.py` call `record_stage` for each state
they release.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from teamrel.gates import record  # noqa: E402
from teamrel.workspace import load_workspace  # noqa: E402


@dataclass(frozen=True)
class Suite:
    """One eval suite: its size, whether it is graded (a score) or pass/fail, and the quality
    of the configuration of each stage that (re-)runs it."""

    member: str
    suite: str
    n: int
    quality: dict[str, float]
    scored: bool = False
    #: cases the runner dropped (a dataset is needed to notice: they count as failures)
    dropped: int = 0


def results(s: Suite, stage: str) -> list[dict[str, object]]:
    """The per-case results of suite `s` run on the configuration of `stage`."""
    cases = random.Random(f"{s.member}/{s.suite}")
    run = random.Random(f"{s.member}/{s.suite}/{stage}")
    q = s.quality[stage]
    rows: list[dict[str, object]] = []
    for i in range(s.n):
        difficulty = cases.random()
        margin = q - difficulty + run.gauss(0.0, 0.03)
        row: dict[str, object] = {"id": f"{s.suite}-{i + 1:04d}"}
        if s.scored:
            score = min(1.0, max(0.0, 0.5 + margin * 2.5))
            row["score"] = round(score, 3)
            row["pass"] = score >= 0.5
        else:
            row["pass"] = margin > 0
        row["latency_ms"] = round(run.lognormvariate(6.4, 0.35), 1)
        row["cost_usd"] = round(0.0008 + run.random() * 0.0012, 6)
        row["tokens"] = 600 + int(run.random() * 1400)
        rows.append(row)
    return rows[s.dropped :] if s.dropped else rows


def write_dataset(root: Path, rel: str, s: Suite) -> None:
    """A JSONL dataset of the suite's case ids (what `eval record` counts missing cases in)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": f"{s.suite}-{i + 1:04d}"}) for i in range(s.n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def record_stage(root: Path, suites: list[Suite], stage: str) -> list[Path]:
    """Write the results of every suite listed for `stage` and record their scorecards."""
    members = load_workspace(root).members
    written: list[Path] = []
    for s in suites:
        if stage not in s.quality:
            continue
        out = root / "evals" / "results" / s.member / f"{s.suite}.jsonl"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(json.dumps(r) + "\n" for r in results(s, stage)), encoding="utf-8")
        path, _ = record(
            root, members, s.member, s.suite, out, display=out.relative_to(root).as_posix()
        )
        written.append(path)
    return written


#: The repo-root demo: r1, then r2 (router and refunds changed), then the pending intake change.
DEMO = [
    Suite("intake", "intake-regression", 400, {"r1": 0.955, "pending": 0.972}, dropped=2),
    Suite("router", "routing", 300, {"r1": 0.905, "r2": 0.93}),
    Suite("billing", "billing-cases", 250, {"r1": 0.84}),
    Suite("refunds", "refund-policy", 300, {"r1": 0.95, "r2": 0.965}),
    Suite("tech_support", "tech-fixes", 200, {"r1": 0.72}, scored=True),
    Suite("escalation", "escalation-summaries", 200, {"r1": 0.9}, scored=True),
    Suite("responder", "reply-quality", 300, {"r1": 0.93}, scored=True),
]
#: The demo's intake dataset (declared in teamrel.yaml).
DEMO_DATASET = "evals/intake-2025-10.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", type=Path, default=HERE.parent, help="the demo workspace")
    ap.add_argument("--stage", default="r1", help="r1 (every suite), r2 or pending")
    args = ap.parse_args()
    write_dataset(args.root, DEMO_DATASET, DEMO[0])
    for path in record_stage(args.root, DEMO, args.stage):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
