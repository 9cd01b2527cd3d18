"""Tampering: one byte changed in a manifest file, a snapshot or an audit event.

`teamrel verify` exits 1 and names what does not match; a rollback to a tampered manifest is
refused before anything changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from teamrel.store.engine import make_engine

from .conftest import Cli, lib_release, open_test_store


@pytest.fixture
def released(cli: Cli) -> tuple[Cli, list[str]]:
    """r1 and r2 released and promoted to prod (r2 live)."""
    names = [lib_release(cli.ws, cli.url, f"\nv{i}\n") for i in range(2)]
    for name in names:
        assert cli("promote", name, "--env", "prod", "--reason", "ship")[0] == 0
    code, out, err = cli("verify")
    assert code == 0, out + err
    return cli, names


def _flip_one_byte(path: Path, old: bytes, new: bytes) -> None:
    assert len(old) == len(new)
    assert sum(x != y for x, y in zip(old, new, strict=True)) == 1
    raw = path.read_bytes()
    i = raw.index(old)
    path.write_bytes(raw[:i] + new + raw[i + len(old) :])


def _live(url: str) -> str | None:
    store = open_test_store(url)
    try:
        env = store.environment("support", "prod")
        return env.release if env else None
    finally:
        store.close()


def test_a_byte_changed_in_a_manifest_file(released: tuple[Cli, list[str]]) -> None:
    cli, (r1, _r2) = released
    path = cli.ws / "manifests" / "support" / f"{r1}.json"
    _flip_one_byte(path, b'"created_by": "setup"', b'"created_by": "setuq"')
    code, out, _ = cli("verify")
    assert code == 1
    assert f"manifests/support/{r1}.json" in out
    code, _, err = cli("rollback", "--env", "prod", "--reason", "incident")
    assert code == 3
    assert f"{r1}.json" in err and "refusing" in err
    assert _live(cli.url) == released[1][1]
    code, _, err = cli("promote", r1, "--env", "prod", "--reason", "x")
    assert code == 3


def test_a_byte_changed_in_a_snapshot_file(released: tuple[Cli, list[str]]) -> None:
    cli, _ = released
    snaps = sorted((cli.ws / "manifests" / "support" / "snapshots").glob("*.json"))
    target = snaps[0]
    raw = target.read_bytes()
    i = raw.index(b'"version": "') + len(b'"version": "')
    target.write_bytes(raw[:i] + (b"9" if raw[i : i + 1] != b"9" else b"8") + raw[i + 1 :])
    code, out, _ = cli("verify", "--format", "json")
    assert code == 1
    assert target.name in out


def test_a_byte_changed_in_an_audit_event(released: tuple[Cli, list[str]]) -> None:
    cli, _ = released
    engine = make_engine(cli.url)
    with engine.connect() as conn, conn.begin():
        seq = conn.execute(
            text("SELECT max(seq) FROM teamrel_events WHERE action = 'promote'")
        ).scalar_one()
        conn.execute(text("UPDATE teamrel_events SET reason = 'shiP' WHERE seq = :s"), {"s": seq})
    engine.dispose()
    code, out, _ = cli("verify")
    assert code == 1
    assert f"event #{seq}" in out


def test_rollback_to_a_tampered_stored_manifest_is_refused(
    released: tuple[Cli, list[str]],
) -> None:
    cli, (r1, r2) = released
    engine = make_engine(cli.url)
    with engine.connect() as conn, conn.begin():
        conn.execute(
            text(
                "UPDATE teamrel_manifests SET body = replace(body, '\"setup\"', '\"settp\"') "
                "WHERE release = :r"
            ),
            {"r": r1},
        )
    engine.dispose()
    code, _, err = cli("rollback", "--env", "prod", "--reason", "incident")
    assert code == 3 and "does not match its digest" in err
    assert _live(cli.url) == r2
    code, out, _ = cli("verify")
    assert code == 1 and f"support/{r1}" in out


def _tamper_snapshot_of(url: str, release: str, member: str) -> str:
    """Change one byte of a member's stored snapshot that `release` pins; its digest."""
    engine = make_engine(url)
    with engine.connect() as conn, conn.begin():
        digest = conn.execute(
            text(
                "SELECT mm.member_digest FROM teamrel_manifest_members mm "
                "JOIN teamrel_manifests m ON m.digest = mm.manifest_digest "
                "WHERE m.release = :r AND mm.name = :n"
            ),
            {"r": release, "n": member},
        ).scalar_one()
        conn.execute(
            text("UPDATE teamrel_snapshots SET body = body || ' ' WHERE digest = :d"),
            {"d": digest},
        )
    engine.dispose()
    return str(digest)


def test_verify_env_checks_the_live_release_and_the_chain(
    released: tuple[Cli, list[str]],
) -> None:
    cli, (r1, r2) = released

    def verify_json(*args: str) -> Any:
        code, out, err = cli("verify", *args, "--format", "json")
        assert code in (0, 1), out + err
        return json.loads(out)

    doc_all = verify_json()
    doc = verify_json("--env", "prod")
    # the live release's snapshots only (the demo's 8 members), every event, one pointer
    assert doc["ok"] is True and doc["checked"]["manifests"] == 1
    assert doc["checked"]["snapshots"] == 8 < doc_all["checked"]["snapshots"]
    assert doc["checked"]["events"] == doc_all["checked"]["events"]
    assert (doc["checked"]["environments"], doc["checked"]["files"]) == (1, 0)
    # a snapshot only the older release pins: not what is live
    old_only = _tamper_snapshot_of(cli.url, r1, "router")
    assert verify_json("--env", "prod")["ok"] is True
    code, out, _ = cli("verify")
    assert code == 1 and old_only in out
    # a snapshot the live release pins: found, named, exit 1
    live = _tamper_snapshot_of(cli.url, r2, "intake")
    code, out, _ = cli("verify", "--env", "prod")
    assert code == 1 and live in out and old_only not in out
    code, _, err = cli("verify", "--env", "staging")
    assert code == 3 and "nothing is live in staging" in err
