"""`teamrel validate`: load the workspace and report every problem with its location."""

from __future__ import annotations

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.options import FormatOpt
from teamrel.errors import ExitCode


@app.command()
def validate(
    ctx: typer.Context,
    output_format: FormatOpt = None,
) -> None:
    """Validate the workspace: exit 0 when valid, 1 when problems are found."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).validate()
        if out_fmt == "json":
            emit_json(report.to_json())
            return ExitCode.OK if report.valid else ExitCode.FINDINGS
        out = console(ctx)
        quiet = options(ctx).quiet
        for d in report.diagnostics:
            if quiet and d.severity != "error":
                continue
            style = "bold red" if d.severity == "error" else "yellow"
            out.print(f"[{style}]{d.severity}[/]", end=" ", markup=True)
            out.print(f"{d}  [{d.code}]", markup=False)
        errors = sum(1 for d in report.diagnostics if d.severity == "error")
        warnings = len(report.diagnostics) - errors
        if report.valid:
            out.print(
                f"valid: team {report.team}, {report.members} members, "
                f"{report.handoffs} edges" + (f", {warnings} warning(s)" if warnings else ""),
                markup=False,
            )
            return ExitCode.OK
        out.print(f"invalid: {errors} error(s), {warnings} warning(s)", markup=False)
        return ExitCode.FINDINGS

    run(ctx, out_fmt, body)
