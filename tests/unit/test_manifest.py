"""The release manifest: building, digest, files, snapshots, tamper refusal, JSON Schema."""

from __future__ import annotations

import json
from functools import partial
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from teamrel.canonical import digest
from teamrel.errors import FormatVersionError, InputError, IntegrityError, UsageError
from teamrel.manifest import (
    MANIFEST_FORMAT_VERSION,
    Manifest,
    build_manifest,
    latest_manifest,
    list_manifests,
    manifest_file_bytes,
    manifest_path,
    pinned_members,
    read_manifest,
    read_snapshot,
    snapshot_path,
    write_manifest,
    write_snapshot,
)
from teamrel.models import ResolvedMember, member_digest


def agent(prompt: str, *, model: str = "m-2025-01-01", version: str = "1.0.0") -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": version,
        "description": None,
        "model": {"provider": "acme", "id": model, "parameters": {"temperature": 0.2}},
        "prompt": {"sha256": "0" * 64, "text": prompt},
        "input": {"uri": "file:///in.json", "schema": {"type": "object"}, "resources": {}},
        "output": {"uri": "file:///out.json", "schema": {"type": "string"}, "resources": {}},
        "tools": [{"tool": "orders", "call": None, "result": None}],
        "evals": [],
        "metadata": {},
    }
    return ResolvedMember(
        name="", kind="agent", version=version, spec=spec, digest=member_digest(spec)
    )


def tool() -> ResolvedMember:
    spec = {
        "kind": "tool",
        "version": "0.3.0",
        "input_schema": {"uri": "urn:x", "schema": {"type": "object"}, "resources": {}},
        "output_schema": None,
        "metadata": {},
    }
    return ResolvedMember(
        name="", kind="tool", version="0.3.0", spec=spec, digest=member_digest(spec)
    )


def team(prompt: str = "You route tickets.\n") -> dict[str, ResolvedMember]:
    return {"router": agent(prompt), "orders": tool()}


def make(release: str = "r1", *, members: dict[str, ResolvedMember] | None = None) -> Manifest:
    return build_manifest(
        "support",
        release,
        members if members is not None else team(),
        created_at="2026-01-02T03:04:05.000006Z",
        created_by="alice@host",
        check={
            "edges": 2,
            "compatible": 2,
            "incompatible": 0,
            "unknown": 0,
            "unchecked": 0,
            "engine_version": "1",
            "passed": True,
        },
    )


def manifest_schema() -> dict[str, object]:
    text = resources.files("teamrel").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    doc: dict[str, object] = json.loads(text)
    return doc


def assert_schema_valid(doc: object) -> None:
    schema = manifest_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_digest_covers_everything_but_itself() -> None:
    m = make()
    body = m.body()
    assert "digest" not in body
    assert m.digest == digest(body)
    assert m.format_version == MANIFEST_FORMAT_VERSION
    router = m.members["router"]
    assert router.model is not None and router.model.id == "m-2025-01-01"
    assert router.prompt_digest == "sha256:" + "0" * 64
    assert router.tools == ["orders"]
    assert set(router.schemas) == {"input", "output"}
    assert m.members["orders"].kind == "tool"
    assert set(m.members["orders"].schemas) == {"input_schema"}


def test_content_key_ignores_when_and_who() -> None:
    a = make("r1")
    b = build_manifest(
        "support", "r9", team(), created_at="2027-01-01T00:00:00.000000Z", created_by="bob"
    )
    assert a.digest != b.digest
    assert a.content_key == b.content_key
    assert make(members=team("other prompt")).content_key != a.content_key


def test_written_manifest_round_trips_and_matches_the_json_schema(tmp_path: Path) -> None:
    m = make()
    path = write_manifest(tmp_path, m)
    assert path == tmp_path / "manifests" / "support" / "r1.json"
    assert path.read_bytes() == manifest_file_bytes(m)
    assert read_manifest(path) == m
    assert_schema_valid(json.loads(path.read_text("utf-8")))


def test_schema_rejects_an_unknown_key() -> None:
    doc = make().to_json()
    doc["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        assert_schema_valid(doc)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["members"]["router"].__setitem__("version", "1.0.1"),
        lambda d: d.__setitem__("created_by", "mallory"),
        lambda d: d["members"]["router"].__setitem__("digest", "sha256:" + "1" * 64),
        lambda d: d.__setitem__("allow_incompatible", "sneaky"),
    ],
)
def test_tampered_manifest_is_refused(tmp_path: Path, edit: object) -> None:
    path = write_manifest(tmp_path, make())
    doc = json.loads(path.read_text("utf-8"))
    edit(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc, indent=2), "utf-8")
    with pytest.raises(IntegrityError, match="does not match its digest"):
        read_manifest(path)


