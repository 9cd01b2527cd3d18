"""Feature flags of a team (`flags:` in teamrel.yaml): their states, and the graph of each.

Owns what a flag state *is* and which states are worth proving:
- a **state** assigns every flag on or off; it is written as the flags it flips from their
  defaults (`{"refund_v2": True}`), the default state being `{}`;
- `state_workspace` is the team graph in a state: a variant selected by an on flag replaces
  its member (new schemas, new digest), a tool or handoff whose flag is off loses its edges;
- `explore` picks the states to prove: every flag flipped alone (so each flag is proven on
  and off, and each variant), and every combination of flags that touch the same edge
  (a member's variant touches every edge of that member), bounded by `MAX_GROUP_FLAGS` and
  `MAX_FLAG_STATES`; what the bounds leave out is listed as not explored;
- the `flags` section a release manifest pins (definitions, variant digests, the states
  proven and not explored), what it proves (`PinnedProof`), and `unproven`, which
  `teamrel flags set` asks before it lets an environment reach a state the live release did
  not prove.

- `FlagsReport`: what a check proved of the states (`flags` in the check document).

This module does no I/O and knows nothing of the prover (`teamrel.check.prove_flag_states` proves).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from teamrel.canonical import JSON, JsonObject
from teamrel.models import FlagSpec, ResolvedHandoff, ResolvedMember, SwitchSpec
from teamrel.workspace import Workspace

#: A connected group of at most this many interacting flags has every combination proved
#: (2**6 = 64 states); a larger group has only each interacting pair's combinations proved.
MAX_GROUP_FLAGS = 6
#: At most this many non-default states are proved per check; the rest are not explored.
MAX_FLAG_STATES = 512
#: Version of the `flags` section of a manifest (and of `flags status --format json`).
FLAGS_FORMAT_VERSION = 1

#: flags flipped from their default -> their value (the default state is `{}`)
Flips = Mapping[str, bool]


def handoff_key(text: str) -> str:
    """The edge key of a handoff switch (`a -> b` written with or without spaces)."""
    return text.replace(" ", "")


def label(flips: Flips) -> str:
    """How a state is named in every output: "with `a` on, `b` off" (or "by default")."""
    if not flips:
        return "by default"
    parts = [f"`{name}` {'on' if value else 'off'}" for name, value in sorted(flips.items())]
    return "with " + ", ".join(parts)


def defaults(flags: Mapping[str, FlagSpec]) -> dict[str, bool]:
    """Every flag at its default."""
    return {name: spec.default for name, spec in flags.items()}


def values(flags: Mapping[str, FlagSpec], flips: Flips) -> dict[str, bool]:
    """Every flag's value in the state `flips`."""
    return {**defaults(flags), **flips}


def state_workspace(ws: Workspace, flips: Flips) -> Workspace:
    """The team graph in a flag state (the workspace itself when nothing changes)."""
    swap, drop = _switched(ws, flips)
    out = ws.with_members(swap) if swap else ws
    return out.without_edges(drop)


def _switched(ws: Workspace, flips: Flips) -> tuple[dict[str, ResolvedMember], set[str]]:
    """(members replaced by a selected variant, edge keys switched off) in a state."""
    swap: dict[str, ResolvedMember] = {}
    drop: set[str] = set()
    for name, spec in ws.team.flags.items():
        on = flips.get(name, spec.default)
        for sw in spec.switches:
            if sw.kind == "variant" and on:
                swap[str(sw.member)] = ws.variants[str(sw.member)][str(sw.variant)]
            elif sw.kind == "tool" and not on:
                drop |= {f"{sw.member}=>{sw.tool}", f"{sw.member}<={sw.tool}"}
            elif sw.kind == "handoff" and not on:
                drop.add(handoff_key(str(sw.handoff)))
    return swap, drop


def state_edges(
    ws: Workspace, flips: Flips, keys: Collection[str]
) -> tuple[Workspace, list[ResolvedHandoff]]:
    """The edges of `keys` as they are in a flag state (those switched off left out), and a
    workspace whose members are the state's (for names and versions): only the ends of those
    edges are rebuilt, so proving a state costs what it touches, not the team's size."""
    swap, drop = _switched(ws, flips)
    wanted = set(keys) - drop
    ends: set[str] = set()
    for h in ws.handoffs:
        if h.key in wanted:
            ends |= {h.producer, h.consumer}
    members = {n: swap.get(n, ws.members[n]) for n in ends}
    edges = [h for h in ws.edges_among(members) if h.key in wanted]
    view = dataclasses.replace(ws, members={**ws.members, **swap}) if swap else ws
    return view, edges


def touched_edges(ws: Workspace, spec: FlagSpec) -> set[str]:
    """The edge keys (of the whole declared graph) a flag may change."""
    out: set[str] = set()
    for sw in spec.switches:
        if sw.kind == "tool":
            out |= {f"{sw.member}=>{sw.tool}", f"{sw.member}<={sw.tool}"}
        elif sw.kind == "handoff":
            out.add(handoff_key(str(sw.handoff)))
        else:
            out |= {h.key for h in ws.handoffs if sw.member in (h.producer, h.consumer)}
    return out


