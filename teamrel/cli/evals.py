"""`teamrel eval record` and `teamrel eval show`: scorecards from per-case eval results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from teamrel.cli.app import app
from teamrel.cli.common import (
    console,
    context,
    emit_json,
    or_list,
    parse_choice,
    parse_format,
    run,
)
from teamrel.cli.options import FormatOpt
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from teamrel.canonical import JSON
    from teamrel.plandoc import EvalMetric, EvalsSection, EvalSuite

eval_app = typer.Typer(help="Eval scorecards: record per-case results, show scorecards.")
app.add_typer(eval_app, name="eval")

#: The values of `teamrel eval record --results-format`.
RESULTS_FORMATS = ("auto", "jsonl", "promptfoo")


def _summary_text(doc: JSON) -> str:
    # a recorded scorecard always has a summary; a hand-edited one may not
    summary = doc if isinstance(doc, dict) else {}
    parts = [f"n={summary.get('n')}"]
    pr = summary.get("pass_rate")
    if isinstance(pr, dict):
        parts.append(f"pass_rate {pr['value']:.3f} [{pr['lo']:.3f}, {pr['hi']:.3f}]")
    sc = summary.get("score")
    if isinstance(sc, dict):
        bounds = f" [{sc['lo']:.3f}, {sc['hi']:.3f}]" if sc.get("lo") is not None else ""
        parts.append(f"score {sc['value']:.3f}{bounds}")
    lat = summary.get("latency_ms")
    if isinstance(lat, dict):
        parts.append(f"latency p50 {lat['p50']:g} ms p95 {lat['p95']:g} ms")
    if summary.get("cost_usd_per_case") is not None:
        parts.append(f"${summary['cost_usd_per_case']:.5f}/case")
    if summary.get("errors"):
        parts.append(f"{summary['errors']} errored (counted as failures)")
    return " · ".join(parts)


@eval_app.command("record")
def record(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="The agent the results measured.")],
    results: Annotated[
        Path, typer.Argument(help="Per-case results: teamrel JSONL or promptfoo JSON.")
    ],
    suite: Annotated[str, typer.Option("--suite", help="The eval suite's name.")],
    results_format: Annotated[
        str, typer.Option("--results-format", help=f"{or_list(RESULTS_FORMATS)}.")
    ] = "auto",
    output_format: FormatOpt = None,
) -> None:
    """Write evals/scorecards/MEMBER/SUITE.json from per-case results (stamped with the
    member's behavioural digest). Exit 3, nothing written, on a bad results file."""
    out_fmt = parse_format(ctx, output_format)
    parse_choice(ctx, "--results-format", results_format, RESULTS_FORMATS)

    def body() -> int:
        c = context(ctx)
        recorded = c.eval_record(member, suite, results, results_format=results_format)
        rel = recorded.path.relative_to(c.root).as_posix()
        if out_fmt == "json":
            emit_json({"format_version": 1, "path": rel, "scorecard": recorded.without_cases()})
            return ExitCode.OK
        console(ctx).print(f"wrote {rel}: {_summary_text(recorded.summary)}", markup=False)
        return ExitCode.OK

    run(ctx, out_fmt, body)


@eval_app.command("show")
def show(
    ctx: typer.Context,
    member: Annotated[str | None, typer.Argument(help="Only this member's scorecards.")] = None,
    output_format: FormatOpt = None,
) -> None:
    """Print the recorded scorecards, with their freshness."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        cards = context(ctx).eval_show(member)
        if out_fmt == "json":
            emit_json(cards.to_json())
            return ExitCode.OK
        out = console(ctx)
        if not cards.rows:
            out.print("no scorecards recorded (teamrel eval record MEMBER --suite S RESULTS)")
        for row in cards.rows:
            state = "fresh" if row.fresh else "STALE"
            out.print(f"{row.member}/{row.suite} ({state}): ", end="", markup=False)
            out.print(_summary_text(row.summary), markup=False)
            if row.stale:
                out.print(f"  {row.stale}", markup=False)
        return ExitCode.OK

    run(ctx, out_fmt, body)


def _num(v: Any) -> str:
    return "—" if v is None else f"{v:.4g}"


def render_plan_evals(out: Console, section: EvalsSection | None, *, explain: bool) -> None:
    """The plan's "Evals" section: per member and suite, live → new, Δ, n, freshness, gates."""
    if not section:
        return
    rows = [
        # the uneventful rows (an unchanged number; a new member's hand-typed figures) fold
        # away, or a large team's plan drowns in them; --explain and --format json have all
        (row, [m for m in row.metrics if explain or m.moved])
        for row in section.suites
    ]
    rows = [(row, ms) for row, ms in rows if ms or row.stale]
    if not rows and not section.gates:
        return
    out.print("\n[bold]Evals[/]", markup=True, highlight=False)
    for row, shown in rows:
        for m in shown:
            out.print(_metric_line(row, m), markup=True, highlight=False)
        if row.stale:
            out.print(f"    [yellow]![/] {escape(row.stale)}", markup=True, highlight=False)
    for env, report in section.gates.items():
        _gate_report(out, env, report, explain=explain)


def _metric_line(row: EvalSuite, m: EvalMetric) -> str:
    state = "[green]fresh[/]" if row.fresh else "[bold yellow]stale[/]"
    d = m.delta
    dtext = ""
    if d and d.get("value") is not None:
        bounds = f" [{_num(d['lo'])}, {_num(d['hi'])}]" if d.get("lo") is not None else ""
        dtext = f"  Δ {d['value']:+.4g}{bounds}"
    n = f"  n={m.n}" if m.n is not None else "  [dim]no evidence[/]"
    evidence_state = f"  {state}" if m.evidence else ""
    return (
        f"  {escape(row.member)}/{escape(row.suite)}.{escape(m.metric)}: "
        f"{_num(m.live)} → {_num(m.new)}{escape(dtext)}{n}{evidence_state}"
    )


def _gate_report(out: Console, env: str, report: dict[str, JSON], *, explain: bool) -> None:
    # imported here, not at start-up: teamrel.gates loads the pydantic models (~0.1 s)
    from teamrel.gates import GateVerdict, describe

    verdict = "[green]pass[/]" if report["passed"] else "[bold red]refused[/]"
    out.print(f"  gates of {escape(env)}: {verdict}", markup=True, highlight=False)
    verdicts = report["verdicts"]
    quiet = [v for v in verdicts if v["status"] == "pass"]
    if not explain and len(verdicts) > 12:
        verdicts = [v for v in verdicts if v["status"] != "pass"]
    for v in verdicts:
        colour = {"pass": "green", "fail": "bold red"}.get(v["status"], "yellow")
        out.print(
            f"    [{colour}]{v['status']:<12}[/] {escape(describe(GateVerdict.of(v)))}",
            markup=True,
            highlight=False,
        )
    if len(verdicts) < len(report["verdicts"]):
        out.print(f"    [dim]{len(quiet)} passing (--explain)[/]", markup=True, highlight=False)
