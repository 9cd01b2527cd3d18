"""`teamrel init`: scaffold a workspace from a packaged example. Parse, one `Context.init`
call, render the files written and the next steps, exit code."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer

from teamrel.cli.app import app
from teamrel.cli.common import context, emit_json, options, parse_format, run
from teamrel.cli.options import format_option
from teamrel.errors import ExitCode

#: Version of the `teamrel init --format json` document.
INIT_FORMAT_VERSION = 1


def next_steps(directory: Path) -> list[str]:
    """The commands to run next, runnable as printed from the current directory."""
    rel = os.path.relpath(directory, Path.cwd())
    ws = "" if rel == "." else f"-C {shlex.quote(rel)} "
    return [
        f"teamrel {ws}validate",
        f"teamrel {ws}check",
        f"teamrel {ws}plan",
        f"teamrel {ws}release --name r1",
    ]


@app.command("init")
def init_command(
    ctx: typer.Context,
    example: Annotated[
        str,
        typer.Option("--example", help="minimal, support or with-tool."),
    ] = "minimal",
    output_format: Annotated[str | None, format_option("text or json.")] = None,
) -> None:
    """Create a workspace in the current directory (or -C DIR) from an example.

    Refuses to overwrite any file. Exit 0 when written, 2 on a bad option, 3 when a file
    would be overwritten.
    """
    f = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).init(example)
        steps = next_steps(result.directory)
        if f == "json":
            doc: dict[str, object] = {"format_version": INIT_FORMAT_VERSION}
            doc.update(result.to_json())
            doc["next_steps"] = steps
            emit_json(doc)
            return ExitCode.OK
        where = os.path.relpath(result.directory, Path.cwd())
        typer.echo(
            f"created team {result.team!r} from example {result.example!r} in {where}: "
            f"{len(result.files)} files"
        )
        if not options(ctx).quiet:
            for name in result.files:
                typer.echo(f"  {name}")
        typer.echo("\nnext steps:")
        for step in steps:
            typer.echo(f"  {step}")
        return ExitCode.OK

    run(ctx, "json" if f == "json" else "text", body)
