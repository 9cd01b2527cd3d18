"""Where two releases meet (examples/story-e-releases-meet), on SQLite and PostgreSQL:
a rollback refused because responder@2.0.0 cannot read the `refund_amount_cents` that
refunds@1.3.0 persisted, with the witness, and allowed with --force --reason (audited);
`compat:` modes adding exactly the expected pairs with the releases still live; a rollout
start proved both ways; the external `orders` tool's widened output caught by `teamrel
drift` against prod while the working tree is green; and the demo's prod rollback proving
its persisted case updates."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from teamkit import validates

from .conftest import Cli

REPO = Path(__file__).resolve().parents[2]
STORY = REPO / "examples" / "story-e-releases-meet"
WITNESS = (
    "responder@2.0.0 (r1) cannot read a refund_decision with `refund_amount_cents` written by "
    "refunds@1.3.0 (r2)"
)


@pytest.fixture
def story(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The story's workspace with r1 then r2 promoted to prod (r1 also live in staging)."""
    monkeypatch.setenv("TEAMREL_ROLLBACK_GUARD_SECONDS", "0")
    root = tmp_path / "story-e"
    shutil.copytree(STORY, root, ignore=shutil.ignore_patterns(".teamrel"))
    cli = Cli(root, store_url)
    for args in (
        ("promote", "r1", "--env", "staging"),
        ("promote", "r1", "--env", "prod", "--reason", "first"),
        ("promote", "r2", "--env", "prod", "--reason", "amounts"),
    ):
        code, out, err = cli(*args)
        assert code == 0, out + err
    return cli


