"""`teamrel flags set|status|history`: feature flag values per environment, guarded.

Owns the rules around a flag change: the environment's `require_reason`; the flag must be
declared by the release live there; and the state the environment could reach after the
change (every flag's value, a percentage reaching both on and off) must have been proved by
that release's check (`teamrel.flags.unproven` of the manifest's `flags` section), else the
change is refused (PolicyError, exit 3) and nothing is written. The store does the write
(`teamrel.store.flagstore`: one transaction, CAS, an audit event).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from teamrel.canonical import JSON
from teamrel.errors import PolicyError, UsageError
from teamrel.flags import FLAGS_FORMAT_VERSION, PinnedProof, unproven
from teamrel.manifest import Manifest
from teamrel.models import EnvironmentSpec
from teamrel.store import (
    FlagChange,
    FlagStateName,
    FlagValue,
    Store,
    flag_history,
    flag_values,
    set_flag,
)


def normalise(state: str, percent: float | None) -> tuple[FlagStateName, float | None]:
    """(state, percent) as stored: `--percent 0` is off, `--percent 100` is on."""
    if percent is not None:
        if state not in ("percent", ""):
            raise UsageError("give either on|off or --percent N, not both")
        if not 0 <= percent <= 100 or round(percent * 100) != percent * 100:
            raise UsageError(
                f"--percent must be between 0 and 100 with at most two decimals, not {percent}"
            )
        if percent == 0:
            return "off", None
        if percent == 100:
            return "on", None
        return "percent", float(percent)
    if state not in ("on", "off"):
        raise UsageError(f"a flag is set on, off or --percent N, not {state!r}")
    return ("on" if state == "on" else "off"), None


def _guard(flag: str, env: str) -> Any:
    def check(manifest: Manifest, after: Mapping[str, FlagValue]) -> None:
        proof = PinnedProof.of_manifest(manifest.flags)
        definitions = proof.defaults if proof is not None else {}
        if flag not in definitions:
            raise PolicyError(
                f"release {manifest.release}, serving runs in {env}, declares no flag {flag!r}; "
                "nothing was changed",
                hint="declare it under flags: in teamrel.yaml and release",
            )
        reachable = {
            name: value.reachable() for name, value in after.items() if name in definitions
        }
        why = unproven(proof, reachable)
        if why is not None:
            raise PolicyError(
                f"refused: flag {flag} -> {after[flag].describe()} in {env}: release "
                f"{manifest.release} serves runs there and {why}; nothing was changed",
                hint="fix the handoffs of that state and release, then set the flag",
            )

    return check


def set_value(
    store: Store,
    team: str,
    rules: EnvironmentSpec,
    env: str,
    flag: str,
    state: str,
    percent: float | None,
    *,
    actor: str,
    reason: str | None,
) -> FlagChange:
    """`teamrel flags set ENV FLAG on|off|--percent N` (see the module docstring); `rules`
    are the environment's (its `require_reason` applies, as to a promotion)."""
    if rules.require_reason and not (reason and reason.strip()):
        raise PolicyError(
            f"environment {env} requires a reason to set a flag "
            f"(environments.{env}.require_reason: true in teamrel.yaml)",
            hint="add --reason TEXT",
        )
    stored, pct = normalise(state, percent)
    return set_flag(
        store, team, env, flag, stored, pct, actor=actor, reason=reason, check=_guard(flag, env)
    )


@dataclass(frozen=True)
class FlagStatus:
    """Every flag of the release live in each environment, with its value there."""

    team: str
    environments: list[dict[str, Any]]

    def to_json(self) -> dict[str, JSON]:
        """The `flags status --format json` document."""
        return {
            "format_version": FLAGS_FORMAT_VERSION,
            "team": self.team,
            "environments": self.environments,
        }


def status(store: Store, team: str, env: str | None = None) -> FlagStatus:
    """The flags of the release live in `env` (every environment when None)."""
    out: list[dict[str, Any]] = []
    for state in store.environments(team, only=env):
        if state.manifest_digest is None:
            continue
        manifest = store.get_manifest(state.manifest_digest, team)
        definitions = dict((manifest.flags or {}).get("definitions") or {})
        values = flag_values(store, team, state.name)
        flags = []
        for name, d in definitions.items():
            v = values.get(name)
            flags.append(
                {
                    "flag": name,
                    "description": d.get("description"),
                    "default": "on" if d.get("default") else "off",
                    "value": v.describe() if v else ("on" if d.get("default") else "off"),
                    "set": v is not None,
                    "updated_at": v.updated_at if v else None,
                    "updated_by": v.updated_by if v else None,
                    "reason": v.reason if v else None,
                }
            )
        # a value set for a flag the live release does not declare (after a rollback) is kept
        stray = sorted(set(values) - set(definitions))
        out.append(
            {
                "environment": state.name,
                "release": state.release,
                "flags": flags,
                "not_in_release": stray,
            }
        )
    return FlagStatus(team, out)


def history(store: Store, team: str, env: str) -> list[dict[str, JSON]]:
    """Every flag change of `env`, oldest first."""
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "flag": e.details.get("flag"),
            "from": e.details.get("from"),
            "to": e.details.get("to"),
            "release": e.release_to,
            "actor": e.actor,
            "reason": e.reason,
        }
        for e in flag_history(store, team, env)
    ]
