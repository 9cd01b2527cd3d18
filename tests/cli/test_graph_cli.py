"""`teamrel graph` end to end on the demo workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from clikit import cli_runner
from conftest import REPO

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


def _mermaid_links(mm: str) -> tuple[list[tuple[str, str]], dict[str, list[int]]]:
    """The links in the order Mermaid numbers them (producer, consumer names), and the link
    indices each linkStyle colour applies to."""
    names: dict[str, str] = {}
    links: list[tuple[str, str]] = []
    styles: dict[str, list[int]] = {}
    for raw in mm.splitlines()[1:]:
        line = raw.strip()
        if line.startswith("%%"):
            continue
        if line.startswith("linkStyle "):
            indices, style = line.removeprefix("linkStyle ").split(" ", 1)
            colour = style.split("stroke:", 1)[1].split(",", 1)[0]
            styles.setdefault(colour, []).extend(int(i) for i in indices.split(","))
        elif "-->" in line or "-.->" in line:
            parts = line.split()
            links.append((names[parts[0]], names[parts[-1]]))
        else:
            node_id, label = line.split("[", 1)
            names[node_id] = label.strip('[("])').split()[0]
    return links, styles


def test_check_colours_every_demo_edge_by_its_verdict(demo_copy: Path) -> None:
    code, out = invoke("-C", str(demo_copy), "graph", "--format", "mermaid", "--check")
    assert code == 0
    links, styles = _mermaid_links(out)
    assert len(links) == 18
    assert "%% edges coloured by teamrel check: red incompatible" in out
    indices = sorted(i for found in styles.values() for i in found)
    assert indices == list(range(len(links)))  # each link styled once, no index beyond them
    _, plain = invoke("-C", str(demo_copy), "graph", "--format", "mermaid")
    assert "linkStyle" not in plain
    assert out.startswith(plain.removesuffix("\n"))  # the same drawing, then the styles


def test_check_marks_the_broken_story_edge_red(tmp_path: Path) -> None:
    story = tmp_path / "story"
    shutil.copytree(
        REPO / "examples" / "story-a-renamed-field",
        story,
        ignore=shutil.ignore_patterns(".teamrel"),
    )
    code, out = invoke("-C", str(story), "graph", "--format", "mermaid", "--check")
    assert code == 0  # a drawing, not a gate: `teamrel check` fails
    links, styles = _mermaid_links(out)
    assert styles["#d32f2f"] == [links.index(("refunds", "responder"))]
    assert len(styles["#2e7d32"]) == len(links) - 1
    assert all(i < len(links) for found in styles.values() for i in found)

    code, out = invoke("-C", str(story), "graph", "--format", "dot", "--check")
    assert code == 0
    assert (
        '"refunds" -> "responder" [label="contracts/refund_case.json", color="#d32f2f", '
        "penwidth=2];" in out
    )
    code, out = invoke("-C", str(story), "graph", "--format", "json", "--check")
    verdicts = {h["key"]: h["verdict"] for h in json.loads(out)["handoffs"]}
    assert verdicts["refunds->responder"] == "incompatible"
    assert sum(v == "compatible" for v in verdicts.values()) == len(verdicts) - 1
    code, out = invoke("-C", str(story), "graph", "--check")
    assert "refunds->responder  [contracts/refund_case.json]  incompatible" in out


def test_check_colours_a_handoff_broken_only_in_a_flag_state(tmp_path: Path) -> None:
    """The flags story is green by default and broken with `radar` on: the drawing shows the
    broken state rather than the green default, and the text says which state it is."""
    root = tmp_path / "flags"
    shutil.copytree(
        REPO / "examples" / "flags", root, ignore=shutil.ignore_patterns(".teamrel", "manifests")
    )
    code, out = invoke("-C", str(root), "graph", "--check")
    assert code == 0
    assert "  forecaster<=radar  incompatible (with `radar` on)\n" in out
    assert "  forecaster->writer  [contracts/forecast.json]  compatible\n" in out
    code, out = invoke("-C", str(root), "graph", "--format", "mermaid", "--check")
    links, styles = _mermaid_links(out)
    assert styles["#d32f2f"] == [links.index(("radar", "forecaster"))]
    assert len(styles["#2e7d32"]) == len(links) - 1
    code, out = invoke("-C", str(root), "graph", "--format", "json", "--check")
    verdicts = {h["key"]: h["verdict"] for h in json.loads(out)["handoffs"]}
    assert verdicts["forecaster<=radar"] == "incompatible"
    assert verdicts["forecaster=>radar"] == "compatible"  # proved only with `radar` on
