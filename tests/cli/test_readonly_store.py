"""Read-only commands on a fresh clone (no state store yet) create no state store.

status, history, diff, resolve, verify, plan and check only read: without a store they answer
"nothing released yet" (or, where a state is required, exit 3 naming the missing store) and
leave no `.teamrel/state.db` behind. Writes (release, promote, rollback) still create it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clikit import cli_runner

from teamrel.cli.app import app
from teamrel.context import Context

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def clone(demo_copy: Path) -> Path:
    """The demo workspace as a fresh clone has it: with its released manifests, no store."""
    shutil.copytree(REPO / "manifests", demo_copy / "manifests")
    shutil.copytree(REPO / "evals", demo_copy / "evals")
    assert not (demo_copy / ".teamrel").exists()
    return demo_copy


def invoke(ws: Path, *args: str, db: str | None = None) -> tuple[int, str, str]:
    result = cli_runner().invoke(
        app,
        ["-C", str(ws), *args],
        env={"TEAMREL_ACTOR": "carol", "TEAMREL_DATABASE_URL": db, "TEAMREL_FAULT": None},
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def state_files(ws: Path) -> list[str]:
    return sorted(p.name for p in (ws / ".teamrel").glob("state.db*"))


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["status"], 0, "0 release(s), latest none"),
        (["status", "--env", "prod"], 0, "nothing live"),
        (["history"], 0, "no events"),
        (["history", "--env", "prod"], 0, "no events"),
        (["verify"], 0, "everything matches its digest"),
        # two releases committed as files: no store needed
        (["diff", "r1", "r2"], 0, "r1 (r1) -> r2 (r2)"),
        (["plan", "--env", "staging"], 0, "base: env staging (nothing live)"),
        (["plan"], 0, "base: release r2"),
        (["check", "--against", "staging"], 0, "teamrel check passed"),
    ],
)
def test_read_only_commands_create_no_store(
    clone: Path, args: list[str], code: int, expected: str
) -> None:
    rc, out, err = invoke(clone, *args)
    assert rc == code, out + err
    assert expected in out, out
    assert state_files(clone) == []
    if args[0] not in ("plan", "check"):
        # plan and check keep their result cache under .teamrel/cache/: nothing else may
        assert not (clone / ".teamrel").exists()


@pytest.mark.parametrize(
    "args", [["resolve", "--env", "prod"], ["diff", "r2", "prod"], ["resolve", "--env", "staging"]]
)
def test_a_state_that_is_required_names_the_missing_store(clone: Path, args: list[str]) -> None:
    rc, out, err = invoke(clone, *args)
    assert rc == 3, out + err
    assert "state store" in err and "state.db does not exist yet" in err, err
    rc, out, _ = invoke(clone, "--format", "json", *args)
    doc = json.loads(out)
    assert rc == 3 and doc["error"] == "NotFoundError" and "does not exist yet" in doc["message"]
    assert not (clone / ".teamrel").exists()


def test_json_status_of_a_fresh_clone(clone: Path) -> None:
    rc, out, err = invoke(clone, "--format", "json", "status")
    assert rc == 0, out + err
    doc = json.loads(out)
    assert (doc["releases"], doc["latest_release"]) == (0, None)
    assert {e["name"]: e["release"] for e in doc["environments"]} == {
        "staging": None,
        "prod": None,
    }
    rc, out, err = invoke(clone, "--format", "json", "verify")
    assert rc == 0, out + err
    assert json.loads(out)["checked"]["files"] > 0  # the committed manifests are still verified
    assert not (clone / ".teamrel").exists()


def test_a_sqlite_url_that_does_not_exist_is_not_created(clone: Path, tmp_path: Path) -> None:
    db = tmp_path / "elsewhere" / "state.db"
    rc, out, err = invoke(clone, "status", db=f"sqlite:///{db}")
    assert rc == 0, out + err
    assert not db.parent.exists()
    rc, out, err = invoke(clone, "--db", f"sqlite:///{db}", "history")
    assert rc == 0, out + err
    assert not db.parent.exists()


def test_writes_still_create_the_store(clone: Path) -> None:
    rc, out, err = invoke(clone, "release", "--promote", "staging")
    assert rc == 0, out + err
    assert state_files(clone)[0] == "state.db"
    rc, out, err = invoke(clone, "status")
    assert rc == 0 and "1 release(s), latest r3" in out, out + err
    rc, out, err = invoke(clone, "resolve", "--env", "staging")
    assert rc == 0 and "release r3" in out, out + err
    rc, out, err = invoke(clone, "plan", "--env", "staging")
    assert rc == 0 and "base: env staging (r3" in out, out + err


def test_a_write_after_a_read_in_one_context_reaches_the_real_store(clone: Path) -> None:
    ctx = Context(clone)
    try:
        assert ctx.status().environments[0].release is None  # the stand-in: nothing created
        assert not (clone / ".teamrel").exists()
        ctx.release(promote="staging", actor="carol")
        assert (clone / ".teamrel" / "state.db").is_file()
        assert {e.name: e.release for e in ctx.status().environments}["staging"] == "r3"
    finally:
        ctx.close_store()
    reopened = Context(clone)
    try:
        assert {e.name: e.release for e in reopened.status().environments}["staging"] == "r3"
    finally:
        reopened.close_store()
