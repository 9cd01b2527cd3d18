"""The plan document as frozen pydantic models (docs/plan-format.md).

Owns `Plan` and its entries (`MemberEntry`, `FieldChange`, `SchemaChangeEntry`, `SemverEntry`,
`Finding`, `Wave`, `PlanSummary`, `PlanBase`, `PlanOptions`, `EvalsSection`). The plan JSON
document is their serialisation: `Plan.to_json()` gives the keys in the order and with the
values the document has always had (golden files under tests/cli/golden/ prove it), and
`Plan.model_validate` reads a document written by any teamrel of the same major
`format_version` (unknown keys are ignored). Building a plan is `teamrel.plan`'s job; this
module only holds its shape, so the renderers (`teamrel.markdown`, `teamrel.htmlreport`,
`teamrel.cli`) read attributes without importing the machinery that computes it.

The handoff edges, the gate reports, the flag states and the compatibility-mode section
are the check's and the gates' documents, embedded as they are (`JSON`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from teamrel.canonical import JSON, digest
from teamrel.errors import InputError
from teamrel.fileio import atomic_write

Action = Literal["add", "change", "remove", "unchanged"]
Category = Literal["breaking", "non-breaking", "metadata-only"]
Relation = Literal["identical", "widened", "narrowed", "incomparable"]
Severity = Literal["error", "warning"]


class _Entry(BaseModel):
    # frozen: a plan is a value; ignore: a newer minor version may add keys a reader skips
    model_config = ConfigDict(frozen=True, extra="ignore")


class PlanBase(_Entry):
    """What the plan was compared with: `kind` `env` | `manifest` | `empty`."""

    kind: Literal["env", "manifest", "empty"]
    env: str | None = None
    manifest_digest: str | None = None
    release: str | None = None
    path: str | None = None


class VersionRef(_Entry):
    """One side of a member: its version and digest."""

    version: str
    digest: str


class FieldChange(_Entry):
    """One field-level difference of a changed member (`tools` entries say `change`)."""

    field: str
    old: JSON
    new: JSON
    change: str | None = None

    @model_serializer(mode="wrap")
    def _serialise(self, handler: SerializerFunctionWrapHandler) -> dict[str, JSON]:
        out: dict[str, JSON] = handler(self)
        if out.get("change") is None:  # only a tool added or removed carries it
            out.pop("change", None)
        return out


class StepEntry(_Entry):
    """A direction of a schema evolution that does not hold: the engine's proof."""

    verdict: str
    witness: JSON = None
    problems: list[JSON]
    reason: str | None = None


class SchemaChangeEntry(_Entry):
    """How one schema of a member evolved (`added`: new ⊄ old, `removed`: old ⊄ new)."""

    role: str
    relation: Relation
    decided: bool
    summary: str
    added: StepEntry | None
    removed: StepEntry | None


class SemverEntry(_Entry):
    """The version rule of a changed member and the bump it made."""

    old: str
    new: str
    bump: str | None
    required: str
    ok: bool
    finding: str | None
    message: str | None
    suggested: str | None


class BlastRadius(_Entry):
    """The members on the other end of the handoffs a member broke, and those below it."""

    hit: list[str]
    downstream: list[str]


class MemberEntry(_Entry):
    """One member of the plan: its action, category, field diffs and blast radius."""

    name: str
    action: Action
    kind: str
    category: Category | None
    old: VersionRef | None
    new: VersionRef | None
    changes: list[FieldChange]
    prompt_diff: str | None
    schema_changes: list[SchemaChangeEntry]
    semver: SemverEntry | None
    breaks: list[str]
    blast_radius: BlastRadius
    reasons: list[str]

    @property
    def label(self) -> str:
        """`name old -> new` (digests when the version did not move)."""
        old, new = self.old, self.new
        if old and new:
            if old.version == new.version:
                digests = f"{_short(old.digest)} -> {_short(new.digest)}"
                return f"{self.name} {new.version} ({digests})"
            return f"{self.name} {old.version} -> {new.version}"
        if new:
            return f"{self.name} {new.version}"
        if old:
            return f"{self.name} {old.version}"
        return self.name


def _short(d: str) -> str:
    return d.removeprefix("sha256:")[:8]


