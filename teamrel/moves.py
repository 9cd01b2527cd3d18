"""Moving an environment's pointer where handoffs persist data: `teamrel promote`,
`rollback` and `rollout start` under the safety rules of docs/operations.md ("Is it safe to
roll back?").

Owns what these operations add around `teamrel.release` and `teamrel.rollout` for the
handoffs declared `persisted: true`: the crossings check between two manifests
(`safety_hook`: from `.teamrel/cache/release-pairs.json` when proved before, through the
light `teamrel.safety`; the engine is imported only on a miss), proving after a promotion the
rollback it makes possible (`prime_rollback_safety`, so an incident reads the answer from the
cache), a rollback refused on crossings, and a rollout's coexistence proof (stable and the
candidate, both ways) before it starts. Without persisted handoffs each is the plain
`teamrel.release` / `teamrel.rollout` operation, and `teamrel.rollout` is imported only to
start a rollout (the incident path stays light).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from teamrel import release as rel
from teamrel.errors import TeamrelError
from teamrel.localstate import default_cache_dir
from teamrel.models import EnvironmentSpec
from teamrel.store import RolloutState, Store

if TYPE_CHECKING:
    from teamrel.safety import SafetyReport

#: `(from, to)` member names of the handoffs declared `persisted: true`.
Persisted = tuple[tuple[str, str], ...]
#: `[(writer, reader), ...]` manifest digest pairs -> their crossings.
SafetyHook = Callable[[list[tuple[str, str]]], "SafetyReport"]


def safety_hook(
    store: Store,
    root: Path | None,
    action: str,
    team: str,
    env: str,
    persisted: Persisted,
) -> SafetyHook:
    """`pairs -> SafetyReport`: the crossings of persisted handoffs between (writer, reader)
    manifest pairs, from the workspace's pair cache (none without a workspace) when proved
    before."""
    from teamrel.safety import PairCache, safety_report

    cache_dir = default_cache_dir(root) if root is not None else None
    cache = PairCache(cache_dir)

    def compute(writer: str, reader: str) -> Any:
        from teamrel.meet import crossings

        return crossings(store, cache_dir, team, persisted, writer, reader, pair_cache=cache)

    def hook(pairs: list[tuple[str, str]]) -> SafetyReport:
        return safety_report(action, env, cache, pairs, persisted, compute)

    return hook


def prime_rollback_safety(
    store: Store, root: Path | None, team: str, env: str, persisted: Persisted
) -> None:
    """Prove the rollback `env` would make now, so an incident reads the answer from the
    cache (best effort: a failure here is the incident's to report, if it comes)."""
    if not persisted:
        return
    with contextlib.suppress(TeamrelError):
        pair = store.rollback_plan(team, env)
        if pair is not None:
            safety_hook(store, root, "rollback", team, env, persisted)([pair])


def promote(
    store: Store,
    root: Path,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    release: str,
    env: str,
    *,
    persisted: Persisted,
    actor: str,
    reason: str | None,
    expect: str | None,
    override_gates: str | None,
) -> rel.TransitionResult:
    """`teamrel promote` (`teamrel.release.promote`); with persisted handoffs, the result's
    pending step (`TransitionResult.finish()`, run once the result is shown) primes the
    rollback safety of `env` (`prime_rollback_safety`)."""
    result = rel.promote(
        store,
        root,
        team,
        environments,
        release,
        env,
        actor=actor,
        reason=reason,
        expect=expect,
        override_gates=override_gates,
    )
    if persisted and not result.transition.noop:

        def prime() -> list[str]:
            prime_rollback_safety(store, root, team, env, persisted)
            return []

        result.pending = prime
    return result


def rollback(
    store: Store,
    root: Path | None,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    env: str,
    *,
    persisted: Persisted,
    actor: str,
    reason: str | None,
    to: str | None,
    steps: int | None,
    expect: str | None,
    working_digests: Callable[[], dict[str, str]] | None,
    force: bool,
) -> rel.TransitionResult:
    """`teamrel rollback` (`teamrel.release.rollback`), refused (`RollbackUnsafe`) unless
    `force` when the target's consumers cannot read what the current producers may have
    persisted."""
    hook = safety_hook(store, root, "rollback", team, env, persisted) if persisted else None
    return rel.rollback(
        store,
        root,
        team,
        environments,
        env,
        actor=actor,
        reason=reason,
        to=to,
        steps=steps,
        expect=expect,
        working_digests=working_digests,
        safety=(lambda current, target: hook([(current, target)])) if hook else None,
        force=force,
    )


def start_rollout(
    store_factory: Callable[[], Store],
    root: Path | None,
    team: str,
    environments: Mapping[str, EnvironmentSpec],
    release: str,
    env: str,
    *,
    persisted: Persisted,
    actor: str,
    reason: str | None,
    shadow: bool,
    steps: list[float] | None,
    force: bool,
) -> RolloutState:
    """`teamrel rollout start`: open a progressive rollout of `release` in `env`. With
    persisted handoffs, stable and the candidate are proved both ways first: each must read
    what the other writes (else `RolloutUnsafe`, unless `force` with a reason, which then
    records the findings). The store is opened once `env` is known to exist."""
    from teamrel import rollout as ro

    rules = rel.environment_rules(environments, env)
    store = store_factory()
    info = store.release_info(team, release)
    if info is None:
        digest = rel.find_release(store, root, team, release, actor).digest
    else:
        digest = info.digest
    stable = store.live_digest(team, env) if persisted else None
    if force or (persisted and stable is not None and stable != digest):
        found = None
        if persisted and stable is not None and stable != digest:
            check = safety_hook(store, root, "rollout", team, env, persisted)
            found = check([(digest, stable), (stable, digest)])
        reason = ro.coexistence_reason(env, reason, found, force=force)
    return ro.start(
        store,
        team,
        rules,
        release,
        env,
        actor=actor,
        reason=reason,
        shadow=shadow,
        steps=steps,
        check_target=rel.target_check(root, env, rules),
    )
