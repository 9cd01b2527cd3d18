"""The value types of the compatibility engine: verdicts, problems, budgets, evolutions.

Owns `CompatResult` (a verdict with its witness, problems and reason), `Problem` (one located,
explained difference), `Evolution` (how a schema changed between two versions), `Budget`
(the step and depth limits of one check, and its wall-clock safety net) and
`ENGINE_VERSION`, the cache key of verdict semantics: bump it whenever a verdict could
change for the same input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from teamrel.canonical import JSON, JsonObject

#: Bump whenever the same pair of schemas could get a different verdict.
ENGINE_VERSION = "1.4.0"

#: The clock the budget's safety net reads (a test slows it down: verdicts must not change).
_clock = time.monotonic

#: Version of the JSON documents produced by `to_json`.
RESULT_FORMAT_VERSION = 1

Verdict = Literal["compatible", "incompatible", "unknown"]
Relation = Literal["identical", "widened", "narrowed", "incomparable"]


class BudgetExhausted(Exception):
    """Raised inside the engine when a check ran out of time, steps or depth."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class Budget:
    """Limits of one check; the check answers "unknown" when any runs out.

    `max_steps` counts proof steps (goals, unfoldings and candidate values validated): the
    limit that decides, the same on every machine, so a gate's verdict does not depend on
    the runner's speed or load. `max_depth` bounds the nesting of goals (schema depth).
    `max_seconds` is wall-clock time, only a safety net far above what the step budget takes
    (a step that is unexpectedly slow); reaching it is reported as its own reason.
    """

    max_seconds: float = 30.0
    max_steps: int = 200_000
    max_depth: int = 200
    _deadline: float = field(default=0.0, repr=False)
    _steps: int = field(default=0, repr=False)

    def start(self) -> Budget:
        """A fresh running copy of this budget (budgets are reusable across checks)."""
        run = Budget(self.max_seconds, self.max_steps, self.max_depth)
        run._deadline = _clock() + self.max_seconds
        return run

    def tick(self, n: int = 1) -> None:
        """Account for `n` steps; raise `BudgetExhausted` when a limit is reached."""
        self._steps += n
        if self._steps > self.max_steps:
            raise BudgetExhausted(f"step budget ({self.max_steps} steps) exhausted")
        if (self._steps & 63) == 0 and _clock() > self._deadline:
            raise BudgetExhausted(self.time_reason())

    def check_time(self) -> None:
        """Raise `BudgetExhausted` if the deadline has passed."""
        if _clock() > self._deadline:
            raise BudgetExhausted(self.time_reason())

    def time_reason(self) -> str:
        """Why a check stopped at the safety net: not the step budget, the machine's time."""
        return (
            f"wall-clock safety net ({self.max_seconds:g} s) reached after {self._steps} "
            f"of {self.max_steps} steps"
        )

    @property
    def deadline(self) -> float:
        """The `time.monotonic()` value this run must finish by."""
        return self._deadline

    @property
    def steps(self) -> int:
        """Steps used so far."""
        return self._steps


@dataclass(frozen=True)
class Problem:
    """One located difference between producer and consumer, shown by the witness.

    `kind` is from the fixed vocabulary documented in docs/compat.md; `instance_pointer` is a
    JSON pointer into the witness; the two locations are `producer#<pointer>` /
    `consumer#<pointer>` (or the resource URI for a schema reached through a cross-file
    `$ref`).
    """

    kind: str
    instance_pointer: str
    producer_location: str
    consumer_location: str
    message: str

    def to_json(self) -> JsonObject:
        """A stable JSON object."""
        return {
            "kind": self.kind,
            "instance_pointer": self.instance_pointer,
            "producer_location": self.producer_location,
            "consumer_location": self.consumer_location,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = self.instance_pointer or "(root)"
        return f"[{self.kind}] {where}: {self.message} ({self.consumer_location})"


@dataclass(frozen=True)
class CompatResult:
    """The answer to "is every value valid under producer also valid under consumer?".

    - compatible: proven; `witness` is meaningless and `has_witness` False.
    - incompatible: `witness` is a value the reference validator accepts under the producer
      and rejects under the consumer (verified); `problems` explains it.
    - unknown: `reason` says which keyword or construct could not be decided, and where.
    """

    verdict: Verdict
    witness: JSON = None
    has_witness: bool = False
    problems: list[Problem] = field(default_factory=list)
    reason: str | None = None
    engine_version: str = ENGINE_VERSION
    #: proof steps used (diagnostics for benchmarks; not part of the verdict)
    steps: int = 0

    @property
    def compatible(self) -> bool:
        """True only for a proven "compatible"."""
        return self.verdict == "compatible"

    def to_json(self) -> JsonObject:
        """A stable, versioned JSON document."""
        return {
            "format_version": RESULT_FORMAT_VERSION,
            "verdict": self.verdict,
            "witness": self.witness if self.has_witness else None,
            "has_witness": self.has_witness,
            "problems": [p.to_json() for p in self.problems],
            "reason": self.reason,
            "engine_version": self.engine_version,
        }


@dataclass(frozen=True)
class Evolution:
    """How a schema changed from `old` to `new`.

    `added` answers "new ⊆ old?" (an incompatible `added` carries a value new allows and old
    did not); `removed` answers "old ⊆ new?" (its witness is a value old allowed and new no
    longer does). `relation`: identical (both hold), widened (only old ⊆ new), narrowed (only
    new ⊆ old), incomparable (neither, or a direction is unknown: see `decided`).
    """

    relation: Relation
    added: CompatResult
    removed: CompatResult

    @property
    def decided(self) -> bool:
        """False when a direction is "unknown" (then `relation` is a cautious incomparable)."""
        return self.added.verdict != "unknown" and self.removed.verdict != "unknown"

    def to_json(self) -> JsonObject:
        """A stable, versioned JSON document."""
        return {
            "format_version": RESULT_FORMAT_VERSION,
            "relation": self.relation,
            "decided": self.decided,
            "added": self.added.to_json(),
            "removed": self.removed.to_json(),
        }
