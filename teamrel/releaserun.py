"""The `teamrel release` operation: what `Context.release` runs, end to end.

Owns the steps around `teamrel.release.release`: refusing a missing `--reason` before any
work, the working tree, the reviewed plan (`--plan`, read back with `teamrel.plan.read_plan`),
the check that gates the release (run by the caller's `check`: the same report, remembered
or not, that `teamrel check` gives) and, when the team declares flags, the manifest's
`flags` section (every state the check proved) and the variant members it pins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from teamrel import release as rel
from teamrel.canonical import JSON
from teamrel.check import CheckReport, proven_states
from teamrel.errors import UsageError
from teamrel.models import ResolvedMember
from teamrel.plan import read_plan
from teamrel.store import Store
from teamrel.workspace import Workspace


def release_team(
    load: Callable[[], Workspace],
    check: Callable[[], CheckReport],
    store: Callable[[], Store],
    *,
    name: str | None = None,
    plan: Path | None = None,
    promote: str | None = None,
    allow_incompatible: bool = False,
    reason: str | None = None,
    actor: str | None = None,
    override_gates: bool = False,
) -> rel.ReleaseResult:
    """`teamrel release`: check the working tree (`load`; `check` runs the gate) or the
    reviewed plan, record it as a release in `store`, and optionally promote it. `actor`:
    as `teamrel.release.resolve_actor` finds it when not given."""
    if allow_incompatible and not (reason and reason.strip()):
        raise UsageError("--allow-incompatible needs --reason TEXT")
    if override_gates and not (reason and reason.strip()):
        raise UsageError("--override-gates needs --reason TEXT")
    ws = load()
    saved = read_plan(plan) if plan is not None else None
    report = check()
    flags_section, variants = flags_to_pin(ws, report)
    return rel.release(
        store(),
        ws.root,
        ws.team.team,
        ws.members,
        check_summary=report.summary().to_json(),  # as the manifest records it
        environments=ws.team.environments,
        actor=rel.resolve_actor(actor),
        name=name,
        allow_incompatible=reason if allow_incompatible else None,
        promote_env=promote,
        reason=reason,
        override_gates=reason if override_gates else None,
        reviewed=saved,
        flags=flags_section,
        variants=variants,
    )


def flags_to_pin(
    ws: Workspace, report: CheckReport
) -> tuple[Mapping[str, JSON] | None, Mapping[str, ResolvedMember] | None]:
    """The manifest's `flags` section (the states `report` proved) and the variant members
    it pins; (None, None) when the team declares no flag."""
    if not ws.team.flags:
        return None, None
    from teamrel.flags import explore, manifest_section, variant_members

    return manifest_section(ws, proven_states(report), explore(ws)), variant_members(ws)
