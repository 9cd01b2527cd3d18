"""The team graph: who feeds whom, release waves, closures, cycles, and its renderings.

Owns `TeamGraph`, the only place teamrel imports networkx.

Two views of the same edges:
- the *display* graph: every edge as declared (handoffs, and for each tool an agent uses
  the pair agent => tool (`tool-call`) and tool => agent (`tool-result`)), used by
  `to_mermaid` / `to_dot` / `to_json`;
- the *dependency* graph used for closures and waves: a handoff is producer -> consumer,
  and a tool is upstream of the agents using it (tool -> agent, from either tool edge).
  Counting agent -> tool as a dependency would make every tool-using agent a cycle with
  its tool; a tool has no inputs from its callers' releases, so it is released first.

With the verdicts of `teamrel check` (edge key -> verdict), `to_mermaid` and `to_dot`
colour each edge by its verdict (`VERDICT_COLOURS`); without them the drawing is unchanged.

`waves()` are the topological generations of the condensation (each strongly connected
component is one unit, released together); `downstream(x)` / `upstream(x)` never include
`x` itself, even when `x` sits on a cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from teamrel.canonical import JsonObject

#: Edge colour per verdict, worst first (the order of the legend); colour-blind safe enough
#: that the legend, not the hue alone, carries the meaning.
VERDICT_COLOURS: dict[str, str] = {
    "incompatible": "#d32f2f",
    "unknown": "#f9a825",
    "unchecked": "#9e9e9e",
    "compatible": "#2e7d32",
}
_COLOUR_NAMES = {
    "incompatible": "red",
    "unknown": "amber",
    "unchecked": "grey",
    "compatible": "green",
}


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A member as drawn: name, kind, version and content digest."""

    name: str
    kind: str = "agent"
    version: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """An edge as drawn: `kind` is handoff, tool-call or tool-result; `label` its contract."""

    producer: str
    consumer: str
    kind: str = "handoff"
    label: str | None = None
    key: str | None = None


def _dep_edge(e: GraphEdge) -> tuple[str, str]:
    if e.kind == "tool-call":
        return (e.consumer, e.producer)  # the tool is upstream of the agent calling it
    return (e.producer, e.consumer)


