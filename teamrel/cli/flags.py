"""Flag commands: `teamrel flags set ENV FLAG on|off|--percent N`, `flags status [ENV]`,
`flags history ENV` (docs/flags.md).

Each parses, makes one call into `Context`, renders (text, or a versioned JSON document under
`--format json`) and exits: 0 ok, 2 usage, 3 operational (a refused state, a conflict, no live
release).
"""

from __future__ import annotations

from typing import Annotated

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, parse_format, run
from teamrel.cli.options import ActorOpt, FormatOpt, ReasonOpt
from teamrel.errors import ExitCode

flags_app = typer.Typer(help="Feature flags per environment, proven by the live release.")
app.add_typer(flags_app, name="flags")


#: Version of the `flags set` and `flags history` JSON documents.
FORMAT_VERSION = 1


def _plain(ctx: typer.Context, text: str) -> None:
    console(ctx).print(text, markup=False, highlight=False)


@flags_app.command("set")
def set_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment.")],
    flag: Annotated[str, typer.Argument(help="The flag.")],
    value: Annotated[str | None, typer.Argument(help="on or off (or give --percent).")] = None,
    percent: Annotated[
        float | None,
        typer.Option("--percent", help="On for this share of keys (sticky per key), 0-100."),
    ] = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    output_format: FormatOpt = None,
) -> None:
    """Set FLAG in ENV: on, off or --percent N; refused unless the live release proved it."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        from teamrel.errors import UsageError

        if (value is None) == (percent is None):
            raise UsageError("give on|off or --percent N")
        change = context(ctx).flags_set(
            env, flag, value or "percent", percent=percent, reason=reason, actor=actor
        )
        if out_fmt == "json":
            emit_json({"format_version": FORMAT_VERSION, "change": change.to_json()})
        elif change.noop:
            _plain(ctx, f"flag {flag} is already {change.after.describe()} in {env}: no change")
        else:
            before = change.before.describe() if change.before else "default"
            _plain(
                ctx,
                f"flag {flag} in {env}: {before} -> {change.after.describe()} "
                f"(release {change.release}, generation {change.generation})",
            )
        return ExitCode.OK

    run(ctx, out_fmt, body)


@flags_app.command("status")
def status_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, typer.Argument(help="Only this environment.")] = None,
    output_format: FormatOpt = None,
) -> None:
    """The flags of the release live in each environment, with their values there."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).flags_status(env)
        if out_fmt == "json":
            emit_json(report.to_json())
            return ExitCode.OK
        if not report.environments:
            _plain(ctx, "no release is live in any environment")
        for e in report.environments:
            _plain(ctx, f"{e['environment']} (release {e['release']}):")
            if not e["flags"]:
                _plain(ctx, "  (the live release declares no flags)")
            for f in e["flags"]:
                how = (
                    f"set by {f['updated_by']} at {f['updated_at']}"
                    + (f": {f['reason']}" if f["reason"] else "")
                    if f["set"]
                    else "default"
                )
                _plain(ctx, f"  {f['flag']:<24} {f['value']:<8} {how}")
            for stray in e["not_in_release"]:
                _plain(ctx, f"  {stray:<24} (set, but the live release does not declare it)")
        return ExitCode.OK

    run(ctx, out_fmt, body)


@flags_app.command("history")
def history_cmd(
    ctx: typer.Context,
    env: Annotated[str, typer.Argument(help="The environment.")],
    output_format: FormatOpt = None,
) -> None:
    """Every flag change of ENV, oldest first (from the audit log)."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        team, events = context(ctx).flags_history(env)
        if out_fmt == "json":
            emit_json(
                {
                    "format_version": FORMAT_VERSION,
                    "team": team,
                    "environment": env,
                    "changes": events,
                }
            )
            return ExitCode.OK
        if not events:
            _plain(ctx, f"no flag was ever set in {env}")
        for e in events:
            why = f": {e['reason']}" if e["reason"] else ""
            _plain(
                ctx,
                f"#{e['seq']} {e['at']} {e['flag']} {e['from'] or 'default'} -> {e['to']} "
                f"by {e['actor']} (release {e['release']}){why}",
            )
        return ExitCode.OK

    run(ctx, out_fmt, body)
