"""`teamrel plan` end to end: summary first, exit codes, --out / read_plan, bases."""

from __future__ import annotations

import json
from pathlib import Path

from teamkit import release_base
from typer.testing import CliRunner

from teamrel.cli.app import app
from teamrel.plan import read_plan

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_fresh_workspace_plans_an_empty_base(demo_copy: Path) -> None:
    code, out = invoke("-C", str(demo_copy), "plan")
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.startswith("Plan: 0 to change, 8 to add, 0 to remove · 18 handoffs")
    assert "base: an empty team" in out
    code, _ = invoke("-C", str(demo_copy), "plan", "--detailed-exitcode")
    assert code == 4


def test_no_changes_after_a_release(demo_copy: Path) -> None:
    release_base(demo_copy)
    code, out = invoke("-C", str(demo_copy), "plan", "--detailed-exitcode")
    assert code == 0, out
    assert out.startswith("No changes: the working tree matches release r1")


def test_a_change_with_a_semver_problem(demo_copy: Path) -> None:
    release_base(demo_copy)
    prompt = demo_copy / "prompts/tech_support.md"
    prompt.write_text(prompt.read_text() + "\nAlways confirm the device model first.\n")
    code, out = invoke("-C", str(demo_copy), "plan")
    assert code == 1  # same version, different content
    lines = out.splitlines()
    assert lines[0].startswith("Plan: 1 to change, 0 to add, 0 to remove")
    assert lines[0].endswith("· 1 problem")
    assert "content changed but the version is still 3.0.1" in out
    assert "+Always confirm the device model first." in out
    text = (demo_copy / "teamrel.yaml").read_text()
    (demo_copy / "teamrel.yaml").write_text(text.replace("version: 3.0.1", "version: 3.0.2"))
    code, out = invoke("-C", str(demo_copy), "plan", "--detailed-exitcode")
    assert code == 4, out
    assert "~ tech_support 3.0.1 -> 3.0.2" in out and "non-breaking" in out
    assert "wave 1: ship tech_support" in out


def test_json_and_out(demo_copy: Path, tmp_path: Path) -> None:
    release_base(demo_copy)
    target = tmp_path / "plan.json"
    code, out = invoke("-C", str(demo_copy), "plan", "--format", "json", "--out", str(target))
    assert code == 0
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["has_changes"] is False
    saved = read_plan(target)
    assert saved.base["kind"] == "manifest" and saved.base["release"] == "r1"
    assert saved.desired_members == doc["desired_members"]
    code, out = invoke("-C", str(demo_copy), "plan", "--out", str(tmp_path / "p2.json"))
    assert code == 0 and "plan saved to" in out


def test_base_selection_and_usage_errors(demo_copy: Path) -> None:
    release_base(demo_copy)
    assert invoke("-C", str(demo_copy), "plan", "--base", "r1")[0] == 0
    manifest = demo_copy / "manifests/support/r1.json"
    assert invoke("-C", str(demo_copy), "plan", "--base", str(manifest))[0] == 0
    assert invoke("-C", str(demo_copy), "plan", "--base", "r9")[0] == 2
    assert invoke("-C", str(demo_copy), "plan", "--env", "prod", "--base", "r1")[0] == 2
    assert invoke("-C", str(demo_copy), "plan", "--env", "nowhere")[0] == 2
    code, out = invoke("-C", str(demo_copy), "plan", "--env", "staging", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert doc["base"] == {
        "kind": "env",
        "env": "staging",
        "manifest_digest": None,
        "release": None,
        "path": None,
    }
    assert doc["summary"]["add"] == 8


def test_tampered_base_is_refused(demo_copy: Path) -> None:
    release_base(demo_copy)
    manifest = demo_copy / "manifests/support/r1.json"
    manifest.write_text(manifest.read_text().replace('"tests@teamrel"', '"mallory@evil"'))
    code, out = invoke("-C", str(demo_copy), "plan", "--format", "json")
    assert code == 3
    assert json.loads(out)["error"] == "IntegrityError"


def test_release_applies_exactly_the_reviewed_plan(demo_copy: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert invoke("-C", str(demo_copy), "plan", "--out", str(saved))[0] == 0
    assert invoke("-C", str(demo_copy), "release", "--plan", str(saved), "--name", "r1")[0] == 0
    # the base has moved (r1 exists now): the same plan is stale
    assert invoke("-C", str(demo_copy), "release", "--plan", str(saved), "--name", "r2")[0] == 3
    # a plan of an edited working tree no longer matches once the tree changes again
    prompt = demo_copy / "prompts/responder.md"
    text = (demo_copy / "teamrel.yaml").read_text()
    (demo_copy / "teamrel.yaml").write_text(text.replace("version: 2.0.0", "version: 2.0.1"))
    prompt.write_text(prompt.read_text() + "\nSign every reply with the team name.\n")
    assert invoke("-C", str(demo_copy), "plan", "--out", str(saved))[0] == 0
    prompt.write_text(prompt.read_text() + "\nNever use exclamation marks.\n")
    code, _ = invoke("-C", str(demo_copy), "release", "--plan", str(saved), "--name", "r2")
    assert code == 3
