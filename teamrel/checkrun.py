"""The `teamrel check` operation: what the gate runs, end to end, for one workspace.

Owns the steps around `teamrel.check.run_check` that `Context.check` used to hold: the key
and use of the remembered report (`teamrel.reportcache`), the selection of members (named,
or changed since a git ref), pinning the unselected members to a base release
(`--against`), the newest release that undeclared tool sides are proved through, the flag
states (`teamrel.check.prove_flag_states`) and the pairs the handoffs' compatibility modes
add with the releases still live (`teamrel.meet.mode_edges`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamrel import __version__, compat
from teamrel import check as chk
from teamrel.baserelease import load_base, resolve_against
from teamrel.canonical import JsonObject
from teamrel.check import CheckReport, ProofStats, Prover, UnknownPolicy
from teamrel.errors import TeamrelError
from teamrel.progress import Progress
from teamrel.reportcache import REPORT_CACHE_VERSION, cached_report, save_report
from teamrel.resultcache import ResultCache
from teamrel.workspace import Workspace

if TYPE_CHECKING:
    # most checks never open the store: SQLAlchemy is imported by the one that does
    from teamrel.store import Store


@dataclasses.dataclass(frozen=True)
class CheckOptions:
    """What `teamrel check` was asked (the CLI's options, unresolved against the policy)."""

    members: Sequence[str] = ()
    changed_since: str | None = None
    against: str | None = None
    unknown: UnknownPolicy | None = None
    format_assertion: bool | None = None
    #: the cache directory (None: no result cache, no remembered report)
    cache_dir: Path | None = None


@dataclasses.dataclass(frozen=True)
class CheckSources:
    """Where a check reads from, each loaded only when needed: a remembered report is
    served without loading the workspace, and most checks never open the store."""

    root: Path
    #: the workspace (loaded once), reporting its loading to a progress callback
    load: Callable[[Progress | None], Workspace]
    #: the state store `--against ENV` reads (raises when there is none)
    store: Callable[[], Any]
    #: the state store if one may be opened, else None (compat modes read live releases)
    optional_store: Callable[[], Store | None]
    #: whether the team's handoffs declare compatibility modes (read without loading members)
    has_modes: Callable[[], bool]


def check_team(
    src: CheckSources, opts: CheckOptions, *, progress: Progress | None = None
) -> CheckReport:
    """`teamrel check`: prove every handoff (or those touching the selected members), and
    the pairs the compatibility modes add with the live releases (not with `against`,
    which pins a base instead)."""
    report = check_atomic(src, opts, progress=progress)
    if opts.against is not None or not src.has_modes():
        return report
    return with_modes(report, src.load(None), src.optional_store(), opts.cache_dir)


def _report_key(opts: CheckOptions) -> JsonObject:
    """The options a remembered report must have been computed with."""
    return {
        "teamrel": __version__,
        "engine": compat.ENGINE_VERSION,
        "report": REPORT_CACHE_VERSION,
        "members": sorted(opts.members),
        "unknown": opts.unknown,
        "format_assertion": opts.format_assertion,
    }


def check_atomic(
    src: CheckSources, opts: CheckOptions, *, progress: Progress | None = None
) -> CheckReport:
    """The atomic check: every handoff of the working tree (or those touching the selected
    members); with `against`, every member not selected (or, without a selection, not
    changed from it) pinned to that release."""
    cache_dir = opts.cache_dir
    key = _report_key(opts)
    fast = cache_dir is not None and opts.against is None and opts.changed_since is None
    if fast and cache_dir is not None:
        hit = cached_report(src.root, cache_dir, key)
        if hit is not None:
            return hit
    ws = src.load(progress)
    policy = ws.team.policy
    selection: set[str] | None = None
    if opts.members or opts.changed_since is not None:
        selection = set(opts.members)
        if opts.changed_since is not None:
            selection |= chk.changed_since(ws, opts.changed_since)
    run: dict[str, Any] = {
        "members": sorted(selection) if selection is not None else None,
        "unknown": opts.unknown or policy.unknown,
        "format_assertion": (
            policy.format_assertion if opts.format_assertion is None else opts.format_assertion
        ),
        "cache_dir": cache_dir,
        "progress": progress,
    }
    if opts.against is not None:
        return _check_against(ws, opts.against, src.store, selection, run)
    base_members: dict[str, Any] | None = None
    needs_base = any(
        h.kind != "handoff" and (h.producer_schema is None or h.consumer_schema is None)
        for h in ws.handoffs
    )
    if needs_base:
        # an undeclared tool side is proved through the tool's evolution from the newest
        # release; without one (or with an unreadable one) the edge stays unchecked
        with contextlib.suppress(TeamrelError):
            base_members = load_base(ws).members
    report = flagged_check(ws, base=base_members, **run)
    if fast and cache_dir is not None:
        save_report(ws, cache_dir, report, key, uses_releases=needs_base)
    return report


def _check_against(
    ws: Workspace,
    against: str,
    store: Callable[[], Any],
    selection: set[str] | None,
    run: dict[str, Any],
) -> CheckReport:
    """Pin every member not selected (or not changed from the base) to the base release."""
    base = resolve_against(ws, against, store)
    changed = selection if selection is not None else chk.changed_against(ws, base.members)
    pinned = {n: m for n, m in base.members.items() if n in ws.members and n not in changed}
    shown = sorted(n for n, m in pinned.items() if m.digest != ws.members[n].digest)
    return flagged_check(
        ws.with_members(pinned) if shown else ws,
        base=base.members,
        pinned=shown,
        base_info=base.ref(),
        **run,
    )


def flagged_check(
    ws: Workspace, *, cache_dir: Path | None, format_assertion: bool, **kw: Any
) -> CheckReport:
    """`run_check` of the default flag state, then of every explored flag state (one prover:
    a schema pair met in several states is proved once)."""
    if not ws.team.flags:
        return chk.run_check(ws, cache_dir=cache_dir, format_assertion=format_assertion, **kw)
    prover = Prover(ResultCache(cache_dir), format_assertion=format_assertion)
    report = chk.run_check(
        chk.default_workspace(ws), prover=prover, format_assertion=format_assertion, **kw
    )
    report, _ = chk.prove_flag_states(
        ws,
        report,
        prover,
        members=kw.get("members"),
        base=kw.get("base"),
        pinned=kw.get("pinned", ()),
    )
    prover.cache.save()
    return report


def with_modes(
    report: CheckReport, ws: Workspace, store: Store | None, cache_dir: Path | None
) -> CheckReport:
    """The report with the pairs the handoffs' compatibility modes add (`mode_edges`)."""
    from teamrel.meet import mode_edges

    prover = Prover(ResultCache(cache_dir), format_assertion=report.format_assertion)
    edges, modes = mode_edges(ws, store, prover)
    prover.cache.save()
    if report.selected is not None:
        wanted = set(report.selected)
        edges = [e for e in edges if e.producer.name in wanted or e.consumer.name in wanted]
    stats = dataclasses.replace(report.stats, modes=ProofStats.of(prover.stats))
    return dataclasses.replace(report, edges=(*report.edges, *edges), modes=modes, stats=stats)
