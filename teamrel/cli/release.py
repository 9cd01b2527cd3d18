"""Release commands: release, promote, rollback, status, history, diff, verify, resolve.

Each command parses its options, makes one call into `Context`, renders the result (text, or
a versioned JSON document under `--format json`) and exits with the uniform exit codes.
Rollback output is designed for an incident: one line saying what is live now, what was
rolled back, by whom and why; warnings go to stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from teamrel.canonical import short
from teamrel.cli.app import app
from teamrel.cli.common import (
    console,
    context,
    emit_json,
    emit_json_pieces,
    options,
    parse_format,
    run,
)
from teamrel.cli.options import (
    ActorOpt,
    EnvOpt,
    FormatOpt,
    OverrideGatesOpt,
    ReasonOpt,
    env_option,
    expect_option,
    force_option,
    member_option,
)
from teamrel.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Iterator

    from teamrel.release import ReleaseResult, Resolution


def _warn(ctx: typer.Context, warnings: list[str]) -> None:
    err = console(ctx, stderr=True)
    for w in warnings:
        err.print(f"[yellow]warning:[/] {w}", markup=True, highlight=False)


def _plain(ctx: typer.Context, text: str) -> None:
    console(ctx).print(text, markup=False, highlight=False)


def _rollout_line(r: Any) -> str:
    share = f"{r.weight:g}% of runs" if r.phase == "canary" else "shadow runs"
    return (
        f"rollout {r.rollout_id} ({r.state}): {r.candidate_release} "
        f"({short(r.candidate_digest)}) serves {share}, {r.phase} since {r.started_at} "
        f"by {r.started_by}"
    )


def _transition_line(t: Any) -> str:
    by = f" by {t.actor}"
    why = f" — reason: {t.reason}" if t.reason else ""
    if t.action == "rollback":
        back = ", ".join(t.rolled_back) or t.from_release
        return (
            f"ROLLED BACK {t.team}/{t.environment}: {t.to_release} "
            f"({short(t.to_manifest)}) is live now; rolled back from {back}{by}{why} "
            f"[generation {t.generation}, event #{t.event_seq}]"
        )
    if t.noop:
        return f"{t.team}/{t.environment}: {t.to_release} was already live; nothing changed"
    was = t.from_release or "nothing"
    return (
        f"PROMOTED {t.team}/{t.environment}: {t.to_release} ({short(t.to_manifest)}) is live "
        f"now; was {was}{by}{why} [generation {t.generation}, event #{t.event_seq}]"
    )


@app.command("release")
def release_cmd(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", help="Release name (default: r<N>, the next number).")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="Release exactly this reviewed plan (refused when stale)."),
    ] = None,
    promote: Annotated[
        str | None, typer.Option("--promote", help="Then promote the release to this env.")
    ] = None,
    allow_incompatible: Annotated[
        bool,
        typer.Option(
            "--allow-incompatible", help="Release even though the check fails (needs --reason)."
        ),
    ] = False,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    output_format: FormatOpt = None,
    override_gates: OverrideGatesOpt = False,
) -> None:
    """Check the working tree and record it as a release: manifest file, snapshots, store."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).release(
            name=name,
            plan=plan,
            promote=promote,
            allow_incompatible=allow_incompatible,
            reason=reason,
            actor=actor,
            override_gates=override_gates,
        )
        if out_fmt == "json":
            emit_json(result.to_json())
            return ExitCode.OK
        _print_release(ctx, result)
        return ExitCode.OK

    run(ctx, out_fmt, body)


def _print_release(ctx: typer.Context, result: ReleaseResult) -> None:
    """The text of `teamrel release`: what was recorded (or that nothing new was), the
    promotion it made, and its warnings on stderr."""
    m = result.manifest
    if result.created:
        check = m.check or {}
        verdict = "check passed" if check.get("passed") else "CHECK FAILED (allowed)"
        _plain(
            ctx,
            f"released {m.team} {m.release} ({short(m.digest)}): {len(m.members)} members, "
            f"{verdict}; wrote {result.path}",
        )
        if m.allow_incompatible:
            _warn(ctx, [f"released with --allow-incompatible: {m.allow_incompatible}"])
    else:
        _plain(
            ctx,
            f"{m.team} {m.release} ({short(m.digest)}) already holds exactly this content: "
            "nothing new released",
        )
    if result.promotion is not None:
        _plain(ctx, _transition_line(result.promotion))
    _warn(ctx, result.warnings)


