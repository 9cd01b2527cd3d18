"""`teamrel import openai-agents`: members and handoffs from an OpenAI Agents SDK team.

Owns the mapping from an SDK agent graph onto the workspace model (docs/sources.md, "OpenAI
Agents SDK"): the child interpreter (`agents_walk.py`) imports the application's module and
describes every agent reachable from the entry agent; this module validates that answer,
maps the SDK's free-text names onto member names, merges the members, tools and handoffs into
a new or existing `teamrel.yaml` (an existing one is edited in place through
`teamrel.yamledit`, its comments kept), and writes it with the prompt and contract files, all
or nothing. An existing workspace is only changed when the caller says so (`apply`); otherwise
the report carries the diff.

The mapping:
- an agent -> an agent member: `instructions` -> `prompts/<member>.md` (a callable cannot be
  read: the file says so, and an existing one is kept), `model` -> `model` (provider
  `openai`; the SDK default model when the agent names none), `model_settings` -> `parameters`;
- `output_type` -> `output`, its Pydantic schema in serialisation mode (a `{pydantic, file}`
  source when the model is importable by name, so `teamrel contracts sync --check` keeps it
  honest), and `structured_output: openai-strict` when the SDK sends it in strict mode; no
  output type: `{type: string}` (text);
- a function tool -> a tool member (`input_schema`: its `params_json_schema`, what the SDK
  sends the model) that the agent uses with `call` = the same schema;
- a handoff -> a handoff; its typed input (`input_type`) -> the handoff `contract` in
  validation mode (what the SDK validates the arguments with); an agent every incoming
  handoff of which carries the same type takes it as `input`, any other takes the
  conversation (`input: {}` with a description).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teamrel.canonical import JsonObject
from teamrel.errors import Diagnostic, InputError, SourceError
from teamrel.extras import require
from teamrel.fileio import atomic_write
from teamrel.models import NAME_RE, PYDANTIC_REF_RE, TeamFile, error_text
from teamrel.yamledit import REMOVE, YamlEditError, set_keys
from teamrel.yamlsrc import YamlError, load_yaml, read_yaml_text

WORKSPACE_FILE = "teamrel.yaml"
#: Version of the `teamrel import openai-agents --format json` document.
IMPORT_FORMAT_VERSION = 1
#: Longest the child interpreter may take to import the application and walk its agents.
IMPORT_TIMEOUT_S = 300.0
#: What an imported agent takes when no single typed handoff defines it: the conversation.
CONVERSATION_INPUT: dict[str, Any] = {
    "description": "the conversation (the OpenAI Agents SDK hands over the whole history)"
}
TEXT_OUTPUT: dict[str, Any] = {"type": "string"}
STRICT_PROFILE = "openai-strict"
NEW_VERSION = "1.0.0"


# --------------------------------------------------------------------------- the child's answer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Schema(_Strict):
    schema_: dict[str, Any] | bool = Field(alias="schema")
    pydantic: str | None = None


class _Output(_Schema):
    strict: bool
    plain: bool
    type: str


class _Model(_Strict):
    provider: str
    id: str
    default: bool
    parameters: dict[str, Any]


class _Tool(_Strict):
    name: str
    description: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool


class _Handoff(_Strict):
    to: str
    input: _Schema | None = None


class _Instructions(_Strict):
    text: str | None = None
    callable: str | None = None


class _Agent(_Strict):
    name: str
    description: str | None = None
    instructions: _Instructions
    model: _Model
    output: _Output | None = None
    tools: list[_Tool]
    handoffs: list[_Handoff]


class _Walk(_Strict):
    entry: str
    agents: list[_Agent]
    notes: list[str]


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class ImportedMember:
    """One member the import wrote (or would write)."""

    name: str
    source: str
    kind: Literal["agent", "tool"]
    status: Literal["added", "updated", "unchanged"]

    def to_json(self) -> JsonObject:
        """One entry of the `--format json` document."""
        return {"name": self.name, "source": self.source, "kind": self.kind, "status": self.status}


@dataclass(frozen=True)
class ImportReport:
    """What `teamrel import openai-agents` found, and what it wrote or would write."""

    entry: str
    root: Path
    created: bool
    applied: bool
    members: list[ImportedMember]
    handoffs: list[str]
    #: workspace-relative path -> "added" | "changed"
    files: dict[str, str]
    diff: str
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Some file differs from what is in the workspace."""
        return bool(self.files)

    @property
    def pending(self) -> bool:
        """Changes were found and not written (an existing workspace, no `--yes`)."""
        return self.changed and not self.applied

    def to_json(self) -> JsonObject:
        """The versioned `--format json` document."""
        return {
            "format_version": IMPORT_FORMAT_VERSION,
            "source": "openai-agents",
            "entry": self.entry,
            "workspace": str(self.root),
            "created": self.created,
            "changed": self.changed,
            "applied": self.applied,
            "members": [m.to_json() for m in self.members],
            "handoffs": self.handoffs,
            "files": [{"file": f, "status": s} for f, s in sorted(self.files.items())],
            "diff": self.diff,
            "notes": self.notes,
        }


