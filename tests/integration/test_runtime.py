"""`teamrel.Runtime` on the demo team, on SQLite and PostgreSQL: resolve what the CLI
resolves, and keep one release for a whole run across a rollback."""

from __future__ import annotations

import json

from teamrel.runtime import Runtime

from .conftest import Cli, lib_release


def test_runtime_matches_resolve_and_pins_a_run(cli: Cli) -> None:
    r1 = lib_release(cli.ws, cli.url, "\nfirst\n")
    r2 = lib_release(cli.ws, cli.url, "\nsecond\n")
    for name in (r1, r2):
        assert cli("promote", name, "--env", "prod", "--reason", "ship")[0] == 0
    code, out, _ = cli("resolve", "--env", "prod", "--format", "json")
    assert code == 0
    resolved = json.loads(out)["members"]
    with Runtime(cli.url, ttl=0) as rt:
        for name, doc in resolved.items():
            member = rt.resolve("support", "prod", name)
            assert (member.digest, member.spec) == (doc["digest"], doc["spec"])
        with rt.run("support", "prod") as team:
            assert team.release == r2
            before = team.member("router").spec["prompt"]["text"]
            assert cli("rollback", "--env", "prod", "--reason", "incident")[0] == 0
            # mid-run: still r2, every member from the same release
            assert team.member("router").spec["prompt"]["text"] == before
            assert {m.digest for m in team.members.values()} <= set(
                team.manifest.member_digests.values()
            )
        assert rt.pinned("support", "prod").release == r1
        assert rt.resolve("support", "prod", "router").spec["prompt"]["text"].endswith("first\n")