def _json(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(*args, "--format", "json")
    return code, json.loads(out or err)


def test_rollback_refused_with_the_witness_then_forced_and_audited(story: Cli) -> None:
    code, _out, err = story("rollback", "--env", "prod", "--reason", "INC-7: refunds stuck")
    assert code == 1
    assert "refusing to roll back prod" in err and "nothing was changed" in err
    assert WITNESS in err
    code, status = _json(story, "status", "--env", "prod")
    assert status["environments"][0]["release"] == "r2"  # the pointer did not move

    code, doc = _json(story, "rollback", "--env", "prod", "--reason", "INC-7")
    assert code == 1 and doc["error"] == "RollbackUnsafe"
    (finding,) = doc["findings"]
    assert finding.startswith(WITNESS)
    crossing = next(c for c in doc["safety"]["crossings"] if c["verdict"] != "compatible")
    assert crossing["handoff"] == "refunds->responder" and crossing["has_witness"]
    # the witness is real: refunds@1.3.0 may write it, responder@2.0.0 rejects it
    snaps = STORY / "manifests" / "story-e" / "snapshots"
    specs = [json.loads(p.read_text("utf-8")) for p in snaps.glob("*.json")]
    refunds = next(s for s in specs if s.get("version") == "1.3.0" and _prompt(s, "refunds"))
    responder = next(s for s in specs if s.get("version") == "2.0.0" and _prompt(s, "reply"))
    assert validates(refunds["output"], crossing["witness"])
    assert not validates(responder["input"], crossing["witness"])

    code, _, err = story("rollback", "--env", "prod", "--force")
    assert code == 3 and "requires a reason" in err  # prod's own rule comes first

    code, doc = _json(story, "rollback", "--env", "prod", "--reason", "INC-7", "--force")
    assert code == 0, doc
    assert doc["to_release"] == "r1" and doc["safety"]["safe"] is False
    code, history = _json(story, "history", "--env", "prod", "--limit", "1")
    event = history["events"][0]
    assert event["action"] == "rollback"
    assert event["reason"].startswith("INC-7 [rollback safety overridden: " + WITNESS)


def _prompt(spec: dict[str, Any], word: str) -> bool:
    prompt = spec.get("prompt")
    return isinstance(prompt, dict) and word in str(prompt.get("text"))


def test_rollback_to_a_release_that_reads_everything_is_not_refused(story: Cli) -> None:
    # promote r2 to staging over r1: rolling staging back is refused the same way...
    assert story("promote", "r2", "--env", "staging")[0] == 0
    code, _, err = story("rollback", "--env", "staging")
    assert code == 1 and WITNESS in err
    code, _, err = story("rollback", "--env", "staging", "--force")
    assert code == 2 and "--force needs --reason" in err
    # ...while a rollback whose target reads what was written goes through (r2 -> r2 is
    # trivially safe: promote r1, then roll back to r2, whose responder reads r1's refunds)
    assert story("promote", "r1", "--env", "staging")[0] == 0
    code, doc = _json(story, "rollback", "--env", "staging", "--to", "r2")
    assert code == 0 and doc["safety"]["safe"] is True


def test_backward_adds_the_live_producer_and_forward_the_live_consumers(story: Cli) -> None:
    # prod: r2 (the working tree), staging: r1. backward (the story's policy) proves the
    # refunds r1 still runs in staging against the new responder: one pair, compatible
    code, doc = _json(story, "check")
    assert code == 0
    added = [e for e in doc["edges"] if "compat_mode" in e]
    assert [(e["key"], e["verdict"]) for e in added] == [("refunds@1.2.0->responder", "compatible")]
    assert added[0]["compat_mode"]["releases"] == ["r1 (staging)"]
    assert doc["compat_modes"]["added"] == {"backward": 1, "forward": 0}
    assert [r["release"] for r in doc["compat_modes"]["live_releases"]] == ["r1", "r2"]

    # full: also the new producers against every consumer still live whose input differs
    # from the working tree's (responder@2.0.0 behind three handoffs: refunds@1.2.0 reads
    # what refunds@1.3.0 reads, so router->refunds adds nothing); one of them breaks
    yaml = story.ws / "teamrel.yaml"
    yaml.write_text(yaml.read_text("utf-8").replace("compat: backward ", "compat: full "))
    code, doc = _json(story, "check")
    assert code == 1
    added = {e["key"]: e["verdict"] for e in doc["edges"] if "compat_mode" in e}
    assert added == {
        "billing->responder@2.0.0": "compatible",
        "refunds@1.2.0->responder": "compatible",
        "refunds->responder@2.0.0": "incompatible",
        "escalation->responder@2.0.0": "compatible",
    }
    assert doc["compat_modes"]["added"] == {"backward": 1, "forward": 3}
    code, plan = _json(story, "plan", "--explain")
    assert code == 1
    assert [f["edge"] for f in plan["findings"] if f["code"] == "incompatible-live-pair"] == [
        "refunds->responder@2.0.0"
    ]
    assert len(plan["compat_modes"]["pairs"]) == 4
    code, markdown, _ = story("plan", "--format", "markdown")
    assert code == 1
    section = markdown.split("#### Compatibility modes", 1)[1]
    assert "1 backward and 3 forward pair(s) added" in section
    row = "| `refunds->responder@2.0.0` | ❌ incompatible | forward pair of refunds->responder"
    assert row in section


def test_transitive_reaches_releases_inside_the_retention_window(story: Cli) -> None:
    # staging moves to r2: r1 is live nowhere, so plain backward adds nothing...
    assert story("promote", "r2", "--env", "staging")[0] == 0
    _, doc = _json(story, "check")
    assert doc["compat_modes"]["added"] == {"backward": 0, "forward": 0}
    # ...but r1 was live within the last 30 days: backward-transitive proves it again
    yaml = story.ws / "teamrel.yaml"
    yaml.write_text(
        yaml.read_text("utf-8").replace("compat: backward ", "compat: backward-transitive ")
    )
    _, doc = _json(story, "check")
    assert doc["compat_modes"]["added"] == {"backward": 1, "forward": 0}
    (r1,) = [r for r in doc["compat_modes"]["live_releases"] if r["release"] == "r1"]
    assert r1["retained_only"] is True


def test_rollout_start_is_proved_both_ways(story: Cli) -> None:
    # prod has r2; a canary of r1 would have responder@2.0.0 read r2's refund amounts
    code, _, err = story("rollout", "start", "r1", "--env", "prod", "--reason", "canary")
    assert code == 1
    assert "refusing to start a rollout in prod" in err and WITNESS in err
    code, doc = _json(story, "rollout", "start", "r1", "--env", "prod", "--reason", "x", "--force")
    assert code == 0
    assert "[coexistence safety overridden: " in doc["rollout"]["reason"]


def test_drift_catches_the_widened_tool_output_while_the_tree_is_green(story: Cli) -> None:
    assert story("check")[0] == 0
    code, out, _ = story("drift", "--env", "prod")
    assert code == 1
    assert "DRIFT   orders in prod (r2), output_schema: now returns" in out
    assert '"status": "partially_refunded"' in out
    code, doc = _json(story, "drift", "--env", "prod")
    assert code == 1 and doc["passed"] is False
    bad = [r for r in doc["results"] if r["verdict"] == "incompatible"]
    assert [(r["member"], r["slot"], r["direction"]) for r in bad] == [
        ("orders", "output_schema", "live ⊆ pinned")
    ]
    assert bad[0]["witness"]["status"] == "partially_refunded"
    code, out, _ = story("check", "--live")
    assert code == 1 and "teamrel check passed" in out and "teamrel drift FAILED" in out
    # the orders team rolls its change back: no drift any more
    origin = story.ws / "origins" / "orders.json"
    live = json.loads(origin.read_text("utf-8"))
    live["output_schema"]["properties"]["status"]["enum"].remove("partially_refunded")
    origin.write_text(json.dumps(live), "utf-8")
    assert story("drift")[0] == 0


def _reorigin(story: Cli, origin: str) -> None:
    """Point the external `orders` tool at another origin and release that as r3 in prod."""
    yaml = story.ws / "teamrel.yaml"
    text = yaml.read_text("utf-8").replace("origin: {file: origins/orders.json}", origin)
    yaml.write_text(text, "utf-8")
    code, out, err = story("release", "--name", "r3", "--promote", "prod", "--reason", "origin")
    assert code == 0, out + err


def test_drift_reads_an_mcp_origin_from_the_live_server(story: Cli) -> None:
    """The orders tool served by a real MCP server (SDK): the server publishes the widened
    output, drift catches it; once the server's team reverts, drift passes."""
    server = REPO / "tests" / "mcp_servers" / "file_server.py"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(server))} orders origins/orders.json"
    _reorigin(story, f"origin: {{mcp: {{command: {json.dumps(command)}, tool: orders}}}}")
    code, doc = _json(story, "drift", "--env", "prod")
    assert code == 1, doc
    bad = [r for r in doc["results"] if r["verdict"] == "incompatible"]
    assert [(r["member"], r["slot"], r["origin"]) for r in bad] == [
        ("orders", "output_schema", "mcp")
    ]
    assert bad[0]["witness"]["status"] == "partially_refunded"
    origin = story.ws / "origins" / "orders.json"
    live = json.loads(origin.read_text("utf-8"))
    live["output_schema"]["properties"]["status"]["enum"].remove("partially_refunded")
    origin.write_text(json.dumps(live), "utf-8")
    code, doc = _json(story, "drift", "--env", "prod")
    assert code == 0 and {r["verdict"] for r in doc["results"]} == {"compatible"}


