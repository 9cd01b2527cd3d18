"""`teamrel.plan`: categories, the semver rule, blast radius, waves, and saved plans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from teamkit import agent, closed, release_base, write_workspace

from teamrel.baserelease import Base, load_base
from teamrel.errors import FormatVersionError, InputError, IntegrityError
from teamrel.plan import build_plan, plan_from_json, read_plan
from teamrel.workspace import load_workspace

TIER = {"enum": ["free", "pro"]}
TICKET = closed(["id", "tier"], id={"type": "string", "maxLength": 20}, tier=TIER)
TRIAGED = closed(["id", "tier"], id={"type": "string", "maxLength": 20}, tier=TIER)
ESC_IN = closed(["id", "tier"], id={"type": "string", "maxLength": 40}, tier=TIER)
BILL_IN = closed(
    ["id"], id={"type": "string", "maxLength": 40}, tier={"enum": ["free", "pro", None]}
)
CASE = closed(["id"], id={"type": "string"})


def files(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "contracts/ticket.json": TICKET,
        "contracts/triaged.json": TRIAGED,
        "contracts/escalation_in.json": ESC_IN,
        "contracts/billing_in.json": BILL_IN,
        "contracts/case.json": CASE,
        "prompts/intake.md": "Make a ticket.\n",
        "prompts/router.md": "Route it.\nKeep it short.\n",
        "prompts/billing.md": "Bill it.\n",
        "prompts/escalation.md": "Escalate it.\n",
    }
    base.update(overrides)
    return base


def members(**versions: str) -> dict[str, Any]:
    v = {"intake": "1.0.0", "router": "2.0.0", "billing": "1.0.0", "escalation": "1.0.0"}
    v.update(versions)
    return {
        "intake": agent(
            v["intake"], "contracts/case.json", "contracts/ticket.json", "prompts/intake.md"
        ),
        "router": agent(
            v["router"], "contracts/ticket.json", "contracts/triaged.json", "prompts/router.md"
        ),
        "billing": agent(
            v["billing"], "contracts/billing_in.json", "contracts/case.json", "prompts/billing.md"
        ),
        "escalation": agent(
            v["escalation"],
            "contracts/escalation_in.json",
            "contracts/case.json",
            "prompts/escalation.md",
        ),
    }


HANDOFFS = [
    {"from": "intake", "to": "router"},
    {"from": "router", "to": "billing"},
    {"from": "router", "to": "escalation"},
]


def released(tmp_path: Path) -> Path:
    root = write_workspace(tmp_path / "ws", members=members(), handoffs=HANDOFFS, files=files())
    release_base(root)
    return root


def change(root: Path, *, versions: dict[str, str] | None = None, **overrides: Any) -> None:
    write_workspace(root, members=members(**(versions or {})), handoffs=HANDOFFS, files=overrides)


def plan_of(root: Path) -> dict[str, Any]:
    ws = load_workspace(root)
    return build_plan(ws, load_base(ws)).to_json()


def member(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in doc["members"] if m["name"] == name)


def test_no_changes(tmp_path: Path) -> None:
    doc = plan_of(released(tmp_path))
    assert doc["has_changes"] is False and doc["passed"] is True
    assert doc["summary"]["line"].startswith("No changes: the working tree matches release r1")
    assert doc["waves"] == []
    assert {m["action"] for m in doc["members"]} == {"unchanged"}
    assert doc["base"]["kind"] == "manifest" and doc["base"]["release"] == "r1"


def test_empty_base_adds_everything(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws", members=members(), handoffs=HANDOFFS, files=files())
    ws = load_workspace(root)
    base = load_base(ws)
    assert base.kind == "empty"
    doc = build_plan(ws, base).to_json()
    assert [m["action"] for m in doc["members"]] == ["add"] * 4
    assert doc["summary"]["line"].startswith(
        "Plan: 0 to change, 4 to add, 0 to remove · 3 handoffs"
    )
    # consumers first: billing and escalation, then router, then intake
    assert [w["members"] for w in doc["waves"]] == [
        ["billing", "escalation"],
        ["router"],
        ["intake"],
    ]


def test_breaking_new_members_are_counted_with_the_adds(tmp_path: Path) -> None:
    # a first release whose handoffs do not hold: "0 to change (2 breaking)" read as nonsense
    narrow = closed(["id", "tier"], id={"type": "string", "maxLength": 5}, tier=TIER)
    fs = files(**{"contracts/escalation_in.json": narrow})
    root = write_workspace(tmp_path / "ws", members=members(), handoffs=HANDOFFS, files=fs)
    doc = plan_of(root)
    assert doc["summary"]["breaking"] >= 1 and not doc["passed"]
    line = doc["summary"]["line"]
    assert line.startswith(f"Plan: 0 to change, 4 to add ({doc['summary']['breaking']} breaking)")


def test_prompt_change_is_non_breaking_and_needs_a_patch(tmp_path: Path) -> None:
    root = released(tmp_path)
    change(root, versions={"router": "2.0.1"}, **{"prompts/router.md": "Route it.\nBe terse.\n"})
    doc = plan_of(root)
    router = member(doc, "router")
    assert router["action"] == "change" and router["category"] == "non-breaking"
    assert {"field": "version", "old": "2.0.0", "new": "2.0.1"} in router["changes"]
    assert any(c["field"] == "prompt" for c in router["changes"])
    assert "-Keep it short." in router["prompt_diff"] and "+Be terse." in router["prompt_diff"]
    assert router["semver"]["required"] == "patch" and router["semver"]["ok"]
    # --explain says why it is non-breaking, not only why something breaks
    assert router["reasons"] == [
        "non-breaking: prompt changed, and no handoff breaks because of it"
    ]
    assert router["blast_radius"]["downstream"] == ["billing", "escalation"]
    assert doc["passed"] and doc["has_changes"]
    assert doc["summary"]["line"] == (
        "Plan: 1 to change, 0 to add, 0 to remove · 3 handoffs: 3 compatible · 1 release wave"
    )


def test_same_version_different_content_is_a_finding(tmp_path: Path) -> None:
    root = released(tmp_path)
    change(root, **{"prompts/router.md": "Route it.\nBe terse.\n"})
    doc = plan_of(root)
    assert not doc["passed"]
    assert [f["code"] for f in doc["findings"]] == ["version-not-bumped"]
    assert member(doc, "router")["semver"]["suggested"] == "2.0.1"


def test_metadata_only(tmp_path: Path) -> None:
    root = released(tmp_path)
    m = members(billing="1.0.1")
    m["billing"]["metadata"] = {"owner": "payments"}
    write_workspace(root, members=m, handoffs=HANDOFFS, files={})
    doc = plan_of(root)
    billing = member(doc, "billing")
    assert billing["category"] == "metadata-only"
    assert {"field": "metadata.owner", "old": None, "new": "payments"} in billing["changes"]
    assert billing["reasons"] == [
        "metadata-only: only metadata changed, nothing a neighbour could notice"
    ]


def test_two_hop_null_breaks_escalation_and_flags_the_bumps(tmp_path: Path) -> None:
    root = released(tmp_path)
    optional_tier = closed(["id"], id={"type": "string", "maxLength": 20}, tier=TIER)
    nullable = closed(
        ["id", "tier"], id={"type": "string", "maxLength": 20}, tier={"enum": ["free", "pro", None]}
    )
    change(
        root,
        versions={"intake": "1.0.1", "router": "2.0.1"},
        **{"contracts/ticket.json": optional_tier, "contracts/triaged.json": nullable},
    )
    doc = plan_of(root)
    router, intake = member(doc, "router"), member(doc, "intake")
    assert router["category"] == "breaking"
    assert router["breaks"] == ["router->escalation"]
    assert router["blast_radius"]["hit"] == ["escalation"]
    assert router["semver"]["required"] == "major" and not router["semver"]["ok"]
    assert router["semver"]["suggested"] == "3.0.0"
    summaries = [s["summary"] for s in router["schema_changes"]]
    assert any(s.startswith("input widened") for s in summaries), summaries
    assert any(s.startswith("output widened") and "tier=null" in s for s in summaries), summaries
    # intake's output widened (a new capability): minor needed, patch given
    assert intake["category"] == "non-breaking"
    assert intake["semver"]["required"] == "minor" and not intake["semver"]["ok"]
    assert any("may now omit tier" in s["summary"] for s in intake["schema_changes"])
    assert "escalation" in intake["blast_radius"]["downstream"]
    codes = sorted(f["code"] for f in doc["findings"])
    assert codes == ["bump-too-small", "bump-too-small", "incompatible-handoff"]
    assert doc["summary"]["line"].startswith("Plan: 2 to change (1 breaking)")
    # router widens its input: it ships before intake
    assert [w["members"] for w in doc["waves"]] == [["router"], ["intake"]]
    edge = next(e for e in doc["handoffs"] if e["key"] == "router->escalation")
    assert edge["verdict"] == "incompatible"


def test_narrowed_input_of_a_consumer_ships_after_its_producer(tmp_path: Path) -> None:
    root = released(tmp_path)
    narrow = closed(["id", "tier"], id={"type": "string", "maxLength": 20}, tier=TIER)
    change(
        root,
        versions={"router": "2.0.1", "escalation": "1.0.1"},
        **{"contracts/escalation_in.json": narrow, "prompts/router.md": "Route.\n"},
    )
    doc = plan_of(root)
    esc = member(doc, "escalation")
    assert esc["schema_changes"][0]["relation"] == "narrowed"
    assert esc["category"] == "non-breaking"  # router's ids still fit in 20 characters
    assert [w["members"] for w in doc["waves"]] == [["router"], ["escalation"]]


def test_removed_member(tmp_path: Path) -> None:
    root = released(tmp_path)
    m = members()
    del m["billing"]
    write_workspace(root, members=m, handoffs=HANDOFFS[::2], files={})
    doc = plan_of(root)
    assert member(doc, "billing")["action"] == "remove"
    assert doc["waves"][-1] == {"wave": 1, "action": "remove", "members": ["billing"]}
    assert "billing" not in doc["desired_members"]


def test_saved_plan_round_trip_and_refusals(tmp_path: Path) -> None:
    root = released(tmp_path)
    ws = load_workspace(root)
    plan = build_plan(ws, load_base(ws))
    out = tmp_path / "plan.json"
    plan.write(out)
    back = read_plan(out)
    assert back.base == plan.base and (back.base.manifest_digest or "").startswith("sha256:")
    assert back.desired_members == {n: m.digest for n, m in ws.members.items()}
    doc = json.loads(out.read_text())
    with pytest.raises(FormatVersionError, match="format_version 2"):
        plan_from_json({**doc, "format_version": 2})
    with pytest.raises(InputError, match="format_version"):
        plan_from_json({**doc, "format_version": "1"})
    tampered = json.loads(json.dumps(doc))
    tampered["desired_members"]["router"] = "sha256:" + "0" * 64
    with pytest.raises(IntegrityError, match="digest"):
        plan_from_json(tampered)
    with pytest.raises(InputError, match="#/base: missing required key 'base'"):
        plan_from_json({k: v for k, v in doc.items() if k != "base"})
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="not a JSON plan"):
        read_plan(tmp_path / "bad.json")
    with pytest.raises(InputError, match="cannot read"):
        read_plan(tmp_path / "missing.json")


def test_env_base_needs_a_declared_environment(tmp_path: Path) -> None:
    from teamrel.errors import UsageError

    root = released(tmp_path)
    ws = load_workspace(root)
    with pytest.raises(UsageError, match="needs the state store"):
        load_base(ws, env="prod")
    empty = Base(kind="empty", members={})
    assert build_plan(ws, empty).to_json()["summary"]["add"] == 4


def _tool_team(root: Path, *, tool_in: dict[str, Any], tools: list[Any], version: str) -> Path:
    m = members()
    m["billing"]["tools"] = tools
    m["lookup"] = {
        "kind": "tool",
        "version": version,
        "input_schema": "contracts/lookup_in.json",
        "output_schema": "contracts/case.json",
    }
    return write_workspace(
        root,
        members=m,
        handoffs=HANDOFFS,
        files=files(**{"contracts/lookup_in.json": tool_in}),
    )


def test_a_tool_narrowing_its_input_breaks_its_undeclared_callers(tmp_path: Path) -> None:
    lookup_in = closed(["order_id"], order_id={"type": "string"})
    root = _tool_team(tmp_path / "ws", tool_in=lookup_in, tools=["lookup"], version="1.0.0")
    release_base(root)
    strict = closed(
        ["order_id", "region"], order_id={"type": "string"}, region={"enum": ["eu", "us"]}
    )
    _tool_team(tmp_path / "ws", tool_in=strict, tools=["lookup"], version="1.1.0")
    doc = plan_of(root)
    tool = member(doc, "lookup")
    assert tool["category"] == "breaking" and tool["breaks"] == ["billing=>lookup"]
    assert tool["blast_radius"]["hit"] == ["billing"]
    assert tool["semver"]["required"] == "major" and tool["semver"]["suggested"] == "2.0.0"
    summary = tool["schema_changes"][0]["summary"]
    # the old schema was closed: region is both newly accepted and now required
    assert tool["schema_changes"][0]["relation"] == "incomparable"
    assert summary.startswith("input incomparable:") and "now requires region" in summary
    edge = next(e for e in doc["handoffs"] if e["key"] == "billing=>lookup")
    assert edge["steps"][0]["step"] == "tool-input-evolution"


def test_a_new_tool_is_a_new_capability(tmp_path: Path) -> None:
    lookup_in = closed(["order_id"], order_id={"type": "string"})
    root = _tool_team(tmp_path / "ws", tool_in=lookup_in, tools=[], version="1.0.0")
    release_base(root)
    _tool_team(tmp_path / "ws", tool_in=lookup_in, tools=["lookup"], version="1.0.0")
    doc = plan_of(root)
    billing = member(doc, "billing")
    assert {"field": "tools", "old": None, "new": "lookup", "change": "added"} in billing["changes"]
    assert billing["semver"]["required"] == "minor"
    assert billing["semver"]["finding"] == "version-not-bumped"


def test_a_consumer_narrowing_its_input_is_breaking_when_a_producer_breaks(
    tmp_path: Path,
) -> None:
    root = released(tmp_path)
    needs_locale = closed(
        ["id", "tier", "locale"],
        id={"type": "string", "maxLength": 40},
        tier=TIER,
        locale={"enum": ["en", "fr"]},
    )
    change(root, versions={"escalation": "1.1.0"}, **{"contracts/escalation_in.json": needs_locale})
    doc = plan_of(root)
    esc = member(doc, "escalation")
    assert esc["category"] == "breaking" and esc["breaks"] == ["router->escalation"]
    assert esc["blast_radius"]["hit"] == ["router"]  # the producer it no longer accepts
    summary = esc["schema_changes"][0]["summary"]
    assert summary.startswith("input incomparable") or summary.startswith("input narrowed")
    assert "now requires locale" in summary, summary
    assert esc["semver"]["suggested"] == "2.0.0"
    router = member(doc, "router")
    assert router["action"] == "unchanged"


def test_hostile_plan_files_are_refused_cleanly(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(InputError, match=r"nested too deeply|not a JSON plan"):
        read_plan(deep)
    not_object = tmp_path / "list.json"
    not_object.write_text("[1, 2]")
    with pytest.raises(InputError, match="a plan is a JSON object"):
        read_plan(not_object)


def test_an_annotation_only_contract_edit_is_metadata_only(tmp_path: Path) -> None:
    root = released(tmp_path)
    ticket = {**TICKET, "title": "Ticket", "description": "What intake hands to the router."}
    change(
        root, versions={"intake": "1.0.1", "router": "2.0.1"}, **{"contracts/ticket.json": ticket}
    )
    doc = plan_of(root)
    for name in ("intake", "router"):
        m = member(doc, name)
        assert m["category"] == "metadata-only", m
        assert any("but for annotations" in r for r in m["reasons"]), m["reasons"]
