"""`teamrel.check.run_check`: every edge proved, verdicts, selection, base pins, the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from teamkit import agent, closed, git, release_base, validates, write_workspace

from teamrel import check as chk
from teamrel import compat, reportcache, resultcache
from teamrel.baserelease import load_base
from teamrel.check import CheckStats, run_check
from teamrel.errors import UsageError
from teamrel.resultcache import ResultCache
from teamrel.workspace import load_workspace

TICKET = closed(
    ["id", "intent"],
    id={"type": "string", "maxLength": 12},
    intent={"enum": ["billing", "refund"]},
)
WIDE_TICKET = closed(
    ["id", "intent"],
    id={"type": "string", "maxLength": 12},
    intent={"enum": ["billing", "refund", "cancel"]},
)
ANSWER = closed(["id", "text"], id={"type": "string"}, text={"type": "string", "maxLength": 500})
LOOKUP_IN = closed(["order_id"], order_id={"type": "string"})
LOOKUP_IN_STRICT = closed(
    ["order_id", "region"], order_id={"type": "string"}, region={"enum": ["eu", "us"]}
)
LOOKUP_OUT = closed(["status"], status={"enum": ["open", "shipped"]})


def team(tmp_path: Path, **overrides: Any) -> Path:
    files: dict[str, Any] = {
        "contracts/ticket.json": TICKET,
        "contracts/router_out.json": TICKET,
        "contracts/billing_in.json": TICKET,
        "contracts/answer.json": ANSWER,
        "contracts/lookup_in.json": LOOKUP_IN,
        "contracts/lookup_out.json": LOOKUP_OUT,
        "prompts/router.md": "Route the ticket.\n",
        "prompts/billing.md": "Answer billing questions.\n",
        "prompts/writer.md": "Write the reply.\n",
    }
    files.update(overrides)
    members = {
        "router": agent(
            "1.0.0", "contracts/ticket.json", "contracts/router_out.json", "prompts/router.md"
        ),
        "billing": agent(
            "1.0.0",
            "contracts/billing_in.json",
            "contracts/answer.json",
            "prompts/billing.md",
            tools=["lookup"],
        ),
        "writer": agent("1.0.0", "contracts/answer.json", {"type": "string"}, "prompts/writer.md"),  # type: ignore[arg-type]
        "lookup": {
            "kind": "tool",
            "version": "1.0.0",
            "input_schema": "contracts/lookup_in.json",
            "output_schema": "contracts/lookup_out.json",
        },
    }
    handoffs = [
        {"from": "router", "to": "billing", "contract": "contracts/ticket.json"},
        {"from": "billing", "to": "writer"},
    ]
    return write_workspace(tmp_path / "ws", members=members, handoffs=handoffs, files=files)


def test_compatible_team_passes_and_every_edge_is_reported(tmp_path: Path) -> None:
    ws = load_workspace(team(tmp_path))
    report = run_check(ws)
    keys = [e.key for e in report.edges]
    assert keys == ["router->billing", "billing->writer", "billing=>lookup", "billing<=lookup"]
    by = {e.key: e for e in report.edges}
    assert by["router->billing"].verdict == "compatible"
    assert [s.step for s in by["router->billing"].steps] == [
        "producer-contract",
        "contract-consumer",
    ]
    assert [s.step for s in by["billing->writer"].steps] == ["producer-consumer"]
    # undeclared tool sides without a base release: nothing to prove against
    assert by["billing=>lookup"].verdict == "unchecked"
    assert "no base release pins lookup" in (by["billing=>lookup"].note or "")
    assert report.passed
    s = report.summary().to_json()
    assert s == {
        "edges": 4,
        "compatible": 2,
        "incompatible": 0,
        "unknown": 0,
        "unchecked": 2,
        "engine_version": compat.ENGINE_VERSION,
        "passed": True,
    }
    doc = report.to_json()
    assert doc["format_version"] == 1 and doc["summary"] == s
    json.dumps(doc)  # serialisable


def test_incompatible_edge_has_problems_and_a_verified_witness(tmp_path: Path) -> None:
    root = team(tmp_path, **{"contracts/router_out.json": WIDE_TICKET})
    ws = load_workspace(root)
    report = run_check(ws)
    edge = next(e for e in report.edges if e.key == "router->billing")
    assert edge.verdict == "incompatible"
    assert not report.passed
    step = edge.failing[0]
    assert step.step == "producer-contract"
    assert step.has_witness
    assert edge.problems and edge.problems[0].instance_pointer == "/intent"
    assert step.witness["intent"] == "cancel"
    h = ws.handoff("router->billing")
    assert h.producer_schema is not None and h.contract is not None
    assert validates(h.producer_schema.to_json(), step.witness)
    assert not validates(h.contract.to_json(), step.witness)
    row = edge.to_json()
    assert row["producer"] == {"name": "router", "version": "1.0.0", "pinned": False}
    assert row["contract"] == "contracts/ticket.json"
    assert row["file"] == "contracts/ticket.json"
    assert "/intent" in row["first_problem"]


def test_member_selection(tmp_path: Path) -> None:
    ws = load_workspace(team(tmp_path))
    report = run_check(ws, members=["writer"])
    assert [e.key for e in report.edges] == ["billing->writer"]
    assert report.selected == ("writer",)
    with pytest.raises(UsageError, match="--member: no member named 'ghost'"):
        run_check(ws, members=["ghost"])


def _fake(verdict: str) -> Any:
    def fake_check(producer: Any, consumer: Any, **kw: Any) -> compat.CompatResult:
        return compat.CompatResult(verdict=verdict, reason="fake: undecided here")  # type: ignore[arg-type]

    return fake_check


def test_unknown_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = load_workspace(team(tmp_path))
    monkeypatch.setattr(compat, "check", _fake("unknown"))
    fail = run_check(ws, unknown="fail")
    # billing->writer is one schema file on both sides: proved without the engine
    assert fail.count("unknown") == 1 and not fail.passed
    assert fail.edges[0].first_problem() == "fake: undecided here"
    warn = run_check(ws, unknown="warn")
    assert warn.passed


def test_an_engine_crash_is_an_unknown_edge_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = load_workspace(team(tmp_path))

    def boom(*a: Any, **k: Any) -> Any:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(compat, "check", boom)
    report = run_check(ws, cache_dir=tmp_path / "cache")
    assert report.count("unknown") == 1
    assert "internal error" in (report.edges[0].first_problem() or "")
    assert not (tmp_path / "cache" / resultcache.CACHE_FILE).exists()  # unknowns are never cached


def test_cache_hits_same_verdicts_and_survives_corruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = team(tmp_path, **{"contracts/router_out.json": WIDE_TICKET})
    ws = load_workspace(root)
    cache = tmp_path / "cache"
    cold = run_check(ws, cache_dir=cache)
    assert cold.stats.proofs.cache_hits == 0 and cold.stats.proofs.computed == 2
    assert (cache / resultcache.CACHE_FILE).is_file()

    calls: list[int] = []
    real = compat.check

    def counting(*a: Any, **k: Any) -> Any:
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(compat, "check", counting)
    warm = run_check(ws, cache_dir=cache)
    assert calls == [] and warm.stats.proofs.cache_hits == 2
    assert [e.to_json()["verdict"] for e in warm.edges] == [e.verdict for e in cold.edges]
    inc_cold = next(e for e in cold.edges if e.verdict == "incompatible")
    inc_warm = next(e for e in warm.edges if e.verdict == "incompatible")
    assert inc_warm.failing[0].witness == inc_cold.failing[0].witness
    assert inc_warm.problems == inc_cold.problems
    assert inc_warm.failing[0].cached

    # another engine version: no hits
    with monkeypatch.context() as m:
        m.setattr(compat, "ENGINE_VERSION", "999.0.0")
        assert run_check(ws, cache_dir=cache).stats.proofs.cache_hits == 0

    # a corrupt file is ignored and replaced
    (cache / resultcache.CACHE_FILE).write_text("{not json")
    calls.clear()
    again = run_check(ws, cache_dir=cache)
    assert len(calls) == 2 and again.count("incompatible") == 1
    assert json.loads((cache / resultcache.CACHE_FILE).read_text())["format_version"] == 1

    # a corrupt entry is recomputed, never trusted
    doc = json.loads((cache / resultcache.CACHE_FILE).read_text())
    for entry in doc["entries"].values():
        entry.pop("verdict")
    (cache / resultcache.CACHE_FILE).write_text(json.dumps(doc))
    calls.clear()
    assert run_check(ws, cache_dir=cache).count("incompatible") == 1 and len(calls) == 2


def test_identical_pairs_are_proved_once(tmp_path: Path) -> None:
    ws = load_workspace(team(tmp_path))
    report = run_check(ws)
    # billing->writer uses one file on both sides: proved without calling the engine
    assert report.stats.proofs.checks == 3
    assert report.stats.proofs.computed == 2


def test_cache_merge_keeps_other_writers_entries(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    a, b = ResultCache(cache_dir), ResultCache(cache_dir)
    a.put("k1", {"verdict": "compatible"})
    b.put("k2", {"verdict": "compatible"})
    a.save()
    b.save()
    merged = ResultCache(cache_dir)
    assert merged.get("k1") is not None and merged.get("k2") is not None


def test_tool_evolution_against_a_base_release(tmp_path: Path) -> None:
    root = team(tmp_path)
    release_base(root)
    # the tool now requires a region the agent never sends (its calls are undeclared)
    (root / "contracts/lookup_in.json").write_text(json.dumps(LOOKUP_IN_STRICT))
    ws = load_workspace(root)
    base = load_base(ws)
    assert base.kind == "manifest" and base.release == "r1"
    report = run_check(ws, base=base.members)
    edge = next(e for e in report.edges if e.key == "billing=>lookup")
    assert edge.verdict == "incompatible"
    assert edge.failing[0].step == "tool-input-evolution"
    assert edge.failing[0].witness == {"order_id": edge.failing[0].witness["order_id"]}
    result = next(e for e in report.edges if e.key == "billing<=lookup")
    assert result.verdict == "compatible"  # the output did not change
    assert result.steps[0].step == "tool-output-evolution"


def test_changed_since_maps_files_and_yaml_entries(tmp_path: Path) -> None:
    root = team(tmp_path)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    ws = load_workspace(root)
    assert chk.changed_since(ws, "HEAD") == set()
    (root / "prompts/writer.md").write_text("Write a shorter reply.\n")
    assert chk.changed_since(load_workspace(root), "HEAD") == {"writer"}
    # a contract used only by a handoff: both ends of that handoff
    git(root, "commit", "-qam", "writer")
    (root / "contracts/ticket.json").write_text(json.dumps(TICKET, indent=4))
    assert chk.changed_since(load_workspace(root), "HEAD") == {"router", "billing"}
    git(root, "commit", "-qam", "ticket")
    # an edit of one member's entry in teamrel.yaml
    text = (root / "teamrel.yaml").read_text()
    (root / "teamrel.yaml").write_text(text.replace("version: 1.0.0", "version: 1.0.1", 1))
    assert chk.changed_since(load_workspace(root), "HEAD") == {"router"}
    with pytest.raises(UsageError, match="no such commit, branch or tag"):
        chk.changed_since(ws, "no-such-ref")


def test_changed_since_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    ws = load_workspace(team(tmp_path))
    with pytest.raises(UsageError, match="git repository"):
        chk.changed_since(ws, "HEAD")


def test_report_cache_reuses_an_unchanged_team_and_notices_any_byte(tmp_path: Path) -> None:
    from teamrel.context import Context

    root = team(tmp_path, **{"contracts/router_out.json": WIDE_TICKET})
    first = Context(root).check()
    assert not first.stats.from_report_cache
    assert (root / ".teamrel/cache" / reportcache.REPORT_FILE).is_file()
    again = Context(root).check()
    assert again.stats == CheckStats(from_report_cache=True)
    assert [e.to_json() | {"steps": None} for e in again.edges] == [
        e.to_json() | {"steps": None} for e in first.edges
    ]
    assert again.passed is False and again.summary() == first.summary()
    # other options are another key
    assert not Context(root).check(unknown="warn").stats.from_report_cache
    # one byte of a $ref-free contract file: recomputed, and the verdict follows the file
    (root / "contracts/router_out.json").write_text(json.dumps(TICKET))
    fixed = Context(root).check()
    assert not fixed.stats.from_report_cache and fixed.passed
    # a prompt is an input too
    (root / "prompts/writer.md").write_text("Write a longer reply.\n")
    assert not Context(root).check().stats.from_report_cache
    # a corrupt report file is ignored
    (root / ".teamrel/cache" / reportcache.REPORT_FILE).write_text("[]")
    assert Context(root).check().passed
    # --no-cache neither reads nor writes it
    assert not Context(root).check(use_cache=False).stats.from_report_cache


def test_report_cache_never_serves_an_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from teamrel.context import Context

    root = team(tmp_path)
    monkeypatch.setattr(compat, "check", _fake("unknown"))
    Context(root).check()
    assert not (root / ".teamrel/cache" / reportcache.REPORT_FILE).exists()


def test_report_cache_notices_a_new_release_for_tool_edges(tmp_path: Path) -> None:
    from teamrel.context import Context

    root = team(tmp_path)
    first = Context(root).check()
    assert next(e for e in first.edges if e.key == "billing=>lookup").verdict == "unchecked"
    assert Context(root).check().stats == CheckStats(from_report_cache=True)
    release_base(root)  # now the tool's evolution can be proved against r1
    after = Context(root).check()
    assert not after.stats.from_report_cache
    assert next(e for e in after.edges if e.key == "billing=>lookup").verdict == "compatible"


def test_bad_schema_input_names_the_proof(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from teamrel.errors import SchemaError

    def bad(*a: Any, **k: Any) -> Any:
        raise SchemaError("invalid pattern '('", uri="file:///contracts/x.json", pointer="/p")

    monkeypatch.setattr(compat, "check", bad)
    with pytest.raises(SchemaError, match=r"while proving file:///contracts/router_out.json") as e:
        run_check(load_workspace(team(tmp_path)))
    assert e.value.exit_code == 3 and e.value.pointer == "/p"


def test_a_hostile_cache_file_is_ignored(tmp_path: Path) -> None:
    cache_dir = tmp_path / "c"
    cache_dir.mkdir()
    (cache_dir / resultcache.CACHE_FILE).write_text("[" * 200_000 + "]" * 200_000)
    (cache_dir / reportcache.REPORT_FILE).write_text(
        json.dumps({"format_version": 1, "opts": {}, "files": ["../../etc/passwd"]})
    )
    assert ResultCache(cache_dir).get("x") is None
    assert reportcache.cached_report(tmp_path, cache_dir, {}) is None


def test_annotations_point_at_the_rejecting_keyword_of_the_contract(tmp_path: Path) -> None:
    root = team(tmp_path, **{"contracts/router_out.json": WIDE_TICKET})
    edge = next(e for e in run_check(load_workspace(root)).edges if e.verdict == "incompatible")
    file, line = edge.location()
    assert file == "contracts/ticket.json"
    lines = (root / "contracts/ticket.json").read_text().splitlines()
    assert line is not None and line > 1
    assert '"intent"' in lines[line - 1] or '"enum"' in lines[line - 1], lines[line - 1]
    assert edge.to_json()["hint"] is True
    # a report rebuilt from JSON (the report cache) points at the same place
    assert chk.EdgeResult.from_json(edge.to_json()).location() == (file, line)


def test_annotation_only_edits_are_not_proved_again(tmp_path: Path) -> None:
    from teamrel.models import SchemaDoc

    def doc(schema: dict[str, Any]) -> SchemaDoc:
        return SchemaDoc(uri="file:///contracts/t.json", schema=schema)

    base = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    edited = {**base, "description": "now documented", "x-owner": "support"}
    wider = {"type": "object"}
    prover = chk.Prover(ResultCache(tmp_path / "cache"), format_assertion=False)
    same = prover.prove("s", doc(base), doc(edited))
    assert same.verdict == "compatible" and "annotations" in (same.reason or "")
    assert prover.stats["computed"] == 0
    assert prover.prove("s", doc(base), doc(wider)).verdict == "compatible"
    assert prover.prove("s", doc(edited), doc(wider)).verdict == "compatible"
    assert prover.stats["computed"] == 1 and prover.stats["deduped"] == 1


def test_the_typed_findings_read_back_from_their_json() -> None:
    """The remembered report reads its JSON back: a mode's pair and a warning survive it."""
    pair = chk.ModePair("backward", False, "backward", "a->b", ("r1 (prod)", "r2 (staging)"))
    edge = chk.EdgeResult(
        "a@1.0.0->b",
        "handoff",
        chk.EdgeEnd("a", "1.0.0"),
        chk.EdgeEnd("b", "2.0.0"),
        None,
        "compatible",
        compat_mode=pair,
    )
    doc = edge.to_json()
    assert doc["compat_mode"] == {
        "mode": "backward",
        "transitive": False,
        "direction": "backward",
        "handoff": "a->b",
        "releases": ["r1 (prod)", "r2 (staging)"],
    }
    assert chk.EdgeResult.from_json(doc).compat_mode == pair
    atomic = chk.EdgeResult.from_json({k: v for k, v in doc.items() if k != "compat_mode"})
    assert atomic.compat_mode is None and "compat_mode" not in atomic.to_json()
    w = chk.CheckWarning("stale-scorecard", "a", "smoke", "scorecards/a/smoke.json", "stale")
    assert chk.CheckWarning.from_json(w.to_json()) == w


