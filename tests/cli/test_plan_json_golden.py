"""The plan JSON document is the serialisation of the typed `Plan`: each story's plan equals
its golden file, written by the code before the plan was typed (regenerate with
TEAMREL_UPDATE_GOLDEN=1 after a deliberate change of the format, and review the diff), and a
saved plan of that code reads back into a `Plan` that writes the same bytes again."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamrel.cli.app import app
from teamrel.plan import read_plan

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
STORIES = sorted(p.name for p in (REPO / "examples").glob("story-*"))
runner = CliRunner()

#: What changes from run to run or release to release, not with the plan's content.
_VOLATILE = re.compile(r'"(created_at|teamrel_version|engine_version)": "[^"]*"')


def _normalise(text: str) -> str:
    return _VOLATILE.sub(lambda m: f'"{m.group(1)}": "…"', text)


@pytest.mark.parametrize("story", STORIES)
def test_story_plan_json_matches_golden(story: str, tmp_path: Path) -> None:
    root = tmp_path / story
    shutil.copytree(REPO / "examples" / story, root, ignore=shutil.ignore_patterns(".teamrel"))
    result = runner.invoke(app, ["-C", str(root), "plan", "--format", "json", "--no-cache"])
    assert result.exit_code in (0, 1), result.stdout
    golden = GOLDEN / f"plan-{story}.json"
    if os.environ.get("TEAMREL_UPDATE_GOLDEN"):
        fixed = re.sub(
            r'"created_at": "[^"]*"', '"created_at": "2026-01-01T00:00:00Z"', result.stdout
        )
        golden.write_text(fixed, encoding="utf-8")
    assert _normalise(result.stdout) == _normalise(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("story", STORIES)
def test_saved_plan_reads_back_to_the_same_bytes(story: str, tmp_path: Path) -> None:
    golden = GOLDEN / f"plan-{story}.json"
    plan = read_plan(golden)
    assert plan.team and plan.digest == json.loads(golden.read_text("utf-8"))["digest"]
    out = tmp_path / "plan.json"
    plan.write(out)
    assert out.read_bytes() == golden.read_bytes()
