"""`teamrel graph`: the team's members and edges as Mermaid, Graphviz dot, JSON or text;
with `--check`, each edge coloured (or labelled) by its `teamrel check` verdict."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from teamrel.cli.app import app
from teamrel.cli.common import context, json_text, progress_display, run
from teamrel.cli.options import format_option
from teamrel.cli.render import Renderers
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from teamrel.check import HandoffVerdict
    from teamrel.workspace import Workspace

#: Version of the `teamrel graph --format json` document.
GRAPH_FORMAT_VERSION = 1


@dataclass(frozen=True)
class GraphView:
    """What every graph renderer reads: the workspace and, under --check, each handoff's
    worst verdict (over the default state, flag states and compatibility-mode pairs)."""

    ws: Workspace
    checked: dict[str, HandoffVerdict] | None

    @property
    def verdicts(self) -> dict[str, str] | None:
        """Edge key -> the verdict its colour shows."""
        if self.checked is None:
            return None
        return {key: v.verdict for key, v in self.checked.items()}


def _json(v: GraphView) -> str:
    doc: dict[str, Any] = {"format_version": GRAPH_FORMAT_VERSION, "team": v.ws.team.team}
    doc.update(v.ws.graph.to_json())
    if v.verdicts is not None:
        for h in doc["handoffs"]:
            h["verdict"] = v.verdicts.get(h["key"])
    return json_text(doc)


def _text_lines(v: GraphView) -> Iterator[str]:
    g = v.ws.graph
    yield f"team {v.ws.team.team}"
    yield "members:"
    for n in g.nodes:
        digest = (n.digest or "").removeprefix("sha256:")[:12]
        yield f"  {n.name} {n.version} ({n.kind}) {digest}"
    yield "edges:"
    for e in g.edges:
        label = f"  [{e.label}]" if e.label else ""
        verdict = ""
        if v.checked is not None:
            found = v.checked.get(e.key or "")
            verdict = f"  {found.verdict}" if found is not None else "  not checked"
            if found is not None and found.proved_in is not None:
                verdict += f" ({found.proved_in})"
        key = e.key or f"{e.producer}->{e.consumer}"
        yield f"  {key}{label}{verdict}"
    yield "release waves:"
    for i, wave in enumerate(g.waves(), 1):
        yield f"  {i}. {', '.join(wave)}"
    for cyc in g.cycles():
        yield f"cycle: {' -> '.join([*cyc, cyc[0]])}"


def _styled(v: GraphView, out: Console) -> None:
    for line in _text_lines(v):
        out.print(line, markup=False)


#: The formats of `teamrel graph`, by name (the order `--help` lists them in).
RENDERERS: Renderers[GraphView] = Renderers("team graph")
RENDERERS.add("mermaid", lambda v: v.ws.graph.to_mermaid(v.verdicts))
RENDERERS.add("dot", lambda v: v.ws.graph.to_dot(v.verdicts))
RENDERERS.add("json", _json)
RENDERERS.add("text", lambda v: "".join(f"{line}\n" for line in _text_lines(v)), styled=_styled)


@app.command()
def graph(
    ctx: typer.Context,
    output_format: Annotated[
        str | None,
        format_option(f"Output format: {RENDERERS.help()}"),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Prove every handoff and colour each edge by its verdict."),
    ] = False,
) -> None:
    """Show the team graph: members with versions, handoffs with contracts, release waves.

    Exit 0 whatever the verdicts under --check: the gate is `teamrel check`.
    """
    out_fmt = RENDERERS.parse(ctx, output_format)
    err_fmt = "json" if out_fmt == "json" else "text"

    def body() -> int:
        checked: dict[str, HandoffVerdict] | None = None
        if check:
            with progress_display(ctx) as progress:
                ws, checked = context(ctx).checked_graph(progress=progress)
        else:
            ws = context(ctx).graph()
        RENDERERS.emit(ctx, out_fmt, GraphView(ws, checked))
        return ExitCode.OK

    run(ctx, err_fmt, body)
