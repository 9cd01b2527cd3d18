"""`teamrel import mcp`: tool members from a live MCP server (one `Context` call to plan, one
to apply, render, exit code):

- `teamrel import mcp --command "CMD" | --url URL [--tool NAME]... [--external] [--yes]`
  reads the server's `tools/list` and shows every change (the teamrel.yaml diff, the contract
  files created or changed); it writes them with `--yes`, or after a "yes" at an interactive
  prompt. Exit 0 applied or nothing to change; 1 changes pending without `--yes` where no one
  can be asked (CI: nothing written); 3 the server cannot be read, or lists an unusable tool
  (nothing written).
- `teamrel import mcp --check ...` compares the live server with the workspace, one compat
  verdict per tool; exit 1 on drift that breaks callers or consumers (or cannot be proven
  not to), with the witness.

`--format json` prints `{"format_version": 1, ...}` documents (docs/sources.md).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.imports import import_app
from teamrel.cli.options import FormatOpt, timeout_option, yes_option
from teamrel.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from teamrel.context import Context
    from teamrel.mcpimport import DirectionDrift, DriftReport, ImportPlan


_DRIFT_LABEL = {
    "unchanged": ("OK", "green"),
    "compatible": ("OK", "green"),
    "breaking": ("BREAK", "bold red"),
    "unknown": ("UNKNOWN", "yellow"),
    "new": ("NEW", "cyan"),
    "removed": ("REMOVED", "bold red"),
}


@import_app.command("mcp")
def mcp(
    ctx: typer.Context,
    command: Annotated[
        str | None,
        typer.Option(
            "--command",
            help="Start the server on stdio with this command line (run in the workspace).",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", help="Streamable HTTP endpoint of the server (e.g. .../mcp)."),
    ] = None,
    tool: Annotated[
        list[str] | None,
        typer.Option("--tool", help="Import (or check) only this tool (repeatable)."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing: compare the live server with the workspace; exit 1 on "
            "breaking drift (for a scheduled CI job).",
        ),
    ] = False,
    external: Annotated[
        bool,
        typer.Option("--external", help="Mark the tool members external (deployed by others)."),
    ] = False,
    yes: Annotated[bool, yes_option("Apply the changes without asking.")] = False,
    timeout: Annotated[
        float, timeout_option("Seconds to wait for the server's whole answer.")
    ] = 30.0,
    output_format: FormatOpt = None,
) -> None:
    """Create or update tool members from an MCP server's tools/list (or --check drift).

    Exit 0 done (or up to date); 1 breaking drift under --check, or changes pending without
    --yes and no terminal to ask; 3 the server cannot be read (nothing written).
    """
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        if check and (external or yes):
            raise UsageError("--check writes nothing: --external and --yes do not apply")
        c = context(ctx)
        if check:
            report = c.mcp_drift(command=command, url=url, tools=tool or (), timeout=timeout)
            if out_fmt == "json":
                emit_json(report.to_json())
            else:
                _render_drift(console(ctx), report, quiet=options(ctx).quiet)
            return ExitCode.OK if report.ok else ExitCode.FINDINGS
        plan = c.plan_mcp_import(
            command=command, url=url, tools=tool or (), external=external, timeout=timeout
        )
        return _import(ctx, c, plan, out_fmt, yes=yes)

    run(ctx, out_fmt, body)


def _import(ctx: typer.Context, c: Context, plan: ImportPlan, out_fmt: str, *, yes: bool) -> int:
    """Show what importing the server changes, then write it: with --yes, or after a "yes"
    at an interactive prompt; else nothing is written (exit 1)."""
    out = console(ctx)
    if not plan.changes:
        if out_fmt == "json":
            emit_json(plan.to_json(applied=False))
        else:
            _render_plan(out, plan)
            out.print("up to date: nothing to write", markup=False)
        return ExitCode.OK
    if out_fmt == "text":
        _render_plan(out, plan)
    apply = yes
    if not apply and out_fmt == "text" and sys.stdin.isatty():
        apply = typer.confirm("apply these changes?", default=False)
        if not apply:
            out.print("nothing written", markup=False)
            return ExitCode.FINDINGS
    if not apply:
        if out_fmt == "json":
            emit_json(plan.to_json(applied=False))
        else:
            out.print("nothing written: rerun with --yes to apply these changes", markup=False)
        return ExitCode.FINDINGS
    written = c.apply_mcp_import(plan)
    if out_fmt == "json":
        emit_json(plan.to_json(applied=True))
    else:
        n = len(written)
        out.print(f"wrote {n} file{'s' if n != 1 else ''}", markup=False)
    return ExitCode.OK


def _render_plan(out: Console, plan: ImportPlan) -> None:
    n = len(plan.tools)
    out.print(f"MCP {plan.server}: {n} tool{'s' if n != 1 else ''}", markup=False)
    for t in plan.tools:
        files = ", ".join(f for f in (t.input_file, t.output_file) if f)
        out.print(f"  {t.action:<9} {t.member}  ({files})", markup=False)
    for member, tool in plan.gone:
        out.print(
            f"  gone      {member}: the server no longer lists {tool!r} (member kept; "
            "remove it by hand when nothing uses it)",
            markup=False,
        )
    for f in plan.changes:
        out.print(f"{f.status:>9}  {f.path}", markup=False)
    # teamrel.yaml's diff first: it is what a reviewer reads before the schema files
    for f in sorted(plan.changes, key=lambda f: f.path != "teamrel.yaml"):
        if f.before is not None:
            out.print(f.diff(), markup=False, end="")


def _render_drift(out: Console, report: DriftReport, *, quiet: bool) -> None:
    n = len(report.tools)
    out.print(f"MCP {report.server}: {n} tool{'s' if n != 1 else ''}", markup=False)
    for t in report.tools:
        label, style = _DRIFT_LABEL[t.status]
        out.print(f"[{style}]{label:<8}[/]", end="", markup=True)
        who = f"{t.tool}" + (f" (member {t.member})" if t.member and t.member != t.tool else "")
        if t.status == "new":
            out.print(f"{who}: not in the workspace (import it to pin it)", markup=False)
            continue
        if t.status == "removed":
            out.print(f"{who}: the server no longer lists it; its callers break", markup=False)
            continue
        if t.status == "unchanged":
            out.print(f"{who}: unchanged", markup=False)
            continue
        if t.status == "compatible":
            out.print(f"{who}: changed, compatible (import again to pin it)", markup=False)
        else:
            out.print(f"{who}: {t.status}", markup=False)
        if quiet and t.status == "compatible":
            continue
        for d in (t.input, t.output):
            if d is not None and (not quiet or d.breaking or d.verdict == "unknown"):
                _render_direction(out, d)
    failing = report.failing
    if failing:
        out.print(
            f"MCP drift check FAILED: {len(failing)} of {n} tools break their callers or "
            "consumers (or cannot be proven not to)",
            markup=False,
        )
    else:
        out.print(f"MCP drift check passed: {n} tool{'s' if n != 1 else ''}", markup=False)


def _render_direction(out: Console, d: DirectionDrift) -> None:
    pinned = d.pinned or "(none pinned)"
    out.print(f"         {d.which}: {d.verdict}  {pinned}: {d.message}", markup=False)
    r = d.result
    if r is None or r.verdict == "compatible":
        return
    for p in r.problems:
        out.print(f"           [{p.kind}] {p.instance_pointer or '/'}: {p.message}", markup=False)
    if r.has_witness:
        witness = json.dumps(r.witness, ensure_ascii=False, sort_keys=True)
        out.print(f"           witness: {witness}", markup=False)