class TeamGraph:
    """Members and edges of one team, with dependency queries and renderings."""

    def __init__(self, nodes: list[GraphNode], edges: list[GraphEdge]) -> None:
        self.nodes: list[GraphNode] = nodes
        self.edges: list[GraphEdge] = edges
        self._order = {n.name: i for i, n in enumerate(nodes)}
        self._dep: Any = nx.DiGraph()
        self._dep.add_nodes_from(n.name for n in nodes)
        self._dep.add_edges_from(
            _dep_edge(e) for e in edges if e.producer in self._order and e.consumer in self._order
        )

    @classmethod
    def build(
        cls,
        nodes: Iterable[GraphNode | str],
        edges: Iterable[GraphEdge | tuple[str, str]],
    ) -> TeamGraph:
        """A graph of `nodes` (names or GraphNodes) and `edges` ((producer, consumer) or
        GraphEdges); edges naming unknown members are ignored (validation reports them)."""
        ns = [n if isinstance(n, GraphNode) else GraphNode(n) for n in nodes]
        es = [e if isinstance(e, GraphEdge) else GraphEdge(e[0], e[1]) for e in edges]
        return cls(ns, es)

    def _sorted(self, names: Iterable[str]) -> list[str]:
        return sorted(names, key=lambda n: self._order.get(n, len(self._order)))

    def _check(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(f"unknown member {name!r}")

    def downstream(self, name: str) -> set[str]:
        """Every member that (transitively) depends on `name` (excluding `name`)."""
        self._check(name)
        return set(nx.descendants(self._dep, name)) - {name}

    def upstream(self, name: str) -> set[str]:
        """Every member `name` (transitively) depends on (excluding `name`)."""
        self._check(name)
        return set(nx.ancestors(self._dep, name)) - {name}

    def waves(self) -> list[list[str]]:
        """Release waves: topological generations, a cycle's members in one wave together."""
        cond = nx.condensation(self._dep)
        members = cond.graph["mapping"]
        by_comp: dict[int, list[str]] = {}
        for name, comp in members.items():
            by_comp.setdefault(comp, []).append(name)
        out: list[list[str]] = []
        for gen in nx.topological_generations(cond):
            wave: list[str] = []
            for comp in gen:
                wave.extend(by_comp[comp])
            out.append(self._sorted(wave))
        return out

    def cycles(self) -> list[list[str]]:
        """One cycle path per strongly connected component (and per self-loop), e.g.
        `["a", "b", "c"]` for a -> b -> c -> a. Bounded: never enumerates every cycle."""
        out: list[list[str]] = []
        for comp in nx.strongly_connected_components(self._dep):
            if len(comp) == 1:
                (only,) = comp
                if self._dep.has_edge(only, only):
                    out.append([only])
                continue
            start = self._sorted(comp)[0]
            sub = self._dep.subgraph(comp)
            cyc = _cycle_through(sub, start)
            out.append(cyc)
        out.sort(key=lambda c: self._order.get(c[0], 0))
        return out

    def layout(self) -> dict[str, tuple[int, int]]:
        """A drawing grid: member -> (column, row), one column per release wave.

        The columns are networkx's topological generations (`waves()`); within a column the
        members keep their declaration order, short columns centred beside tall ones. No
        coordinates are computed beyond that: networkx's drawing layouts need numpy, which
        teamrel does not otherwise depend on, and a grid by wave is what the report shows."""
        waves = self.waves()
        if not waves:
            return {}
        tallest = max(len(w) for w in waves)
        out: dict[str, tuple[int, int]] = {}
        for col, wave in enumerate(waves):
            offset = (tallest - len(wave)) // 2
            for row, name in enumerate(wave):
                out[name] = (col, offset + row)
        return out

    # ------------------------------------------------------------------ renderings

    def to_json(self) -> JsonObject:
        """Members, edges, waves and cycles as a JSON object."""
        return {
            "members": [
                {"name": n.name, "kind": n.kind, "version": n.version, "digest": n.digest}
                for n in self.nodes
            ],
            "handoffs": [
                {
                    "key": e.key,
                    "from": e.producer,
                    "to": e.consumer,
                    "kind": e.kind,
                    "contract": e.label,
                }
                for e in self.edges
            ],
            "waves": self.waves(),
            "cycles": self.cycles(),
        }

    def to_mermaid(self, verdicts: Mapping[str, str] | None = None) -> str:
        """A Mermaid flowchart: every member with its version, edges with their contracts;
        with `verdicts` (edge key -> verdict), a `linkStyle` per verdict colours the edges."""
        ids = {n.name: f"m{i}" for i, n in enumerate(self.nodes)}
        # Mermaid numbers links in the order they are written: an edge left out (an unknown
        # member) takes no number, so indices count the written links only
        by_verdict: dict[str, list[int]] = {}
        written = 0
        lines = ["flowchart LR"]
        for n in self.nodes:
            text = _mermaid_text(f"{n.name} {n.version}" if n.version else n.name)
            shape = f'[("{text}")]' if n.kind == "tool" else f'["{text}"]'
            lines.append(f"    {ids[n.name]}{shape}")
        for e in self.edges:
            if e.producer not in ids or e.consumer not in ids:
                continue
            arrow = "-->" if e.kind == "handoff" else "-.->"
            label = e.label or ("" if e.kind == "handoff" else e.kind)
            link = f'{arrow}|"{_mermaid_text(label)}"|' if label else arrow
            lines.append(f"    {ids[e.producer]} {link} {ids[e.consumer]}")
            verdict = verdicts.get(e.key or "") if verdicts is not None else None
            if verdict in VERDICT_COLOURS:
                by_verdict.setdefault(verdict, []).append(written)
            written += 1
        if verdicts is not None:
            legend = ", ".join(f"{_COLOUR_NAMES[v]} {v}" for v in VERDICT_COLOURS)
            lines.append(f"    %% edges coloured by teamrel check: {legend}")
            for verdict, colour in VERDICT_COLOURS.items():
                if verdict in by_verdict:
                    width = "3px" if verdict == "incompatible" else "2px"
                    indices = ",".join(map(str, by_verdict[verdict]))
                    lines.append(f"    linkStyle {indices} stroke:{colour},stroke-width:{width}")
        return "\n".join(lines) + "\n"

    def to_dot(self, verdicts: Mapping[str, str] | None = None) -> str:
        """A Graphviz digraph: every member with its version, edges with their contracts;
        with `verdicts` (edge key -> verdict), each edge coloured by its verdict."""
        lines = ["digraph team {", "    rankdir=LR;", "    node [shape=box];"]
        if verdicts is not None:
            legend = ", ".join(f"{_COLOUR_NAMES[v]} {v}" for v in VERDICT_COLOURS)
            lines.append(f"    // edges coloured by teamrel check: {legend}")
        for n in self.nodes:
            label = f"{n.name}\\n{n.version}" if n.version else n.name
            shape = ", shape=cylinder" if n.kind == "tool" else ""
            lines.append(f'    "{_dot_text(n.name)}" [label="{_dot_text(label, True)}"{shape}];')
        for e in self.edges:
            attrs = [f'label="{_dot_text(e.label)}"'] if e.label else []
            if e.kind != "handoff":
                attrs.append("style=dashed")
            verdict = verdicts.get(e.key or "") if verdicts is not None else None
            if verdict in VERDICT_COLOURS:
                attrs.append(f'color="{VERDICT_COLOURS[verdict]}"')
                if verdict == "incompatible":
                    attrs.append("penwidth=2")
            attr = f" [{', '.join(attrs)}]" if attrs else ""
            lines.append(f'    "{_dot_text(e.producer)}" -> "{_dot_text(e.consumer)}"{attr};')
        lines.append("}")
        return "\n".join(lines) + "\n"


def _cycle_through(sub: Any, start: str) -> list[str]:
    """A shortest cycle through `start` in the strongly connected `sub`."""
    best: list[str] | None = None
    for pred in sub.predecessors(start):
        path: list[str] = nx.shortest_path(sub, start, pred)
        if best is None or len(path) < len(best):
            best = path
    return best or [start]


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _dot_text(text: str, keep_newline: bool = False) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    return out.replace("\\\\n", "\\n") if keep_newline else out