class Finding(_Entry):
    """A problem (`severity` error: the plan fails) or a warning."""

    code: str
    severity: Severity
    member: str | None
    edge: str | None
    message: str


class Wave(_Entry):
    """A release wave: the members shipped (or removed) together."""

    wave: int
    action: Literal["ship", "remove"]
    members: list[str]


class PlanSummary(_Entry):
    """The counts behind the summary line; `handoffs` is the check's summary."""

    line: str
    add: int
    change: int
    remove: int
    unchanged: int
    breaking: int
    handoffs: dict[str, JSON]
    waves: int
    problems: int


class PlanOptions(_Entry):
    """The options the plan was computed with."""

    unknown: Literal["fail", "warn"]
    format_assertion: bool


class EvalMetric(_Entry):
    """One metric of a suite: `live` (in the base) and `new` value, `n` (None for a
    hand-typed figure: no `evidence`), and `delta` with its one-sided 95% bounds."""

    metric: str
    live: JSON
    new: JSON
    n: JSON
    evidence: bool
    delta: dict[str, JSON] | None

    @property
    def moved(self) -> bool:
        """Whether the value differs from the live one (a new metric counts as moved when it
        is evidence; a hand-typed figure only when it had a live value)."""
        if self.evidence:
            return self.live is None or self.live != self.new
        return self.live is not None and self.live != self.new


class EvalSuite(_Entry):
    """One agent's suite: its metrics and whether the scorecard measured the current member."""

    member: str
    suite: str
    fresh: bool
    stale: str | None
    metrics: list[EvalMetric]


class EvalsSection(_Entry):
    """The plan's evals (docs/evals.md): the suites, and one gate report per environment
    (`teamrel.gates`' document, as `promote` reads it)."""

    suites: list[EvalSuite]
    gates: dict[str, dict[str, JSON]]


#: Top-level sections written only when present (a plan without them keeps its bytes).
_OPTIONAL = ("flags", "compat_modes")


class Plan(_Entry):
    """A computed or saved plan (docs/plan-format.md); `to_json()` is the document."""

    format_version: int
    teamrel_version: str
    engine_version: str
    team: str
    created_at: str
    base: PlanBase
    summary: PlanSummary
    has_changes: bool
    passed: bool
    desired_members: dict[str, str]
    members: list[MemberEntry]
    handoffs: list[dict[str, JSON]]
    waves: list[Wave]
    findings: list[Finding]
    options: PlanOptions
    evals: EvalsSection | None = None
    flags: dict[str, JSON] | None = None
    digest: str
    compat_modes: dict[str, JSON] | None = None

    @model_serializer(mode="wrap")
    def _serialise(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, JSON]:
        out: dict[str, JSON] = handler(self)
        for key in _OPTIONAL:
            if out.get(key) is None:
                out.pop(key, None)
        return out

    @property
    def summary_line(self) -> str:
        """`Plan: 2 to change (1 breaking), 1 to add, 0 to remove · 11 handoffs: ...`."""
        return self.summary.line

    @property
    def problems(self) -> list[Finding]:
        """The findings of severity error."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        """The findings that do not fail the plan."""
        return [f for f in self.findings if f.severity != "error"]

    def core_digest(self) -> str:
        """The digest over what the plan commits to (team, base, desired members, verdict)."""
        return core_digest(self.to_json())

    def to_json(self) -> dict[str, JSON]:
        """The plan document (docs/plan-format.md)."""
        return self.model_dump()

    def write(self, path: Path) -> None:
        """Save the plan as JSON (atomically: temp file + rename)."""
        text = json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"
        try:
            atomic_write(path, text.encode("utf-8"), mkdir=False)
        except OSError as err:  # name the plan file, not the temporary one
            raise InputError(f"cannot write the plan to {path}: {err.strerror or err}") from None


def core_digest(doc: dict[str, JSON]) -> str:
    """Digest over the keys a saved plan commits to (`Plan.digest`)."""
    return digest(
        {
            "format_version": doc["format_version"],
            "team": doc["team"],
            "base": doc["base"],
            "desired_members": doc["desired_members"],
            "has_changes": doc.get("has_changes"),
            "passed": doc.get("passed"),
        }
    )
