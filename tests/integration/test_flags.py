"""Feature flag values per environment on SQLite and PostgreSQL (docs/flags.md): `flags set`
is one transaction with CAS and an audit event, refused for a state the live release did not
prove; `rollback` leaves values alone; a runtime decides a run's flags once, hears of a change
by its change feed, and serves the variant the flags select."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from teamrel.runtime import Runtime
from teamrel.store import open_store

from .conftest import Cli, assert_manifests_match_schema

REPO = Path(__file__).resolve().parents[2]


def _ok(cli: Cli, *args: str) -> dict:
    code, out, err = cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_set_status_history_and_rollback_leaves_flag_values_alone(cli: Cli) -> None:
    assert cli("release", "--promote", "staging")[0] == 0
    change = _ok(cli, "flags", "set", "staging", "refund_v2", "--percent", "10")["change"]
    assert change["before"] is None and change["after"]["percent"] == 10
    status = _ok(cli, "flags", "status", "staging")
    (env,) = status["environments"]
    assert env["release"] == "r1"
    assert [(f["flag"], f["value"], f["set"]) for f in env["flags"]] == [("refund_v2", "10%", True)]
    # a second release, promoted, then rolled back: the flag value is the environment's
    router = cli.ws / "prompts" / "router.md"
    router.write_text(router.read_text("utf-8") + "\nBe brief.\n", "utf-8")
    assert cli("release", "--promote", "staging")[0] == 0
    assert (
        _ok(cli, "flags", "set", "staging", "refund_v2", "on")["change"]["after"]["state"] == "on"
    )
    assert cli("rollback", "--env", "staging", "--reason", "INC-1")[0] == 0
    (env,) = _ok(cli, "flags", "status", "staging")["environments"]
    assert env["release"] == "r1" and env["flags"][0]["value"] == "on"
    history = _ok(cli, "flags", "history", "staging")["changes"]
    assert [(h["flag"], h["from"], h["to"], h["release"]) for h in history] == [
        ("refund_v2", None, "10%", "r1"),
        ("refund_v2", "10%", "on", "r2"),
    ]
    # setting the same value again changes nothing and logs nothing
    assert _ok(cli, "flags", "set", "staging", "refund_v2", "on")["change"]["noop"] is True
    assert len(_ok(cli, "flags", "history", "staging")["changes"]) == 2
    code, out, _ = cli("verify")
    assert code == 0, out


def test_the_environment_rules_apply_to_flags(cli: Cli) -> None:
    code, _, err = cli("flags", "set", "prod", "refund_v2", "on")
    assert code == 3 and "requires a reason to set a flag" in err
    code, _, err = cli("flags", "set", "prod", "refund_v2", "on", "--reason", "go")
    assert code == 3 and "nothing is live in prod" in err
    code, _, err = cli("flags", "set", "staging", "refund_v2", "maybe")
    assert code == 2 and "on, off or --percent" in err
    code, _, err = cli("flags", "set", "staging", "refund_v2", "--percent", "101")
    assert code == 2


def test_a_state_the_live_release_did_not_prove_is_refused(tmp_path: Path, store_url: str) -> None:
    ws = tmp_path / "flags"
    shutil.copytree(REPO / "examples" / "flags", ws, ignore=shutil.ignore_patterns(".teamrel"))
    cli = Cli(ws, store_url)
    code, _, err = cli(
        "release", "--promote", "staging", "--allow-incompatible", "--reason", "radar not ready"
    )
    assert code == 0, err
    for value in (["on"], ["--percent", "5"]):
        code, _, err = cli("flags", "set", "staging", "radar", *value)
        assert code == 3
        assert "state with `radar` on" in err and "broken" in err and "nothing was changed" in err
    assert cli("flags", "set", "staging", "umbrella_first", "--percent", "50")[0] == 0
    code, _, err = cli("flags", "set", "staging", "nope", "on")
    assert code == 3 and "declares no flag 'nope'" in err
    store = open_store(store_url, None)
    try:
        events = [e.action for e in store.events("weather-desk", "staging")]
        assert events.count("flag") == 1  # the refused changes wrote nothing
    finally:
        store.close()
    assert assert_manifests_match_schema(ws) == 1


def test_a_run_keeps_its_flags_and_the_next_run_hears_the_kill_switch(cli: Cli) -> None:
    assert cli("release", "--promote", "staging")[0] == 0
    assert cli("flags", "set", "staging", "refund_v2", "on")[0] == 0
    with Runtime(cli.url, ttl=30) as rt:
        with rt.run("support", "staging", key="conversation-1") as team:
            assert team.flag("refund_v2") is True
            refunds = team.member("refunds")
            assert refunds.version == "1.3.0"
            assert "policy v2" in refunds.spec["prompt"]["text"]  # type: ignore[index]
            # the kill switch, mid-conversation: this run keeps its state to the end
            assert cli("flags", "set", "staging", "refund_v2", "off")[0] == 0
            assert team.flag("refund_v2") is True
            assert team.member("refunds").digest == refunds.digest
        # the next run hears of it through the change feed (PostgreSQL: pushed by NOTIFY,
        # heard by a thread), well before the 30 s TTL
        deadline = time.monotonic() + 5
        while True:
            with rt.run("support", "staging", key="conversation-1") as team:
                if not team.flag("refund_v2") or time.monotonic() > deadline:
                    break
            time.sleep(0.01)
        assert team.flag("refund_v2") is False
        assert team.member("refunds").version == "1.2.0"
        # percentages: sticky per key, decided at the start of each run
        assert cli("flags", "set", "staging", "refund_v2", "--percent", "50")[0] == 0
        rt.invalidate()
        seen = {}
        for i in range(200):
            with rt.run("support", "staging", key=f"user-{i}") as team:
                seen[i] = team.flag("refund_v2")
        assert 60 < sum(seen.values()) < 140
        for i in range(0, 200, 7):
            with rt.run("support", "staging", key=f"user-{i}") as team:
                assert team.flag("refund_v2") == seen[i]
                assert (team.member("refunds").version == "1.3.0") == seen[i]


def test_an_open_rollouts_candidate_must_have_proved_the_state_too(
    tmp_path: Path, store_url: str
) -> None:
    ws = tmp_path / "flags"
    shutil.copytree(REPO / "examples" / "flags", ws, ignore=shutil.ignore_patterns(".teamrel"))
    expected = ws / "contracts" / "radar_expected.json"
    broken = expected.read_text("utf-8")
    # r1: the forecaster accepts what the radar returns, so `radar` on holds
    expected.write_text((ws / "contracts" / "radar_output.json").read_text("utf-8"), "utf-8")
    cli = Cli(ws, store_url)
    assert cli("release", "--promote", "staging")[0] == 0
    # r2 goes back to whole millimetres: `radar` on breaks in the candidate
    expected.write_text(broken, "utf-8")
    assert cli("release", "--allow-incompatible", "--reason", "radar later")[0] == 0
    code, _, err = cli("rollout", "start", "r2", "--env", "staging")
    assert code == 0, err
    code, _, err = cli("flags", "set", "staging", "radar", "on")
    assert code == 3 and "release r2 serves runs there and its check found" in err
    assert cli("rollout", "abort", "--env", "staging", "--reason", "no")[0] == 0
    assert cli("flags", "set", "staging", "radar", "on")[0] == 0


def test_resolve_shows_the_members_the_flags_serve(cli: Cli) -> None:
    """In an incident `teamrel resolve` answers what runs now: the flag values of the
    environment, and each member as they select it (a variant, not the default)."""
    assert cli("release", "--promote", "staging")[0] == 0
    code, out, _ = cli("resolve", "--env", "staging")
    assert code == 0
    assert "  flag refund_v2  off (default)  switches refunds: variant policy_v2\n" in out
    assert "  refunds        agent 1.2.0 " in out
    assert cli("flags", "set", "staging", "refund_v2", "on")[0] == 0
    code, out, _ = cli("resolve", "--env", "staging")
    assert "  flag refund_v2  on (default off)  switches refunds: variant policy_v2\n" in out
    assert "  refunds        agent 1.3.0 " in out
    doc = _ok(cli, "resolve", "--env", "staging")
    assert doc["flags"] == [
        {
            "flag": "refund_v2",
            "value": "on",
            "default": "off",
            "set": True,
            "switches": ["refunds: variant policy_v2"],
        }
    ]
    refunds = doc["members"]["refunds"]
    assert refunds["version"] == "1.3.0" and "policy v2" in refunds["spec"]["prompt"]["text"]
    one = _ok(cli, "resolve", "--env", "staging", "--member", "refunds")
    assert one["members"]["refunds"]["digest"] == refunds["digest"]
    # a percentage serves both: the members are listed at the default, and the line says so
    assert cli("flags", "set", "staging", "refund_v2", "--percent", "50")[0] == 0
    code, out, _ = cli("resolve", "--env", "staging")
    assert "refund_v2  50% of runs (default off; listed at the default)" in out
    assert "  refunds        agent 1.2.0 " in out
