"""`teamrel report`: write the HTML report (plan, check, team graph). Parse, one
`Context.report` call, write the file, print where it is, exit code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamrel.cli.app import app
from teamrel.cli.common import (
    context,
    emit_json,
    parse_format,
    parse_unknown,
    progress_display,
    run,
)
from teamrel.cli.options import (
    NoCacheOpt,
    UnknownOpt,
    against_option,
    base_option,
    env_option,
    format_option,
    out_option,
)
from teamrel.errors import ExitCode, UsageError

#: Version of the `teamrel report --format json` document.
REPORT_FORMAT_VERSION = 1


@app.command("report")
def report_command(
    ctx: typer.Context,
    out: Annotated[Path, out_option("The HTML file to write.", short=True)] = Path("report.html"),
    env: Annotated[str | None, env_option("Plan against this environment's live release.")] = None,
    base: Annotated[str | None, base_option("Plan against this manifest or release.")] = None,
    against: Annotated[str | None, against_option("The base, as check reads it.")] = None,
    unknown: UnknownOpt = None,
    output_format: Annotated[str | None, format_option("text or json.")] = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Write one self-contained HTML page (no network) with the plan, the check and the graph.

    Exit 0 when the plan has no problem, 1 when it has (the file is written either way).
    """
    f = parse_format(ctx, output_format)
    parse_unknown(ctx, unknown, err_format=f)

    def body() -> int:
        if env is not None and base is not None:
            raise UsageError("--env and --base are exclusive: give one base")
        with progress_display(ctx) as progress:
            rep = context(ctx).report(
                env=env,
                base=base,
                against=against,
                unknown=unknown,  # type: ignore[arg-type]
                use_cache=not no_cache,
                progress=progress,
            )
        out.write_text(rep.html, encoding="utf-8")
        if f == "json":
            emit_json(
                {
                    "format_version": REPORT_FORMAT_VERSION,
                    "out": str(out),
                    "passed": rep.passed,
                    "summary": rep.summary_line,
                    "members": rep.members,
                    "handoffs": rep.handoffs,
                    "bytes": len(rep.html.encode("utf-8")),
                }
            )
        else:
            typer.echo(f"{rep.summary_line}\nreport written to {out}")
        return ExitCode.OK if rep.passed else ExitCode.FINDINGS

    run(ctx, "json" if f == "json" else "text", body)
