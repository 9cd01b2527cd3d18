"""`teamrel graph`: the team's members and edges as Mermaid, Graphviz dot, JSON or text;
with `--check`, each edge coloured (or labelled) by its `teamrel check` verdict."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, fmt, progress_display, run
from teamrel.errors import ExitCode

#: Version of the `teamrel graph --format json` document.
GRAPH_FORMAT_VERSION = 1
_FORMATS = ("text", "json", "mermaid", "dot")


@app.command()
def graph(
    ctx: typer.Context,
    output_format: Annotated[
        str | None,
        typer.Option("--format", help="Output format: mermaid, dot, json or text."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Prove every handoff and colour each edge by its verdict."),
    ] = False,
) -> None:
    """Show the team graph: members with versions, handoffs with contracts, release waves.

    Exit 0 whatever the verdicts under --check: the gate is `teamrel check`.
    """
    out_fmt = fmt(ctx, output_format)
    if out_fmt not in _FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(_FORMATS)}", param_hint="--format")
    err_fmt = "json" if out_fmt == "json" else "text"

    def body() -> int:
        verdicts: dict[str, str] | None = None
        if check:
            with progress_display(ctx) as progress:
                ws, verdicts = context(ctx).checked_graph(progress=progress)
        else:
            ws = context(ctx).graph()
        g = ws.graph
        if out_fmt == "json":
            doc: dict[str, Any] = {"format_version": GRAPH_FORMAT_VERSION, "team": ws.team.team}
            doc.update(g.to_json())
            if verdicts is not None:
                for h in doc["handoffs"]:
                    h["verdict"] = verdicts.get(h["key"])
            emit_json(doc)
        elif out_fmt == "mermaid":
            typer.echo(g.to_mermaid(verdicts), nl=False)
        elif out_fmt == "dot":
            typer.echo(g.to_dot(verdicts), nl=False)
        else:
            out = console(ctx)
            out.print(f"team {ws.team.team}", markup=False)
            out.print("members:", markup=False)
            for n in g.nodes:
                digest = (n.digest or "").removeprefix("sha256:")[:12]
                out.print(f"  {n.name} {n.version} ({n.kind}) {digest}", markup=False)
            out.print("edges:", markup=False)
            for e in g.edges:
                label = f"  [{e.label}]" if e.label else ""
                verdict = ""
                if verdicts is not None:
                    verdict = f"  {verdicts.get(e.key or '', 'not checked')}"
                key = e.key or f"{e.producer}->{e.consumer}"
                out.print(f"  {key}{label}{verdict}", markup=False)
            out.print("release waves:", markup=False)
            for i, wave in enumerate(g.waves(), 1):
                out.print(f"  {i}. {', '.join(wave)}", markup=False)
            for cyc in g.cycles():
                out.print(f"cycle: {' -> '.join([*cyc, cyc[0]])}", markup=False)
        return ExitCode.OK

    run(ctx, err_fmt, body)
