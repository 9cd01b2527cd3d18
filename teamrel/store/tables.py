"""The state store's tables (SQLModel), at the newest schema version.

Owns the table definitions only; `teamrel.store.migrations` decides which of them exist in a
given store (a migration that changes an existing table must carry its own frozen DDL, so
these classes always describe the newest schema).

Every table name starts with `teamrel_` so a shared PostgreSQL database can hold them next to
other applications' tables. Large JSON documents are stored as canonical JSON text: the exact
bytes their digests are computed over, so integrity checks hash stored bytes without parsing.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class MetaRow(SQLModel, table=True):
    """Key/value facts about the store itself (`schema_version`)."""

    __tablename__ = "teamrel_meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class SnapshotRow(SQLModel, table=True):
    """A member snapshot: immutable, content-addressed by the digest of `body`."""

    __tablename__ = "teamrel_snapshots"

    digest: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=16)
    version: str
    #: canonical JSON of the resolved member spec (sha256 of these bytes == digest)
    body: str = Field(sa_column=Column(Text, nullable=False))


class ManifestRow(SQLModel, table=True):
    """A release manifest: immutable; `body` is the canonical JSON the digest is taken over."""

    __tablename__ = "teamrel_manifests"
    __table_args__ = (
        UniqueConstraint("team", "release", name="uq_teamrel_manifests_team_release"),
        Index("ix_teamrel_manifests_team_content", "team", "content_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=80, unique=True)
    team: str = Field(max_length=128)
    release: str = Field(max_length=128)
    content_key: str = Field(max_length=80)
    created_at: str = Field(max_length=40)
    created_by: str
    parent: str | None = Field(default=None, max_length=80)
    allow_incompatible: str | None = None
    member_count: int
    #: sha256 of the bytes teamrel wrote to manifests/<team>/<release>.json
    file_sha256: str = Field(max_length=80)
    #: set once every snapshot was checked against its digest when the release was recorded
    verified: bool = False
    body: str = Field(sa_column=Column(Text, nullable=False))


class ManifestMemberRow(SQLModel, table=True):
    """Which snapshot each member of a manifest is; the foreign key keeps snapshots alive."""

    __tablename__ = "teamrel_manifest_members"

    manifest_digest: str = Field(
        sa_column=Column(
            Text, ForeignKey("teamrel_manifests.digest", ondelete="RESTRICT"), primary_key=True
        )
    )
    name: str = Field(primary_key=True, max_length=128)
    member_digest: str = Field(
        sa_column=Column(
            Text, ForeignKey("teamrel_snapshots.digest", ondelete="RESTRICT"), nullable=False
        )
    )


class EnvironmentRow(SQLModel, table=True):
    """One environment of a team: the live manifest and the generation counter for CAS."""

    __tablename__ = "teamrel_environments"
    __table_args__ = (UniqueConstraint("team", "name", name="uq_teamrel_environments_team_name"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=128)
    name: str = Field(max_length=128)
    manifest_digest: str | None = Field(default=None, max_length=80)
    #: the promotion row that is live (the head of the chain rollback walks back through)
    promotion_id: int | None = None
    generation: int = 0
    last_action: str | None = Field(default=None, max_length=16)
    updated_at: str | None = Field(default=None, max_length=40)
    updated_by: str | None = None
    reason: str | None = None


class PromotionRow(SQLModel, table=True):
    """One promotion of a manifest into an environment, linked to what was live before it."""

    __tablename__ = "teamrel_promotions"

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    manifest_digest: str = Field(max_length=80)
    previous_id: int | None = None
    created_at: str = Field(max_length=40)
    actor: str


class EventRow(SQLModel, table=True):
    """One audit event (append-only); `hash` chains it to the previous event's hash."""

    __tablename__ = "teamrel_events"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    at: str = Field(max_length=40)
    action: str = Field(max_length=32)
    team: str = Field(max_length=128, index=True)
    environment: str | None = Field(default=None, max_length=128)
    release_from: str | None = None
    release_to: str | None = None
    from_manifest: str | None = Field(default=None, max_length=80)
    to_manifest: str | None = Field(default=None, max_length=80)
    generation: int | None = None
    actor: str
    reason: str | None = None
    #: canonical JSON object with action-specific facts
    details: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str | None = Field(default=None, max_length=80)
    hash: str = Field(max_length=80)


class ChainRow(SQLModel, table=True):
    """The head of the audit chain (one row): its last sequence number and hash.

    Appending an event updates this row in the same transaction, which serialises appends
    and makes a deleted tail event detectable.
    """

    __tablename__ = "teamrel_chain"

    id: int = Field(primary_key=True)
    seq: int = 0
    head: str | None = Field(default=None, max_length=80)


