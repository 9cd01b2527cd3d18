"""`teamrel compat PRODUCER.json CONSUMER.json`: prove or refute one schema pair.

Parse, one `Context.compat` call, render, exit code. Needs no workspace. Exit 0 compatible;
1 incompatible, or unknown under `--unknown fail` (the default); 3 unreadable or invalid input.
Text output is written for a CI log: the verdict, one line per problem (instance pointer, kind,
sentence, schema locations), then the witness pretty-printed. `--format json` prints
`{"format_version": 1, "verdict", "witness", "has_witness", "problems", "reason", ...}`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from teamrel.canonical import JsonObject
from teamrel.cli.app import app
from teamrel.cli.common import (
    console,
    context,
    emit_json,
    options,
    parse_format,
    parse_unknown,
    run,
)
from teamrel.cli.options import FormatOpt, unknown_option
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from teamrel.compat import CompatResult

#: Version of the `teamrel compat --format json` document.
COMPAT_FORMAT_VERSION = 1


def exit_code(verdict: str, unknown: str) -> int:
    """0 compatible; 1 incompatible; unknown is 1 under `--unknown fail`, 0 under `warn`."""
    if verdict == "compatible" or (verdict == "unknown" and unknown == "warn"):
        return ExitCode.OK
    return ExitCode.FINDINGS


def to_document(result: CompatResult, producer: Path, consumer: Path) -> JsonObject:
    """The stable JSON document of one compat run."""
    return {
        "format_version": COMPAT_FORMAT_VERSION,
        "producer": str(producer),
        "consumer": str(consumer),
        "verdict": result.verdict,
        "witness": result.witness if result.has_witness else None,
        "has_witness": result.has_witness,
        "problems": [p.to_json() for p in result.problems],
        "reason": result.reason,
        "engine_version": result.engine_version,
    }


def render_text(
    out: Console,
    result: CompatResult,
    producer: Path,
    consumer: Path,
    *,
    unknown: str,
    quiet: bool,
) -> None:
    """The verdict line, then (unless quiet) problems and the witness."""
    if result.verdict == "compatible":
        out.print(
            f"[green]compatible[/]: every value valid under {escape(str(producer))} "
            f"is valid under {escape(str(consumer))}",
            markup=True,
            highlight=False,
        )
        return
    if result.verdict == "unknown":
        style, label = ("bold red", "unknown") if unknown == "fail" else ("yellow", "unknown")
        out.print(
            f"[{style}]{label}[/]: could not decide whether {escape(str(producer))} "
            f"fits {escape(str(consumer))}"
            + (" (treated as a failure: --unknown fail)" if unknown == "fail" else ""),
            markup=True,
            highlight=False,
        )
        if not quiet and result.reason:
            out.print(f"  reason: {result.reason}", markup=False, highlight=False)
        return
    out.print(
        f"[bold red]incompatible[/]: {escape(str(producer))} may send values "
        f"{escape(str(consumer))} rejects",
        markup=True,
        highlight=False,
    )
    if quiet:
        return
    for problem in result.problems:
        where = problem.instance_pointer or "(root)"
        out.print(
            f"  {where}  [{problem.kind}]  {problem.message}  "
            f"(producer: {problem.producer_location}, consumer: {problem.consumer_location})",
            markup=False,
            highlight=False,
        )
    if result.has_witness:
        out.print("witness (valid under the producer, rejected by the consumer):", markup=False)
        text = json.dumps(result.witness, indent=2, ensure_ascii=False, sort_keys=True)
        for line in text.splitlines():
            out.print(f"  {line}", markup=False, highlight=False)


@app.command()
def compat(
    ctx: typer.Context,
    producer: Annotated[
        Path,
        typer.Argument(help="JSON Schema of what is sent.", metavar="PRODUCER", show_default=False),
    ],
    consumer: Annotated[
        Path,
        typer.Argument(
            help="JSON Schema of what is accepted.", metavar="CONSUMER", show_default=False
        ),
    ],
    output_format: FormatOpt = None,
    unknown: Annotated[
        str, unknown_option("Exit code for an undecided pair: fail (1) or warn (0).")
    ] = "fail",
    format_assertion: Annotated[
        bool,
        typer.Option("--format-assertion", help="Treat `format` as an assertion, not annotation."),
    ] = False,
) -> None:
    """Is every value valid under PRODUCER also valid under CONSUMER?

    Exit 0 compatible; 1 incompatible (or unknown under --unknown fail); 3 bad input.
    """
    out_fmt = parse_format(ctx, output_format)
    parse_unknown(ctx, unknown)

    def body() -> int:
        result = context(ctx).compat(producer, consumer, format_assertion=format_assertion)
        if out_fmt == "json":
            emit_json(to_document(result, producer, consumer))
        else:
            render_text(
                console(ctx),
                result,
                producer,
                consumer,
                unknown=unknown,
                quiet=options(ctx).quiet,
            )
        return exit_code(result.verdict, unknown)

    run(ctx, out_fmt, body)
