"""`teamrel plan`: the release preview. Parse, one `Context.plan` call, render, exit code.

The text is written for a release manager about to ship: the one-line summary first, then
what matters (breaking changes, semver findings, broken handoffs), then each changed member
with its field-level diff, the release waves, and the handoff verdicts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from teamrel.cli.app import app
from teamrel.cli.common import context, json_text, options, parse_unknown, progress_display, run
from teamrel.cli.evals import render_plan_evals
from teamrel.cli.options import (
    FormatAssertionOpt,
    NoCacheOpt,
    UnknownOpt,
    against_option,
    base_option,
    env_option,
    format_option,
    out_option,
)
from teamrel.cli.render import Renderers
from teamrel.errors import ExitCode, UsageError

if TYPE_CHECKING:
    # imported when a command runs, not at start-up: `teamrel rollback` must not pay for it
    from collections.abc import Sequence

    from teamrel.check import EdgeResult, PlanCheck
    from teamrel.plandoc import MemberEntry, Plan, PlanBase

_ACTION = {
    "add": ("+", "green"),
    "change": ("~", "yellow"),
    "remove": ("-", "red"),
    "unchanged": (" ", "dim"),
}
_CATEGORY = {"breaking": "bold red", "non-breaking": "green", "metadata-only": "cyan"}
#: Above this many lines, a list of uneventful rows (new members, compatible handoffs) is
#: folded into a count unless --explain.
_COLLAPSE_OVER = 30


def _value(v: Any) -> str:
    if isinstance(v, str) and v.startswith("sha256:"):
        return v.removeprefix("sha256:")[:12]
    if isinstance(v, str):
        return v
    import json

    return json.dumps(v, ensure_ascii=False)


def _names(names: list[str], *, explain: bool, limit: int = 12) -> str:
    """A comma-separated list, cut to `limit` names unless explaining."""
    if explain or len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", ... and {len(names) - limit} more (--explain)"


def _p(out: Console, text: str) -> None:
    out.print(text, markup=True, highlight=False)


def _prompt_diff(out: Console, diff: str, *, explain: bool) -> None:
    lines = diff.splitlines()
    shown = lines if explain else lines[:12]
    for line in shown:
        colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        _p(out, f"      [{colour}]{escape(line)}[/]")
    if len(shown) < len(lines):
        _p(out, f"      [dim]... {len(lines) - len(shown)} more lines (--explain)[/]")


def _member(out: Console, m: MemberEntry, *, explain: bool) -> None:
    sign, style = _ACTION[m.action]
    cat = m.category
    cat_text = f"  [{_CATEGORY[cat]}]{cat}[/]" if cat else ""
    _p(out, f"[{style}]{sign} {escape(m.label)}[/] [dim]({m.kind})[/]{cat_text}")
    if m.action != "change":
        if m.action == "add" and explain:
            for r in m.reasons:
                _p(out, f"    [dim]{escape(r)}[/]")
        return
    # what the change does to the contracts first: that is what can break a neighbour
    for s in m.schema_changes:
        _p(out, f"    {escape(s.summary)}")
    _field_changes(out, m, explain=explain)
    _semver_and_radius(out, m, explain=explain)
    if explain:
        for r in m.reasons:
            _p(out, f"    [dim]why: {escape(r)}[/]")


def _field_changes(out: Console, m: MemberEntry, *, explain: bool) -> None:
    for c in m.changes:
        if c.field == "tools":
            what = f"+ {c.new}" if c.new else f"- {c.old}"
            _p(out, f"    tools: {escape(what)}")
        elif c.field != "version":
            old, new = escape(_value(c.old)), escape(_value(c.new))
            _p(out, f"    {escape(c.field)}: {old} -> {new}")
        if c.field == "prompt":  # the text diff right under the digests it explains
            _prompt_diff(out, m.prompt_diff or "", explain=explain)
    if m.prompt_diff and not any(c.field == "prompt" for c in m.changes):
        _prompt_diff(out, m.prompt_diff, explain=explain)


def _semver_and_radius(out: Console, m: MemberEntry, *, explain: bool) -> None:
    sv = m.semver
    if sv:
        if sv.ok:
            _p(out, f"    [dim]semver: ok, {sv.bump} bump (at least {sv.required} needed)[/]")
        else:
            _p(out, f"    [bold red]semver: {escape(sv.message or '')}[/]")
    radius = m.blast_radius
    if radius.hit:
        _p(out, f"    [red]hits: {escape(_names(radius.hit, explain=explain))}[/]")
    if radius.downstream:
        below = _names(radius.downstream, explain=explain)
        _p(out, f"    [dim]blast radius: {escape(below)}[/]")


def _base_line(base: PlanBase) -> str:
    if base.kind == "empty":
        return "an empty team (no release yet)"
    if base.kind == "env":
        return f"env {base.env} ({base.release or 'nothing live'})"
    return f"release {base.release}" + (f" ({base.path})" if base.path else "")


def render_text(out: Console, plan: Plan, *, explain: bool, quiet: bool) -> None:
    """The plan for a human: summary first, then problems, members, waves, handoffs."""
    style = "bold red" if not plan.passed else ("bold yellow" if plan.has_changes else "bold green")
    _p(out, f"[{style}]{escape(plan.summary_line)}[/]")
    _p(out, f"[dim]base: {escape(_base_line(plan.base))}[/]")
    from teamrel.check import PlanCheck

    checked = PlanCheck.of(plan)
    if checked.flags is not None:  # which flag states were proved, what was not explored
        from teamrel.cli.check import flag_lines

        for line in flag_lines(checked.flags):
            _p(out, f"[dim]{escape(line)}[/]")
    _findings(out, plan, quiet=quiet)
    if quiet:
        return
    _members(out, plan, explain=explain)
    render_plan_evals(out, plan.evals, explain=explain)
    _waves(out, plan, explain=explain)
    _handoffs(out, plan, checked.edges, explain=explain)
    _compat_modes(out, checked, explain=explain)


def _findings(out: Console, plan: Plan, *, quiet: bool) -> None:
    if plan.problems:
        _p(out, "\n[bold red]Problems[/]")
        for f in plan.problems:
            _p(out, f"  [red]✗[/] {escape(f.message)}")
    if plan.warnings and not quiet:
        _p(out, "\n[bold yellow]Warnings[/]")
        for f in plan.warnings:
            _p(out, f"  [yellow]![/] {escape(f.message)}")


def _members(out: Console, plan: Plan, *, explain: bool) -> None:
    changed = [m for m in plan.members if m.action != "unchanged"]
    # A first release of a large team adds every member: list the adds that need attention
    # and count the rest, or the changes that matter drown in a thousand "+" lines.
    quiet_adds = [m for m in changed if m.action == "add" and m.category != "breaking"]
    collapse_adds = not explain and len(quiet_adds) > _COLLAPSE_OVER
    folded = {id(m) for m in quiet_adds} if collapse_adds else set()
    if changed:
        _p(out, "\n[bold]Members[/]")
        for m in changed:
            if id(m) not in folded:
                _member(out, m, explain=explain)
        if collapse_adds:
            _p(out, f"[green]+ {len(quiet_adds)} new members[/] [dim](--explain lists them)[/]")
    unchanged = [m.name for m in plan.members if m.action == "unchanged"]
    if unchanged and (explain or len(unchanged) <= 12):
        _p(out, f"  [dim]unchanged: {escape(', '.join(unchanged))}[/]")
    elif unchanged:
        _p(out, f"  [dim]unchanged: {len(unchanged)} members (--explain lists them)[/]")


def _waves(out: Console, plan: Plan, *, explain: bool) -> None:
    if not plan.waves:
        return
    _p(out, "\n[bold]Release order[/]")
    for w in plan.waves:
        names = _names(w.members, explain=explain, limit=8)
        if len(w.members) > 8 and not explain:
            names = f"{len(w.members)} members: {names}"
        _p(out, f"  wave {w.wave}: {w.action} {escape(names)}")


def _shown_handoffs(
    plan: Plan, edges: Sequence[EdgeResult], *, explain: bool
) -> Sequence[EdgeResult]:
    """Every verdict that is not "compatible" is always shown; compatible handoffs are listed
    on a small team, and on a large one only those touching a change (while there are few
    of them): the rest is a count, --explain and --format json give the full list."""
    if explain or len(edges) <= _COLLAPSE_OVER:
        return edges
    touched = {m.name for m in plan.members if m.action != "unchanged"}
    near = [
        e
        for e in edges
        if e.verdict == "compatible" and (e.producer.name in touched or e.consumer.name in touched)
    ]
    keep = {id(e) for e in near} if len(near) <= _COLLAPSE_OVER else set()
    return [e for e in edges if e.verdict != "compatible" or id(e) in keep]


def _handoffs(out: Console, plan: Plan, edges: Sequence[EdgeResult], *, explain: bool) -> None:
    shown = _shown_handoffs(plan, edges, explain=explain)
    if shown:
        _p(out, "\n[bold]Handoffs[/]")
        for e in shown:
            _handoff(out, e, explain=explain)
    if len(shown) < len(edges):
        if not shown:
            _p(out, "\n[bold]Handoffs[/]")
        more = "more " if shown else ""
        _p(out, f"  [dim]... {len(edges) - len(shown)} {more}compatible handoffs (--explain)[/]")


def _handoff(out: Console, e: EdgeResult, *, explain: bool) -> None:
    colour = {"compatible": "green", "incompatible": "bold red"}.get(e.verdict, "yellow")
    p, c = e.producer, e.consumer
    state = ""
    if e.flag_state is not None:  # proved in a flag state: say which
        from teamrel.flags import label

        state = escape(label(e.flag_state)) + ": "
    line = (
        f"  [{colour}]{e.verdict:<12}[/] {state}"
        f"{escape(p.name)}@{escape(str(p.version))}"
        f" -> {escape(c.name)}@{escape(str(c.version))}"
    )
    if e.kind != "handoff":
        line += f" [dim]({e.kind})[/]"
    first = e.first_problem()
    if e.verdict != "compatible" and first:
        line += f"\n      {escape(first)}"
    _p(out, line)
    if e.verdict == "incompatible" and explain:
        for s in e.steps:
            if s.has_witness:
                import json

                _p(out, f"      [dim]witness: {escape(json.dumps(s.witness))}[/]")


def _compat_modes(out: Console, checked: PlanCheck, *, explain: bool) -> None:
    """The pairs the handoffs' compatibility modes added (only when a mode is declared):
    a count per mode, every pair with --explain (failing pairs always)."""
    modes = checked.modes
    if modes is None:
        return
    live = modes.live_releases
    where = ", ".join(f"{r.release} ({', '.join(r.where)})" for r in live) or "none"
    _p(out, "\n[bold]Compatibility modes[/]")
    _p(
        out,
        f"  {modes.backward} backward and {modes.forward} forward pair(s) added; "
        f"live releases: {escape(where)}",
    )
    for e in checked.pairs:
        if not explain and e.verdict == "compatible":
            continue
        _p(out, _pair_line(e))


def _pair_line(e: EdgeResult) -> str:
    """A pair a compatibility mode added: its verdict, ends, why it was added, its problem."""
    colour = {"compatible": "green", "incompatible": "bold red"}.get(e.verdict, "yellow")
    p, c = e.producer, e.consumer
    m = e.compat_mode
    added_by = (
        f"{m.direction} pair of {escape(m.handoff)}: {escape(', '.join(m.releases))}"
        if m is not None
        else ""
    )
    line = (
        f"  [{colour}]{e.verdict:<12}[/] {escape(p.name)}@{escape(str(p.version))}"
        f" -> {escape(c.name)}@{escape(str(c.version))} [dim]({added_by})[/]"
    )
    first = e.first_problem()
    if e.verdict != "compatible" and first:
        line += f"\n      {escape(first)}"
    return line


@dataclass(frozen=True)
class PlanView:
    """What every plan renderer reads: the plan, `--explain`, `-q` and where it was saved."""

    plan: Plan
    explain: bool
    quiet: bool
    saved_to: Path | None


def _styled(v: PlanView, out: Console) -> None:
    render_text(out, v.plan, explain=v.explain, quiet=v.quiet)
    if v.saved_to is not None:
        where = escape(str(v.saved_to))
        _p(
            out,
            f"\n[dim]plan saved to {where}: `teamrel release --plan {where}` ships exactly this[/]",
        )


def _text(v: PlanView) -> str:
    buf = Console(file=io.StringIO(), no_color=True, soft_wrap=True, width=200)
    _styled(v, buf)
    return buf.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def _markdown(v: PlanView) -> str:
    from teamrel.markdown import render_plan_markdown

    return render_plan_markdown(v.plan)


#: The formats of `teamrel plan`, by name (the order `--help` lists them in).
RENDERERS: Renderers[PlanView] = Renderers("plan")
RENDERERS.add("text", _text, styled=_styled)
RENDERERS.add("json", lambda v: json_text(v.plan.to_json()))
RENDERERS.add("markdown", _markdown)

#: `--detailed-exitcode`, read by `_exit_code`.
_DetailedExitcodeOpt = Annotated[
    bool,
    typer.Option("--detailed-exitcode", help="Exit 0 no changes, 1 problems, 4 changes pending."),
]


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    env: Annotated[
        str | None, env_option("Compare with this environment's live release (store).")
    ] = None,
    base: Annotated[
        str | None,
        base_option("Compare with this manifest file or release name (default: the newest)."),
    ] = None,
    against: Annotated[
        str | None,
        against_option(
            "The base, as `teamrel check --against` reads it: a release, a file or an env."
        ),
    ] = None,
    out_path: Annotated[
        Path | None, out_option("Save the plan (JSON) for `teamrel release --plan`.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Say why: reasons, full diffs, witnesses.")
    ] = False,
    detailed_exitcode: _DetailedExitcodeOpt = False,
    unknown: UnknownOpt = None,
    format_assertion: FormatAssertionOpt = None,
    output_format: Annotated[str | None, format_option(RENDERERS.help(" (a PR comment)"))] = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Preview a release: what changes, what breaks, which versions, in which order.

    Exit 0 when no problem is found (1 when one is); with --detailed-exitcode: 0 no changes,
    1 problems, 4 changes pending.
    """
    f = RENDERERS.parse(ctx, output_format)
    err_format = "json" if f == "json" else "text"
    parse_unknown(ctx, unknown, err_format=err_format)

    def body() -> int:
        if env is not None and base is not None:
            raise UsageError("--env and --base are exclusive: give one base")
        with progress_display(ctx) as progress:
            plan = context(ctx).plan(
                env=env,
                base=base,
                unknown=unknown,  # type: ignore[arg-type]
                format_assertion=format_assertion,
                explain=explain,
                use_cache=not no_cache,
                against=against,
                progress=progress,
            )
        if out_path is not None:
            plan.write(out_path)
        RENDERERS.emit(ctx, f, PlanView(plan, explain, options(ctx).quiet, out_path))
        return _exit_code(plan, detailed=detailed_exitcode)

    run(ctx, err_format, body)


def _exit_code(plan: Plan, *, detailed: bool) -> ExitCode:
    """`teamrel plan`'s exit code: 1 when the plan finds a problem, else 0; with
    `--detailed-exitcode`, 4 when it passes with changes pending."""
    if not plan.passed:
        return ExitCode.FINDINGS
    if detailed and plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK
