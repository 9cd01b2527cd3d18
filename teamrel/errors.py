"""The error tree and the diagnostic record every layer reports problems with.

Owns: `TeamrelError` (the one root of every failure teamrel raises), its subclasses, each
carrying the process exit code the CLI maps it to, and `Diagnostic`, the located problem
(file, line, JSON pointer) used by workspace validation and reported in bulk.

Findings (an incompatible handoff, a semver rule broken) are *not* errors: they are
returned values. Errors are for "the command could not do its job".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal


class ExitCode(IntEnum):
    """The process exit codes of every command (README "Exit codes")."""

    #: the command did its job and found nothing wrong
    OK = 0
    #: the command ran and found a problem (an incompatible handoff, a failed gate...)
    FINDINGS = 1
    #: the command was called wrongly (an unknown option value, exclusive options)
    USAGE = 2
    #: the command could not do its job (bad input, a store conflict, a missing extra)
    OPERATIONAL = 3
    #: `teamrel plan --detailed-exitcode`: changes are pending (2 is taken by usage errors)
    CHANGES = 4
    #: interrupted (Ctrl-C): 128 + SIGINT, the shell's convention
    INTERRUPTED = 130
    #: stdout was closed by the reader (`teamrel plan | head -1`): 128 + SIGPIPE, the
    #: status a shell reports for a process killed by SIGPIPE
    BROKEN_PIPE = 141


#: The former names of the exit codes, kept so code written against them still imports.
EXIT_OK = ExitCode.OK
EXIT_FINDINGS = ExitCode.FINDINGS
EXIT_USAGE = ExitCode.USAGE
EXIT_OPERATIONAL = ExitCode.OPERATIONAL

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem: what is wrong, and where (file, YAML line, JSON pointer)."""

    code: str
    message: str
    file: str | None = None
    line: int | None = None
    pointer: str | None = None
    severity: Severity = "error"

    def location(self) -> str:
        """`file:line pointer`, omitting what is unknown."""
        parts: list[str] = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        if self.pointer is not None:
            parts.append(f"#{self.pointer}" if self.pointer else "#")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """A stable JSON object for `--format json` outputs."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "pointer": self.pointer,
        }

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message


class TeamrelError(Exception):
    """Root of every failure teamrel raises; `exit_code` is what the CLI exits with."""

    exit_code: ExitCode = ExitCode.OPERATIONAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_json(self) -> dict[str, Any]:
        """A stable JSON object describing the error."""
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint}


class UsageError(TeamrelError):
    """The command was called wrongly (conflicting options, unknown environment name...)."""

    exit_code = ExitCode.USAGE


class InputError(TeamrelError):
    """Bad input: an unreadable or invalid file, schema, plan or manifest."""


class WorkspaceError(InputError):
    """The workspace could not be loaded; `diagnostics` lists *every* problem found."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics: list[Diagnostic] = list(diagnostics)

    def to_json(self) -> dict[str, Any]:
        doc = super().to_json()
        doc["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return doc


class SourceError(WorkspaceError):
    """A generated contract source cannot be synced (a malformed reference, a model that does
    not import, a file outside the workspace); `diagnostics` lists every one."""


class MissingExtraError(TeamrelError):
    """An integration's optional dependency is not installed (`pip install 'teamrel[x]'`)."""


class WorkspaceNotFound(InputError):
    """No `teamrel.yaml` in the given directory or any parent."""


class SchemaError(InputError):
    """A JSON Schema is unusable: not a schema for its dialect, or a forbidden `$ref`."""

    def __init__(self, message: str, *, uri: str | None = None, pointer: str | None = None):
        super().__init__(message)
        self.uri = uri
        self.pointer = pointer

    def to_json(self) -> dict[str, Any]:
        doc = super().to_json()
        doc["uri"] = self.uri
        doc["pointer"] = self.pointer
        return doc


class RefError(SchemaError):
    """A `$ref` that teamrel refuses to follow (remote, escaping the workspace, unknown)."""


class FormatVersionError(InputError):
    """A versioned document (plan, manifest, store) of a major version this teamrel cannot read."""


class IntegrityError(InputError):
    """Content does not match its digest: a tampered manifest, snapshot or audit event."""


class StoreError(TeamrelError):
    """The state store could not complete an operation."""


class ConflictError(StoreError):
    """Optimistic concurrency lost: another operator changed the environment first."""


class NotFoundError(TeamrelError):
    """A named release, manifest, environment or member does not exist."""


class PolicyError(TeamrelError):
    """An environment's protection forbids the operation (missing --reason, ...)."""


# ---------------------------------------------------------------- the state store's refusals
#
# The store states facts: what it refused and about what (an environment, the manifests
# involved, the generation it expected and found, the rollout that is open). What to do next
# is phrased where commands are (teamrel.release, the CLI's error rendering), so these carry
# no command line; `hint` stays None unless the caller adds one.


class StoreUnreachable(StoreError):
    """The state store at `url` could not be opened (`reason`: the driver's account)."""

    def __init__(self, message: str, *, url: str, reason: str) -> None:
        super().__init__(message)
        self.url = url
        self.reason = reason


class TamperedStore(IntegrityError):
    """A stored manifest or snapshot does not match its digest, or a manifest's snapshots
    are missing: the store was modified outside teamrel. `kind` is `manifest` or
    `snapshot`; `release` names a manifest's release; `missing` counts absent snapshots."""

    def __init__(
        self,
        message: str,
        *,
        kind: Literal["manifest", "snapshot"],
        digest: str,
        release: str | None = None,
        missing: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.digest = digest
        self.release = release
        self.missing = missing


class ReleaseNameTaken(ConflictError):
    """Release `release` of `team` is already recorded with other content (`existing`)."""

    def __init__(self, message: str, *, team: str, release: str, existing: str) -> None:
        super().__init__(message)
        self.team = team
        self.release = release
        self.existing = existing


class EnvironmentConflict(ConflictError):
    """The environment `environment` of `team` is not in the state the operation was asked
    to start from; nothing was changed."""

    def __init__(self, message: str, *, team: str, environment: str) -> None:
        super().__init__(message)
        self.team = team
        self.environment = environment


class UnexpectedLive(EnvironmentConflict):
    """`expected` (a release name or digest) was to be live, but `live` (digest, None when
    nothing is) named `live_release` is."""

    def __init__(
        self,
        message: str,
        *,
        team: str,
        environment: str,
        expected: str,
        live: str | None,
        live_release: str | None,
    ) -> None:
        super().__init__(message, team=team, environment=environment)
        self.expected = expected
        self.live = live
        self.live_release = live_release


class GenerationConflict(EnvironmentConflict):
    """The environment's generation moved from `expected` (what was read) to `found` (None
    when not read back) before the compare-and-swap: another operator changed it first."""

    def __init__(
        self, message: str, *, team: str, environment: str, expected: int, found: int | None
    ) -> None:
        super().__init__(message, team=team, environment=environment)
        self.expected = expected
        self.found = found


class StaleRolloutDecision(GenerationConflict):
    """A decision about rollout `rollout_id` was computed from generation `expected`, but
    the environment is at `found` now."""

    def __init__(
        self,
        message: str,
        *,
        team: str,
        environment: str,
        rollout_id: str,
        expected: int,
        found: int,
    ) -> None:
        super().__init__(
            message, team=team, environment=environment, expected=expected, found=found
        )
        self.rollout_id = rollout_id


class RolloutOpen(EnvironmentConflict):
    """Rollout `rollout_id` of `candidate_release` is still open (`state`) in the
    environment: it must end before another starts."""

    def __init__(
        self,
        message: str,
        *,
        team: str,
        environment: str,
        rollout_id: str,
        candidate_release: str,
        state: str,
    ) -> None:
        super().__init__(message, team=team, environment=environment)
        self.rollout_id = rollout_id
        self.candidate_release = candidate_release
        self.state = state


class RecentRollback(EnvironmentConflict):
    """The environment was rolled back `seconds_ago` seconds ago by `by` (now live:
    `live_release`): a plain rollback does not go back a second time that soon."""

    def __init__(
        self,
        message: str,
        *,
        team: str,
        environment: str,
        seconds_ago: int,
        by: str | None,
        live_release: str | None,
    ) -> None:
        super().__init__(message, team=team, environment=environment)
        self.seconds_ago = seconds_ago
        self.by = by
        self.live_release = live_release


class RollbackTargetRefused(UsageError):
    """A rollback to `release` (as named; manifest `digest`) of `team` in `environment` is
    not a move back: see the subclasses."""

    def __init__(
        self, message: str, *, team: str, environment: str, release: str, digest: str | None
    ) -> None:
        super().__init__(message)
        self.team = team
        self.environment = environment
        self.release = release
        self.digest = digest


class RolledBackFrom(RollbackTargetRefused):
    """`release` was rolled back from in the environment: rollback never returns to it."""


class NotAnEarlierRelease(RollbackTargetRefused):
    """`release` was not live in the environment before `live_release`: rollback only goes
    back through earlier promotions."""

    def __init__(
        self,
        message: str,
        *,
        team: str,
        environment: str,
        release: str,
        digest: str | None,
        live_release: str | None,
    ) -> None:
        super().__init__(
            message, team=team, environment=environment, release=release, digest=digest
        )
        self.live_release = live_release


def errors_of(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Only the diagnostics of severity `error`."""
    return [d for d in diagnostics if d.severity == "error"]
