"""The team name and environment rules of a workspace, read without loading the workspace.

Owns what promote, rollback, status, history, diff and resolve need of `teamrel.yaml`: its
`team`, its `environments`, and which handoffs carry persisted data (`persisted: true`: the
rollback safety check proves those before the pointer moves) and whether any handoff declares
a compatibility mode. An incident must not wait for 10,000 members to be parsed, nor be
blocked by a working tree that no longer loads (a missing prompt, a broken schema).

The rules are remembered in a small index, `.teamrel/rules-index.json`, keyed by the sha256 of
the exact bytes of `teamrel.yaml`: reading them again costs one hash of the file. The index is
written whenever teamrel has parsed that file anyway (validate, check, plan, release, and the
first command after an edit); a file whose bytes changed misses, and is parsed whole. Like
every local state, an index that git tracks is ignored (see `teamrel.localstate`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamrel.errors import TeamrelError
from teamrel.fileio import atomic_write
from teamrel.localstate import state_dir
from teamrel.manifest import check_name
from teamrel.models import CompatMode, EnvironmentSpec
from teamrel.yamlsrc import MAX_YAML_BYTES, parse_yaml

WORKSPACE_FILE = "teamrel.yaml"
INDEX_FILE = "rules-index.json"
#: Version of the index document; another version is ignored (and rewritten).
INDEX_FORMAT_VERSION = 1
#: Versions of `teamrel.yaml` remembered (the newest ones).
MAX_ENTRIES = 8


@dataclass(frozen=True)
class TeamRules:
    """The team's name and the protection rules of each declared environment."""

    team: str
    environments: Mapping[str, EnvironmentSpec]
    #: `(from, to)` of every handoff declared with `persisted: true`, in declaration order
    persisted: tuple[tuple[str, str], ...] = ()
    #: whether a handoff (or `policy.compat`) declares a compatibility mode beyond atomic:
    #: `teamrel check` then also proves pairs with the live releases
    modes: bool = False


def declares_modes(policy_compat: Any, handoff_modes: Any) -> bool:
    """Whether `policy.compat` or any handoff's `compat` (raw or parsed) is beyond atomic."""
    for raw in [policy_compat, *(handoff_modes or ())]:
        if raw is None:
            continue
        mode = raw if isinstance(raw, CompatMode) else CompatMode.model_validate(raw)
        if mode.mode != "atomic":
            return True
    return False


def persisted_pairs(handoffs: Any) -> tuple[tuple[str, str], ...]:
    """`(from, to)` of the handoffs (parsed `HandoffSpec`s or raw mappings) marked persisted."""
    out: list[tuple[str, str]] = []
    for h in handoffs or ():
        if isinstance(h, dict):
            if h.get("persisted") is True:
                out.append((check_name(h["from"], "member"), check_name(h["to"], "member")))
        elif getattr(h, "persisted", False):
            out.append((str(h.from_), str(h.to)))
    return tuple(out)


def file_key(raw: bytes) -> str:
    """The index key of `teamrel.yaml`'s bytes: their sha256, hex."""
    return hashlib.sha256(raw).hexdigest()


def read_rules(
    root: Path, full_load: Callable[[], TeamRules], *, create_state: bool = True
) -> TeamRules:
    """The rules of the workspace at `root`: from the index when `teamrel.yaml` is unchanged,
    else parsed from the file (and remembered).

    `full_load` loads the whole workspace; it is called when the file cannot be read this way
    (not YAML, no valid `team`, malformed environments), so its error lists every problem
    with file, line and JSON pointer. `create_state=False` (read-only commands) writes the
    index only into an existing `.teamrel/`.
    """
    path = root / WORKSPACE_FILE
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
    except OSError:
        return full_load()
    if len(raw) > MAX_YAML_BYTES:
        return full_load()
    key = file_key(raw)
    index = _index_path(root, create=create_state)
    if index is not None:
        found = _read_index(index, key)
        if found is not None:
            return found
    try:
        rules = _parse(raw)
    except (TeamrelError, KeyError, TypeError, AttributeError, ValueError):
        return full_load()
    if index is not None:
        _write_index(index, key, rules)
    return rules


def remember_rules(root: Path, key: str, rules: TeamRules) -> None:
    """Record `rules` as those of the `teamrel.yaml` whose `file_key` is `key`."""
    index = _index_path(root)
    if index is not None and _read_index(index, key) != rules:
        _write_index(index, key, rules)


def _parse(raw: bytes) -> TeamRules:
    doc = parse_yaml(raw.decode("utf-8-sig"), WORKSPACE_FILE)
    for diag in doc.diagnostics:
        # e.g. `environments` given twice: which rules hold is ambiguous, so the full load
        # reports it instead of the first one silently winning
        if diag.pointer is None or diag.pointer.split("/")[1:2] in ([], ["team"], ["environments"]):
            raise ValueError(diag.message)
    data = doc.data
    team = check_name(data["team"], "team")
    envs = {
        str(name): EnvironmentSpec.model_validate(spec or {})
        for name, spec in (data.get("environments") or {}).items()
    }
    handoffs = data.get("handoffs") or []
    modes = declares_modes(
        (data.get("policy") or {}).get("compat"),
        [h.get("compat") for h in handoffs if isinstance(h, dict)],
    )
    return TeamRules(team, envs, persisted_pairs(handoffs), modes)


def _index_path(root: Path, *, create: bool = True) -> Path | None:
    state = state_dir(root, create=create)
    return state / INDEX_FILE if state is not None else None


def _entries(path: Path) -> dict[str, Any]:
    try:
        doc: Any = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}  # missing or damaged: parse the file instead
    if not isinstance(doc, dict) or doc.get("format_version") != INDEX_FORMAT_VERSION:
        return {}
    entries = doc.get("entries")
    return entries if isinstance(entries, dict) else {}


def _read_index(path: Path, key: str) -> TeamRules | None:
    entry: Any = _entries(path).get(key)
    try:
        return TeamRules(
            check_name(entry["team"], "team"),
            {
                str(name): EnvironmentSpec.model_validate(spec)
                for name, spec in entry["environments"].items()
            },
            # an entry written before `persisted` existed lacks the key: a miss (re-parsed)
            tuple(
                (check_name(a, "member"), check_name(b, "member")) for a, b in entry["persisted"]
            ),
            entry["modes"] is True,
        )
    except (TeamrelError, KeyError, TypeError, AttributeError, ValueError):
        return None  # absent, foreign or damaged: parse the file instead


def _write_index(path: Path, key: str, rules: TeamRules) -> None:
    entries = _entries(path)
    entries.pop(key, None)
    entries[key] = {
        "team": rules.team,
        "environments": {
            name: spec.model_dump(mode="json") for name, spec in rules.environments.items()
        },
        "persisted": [list(pair) for pair in rules.persisted],
        "modes": rules.modes,
    }
    # a few versions of the file (switching branches back and forth), newest last
    kept = dict(list(entries.items())[-MAX_ENTRIES:])
    doc = {"format_version": INDEX_FORMAT_VERSION, "entries": kept}
    with contextlib.suppress(OSError):  # an index that cannot be written is only slower
        atomic_write(path, json.dumps(doc).encode("utf-8"), durable=False)
