"""`teamrel drift`: external members re-read from their origins and proved against every
environment's live release. Parse, one `Context.drift` call, render, exit code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.options import env_option, format_option
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from teamrel.meet import DriftReport

_TAG = {
    "compatible": "OK",
    "incompatible": "DRIFT",
    "unknown": "UNKNOWN",
    "unavailable": "SKIP",
}


def drift_lines(report: DriftReport, *, quiet: bool = False) -> list[str]:
    """The text rendering: one row per member slot and environment, then the verdict."""
    lines: list[str] = []
    for r in report.results:
        if quiet and r.verdict == "compatible":
            continue
        lines.append(f"{_TAG.get(r.verdict, r.verdict.upper()):<8}{r.message()}")
    counts: dict[str, int] = {}
    for r in report.results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    parts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "no external member live"
    verdict = "passed" if report.passed else "FAILED"
    lines.append(f"teamrel drift {verdict}: {parts}")
    return lines


@app.command("drift")
def drift_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, env_option("Only this environment's live release.")] = None,
    output_format: Annotated[str | None, format_option("text or json.")] = None,
) -> None:
    """Re-read each external member's interface from its origin and prove it against what
    every environment's live release pinned (inputs: pinned ⊆ live; outputs: live ⊆ pinned).

    Exit 0 no breaking drift, 1 a breaking (or undecidable) drift, 3 an unreadable origin.
    """
    f = parse_format(ctx, output_format)

    def body() -> int:
        report: Any = context(ctx).drift(env)
        if f == "json":
            emit_json(report.to_json())
        else:
            console(ctx).print(
                "\n".join(drift_lines(report, quiet=options(ctx).quiet)),
                markup=False,
                highlight=False,
            )
        return ExitCode.OK if report.passed else ExitCode.FINDINGS

    run(ctx, f, body)
