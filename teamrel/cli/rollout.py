"""Rollout commands: `teamrel rollout start|status|step|watch|pause|resume|abort|promote` and
`teamrel outcomes import`.

Each command parses, makes one call into `Context`, renders (text, or a versioned JSON
document under `--format json`) and exits: 0 ok (started, advanced, held, promoted), 1 the
rollout was aborted by its analysis, 2 usage, 3 operational.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from teamrel.cli.app import app
from teamrel.cli.common import console, context, emit_json, parse_format, run
from teamrel.cli.options import ActorOpt, EnvOpt, FormatOpt, ReasonOpt, force_option
from teamrel.errors import ExitCode

rollout_app = typer.Typer(help="Progressive delivery: shadow, canary steps, analysis, abort.")
outcomes_app = typer.Typer(help="Outcomes of runs during a rollout.")
app.add_typer(rollout_app, name="rollout")
app.add_typer(outcomes_app, name="outcomes")


def _plain(ctx: typer.Context, text: str) -> None:
    console(ctx).print(text, markup=False, highlight=False)


def _state_line(s: Any) -> str:
    where = "shadow" if s.phase == "shadow" else f"canary {s.weight:g}%"
    return (
        f"rollout {s.rollout_id} of {s.candidate_release} in {s.team}/{s.environment} "
        f"(stable {s.stable_release}): {where}, {s.state}"
    )


def _num(v: float | None, spec: str = ".4g") -> str:
    return "-" if v is None else format(v, spec)


def _render(ctx: typer.Context, report: Any) -> None:
    _plain(ctx, _state_line(report.state))
    d = report.decision
    if d is None:
        return
    for arm in d.arms:
        iv = arm.error_interval
        rate = (
            "-"
            if arm.error_rate is None
            else f"{arm.error_rate:.2%}" + (f" [{iv[0]:.2%}, {iv[1]:.2%}]" if iv else "")
        )
        scores = " ".join(f"{k}={v:.3g}" for k, v in sorted(arm.scores.items()))
        _plain(
            ctx,
            f"  {arm.arm:<7} {arm.conversations:>8} conversations  errors {rate}  "
            f"p50 {_num(arm.latency_p50)} ms  p95 {_num(arm.latency_p95)} ms  "
            f"cost/conv {_num(arm.cost_per_conversation)}  {scores}".rstrip(),
        )
    for m in d.metrics:
        iv = f" interval [{m.interval[0]:.3g}, {m.interval[1]:.3g}]" if m.interval else ""
        _plain(
            ctx,
            f"  {m.name:<18} {m.verdict:<9} observed {_num(m.observed)} threshold "
            f"{m.threshold:g}{iv} — {m.method}",
        )
    verdict = "PAUSE (undecided)" if d.pause else d.decision.upper()
    _plain(ctx, f"decision: {verdict} — {'; '.join(d.reasons)}")
    if report.applied:
        _plain(ctx, f"applied: {report.applied}")


def _steps(raw: str | None) -> list[float] | None:
    if raw is None:
        return None
    try:
        return [float(x) for x in raw.replace(",", " ").split()]
    except ValueError:
        raise typer.BadParameter("a list of percentages, e.g. 5,10,25,50,100") from None


@rollout_app.command("start")
def start_cmd(
    ctx: typer.Context,
    release: Annotated[str, typer.Argument(help="The candidate release.")],
    env: EnvOpt,
    shadow: Annotated[bool, typer.Option("--shadow", help="Start in shadow phase.")] = False,
    steps: Annotated[
        str | None, typer.Option("--steps", help="Traffic steps in percent, e.g. 5,10,50,100.")
    ] = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    force: Annotated[
        bool,
        force_option(
            "Start even though stable and the candidate cannot read each other's "
            "persisted data (needs --reason; recorded with the rollout)."
        ),
    ] = False,
    output_format: FormatOpt = None,
) -> None:
    """Start a rollout of RELEASE in an environment (stable keeps the rest of the traffic).

    Handoffs declared `persisted: true` are proved both ways first: stable's consumers must
    read what the candidate writes and the candidate's what stable writes (else exit 1).
    """
    out_fmt = parse_format(ctx, output_format)
    parsed = _steps(steps)

    def body() -> int:
        state = context(ctx).rollout_start(
            release,
            env=env,
            shadow=shadow,
            steps=parsed,
            reason=reason,
            actor=actor,
            force=force,
        )
        if out_fmt == "json":
            emit_json({"format_version": 1, "rollout": state.to_json()})
        else:
            _plain(ctx, "STARTED " + _state_line(state))
        return ExitCode.OK

    run(ctx, out_fmt, body)


@rollout_app.command("status")
def status_cmd(ctx: typer.Context, env: EnvOpt, output_format: FormatOpt = None) -> None:
    """Both arms' figures, every test, the current decision and why."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).rollout_status(env)
        if out_fmt == "json":
            emit_json(report.to_json())
        else:
            _render(ctx, report)
        return ExitCode.OK

    run(ctx, out_fmt, body)


