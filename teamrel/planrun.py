"""The `teamrel plan` operation: what `Context.plan` runs, end to end, for one workspace.

Owns the steps around `teamrel.plan.build_plan`: choosing the base (`--against`, else
`--env`/`--base`, else the newest manifest; `teamrel.baserelease`) and, when the team's
handoffs declare compatibility modes, the pairs those modes add with the releases still
live (`teamrel.meet.mode_edges`, joined by `teamrel.plan.with_compat_modes`). A team
without a mode never imports `teamrel.meet`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamrel.baserelease import Base, load_base, resolve_against
from teamrel.check import Prover, UnknownPolicy
from teamrel.errors import UsageError
from teamrel.plan import build_plan, with_compat_modes
from teamrel.plandoc import Plan
from teamrel.progress import Progress
from teamrel.resultcache import ResultCache
from teamrel.rules import declares_modes
from teamrel.workspace import Workspace

if TYPE_CHECKING:
    # a plan against a manifest file never opens the store: SQLAlchemy stays unimported
    from teamrel.store import Store


def plan_team(
    ws: Workspace,
    *,
    env: str | None = None,
    base: str | None = None,
    against: str | None = None,
    store: Callable[[], Any],
    optional_store: Callable[[], Store | None],
    unknown: UnknownPolicy | None = None,
    format_assertion: bool | None = None,
    explain: bool = False,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> Plan:
    """`teamrel plan`: the working tree `ws` against its base (see `choose_base`), with the
    pairs its compatibility modes add when it declares any.

    `store` opens the state store an environment base is read from; `optional_store` is
    the store if one may be opened, else None (the modes' live releases)."""
    plan = build_plan(
        ws,
        choose_base(ws, env=env, base=base, against=against, store=store),
        unknown=unknown,
        format_assertion=format_assertion,
        cache_dir=cache_dir,
        explain=explain,
        progress=progress,
    )
    modes = declares_modes(ws.team.policy.compat, [h.compat for h in ws.team.handoffs])
    return with_live_modes(plan, ws, optional_store(), cache_dir) if modes else plan


def choose_base(
    ws: Workspace,
    *,
    env: str | None,
    base: str | None,
    against: str | None,
    store: Callable[[], Any],
) -> Base:
    """The release a plan is measured against: `against` resolved as `teamrel check
    --against` does (so one CI input names the base of both commands), else `env`'s live
    release or the manifest `base`, else the newest manifest under manifests/."""
    if against is None:
        return load_base(ws, env=env, manifest=base, store_factory=store)
    if env is not None or base is not None:
        raise UsageError("--against names the base: give it without --env or --base")
    return resolve_against(ws, against, store)


def with_live_modes(plan: Plan, ws: Workspace, store: Store | None, cache_dir: Path | None) -> Plan:
    """`plan` with the pairs the handoffs' compatibility modes add with the releases live in
    `store` (none without a store), proved with the plan's own options."""
    from teamrel.meet import mode_edges

    prover = Prover(ResultCache(cache_dir), format_assertion=plan.options.format_assertion)
    edges, summary = mode_edges(ws, store, prover)
    prover.cache.save()
    return with_compat_modes(plan, edges, summary)
