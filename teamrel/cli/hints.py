"""The command lines the CLI suggests after a refusal that carries none.

Owns `command_hint`: the state store refuses with facts (the store refusals of
`teamrel.errors`: which environment, which manifests, which generation, which rollout); what
to run next is a matter of the command line, so it is phrased here, where commands are. An
error that already carries a hint (one phrased by an operation, e.g. `release.rollback`)
keeps it.
"""

from __future__ import annotations

from teamrel.errors import (
    GenerationConflict,
    ReleaseNameTaken,
    RolloutOpen,
    StaleRolloutDecision,
    StoreUnreachable,
    TamperedStore,
    TeamrelError,
    UnexpectedLive,
)


def command_hint(err: TeamrelError) -> str | None:
    """What to run next after `err`: its own hint, else the CLI's wording for its facts."""
    if err.hint is not None:
        return err.hint
    if isinstance(err, StoreUnreachable):
        return "check --db / TEAMREL_DATABASE_URL and that the database is reachable"
    if isinstance(err, TamperedStore):
        return "run `teamrel verify`"
    if isinstance(err, ReleaseNameTaken):
        return "choose another --name, or omit it to number the release"
    if isinstance(err, UnexpectedLive):
        return (
            "another operator changed the environment: check `teamrel status` and "
            "`teamrel history` first"
        )
    if isinstance(err, StaleRolloutDecision):  # before its base class: the analysis is stale
        return "re-run `teamrel rollout step`"
    if isinstance(err, GenerationConflict):
        return "check `teamrel status` and re-run if still needed"
    if isinstance(err, RolloutOpen):
        return f"finish it first: `teamrel rollout promote|abort --env {err.environment}`"
    return None
