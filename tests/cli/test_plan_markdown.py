"""`teamrel plan --format markdown`: the pull-request comment of each breaking story equals its
golden file (regenerate with TEAMREL_UPDATE_GOLDEN=1 after a deliberate change, and review the
diff), is the same on every run, and folds long sections."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamrel.cli.app import app
from teamrel.compat import ENGINE_VERSION
from teamrel.markdown import FOLD_OVER, cell, code, render_plan_markdown
from teamrel.plandoc import Plan

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
STORIES = sorted(p.name for p in (REPO / "examples").glob("story-*"))
runner = CliRunner()


def _markdown(root: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["-C", str(root), "plan", "--format", "markdown"])
    return result.exit_code, result.stdout


@pytest.mark.parametrize("story", STORIES)
def test_story_markdown_matches_golden(story: str, tmp_path: Path) -> None:
    root = tmp_path / story
    shutil.copytree(REPO / "examples" / story, root, ignore=shutil.ignore_patterns(".teamrel"))
    code_, first = _markdown(root)
    # story d fails an eval gate, not a handoff; story e's working tree is its last release
    breaking = story not in ("story-d-eval-gate", "story-e-releases-meet")
    assert code_ == (1 if breaking else 0)
    _, second = _markdown(root)  # the second run reads the result cache
    assert first == second
    golden = GOLDEN / f"plan-{story}.md"
    # the engine's version is printed, but a new engine must not rewrite every golden file
    engine = f"engine {ENGINE_VERSION}"
    assert engine in first
    normalised = first.replace(engine, "engine {ENGINE_VERSION}")
    if os.environ.get("TEAMREL_UPDATE_GOLDEN"):
        golden.write_text(normalised, encoding="utf-8")
    assert normalised == golden.read_text(encoding="utf-8")
    if breaking:
        assert "#### Breaking handoffs" in first and "```json" in first
    elif story == "story-e-releases-meet":
        assert "Breaking handoffs" not in first
    else:
        assert "Gates of `prod`: **❌ refused**" in first
        assert "router/escalation-recall.pass_rate 0.8875" in first


def test_demo_plan_is_green_with_eval_and_rollout_sections() -> None:
    code_, out = _markdown(REPO)
    assert code_ == 0
    assert out.startswith("### ✏️ teamrel plan: `support`")
    assert "#### Evals" in out and "order_id_recall" in out
    assert "#### Rollout" in out
    assert "Breaking handoffs" not in out


def _doc(members: int) -> Plan:
    names = [f"m{i:04d}" for i in range(members)]
    doc = {
        "format_version": 1,
        "teamrel_version": "0",
        "created_at": "2026-01-01T00:00:00Z",
        "desired_members": {},
        "options": {"unknown": "fail", "format_assertion": False},
        "team": "big",
        "passed": True,
        "has_changes": True,
        "engine_version": "1",
        "digest": "sha256:00",
        "base": {"kind": "empty"},
        "summary": {
            "line": f"Plan: 0 to change, {members} to add",
            "add": members,
            "change": 0,
            "remove": 0,
            "unchanged": 0,
            "breaking": 0,
            "handoffs": {"edges": 0, "compatible": 0},
            "waves": 1,
            "problems": 0,
        },
        "findings": [],
        "members": [
            {
                "name": n,
                "action": "add",
                "kind": "agent",
                "category": "non-breaking",
                "old": None,
                "new": {"version": "1.0.0", "digest": "sha256:11"},
                "changes": [],
                "prompt_diff": None,
                "schema_changes": [],
                "semver": None,
                "breaks": [],
                "blast_radius": {"hit": [], "downstream": []},
                "reasons": ["new member"],
            }
            for n in names
        ],
        "handoffs": [],
        "waves": [{"wave": 1, "action": "ship", "members": names}],
    }
    return Plan.model_validate(doc)


def test_long_sections_fold_short_ones_do_not() -> None:
    small = render_plan_markdown(_doc(FOLD_OVER))
    assert "<details>" not in small
    big = render_plan_markdown(_doc(FOLD_OVER + 1))
    assert f"<summary>{FOLD_OVER + 1} members to ship</summary>" in big


def test_cells_and_code_escape_markdown() -> None:
    assert cell("a|b\nc") == "a\\|b<br>c"
    assert code("x`y") == "``x`y``"