def touched_members(spec: FlagSpec) -> set[str]:
    """The members a flag switches something of (a handoff switch: both ends)."""
    out: set[str] = set()
    for sw in spec.switches:
        if sw.kind == "handoff":
            out |= set(handoff_key(str(sw.handoff)).split("->", 1))
        else:
            out.add(str(sw.member))
    return out


@dataclass(frozen=True)
class Exploration:
    """The states `check` proves, and the combinations the bounds left out."""

    #: non-default states, flags flipped alone first
    states: list[dict[str, bool]]
    #: combinations not proved (as flips), with how many there were in all
    unexplored: list[dict[str, bool]] = field(default_factory=list)
    unexplored_count: int = 0
    #: groups of interacting flags (each sorted), for the manifest
    groups: list[list[str]] = field(default_factory=list)


def _groups(flags: Sequence[str], touched: Mapping[str, set[str]]) -> list[list[str]]:
    parent = {f: f for f in flags}

    def find(f: str) -> str:
        while parent[f] != f:
            parent[f] = parent[parent[f]]
            f = parent[f]
        return f

    for a, b in itertools.combinations(flags, 2):
        if touched[a] & touched[b]:
            parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for f in flags:
        groups.setdefault(find(f), []).append(f)
    return [sorted(g) for g in groups.values()]


def _flip(flags: Mapping[str, FlagSpec], names: Iterable[str]) -> dict[str, bool]:
    return {n: not flags[n].default for n in names}


def explore(ws: Workspace, *, max_states: int = MAX_FLAG_STATES) -> Exploration:
    """The flag states worth proving (see the module docstring), within the bounds."""
    flags = ws.team.flags
    names = sorted(flags)
    touched = {n: touched_edges(ws, flags[n]) for n in names}
    groups = _groups(names, touched)
    wanted: list[dict[str, bool]] = [_flip(flags, [n]) for n in names]
    left_out: list[dict[str, bool]] = []
    total_left = 0
    for group in groups:
        if len(group) < 2:
            continue
        if len(group) <= MAX_GROUP_FLAGS:
            for k in range(2, len(group) + 1):
                wanted += [_flip(flags, c) for c in itertools.combinations(group, k)]
            continue
        pairs = [(a, b) for a, b in itertools.combinations(group, 2) if touched[a] & touched[b]]
        wanted += [_flip(flags, p) for p in pairs]
        # every other combination of 2 or more flags of the group is left out
        total_left += 2 ** len(group) - 1 - len(group) - len(pairs)
        for k in range(2, len(group) + 1):
            for c in itertools.combinations(group, k):
                if len(left_out) >= 20:
                    break
                if k > 2 or not touched[c[0]] & touched[c[1]]:
                    left_out.append(_flip(flags, c))
    if len(wanted) > max_states:
        extra = wanted[max_states:]
        total_left += len(extra)
        left_out = [*extra[: max(0, 20 - len(left_out))], *left_out][:20]
        wanted = wanted[:max_states]
    return Exploration(wanted, left_out, total_left, [g for g in groups if len(g) > 1])


# --------------------------------------------------------------------------- check results


@dataclass(frozen=True, slots=True)
class FlagStateResult:
    """One flag state a check proved besides the default: its edges and whether it held."""

    state: str  # its `label`
    flags: dict[str, bool]  # the flags it flips from their defaults
    edges: int
    incompatible: int
    unknown: int
    passed: bool

    def to_json(self) -> JsonObject:
        """Stable JSON form (`flags.states[]` of the check document)."""
        return {
            "state": self.state,
            "flags": dict(self.flags),
            "edges": self.edges,
            "incompatible": self.incompatible,
            "unknown": self.unknown,
            "passed": self.passed,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> FlagStateResult:
        """The inverse of `to_json`."""
        return cls(
            str(d["state"]),
            {str(k): bool(v) for k, v in d["flags"].items()},
            int(d["edges"]),
            int(d["incompatible"]),
            int(d["unknown"]),
            bool(d["passed"]),
        )


@dataclass(frozen=True, slots=True)
class FlagsReport:
    """What a check proved of the flag states (`flags` in the check document): the declared
    flags, each state proved, the groups of interacting flags, and what the bounds left out."""

    declared: tuple[str, ...]
    states: tuple[FlagStateResult, ...]
    groups: tuple[tuple[str, ...], ...]
    unexplored: int
    unexplored_examples: tuple[str, ...]
    #: the bounds the exploration ran with (`MAX_GROUP_FLAGS`, `MAX_FLAG_STATES`)
    group_flags: int = MAX_GROUP_FLAGS
    max_states: int = MAX_FLAG_STATES

    @property
    def broken(self) -> list[str]:
        """The labels of the states that do not hold."""
        return [s.state for s in self.states if not s.passed]

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {
            "declared": list(self.declared),
            "states": [s.to_json() for s in self.states],
            "groups": [list(g) for g in self.groups],
            "unexplored": self.unexplored,
            "unexplored_examples": list(self.unexplored_examples),
            "bounds": {"group_flags": self.group_flags, "states": self.max_states},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, JSON]) -> FlagsReport:
        """The inverse of `to_json` (KeyError/TypeError on a malformed document)."""
        bounds = d["bounds"]
        return cls(
            tuple(str(f) for f in d["declared"]),
            tuple(FlagStateResult.from_json(s) for s in d["states"]),
            tuple(tuple(str(f) for f in g) for g in d["groups"]),
            int(d["unexplored"]),
            tuple(str(x) for x in d["unexplored_examples"]),
            int(bounds["group_flags"]),
            int(bounds["states"]),
        )


