"""`teamrel contracts sync [--check]`: regenerate the contract files generated from code.

Parse, one `Context.sync_contracts` call, render, exit code. Exit 0 when every generated file
is (now) up to date; 1 under `--check` when any is stale or missing (each is named, for CI);
3 when a source cannot be generated (a reference that is malformed or does not import, a
file outside the workspace): then nothing is written. `--format json` prints
`{"format_version": 1, "check", "ok", "files": [...], "stale": [...]}`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.options import FormatOpt, python_path_option
from teamrel.errors import ExitCode

contracts_app = typer.Typer(
    help="Contracts generated from code (Pydantic models): keep the committed files in sync.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(contracts_app, name="contracts")

_LABEL = {
    "fresh": "up to date",
    "written": "written",
    "stale": "stale",
    "missing": "missing",
}


@contracts_app.command("sync")
def sync(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 naming every stale file (for CI)."),
    ] = False,
    python_path: Annotated[
        list[Path] | None,
        python_path_option(
            "Directory to import the models from, after the workspace root (repeatable)."
        ),
    ] = None,
    output_format: FormatOpt = None,
) -> None:
    """Regenerate each `{pydantic: MODULE:MODEL, file: FILE}` contract of teamrel.yaml.

    Exit 0 up to date; 1 stale files under --check; 3 a model that cannot be imported.
    """
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).sync_contracts(check=check, python_path=python_path or ())
        code = ExitCode.FINDINGS if check and not report.ok else ExitCode.OK
        if out_fmt == "json":
            emit_json(report.to_json())
            return code
        out = console(ctx)
        quiet = options(ctx).quiet
        for f in report.files:
            if quiet and f.status == "fresh":
                continue
            style = "bold red" if f.is_stale else "green"
            out.print(f"[{style}]{_LABEL[f.status]:>10}[/]", end="  ", markup=True)
            out.print(f"{f.file}  <- {f.model} ({f.mode})", markup=False)
        if not report.files:
            out.print("no generated contracts in teamrel.yaml", markup=False)
        elif check and not report.ok:
            n = len(report.stale)
            out.print(
                f"{n} generated contract{'s are' if n != 1 else ' is'} out of date: "
                "run `teamrel contracts sync` and commit the result",
                markup=False,
            )
        elif check:
            out.print(f"all {len(report.files)} generated contracts are up to date", markup=False)
        else:
            written = sum(1 for f in report.files if f.status == "written")
            out.print(
                f"{written} written, {len(report.files) - written} already up to date",
                markup=False,
            )
        return code

    run(ctx, out_fmt, body)
