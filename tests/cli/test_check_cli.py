"""`teamrel check` end to end (typer CliRunner): exit codes, formats, selection, --against."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner
from lxml import etree
from teamkit import agent, closed, release_base, write_workspace

from teamrel import compat
from teamrel.cli.app import app

runner = cli_runner()
DATA = Path(__file__).resolve().parents[1] / "data"

OUT = closed(["id", "status"], id={"type": "string", "maxLength": 10}, status={"enum": ["ok"]})
IN = closed(["id", "status"], id={"type": "string", "maxLength": 10}, status={"enum": ["ok"]})
WIDER_OUT = closed(
    ["id", "status"], id={"type": "string", "maxLength": 10}, status={"enum": ["ok", "late"]}
)


def ws(tmp_path: Path, **files: Any) -> Path:
    return write_workspace(
        tmp_path / "ws",
        team="cli",
        members={
            "a": agent("1.0.0", "contracts/in.json", "contracts/out.json", "prompts/a.md"),
            "b": agent("1.0.0", "contracts/in.json", "contracts/out.json", "prompts/b.md"),
            "c": agent("1.0.0", "contracts/in.json", "contracts/out.json", "prompts/c.md"),
        },
        handoffs=[{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
        files={
            "contracts/in.json": IN,
            "contracts/out.json": OUT,
            "prompts/a.md": "A.\n",
            "prompts/b.md": "B.\n",
            "prompts/c.md": "C.\n",
            **files,
        },
    )


def broken(tmp_path: Path) -> Path:
    root = ws(tmp_path)
    # a now sends status "late", which b's closed enum rejects
    (root / "contracts/a_out.json").write_text(json.dumps(WIDER_OUT))
    text = (root / "teamrel.yaml").read_text()
    (root / "teamrel.yaml").write_text(
        text.replace("contracts/out.json", "contracts/a_out.json", 1)
    )
    return root


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_demo_passes(demo_copy: Path) -> None:
    code, out = invoke("-C", str(demo_copy), "check")
    assert code == 0, out
    assert "teamrel check passed" in out.splitlines()[-1]
    assert "PASS    intake@" in out and " -> router@2.1.0" in out


def test_incompatible_exits_1_with_rows_problems_and_witness(tmp_path: Path) -> None:
    code, out = invoke("-C", str(broken(tmp_path)), "check")
    assert code == 1
    assert "FAIL    a@1.0.0 -> b@1.0.0" in out
    assert "/status" in out and "witness:" in out and '"late"' in out
    assert "teamrel check FAILED: 2 edges: 1 compatible, 1 incompatible" in out


def test_json_document(tmp_path: Path) -> None:
    code, out = invoke("-C", str(broken(tmp_path)), "check", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["passed"] is False
    assert doc["summary"]["incompatible"] == 1
    edge = doc["edges"][0]
    assert edge["key"] == "a->b" and edge["verdict"] == "incompatible"
    step = edge["steps"][0]
    assert step["problems"][0]["instance_pointer"] == "/status"
    assert step["witness"]["status"] == "late"
    # the global --format json works too
    code2, out2 = invoke("--format", "json", "-C", str(broken(tmp_path / "x")), "check")
    assert code2 == 1 and json.loads(out2)["format_version"] == 1


def test_junit_github_sarif(tmp_path: Path) -> None:
    root = broken(tmp_path)
    code, out = invoke("-C", str(root), "check", "--format", "junit")
    assert code == 1
    schema = etree.XMLSchema(etree.parse(str(DATA / "junit-jenkins.xsd")))
    assert schema.validate(etree.fromstring(out.encode()))
    code, out = invoke("-C", str(root), "check", "--format", "github")
    assert code == 1
    assert out.startswith("::error file=") and "title=incompatible handoff a->b::" in out
    code, out = invoke("-C", str(root), "check", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0" and log["runs"][0]["results"][0]["ruleId"] == (
        "incompatible-handoff"
    )


def test_output_file(tmp_path: Path) -> None:
    root = broken(tmp_path)
    target = tmp_path / "report.xml"
    code, out = invoke("-C", str(root), "check", "--format", "junit", "-o", str(target))
    assert code == 1
    assert out.startswith("teamrel check FAILED") and str(target) in out
    assert etree.fromstring(target.read_bytes()).tag == "testsuites"


def test_member_selection(tmp_path: Path) -> None:
    code, out = invoke("-C", str(broken(tmp_path)), "check", "-m", "c", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert [e["key"] for e in doc["edges"]] == ["b->c"] and doc["selected_members"] == ["c"]
    code, out = invoke("-C", str(broken(tmp_path / "y")), "check", "-m", "nobody")
    assert code == 2
    # an empty or mistyped name is quoted (not "no member named  in team ...") with a guess
    result = runner.invoke(app, ["-C", str(tmp_path / "y" / "ws"), "check", "-m", "", "-m", "bb"])
    assert result.exit_code == 2
    assert "--member: no member named '', 'bb' in team" in result.stderr
    assert "(did you mean 'b'?)" in result.stderr


def test_unknown_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def undecided(*a: Any, **k: Any) -> compat.CompatResult:
        return compat.CompatResult(verdict="unknown", reason="not modelled here")

    monkeypatch.setattr(compat, "check", undecided)
    root = ws(tmp_path, **{"contracts/a_out.json": WIDER_OUT})
    text = (root / "teamrel.yaml").read_text()
    (root / "teamrel.yaml").write_text(
        text.replace("contracts/out.json", "contracts/a_out.json", 1)
    )
    assert invoke("-C", str(root), "check", "--no-cache")[0] == 1
    code, out = invoke("-C", str(root), "check", "--no-cache", "--unknown", "warn")
    assert code == 0 and "UNKNOWN" in out and "not modelled here" in out
    assert invoke("-C", str(root), "check", "--unknown", "maybe")[0] == 2


def test_bad_input_exits_3(tmp_path: Path) -> None:
    root = ws(tmp_path)
    (root / "contracts/in.json").unlink()
    code, out = invoke("-C", str(root), "check", "--format", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["ok"] is False and doc["error"] == "WorkspaceError"
    assert invoke("-C", str(root), "check", "--format", "yaml")[0] == 2
    # in GitHub Actions the broken workspace is annotated where it breaks, then exit 3
    code, out = invoke("-C", str(root), "check", "--format", "github")
    assert code == 3
    lines = [line for line in out.splitlines() if line]
    assert lines and all(line.startswith("::error file=") for line in lines), out
    assert ",title=teamrel workspace%3A missing-file::#/members/" in lines[0]
    assert "'contracts/in.json': no such file" in out


def test_changed_since_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    code, _ = invoke("-C", str(ws(tmp_path)), "check", "--changed-since", "HEAD")
    assert code == 2


def test_against_a_manifest_pins_the_other_members(tmp_path: Path) -> None:
    root = ws(tmp_path)
    release_base(root)
    # in the working tree, both a (now sending "late") and b (now accepting it) changed;
    # shipping only a against r1 pins the old b: broken. Shipping both is fine.
    wide_in = closed(
        ["id", "status"], id={"type": "string", "maxLength": 10}, status={"enum": ["ok", "late"]}
    )
    (root / "contracts/a_out.json").write_text(json.dumps(WIDER_OUT))
    (root / "contracts/b_in.json").write_text(json.dumps(wide_in))
    text = (root / "teamrel.yaml").read_text()
    text = text.replace("contracts/out.json", "contracts/a_out.json", 1)
    text = text.replace("input: contracts/in.json", "input: contracts/b_in.json", 2)
    text = text.replace("input: contracts/b_in.json", "input: contracts/in.json", 1)
    (root / "teamrel.yaml").write_text(text)
    code, out = invoke("-C", str(root), "check", "--format", "json")
    assert code == 0, out
    code, out = invoke("-C", str(root), "check", "--against", "r1", "--format", "json")
    assert code == 0, out  # nothing selected: a and b both come from the working tree
    code, out = invoke("-C", str(root), "check", "--against", "r1", "-m", "a", "--format", "json")
    assert code == 1, out
    doc = json.loads(out)
    assert doc["pinned_members"] == ["b"]
    assert doc["base"]["release"] == "r1" and doc["base"]["kind"] == "manifest"
    edge = doc["edges"][0]
    assert edge["consumer"] == {"name": "b", "version": "1.0.0", "pinned": True}
    manifest = root / "manifests/cli/r1.json"
    code, out = invoke("-C", str(root), "check", "--against", str(manifest), "-m", "a")
    assert code == 1 and "(pinned)" in out
    assert invoke("-C", str(root), "check", "--against", "nope.json")[0] == 3


def test_against_an_environment_uses_its_live_release(tmp_path: Path) -> None:
    root = ws(tmp_path)
    text = (root / "teamrel.yaml").read_text()
    (root / "teamrel.yaml").write_text(text + "environments:\n  staging: {}\n")
    assert invoke("-C", str(root), "release", "--name", "r1")[0] == 0
    assert invoke("-C", str(root), "promote", "r1", "--env", "staging")[0] == 0
    (root / "contracts/a_out.json").write_text(json.dumps(WIDER_OUT))
    text = (root / "teamrel.yaml").read_text()
    (root / "teamrel.yaml").write_text(
        text.replace("contracts/out.json", "contracts/a_out.json", 1)
    )
    code, out = invoke("-C", str(root), "check", "--against", "staging", "--format", "json")
    assert code == 1, out
    doc = json.loads(out)
    assert doc["base"]["kind"] == "env" and doc["base"]["env"] == "staging"
    assert doc["base"]["release"] == "r1"
    result = runner.invoke(app, ["-C", str(root), "check", "--against", "r9"])
    assert result.exit_code == 2  # neither a declared environment nor a release: say both
    assert "--against 'r9': no environment, release under manifests/" in result.stderr
    assert "environments: staging" in result.stderr
    # plan against the environment sees the change
    code, out = invoke("-C", str(root), "plan", "--env", "staging", "--format", "json")
    assert code == 1
    plan = json.loads(out)
    assert plan["base"]["env"] == "staging" and plan["base"]["release"] == "r1"
    a = next(m for m in plan["members"] if m["name"] == "a")
    assert a["category"] == "breaking" and a["blast_radius"]["hit"] == ["b"]


def test_changed_since_checks_only_the_edges_of_changed_members(tmp_path: Path) -> None:
    from teamkit import git

    root = ws(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    code, out = invoke("-C", str(root), "check", "--changed-since", "HEAD", "--format", "json")
    assert code == 0 and json.loads(out)["edges"] == []
    (root / "prompts/c.md").write_text("C, now terser.\n")
    code, out = invoke("-C", str(root), "check", "--changed-since", "HEAD", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["selected_members"] == ["c"]
    assert [e["key"] for e in doc["edges"]] == ["b->c"]
    result = runner.invoke(app, ["-C", str(root), "check", "--changed-since", "no-such-branch"])
    assert result.exit_code == 2
    # not "git rev-parse --verify --quiet no-such-branch^{commit} failed: exit status 1"
    assert "--changed-since 'no-such-branch': no such commit, branch or tag" in result.stderr
    assert "fetch-depth" in result.stderr and "rev-parse" not in result.stderr


def test_a_cache_committed_to_git_is_never_trusted(tmp_path: Path) -> None:
    from teamkit import git

    root = broken(tmp_path)
    assert invoke("-C", str(root), "check")[0] == 1
    assert (root / ".teamrel" / ".gitignore").read_text().splitlines()[-1] == "*"
    # a pull request forges the cached report into a pass and commits it past the .gitignore
    report = root / ".teamrel" / "cache" / "check-report.json"
    forged = report.read_text().replace('"incompatible"', '"compatible"')
    report.write_text(forged.replace('"passed": false', '"passed": true'))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "add", "-f", ".teamrel")
    git(root, "commit", "-qm", "forged cache")
    code, out = invoke("-C", str(root), "check", "--format", "json")
    assert code == 1
    assert json.loads(out)["passed"] is False


def test_stale_scorecard_is_a_warning_in_every_format(demo_copy: Path) -> None:
    """check says a scorecard measured another configuration, in each format, and still
    exits 0: evals are the gates' business, not the handoffs'."""
    results = demo_copy / "r.jsonl"
    results.write_text("".join(f'{{"id": "c{i}", "pass": true}}\n' for i in range(20)))
    rec = ["-C", str(demo_copy), "eval", "record", "router", str(results), "--suite", "routing"]
    assert runner.invoke(app, rec).exit_code == 0
    base = ["-C", str(demo_copy), "check"]
    result = runner.invoke(app, base)
    assert result.exit_code == 0 and "stale" not in result.stdout and "warning" not in result.stdout
    prompt = demo_copy / "prompts" / "router.md"
    prompt.write_text(prompt.read_text() + "\nBe brief.\n")
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.stdout
    assert "warning: router's `routing` scorecard measured" in result.stdout
    result = runner.invoke(app, [*base, "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["passed"] and [w["code"] for w in doc["warnings"]] == ["stale-scorecard"]
    assert doc["warnings"][0]["file"] == "evals/scorecards/router/routing.json"
    result = runner.invoke(app, [*base, "--format", "github"])
    assert result.exit_code == 0
    assert "::warning file=evals/scorecards/router/routing.json,title=stale-scorecard::" in (
        result.stdout
    )
    result = runner.invoke(app, [*base, "--format", "sarif"])
    sarif = json.loads(result.stdout)["runs"][0]
    stale = [r for r in sarif["results"] if r["ruleId"] == "stale-scorecard"]
    assert len(stale) == 1 and stale[0]["level"] == "warning"
    assert sarif["tool"]["driver"]["rules"][stale[0]["ruleIndex"]]["id"] == "stale-scorecard"
    result = runner.invoke(app, [*base, "--format", "junit"])
    assert result.exit_code == 0
    suite = etree.fromstring(result.stdout.encode()).find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    out = suite.find("system-out")
    assert out is not None and "router's `routing` scorecard measured" in (out.text or "")
    # the cached report (files unchanged) says it too; re-recording makes it fresh again
    assert "warning: router's" in runner.invoke(app, base).stdout
    assert runner.invoke(app, rec).exit_code == 0
    assert "warning" not in runner.invoke(app, base).stdout
