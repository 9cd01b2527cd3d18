"""`teamrel import a2a` and `teamrel export a2a`: A2A AgentCards in, and out.

Parse, one `Context` call, render, exit code. Import: exit 0 written (or nothing to change);
1 changes pending on an existing workspace without `--yes` (the diff is shown, nothing is
written); 3 a card that cannot be read (named; nothing written) or a missing `teamrel[a2a]`.
`--format json` prints `{"format_version": 1, "member", "card", "files", "diff", "applied",
...}`. Export prints the card (or writes `--out FILE`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from teamrel.cli.common import console, context, emit_json, options, parse_format, run
from teamrel.cli.imports import export_app, import_app
from teamrel.cli.options import FormatOpt, format_option, member_option, timeout_option, yes_option
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from teamrel.sources.a2a_import import ImportPlan as A2AImportPlan


@import_app.command("a2a")
def import_a2a(
    ctx: typer.Context,
    card: Annotated[
        Path | None, typer.Argument(help="AgentCard JSON file (v1.0 or v0.3).", dir_okay=False)
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Fetch the card from this http(s) URL (its /.well-known/agent-card.json "
            "unless the URL ends in .json).",
        ),
    ] = None,
    member: Annotated[
        str | None, member_option("Member name (default: from the card's name).")
    ] = None,
    skill: Annotated[
        str | None, typer.Option("--skill", help="Import only this skill of the card.")
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="Team name when a new teamrel.yaml is created.")
    ] = None,
    timeout: Annotated[float, timeout_option("Seconds allowed to fetch --url.")] = 10.0,
    yes: Annotated[bool, yes_option("Apply changes to an existing workspace.")] = False,
    output_format: FormatOpt = None,
) -> None:
    """Create or update a member from an A2A AgentCard (a file, or --url).

    Shows the diff of teamrel.yaml; an existing workspace changes only with --yes.
    Exit 0 written or up to date; 1 changes pending (no --yes); 3 a card that cannot be read.
    """
    out_fmt = parse_format(ctx, output_format)
    if (card is None) == (url is None):
        raise typer.BadParameter("give a card file or --url (exactly one)")

    def body() -> int:
        c = context(ctx)
        plan = c.import_a2a(
            card=card, url=url, member=member, skill=skill, team=team, timeout=timeout
        )
        changes = plan.changes
        may_apply = yes or all(f.status == "new" for f in changes)
        if changes and may_apply:
            c.apply_a2a_import(plan)
        if out_fmt == "json":
            emit_json(plan.to_json())
        else:
            _render_import(console(ctx), plan, quiet=options(ctx).quiet)
        return ExitCode.FINDINGS if changes and not plan.applied else ExitCode.OK

    run(ctx, out_fmt, body)


def _render_import(out: Console, plan: A2AImportPlan, *, quiet: bool) -> None:
    """The text of `teamrel import a2a`: the card read, notes, the diff and each file
    written (or that would be, without --yes)."""
    src = plan.card
    out.print(
        f"A2A card {src.source}: {src.name} {src.version} (v{src.shape} card, "
        f"{len(src.skills)} skill{'s' if len(src.skills) != 1 else ''}"
        f"{', teamrel extension' if src.extension else ''}) -> member {plan.member}",
        markup=False,
    )
    for note in plan.notes:
        out.print(f"note: {note}", markup=False)
    if not plan.changes:
        out.print("up to date: nothing to change", markup=False)
        return
    if plan.diff and not quiet:
        out.print(plan.diff.rstrip("\n"), markup=False)
    verb = "wrote" if plan.applied else "would write"
    for f in plan.changes:
        out.print(f"{verb} {f.path} ({f.status})", markup=False)
    if not plan.applied:
        out.print("nothing written: re-run with --yes to apply these changes", markup=False)


@export_app.command("a2a")
def export_a2a(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="The agent member to publish.")],
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the card here instead of stdout.")
    ] = None,
    url_base: Annotated[
        str | None,
        typer.Option(
            "--url-base",
            help="Base URL the agent is served under (card URL: BASE/MEMBER).",
        ),
    ] = None,
    output_format: Annotated[
        str | None, format_option("Output format (with --out): text or json.")
    ] = None,
) -> None:
    """Publish a member as an A2A v1.0 AgentCard carrying its schemas (teamrel extension).

    Exit 0 written; 3 an unknown member or a schema that cannot be bundled into the card.
    """
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        card = context(ctx).export_a2a(member, url_base=url_base, out=out_file)
        if out_file is None:
            typer.echo(json.dumps(card, indent=2, ensure_ascii=False) + "\n", nl=False)
            return ExitCode.OK
        if out_fmt == "json":
            emit_json({"format_version": 1, "member": member, "out": str(out_file)})
        else:
            console(ctx).print(f"wrote {out_file} (A2A card of {member})", markup=False)
        return ExitCode.OK

    run(ctx, out_fmt, body)
