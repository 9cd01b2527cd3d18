"""The release library (teamrel.release) on SQLite with synthetic members: naming,
idempotency, references, diff, the re-ship warning, file checks and verify."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from teamrel import release as rel
from teamrel.errors import (
    ConflictError,
    IntegrityError,
    NotAnEarlierRelease,
    NotFoundError,
    RecentRollback,
    RolledBackFrom,
    UsageError,
)
from teamrel.models import EnvironmentSpec, ResolvedMember, member_digest
from teamrel.store import Store, open_store

PASSED = {"edges": 1, "compatible": 1, "incompatible": 0, "unknown": 0, "passed": True}
ENVS = {"staging": EnvironmentSpec(), "prod": EnvironmentSpec(require_reason=True)}


def _agent(prompt: str, version: str = "1.0.0") -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": version,
        "model": {"provider": "acme", "id": "m-1", "parameters": {}},
        "prompt": {"sha256": hashlib.sha256(prompt.encode()).hexdigest(), "text": prompt},
        "input": {"uri": "urn:i", "schema": {"type": "object"}, "resources": {}},
        "output": {"uri": "urn:o", "schema": {"type": "object"}, "resources": {}},
        "tools": [],
    }
    return ResolvedMember(
        name="", kind="agent", version=version, spec=spec, digest=member_digest(spec)
    )


def _team(a: str = "A", b: str = "B") -> dict[str, ResolvedMember]:
    return {"a": _agent(a), "b": _agent(b)}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = open_store(None, tmp_path)
    yield s  # type: ignore[misc]
    s.close()


def _release(store: Store, root: Path, members: dict[str, ResolvedMember], **kw: object) -> str:
    result = rel.release(
        store,
        root,
        "duo",
        members,
        check_summary=PASSED,
        environments=ENVS,
        actor="t",
        **kw,  # type: ignore[arg-type]
    )
    return result.manifest.release


def test_actor_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEAMREL_ACTOR", "from-env")
    assert rel.resolve_actor("given") == "given"
    assert rel.resolve_actor(None) == "from-env"
    monkeypatch.delenv("TEAMREL_ACTOR")
    assert "@" in rel.resolve_actor(None)


def test_environment_rules() -> None:
    assert rel.environment_rules(ENVS, "prod").require_reason
    with pytest.raises(UsageError, match="unknown environment"):
        rel.environment_rules(ENVS, "prdo")
    with pytest.raises(UsageError, match="invalid environment name"):
        rel.environment_rules({}, "../prod")
    assert not rel.environment_rules({}, "anything").require_reason


def test_numbering_and_idempotency(store: Store, tmp_path: Path) -> None:
    assert _release(store, tmp_path, _team()) == "r1"
    assert _release(store, tmp_path, _team()) == "r1"
    assert _release(store, tmp_path, _team("A2")) == "r2"
    assert _release(store, tmp_path, _team(), name="again") == "again"  # explicit: new name
    assert _release(store, tmp_path, _team("A3"), name="r7") == "r7"
    assert _release(store, tmp_path, _team("A4")) == "r8"
    assert json.loads((tmp_path / "manifests/duo/r8.json").read_text("utf-8"))["parent"]


def test_a_lost_store_is_rebuilt_from_committed_files(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    _release(store, tmp_path, _team("A2"))
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}", None)
    try:
        # identical content found among the files: imported, not re-released
        assert _release(fresh, tmp_path, _team("A2")) == "r2"
        # a committed release is imported when first promoted
        t = rel.promote(fresh, tmp_path, "duo", ENVS, "r1", "staging", actor="t").transition
        assert t.to_release == "r1"
        # listed oldest first by creation, whatever order the store learnt of them
        assert [r.release for r in fresh.releases("duo")] == ["r1", "r2"]
        assert fresh.latest_manifest("duo").release == "r2"  # type: ignore[union-attr]
        assert _release(fresh, tmp_path, _team("A3")) == "r3"
    finally:
        fresh.close()


def test_lookup_references(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    _release(store, tmp_path, _team("A2"), name="staging")  # a release named like an env
    rel.promote(store, tmp_path, "duo", ENVS, "r1", "staging", actor="t")
    with pytest.raises(UsageError, match="both an environment and a release"):
        rel.lookup(store, tmp_path, "duo", ENVS, "staging")
    assert rel.lookup(store, tmp_path, "duo", ENVS, "env:staging").release == "r1"
    assert rel.lookup(store, tmp_path, "duo", ENVS, "release:staging").release == "staging"
    path = tmp_path / "manifests/duo/r1.json"
    by_file = rel.lookup(store, tmp_path, "duo", ENVS, str(path))
    assert rel.lookup(store, tmp_path, "duo", ENVS, by_file.digest).release == "r1"
    with pytest.raises(NotFoundError, match="nothing is live"):
        rel.lookup(store, tmp_path, "duo", ENVS, "env:prod")


def test_diff_member_by_member(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    members = _team("A2")
    members["c"] = _agent("C")
    del members["b"]
    _release(store, tmp_path, members)
    a = rel.lookup(store, tmp_path, "duo", ENVS, "r1")
    b = rel.lookup(store, tmp_path, "duo", ENVS, "r2")
    d = rel.diff(a, b, "r1", "r2")
    assert [(m.name, m.status) for m in d.members] == [
        ("a", "changed"),
        ("b", "removed"),
        ("c", "added"),
    ]
    assert set(d.members[0].changes) == {"digest", "prompt_digest"}
    assert not d.identical and rel.diff(a, a, "x", "y").identical


def test_reship_warning_names_the_members(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    _release(store, tmp_path, _team("A2", "B2"))
    for name in ("r1", "r2"):
        rel.promote(store, tmp_path, "duo", ENVS, name, "staging", actor="t")
    working = {"a": _agent("A2").digest, "b": _agent("B").digest}
    result = rel.rollback(
        store, tmp_path, "duo", ENVS, "staging", actor="t", working_digests=lambda: working
    )
    # the pointer has moved before the working tree is read: the comparison is pending
    assert store.live_digest("duo", "staging") == result.transition.to_manifest
    assert result.warnings == [] and result.pending is not None
    added = result.finish()
    assert added == result.warnings and len(added) == 1 and "r2's version of a " in added[0]
    assert result.finish() == [] and len(result.warnings) == 1  # runs once

    def broken() -> dict[str, str]:
        raise IntegrityError("teamrel.yaml: broken")

    rel.promote(store, tmp_path, "duo", ENVS, "r2", "staging", actor="t")
    result = rel.rollback(
        store, tmp_path, "duo", ENVS, "staging", actor="t", working_digests=broken
    )
    assert result.transition.to_release == "r1"  # the rollback itself is never blocked
    assert "could not compare" in result.finish()[0]


def test_promote_refuses_a_file_holding_another_release(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    _release(store, tmp_path, _team("A2"))
    r1 = tmp_path / "manifests/duo/r1.json"
    r1.write_bytes((tmp_path / "manifests/duo/r2.json").read_bytes())
    with pytest.raises(IntegrityError, match="holds a different release"):
        rel.promote(store, tmp_path, "duo", ENVS, "r1", "staging", actor="t")
    assert store.environment("duo", "staging") is None
    report = rel.verify(store, tmp_path)
    assert not report.ok
    assert {p.subject for p in report.problems} == {"manifests/duo/r1.json"}


def test_file_stamps_skip_rehashing_until_the_file_changes(store: Store, tmp_path: Path) -> None:
    _release(store, tmp_path, _team())
    rel.promote(store, tmp_path, "duo", ENVS, "r1", "staging", actor="t")
    stamps = json.loads((tmp_path / ".teamrel/file-stamps.json").read_text("utf-8"))
    assert list(stamps) == ["manifests/duo/r1.json"]
    _release(store, tmp_path, _team("A2"))
    rel.promote(store, tmp_path, "duo", ENVS, "r2", "staging", actor="t")
    path = tmp_path / "manifests/duo/r1.json"
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b'"created_by": "t"', b'"created_by": "T"'))
    with pytest.raises(IntegrityError):
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t")
    assert store.environment("duo", "staging").release == "r2"  # type: ignore[union-attr]


def test_the_rollback_guard_window_is_configurable(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        _release(store, tmp_path, _team(f"A{i}"))
        rel.promote(store, tmp_path, "duo", ENVS, f"r{i + 1}", "staging", actor="t")
    rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t")
    with pytest.raises(ConflictError, match="already rolled back"):
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="u")
    monkeypatch.setenv("TEAMREL_ROLLBACK_GUARD_SECONDS", "0")
    t = rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="u").transition
    assert (t.from_release, t.to_release) == ("r2", "r1")
    monkeypatch.setenv("TEAMREL_ROLLBACK_GUARD_SECONDS", "soon")
    with pytest.raises(UsageError, match="not a number"):
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="u")


def test_automatic_name_never_records_content_recorded_meanwhile(
    store: Store, tmp_path: Path
) -> None:
    # another `release` of the same content committed r1 after this one chose the name r2:
    # the transaction must find it, not record the same team a second time as r2
    members = _team()
    assert _release(store, tmp_path, members) == "r1"
    key = rel.content_key("duo", {n: m.digest for n, m in members.items()})
    recorded, created = rel._record_new(
        store,
        [],
        "duo",
        "r2",
        members,
        key=key,
        numbered=True,
        actor="t",
        parent=None,
        check_summary=PASSED,
        allow=None,
        reason=None,
    )
    assert (recorded.release, created) == ("r1", False)
    assert [r.release for r in store.releases("duo")] == ["r1"]


def test_diff_with_snapshots_is_field_level(store: Store, tmp_path: Path) -> None:
    old = _agent("You triage tickets.\n")
    spec = {
        **old.spec,
        "model": {"provider": "acme", "id": "m-2", "parameters": {"temperature": 0.2}},
        "prompt": {"sha256": "x", "text": "You triage tickets.\nBe brief.\n"},
    }
    new = ResolvedMember(
        name="", kind="agent", version="1.0.0", spec=spec, digest=member_digest(spec)
    )
    _release(store, tmp_path, {"a": old})
    _release(store, tmp_path, {"a": new})
    a = rel.lookup(store, tmp_path, "duo", ENVS, "r1")
    b = rel.lookup(store, tmp_path, "duo", ENVS, "r2")
    d = rel.diff(a, b, "r1", "r2", loader=store.snapshot)
    changes = d.members[0].changes
    assert changes["model.id"] == {"old": "m-1", "new": "m-2"}
    assert changes["model.parameters.temperature"] == {"old": None, "new": 0.2}
    assert "model" not in changes  # not the whole model object
    assert "+Be brief." in d.members[0].prompt_diff
    assert d.members[0].prompt_diff[0] == "--- a@1.0.0"


def test_rollback_options_are_refused_in_the_commands_words(store: Store, tmp_path: Path) -> None:
    # the store guards its API in its own words; the command's flags are named here
    for i in range(3):
        _release(store, tmp_path, _team(f"A{i}"))
        rel.promote(store, tmp_path, "duo", ENVS, f"r{i + 1}", "staging", actor="t")
    with pytest.raises(UsageError, match=r"give --to or --steps, not both"):
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t", to="r1", steps=1)
    with pytest.raises(UsageError, match=r"--steps must be at least 1"):
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t", steps=0)
    with pytest.raises(UsageError, match=r"`steps` must be at least 1, not 0"):
        store.rollback("duo", "staging", actor="t", steps=0)
    assert store.environment("duo", "staging").release == "r3"  # type: ignore[union-attr]


def test_rollback_phrases_the_command_a_store_refusal_suggests(
    store: Store, tmp_path: Path
) -> None:
    # the store refuses with facts only; release.rollback names the command to run instead
    for i in range(3):
        _release(store, tmp_path, _team(f"A{i}"))
    for name in ("r1", "r3"):
        rel.promote(store, tmp_path, "duo", ENVS, name, "staging", actor="t")
    with pytest.raises(NotAnEarlierRelease) as earlier:
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t", to="r2")
    assert earlier.value.hint == "use `teamrel promote r2 --env staging` to go forward"
    rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="t")
    with pytest.raises(RecentRollback) as recent:
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="u")
    assert recent.value.hint == (
        "to go further back, say so: `teamrel rollback --env staging --expect r1` "
        "(or --to RELEASE / --steps N)"
    )
    with pytest.raises(RolledBackFrom) as back:
        rel.rollback(store, tmp_path, "duo", ENVS, "staging", actor="u", to="r3")
    assert back.value.hint == (
        "to make it live again, promote it explicitly: `teamrel promote r3 --env staging`"
    )
