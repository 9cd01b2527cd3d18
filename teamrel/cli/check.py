"""`teamrel check`: the CI gate. Parse, one `Context.check` call, render, exit code.

Formats: text (rows for CI logs, colour on a TTY only), json (docs/check.md), junit, github
(workflow commands), sarif; the machine formats are built by `teamrel.reporting`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from teamrel.cli.app import app
from teamrel.cli.common import context, json_text, options, parse_unknown, progress_display, run
from teamrel.cli.options import (
    FormatAssertionOpt,
    NoCacheOpt,
    against_option,
    format_option,
    member_option,
    unknown_option,
)
from teamrel.cli.render import Renderers
from teamrel.errors import ExitCode, WorkspaceError

if TYPE_CHECKING:
    # imported when a command runs, not at start-up: `teamrel rollback` must not pay for them
    from teamrel.check import CheckReport, EdgeResult, ModesReport
    from teamrel.flags import FlagsReport

_STYLE = {
    "compatible": ("PASS", "green"),
    "incompatible": ("FAIL", "bold red"),
    "unknown": ("UNKNOWN", "yellow"),
    "unchecked": ("SKIP", "dim"),
}


class _Styler:
    """Markup on a terminal, plain text elsewhere (CI logs): rich's per-line markup parsing
    is the slowest part of printing thousands of rows."""

    def __init__(self, styled: bool) -> None:
        self.styled = styled

    def __call__(self, text: str, style: str | None = None) -> str:
        if not self.styled:
            return text
        return f"[{style}]{escape(text)}[/]" if style else escape(text)


def _row(edge: EdgeResult, st: _Styler, *, unknown_fails: bool, verbose: bool) -> list[str]:
    """The lines of one edge: the row, its first problem, details when failing."""
    tag, style = _STYLE[edge.verdict]
    if edge.verdict == "unknown" and unknown_fails:
        style = "bold red"
    arrow = "->" if edge.kind == "handoff" else "=>"
    state = ""
    if edge.flag_state is not None:  # proved in a flag state: say which, first
        from teamrel.flags import label

        state = f" {label(edge.flag_state)}:"
    line = st(f"{tag:<7}", style) + st(
        f"{state} {edge.producer.label()} {arrow} {edge.consumer.label()}"
    )
    if edge.kind != "handoff":
        line += st(f" ({edge.kind})", "dim")
    if edge.contract:
        line += st(f"  via {edge.contract}", "dim")
    if edge.compat_mode is not None:
        m = edge.compat_mode
        line += st(f"  ({m.direction} pair of {m.handoff}: {', '.join(m.releases)})", "dim")
    lines = [line]
    first = edge.first_problem()
    if first and edge.verdict != "compatible":
        lines.append(st(f"        {first}"))
    if edge.verdict == "incompatible" or (verbose and edge.verdict == "unknown"):
        from teamrel.reporting import edge_details

        lines.extend(st(f"        {d}") for d in edge_details(edge).splitlines()[1:])
    return lines


def _header(report: CheckReport, st: _Styler) -> list[str]:
    """What was checked: the base pinned members came from, the members selected."""
    lines: list[str] = []
    if report.base is not None:
        b = report.base
        where = b.env or b.release or b.kind
        pinned = f"; pinned from it: {', '.join(report.pinned)}" if report.pinned else ""
        lines.append(st(f"checking against {where}{pinned}"))
    if report.selected is not None:
        lines.append(st(f"members: {', '.join(report.selected) or '(none changed)'}"))
    return lines


def _edge_rows(report: CheckReport, st: _Styler, *, quiet: bool) -> list[str]:
    """A row per edge (only the failing ones under -q)."""
    unknown_fails = report.unknown == "fail"
    lines: list[str] = []
    for edge in report.edges:
        if quiet and edge.verdict == "compatible":
            continue
        lines.extend(_row(edge, st, unknown_fails=unknown_fails, verbose=not quiet))
    return lines


def _mode_line(modes: ModesReport, st: _Styler) -> str:
    """The pairs the compatibility modes added, and with which live releases."""
    live = modes.live_releases
    names = f" ({', '.join(r.release for r in live)})" if live else ""
    return st(
        f"compat modes: {modes.backward} backward and {modes.forward} forward "
        f"pair(s) added with {len(live)} live release(s){names}",
        "dim",
    )


def _summary_line(report: CheckReport, st: _Styler) -> str:
    """`teamrel check passed: N edges: ...`, with the engine version and unknown policy."""
    s = report.summary()
    parts = [f"{s.compatible} compatible"]
    parts += [f"{s.count(v)} {v}" for v in ("incompatible", "unknown", "unchecked") if s.count(v)]
    verdict = st("passed", "green") if report.passed else st("FAILED", "bold red")
    return (
        st("teamrel check ")
        + verdict
        + st(f": {s.edges} edges: {', '.join(parts)}")
        + st(f" (engine {s.engine_version}, unknown={report.unknown})", "dim")
    )


def render_text(out: Console, report: CheckReport, *, quiet: bool) -> None:
    """Rows (all, or only failing ones under -q), then the summary line."""
    st = _Styler(out.is_terminal and not out.no_color)
    lines = _header(report, st) + _edge_rows(report, st, quiet=quiet)
    # stale scorecards: said, never failing the check
    lines += [st("warning: ", "yellow") + st(w.message) for w in report.warnings]
    if report.modes is not None:
        lines.append(_mode_line(report.modes, st))
    if report.flags is not None:
        lines.extend(st(x) for x in flag_lines(report.flags))
    lines.append(_summary_line(report, st))
    if st.styled:
        out.print("\n".join(lines), markup=True, highlight=False)
    else:
        out.file.write("\n".join(lines) + "\n")
        out.file.flush()


def flag_lines(flags: FlagsReport) -> list[str]:
    """What was proved of the flag states, and what the bounds left out (text output)."""
    broken = flags.broken
    out = [
        f"flags: {len(flags.declared)} declared, {len(flags.states)} flag states proved besides "
        f"the default" + (f"; not holding: {'; '.join(broken)}" if broken else ", all holding")
    ]
    if flags.unexplored:
        examples = "; ".join(flags.unexplored_examples[:3])
        out.append(
            f"flags: {flags.unexplored} combination(s) not explored (bounds: all "
            f"combinations of up to {flags.group_flags} interacting flags, "
            f"{flags.max_states} states), e.g. {examples}"
        )
    return out


def _prefix(root: Path) -> str:
    """The workspace's path relative to the current directory (where CI reads paths from)."""
    try:
        rel = os.path.relpath(root, Path.cwd())
    except ValueError:
        return ""
    return "" if rel == "." or rel.startswith("..") else rel.replace(os.sep, "/")