# --------------------------------------------------------------------------- names


_PATHLIKE = re.compile(r"(^|[/\\])\.\.?([/\\]|$)|^[/\\~]")


def member_name(free: str, what: str) -> str:
    """The teamrel member name of an SDK name (free text), deterministically: ASCII-folded,
    lower case, every run of other characters one `-`. Raises `InputError` for a name that
    looks like a path (`../x`, `/etc`) or leaves nothing usable."""
    if _PATHLIKE.search(free):
        raise InputError(
            f"{what} {free!r} looks like a file path: teamrel member names become file names "
            "(prompts/<name>.md), so a name with '..', '.' or a leading '/' is refused; "
            "rename it in the SDK"
        )
    folded = unicodedata.normalize("NFKD", free).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9_.]+", "-", folded.lower())
    name = re.sub(r"[-_.]{2,}", "-", name).strip("-_.")[:128].strip("-_.")
    if not name or not NAME_RE.match(name):
        raise InputError(
            f"{what} {free!r} has no letters or digits teamrel can make a member name of; "
            "rename it in the SDK"
        )
    return name


# --------------------------------------------------------------------------- the import


def import_openai_agents(
    root: Path,
    entry: str,
    *,
    python_path: Sequence[Path] = (),
    apply: bool = False,
) -> ImportReport:
    """Import the agent team reachable from `entry` (`package.module:agent`) into the
    workspace at `root` (created when it holds no teamrel.yaml). An existing workspace is
    written only when `apply`; a new one always. Raises `SourceError` / `InputError` (nothing
    written) when the team cannot be imported or mapped."""
    where = f"openai-agents source {entry!r}"
    if not PYDANTIC_REF_RE.match(entry):
        raise InputError(f"{where}: write 'package.module:agent' (a module path, a colon, a name)")
    walk = _run_child(root, entry, python_path, where)
    existing = _read_workspace(root)
    created = existing is None
    current, current_text = existing or ({}, "")
    plan = _Mapper(root, entry, walk, current, where).build()
    files: dict[str, bytes] = dict(plan.files)
    new_text = _dump(plan.data) if created else _edited(current, current_text, plan)
    files[WORKSPACE_FILE] = new_text.encode("utf-8")
    changes: dict[str, str] = {}
    for rel, data in files.items():
        status = _status(root / rel, data, rel)
        if status is not None:
            changes[rel] = status
    diff = "" if created else _diff(root, changes, files, current_text)
    write = bool(changes) and (created or apply)
    if write:
        _write(root, changes, files)
    return ImportReport(
        entry=entry,
        root=root,
        created=created,
        applied=write,
        members=plan.members,
        handoffs=plan.handoffs,
        files=changes,
        diff=diff,
        notes=[*walk.notes, *plan.notes],
    )


