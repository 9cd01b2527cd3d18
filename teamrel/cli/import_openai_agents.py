"""`teamrel import openai-agents MODULE:AGENT`: members and handoffs from an OpenAI Agents SDK
team.

Parse, one `Context.import_openai_agents` call, render, exit code. Exit 0 when the workspace
was written (a new one, or `--yes`) or already matches the SDK team (a re-import of an
unchanged team is a no-op); 1 when an existing workspace would change and `--yes` was not
given (the diff is printed, nothing is written); 3 when the team cannot be imported (a module
that does not import, a reference that is not an Agent, names that collide) or the
`teamrel[openai-agents]` extra is missing: nothing is written. `--format json` prints
`{"format_version": 1, "source", "entry", "workspace", "created", "changed", "applied",
"members", "handoffs", "files", "diff", "notes"}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.imports import import_app
from teamrel.cli.options import FormatOpt, python_path_option, yes_option
from teamrel.errors import ExitCode


@import_app.command("openai-agents")
def import_openai_agents(
    ctx: typer.Context,
    entry: Annotated[
        str, typer.Argument(help="The entry agent: package.module:agent", show_default=False)
    ],
    python_path: Annotated[
        list[Path] | None,
        python_path_option(
            "Directory to import the application from, after the workspace (repeatable)."
        ),
    ] = None,
    yes: Annotated[bool, yes_option("Apply the changes to an existing workspace.")] = False,
    output_format: FormatOpt = None,
) -> None:
    """Walk an OpenAI Agents SDK team from its entry agent into teamrel.yaml.

    Exit 0 written or up to date; 1 an existing workspace would change (diff shown; --yes
    applies it); 3 the team cannot be imported (nothing written).
    """
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).import_openai_agents(entry, python_path=python_path or (), apply=yes)
        code = ExitCode.FINDINGS if report.pending else ExitCode.OK
        if out_fmt == "json":
            emit_json(report.to_json())
            return code
        out = console(ctx)
        quiet = options(ctx).quiet
        n_agents = sum(1 for m in report.members if m.kind == "agent")
        n_tools = len(report.members) - n_agents
        out.print(
            f"openai-agents {report.entry}: {n_agents} agents, {n_tools} function tools, "
            f"{len(report.handoffs)} handoffs",
            markup=False,
        )
        for m in report.members:
            if quiet and m.status == "unchanged":
                continue
            out.print(f"  {m.status:<9} {m.kind:<5} {m.name}  <- {m.source!r}", markup=False)
        for note in report.notes:
            out.print(f"note: {note}", markup=False)
        for f, status in sorted(report.files.items()):
            out.print(f"  {status:<9} {f}", markup=False)
        if report.diff and not quiet:
            out.print(report.diff.rstrip("\n"), markup=False)
        if not report.changed:
            out.print("the workspace already matches the SDK team: nothing to write", markup=False)
        elif report.applied:
            where = "created the workspace" if report.created else "applied"
            out.print(f"{where}: {len(report.files)} files written", markup=False)
        else:
            out.print(
                f"{len(report.files)} files would change: nothing written; "
                "run again with --yes to apply",
                markup=False,
            )
        return code

    run(ctx, out_fmt, body)
