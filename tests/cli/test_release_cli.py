"""Release commands end to end (typer CliRunner): the check gate, protection rules, plans,
exit codes and the versioned JSON documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from clikit import cli_runner

from teamrel.cli.app import app

S2020 = "https://json-schema.org/draft/2020-12/schema"


def _closed(required: list[str], **props: Any) -> dict[str, Any]:
    return {
        "$schema": S2020,
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }


TICKET = _closed(["id"], id={"type": "string", "pattern": "^T-[0-9]{4}$"})
NEEDS_LOCALE = _closed(
    ["id", "locale"], id={"type": "string", "pattern": "^T-[0-9]{4}$"}, locale={"type": "string"}
)


def write_ws(root: Path, *, broken: bool = False) -> Path:
    """Two agents a -> b; `broken`: b requires a field a never sends."""
    root.mkdir(parents=True, exist_ok=True)
    files = {
        "contracts/ticket.json": TICKET,
        "contracts/b_in.json": NEEDS_LOCALE if broken else TICKET,
        "prompts/a.md": "You are A.\n",
        "prompts/b.md": "You are B.\n",
    }
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            content if isinstance(content, str) else json.dumps(content, indent=2), "utf-8"
        )
    team = {
        "team": "duo",
        "members": {
            "a": {
                "version": "1.0.0",
                "model": {"provider": "anthropic", "id": "claude-sonnet-4-5-20250929"},
                "prompt": "prompts/a.md",
                "input": "contracts/ticket.json",
                "output": "contracts/ticket.json",
            },
            "b": {
                "version": "1.0.0",
                "model": {"provider": "anthropic", "id": "claude-sonnet-4-5-20250929"},
                "prompt": "prompts/b.md",
                "input": "contracts/b_in.json",
                "output": "contracts/ticket.json",
            },
        },
        "handoffs": [{"from": "a", "to": "b"}],
        "environments": {
            "staging": {},
            "prod": {"require_reason": True, "allow_incompatible": False},
        },
    }
    (root / "teamrel.yaml").write_text(yaml.safe_dump(team, sort_keys=False), "utf-8")
    return root


def edit(ws: Path, member: str, prompt: str, version: str) -> None:
    """Change a member's prompt and version (a realistic patch release)."""
    (ws / "prompts" / f"{member}.md").write_text(prompt, "utf-8")
    doc = yaml.safe_load((ws / "teamrel.yaml").read_text("utf-8"))
    doc["members"][member]["version"] = version
    (ws / "teamrel.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), "utf-8")


class Run:
    def __init__(self, ws: Path) -> None:
        self.ws = ws
        self.runner = cli_runner()

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = self.runner.invoke(
            app,
            ["-C", str(self.ws), *args],
            env={"TEAMREL_ACTOR": "carol", "TEAMREL_DATABASE_URL": None, "TEAMREL_FAULT": None},
            catch_exceptions=False,
        )
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str, code: int = 0) -> dict[str, Any]:
        rc, out, err = self(*args, "--format", "json")
        assert rc == code, out + err
        doc = json.loads(out)
        assert isinstance(doc["format_version"], int)
        return doc  # type: ignore[no-any-return]