def _read_workspace(root: Path) -> tuple[dict[str, Any], str] | None:
    """The existing teamrel.yaml (data, text), None when there is none; raises `SourceError`
    when it does not parse."""
    path = root / WORKSPACE_FILE
    if not path.is_file():
        return None
    try:
        doc = load_yaml(path, WORKSPACE_FILE)
    except YamlError as err:
        raise SourceError(err.message, err.diagnostics) from None
    if any(d.severity == "error" for d in doc.diagnostics) or not isinstance(doc.data, dict):
        raise SourceError(
            f"{WORKSPACE_FILE} does not parse: fix it before importing into it",
            doc.diagnostics,
        )
    return doc.data, read_yaml_text(path, WORKSPACE_FILE)


def _edited(current: dict[str, Any], text: str, plan: _Plan) -> str:
    """The existing teamrel.yaml edited in place into `plan.data`, its comments kept; when its
    layout cannot be edited so, re-written whole (a note says the comments went)."""
    try:
        new_text = _edit_in_place(current, text, plan.data)
        if yaml.safe_load(new_text) == plan.data:
            return new_text
    except YamlEditError:
        pass
    plan.notes.append(
        f"{WORKSPACE_FILE} could not be edited in place (an unusual layout): it is written "
        "whole, without its comments"
    )
    return _dump(plan.data)


def _edit_in_place(old: dict[str, Any], text: str, new: dict[str, Any]) -> str:
    # the mapper only sets `team`, `members` (whole members, or keys of one) and `handoffs`
    top = {k: v for k, v in new.items() if k != "members" and old.get(k) != v}
    top.update({k: REMOVE for k in old if k not in new})
    old_members = old.get("members")
    if isinstance(old_members, dict) and old_members:
        text = _edit_members(text, old_members, new.get("members") or {})
    else:
        top["members"] = new.get("members") or {}
    return set_keys(text, (), top, block=True) if top else text


def _edit_members(text: str, old: dict[str, Any], new: dict[str, Any]) -> str:
    # a member that was a mapping gets only its changed keys set, so comments inside it stay;
    # a new one (or one that was not a mapping) is written whole
    whole: dict[str, Any] = {n: REMOVE for n in old if n not in new}
    for n, spec in new.items():
        was = old.get(n)
        if was == spec:
            continue
        if not isinstance(was, dict):
            whole[n] = spec
            continue
        keys = {k: v for k, v in spec.items() if was.get(k) != v}
        keys.update({k: REMOVE for k in was if k not in spec})
        text = set_keys(text, ("members", n), keys, block=True)
    return set_keys(text, ("members",), whole, block=True) if whole else text


def _diff(root: Path, changes: dict[str, str], files: dict[str, bytes], current_text: str) -> str:
    """The unified diff of every existing file that would change, teamrel.yaml first."""
    diff = ""
    for rel in sorted(changes, key=lambda r: (r != WORKSPACE_FILE, r)):
        if changes[rel] != "changed":
            continue
        old_text = (
            current_text
            if rel == WORKSPACE_FILE
            else (root / rel).read_bytes().decode("utf-8", "replace")
        )
        diff += "".join(
            difflib.unified_diff(
                old_text.splitlines(keepends=True),
                files[rel].decode("utf-8").splitlines(keepends=True),
                f"a/{rel}",
                f"b/{rel}",
            )
        )
    return diff


def _write(root: Path, changes: dict[str, str], files: dict[str, bytes]) -> None:
    # every file is complete before the first is renamed into place; teamrel.yaml last,
    # so the workspace never names a file that is not there yet
    for rel in sorted(changes, key=lambda r: r == WORKSPACE_FILE):
        atomic_write(root / rel, files[rel])


def _status(path: Path, data: bytes, rel: str) -> str | None:
    try:
        old = path.read_bytes()
    except FileNotFoundError:
        return "added"
    except OSError as err:
        raise InputError(f"cannot read {rel}: {err.strerror or err}") from None
    if old == data:
        return None
    if rel.endswith(".json"):
        # equal JSON is not a change (as for `contracts sync`): a reformatted file stays
        try:
            if json.loads(old) == json.loads(data):
                return None
        except ValueError:
            pass
    return "changed"


