"""Give the repo-root demo workspace its release history and its pending change.

    python examples/demo_history.py [--root DIR]

Writes `manifests/support/` (releases r1 and r2 with their member snapshots) and leaves the
working tree with one pending, compatible change, so that `teamrel plan` on a fresh clone
(no `.teamrel/` store) shows a real, green plan:

- r1: an earlier state of the team: router 2.0.0 did not yet report a confidence, refunds
  1.1.0 did not yet tell customers when the money arrives;
- r2: the team as committed (router 2.1.0, refunds 1.2.0);
- pending in the working tree: intake 1.4.0 moves from the Haiku 4.5 snapshot to Sonnet 4.5
  and gets a prompt paragraph on order numbers written with spaces or dashes, after its
  order-id recall eval went from 0.99 to 0.995 (schemas unchanged: a non-breaking change, a
  minor bump where a patch is the minimum).

Both releases are made with the real `teamrel release`, in a temporary copy of the workspace
put back into each earlier state, so their manifests and snapshots are exactly what the team
would have committed. Each state's eval suites are run (simulated, seeded:
examples/eval_results.py) and recorded with the real `eval record` path before it is released,
so every release pins fresh scorecards and the pending intake change brings a new one. Run it
again whenever the demo's files change (the release digests
follow the files).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from eval_results import DEMO, DEMO_DATASET, record_stage, write_dataset

REPO = Path(__file__).resolve().parent.parent
PARTS = ("teamrel.yaml", "contracts", "prompts", "evals")

ROUTER_CONFIDENCE = (
    "Give a confidence between 0 and 1 and one or two sentences of rationale. When your "
    "confidence\nis below 0.6, route to `escalation`. "
)
REFUNDS_TIMING = " including when they will see the\nmoney (five to ten business days for cards)."

INTAKE_ORDER_IDS = (
    "\nCustomers often write order numbers with spaces or dashes (`ORD 0012345678`,\n"
    "`ord-0012-345-678`): normalise them to `ORD-` and ten digits before copying them, and\n"
    "drop anything that does not have exactly ten digits.\n"
)
INTAKE_OLD = (
    "    version: 1.3.0\n",
    "      id: claude-haiku-4-5-20251001\n",
    "metrics: {field_accuracy: 0.97, order_id_recall: 0.99}",
)
INTAKE_NEW = (
    "    version: 1.4.0\n",
    "      id: claude-sonnet-4-5-20250929\n",
    "metrics: {field_accuracy: 0.97, order_id_recall: 0.995}",
)


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if text.count(old) != 1:
        raise SystemExit(f"{path}: expected exactly one {old!r}; has the demo changed?")
    path.write_text(text.replace(old, new), encoding="utf-8")


def _member_block(yaml_text: str, name: str) -> tuple[int, int]:
    start = yaml_text.index(f"\n  {name}:\n") + 1
    end = yaml_text.find("\n\n", start)
    return start, end if end != -1 else len(yaml_text)


def _edit_member(root: Path, name: str, old: str, new: str) -> None:
    path = root / "teamrel.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = _member_block(text, name)
    block = text[start:end]
    if block.count(old) != 1:
        raise SystemExit(f"{path}: member {name}: expected exactly one {old!r}")
    path.write_text(text[:start] + block.replace(old, new) + text[end:], encoding="utf-8")


def pending_applied(root: Path) -> bool:
    """Whether the working tree already carries the pending intake change."""
    return INTAKE_ORDER_IDS.strip() in (root / "prompts/intake.md").read_text(encoding="utf-8")


def apply_pending(root: Path) -> None:
    """intake 1.3.0 -> 1.4.0: Sonnet 4.5 snapshot, the order-number paragraph, new eval."""
    for old, new in zip(INTAKE_OLD, INTAKE_NEW, strict=True):
        _edit_member(root, "intake", old, new)
    prompt = root / "prompts/intake.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + INTAKE_ORDER_IDS, encoding="utf-8")


def revert_pending(root: Path) -> None:
    """The inverse of `apply_pending`."""
    for old, new in zip(INTAKE_OLD, INTAKE_NEW, strict=True):
        _edit_member(root, "intake", new, old)
    _replace_once(root / "prompts/intake.md", INTAKE_ORDER_IDS, "")


def to_r1(root: Path) -> None:
    """Put a copy of the committed team back into the state released as r1."""
    _edit_member(root, "router", "version: 2.1.0", "version: 2.0.0")
    _replace_once(root / "prompts/router.md", ROUTER_CONFIDENCE, "")
    _edit_member(root, "refunds", "version: 1.2.0", "version: 1.1.0")
    _replace_once(root / "prompts/refunds.md", REFUNDS_TIMING, ".")


def release(root: Path, name: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "teamrel",
            "-C",
            str(root),
            "release",
            "--name",
            name,
            "--actor",
            "demo-release-manager@acme.example",
        ],
        check=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--root", type=Path, default=REPO, help="the demo workspace (default: repo)")
    args = ap.parse_args()
    root: Path = args.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "demo"
        work.mkdir()
        for part in PARTS:
            src = root / part
            if src.is_dir():
                shutil.copytree(src, work / part)
            elif src.exists():
                shutil.copy2(src, work / part)
        if pending_applied(work):
            revert_pending(work)
        committed = {
            p: (work / p).read_bytes()
            for p in ("teamrel.yaml", "prompts/router.md", "prompts/refunds.md")
        }
        shutil.rmtree(work / "evals", ignore_errors=True)
        write_dataset(work, DEMO_DATASET, DEMO[0])
        to_r1(work)
        record_stage(work, DEMO, "r1")
        release(work, "r1")
        for rel, data in committed.items():
            (work / rel).write_bytes(data)
        record_stage(work, DEMO, "r2")
        release(work, "r2")
        apply_pending(work)
        record_stage(work, DEMO, "pending")
        target = root / "manifests"
        team_dir = target / "support"
        if team_dir.exists():
            shutil.rmtree(team_dir)
        shutil.copytree(work / "manifests" / "support", team_dir)
        if (root / "evals").exists():
            shutil.rmtree(root / "evals")
        shutil.copytree(work / "evals", root / "evals")
    if not pending_applied(root):
        apply_pending(root)
    print(f"wrote {team_dir}; pending change: intake 1.3.0 -> 1.4.0 (run `teamrel plan`)")


if __name__ == "__main__":
    main()