@app.command("promote")
def promote_cmd(
    ctx: typer.Context,
    release: Annotated[str, typer.Argument(help="Release name or manifest digest.")],
    env: Annotated[str, env_option("Environment to promote to.")],
    expect: Annotated[
        str | None, expect_option("Release (or digest) that must be live now, else a conflict.")
    ] = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    output_format: FormatOpt = None,
    override_gates: OverrideGatesOpt = False,
) -> None:
    """Make a release live in an environment (one transaction, compare-and-swap); refused
    (exit 1) when an eval gate of the environment blocks."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).promote(
            release,
            env=env,
            expect=expect,
            reason=reason,
            actor=actor,
            override_gates=override_gates,
        )
        if out_fmt == "json":
            emit_json(result.to_json())
            result.finish()  # proves the rollback this made possible, once the result is out
            return ExitCode.OK
        _plain(ctx, _transition_line(result.transition))
        _warn(ctx, [w for w in result.warnings if not result.transition.noop])
        sys.stdout.flush()
        result.finish()
        return ExitCode.OK

    run(ctx, out_fmt, body)


@app.command("rollback")
def rollback_cmd(
    ctx: typer.Context,
    env: Annotated[str, env_option("Environment to roll back.")],
    to: Annotated[str | None, typer.Option("--to", help="Go back to this earlier release.")] = None,
    steps: Annotated[
        int | None, typer.Option("--steps", help="Go back this many promotions.", min=1)
    ] = None,
    expect: Annotated[
        str | None, expect_option("Release that must be live now (to go further back).")
    ] = None,
    reason: ReasonOpt = None,
    actor: ActorOpt = None,
    no_workspace_check: Annotated[
        bool,
        typer.Option(
            "--no-workspace-check",
            help="Skip comparing the working tree with what was rolled back (the re-ship "
            "warning); it runs after the result is printed.",
        ),
    ] = False,
    force: Annotated[
        bool,
        force_option(
            "Roll back even though a persisted handoff's data may not be readable by the "
            "target release (needs --reason; the findings are recorded in the audit event)."
        ),
    ] = False,
    output_format: FormatOpt = None,
) -> None:
    """Put the whole team back to the release live before the current one: one pointer write.

    Handoffs declared `persisted: true` are proved first: the target's consumers must read
    what the current release's producers may have written (else exit 1, unless --force).
    """
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).rollback(
            env=env,
            to=to,
            steps=steps,
            expect=expect,
            reason=reason,
            actor=actor,
            workspace_check=not no_workspace_check,
            force=force,
        )
        if out_fmt == "json":
            result.finish()  # the document carries every warning
            emit_json(result.to_json())
            _warn(ctx, result.warnings)
            return ExitCode.OK
        # the pointer has moved: say so now, before the (slower) working-tree comparison
        _plain(ctx, _transition_line(result.transition))
        sys.stdout.flush()
        _warn(ctx, result.warnings)
        _warn(ctx, result.finish())
        return ExitCode.OK

    run(ctx, out_fmt, body)


@app.command("status")
def status_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, env_option("Only this environment.")] = None,
    output_format: FormatOpt = None,
) -> None:
    """What is live in each environment, since when, set by whom."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).status(env)
        if out_fmt == "json":
            emit_json(report.to_json())
            return ExitCode.OK
        latest = report.latest_release or "none"
        _plain(ctx, f"team {report.team}: {report.releases} release(s), latest {latest}")
        for e in report.environments:
            if e.manifest_digest is None:
                _plain(ctx, f"  {e.name:<12} nothing live")
                continue
            how = f"{e.last_action} at {e.updated_at} by {e.updated_by}"
            why = f" — {e.reason}" if e.reason else ""
            _plain(
                ctx,
                f"  {e.name:<12} {e.release} ({short(e.manifest_digest)})  {how}{why}  "
                f"[generation {e.generation}]",
            )
            if e.rolled_back and not options(ctx).quiet:
                _plain(ctx, f"  {'':<12} rolled back from: {', '.join(e.rolled_back)}")
            r = report.rollouts.get(e.name)
            if r is not None:
                _plain(ctx, f"  {'':<12} {_rollout_line(r)}")
        return ExitCode.OK

    run(ctx, out_fmt, body)


