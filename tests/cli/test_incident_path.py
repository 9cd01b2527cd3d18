"""The incident path touches only what it needs: environment rules from the digest-keyed
index (no workspace parse), rollback's result before the working-tree comparison,
`--no-workspace-check`, and `resolve` that reads one member, or streams the whole team."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_release_cli import Run, edit, write_ws

from teamrel import release as rel
from teamrel import rules
from teamrel.context import Context
from teamrel.store import Store


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    yield Run(write_ws(tmp_path / "ws"))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `teamrel.yaml` was parsed from, whole, during the test."""
    seen: list[str] = []
    real = rules.parse_yaml

    def counting(text: str, file: str) -> Any:
        seen.append(file)
        return real(text, file)

    monkeypatch.setattr(rules, "parse_yaml", counting)
    return seen


def _two_releases_live(run: Run) -> None:
    assert run("release")[0] == 0
    edit(run.ws, "a", "You are A, v2.\n", "1.0.1")
    assert run("release")[0] == 0
    assert run("promote", "r1", "--env", "staging")[0] == 0
    assert run("promote", "r2", "--env", "staging")[0] == 0


def test_rules_come_from_the_index_until_teamrel_yaml_changes(
    run: Run, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_releases_live(run)  # release loaded the workspace: the index knows this file
    parses.clear()

    def no_workspace(self: Context) -> Any:
        raise AssertionError("the workspace was loaded")

    monkeypatch.setattr(Context, "load", no_workspace)
    env = ["--env", "staging"]
    assert run("status")[0] == 0
    assert run("history", "--limit", "1")[0] == 0
    assert run("resolve", *env, "--member", "a")[0] == 0
    assert run("rollback", *env, "--no-workspace-check")[0] == 0
    assert run("promote", "r2", *env)[0] == 0
    assert parses == []  # not even teamrel.yaml alone

    # tighter rules in the working tree take effect at once: the index is keyed by the bytes
    doc = yaml.safe_load((run.ws / "teamrel.yaml").read_text("utf-8"))
    doc["environments"]["staging"] = {"require_reason": True}
    (run.ws / "teamrel.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")
    code, _, err = run("rollback", *env, "--no-workspace-check")
    assert code == 3 and "requires a reason" in err, err
    assert parses == ["teamrel.yaml"]  # parsed once (teamrel.yaml alone), then remembered
    assert run("rollback", *env, "--no-workspace-check", "--reason", "INC-7")[0] == 0
    assert parses == ["teamrel.yaml"]


@pytest.mark.parametrize(
    "damage", ["{not json", '{"format_version": 99, "entries": {}}', '{"format_version": 1}']
)
def test_a_damaged_index_is_parsed_around(run: Run, parses: list[str], damage: str) -> None:
    _two_releases_live(run)
    (run.ws / ".teamrel" / rules.INDEX_FILE).write_text(damage, "utf-8")
    parses.clear()
    code, _, err = run("promote", "r1", "--env", "prod")
    assert code == 3 and "requires a reason" in err
    assert parses == ["teamrel.yaml"]
    assert run("promote", "r1", "--env", "prod", "--reason", "x")[0] == 0
    assert parses == ["teamrel.yaml"]  # rewritten


def test_an_index_tracked_by_git_is_ignored(run: Run, parses: list[str]) -> None:
    import subprocess

    _two_releases_live(run)
    index = run.ws / ".teamrel" / rules.INDEX_FILE
    doc = json.loads(index.read_text("utf-8"))
    key = rules.file_key((run.ws / "teamrel.yaml").read_bytes())
    doc["entries"][key]["environments"]["prod"] = {"require_reason": False}
    index.write_text(json.dumps(doc), "utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=run.ws, check=True)
    subprocess.run([*git, "add", "-f", str(index)], cwd=run.ws, check=True)
    subprocess.run([*git, "commit", "-qm", "forged"], cwd=run.ws, check=True)
    parses.clear()
    code, _, err = run("promote", "r1", "--env", "prod")
    assert code == 3 and "requires a reason" in err, err
    assert parses == ["teamrel.yaml"]


def test_a_teamrel_yaml_that_does_not_parse_is_reported_with_its_line(run: Run) -> None:
    _two_releases_live(run)
    path = run.ws / "teamrel.yaml"
    path.write_text(path.read_text("utf-8") + "environments: {}\n", "utf-8")
    code, out, err = run("rollback", "--env", "staging")
    assert code == 3 and "duplicate key 'environments'" in out + err, out + err


def test_rollback_prints_its_result_before_comparing_the_working_tree(run: Run) -> None:
    _two_releases_live(run)  # the working tree still declares r2
    code, out, err = run("rollback", "--env", "staging")
    assert code == 0 and out.startswith("ROLLED BACK duo/staging: r1"), out
    assert "warning: the working tree still declares exactly r2" in err, err
    assert run("promote", "r2", "--env", "staging")[0] == 0
    code, out, err = run("rollback", "--env", "staging", "--no-workspace-check")
    assert code == 0 and out.startswith("ROLLED BACK duo/staging: r1") and err == "", err
    # a working tree that no longer loads never blocks a rollback, nor hides its result
    assert run("promote", "r2", "--env", "staging")[0] == 0
    (run.ws / "prompts" / "b.md").unlink()
    code, out, err = run("rollback", "--env", "staging")
    assert code == 0 and out.startswith("ROLLED BACK"), out + err
    assert "could not compare the working tree with r2" in err, err


def test_resolve_one_member_reads_one_snapshot(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    _two_releases_live(run)
    asked: list[list[str]] = []
    real = Store.snapshots

    def counting(self: Store, digests: Any) -> Any:
        asked.append(list(digests))
        return real(self, digests)

    monkeypatch.setattr(Store, "snapshots", counting)
    doc = run.json("resolve", "--env", "staging", "--member", "b")
    assert list(doc["members"]) == ["b"] and [len(a) for a in asked] == [1]
    code, _, err = run("resolve", "--env", "staging", "--member", "nope")
    assert code == 3 and "has no member 'nope'" in err and "members: a, b" in err


def test_streamed_resolve_document_is_the_whole_document(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_releases_live(run)
    monkeypatch.setattr(rel.Resolution, "CHUNK", 1)  # every member its own store read
    ctx = Context(run.ws)
    try:
        res = ctx.resolve("staging")
        whole = res.to_json()
        text = "".join(res.iter_json())
        assert json.loads(text) == whole
        assert list(whole["members"]) == ["a", "b"]  # type: ignore[arg-type]
        # indented like every document, a member a line
        lines = text.splitlines()
        assert lines[:2] == ["{", '  "format_version": 1,'] and lines[-2:] == ["  }", "}"]
        assert [line.split(":")[0] for line in lines[-4:-2]] == ['    "a"', '    "b"']
        one = ctx.resolve("staging", "a")
        assert json.loads("".join(one.iter_json())) == one.to_json()
    finally:
        ctx.close_store()
    code, out, _ = run("resolve", "--env", "staging", "--format", "json")
    assert code == 0 and json.loads(out) == whole


def test_streamed_resolve_of_an_empty_team() -> None:
    res = rel.Resolution(
        team="t", environment="e", release="r", manifest_digest="sha256:" + "0" * 64,
        entries={}, load=lambda digests: {},
    )  # fmt: skip
    text = "".join(res.iter_json())
    assert json.loads(text) == res.to_json() and text.endswith('"members": {}\n}')