def _schema_check(root: Path) -> None:
    """Every manifest a test wrote must match the packaged JSON Schema."""
    schema = json.loads(
        resources.files("teamrel").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((root / "manifests").glob("*/*.json")):
        validator.validate(json.loads(path.read_text("utf-8")))


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    yield Run(write_ws(tmp_path / "ws"))
    _schema_check(tmp_path / "ws")


@pytest.fixture
def broken(tmp_path: Path) -> Iterator[Run]:
    yield Run(write_ws(tmp_path / "ws", broken=True))
    _schema_check(tmp_path / "ws")


def test_release_status_history_json(run: Run) -> None:
    doc = run.json("release")
    assert (doc["release"], doc["created"], doc["members"]) == ("r1", True, 2)
    assert doc["check"]["passed"] is True and doc["path"] == "manifests/duo/r1.json"
    assert (run.ws / "manifests" / "duo" / "r1.json").is_file()
    assert (run.ws / ".teamrel" / "state.db").is_file()
    status = run.json("status")
    assert status["latest_release"] == "r1"
    assert [e["name"] for e in status["environments"]] == ["staging", "prod"]
    assert all(e["release"] is None for e in status["environments"])
    events = run.json("history")["events"]
    assert [(e["action"], e["release_to"], e["actor"]) for e in events] == [
        ("release", "r1", "carol")
    ]


def test_failing_check_refuses_the_release(broken: Run) -> None:
    code, _, err = broken("release")
    assert code == 1
    assert "check did not pass" in err and "--allow-incompatible" in err
    assert not (broken.ws / "manifests").exists()
    assert broken.json("status")["releases"] == 0


def test_allow_incompatible_needs_a_reason_and_is_recorded(broken: Run) -> None:
    code, _, err = broken("release", "--allow-incompatible")
    assert code == 2 and "--reason" in err
    doc = broken.json("release", "--allow-incompatible", "--reason", "hotfix INC-7")
    assert doc["allow_incompatible"] == "hotfix INC-7" and doc["check"]["passed"] is False
    manifest = json.loads((broken.ws / "manifests" / "duo" / "r1.json").read_text("utf-8"))
    assert manifest["allow_incompatible"] == "hotfix INC-7"
    event = broken.json("history")["events"][0]
    assert event["reason"] == "hotfix INC-7" and event["details"]["allow_incompatible"] is True
    # prod forbids such releases; staging does not
    code, _, err = broken("promote", "r1", "--env", "prod", "--reason", "try")
    assert code == 3 and "allow_incompatible: false" in err
    assert broken("promote", "r1", "--env", "staging")[0] == 0


def test_release_promote_to_a_protected_env_is_refused(broken: Run) -> None:
    code, _, err = broken(
        "release", "--allow-incompatible", "--reason", "hotfix", "--promote", "prod"
    )
    assert code == 3 and "forbids --allow-incompatible" in err
    assert broken.json("status")["releases"] == 0


def test_require_reason_and_unknown_env(run: Run) -> None:
    assert run("release")[0] == 0
    code, _, err = run("promote", "r1", "--env", "prod")
    assert code == 3 and "require_reason" in err
    code, _, err = run("promote", "r1", "--env", "prdo", "--reason", "x")
    assert code == 2 and "unknown environment" in err
    doc = run.json("promote", "r1", "--env", "prod", "--reason", "go live")
    assert (doc["to_release"], doc["generation"], doc["reason"]) == ("r1", 1, "go live")
    code, _, err = run("rollback", "--env", "prod")
    assert code == 3 and "require_reason" in err


def test_release_names(run: Run) -> None:
    code, _, err = run("release", "--name", "../escape")
    assert code == 2 and "invalid release name" in err
    assert run.json("release", "--name", "2026.01-spring")["release"] == "2026.01-spring"
    (run.ws / "prompts" / "a.md").write_text("You are A, v2.\n", "utf-8")
    code, _, err = run("release", "--name", "2026.01-spring")
    assert code == 3 and "already exists" in err
    assert run.json("release")["release"] == "r1"


def test_rollback_refusals_are_one_line(run: Run) -> None:
    code, out, err = run("rollback", "--env", "staging")
    assert code == 3 and out == ""
    assert err.splitlines()[0].startswith("error: nothing to roll back")
    doc = run.json("rollback", "--env", "staging", code=3)
    assert doc["ok"] is False and doc["error"] == "NotFoundError"


def test_rollback_json_and_reship_warning(run: Run) -> None:
    assert run("release")[0] == 0
    (run.ws / "prompts" / "b.md").write_text("You are B, improved.\n", "utf-8")
    assert run("release")[0] == 0
    assert run("promote", "r1", "--env", "staging")[0] == 0
    assert run("promote", "r2", "--env", "staging")[0] == 0
    code, out, err = run("rollback", "--env", "staging", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["from_release"], doc["to_release"], doc["rolled_back"]) == ("r2", "r1", ["r2"])
    assert doc["warnings"] and "b" in doc["warnings"][0]
    assert "warning:" in err


def test_release_from_a_reviewed_plan(run: Run) -> None:
    plan = run.ws / "plan.json"
    assert run("release")[0] == 0
    edit(run.ws, "a", "You are A, v2.\n", "1.0.1")
    code, out, err = run("plan", "--out", str(plan))
    assert code in (0, 4), out + err
    # the working tree changes after the review: refused
    edit(run.ws, "a", "You are A, v3.\n", "1.0.1")
    code, _, err = run("release", "--plan", str(plan))
    assert code == 3 and "no longer matches the reviewed plan" in err
    edit(run.ws, "a", "You are A, v2.\n", "1.0.1")
    doc = run.json("release", "--plan", str(plan))
    assert doc["release"] == "r2" and doc["created"] is True


def test_a_stale_plan_is_refused(run: Run) -> None:
    plan = run.ws / "plan.json"
    assert run("release")[0] == 0
    edit(run.ws, "a", "You are A, v2.\n", "1.0.1")
    code, out, err = run("plan", "--out", str(plan))
    assert code in (0, 4), out + err
    # someone else releases first: the plan's base has moved
    edit(run.ws, "b", "You are B, v2.\n", "1.0.1")
    assert run("release")[0] == 0
    edit(run.ws, "b", "You are B.\n", "1.0.0")
    code, _, err = run("release", "--plan", str(plan))
    assert code == 3 and "stale plan" in err


def test_diff_verify_resolve(run: Run) -> None:
    assert run("release")[0] == 0
    (run.ws / "prompts" / "a.md").write_text("You are A, v2.\n", "utf-8")
    assert run("release")[0] == 0
    assert run("promote", "r2", "--env", "staging")[0] == 0
    doc = run.json("diff", "r1", "staging")
    assert doc["summary"] == {"added": 0, "removed": 0, "changed": 1, "unchanged": 1}
    changed = next(m for m in doc["members"] if m["status"] == "changed")
    assert "-You are A." in changed["prompt_diff"] and "+You are A, v2." in changed["prompt_diff"]
    code, out, _ = run("diff", "r1", "r2")
    assert code == 0 and "+You are A, v2." in out
    doc = run.json("diff", "manifests/duo/r1.json", "release:r1")
    assert doc["identical"] is True
    code, _, err = run("diff", "r1", "nope")
    assert code == 3 and "neither" in err
    assert run.json("verify")["ok"] is True
    doc = run.json("resolve", "--env", "staging", "--member", "a")
    assert doc["members"]["a"]["spec"]["prompt"]["text"] == "You are A, v2.\n"
    code, out, _ = run("resolve", "--env", "staging", "--member", "a")
    assert code == 0 and "You are A, v2." in out
    code, _, err = run("resolve", "--env", "prod")
    assert code == 3 and "nothing is live" in err


def test_release_and_promote_then_walk_back_explicitly(run: Run) -> None:
    doc = run.json("release", "--promote", "staging", "--actor", "dave")
    assert doc["promotion"]["to_release"] == "r1" and doc["promotion"]["actor"] == "dave"
    for i in (2, 3):
        edit(run.ws, "a", f"You are A, v{i}.\n", f"1.0.{i}")
        assert run.json("release", "--promote", "staging")["promotion"]["to_release"] == f"r{i}"
    doc = run.json("rollback", "--env", "staging", "--steps", "2")
    assert (doc["to_release"], doc["rolled_back"]) == ("r1", ["r3", "r2"])
    code, _, err = run("rollback", "--env", "staging", "--to", "r3")
    assert code == 2 and "promote it explicitly" in err
    assert run.json("promote", "r3", "--env", "staging")["to_release"] == "r3"
    doc = run.json("rollback", "--env", "staging", "--to", "r1")
    assert doc["rolled_back"] == ["r3"]
    events = run.json("history", "--env", "staging", "--limit", "2")["events"]
    assert [e["action"] for e in events] == ["rollback", "promote"]


def test_an_unreachable_store_is_one_clear_error(run: Run) -> None:
    code, out, err = run("--db", "postgresql+psycopg://nobody:pw@127.0.0.1:1/none", "status")
    assert code == 3 and out == ""
    assert err.startswith("error: cannot open the state store") and "Traceback" not in err
    assert ":pw@" not in err
