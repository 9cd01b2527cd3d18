"""The stories under examples/. The three breaking-change ones: check fails naming the broken
handoff, the instance pointer and a witness that python-jsonschema confirms; plan marks the
member breaking, flags the wrong semver bump and names the members hit. Story d: every
handoff holds, but a prompt change drops one eval suite below prod's gate while lifting
another; plan shows both, and promotion to prod is refused naming the gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner
from teamkit import validates

from teamrel.cli.app import app
from teamrel.models import SchemaDoc
from teamrel.workspace import load_workspace

REPO = Path(__file__).resolve().parents[2]
runner = cli_runner()

STORIES = {
    # story: (broken edge, instance pointers the witness may be explained at, member to blame,
    #         its version bump, the version it needs, the member hit)
    "story-a-renamed-field": (
        "refunds->responder",
        {"/amount_cents", "/refund_amount_cents"},
        "refunds",
        "1.3.0",
        "2.0.0",
        "responder",
    ),
    "story-b-enum-minor-bump": (
        "router->billing",
        {"/intent"},
        "router",
        "2.2.0",
        "3.0.0",
        "billing",
    ),
    "story-c-nullable-two-hops": (
        "router->escalation",
        {"/customer_tier"},
        "router",
        "2.1.1",
        "3.0.0",
        "escalation",
    ),
}


@pytest.fixture(params=sorted(STORIES))
def story(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    name: str = request.param
    dest = tmp_path / name
    shutil.copytree(REPO / "examples" / name, dest, ignore=shutil.ignore_patterns(".teamrel"))
    return name, dest


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _step_docs(root: Path, key: str, step: str) -> tuple[SchemaDoc, SchemaDoc]:
    h = load_workspace(root).handoff(key)
    sides: dict[str, tuple[SchemaDoc | None, SchemaDoc | None]] = {
        "producer-contract": (h.producer_schema, h.contract),
        "contract-consumer": (h.contract, h.consumer_schema),
        "producer-consumer": (h.producer_schema, h.consumer_schema),
    }
    left, right = sides[step]
    assert left is not None and right is not None
    return left, right


def test_check_names_the_broken_handoff_with_a_verified_witness(story: tuple[str, Path]) -> None:
    name, root = story
    key, pointers, *_ = STORIES[name]
    code, out = invoke("-C", str(root), "check", "--format", "json")
    assert code == 1, out
    doc = json.loads(out)
    broken = [e for e in doc["edges"] if e["verdict"] != "compatible"]
    assert [e["key"] for e in broken] == [key]
    edge = broken[0]
    assert edge["verdict"] == "incompatible"
    step: dict[str, Any] = next(s for s in edge["steps"] if s["verdict"] == "incompatible")
    assert step["has_witness"]
    assert {p["instance_pointer"] for p in step["problems"]} & pointers
    left, right = _step_docs(root, key, step["step"])
    assert validates(left.to_json(), step["witness"]), "witness must be valid for the producer"
    assert not validates(right.to_json(), step["witness"]), "and invalid for the consumer"


def test_plan_marks_the_breaking_member_and_the_wrong_bump(story: tuple[str, Path]) -> None:
    name, root = story
    key, _, member, version, needed, hit = STORIES[name]
    code, out = invoke("-C", str(root), "plan", "--format", "json")
    assert code == 1, out
    doc = json.loads(out)
    assert doc["base"]["release"] == "r1"
    entry = next(m for m in doc["members"] if m["name"] == member)
    assert entry["category"] == "breaking"
    assert entry["breaks"] == [key]
    assert hit in entry["blast_radius"]["hit"]
    assert hit in entry["blast_radius"]["downstream"]
    semver = entry["semver"]
    assert semver["new"] == version and semver["required"] == "major"
    assert not semver["ok"] and semver["suggested"] == needed
    codes = {f["code"] for f in doc["findings"]}
    assert {"incompatible-handoff", "bump-too-small"} <= codes
    assert "(1 breaking)" in doc["summary"]["line"]
    # the text plan says it in its first line and names the member hit
    code, text = invoke("-C", str(root), "plan")
    assert code == 1
    assert text.splitlines()[0].startswith("Plan: ") and "breaking" in text.splitlines()[0]
    assert f"hits: {hit}" in text


def test_story_c_intake_is_flagged_too() -> None:
    root = REPO / "examples" / "story-c-nullable-two-hops"
    _, out = invoke("-C", str(root), "plan", "--format", "json", "--no-cache")
    doc = json.loads(out)
    intake = next(m for m in doc["members"] if m["name"] == "intake")
    assert intake["category"] == "non-breaking"  # the router still accepts its tickets
    assert intake["semver"]["required"] == "minor" and intake["semver"]["suggested"] == "1.4.0"
    assert "escalation" in intake["blast_radius"]["downstream"]
    assert [w["members"] for w in doc["waves"]] == [["router"], ["intake"]]


def test_demo_fresh_clone_plans_the_pending_change_green(tmp_path: Path) -> None:
    """The repo-root demo as a fresh clone has it: files and manifests/, no .teamrel/ store."""
    dest = tmp_path / "clone"
    dest.mkdir()
    for part in ("teamrel.yaml", "contracts", "prompts", "manifests", "evals"):
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns(".teamrel"))
        else:
            shutil.copy2(src, dest / part)
    releases = sorted(p.name for p in (dest / "manifests" / "support").glob("*.json"))
    assert len(releases) >= 2, releases  # a release history
    code, out = invoke("-C", str(dest), "plan")
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.startswith("Plan: 1 to change, 0 to add, 0 to remove"), first
    assert "incompatible" not in first
    assert "base: release r2" in out
    code, out = invoke("-C", str(dest), "plan", "--format", "json", "--detailed-exitcode")
    assert code == 4
    doc = json.loads(out)
    changed = [m for m in doc["members"] if m["action"] == "change"]
    assert len(changed) == 1 and changed[0]["category"] == "non-breaking"
    assert changed[0]["semver"]["ok"]
    assert not (dest / ".teamrel" / "state.db").exists()  # no store needed
    # every suite has a fresh scorecard; the pending intake change brought a new one
    suites = {(s["member"], s["suite"]): s for s in doc["evals"]["suites"]}
    cards = [s for s in suites.values() if any(m["evidence"] for m in s["metrics"])]
    assert len(cards) == 7 and all(s["fresh"] for s in cards)
    intake = suites[("intake", "intake-regression")]["metrics"][0]
    assert intake["metric"] == "pass_rate" and intake["n"] >= 200 and intake["new"] > intake["live"]
    assert doc["evals"]["gates"]["prod"]["passed"]


def test_story_d_plan_shows_the_drop_and_promote_refuses(tmp_path: Path) -> None:
    root = tmp_path / "story-d"
    src = REPO / "examples" / "story-d-eval-gate"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns(".teamrel"))
    code, out = invoke("-C", str(root), "check")
    assert code == 0, out  # every handoff holds
    code, out = invoke("-C", str(root), "plan", "--format", "json")
    assert code == 0, out
    doc = json.loads(out)
    metrics = {
        s["suite"]: s["metrics"][0] for s in doc["evals"]["suites"] if s["member"] == "router"
    }
    routing, escalation = metrics["routing"], metrics["escalation-recall"]
    assert routing["new"] > routing["live"] and routing["delta"]["lo"] > 0  # lifted
    assert escalation["new"] < 0.93 <= escalation["live"]  # dropped below the floor
    assert escalation["delta"]["hi"] < 0 and escalation["n"] >= 200
    gates = doc["evals"]["gates"]["prod"]
    assert not gates["passed"]
    failed = {(v["suite"], v["kind"]) for v in gates["verdicts"] if v["status"] == "fail"}
    assert failed == {("escalation-recall", "min"), ("escalation-recall", "no_regression")}
    code, text = invoke("-C", str(root), "plan")
    assert "router/escalation-recall.pass_rate: 0.9625 → 0.8875" in text
    assert "gates of prod: refused" in text
    result = runner.invoke(
        app, ["-C", str(root), "release", "--promote", "prod", "--reason", "ship it"]
    )
    assert result.exit_code == 1, result.stdout
    assert "refuse promotion to prod" in result.stderr
    assert "router/escalation-recall.pass_rate" in result.stderr and "vs min 0.93" in result.stderr
    assert not (root / "manifests" / "story-d" / "r2.json").exists()  # nothing was recorded
    # the HTML report shows the same Evals section
    page = root / "report.html"
    assert invoke("-C", str(root), "report", "--out", str(page))[0] == 0
    html = page.read_text(encoding="utf-8")
    assert '<table id="evals">' in html and "Gates of prod: refused" in html
    assert "router/escalation-recall.pass_rate 0.8875" in html