@dataclass(frozen=True)
class CheckView:
    """What every check renderer reads: the report, the workspace's path prefix (for the
    file paths CI annotates), the exit code (SARIF records it) and `-q`."""

    report: CheckReport
    prefix: str
    code: int
    quiet: bool
    #: `--live`: the drift of external members (a `teamrel.meet` drift report), else None
    drift: Any = None


def _drift_text(v: CheckView) -> str:
    if v.drift is None:
        return ""
    from teamrel.cli.drift import drift_lines

    return "\n".join(drift_lines(v.drift)) + "\n"


def _text(v: CheckView) -> str:
    buf = Console(file=io.StringIO(), no_color=True, soft_wrap=True, width=200)
    render_text(buf, v.report, quiet=v.quiet)
    return buf.file.getvalue() + _drift_text(v)  # type: ignore[attr-defined,no-any-return]


def _styled(v: CheckView, out: Console) -> None:
    render_text(out, v.report, quiet=v.quiet)
    if v.drift is not None:
        out.print(_drift_text(v), markup=False, highlight=False, end="")


def _json(v: CheckView) -> str:
    doc = v.report.to_json()
    if v.drift is not None:
        doc["drift"] = v.drift.to_json()
    return json_text(doc)


def _junit(v: CheckView) -> str:
    from teamrel.reporting import render_junit

    return render_junit(v.report, prefix=v.prefix)