def test_one_byte_changed_in_the_file_is_refused(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, make())
    raw = path.read_bytes()
    i = raw.index(b"alice")
    path.write_bytes(raw[:i] + b"A" + raw[i + 1 :])
    with pytest.raises(IntegrityError) as err:
        read_manifest(path)
    assert str(path) in err.value.message


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    doc = make().to_json()
    doc["format_version"] = MANIFEST_FORMAT_VERSION + 1
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(FormatVersionError, match="newer"):
        read_manifest(path)


def test_invalid_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text('{\n  "format_version": 1,\n  oops\n}', "utf-8")
    with pytest.raises(InputError, match=r"m\.json:3:"):
        read_manifest(path)


def test_wrong_shape_names_the_pointer(tmp_path: Path) -> None:
    doc = make().to_json()
    doc["members"]["router"]["kind"] = "robot"  # type: ignore[index]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc), "utf-8")
    with pytest.raises(
        InputError, match="#/members/router/kind: 'robot' is not one of the allowed"
    ):
        read_manifest(path)


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".hidden", "x" * 200, "r1\n"])
def test_unsafe_release_names_are_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(UsageError):
        make(bad)
    with pytest.raises(UsageError):
        manifest_path(tmp_path, "support", bad)


def test_snapshot_digest_path_cannot_escape(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        snapshot_path(tmp_path, "support", "sha256:../../etc/passwd")


def test_snapshots_round_trip_and_tamper_is_refused(tmp_path: Path) -> None:
    members = team("Prompt with ünïcode and\ttabs\n")
    m = make(members=members)
    for member in members.values():
        write_snapshot(tmp_path, "support", member)
    pinned = pinned_members(m, partial(read_snapshot, tmp_path, "support"))
    assert list(pinned) == ["router", "orders"]
    assert pinned["router"].spec == members["router"].spec
    assert pinned["router"].name == "router"
    assert pinned["orders"].kind == "tool"
    path = snapshot_path(tmp_path, "support", members["router"].digest)
    path.write_text(path.read_text("utf-8").replace("ünïcode", "unicode"), "utf-8")
    with pytest.raises(IntegrityError, match="does not match its digest"):
        read_snapshot(tmp_path, "support", members["router"].digest)


def test_missing_snapshot_is_an_integrity_error(tmp_path: Path) -> None:
    with pytest.raises(IntegrityError, match="missing"):
        read_snapshot(tmp_path, "support", "sha256:" + "a" * 64)


def test_list_and_latest(tmp_path: Path) -> None:
    assert latest_manifest(tmp_path, "support") is None
    first = make("r1")
    second = build_manifest(
        "support", "r2", team("v2"), created_at="2026-02-01T00:00:00.000000Z", created_by="b"
    )
    write_manifest(tmp_path, second)
    write_manifest(tmp_path, first)
    assert [m.release for m in list_manifests(tmp_path, "support")] == ["r1", "r2"]
    latest = latest_manifest(tmp_path, "support")
    assert latest is not None and latest.release == "r2"


def test_a_renamed_manifest_file_is_refused(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, make("r1"))
    path.rename(path.with_name("r7.json"))
    with pytest.raises(IntegrityError, match="expected release 'r7'"):
        list_manifests(tmp_path, "support")


def test_write_refuses_to_replace_a_different_release(tmp_path: Path) -> None:
    write_manifest(tmp_path, make("r1"))
    other = make("r1", members=team("different"))
    with pytest.raises(IntegrityError, match="different release"):
        write_manifest(tmp_path, other)
    assert read_manifest(manifest_path(tmp_path, "support", "r1")) == make("r1")


def test_hostile_nesting_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, "utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        read_manifest(path)
    doc = make().to_json()
    doc["check"] = {"passed": True, "x": "PLACEHOLDER"}
    deep = "[" * 5_000 + "1" + "]" * 5_000  # parses, but too deep to canonicalise
    path.write_text(json.dumps(doc).replace('"PLACEHOLDER"', deep), "utf-8")
    with pytest.raises(InputError):
        read_manifest(path)
