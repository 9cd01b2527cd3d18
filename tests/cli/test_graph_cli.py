"""`teamrel graph` end to end on the demo workspace."""

from __future__ import annotations

import json
from pathlib import Path

from clikit import cli_runner

from teamrel.cli.app import app

runner = cli_runner()
MEMBERS = [
    "intake",
    "router",
    "billing",
    "refunds",
    "tech_support",
    "escalation",
    "responder",
    "orders",
]


def invoke(*args: str) -> tuple[int, str]:
    """The exit code and all the command printed (the graph on stdout, errors on stderr)."""
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout + r.stderr


def test_mermaid_names_every_member_and_handoff() -> None:
    code, out = invoke("graph", "--format", "mermaid")
    assert code == 0
    assert out.startswith("flowchart LR")
    for m in MEMBERS:
        assert m in out
    assert '"router 2.1.0"' in out
    assert out.count("-->") == 12  # declared handoffs
    assert out.count("-.->") == 6  # tool call/result edges
    assert "contracts/triaged_ticket.json" in out


def test_json_lists_members_with_digests() -> None:
    code, out = invoke("graph", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["team"] == "support"
    assert [m["name"] for m in doc["members"]] == MEMBERS
    assert all(m["digest"].startswith("sha256:") and len(m["digest"]) == 71 for m in doc["members"])
    assert len(doc["handoffs"]) == 18
    assert doc["handoffs"][0] == {
        "key": "intake->router",
        "from": "intake",
        "to": "router",
        "kind": "handoff",
        "contract": "contracts/ticket.json",
    }
    assert doc["waves"][0] == ["intake", "orders"]
    assert doc["cycles"] == []
    # global --format json works too
    code, out2 = invoke("--format", "json", "graph")
    assert code == 0 and json.loads(out2) == doc


def test_dot_and_text() -> None:
    code, out = invoke("graph", "--format", "dot")
    assert code == 0 and out.startswith("digraph team {")
    assert '"router" -> "billing" [label="contracts/triaged_ticket.json"]' in out
    code, out = invoke("graph")
    assert code == 0
    assert "release waves:" in out and "1. intake, orders" in out


def test_bad_format_and_broken_workspace(demo_copy: Path) -> None:
    code, _ = invoke("graph", "--format", "png")
    assert code == 2
    y = demo_copy / "teamrel.yaml"
    y.write_text(y.read_text().replace("version: 2.1.0", "version: two"))
    code, out = invoke("-C", str(demo_copy), "graph")
    assert code == 3
    assert "teamrel.yaml:" in out and "/members/router/version" in out
    code, out = invoke("-C", str(demo_copy), "graph", "--format", "json")
    assert code == 3
    doc = json.loads(out)
    assert doc["error"] == "WorkspaceError" and doc["diagnostics"][0]["code"] == "invalid-version"
