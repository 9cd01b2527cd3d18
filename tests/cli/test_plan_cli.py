"""`teamrel plan` end to end: summary first, exit codes, --out / read_plan, bases."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import cli_runner
from teamkit import release_base

from teamrel.cli.app import app
from teamrel.plan import read_plan

runner = cli_runner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_fresh_workspace_plans_an_empty_base(demo_copy: Path) -> None:
    code, out = invoke("-C", str(demo_copy), "plan")
    assert code == 0, out
    first = out.splitlines()[0]
    # 18 handoffs, and the 5 the demo's flag `refund_v2` changes, proved with it on
    assert first.startswith("Plan: 0 to change, 8 to add, 0 to remove · 23 handoffs")
    assert "compatible   with `refund_v2` on: refunds@1.3.0 -> responder@2.0.0" in out
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
    assert saved.base.kind == "manifest" and saved.base.release == "r1"
    assert saved.desired_members == doc["desired_members"]
    code, out = invoke("-C", str(demo_copy), "plan", "--out", str(tmp_path / "p2.json"))
    assert code == 0 and "plan saved to" in out
    # a missing directory names the plan file, not the temporary file written first
    missing = tmp_path / "no-such-dir" / "plan.json"
    result = runner.invoke(app, ["-C", str(demo_copy), "plan", "--out", str(missing)])
    assert result.exit_code == 3
    assert f"cannot write the plan to {missing}: No such file or directory" in result.stderr
    assert ".tmp" not in result.stderr


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


def _gen_team():  # type: ignore[no-untyped-def]
    import importlib.util

    repo = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("gen_team", repo / "bench" / "gen_team.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_large_team_plan_stays_readable(tmp_path: Path) -> None:
    # a release manager reads the text plan: on a large team the uneventful rows (new or
    # unchanged members, compatible handoffs away from the change) fold into counts
    root = tmp_path / "big"
    bad = _gen_team().generate(60, 240, root, incompatible=1, seed=3)
    code, out = invoke("-C", str(root), "plan")
    assert code == 1, out
    lines = out.splitlines()
    assert lines[0].startswith("Plan: 0 to change, 60 to add (2 breaking), 0 to remove")
    assert sum(1 for line in lines if line.startswith("+ ")) == 3  # 2 breaking + the count
    assert "+ 58 new members (--explain lists them)" in lines
    assert [line.split()[0] for line in lines if "@" in line and "->" in line] == ["incompatible"]
    assert f"... {241 - 1} more compatible handoffs (--explain)" in out
    assert f"✗ {bad[0]}: " in out
    assert all(len(line) < 200 for line in lines if line.startswith("  wave "))
    assert len(lines) < 60, out
    code, explained = invoke("-C", str(root), "plan", "--explain")
    assert explained.count("\n+ ") == 60
    assert explained.count("compatible   ") == 240

    # released, then one agent changes: only its handoffs are listed, the rest is counted
    gen = _gen_team()
    gen.generate(60, 240, root, seed=3)
    release_base(root)
    yaml = root / "teamrel.yaml"
    text = yaml.read_text()
    prompt = root / "prompts" / "agent-00030.md"
    prompt.write_text(prompt.read_text() + "One more rule.\n")
    entry = text.index("  agent-00030:")
    at = text.index("version: ", entry) + len("version: ")
    old = text[at : text.index("\n", at)]
    major, minor, patch = old.split(".")
    yaml.write_text(text[:at] + f"{major}.{minor}.{int(patch) + 1}" + text[at + len(old) :])
    code, out = invoke("-C", str(root), "plan")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("Plan: 1 to change, 0 to add, 0 to remove · 240 handoffs")
    assert "  unchanged: 59 members (--explain lists them)" in lines
    listed = [line for line in lines if line.startswith("  compatible ")]
    assert listed and all("agent-00030@" in line for line in listed)
    assert f"... {240 - len(listed)} more compatible handoffs (--explain)" in out
    assert "semver: ok, patch bump (at least patch needed)" in out


def test_member_block_reads_contract_change_then_prompt_with_its_diff(example_copy) -> None:  # type: ignore[no-untyped-def]
    root = example_copy("story-b-enum-minor-bump")
    code, out = invoke("-C", str(root), "plan")
    assert code == 1, out
    lines = out.splitlines()
    head = lines.index("~ router 2.1.0 -> 2.2.0 (agent)  breaking")
    schema = lines.index('    output widened: may now send intent="cancel_subscription"')
    prompt = next(i for i, line in enumerate(lines) if line.startswith("    prompt: "))
    assert head < schema < prompt
    assert lines[prompt + 1] == "      --- router@2.1.0"  # the diff sits under its digests


def test_a_manifest_of_another_team_is_refused_by_name(demo_copy: Path, example_copy) -> None:  # type: ignore[no-untyped-def]
    other = example_copy("story-b-enum-minor-bump") / "manifests" / "story-b" / "r1.json"
    for args in (["plan", "--base", str(other)], ["check", "--against", str(other)]):
        result = runner.invoke(app, ["-C", str(demo_copy), *args])
        assert result.exit_code == 3, result.stderr
        # not "snapshot of member sha256:... is missing" under the wrong team's directory
        assert "manifest of team 'story-b', but this workspace is team 'support'" in (result.stderr)


def test_against_reads_a_release_like_check_does(example_copy) -> None:  # type: ignore[no-untyped-def]
    root = str(example_copy("story-b-enum-minor-bump"))
    code, out = invoke("-C", root, "plan", "--against", "r1", "--format", "json")
    assert code == 1
    assert json.loads(out)["base"]["release"] == "r1"
    assert invoke("-C", root, "plan", "--against", "r1", "--base", "r1")[0] == 2
    assert invoke("-C", root, "plan", "--against", "r9")[0] == 2