@rollout_app.command("step")
def step_cmd(
    ctx: typer.Context, env: EnvOpt, actor: ActorOpt = None, output_format: FormatOpt = None
) -> None:
    """Analyse once and apply the decision (for cron or CI): exit 0 advanced, held or
    promoted; 1 aborted."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).rollout_step(env, actor=actor)
        if out_fmt == "json":
            emit_json(report.to_json())
        else:
            _render(ctx, report)
        return ExitCode.FINDINGS if report.applied == "abort" else ExitCode.OK

    run(ctx, out_fmt, body)


@rollout_app.command("watch")
def watch_cmd(
    ctx: typer.Context,
    env: EnvOpt,
    every: Annotated[float, typer.Option("--every", help="Seconds between steps.", min=0)] = 30.0,
    actor: ActorOpt = None,
    output_format: FormatOpt = None,
) -> None:
    """Run `rollout step` every N seconds until the rollout is promoted, aborted or paused
    (an undecided step pauses it for a human): exit 1 aborted, else 0. `--format json`:
    one `rollout step` document a line (JSON Lines)."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        while True:
            report = context(ctx).rollout_step(env, actor=actor)
            if out_fmt == "json":
                typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
            else:
                _render(ctx, report)
            if report.applied in ("abort", "promote", "pause") or report.state.state == "paused":
                return ExitCode.FINDINGS if report.applied == "abort" else ExitCode.OK
            time.sleep(every)

    run(ctx, out_fmt, body)


def _change(op: str) -> Any:
    def cmd(
        ctx: typer.Context,
        env: EnvOpt,
        reason: ReasonOpt = None,
        actor: ActorOpt = None,
        output_format: FormatOpt = None,
    ) -> None:
        out_fmt = parse_format(ctx, output_format)

        def body() -> int:
            report = context(ctx).rollout_change(op, env=env, reason=reason, actor=actor)
            if out_fmt == "json":
                emit_json(report.to_json())
            else:
                _plain(ctx, f"{op.upper()}: " + _state_line(report.state))
            return ExitCode.OK

        run(ctx, out_fmt, body)

    cmd.__doc__ = {
        "pause": "Stop automatic steps (traffic stays where it is).",
        "resume": "Let automatic steps continue.",
        "abort": "End the rollout: stable serves 100% again.",
        "promote": "Make the candidate live now (the atomic pointer move).",
    }[op]
    return cmd


for _op in ("pause", "resume", "abort", "promote"):
    rollout_app.command(_op)(_change(_op))


@outcomes_app.command("import")
def import_cmd(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="JSON Lines file, one outcome a line.")],
    output_format: FormatOpt = None,
) -> None:
    """Record outcomes computed elsewhere (runs already recorded are skipped)."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        new = context(ctx).outcomes_import(path)
        if out_fmt == "json":
            emit_json({"format_version": 1, "imported": new})
        else:
            _plain(ctx, f"imported {new} new outcome(s)")
        return ExitCode.OK

    run(ctx, out_fmt, body)
