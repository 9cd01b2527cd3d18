"""TeamGraph: closures, waves over the condensation, cycles, renderings."""

from __future__ import annotations

import json
import random

import pytest

from teamrel.graph import GraphEdge, GraphNode, TeamGraph


def chain() -> TeamGraph:
    return TeamGraph.build(
        ["a", "b", "c", "d", "t"],
        [
            ("a", "b"),
            ("b", "c"),
            ("a", "d"),
            GraphEdge("b", "t", "tool-call"),
            GraphEdge("t", "b", "tool-result"),
        ],
    )


def test_closures() -> None:
    g = chain()
    assert g.downstream("a") == {"b", "c", "d"}
    assert g.upstream("c") == {"a", "b", "t"}
    assert g.downstream("t") == {"b", "c"}  # a tool is upstream of its agents
    assert g.upstream("t") == set()
    assert g.downstream("c") == set()
    with pytest.raises(KeyError):
        g.downstream("zzz")


def test_tool_is_not_a_cycle_with_its_agent() -> None:
    g = chain()
    assert g.cycles() == []
    assert g.waves() == [["a", "t"], ["b", "d"], ["c"]]


def test_cycles_form_one_wave_unit() -> None:
    g = TeamGraph.build(
        ["in", "x", "y", "z", "out", "solo"],
        [("in", "x"), ("x", "y"), ("y", "z"), ("z", "x"), ("z", "out"), ("solo", "solo")],
    )
    assert g.waves() == [["in", "solo"], ["x", "y", "z"], ["out"]]
    assert g.cycles() == [["x", "y", "z"], ["solo"]]
    assert g.downstream("y") == {"x", "z", "out"}
    assert g.upstream("x") == {"in", "y", "z"}


def test_two_cycles_and_shortest_path() -> None:
    g = TeamGraph.build(
        ["a", "b", "c", "d", "e"],
        [("a", "b"), ("b", "c"), ("c", "a"), ("b", "a"), ("d", "e"), ("e", "d")],
    )
    cycles = g.cycles()
    assert ["a", "b"] in cycles and ["d", "e"] in cycles and len(cycles) == 2


def test_unknown_edge_endpoints_ignored() -> None:
    g = TeamGraph.build(["a"], [("a", "ghost")])
    assert g.waves() == [["a"]]


def test_waves_respect_every_edge_on_random_dags() -> None:
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(2, 30)
        names = [f"m{i}" for i in range(n)]
        edges = [
            (names[i], names[j]) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.15
        ]
        g = TeamGraph.build(names, edges)
        index = {m: w for w, wave in enumerate(g.waves()) for m in wave}
        assert sorted(index) == sorted(names)
        for p, c in edges:
            assert index[p] < index[c]
        for p, c in edges:
            assert c in g.downstream(p) and p in g.upstream(c)


def test_renderings() -> None:
    g = TeamGraph.build(
        [GraphNode("a", "agent", "1.0.0", "sha256:aa"), GraphNode("t", "tool", "2.0.0")],
        [
            GraphEdge("a", "t", "tool-call", None, "a=>t"),
            GraphEdge("t", "a", "tool-result", 'we"ird.json', "a<=t"),
        ],
    )
    mm = g.to_mermaid()
    assert mm.startswith("flowchart LR\n")
    assert '["a 1.0.0"]' in mm and '[("t 2.0.0")]' in mm
    assert "#quot;" in mm
    dot = g.to_dot()
    assert dot.startswith("digraph team {") and '"a" -> "t"' in dot
    assert 'label="we\\"ird.json"' in dot
    doc = g.to_json()
    json.dumps(doc)
    assert doc["members"][0] == {
        "name": "a",
        "kind": "agent",
        "version": "1.0.0",
        "digest": "sha256:aa",
    }
    assert doc["handoffs"][1]["contract"] == 'we"ird.json'
    assert doc["waves"] == [["t"], ["a"]]


def test_large_graph_cycles_are_bounded() -> None:
    # a dense strongly connected graph has exponentially many cycles; we report one per SCC
    names = [f"n{i}" for i in range(60)]
    edges = [(a, b) for a in names for b in names if a != b]
    g = TeamGraph.build(names, edges)
    (cyc,) = g.cycles()
    assert len(cyc) == 2
    assert g.waves() == [names]


def test_layout_puts_each_wave_in_its_own_column() -> None:
    from teamrel.graph import TeamGraph

    g = TeamGraph.build(["a", "b", "c", "d"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    pos = g.layout()
    assert [pos[n][0] for n in "abcd"] == [0, 1, 1, 2]
    assert pos["b"][1] != pos["c"][1]
    assert TeamGraph.build([], []).layout() == {}


def test_verdicts_colour_the_written_links_by_their_mermaid_index() -> None:
    g = TeamGraph.build(
        ["a", "b", "c"],
        [
            GraphEdge("a", "b", key="a->b"),
            GraphEdge("a", "x", key="a->x"),  # names no member: not drawn, takes no index
            GraphEdge("b", "c", key="b->c"),
            GraphEdge("a", "c", key="a->c"),  # no verdict: left unstyled
        ],
    )
    verdicts = {"a->b": "compatible", "a->x": "incompatible", "b->c": "incompatible"}
    mm = g.to_mermaid(verdicts)
    assert [line.strip() for line in mm.splitlines()[-2:]] == [
        "linkStyle 1 stroke:#d32f2f,stroke-width:3px",
        "linkStyle 0 stroke:#2e7d32,stroke-width:2px",
    ]
    assert "%% edges coloured by teamrel check: red incompatible" in mm
    # without verdicts: the drawing of before, no styling at all
    assert "linkStyle" not in g.to_mermaid() and "%%" not in g.to_mermaid()
    dot = g.to_dot(verdicts)
    assert '"b" -> "c" [color="#d32f2f", penwidth=2];' in dot
    assert '"a" -> "b" [color="#2e7d32"];' in dot
    assert '"a" -> "c";' in dot
    assert "color" not in g.to_dot()
