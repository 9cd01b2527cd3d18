"""The command a store refusal suggests is phrased by the CLI, from the facts it carries."""

from __future__ import annotations

import pytest

from teamrel.cli.hints import command_hint
from teamrel.errors import (
    ConflictError,
    GenerationConflict,
    ReleaseNameTaken,
    RolloutOpen,
    StaleRolloutDecision,
    StoreUnreachable,
    TamperedStore,
    TeamrelError,
    UnexpectedLive,
)

ENV = {"team": "demo", "environment": "prod"}


@pytest.mark.parametrize(
    ("err", "hint"),
    [
        (
            StoreUnreachable("m", url="sqlite:///x", reason="no"),
            "check --db / TEAMREL_DATABASE_URL and that the database is reachable",
        ),
        (TamperedStore("m", kind="snapshot", digest="sha256:x"), "run `teamrel verify`"),
        (
            ReleaseNameTaken("m", team="demo", release="r1", existing="sha256:x"),
            "choose another --name, or omit it to number the release",
        ),
        (
            UnexpectedLive("m", **ENV, expected="r1", live=None, live_release=None),
            "another operator changed the environment: check `teamrel status` and "
            "`teamrel history` first",
        ),
        (
            GenerationConflict("m", **ENV, expected=1, found=2),
            "check `teamrel status` and re-run if still needed",
        ),
        (
            StaleRolloutDecision("m", **ENV, rollout_id="ro", expected=1, found=2),
            "re-run `teamrel rollout step`",
        ),
        (
            RolloutOpen("m", **ENV, rollout_id="ro", candidate_release="r2", state="active"),
            "finish it first: `teamrel rollout promote|abort --env prod`",
        ),
        (ConflictError("m"), None),
    ],
)
def test_store_refusals_get_the_command_to_run(err: TeamrelError, hint: str | None) -> None:
    assert err.hint is None
    assert command_hint(err) == hint


def test_a_hint_the_error_carries_wins() -> None:
    err = GenerationConflict("m", **ENV, expected=1, found=2)
    err.hint = "re-run the rollback"
    assert command_hint(err) == "re-run the rollback"
