"""`teamrel.Runtime`: cached resolve, and one manifest pinned for a whole run."""

from __future__ import annotations

from pathlib import Path

import pytest

import teamrel
from teamrel.canonical import sha256_hex
from teamrel.errors import NotFoundError
from teamrel.manifest import build_manifest, manifest_file_bytes
from teamrel.models import ResolvedMember, member_digest
from teamrel.runtime import Runtime
from teamrel.store import Store, open_store


def _agent(prompt: str) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": "1.0.0",
        "model": {"provider": "acme", "id": "m-1", "parameters": {"temperature": 0}},
        "prompt": {"sha256": "0" * 64, "text": prompt},
        "tools": [],
    }
    return ResolvedMember(
        name="", kind="agent", version="1.0.0", spec=spec, digest=member_digest(spec)
    )


def _release(store: Store, name: str, suffix: str) -> None:
    members = {"router": _agent(f"route {suffix}"), "writer": _agent(f"write {suffix}")}
    m = build_manifest(
        "demo", name, members, created_at="2026-01-01T00:00:00.000000Z", created_by="t"
    )
    store.record_release(m, members, file_sha256=sha256_hex(manifest_file_bytes(m)), actor="t")


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'state.db'}"
    store = open_store(u, None)
    _release(store, "r1", "one")
    _release(store, "r2", "two")
    store.promote("demo", "prod", "r1", actor="a")
    store.promote("demo", "prod", "r2", actor="a")
    store.close()
    return u


def _rollback(url: str) -> None:
    store = open_store(url, None)
    store.rollback("demo", "prod", actor="a")
    store.close()


def test_resolve_and_cache_without_a_change_feed(url: str) -> None:
    with Runtime(url, ttl=3600, watch=False) as rt:
        router = rt.resolve("demo", "prod", "router")
        assert router.spec["prompt"]["text"] == "route two"
        assert router.name == "router"
        _rollback(url)
        # unwatched, the cached pointer is served within the TTL...
        assert rt.resolve("demo", "prod", "router").spec["prompt"]["text"] == "route two"
        # ...and re-read once it expires (or is invalidated)
        rt.invalidate()
        assert rt.resolve("demo", "prod", "router").spec["prompt"]["text"] == "route one"


def test_a_rollback_is_seen_at_once_despite_a_long_ttl(url: str) -> None:
    with Runtime(url, ttl=3600) as rt:
        assert rt.resolve("demo", "prod", "router").spec["prompt"]["text"] == "route two"
        token = rt.feed.token()
        assert token is not None and rt.feed.token() == token  # nothing moved: no re-read
        _rollback(url)  # another connection commits: data_version moves
        assert rt.feed.token() != token
        assert rt.resolve("demo", "prod", "router").spec["prompt"]["text"] == "route one"


def test_zero_ttl_always_follows_the_pointer(url: str) -> None:
    with Runtime(url, ttl=0) as rt:
        assert rt.pinned("demo", "prod").release == "r2"
        _rollback(url)
        assert rt.pinned("demo", "prod").release == "r1"


def test_a_run_never_mixes_two_releases(url: str) -> None:
    with Runtime(url, ttl=0) as rt, rt.run("demo", "prod") as team:
        first = team.member("router")
        _rollback(url)  # an operator rolls back mid-conversation
        second = team.member("writer")
        assert team.release == "r2"
        assert first.spec["prompt"]["text"] == "route two"
        assert second.spec["prompt"]["text"] == "write two"
        # the next run sees the rollback
        with rt.run("demo", "prod") as next_team:
            assert next_team.release == "r1"


def test_unknown_env_and_member(url: str) -> None:
    with Runtime(url) as rt:
        with pytest.raises(NotFoundError, match="nothing is live"):
            rt.resolve("demo", "staging", "router")
        with pytest.raises(NotFoundError, match="no member 'nobody'"):
            rt.resolve("demo", "prod", "nobody")


def test_runtime_from_a_workspace_directory(tmp_path: Path) -> None:
    store = open_store(None, tmp_path)  # the workspace default store
    _release(store, "r1", "one")
    store.promote("demo", "prod", "r1", actor="a")
    store.close()
    rt = teamrel.Runtime(tmp_path)
    try:
        assert rt.resolve("demo", "prod", "writer").spec["prompt"]["text"] == "write one"
    finally:
        rt.close()