class _NoAliases(yaml.SafeDumper):
    # a schema slot shared by two places is written out twice, never as a YAML alias
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    text: str = yaml.dump(
        data,
        Dumper=_NoAliases,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text


def _run_child(root: Path, entry: str, python_path: Sequence[Path], where: str) -> _Walk:
    here = Path(__file__).parent
    program = (here / "agents_walk.py").read_text(encoding="utf-8")
    env = dict(os.environ)
    paths = [str(root), *(str(p) for p in python_path)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # building agents needs no model and no key; nothing here may reach the network
    env.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
    request = {"entry": entry, "pydantic_gen": str(here / "pydantic_gen.py")}
    try:
        proc = subprocess.run(
            [sys.executable, "-B", "-c", program],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=root if root.is_dir() else Path.cwd(),
            env=env,
            timeout=IMPORT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InputError(
            f"{where}: importing the application took longer than {IMPORT_TIMEOUT_S:.0f} s"
        ) from None
    except OSError as err:
        raise InputError(f"{where}: cannot start {sys.executable}: {err.strerror or err}") from None
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        tail = [line for line in proc.stderr.splitlines() if line.strip()][-1:]
        raise InputError(
            f"{where}: the Python process importing the application failed "
            f"(exit {proc.returncode})" + (f": {tail[0].strip()}" if tail else "")
        ) from None
    if not isinstance(answer, dict):
        raise InputError(f"{where}: the importing process answered {type(answer).__name__}")
    if "missing" in answer:
        require("agents", "openai-agents")  # raises MissingExtraError naming the pip install
        raise InputError(f"{where}: the OpenAI Agents SDK does not import in the child process")
    if "error" in answer:
        raise InputError(f"{where}: {answer['error']}")
    try:
        return _Walk.model_validate(answer.get("ok"))
    except ValidationError as err:
        first = err.errors()[0]
        loc = "/".join(str(p) for p in first["loc"])
        raise InputError(
            f"{where}: the importing process gave a malformed description (at {loc}: "
            f"{error_text(first)})"
        ) from None


@dataclass
class _Plan:
    data: dict[str, Any]
    files: dict[str, bytes]
    members: list[ImportedMember]
    handoffs: list[str]
    notes: list[str]


def _json_bytes(schema: Any) -> bytes:
    return (json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


class _Mapper:
    """Maps one walked SDK team onto the workspace data (see the module docstring)."""

    def __init__(
        self, root: Path, entry: str, walk: _Walk, current: dict[str, Any], where: str
    ) -> None:
        self.root = root
        self.entry = entry
        self.walk = walk
        self.where = where
        self.data: dict[str, Any] = json.loads(json.dumps(current)) if current else {}
        self.files: dict[str, bytes] = {}
        self.notes: list[str] = []
        self.problems: list[Diagnostic] = []
        self.names: dict[str, str] = {}  # SDK agent name -> member name
        self.owners: dict[str, str] = {}  # member name -> what claimed it
        self.tools: dict[str, tuple[str, _Tool]] = {}  # member name -> (owner text, tool)
        self.tool_names: dict[tuple[str, str], str] = {}  # (agent, tool name) -> member
        self.slots: dict[tuple[str, str], Any] = {}  # (agent, target) -> handoff contract
        self.incoming: dict[str, list[_Schema | None]] = {}  # target -> the inputs handed

    def fail(self, message: str) -> None:
        self.problems.append(Diagnostic("openai-agents-source", message, self.entry))

    def name(self, free: str, what: str) -> str | None:
        try:
            return member_name(free, what)
        except InputError as err:
            self.fail(err.message)
            return None

    def put(self, rel: str, data: bytes) -> None:
        if not _inside(self.root, rel):
            self.fail(
                f"{rel}: refused, it is outside the workspace (absolute, '..' or a symlink out); "
                f"fix the path in {WORKSPACE_FILE}"
            )
            return
        old = self.files.get(rel)
        if old is not None and old != data:
            self.fail(f"two different schemas would be written to {rel}")
        self.files[rel] = data

    def schema_slot(
        self, s: _Schema, rel: str, mode_default: str, mode: str, old: Any = None
    ) -> Any:
        """The teamrel.yaml value of a schema slot filled from `s` (and its file). A slot
        already generated from the same model keeps its file where the user put it."""
        if (
            s.pydantic is not None
            and isinstance(old, dict)
            and old.get("pydantic") == s.pydantic
            and isinstance(old.get("file"), str)
            and old.get("mode", mode_default) == mode
        ):
            rel = old["file"]
        self.put(rel, _json_bytes(s.schema_))
        if s.pydantic is not None:
            slot: dict[str, Any] = {"pydantic": s.pydantic, "file": rel}
            if mode != mode_default:
                slot["mode"] = mode
            return slot
        return rel

    def build(self) -> _Plan:
        """Merge the walked team into the workspace data; raises `SourceError` listing every
        problem found (nothing is written then)."""
        self.claim_agent_names()
        self.claim_tool_names()
        self.check_existing(self.names, self.tools)
        if self.problems:
            self.raise_problems()
        members = self.members_section()
        imported = {a.name for a in self.walk.agents} | {t.name for _o, t in self.tools.values()}
        self.note_unreachable(members, imported)
        self.fill_contract_slots()
        report = [self.agent_member(members, a) for a in self.walk.agents]
        for tn, (_owner, t) in sorted(self.tools.items()):
            report.append(self.tool_member(members, tn, t))
        keys = self.merge_handoffs()
        if self.problems:
            self.raise_problems()
        self.validate_merged()
        return _Plan(self.data, self.files, report, keys, self.notes)

    # ----------------------------------------------------------------- names and collisions

    def claim_agent_names(self) -> None:
        """`self.names`: SDK agent name -> member name; two agents on one name is a problem."""
        for a in self.walk.agents:
            n = self.name(a.name, "agent name")
            if n is None:
                continue
            if n in self.owners:
                self.fail(
                    f"agents {self.owners[n]!r} and {a.name!r} both map to the member name "
                    f"{n!r}: rename one in the SDK"
                )
                continue
            self.owners[n] = a.name
            self.names[a.name] = n

    def claim_tool_names(self) -> None:
        """`self.tools` / `self.tool_names`: a function tool shared by agents (same schema) is
        one member; a tool on an agent's name, or two schemas on one name, is a problem."""
        for a in self.walk.agents:
            for t in a.tools:
                n = self.name(t.name, f"tool name (agent {a.name!r})")
                if n is None:
                    continue
                if n in self.owners and n not in self.tools:
                    self.fail(
                        f"the function tool {t.name!r} of agent {a.name!r} maps to the member "
                        f"name {n!r}, already taken by agent {self.owners[n]!r}: rename one"
                    )
                    continue
                if n in self.tools and self.tools[n][1].schema_ != t.schema_:
                    self.fail(
                        f"two different function tools map to the member name {n!r} "
                        f"({self.tools[n][0]} and agent {a.name!r}'s {t.name!r}): rename one"
                    )
                    continue
                self.tools.setdefault(n, (f"agent {a.name!r}'s {t.name!r}", t))
                self.owners.setdefault(n, t.name)
                self.tool_names[(a.name, t.name)] = n

    # ----------------------------------------------------------------- the workspace around

    def members_section(self) -> dict[str, Any]:
        """The `members` mapping to merge into (a new workspace is named after the package)."""
        members = self.data.setdefault("members", {})
        if not isinstance(members, dict):
            self.fail(f"{WORKSPACE_FILE}: members is not a mapping")
            self.raise_problems()
        if "team" not in self.data:
            package = self.entry.split(":")[0].split(".")[0]
            team = self.name(package, "package") or self.names[self.walk.entry]
            self.data = {"team": team, **self.data}
        return members

    def note_unreachable(self, members: dict[str, Any], imported: set[str]) -> None:
        for n, old in members.items():
            meta = old.get("metadata") if isinstance(old, dict) else None
            was = meta.get("openai_agents") if isinstance(meta, dict) else None
            if isinstance(was, dict) and not (set(map(str, was.values())) & imported):
                self.notes.append(
                    f"member {n!r} was imported from the SDK but is not reachable from "
                    f"{self.entry} any more: left as it is (remove it by hand if it is gone)"
                )

    def fill_contract_slots(self) -> None:
        """The typed handoffs' contracts (`self.slots`), and what each agent is handed
        (`self.incoming`): an agent every incoming handoff of which carries the same schema
        takes it as its input."""
        for a in self.walk.agents:
            for h in a.handoffs:
                self.incoming.setdefault(h.to, []).append(h.input)
        for a in self.walk.agents:
            src = self.names[a.name]
            for h in a.handoffs:
                if h.input is None:
                    continue
                dst = self.names[h.to]
                old = self.old_handoff(src, dst)
                self.slots[(a.name, h.to)] = self.schema_slot(
                    h.input,
                    f"contracts/{src}/handoff-{dst}.json",
                    "validation",
                    "validation",
                    old.get("contract") if old else None,
                )

    # ----------------------------------------------------------------- members

    def upsert(
        self,
        members: dict[str, Any],
        n: str,
        kind: Literal["agent", "tool"],
        source: _Agent | _Tool,
        fill: Callable[[dict[str, Any]], None],
    ) -> ImportedMember:
        """Merge one member: what agents and tools share (version, description, the
        `openai_agents` metadata, the key order, the status); `fill` sets the rest."""
        old = members.get(n)
        before = json.dumps(old, sort_keys=True)
        status: Literal["added", "updated", "unchanged"] = (
            "added" if n not in members else "updated"
        )
        spec = dict(old or {})
        if kind == "tool":
            spec["kind"] = "tool"
        spec.setdefault("version", NEW_VERSION)
        if source.description and not spec.get("description"):
            spec["description"] = source.description
        fill(spec)
        meta = dict(spec.get("metadata") or {})
        meta["openai_agents"] = (
            {"agent": source.name} if kind == "agent" else {"function_tool": source.name}
        )
        spec["metadata"] = meta
        ordered = _ordered(spec, _AGENT_ORDER if kind == "agent" else _TOOL_ORDER, old)
        members[n] = ordered
        if status == "updated" and json.dumps(ordered, sort_keys=True) == before:
            status = "unchanged"
        return ImportedMember(n, source.name, kind, status)

    def agent_member(self, members: dict[str, Any], a: _Agent) -> ImportedMember:
        n = self.names[a.name]

        def fill(spec: dict[str, Any]) -> None:
            spec["model"] = self.model(a, n)
            spec["prompt"] = self.prompt(a, n, spec.get("prompt"))
            spec["input"] = self.input(a, self.incoming.get(a.name, []), self.slots)
            self.output(a, n, spec)
            uses = self.tool_uses(a, spec.get("tools") or [])
            if uses:
                spec["tools"] = uses
            else:
                spec.pop("tools", None)

        return self.upsert(members, n, "agent", a, fill)

    def tool_member(self, members: dict[str, Any], tn: str, t: _Tool) -> ImportedMember:
        def fill(spec: dict[str, Any]) -> None:
            rel = f"contracts/tools/{tn}.json"
            self.put(rel, _json_bytes(t.schema_))
            spec["input_schema"] = rel

        return self.upsert(members, tn, "tool", t, fill)

    def output(self, a: _Agent, n: str, spec: dict[str, Any]) -> None:
        """`output` (and `structured_output`) of the agent member `n`."""
        if a.output is None:
            spec["output"] = dict(TEXT_OUTPUT)
            spec.pop("structured_output", None)
            return
        spec["output"] = self.schema_slot(
            a.output,
            f"contracts/{n}/output.json",
            "serialization",
            "serialization",
            spec.get("output"),
        )
        if a.output.strict and a.output.plain:
            spec["structured_output"] = STRICT_PROFILE
            return
        spec.pop("structured_output", None)
        why = "not strict" if not a.output.strict else "wrapped by the SDK"
        self.notes.append(
            f"agent {a.name!r}: its output type {a.output.type} is {why}: no "
            "structured_output profile declared"
        )

    def tool_uses(self, a: _Agent, old: list[Any]) -> list[Any]:
        """The agent's `tools`: one use per function tool (`call` = its schema; a `result`
        written by hand kept), in the order teamrel.yaml had them. Uses of tools the SDK does
        not own (an MCP tool added by hand) are kept; a function tool the agent no longer has
        is dropped."""
        old_uses = {
            (u.get("tool") if isinstance(u, dict) else u): u
            for u in old
            if isinstance(u, (dict, str))
        }
        sdk_uses: dict[str, dict[str, Any]] = {}
        for t in a.tools:
            tn = self.tool_names[(a.name, t.name)]
            use: dict[str, Any] = {"tool": tn, "call": f"contracts/tools/{tn}.json"}
            was = old_uses.get(tn)
            if isinstance(was, dict) and "result" in was:
                use["result"] = was["result"]
            sdk_uses[tn] = use
        uses: list[Any] = []
        for tname, u in old_uses.items():
            if tname in sdk_uses:
                uses.append(sdk_uses.pop(tname))
            elif isinstance(tname, str) and not self.sdk_tool(tname) and tname not in self.tools:
                uses.append(u)
        uses.extend(sdk_uses.values())
        return uses

    # ----------------------------------------------------------------- handoffs and the check

    def merge_handoffs(self) -> list[str]:
        """Merge every SDK handoff into `handoffs` (hand-written entries kept); the keys."""
        handoffs = self.data.get("handoffs")
        if handoffs is None:
            handoffs = []
        if not isinstance(handoffs, list):
            self.fail(f"{WORKSPACE_FILE}: handoffs is not a list")
            self.raise_problems()
        keys: list[str] = []
        for a in self.walk.agents:
            for h in a.handoffs:
                src, dst = self.names[a.name], self.names[h.to]
                keys.append(f"{src}->{dst}")
                entry = _find_handoff(handoffs, src, dst)
                if entry is None:
                    entry = {"from": src, "to": dst}
                    handoffs.append(entry)
                slot = self.slots.get((a.name, h.to))
                if slot is not None:
                    entry["contract"] = slot
                elif self.imported_contract(entry.get("contract"), src, dst):
                    # the SDK dropped the handoff's input_type; a contract written by hand stays
                    entry.pop("contract", None)
        if handoffs:
            self.data["handoffs"] = handoffs
        return keys

    def validate_merged(self) -> None:
        """The merged document must load as a `TeamFile`; raises `InputError` otherwise."""
        try:
            # the loader's default kind is agent; the discriminated union wants it spelt out
            TeamFile.model_validate(
                {
                    **self.data,
                    "members": {
                        k: {"kind": "agent", **v} if isinstance(v, dict) else v
                        for k, v in self.data["members"].items()
                    },
                }
            )
        except ValidationError as err:
            first = err.errors()[0]
            loc = "/".join(str(p) for p in first["loc"])
            raise InputError(
                f"{self.where}: the merged {WORKSPACE_FILE} would not be valid "
                f"(at {loc}: {error_text(first)}); nothing was written"
            ) from None

    def old_handoff(self, src: str, dst: str) -> dict[str, Any] | None:
        return _find_handoff(self.data.get("handoffs") or [], src, dst)

    def sdk_tool(self, name: str) -> bool:
        """Whether the tool member `name` was imported from an SDK function tool."""
        old = (self.data.get("members") or {}).get(name)
        meta = old.get("metadata") if isinstance(old, dict) else None
        return isinstance(meta, dict) and isinstance(meta.get("openai_agents"), dict)

    @staticmethod
    def imported_contract(contract: Any, src: str, dst: str) -> bool:
        default = f"contracts/{src}/handoff-{dst}.json"
        if isinstance(contract, dict):
            return "pydantic" in contract or contract.get("file") == default
        return bool(contract == default)

    def check_existing(self, names: dict[str, str], tools: dict[str, tuple[str, _Tool]]) -> None:
        members = self.data.get("members")
        if not isinstance(members, dict):
            return
        for sdk, n in names.items():
            old = members.get(n)
            if isinstance(old, dict) and old.get("kind", "agent") != "agent":
                self.fail(
                    f"agent {sdk!r} maps to {n!r}, which {WORKSPACE_FILE} already declares as a "
                    f"{old.get('kind')} member: rename one"
                )
        for n, (owner, _t) in tools.items():
            old = members.get(n)
            if isinstance(old, dict) and old.get("kind", "agent") != "tool":
                self.fail(
                    f"the function tool {owner} maps to {n!r}, which {WORKSPACE_FILE} already "
                    "declares as an agent: rename one"
                )

    def raise_problems(self) -> NoReturn:
        n = len(self.problems)
        raise SourceError(
            f"{self.where}: {n} problem{'s' if n != 1 else ''} mapping the SDK team onto "
            f"{WORKSPACE_FILE}; nothing was written",
            self.problems,
        )

    def model(self, a: _Agent, n: str) -> dict[str, Any]:
        m: dict[str, Any] = {"provider": a.model.provider, "id": a.model.id}
        if a.model.parameters:
            m["parameters"] = a.model.parameters
        if a.model.default:
            self.notes.append(
                f"agent {a.name!r} names no model: the SDK's default ({a.model.id}) was "
                "recorded; pin a dated snapshot in the SDK (teamrel refuses floating ids)"
            )
        return m

    def prompt(self, a: _Agent, n: str, old: Any) -> str:
        rel = old if isinstance(old, str) and old else f"prompts/{n}.md"
        if a.instructions.callable is not None:
            self.notes.append(
                f"agent {a.name!r}: its instructions are computed at run time by "
                f"{a.instructions.callable}; teamrel cannot read them: {rel} "
                + ("is kept as it is" if (self.root / rel).is_file() else "holds a placeholder")
            )
            if not (self.root / rel).is_file():
                self.put(
                    rel,
                    (
                        f"<!-- The instructions of {a.name} are computed at run time by "
                        f"{a.instructions.callable}. teamrel cannot read them: describe them "
                        "here, this file is what a release pins. -->\n"
                    ).encode(),
                )
            return rel
        self.put(rel, (a.instructions.text or "").encode("utf-8"))
        return rel

    def input(
        self,
        a: _Agent,
        incoming: list[_Schema | None],
        contract_slots: dict[tuple[str, str], Any],
    ) -> Any:
        if a.name == self.walk.entry or not incoming or any(i is None for i in incoming):
            return dict(CONVERSATION_INPUT)
        first = incoming[0]
        assert first is not None
        if any(i is not None and i.schema_ != first.schema_ for i in incoming):
            return dict(CONVERSATION_INPUT)
        for (_src, dst), slot in contract_slots.items():
            if dst == a.name:
                return json.loads(json.dumps(slot))
        return dict(CONVERSATION_INPUT)


_AGENT_ORDER = (
    "kind",
    "version",
    "description",
    "model",
    "prompt",
    "input",
    "output",
    "structured_output",
    "tools",
    "evals",
    "metadata",
    "external",
    "origin",
)
_TOOL_ORDER = (
    "kind",
    "version",
    "description",
    "input_schema",
    "output_schema",
    "metadata",
    "external",
    "origin",
)


def _find_handoff(handoffs: list[Any], src: str, dst: str) -> dict[str, Any] | None:
    for e in handoffs:
        if isinstance(e, dict) and e.get("from") == src and e.get("to") == dst:
            return e
    return None


def _inside(root: Path, rel: str) -> bool:
    """`rel` is a relative path that stays in the workspace, symlinks resolved."""
    if not rel or "\\" in rel or rel.startswith(("/", "~")) or ":" in rel:
        return False
    if ".." in Path(rel).parts:
        return False
    base = root.resolve()
    return (base / rel).resolve().is_relative_to(base)


def _ordered(spec: dict[str, Any], order: Sequence[str], old: Any) -> dict[str, Any]:
    # an existing member keeps its keys' order (the diff shows only what changed)
    first = list(old) if isinstance(old, dict) else order
    out = {k: spec[k] for k in first if k in spec}
    out.update({k: v for k, v in spec.items() if k not in out})
    return out