def _github(v: CheckView) -> str:
    from teamrel.reporting import render_github

    return render_github(v.report, prefix=v.prefix)


def _sarif(v: CheckView) -> str:
    from teamrel.reporting import render_sarif

    return render_sarif(v.report, prefix=v.prefix, exit_code=int(v.code))


#: The formats of `teamrel check`, by name (the order `--help` lists them in).
RENDERERS: Renderers[CheckView] = Renderers("check report")
RENDERERS.add("text", _text, styled=_styled)
RENDERERS.add("json", _json)
RENDERERS.add("junit", _junit)
RENDERERS.add("github", _github)
RENDERERS.add("sarif", _sarif)
FORMATS = RENDERERS.names

# The options only `teamrel check` has (the shared ones are teamrel.cli.options').
_MemberOpt = Annotated[
    list[str] | None, member_option("Only edges touching this member (repeatable).", short=True)
]
_ChangedSinceOpt = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="GIT_REF",
        help="Only members whose files changed since this git revision.",
    ),
]
_AgainstOpt = Annotated[
    str | None,
    against_option("Pin every other member to this environment's live release or this manifest."),
]
_UnknownOpt = Annotated[
    str | None, unknown_option("fail or warn on undecided edges (default: policy, else fail).")
]
_OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write the report to this file; print only the summary line.",
        dir_okay=False,
    ),
]
_LiveOpt = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Also re-read external members from their origins and prove them against "
        "every environment's live release (`teamrel drift`).",
    ),
]


@app.command("check")
def check_command(
    ctx: typer.Context,
    member: _MemberOpt = None,
    changed_since: _ChangedSinceOpt = None,
    against: _AgainstOpt = None,
    unknown: _UnknownOpt = None,
    format_assertion: FormatAssertionOpt = None,
    output_format: Annotated[str | None, format_option(RENDERERS.help())] = None,
    output: _OutputOpt = None,
    no_cache: NoCacheOpt = False,
    live: _LiveOpt = False,
) -> None:
    """Prove every handoff: producer output ⊆ contract ⊆ consumer input.

    Exit 0 when every edge is compatible, 1 when one is incompatible (or undecided under
    --unknown fail), 3 on bad input.
    """
    f = RENDERERS.parse(ctx, output_format)
    err_format = "json" if f == "json" else "text"
    parse_unknown(ctx, unknown, err_format=err_format)

    def body() -> int:
        c = context(ctx)
        try:
            with progress_display(ctx) as progress:
                report = c.check(
                    members=member or (),
                    changed_since=changed_since,
                    against=against,
                    unknown=unknown,  # type: ignore[arg-type]
                    format_assertion=format_assertion,
                    use_cache=not no_cache,
                    progress=progress,
                )
        except WorkspaceError as err:
            if f == "github" and output is None:  # annotate the files at fault, then exit 3
                from teamrel.reporting import render_github_diagnostics

                typer.echo(
                    render_github_diagnostics(err.diagnostics, prefix=_prefix(c.root)), nl=False
                )
            raise
        code = ExitCode.OK if report.passed else ExitCode.FINDINGS
        drifted: Any = c.drift() if live else None
        if drifted is not None and not drifted.passed:
            code = ExitCode.FINDINGS
        view = CheckView(report, _prefix(c.root), code, options(ctx).quiet, drifted)
        if output is None:
            RENDERERS.emit(ctx, f, view)
            return code
        output.write_text(RENDERERS.text(f, view), encoding="utf-8")
        s = report.summary()
        typer.echo(
            f"teamrel check {'passed' if report.passed else 'FAILED'}: {s.edges} edges, "
            f"{s.incompatible} incompatible, {s.unknown} unknown -> {output}"
        )
        return code

    run(ctx, err_format, body)