# --------------------------------------------------------------------------- manifests


def _switch_json(ws: Workspace, sw: SwitchSpec) -> dict[str, JSON]:
    if sw.kind == "handoff":
        return {"handoff": handoff_key(str(sw.handoff))}
    if sw.kind == "tool":
        return {"member": sw.member, "tool": sw.tool}
    variant = ws.variants[str(sw.member)][str(sw.variant)]
    return {"member": sw.member, "variant": sw.variant, "digest": variant.digest}


def variant_members(ws: Workspace) -> dict[str, ResolvedMember]:
    """Every variant a flag selects, by digest (snapshotted with the release)."""
    out: dict[str, ResolvedMember] = {}
    for spec in ws.team.flags.values():
        for sw in spec.switches:
            if sw.kind == "variant":
                m = ws.variants[str(sw.member)][str(sw.variant)]
                out[m.digest] = m
    return out


def manifest_section(
    ws: Workspace, proven: Sequence[tuple[Flips, bool]], exploration: Exploration
) -> dict[str, JSON] | None:
    """The `flags` section of a release manifest (None when no flag is declared)."""
    if not ws.team.flags:
        return None
    return {
        "definitions": {
            name: {
                "description": spec.description,
                "default": spec.default,
                "switches": [_switch_json(ws, sw) for sw in spec.switches],
            }
            for name, spec in ws.team.flags.items()
        },
        "states": [{"flags": dict(flips), "passed": ok} for flips, ok in proven],
        "groups": [list(g) for g in exploration.groups],
        "unexplored": exploration.unexplored_count,
    }


def _state_key(flips: Mapping[str, Any]) -> tuple[tuple[str, bool], ...]:
    return tuple(sorted((str(k), bool(v)) for k, v in flips.items()))


@dataclass(frozen=True)
class PinnedProof:
    """What a release proved of its flags, as its manifest's `flags` section pins it."""

    #: each declared flag -> its default value
    defaults: Mapping[str, bool]
    #: each state its check proved (`_state_key` of its flips) -> whether it passed
    passed: Mapping[tuple[tuple[str, bool], ...], bool]
    #: the groups of interacting flags, each proven in every combination; a flag in no
    #: group is proven flipped alone
    groups: tuple[tuple[str, ...], ...]

    @classmethod
    def of_manifest(cls, section: Mapping[str, JSON] | None) -> PinnedProof | None:
        """The proof a manifest's `flags` section records (None: the release declares no
        flags)."""
        if section is None:
            return None
        definitions: Any = section.get("definitions") or {}
        states: Any = section.get("states") or []
        groups: Any = section.get("groups") or []
        return cls(
            defaults={str(n): bool(d.get("default")) for n, d in definitions.items()},
            passed={_state_key(s["flags"]): bool(s["passed"]) for s in states},
            groups=tuple(tuple(str(f) for f in g) for g in groups),
        )

    def groups_of_all(self) -> list[tuple[str, ...]]:
        """The pinned groups, then every flag in none of them alone."""
        grouped = {f for g in self.groups for f in g}
        return [*self.groups, *((f,) for f in self.defaults if f not in grouped)]


def unproven(proof: PinnedProof | None, reachable: Mapping[str, set[bool]]) -> str | None:
    """Why some state the environment could reach was not proven by the release whose
    manifest pins `proof` (None when every reachable state was).

    `reachable` maps each flag to the values its environment setting lets runs see (a
    percentage: both). Flags of one group must have each reachable combination proven; a
    flag alone needs its flip proven; the default state is the release's own check.
    """
    if proof is None:
        return "it declares no flags"
    default = proof.defaults
    for name in reachable:
        if name not in default:
            return f"it does not declare flag {name!r}"
    for group in proof.groups_of_all():
        options = [sorted(reachable.get(f, {default[f]})) for f in group]
        for combo in itertools.product(*options):
            flips = {f: v for f, v in zip(group, combo, strict=True) if v != default[f]}
            if not flips:
                continue
            ok = proof.passed.get(_state_key(flips))
            if ok is None:
                return f"its check did not explore the state {label(flips)}"
            if not ok:
                return f"its check found the state {label(flips)} broken"
    return None
