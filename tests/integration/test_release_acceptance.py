"""Release acceptance: release r1 and r2 of the demo, promote both to prod, roll back, resolve.

Runs on SQLite always and on PostgreSQL when TEAMREL_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from teamrel.manifest import read_manifest

from .conftest import Cli


def _schema() -> dict[str, object]:
    text = resources.files("teamrel").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    doc: dict[str, object] = json.loads(text)
    return doc


def _prompt_files(ws: Path) -> dict[str, bytes]:
    team = yaml.safe_load((ws / "teamrel.yaml").read_text("utf-8"))
    return {
        name: (ws / spec["prompt"]).read_bytes()
        for name, spec in team["members"].items()
        if spec.get("kind", "agent") == "agent"
    }


def _json(out: str) -> dict[str, object]:
    doc = json.loads(out)
    assert isinstance(doc, dict) and isinstance(doc.get("format_version"), int)
    return doc


def test_release_promote_rollback_resolve(cli: Cli) -> None:
    ws = cli.ws
    r1_prompts = _prompt_files(ws)

    code, out, err = cli("release", "--format", "json")
    assert code == 0, err
    first = _json(out)
    assert (first["release"], first["created"]) == ("r1", True)

    # releasing identical content again is idempotent
    code, out, err = cli("release", "--format", "json")
    assert code == 0, err
    assert (_json(out)["release"], _json(out)["created"]) == ("r1", False)

    # change the router: new prompt, patch version
    router_md = ws / "prompts" / "router.md"
    router_md.write_text(router_md.read_text("utf-8") + "\nAlways answer in haiku.\n", "utf-8")
    yml = ws / "teamrel.yaml"
    team = yaml.safe_load(yml.read_text("utf-8"))
    major, minor, patch = team["members"]["router"]["version"].split(".")[:3]
    team["members"]["router"]["version"] = f"{major}.{minor}.{int(patch.split('-')[0]) + 1}"
    yml.write_text(yaml.safe_dump(team, sort_keys=False), "utf-8")
    code, out, err = cli("release", "--format", "json")
    assert code == 0, err
    second = _json(out)
    assert second["release"] == "r2" and second["parent"] == first["digest"]

    validator = jsonschema.Draft202012Validator(_schema())
    for name in ("r1", "r2"):
        path = ws / "manifests" / "support" / f"{name}.json"
        validator.validate(json.loads(path.read_text("utf-8")))
        assert read_manifest(path).release == name

    assert cli("promote", "r1", "--env", "prod", "--reason", "first release")[0] == 0
    code, out, err = cli(
        "promote", "r2", "--env", "prod", "--expect", "r1", "--reason", "haiku router"
    )
    assert code == 0, err
    assert "r2" in out and "prod" in out

    code, out, err = cli("rollback", "--env", "prod", "--reason", "customers hate haiku")
    assert code == 0, err
    line = out.strip()
    assert "\n" not in line
    assert "r1" in line and "r2" in line and "tester" in line and "customers hate haiku" in line
    # the working tree still declares r2's router: warned, so it is not re-shipped blindly
    assert "router" in err and "rolled back" in err

    # the working tree moves on: resolve must not care
    router_md.write_text("something else entirely\n", "utf-8")
    (ws / "contracts" / "ticket.json").write_text("{}", "utf-8")

    code, out, err = cli("resolve", "--env", "prod", "--format", "json")
    assert code == 0, err
    doc = _json(out)
    assert doc["release"] == "r1"
    r1 = read_manifest(ws / "manifests" / "support" / "r1.json")
    assert doc["manifest_digest"] == r1.digest
    members = doc["members"]
    assert isinstance(members, dict) and set(members) == set(r1.members)
    snapshots = ws / "manifests" / "support" / "snapshots"
    for name, entry in r1.members.items():
        assert members[name]["digest"] == entry.digest
        snap = json.loads((snapshots / f"{entry.digest[7:]}.json").read_text("utf-8"))
        assert members[name]["spec"] == snap
    for name, raw in r1_prompts.items():
        assert members[name]["spec"]["prompt"]["text"].encode("utf-8") == raw, name

    code, out, _ = cli("resolve", "--env", "prod", "--member", "router", "--format", "json")
    assert code == 0 and list(_json(out)["members"]) == ["router"]  # type: ignore[call-overload]

    code, out, _ = cli("history", "--env", "prod", "--format", "json")
    assert code == 0
    events = _json(out)["events"]
    assert isinstance(events, list)
    assert [(e["action"], e["release_from"], e["release_to"]) for e in events] == [
        ("rollback", "r2", "r1"),
        ("promote", "r1", "r2"),
        ("promote", None, "r1"),
    ]
    assert [e["reason"] for e in events] == [
        "customers hate haiku",
        "haiku router",
        "first release",
    ]
    assert {e["actor"] for e in events} == {"tester"}
    assert events[0]["prev_hash"] == events[1]["hash"]

    code, out, _ = cli("status", "--format", "json")
    status = _json(out)
    prod = next(e for e in status["environments"] if e["name"] == "prod")  # type: ignore[attr-defined]
    assert (prod["release"], prod["last_action"], prod["updated_by"]) == (
        "r1",
        "rollback",
        "tester",
    )
    assert prod["rolled_back"] == ["r2"]

    code, out, _ = cli("diff", "r1", "env:prod", "--format", "json")
    assert code == 0 and _json(out)["identical"] is True
    code, out, _ = cli("diff", "r1", "r2", "--format", "json")
    changed = [m for m in _json(out)["members"] if m["status"] != "unchanged"]  # type: ignore[attr-defined]
    assert [m["name"] for m in changed] == ["router"]
    assert set(changed[0]["changes"]) >= {"version", "prompt_digest"}

    code, out, err = cli("verify")
    assert code == 0, out + err


def test_a_fresh_clone_promotes_committed_releases(cli: Cli, tmp_path: Path) -> None:
    assert cli("release")[0] == 0
    # a fresh clone: the workspace and manifests/, but an empty store
    clone = tmp_path / "clone"
    shutil.copytree(cli.ws, clone, ignore=shutil.ignore_patterns(".teamrel"))
    url = cli.url.replace("state.db", "clone.db") if cli.url.startswith("sqlite") else cli.url
    other = Cli(clone, url)
    if url == cli.url:  # PostgreSQL: same store, nothing to import; use a new env instead
        code, out, err = other("promote", "r1", "--env", "staging")
    else:
        code, out, err = other("promote", "r1", "--env", "staging")
    assert code == 0, err
    code, out, _ = other("history", "--format", "json")
    actions = [e["action"] for e in _json(out)["events"]]  # type: ignore[attr-defined]
    assert actions[0] == "promote"
    assert ("import" in actions) == (url != cli.url)