@app.command("history")
def history_cmd(
    ctx: typer.Context,
    env: Annotated[str | None, env_option("Only this environment.")] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many events.", min=1)
    ] = None,
    output_format: FormatOpt = None,
) -> None:
    """Audit events (release, promote, rollback), newest first."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        report = context(ctx).history(env, limit)
        if out_fmt == "json":
            emit_json(report.to_json())
            return ExitCode.OK
        if not report.events:
            _plain(ctx, "no events")
        for ev in report.events:
            where = f" {ev.environment}" if ev.environment else ""
            move = (
                f"{ev.release_from or '-'} -> {ev.release_to}"
                if ev.action in ("promote", "rollback")
                else f"{ev.release_to}"
            )
            why = f": {ev.reason}" if ev.reason else ""
            _plain(ctx, f"#{ev.seq} {ev.at} {ev.action}{where} {move} by {ev.actor}{why}")
        return ExitCode.OK

    run(ctx, out_fmt, body)


@app.command("diff")
def diff_cmd(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="Release, manifest file, environment (env:NAME).")],
    b: Annotated[str, typer.Argument(help="Release, manifest file, environment (env:NAME).")],
    output_format: FormatOpt = None,
) -> None:
    """Compare two releases, manifest files or environments member by member."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).diff(a, b)
        if out_fmt == "json":
            emit_json(result.to_json())
            return ExitCode.OK
        doc = result.to_json()
        counts = doc["summary"]
        assert isinstance(counts, dict)
        _plain(
            ctx,
            f"{a} ({result.a.release}) -> {b} ({result.b.release}): "
            + ", ".join(f"{n} {k}" for k, n in counts.items()),
        )
        for m in result.members:
            if m.status == "unchanged":
                continue
            versions = f"{m.old_version or '-'} -> {m.new_version or '-'}"
            _plain(ctx, f"  {m.status:<9} {m.name} {versions}")
            for key, change in m.changes.items():
                if key in ("version", "digest"):
                    continue
                _plain(ctx, f"            {key}: {change['old']} -> {change['new']}")
            for line in m.prompt_diff[:40]:
                _plain(ctx, f"            {line}")
            if len(m.prompt_diff) > 40:
                _plain(
                    ctx, f"            ... ({len(m.prompt_diff) - 40} more lines: --format json)"
                )
        return ExitCode.OK

    run(ctx, out_fmt, body)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    env: Annotated[
        str | None, env_option("Only the release live in this environment (and the audit chain).")
    ] = None,
    output_format: FormatOpt = None,
) -> None:
    """Re-hash every manifest and snapshot, walk the audit chain: exit 1 naming any mismatch."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        result = context(ctx).verify(env)
        if out_fmt == "json":
            emit_json(result.to_json())
            return ExitCode.OK if result.ok else ExitCode.FINDINGS
        s = result.store
        checked = (
            f"{s.manifests} manifests, {s.snapshots} snapshots, {s.events} events, "
            f"{s.environments} environments, {result.files} files"
        )
        if result.ok:
            what = f"what is live in {env} and the audit chain" if env else "the store and files"
            _plain(ctx, f"verified {what}: {checked}; everything matches its digest")
            return ExitCode.OK
        err = console(ctx, stderr=False)
        for p in result.problems:
            err.print(f"[bold red]MISMATCH[/] {p.kind} {p.subject}: ", end="", markup=True)
            err.print(p.message, markup=False, highlight=False)
        _plain(ctx, f"verify FAILED: {len(result.problems)} problem(s) ({checked})")
        return ExitCode.FINDINGS

    run(ctx, out_fmt, body)


def _flag_lines(res: Resolution) -> Iterator[str]:
    """One line per flag of the live release: its value, and what it switches. The members
    listed after it are served as these values select (a percentage: at the default)."""
    rows = []
    for f in res.flags():
        if not f.set:
            value = f"{f.value} (default)"
        elif f.value in ("on", "off"):
            value = f"{f.value} (default {f.default})"
        else:
            value = f"{f.value} of runs (default {f.default}; listed at the default)"
        rows.append((f.flag, value, "; ".join(f.switches)))
    name_w = max((len(r[0]) for r in rows), default=0)
    value_w = max((len(r[1]) for r in rows), default=0)
    for name, value, switches in rows:
        yield f"  flag {name:<{name_w}}  {value:<{value_w}}  switches {switches}"


@app.command("resolve")
def resolve_cmd(
    ctx: typer.Context,
    env: EnvOpt,
    member: Annotated[str | None, member_option("Only this member.")] = None,
    output_format: FormatOpt = None,
) -> None:
    """The exact pinned configuration live in an environment (what a runtime loads)."""
    out_fmt = parse_format(ctx, output_format)

    def body() -> int:
        res = context(ctx).resolve(env, member)
        if out_fmt == "json":
            emit_json_pieces(res.iter_json())
            return ExitCode.OK
        _plain(
            ctx,
            f"{res.team}/{res.environment}: release {res.release} ({short(res.manifest_digest)})",
        )
        if res.rollout is not None:
            _plain(ctx, f"  {_rollout_line(res.rollout)} (members below: the stable release)")
        for line in _flag_lines(res):
            _plain(ctx, line)
        for name, mem in res.members():
            spec = mem.spec
            model = spec.get("model") if isinstance(spec.get("model"), dict) else None
            line = f"  {name:<14} {mem.kind:<5} {mem.version:<10} {short(mem.digest)}"
            if model:
                params = json.dumps(model.get("parameters") or {}, sort_keys=True)
                line += f"  {model.get('provider')}/{model.get('id')} {params}"
            if mem.tools:
                line += f"  tools: {', '.join(mem.tools)}"
            _plain(ctx, line)
            prompt = spec.get("prompt")
            if member is not None and isinstance(prompt, dict) and "text" in prompt:
                _plain(ctx, "  --- prompt ---")
                _plain(ctx, str(prompt["text"]))
        return ExitCode.OK

    run(ctx, out_fmt, body)
