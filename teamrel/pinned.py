"""A team pinned in an environment: the release live there, read one member at a time.

Owns what `teamrel resolve` (`teamrel.release.resolve`, its `Resolution`) and the agent
runtime (`teamrel.Runtime`, its `PinnedTeam`) share, so both read a live release the same
way: `PinnedRelease` (team, environment, release, manifest digest: the type both are),
`read_text` (a manifest's verified text with the store's member index, so one member is
found without parsing the rest), `member_entry` (one member's pin, else `no_member`: the
error naming the release's members), `pin_member` (a snapshot as that pin makes it) and
`nothing_live`; `flag_definitions` (the flags the release pins) and `flagged` (a member as
its flags select it: a variant instead, switched-off tools removed). `live_digest` reads the
pointer for `resolve`; the runtime reads it with a rollout's routing instead
(`Store.live_route`, also one indexed read).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from teamrel.errors import IntegrityError, NotFoundError
from teamrel.manifest import ManifestText, PinnedEntry, check_name
from teamrel.models import ResolvedMember
from teamrel.store import Store

#: Member names listed in the hint of a "no such member" error.
_HINT_NAMES = 20


@dataclass(frozen=True, eq=False)
class PinnedRelease:
    """Which release of a team is pinned in an environment. Immutable: whatever reads
    members through it stays on this manifest even after the environment's pointer moved.

    `teamrel.release.Resolution` (what `teamrel resolve` prints) and
    `teamrel.runtime.PinnedTeam` (what a run is served by) are both one."""

    team: str
    environment: str
    release: str
    manifest_digest: str


def nothing_live(team: str, env: str) -> NotFoundError:
    """The error for an environment no release was promoted to."""
    return NotFoundError(f"nothing is live in {env} of team {team}")


def live_digest(store: Store, team: str, env: str) -> str:
    """The manifest digest live in `env` (one indexed read); `NotFoundError` when none is."""
    check_name(env, "environment")
    live = store.live_pointer(team, env)
    if live is None:
        raise nothing_live(team, env)
    return live[0]


def read_text(store: Store, manifest_digest: str) -> ManifestText:
    """The manifest's canonical text, re-hashed but not parsed, with the store's member
    index to find one member by (`ManifestText.entry`)."""
    release, body, _count = store.manifest_text(manifest_digest)

    def index(name: str) -> str | None:
        return store.member_digest(manifest_digest, name)

    return ManifestText(manifest_digest, release, body, index)


def member_entry(text: ManifestText, environment: str, name: str) -> PinnedEntry:
    """How the manifest live in `environment` (`text`) pins member `name`; `NotFoundError`
    naming the release's members when it has none of that name."""
    found = text.entry(name)
    if found is None:
        raise no_member(text, environment, name)
    return found


def no_member(text: ManifestText, environment: str, name: str) -> NotFoundError:
    """The error for a member the release live in `environment` (`text`) does not have, its
    hint naming those it has (parsing the whole manifest: only on this error's path)."""
    names = list(text.all_entries())
    more = f", ... ({len(names) - _HINT_NAMES} more)" if len(names) > _HINT_NAMES else ""
    return NotFoundError(
        f"release {text.release} live in {environment} has no member {name!r}",
        hint=f"members: {', '.join(names[:_HINT_NAMES])}{more}",
    )


def pin_member(
    release: str, name: str, entry: PinnedEntry, snapshot: ResolvedMember
) -> ResolvedMember:
    """The member `name` as `release` pins it: its snapshot (which must be the pinned one)
    with the name, kind and version the manifest gives it."""
    if snapshot.digest != entry.digest:
        raise IntegrityError(
            f"release {release}: member {name} loaded as {snapshot.digest}, "
            f"pinned as {entry.digest}"
        )
    return snapshot.model_copy(update={"name": name, "kind": entry.kind, "version": entry.version})


def flag_definitions(text: ManifestText) -> dict[str, dict[str, object]]:
    """The flags the release pins (name -> definition in the manifest's `flags` section);
    {} for a release without flags, found without parsing its manifest."""
    # canonical JSON sorts keys: a manifest with flags holds this exact text
    if '"flags":{"definitions":' not in text.body:
        return {}
    parsed = json.loads(text.body).get("flags") or {}
    return dict(parsed.get("definitions") or {})


def flagged(
    member: ResolvedMember,
    name: str,
    defs: Mapping[str, Mapping[str, object]],
    flag: Callable[[str], bool],
    variant: Callable[[str], ResolvedMember],
) -> ResolvedMember:
    """`member` as the flags select it (`flag(name)`: whether a flag is on): a variant
    instead (loaded by digest with `variant`), tools switched off removed."""
    off_tools: set[str] = set()
    for fname, d in defs.items():
        switches = d.get("switches")
        for sw in switches if isinstance(switches, list) else []:
            if not isinstance(sw, dict) or sw.get("member") != name:
                continue
            if "variant" in sw and flag(fname):
                member = variant(str(sw["digest"])).model_copy(update={"name": name})
            elif "tool" in sw and not flag(fname):
                off_tools.add(str(sw["tool"]))
    if off_tools:
        tools = [
            t
            for t in member.spec.get("tools") or []
            if not (isinstance(t, dict) and t.get("tool") in off_tools)
        ]
        # the pinned digest stays: it names what was released, the flags only narrow it
        member = member.model_copy(update={"spec": {**member.spec, "tools": tools}})
    return member
