"""Proving every reachable flag state of a team (`check` and `plan` with `flags:` declared).

Owns `prove_flag_states`: after the default state's check, each state `teamrel.flags.explore`
picks is proved on the edges its flipped flags touch (the rest of the graph is the default
state's, already proved), with the caller's `Prover`, so a schema pair met in several states
is proved once (and comes from the on-disk digest-pair cache across runs). Each edge proved in
a state joins the report under a key naming the state ("with `refund_v2` on: refunds->responder"),
so every output format names it; `report.flags` lists the states, whether each passed, and the
combinations the bounds left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from teamrel.check import CheckReport, Prover, check_edge
from teamrel.flags import (
    MAX_FLAG_STATES,
    MAX_GROUP_FLAGS,
    Exploration,
    explore,
    label,
    state_workspace,
    touched_edges,
)
from teamrel.models import ResolvedMember
from teamrel.workspace import Workspace


def default_workspace(ws: Workspace) -> Workspace:
    """The team graph with every flag at its default (`ws` itself without flags)."""
    return state_workspace(ws, {}) if ws.team.flags else ws


def prove_flag_states(
    ws: Workspace,
    report: CheckReport,
    prover: Prover,
    *,
    members: Collection[str] | None = None,
    base: Mapping[str, ResolvedMember] | None = None,
    pinned: Collection[str] = (),
) -> tuple[CheckReport, Exploration | None]:
    """Add the edges of every explored flag state to `report` (see the module docstring);
    returns the report and what was explored (None without flags)."""
    flags = ws.team.flags
    if not flags:
        return report, None
    exploration = explore(ws)
    touched = {name: touched_edges(ws, spec) for name, spec in flags.items()}
    wanted = set(members) if members is not None else None
    states: list[dict[str, Any]] = []
    for flips in exploration.states:
        sws = state_workspace(ws, flips)
        keys = set().union(*(touched[f] for f in flips))
        name = label(flips)
        edges = []
        for h in sws.handoffs:
            if h.key not in keys:
                continue
            if wanted is not None and h.producer not in wanted and h.consumer not in wanted:
                continue
            e = check_edge(sws, h, prover, base=base, pinned=pinned)
            edges.append(dataclasses.replace(e, key=f"{name}: {e.key}", flag_state=dict(flips)))
        bad = [e for e in edges if e.verdict == "incompatible"]
        unknown = [e for e in edges if e.verdict == "unknown"]
        passed = not bad and not (report.unknown == "fail" and unknown)
        states.append(
            {
                "state": name,
                "flags": dict(flips),
                "edges": len(edges),
                "incompatible": len(bad),
                "unknown": len(unknown),
                "passed": passed,
            }
        )
        report.edges.extend(edges)
    report.flags = {
        "declared": sorted(flags),
        "states": states,
        "groups": exploration.groups,
        "unexplored": exploration.unexplored_count,
        "unexplored_examples": [label(f) for f in exploration.unexplored],
        "bounds": {"group_flags": MAX_GROUP_FLAGS, "states": MAX_FLAG_STATES},
    }
    return report, exploration


def proven_states(report: CheckReport) -> list[tuple[dict[str, bool], bool]]:
    """(flips, passed) of every flag state the report proved (for the manifest)."""
    if report.flags is None:
        return []
    return [(dict(s["flags"]), bool(s["passed"])) for s in report.flags["states"]]