def test_drift_names_the_member_when_its_mcp_server_does_not_start(story: Cli) -> None:
    _reorigin(story, "origin: {mcp: {command: teamrel-no-such-server, tool: orders}}")
    code, _, err = story("drift", "--env", "prod")
    assert code == 3
    assert "member orders: MCP server command 'teamrel-no-such-server'" in err
    assert "Traceback" not in err


def test_drift_refuses_an_origin_outside_the_workspace(story: Cli, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}", "utf-8")
    yaml = story.ws / "teamrel.yaml"
    yaml.write_text(
        yaml.read_text("utf-8").replace("origins/orders.json", "../elsewhere.json"), "utf-8"
    )
    assert story("release", "--name", "r3", "--promote", "prod", "--reason", "x")[0] == 0
    code, _, err = story("drift", "--env", "prod")
    assert code == 3 and "member orders" in err and "elsewhere.json" in err


def test_demo_prod_rollback_proves_the_persisted_case_updates(
    demo_copy: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMREL_ROLLBACK_GUARD_SECONDS", "0")
    cli = Cli(demo_copy, store_url)
    assert cli("release", "--name", "r1")[0] == 0
    router = demo_copy / "prompts" / "router.md"
    router.write_text(router.read_text("utf-8") + "\nAlways answer in haiku.\n", "utf-8")
    yml = demo_copy / "teamrel.yaml"
    yml.write_text(yml.read_text("utf-8").replace("version: 2.1.0", "version: 2.1.1", 1), "utf-8")
    assert cli("release", "--name", "r2")[0] == 0
    for args in (
        ("promote", "r1", "--env", "prod", "--reason", "first"),
        ("promote", "r2", "--env", "prod", "--reason", "haiku router"),
    ):
        code, out, err = cli(*args)
        assert code == 0, out + err
    code, doc = _json(cli, "rollback", "--env", "prod", "--reason", "INC-9")
    assert code == 0, doc
    assert doc["to_release"] == "r1"
    crossings = doc["safety"]["crossings"]
    assert [c["handoff"] for c in crossings] == [
        "billing->responder",
        "refunds->responder",
        "tech_support->responder",
        "escalation->responder",
    ]
    assert {c["verdict"] for c in crossings} == {"compatible"}
    assert crossings[1]["message"] == (
        "responder@2.0.0 (r1) reads every case_update written by refunds@1.2.0 (r2)"
    )


def test_promote_primes_the_proof_so_the_incident_reads_it_from_the_cache(story: Cli) -> None:
    # `promote r2` (in the fixture) proved the rollback it made possible: the incident's
    # rollback finds the answer by the manifests' digests and never imports the engine
    cache = story.ws / ".teamrel" / "cache" / "release-pairs.json"
    assert cache.is_file()
    prelude = [
        "import atexit, sys",
        "atexit.register(lambda: sys.stderr.write("
        "'\\nENGINE IMPORTED\\n' if 'teamrel.compat' in sys.modules else '\\nNO ENGINE\\n'))",
    ]
    proc = story.popen(
        "rollback", "--env", "prod", "--reason", "INC", "--no-workspace-check", prelude=prelude
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and WITNESS in err
    assert "NO ENGINE" in err
    cache.unlink()  # a miss proves it again (and imports the engine to do so)
    proc = story.popen(
        "rollback", "--env", "prod", "--reason", "INC", "--no-workspace-check", prelude=prelude
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and WITNESS in err and "ENGINE IMPORTED" in err
    assert cache.is_file()


def test_a_pointer_moved_while_proving_is_a_conflict(story: Cli) -> None:
    from teamrel import release as rel
    from teamrel.context import Context
    from teamrel.errors import ConflictError

    ctx = Context(story.ws, db_url=story.url)
    try:
        team, envs = ctx.team_rules()
        store = ctx.store()

        class Safe:
            def refusals(self) -> list[str]:
                return []

            def to_json(self) -> dict[str, Any]:
                return {}

        def meanwhile(current: str, target: str) -> Safe:
            # another operator promotes r1 to prod while this rollback is being proved
            rel.promote(store, story.ws, team, envs, "r1", "prod", actor="other", reason="x")
            return Safe()

        with pytest.raises(ConflictError, match="changed while the rollback's safety"):
            rel.rollback(
                store, story.ws, team, envs, "prod", actor="me", reason="INC", safety=meanwhile
            )
        assert store.live_manifest(team, "prod").release == "r1"  # type: ignore[union-attr]
    finally:
        ctx.close_store()