def test_handoff_verdicts_keep_the_worst_state_of_each_handoff() -> None:
    """A drawing colours a handoff by its worst verdict over the default state, its flag
    states and its compatibility-mode pairs, and says where that verdict was found."""
    ends = (chk.EdgeEnd("a", "1.0.0"), chk.EdgeEnd("b", "2.0.0"))

    def edge(key: str, verdict: chk.Verdict, **extra: Any) -> chk.EdgeResult:
        return chk.EdgeResult(key, "handoff", *ends, "contracts/x.json", verdict, **extra)

    pair = chk.ModePair("backward", False, "backward", "a->b", ("r1",))
    report = chk.CheckReport(
        team="t",
        edges=(
            edge("a->b", "compatible"),
            edge("c->d", "compatible"),
            edge("with `x` on: c->d", "unknown", flag_state={"x": True}),
            edge("with `x` on: a->b", "compatible", flag_state={"x": True}),
            edge("a@1.0.0,0.9.0->b", "incompatible", compat_mode=pair),
        ),
    )
    found = report.handoff_verdicts()
    assert found == {
        "a->b": chk.HandoffVerdict("incompatible", "backward pair a@1.0.0,0.9.0->b"),
        "c->d": chk.HandoffVerdict("unknown", "with `x` on"),
    }
    # a tie keeps the default state's verdict, which needs no qualifier
    assert chk.CheckReport(
        "t",
        (
            edge("a->b", "compatible"),
            edge("with `x` on: a->b", "compatible", flag_state={"x": True}),
        ),
    ).handoff_verdicts() == {"a->b": chk.HandoffVerdict("compatible", None)}