class RollbackMarkRow(SQLModel, table=True):
    """A manifest rolled back from in an environment (schema v2).

    A rollback never lands on a marked manifest; an explicit `promote` clears the mark.
    """

    __tablename__ = "teamrel_rollback_marks"

    environment_id: int = Field(sa_column=Column(Integer, primary_key=True))
    manifest_digest: str = Field(sa_column=Column(Text, primary_key=True))
    event_seq: int
    at: str = Field(max_length=40)


def table(name: str) -> Table:
    """The Core `Table` of one of the classes above, by table name."""
    return SQLModel.metadata.tables[name]


#: Tables of schema v1, in creation order.
V1_TABLES = (
    "teamrel_meta",
    "teamrel_snapshots",
    "teamrel_manifests",
    "teamrel_manifest_members",
    "teamrel_environments",
    "teamrel_promotions",
    "teamrel_events",
    "teamrel_chain",
)
#: Tables schema v2 added.
V2_TABLES = ("teamrel_rollback_marks",)


class RolloutRow(SQLModel, table=True):
    """A progressive rollout of a candidate release in an environment (schema v3).

    At most one rollout of an environment is open (`state` active or paused); every change
    moves the environment's generation by compare-and-swap, so two operators never both win.
    """

    __tablename__ = "teamrel_rollouts"

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: str = Field(max_length=40, unique=True)
    environment_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    team: str = Field(max_length=128)
    environment: str = Field(max_length=128)
    stable_digest: str = Field(max_length=80)
    candidate_digest: str = Field(max_length=80)
    candidate_release: str = Field(max_length=128)
    phase: str = Field(max_length=16)  # shadow | canary
    #: the candidate's share of runs, in 1/10,000 (routing hashes keys into 10,000 buckets)
    weight_bp: int = 0
    #: index into `steps` of the current canary step (-1 in shadow)
    step_index: int = -1
    #: canonical JSON: the step percentages
    steps: str = Field(sa_column=Column(Text, nullable=False))
    #: canonical JSON: the RolloutPolicy the rollout is judged by (frozen at start)
    policy: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)  # active | paused | promoted | aborted
    started_at: str = Field(max_length=40)
    started_by: str
    reason: str | None = None
    updated_at: str = Field(max_length=40)
    ended_at: str | None = Field(default=None, max_length=40)
    #: canonical JSON of the last decision applied (None before the first)
    last_decision: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class OutcomeRow(SQLModel, table=True):
    """The outcome of one run during a rollout (schema v3); one per (rollout, run)."""

    __tablename__ = "teamrel_outcomes"
    __table_args__ = (
        UniqueConstraint("rollout_id", "run_id", name="uq_teamrel_outcomes_run"),
        Index("ix_teamrel_outcomes_arm_step", "rollout_id", "arm", "step", "ok"),
        Index("ix_teamrel_outcomes_arm_latency", "rollout_id", "arm", "latency_ms"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: str = Field(max_length=40)
    run_id: str = Field(max_length=64)
    arm: str = Field(max_length=8)  # stable | canary | shadow
    step: int
    release: str = Field(max_length=128)
    ok: int
    latency_ms: float | None = None
    cost_usd: float | None = None
    tool_calls: int | None = None
    at: str = Field(max_length=40)


class OutcomeScoreRow(SQLModel, table=True):
    """One named quality score of one run's outcome (schema v3)."""

    __tablename__ = "teamrel_outcome_scores"
    __table_args__ = (Index("ix_teamrel_outcome_scores_arm", "rollout_id", "arm", "name"),)

    rollout_id: str = Field(sa_column=Column(Text, primary_key=True))
    run_id: str = Field(sa_column=Column(Text, primary_key=True))
    name: str = Field(sa_column=Column(Text, primary_key=True))
    arm: str = Field(max_length=8)
    value: float


#: Tables schema v3 added.
V3_TABLES = ("teamrel_rollouts", "teamrel_outcomes", "teamrel_outcome_scores")


class FlagRow(SQLModel, table=True):
    """The value of one feature flag in one environment (schema v4); no row: the default the
    live release pins. Every change moves the environment's generation by compare-and-swap
    and appends a `flag` audit event, in one transaction (`teamrel.store.flagstore`)."""

    __tablename__ = "teamrel_flags"
    __table_args__ = (
        UniqueConstraint("environment_id", "flag", name="uq_teamrel_flags_environment_flag"),
    )

    id: int | None = Field(default=None, primary_key=True)
    environment_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    flag: str = Field(max_length=128)
    #: on | off | percent
    state: str = Field(max_length=16)
    #: with `percent`: the share of keys the flag is on for, in 1/10,000 (as rollouts route)
    percent_bp: int = 0
    updated_at: str = Field(max_length=40)
    updated_by: str
    reason: str | None = None


#: Tables schema v4 added.
V4_TABLES = ("teamrel_flags",)
