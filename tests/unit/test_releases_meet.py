"""Where two releases meet, the building blocks: the `compat:`/`persisted:`/`retention` keys,
the rules index entry carrying them, the `file` origin reader and its registry, and the
rollback findings and their cache (`teamrel.safety`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner

from teamrel.cli.app import app
from teamrel.errors import InputError
from teamrel.models import CompatMode, HandoffSpec, OriginSpec, PolicySpec, SchemaDoc
from teamrel.origins import OriginUnavailable, parse_origin, read_origin, register_origin_reader
from teamrel.rules import INDEX_FILE, TeamRules, read_rules
from teamrel.safety import Crossing, PairCache, pair_key
from teamrel.workspace import check_workspace

REPO = Path(__file__).resolve().parents[2]
runner = cli_runner()


@pytest.mark.parametrize(
    ("raw", "mode", "transitive"),
    [
        ("atomic", "atomic", False),
        ("backward", "backward", False),
        ("forward-transitive", "forward", True),
        ({"mode": "full", "transitive": True}, "full", True),
        ({"mode": "full"}, "full", False),
    ],
)
def test_compat_mode_spellings(raw: Any, mode: str, transitive: bool) -> None:
    parsed = CompatMode.model_validate(raw)
    assert (parsed.mode, parsed.transitive) == (mode, transitive)
    assert parsed.backward == (mode in ("backward", "full"))
    assert parsed.forward == (mode in ("forward", "full"))


def _story(tmp_path: Path) -> Path:
    root = tmp_path / "story-e"
    src = REPO / "examples" / "story-e-releases-meet"
    shutil.copytree(src, root, ignore=shutil.ignore_patterns(".teamrel"))
    return root


@pytest.mark.parametrize(
    ("old", "new", "pointer", "words"),
    [
        (
            "persisted: true}",
            "persisted: true, compat: sideways}",
            "/handoffs/5/compat",
            "is not one of the allowed values",
        ),
        (
            "persisted: true}",
            "persisted: true, compat: atomic-transitive}",
            "/handoffs/5/compat",
            "atomic has no transitive form",
        ),
        ("persisted: true}", "persisted: yes please}", "/handoffs/5/persisted", "true or false"),
        ("retention: 30d", "retention: 30 days", "/policy/retention", "does not have the expected"),
    ],
)
def test_bad_keys_are_located(tmp_path: Path, old: str, new: str, pointer: str, words: str) -> None:
    root = _story(tmp_path)
    yml = root / "teamrel.yaml"
    yml.write_text(yml.read_text("utf-8").replace(old, new, 1), "utf-8")
    report = check_workspace(root)
    assert not report.valid
    (diag,) = [d for d in report.diagnostics if d.severity == "error"]
    assert diag.pointer == pointer and words in diag.message
    assert diag.line is not None


def test_handoff_and_policy_defaults_change_nothing() -> None:
    h = HandoffSpec.model_validate({"from": "a", "to": "b"})
    assert h.compat is None and h.persisted is False
    policy = PolicySpec()
    assert policy.compat is None and policy.retention_seconds == 30 * 86400


def test_the_rules_index_carries_persisted_handoffs_and_modes(tmp_path: Path) -> None:
    root = _story(tmp_path)

    def full_load() -> TeamRules:
        raise AssertionError("the file parses: no full load")

    rules = read_rules(root, full_load)
    assert rules.persisted == (("refunds", "responder"),) and rules.modes is True
    index = root / ".teamrel" / INDEX_FILE
    doc = json.loads(index.read_text("utf-8"))
    (entry,) = doc["entries"].values()
    assert entry["persisted"] == [["refunds", "responder"]] and entry["modes"] is True
    assert read_rules(root, full_load) == rules  # from the index
    # an entry written before these keys existed is a miss: the file is parsed again
    for key in ("persisted", "modes"):
        del entry[key]
    index.write_text(json.dumps(doc), "utf-8")
    assert read_rules(root, full_load) == rules
    # the demo: its four case updates to the responder, each `compat: backward`
    demo = read_rules(REPO, full_load, create_state=False)
    assert [p for p, _ in demo.persisted] == ["billing", "refunds", "tech_support", "escalation"]
    assert {c for _, c in demo.persisted} == {"responder"} and demo.modes is True


def test_no_mode_declared_keeps_the_check_document_as_it_was(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["-C", str(REPO / "examples" / "minimal"), "check", "--format", "json", "--no-cache"]
    )
    doc = json.loads(result.stdout)
    assert "compat_modes" not in doc
    assert not any("compat_mode" in e for e in doc["edges"])
    # a mode declared but no store yet: nothing is live, nothing is added, and it says so
    root = _story(tmp_path)
    result = runner.invoke(app, ["-C", str(root), "check", "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["compat_modes"] == {"live_releases": [], "added": {"backward": 0, "forward": 0}}
    assert not (root / ".teamrel" / "state.db").exists()  # a check never creates the store


# --------------------------------------------------------------------------- origins


def _origin(root: Path, body: Any, name: str = "origins/t.json") -> OriginSpec:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body), "utf-8")
    return OriginSpec(file=name)


def test_file_origin_reads_the_members_schemas(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    origin = _origin(tmp_path, {"input_schema": schema, "output_schema": {"type": "string"}})
    read = read_origin(tmp_path, "tool", origin)
    assert set(read) == {"input_schema", "output_schema"}
    assert isinstance(read["input_schema"], SchemaDoc) and read["input_schema"].schema_ == schema
    agent = read_origin(tmp_path, "agent", _origin(tmp_path, {"output": True}, "a.json"))
    assert set(agent) == {"output"}


@pytest.mark.parametrize(
    ("body", "file", "words"),
    [
        ({}, "../outside.json", "outside"),
        ({}, "/etc/passwd", "absolute"),
        ({}, "https://example.com/o.json", "never reads the network"),
        ("{not json", "origins/t.json", "is not JSON"),
        ([], "origins/t.json", "expected an object"),
        ({"input": {}}, "origins/t.json", "unknown key 'input' for a tool"),
        ({"input_schema": 3}, "origins/t.json", "expected a JSON Schema"),
        ({"input_schema": {"type": "strung"}}, "origins/t.json", "origin file origins/t.json"),
        ({"input_schema": {"$ref": "other.json"}}, "origins/t.json", "origin file"),
        ({}, "origins/t.json", "holds none of"),
    ],
)
def test_file_origin_refuses_bad_input(tmp_path: Path, body: Any, file: str, words: str) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (tmp_path / "outside.json").write_text("{}", "utf-8")
    if not file.startswith(("..", "/", "https:")):
        _origin(root, body, file)
    with pytest.raises(InputError) as err:
        read_origin(root, "tool", OriginSpec(file=file))
    assert words in err.value.message


def test_origin_kinds_without_a_reader_are_unavailable_until_one_plugs_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamrel import origins

    # a registry holding only the file reader (drift installs the mcp and a2a readers)
    monkeypatch.setattr(origins, "_READERS", {"file": origins.read_file_origin})
    origin = parse_origin({"mcp": {"command": "orders-mcp", "tool": "lookup"}})
    with pytest.raises(OriginUnavailable, match="origin kind 'mcp' not available yet"):
        read_origin(tmp_path, "tool", origin)
    seen: list[Any] = []

    def reader(root: Path, kind: str, got: Any) -> dict[str, SchemaDoc]:
        seen.append((kind, got))
        return {"output_schema": SchemaDoc.inline({"type": "string"})}

    register_origin_reader("mcp", reader)
    assert set(read_origin(tmp_path, "tool", origin)) == {"output_schema"}
    assert seen == [("tool", origin)]


# --------------------------------------------------------------------------- safety


def _crossing(verdict: str, **kw: Any) -> Crossing:
    base: dict[str, Any] = {
        "handoff": "refunds->responder",
        "producer": "refunds",
        "producer_version": "1.3.0",
        "writer": "r2",
        "consumer": "responder",
        "consumer_version": "2.0.0",
        "reader": "r1",
        "what": "case_update",
        "verdict": verdict,
    }
    return Crossing(**{**base, **kw})


def test_the_witness_sentence() -> None:
    problem = {
        "kind": "property-not-allowed",
        "instance_pointer": "/refund_amount_cents",
        "producer_location": "producer#",
        "consumer_location": "consumer#/additionalProperties",
        "message": "extra property",
    }
    bad = _crossing("incompatible", problems=(problem,), witness={"x": 1}, has_witness=True)
    assert bad.sentence() == (
        "responder@2.0.0 (r1) cannot read a case_update with `refund_amount_cents` written by "
        "refunds@1.3.0 (r2): extra property"
    )
    assert not bad.safe and Crossing.from_json(bad.to_json()) == bad
    assert _crossing("compatible").sentence() == (
        "responder@2.0.0 (r1) reads every case_update written by refunds@1.3.0 (r2)"
    )
    assert _crossing("unchecked", reason="no refunds in r2").safe
    assert "cannot prove" in _crossing("unknown", reason="budget").sentence()


def test_pair_cache_keeps_decided_answers_by_manifest_pair(tmp_path: Path) -> None:
    persisted = (("refunds", "responder"),)
    key = pair_key("sha256:a", "sha256:b", persisted)
    assert key != pair_key("sha256:b", "sha256:a", persisted)  # direction matters
    assert key != pair_key("sha256:a", "sha256:b", (("billing", "responder"),))
    cache = PairCache(tmp_path)
    cache.put(key, [_crossing("compatible")])
    assert PairCache(tmp_path).get(key) == [_crossing("compatible")]
    other = pair_key("sha256:a", "sha256:c", persisted)
    cache.put(other, [_crossing("unknown", reason="budget")])  # may depend on the budget
    assert PairCache(tmp_path).get(other) is None
    (tmp_path / "release-pairs.json").write_text("{broken", "utf-8")
    assert PairCache(tmp_path).get(key) is None  # a damaged file is a miss
    assert PairCache(None).get(key) is None


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({}, "exactly one of 'file', 'mcp' or 'a2a'"),
        ({"file": "a.json", "mcp": {"command": "x", "tool": "t"}}, "exactly one"),
        ({"mcp": {"command": "x"}}, "origin/mcp"),
        ([], "an origin is a mapping"),
    ],
)
def test_an_origin_that_does_not_parse_says_what_is_wrong(raw: Any, words: str) -> None:
    with pytest.raises(InputError) as err:
        parse_origin(raw)
    assert words in err.value.message
