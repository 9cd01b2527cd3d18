"""`teamrel import a2a` and `teamrel export a2a`: an AgentCard as a team member, and back.

Owns the mapping between a card and a member of `teamrel.yaml` (docs/sources.md, "A2A agent
cards"):
- import (`plan_import`, then `apply_import`): one **agent** member per card, `external: true`
  (an A2A agent is deployed by whoever publishes the card) with `origin: {a2a: {card | url,
  skill?}}` for `teamrel drift`; `modes: {input, output}` from the card's media types;
  `metadata.a2a` keeping the card's name, URL and skills; the teamrel extension's per-skill
  schemas written under `contracts/a2a/<member>/`, the member's `input`/`output` pointing at
  them (several skills: an `anyOf` of the skills' schemas); a skill without schemas leaves
  its side `true` (the card promises nothing). A card publishes no model or prompt, so the
  member's model is `{provider: a2a, id: "<member>@<card version>"}` and its prompt file
  `prompts/a2a/<member>.md` holds the card's description and skills: a changed card shows
  as a changed member. Everything is computed and validated first; the caller shows the
  diff, and `apply_import` writes each file atomically, teamrel.yaml last.
- export (`export_card`): a member as a v1.0 card carrying the teamrel extension, its schemas
  made self-contained (cross-file `$ref`s bundled under `$defs`).
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from teamrel.canonical import JSON, JsonObject
from teamrel.contracts import SchemaLoader, dialect_of, resolve_path
from teamrel.errors import InputError, NotFoundError, SchemaError, UsageError
from teamrel.fileio import atomic_write, escapes
from teamrel.models import NAME_RE, SEMVER_RE, AgentSpec, SchemaDoc
from teamrel.sources.a2a import (
    CardError,
    CardInterface,
    SkillInterface,
    build_card,
    check_skill_id,
    with_dialect,
)
from teamrel.sources.pydantic_gen import DIALECT_2020_12
from teamrel.workspace import Workspace
from teamrel.yamlsrc import YamlError, parse_yaml, read_yaml_text

WORKSPACE_FILE = "teamrel.yaml"
#: Version of the `teamrel import a2a --format json` document.
IMPORT_FORMAT_VERSION = 1
#: Where imported cards' schemas go, one directory per member.
CONTRACTS_DIR = "contracts/a2a"
PROMPTS_DIR = "prompts/a2a"
#: Where a card given from outside the workspace is copied, so `origin.card` can name it.
CARDS_DIR = "cards/a2a"

FileStatus = Literal["new", "changed", "unchanged"]


@dataclass(frozen=True)
class PlannedFile:
    """One file an import writes (or would write)."""

    path: str
    data: bytes
    status: FileStatus

    def to_json(self) -> JsonObject:
        """Stable JSON form."""
        return {"path": self.path, "status": self.status}


@dataclass
class ImportPlan:
    """Everything an import would change, computed and validated before anything is written."""

    root: Path
    member: str
    card: CardInterface
    skill: str | None
    files: list[PlannedFile]
    #: unified diff of teamrel.yaml ("" when unchanged; the whole file when new)
    diff: str
    new_workspace: bool
    notes: list[str] = field(default_factory=list)
    applied: bool = False
    #: teamrel.yaml as the plan read it ("" for a new workspace): `apply_import` refuses to
    #: write over a file edited since
    yaml_before: str = field(default="", repr=False)

    @property
    def changes(self) -> list[PlannedFile]:
        """The files that are new or differ from what is on disk."""
        return [f for f in self.files if f.status != "unchanged"]

    def to_json(self) -> JsonObject:
        """The `teamrel import a2a --format json` document."""
        return {
            "format_version": IMPORT_FORMAT_VERSION,
            "member": self.member,
            "skill": self.skill,
            "card": self.card.to_json(),
            "new_workspace": self.new_workspace,
            "applied": self.applied,
            "files": [f.to_json() for f in self.files],
            "diff": self.diff,
            "notes": self.notes,
        }


def member_name(card: CardInterface, wanted: str | None) -> str:
    """`wanted`, or a name derived from the card's name (lower-case, `-` for the rest)."""
    name = wanted
    if name is None:
        name = re.sub(r"[^a-z0-9_.-]+", "-", card.name.lower()).strip("-._") or "agent"
        name = name[:100].rstrip("-._")
    if not NAME_RE.match(name):
        raise UsageError(
            f"member name {name!r} is not allowed: letters, digits, '.', '_' and '-', "
            "starting with a letter or digit"
        )
    return name


def member_version(card: CardInterface) -> str:
    """The card's version as semver (`1` and `1.2` are padded; anything else is refused)."""
    v = card.version.strip()
    if SEMVER_RE.match(v):
        return v
    m = re.match(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?\Z", v)
    if m:
        return f"{m.group(1)}.{m.group(2) or 0}.0"
    raise CardError(card.source, f"version {card.version!r} is not a semantic version (e.g. 1.4.0)")


def _json_bytes(doc: JSON) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _side(
    files: dict[str, bytes],
    member: str,
    skills: list[SkillInterface],
    key: Literal["input_schema", "output_schema"],
) -> tuple[str | bool, dict[str, str]]:
    """The member slot for one side and each skill's file: the skill's own file, an `anyOf`
    of several, or `true` when some skill declares no schema for this side."""
    side = "input" if key == "input_schema" else "output"
    per_skill: dict[str, str] = {}
    for s in skills:
        schema = getattr(s, key)
        if schema is None:
            continue
        rel = f"{CONTRACTS_DIR}/{member}/{s.id}.{side}.json"
        files[rel] = _json_bytes(with_dialect(schema))
        per_skill[s.id] = rel
    if not skills or len(per_skill) < len(skills):
        return True, per_skill
    if len(skills) == 1:
        return per_skill[skills[0].id], per_skill
    rel = f"{CONTRACTS_DIR}/{member}/{side}.json"
    union = {
        "$schema": DIALECT_2020_12,
        "description": f"{side} of any skill of A2A agent {member}",
        "anyOf": [{"$ref": f"{s.id}.{side}.json"} for s in skills],
    }
    files[rel] = _json_bytes(union)
    return rel, per_skill


def _prompt_text(card: CardInterface, skills: list[SkillInterface]) -> str:
    lines = [f"# {card.name} (A2A agent, card version {card.version})", "", card.description, ""]
    for s in skills:
        lines.append(f"## skill {s.id}: {s.name}")
        lines.append("")
        lines.append(s.description)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def plan_import(
    root: Path,
    card: CardInterface,
    *,
    card_file: Path | None = None,
    url: str | None = None,
    member: str | None = None,
    skill: str | None = None,
    team: str | None = None,
) -> ImportPlan:
    """What importing `card` into the workspace at `root` would write (nothing is written).

    `card_file`: the card's path (recorded as `origin.a2a.card`: workspace-relative, or a copy
    under `cards/a2a/` when it lies outside); `url`: recorded as `origin.a2a.url` instead.
    `skill`: import one skill only. `team`: the team name of a new workspace.
    """
    name = member_name(card, member)
    version = member_version(card)
    skills = [card.skill(skill)] if skill is not None else list(card.skills)
    for s in skills:
        check_skill_id(s.id, card.source)
    files: dict[str, bytes] = {}
    in_slot, in_files = _side(files, name, skills, "input_schema")
    out_slot, out_files = _side(files, name, skills, "output_schema")
    notes = _notes(card, skills)
    prompt_rel = f"{PROMPTS_DIR}/{name}.md"
    files[prompt_rel] = _prompt_text(card, skills).encode("utf-8")
    origin = _origin(root, name, files, card_file=card_file, url=url, skill=skill)
    modes_in, modes_out = card.modes(skill)
    spec: dict[str, Any] = {
        "version": version,
        "description": card.description,
        "external": True,
        "origin": {"a2a": origin},
        "model": {"provider": "a2a", "id": f"{name}@{version}"},
        "prompt": prompt_rel,
        "input": in_slot,
        "output": out_slot,
        "modes": {"input": modes_in, "output": modes_out},
        "metadata": {"a2a": _a2a_metadata(card, skills, in_files, out_files)},
    }
    try:
        AgentSpec.model_validate(spec)
    except ValueError as err:
        raise CardError(card.source, f"does not map to a valid member: {err}") from None
    _check_written_schemas(files, card.source)
    old_text, new_text, new_workspace = _edit_workspace(root, name, spec, team)
    planned = [_planned(root, rel, data) for rel, data in sorted(files.items())]
    planned.append(_planned(root, WORKSPACE_FILE, new_text.encode("utf-8")))
    return ImportPlan(
        root=root,
        member=name,
        card=card,
        skill=skill,
        files=planned,
        diff=_workspace_diff(old_text, new_text, new_workspace=new_workspace),
        new_workspace=new_workspace,
        notes=notes,
        yaml_before=old_text,
    )


def _edit_workspace(
    root: Path, name: str, spec: Mapping[str, Any], team: str | None
) -> tuple[str, str, bool]:
    """teamrel.yaml before and after placing member `name` (the edit checked), and whether
    the workspace is new (`team`: its team name, else one derived from the directory)."""
    ws_path = root / WORKSPACE_FILE
    new_workspace = not ws_path.is_file()
    old_text = "" if new_workspace else read_yaml_text(ws_path, WORKSPACE_FILE)
    new_text = _upsert_member(old_text, name, spec, team or _team_name(root, name))
    _check_placed(new_text, name, spec)
    return old_text, new_text, new_workspace


def _notes(card: CardInterface, skills: list[SkillInterface]) -> list[str]:
    """What the import cannot carry over: no extension at all, or skills without schemas."""
    if not card.extension:
        return [
            "the card carries no teamrel extension: no schemas, input and output are `true` "
            "(its output proves compatible with no closed consumer)"
        ]
    notes: list[str] = []
    for s in skills:
        missing = [k for k in ("input_schema", "output_schema") if getattr(s, k) is None]
        if missing:
            notes.append(f"skill {s.id!r} declares no {' or '.join(missing)}")
    return notes


def _origin(
    root: Path,
    member: str,
    files: dict[str, bytes],
    *,
    card_file: Path | None,
    url: str | None,
    skill: str | None,
) -> dict[str, Any]:
    """The member's `origin.a2a`: the card's URL or workspace path, and the skill imported."""
    origin: dict[str, Any]
    if url is not None:
        origin = {"url": url}
    else:
        assert card_file is not None
        origin = {"card": _card_origin(root, card_file, member, files)}
    if skill is not None:
        origin["skill"] = skill
    return origin


def _a2a_metadata(
    card: CardInterface,
    skills: list[SkillInterface],
    in_files: Mapping[str, str],
    out_files: Mapping[str, str],
) -> dict[str, Any]:
    """The member's `metadata.a2a`: the card's name, protocol and URL, and each skill with
    its media types and schema files (what `export_card` publishes again)."""
    skill_meta: list[dict[str, Any]] = []
    for s in skills:
        entry: dict[str, Any] = {"id": s.id, "name": s.name}
        if s.tags:
            entry["tags"] = list(s.tags)
        entry["input_modes"] = list(s.input_modes)
        entry["output_modes"] = list(s.output_modes)
        if s.id in in_files:
            entry["input_schema"] = in_files[s.id]
        if s.id in out_files:
            entry["output_schema"] = out_files[s.id]
        skill_meta.append(entry)
    a2a_meta: dict[str, Any] = {"card": card.name, "protocol": card.shape}
    if card.url:
        a2a_meta["url"] = card.url
    a2a_meta["skills"] = skill_meta
    return a2a_meta


def _workspace_diff(old_text: str, new_text: str, *, new_workspace: bool) -> str:
    """The unified diff of teamrel.yaml (from /dev/null for a new workspace)."""
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{WORKSPACE_FILE}" if not new_workspace else "/dev/null",
            tofile=f"b/{WORKSPACE_FILE}",
        )
    )


def _check_placed(text: str, name: str, spec: Mapping[str, Any]) -> None:
    """The edited teamrel.yaml parses and holds exactly `spec` under `members.<name>` (the
    edit is textual, to keep the file's comments: verified before anything is written)."""
    try:
        data = parse_yaml(text, WORKSPACE_FILE).data
    except YamlError:
        data = None
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(members, dict) or members.get(name) != json.loads(json.dumps(spec)):
        raise InputError(
            f"{WORKSPACE_FILE}: cannot place member {name!r} in this file's layout; "
            "nothing was written",
            hint="add the member by hand, or move `members:` to a block mapping",
        )


def _team_name(root: Path, member: str) -> str:
    guess = re.sub(r"[^A-Za-z0-9_.-]+", "-", root.name).strip("-._")
    return guess if NAME_RE.match(guess) else member


def _card_origin(root: Path, card_file: Path, member: str, files: dict[str, bytes]) -> str:
    """The workspace-relative card path `origin.a2a.card` records (copying a card that lies
    outside the workspace to `cards/a2a/<member>.json`)."""
    try:
        rel = card_file.resolve().relative_to(root.resolve()).as_posix()
        return resolve_path(root, rel, what="card")
    except (ValueError, InputError):
        rel = f"{CARDS_DIR}/{member}.json"
        files[rel] = card_file.read_bytes()
        return rel


def _check_written_schemas(files: Mapping[str, bytes], card: str) -> None:
    """The schema files about to be written load as teamrel contracts (their `$ref`s included),
    checked in memory before anything is written."""
    loader = SchemaLoader(Path("."))
    for rel, data in files.items():
        if not rel.endswith(".json") or not rel.startswith(CONTRACTS_DIR):
            continue
        schema = json.loads(data)
        if (
            isinstance(schema, dict)
            and "anyOf" in schema
            and all(isinstance(x, dict) and set(x) == {"$ref"} for x in schema["anyOf"])
        ):
            continue  # the union of the skills' files, each checked on its own
        _, diags = loader.inline(schema, rel, file=card)
        if diags:
            raise CardError(card, f"schema for {rel} is not usable: {diags[0].message}", diags)


def _planned(root: Path, rel: str, data: bytes) -> PlannedFile:
    path = root / rel
    try:
        status: FileStatus = "unchanged" if path.read_bytes() == data else "changed"
    except FileNotFoundError:
        status = "new"
    except OSError as err:
        raise InputError(f"{rel}: {err.strerror or err}") from None
    return PlannedFile(rel, data, status)


def apply_import(plan: ImportPlan) -> None:
    """Write the plan's changed files, each atomically, teamrel.yaml last (so a failure part
    way leaves the workspace file as it was). Refuses (`InputError`, nothing written) when
    teamrel.yaml changed since the plan read it, or appeared where there was none."""
    ws = plan.root / WORKSPACE_FILE
    now = read_yaml_text(ws, WORKSPACE_FILE) if ws.is_file() else None
    if now != (None if plan.new_workspace else plan.yaml_before):
        raise InputError(
            f"{WORKSPACE_FILE} changed while the import was being prepared; nothing written",
            hint="run the import again",
        )
    for f in plan.changes:
        if escapes(plan.root, f.path):
            raise InputError(f"{f.path}: resolves outside the workspace (symlink?)")
    ordered = sorted(plan.changes, key=lambda f: f.path == WORKSPACE_FILE)
    for f in ordered:
        atomic_write(plan.root / f.path, f.data)
    plan.applied = True


# --------------------------------------------------------------------------- teamrel.yaml


def _dump_block(name: str, spec: Mapping[str, Any], indent: int) -> str:
    text = yaml.safe_dump(
        {name: dict(spec)}, sort_keys=False, default_flow_style=None, allow_unicode=True, width=100
    )
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _upsert_member(text: str, name: str, spec: Mapping[str, Any], team: str) -> str:
    """teamrel.yaml with member `name` added or replaced, the rest of the file (comments
    included) kept as it is; a new file when `text` is empty."""
    if not text.strip():
        head = yaml.safe_dump({"team": team}, sort_keys=False)
        return head + "members:\n" + _dump_block(name, spec, 2)
    try:
        doc = parse_yaml(text, WORKSPACE_FILE)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (YamlError, yaml.YAMLError) as err:
        raise InputError(f"{WORKSPACE_FILE} does not parse: {err}") from None
    _check_replaceable(doc.data, name)
    members_node = None
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "members":
                members_node = (k, v)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if members_node is None:
        return _start_members(lines, None, name, spec)
    mkey, mval = members_node
    if isinstance(mval, yaml.ScalarNode) and mval.value in ("", "~", "null"):
        return _start_members(lines, mkey, name, spec)
    return _place_in_members(lines, mkey, mval, name, spec)


def _check_replaceable(data: Any, name: str) -> None:
    """Refuse (`UsageError`) to replace an existing member that no A2A import made."""
    existing = data.get("members") if isinstance(data, dict) else None
    if isinstance(existing, dict) and name in existing:
        origin = existing[name].get("origin") if isinstance(existing[name], dict) else None
        if not (isinstance(origin, dict) and "a2a" in origin):
            raise UsageError(
                f"member {name!r} already exists and was not imported from an A2A card",
                hint="import under another name: --member NAME",
            )


def _start_members(
    lines: list[str], key: yaml.Node | None, name: str, spec: Mapping[str, Any]
) -> str:
    """The file with a members section holding just `name`: appended, or filling the empty
    one whose key is `key`."""
    if key is not None:
        lines[key.start_mark.line] = "members:\n"
        insert_at = key.start_mark.line + 1
    else:
        lines.append("members:\n")
        insert_at = len(lines)
    lines[insert_at:insert_at] = [_dump_block(name, spec, 2)]
    return "".join(lines)


def _place_in_members(
    lines: list[str], mkey: yaml.Node, mval: yaml.Node, name: str, spec: Mapping[str, Any]
) -> str:
    """The file with `name` replacing its entry in the block mapping `mval`, or appended
    after its last entry, at the entries' indentation."""
    if not isinstance(mval, yaml.MappingNode) or mval.flow_style:
        raise InputError(
            f"{WORKSPACE_FILE}: 'members' is not a block mapping; write it as one to import into it"
        )
    entries = mval.value
    indent = entries[0][0].start_mark.column if entries else 2
    for i, (k, _v) in enumerate(entries):
        if isinstance(k, yaml.ScalarNode) and k.value == name:
            start = k.start_mark.line
            end = _entry_end(entries, i, mval, lines)
            lines[start:end] = [_dump_block(name, spec, indent)]
            return "".join(lines)
    if entries:
        end = _entry_end(entries, len(entries) - 1, mval, lines)
    else:
        end = mkey.start_mark.line + 1
    lines[end:end] = [_dump_block(name, spec, indent)]
    return "".join(lines)


def _entry_end(entries: list[Any], i: int, mval: Any, lines: list[str]) -> int:
    """The line index just after entry `i` of a block mapping (trailing blank or comment lines
    that precede the next entry stay with the next one)."""
    end: int
    if i + 1 < len(entries):
        end = entries[i + 1][0].start_mark.line
    else:
        end = mval.end_mark.line if mval.end_mark.column == 0 else mval.end_mark.line + 1
        end = min(end, len(lines))
    while end > entries[i][0].start_mark.line + 1 and (
        not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
    ):
        end -= 1
    return end


# --------------------------------------------------------------------------- export


def export_card(ws: Workspace, member: str, *, url_base: str | None = None) -> dict[str, JSON]:
    """Member `member` of `ws` as a v1.0 AgentCard carrying the teamrel extension.

    Skills: those recorded by an import (`metadata.a2a.skills`, with their schema files), else
    one skill named after the member with its `input`/`output`. Media types: the member's
    `modes`, else `application/json`. URL: `url_base` + `/<member>`, else the card URL an
    import recorded, else `http://localhost/<member>`.
    """
    m = ws.members.get(member)
    if m is None:
        raise NotFoundError(
            f"no member named {member!r} in team {ws.team.team}",
            hint=f"members: {', '.join(ws.members)}",
        )
    if m.kind != "agent":
        raise UsageError(f"member {member!r} is a tool: only agents are published as A2A cards")
    spec = m.spec
    meta = spec.get("metadata")
    a2a_meta = meta.get("a2a") if isinstance(meta, dict) else None
    a2a_meta = a2a_meta if isinstance(a2a_meta, dict) else {}
    modes = spec.get("modes") if isinstance(spec.get("modes"), dict) else {}
    assert isinstance(modes, dict)
    input_modes = list(modes.get("input") or ["application/json"])
    output_modes = list(modes.get("output") or ["application/json"])
    recorded = a2a_meta.get("skills")
    if isinstance(recorded, list) and recorded:
        skills, schemas = _recorded_skills(SchemaLoader(ws.root), member, recorded)
    else:
        skills, schemas = _member_skill(member, spec)
    if url_base is not None:
        url = url_base.rstrip("/") + f"/{member}"
    else:
        url = str(a2a_meta.get("url") or f"http://localhost/{member}")
    description = spec.get("description")
    return build_card(
        name=str(a2a_meta.get("card") or member),
        description=str(description) if description else f"teamrel member {member}",
        version=m.version,
        url=url,
        input_modes=input_modes,
        output_modes=output_modes,
        skills=skills,
        schemas=schemas,
    )


def _recorded_skills(
    loader: SchemaLoader, member: str, recorded: list[Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, JSON]]]:
    """The skills an import recorded in `metadata.a2a.skills`, and each one's schemas read
    from the files it names, bundled."""
    skills: list[dict[str, Any]] = []
    schemas: dict[str, dict[str, JSON]] = {}
    for entry in recorded:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            raise InputError(f"member {member!r}: metadata.a2a.skills holds a malformed entry")
        skills.append(entry)
        got: dict[str, JSON] = {}
        for key in ("input_schema", "output_schema"):
            rel = entry.get(key)
            if isinstance(rel, str):
                got[key] = bundle(loader.load(rel))
        schemas[entry["id"]] = got
    return skills, schemas


def _member_skill(
    member: str, spec: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, dict[str, JSON]]]:
    """One skill named after the member, with the member's resolved `input`/`output`."""
    description = spec.get("description") or member
    got: dict[str, JSON] = {}
    for key, slot in (("input_schema", "input"), ("output_schema", "output")):
        doc = spec.get(slot)
        if isinstance(doc, dict):
            got[key] = bundle(SchemaDoc.model_validate(doc))
    return [{"id": member, "name": member, "description": description}], {member: got}


def bundle(doc: SchemaDoc) -> JSON:
    """One self-contained schema for `doc`: every file it `$ref`s moved under
    `$defs/teamrel.bundle.<n>` and the `$ref`s rewritten to point there (a card carries no
    files). The dialect is written explicitly."""
    schema = doc.schema_
    if not doc.resources:
        return with_dialect(schema)
    if not isinstance(schema, dict):
        return schema
    main_dialect = dialect_of(schema)
    keys = {uri: f"teamrel.bundle.{i}" for i, uri in enumerate(sorted(doc.resources))}
    for uri, res in doc.resources.items():
        if dialect_of(res) != main_dialect:
            raise SchemaError(
                f"{uri.removeprefix('file:///')} is written in another dialect than "
                f"{doc.uri.removeprefix('file:///')}: it cannot be bundled into one card schema",
                uri=uri,
            )
    main = _rewrite_refs(schema, doc.uri, doc.uri, keys)
    if main_dialect in ("draft4", "draft6", "draft7"):
        raise SchemaError(
            f"{doc.uri.removeprefix('file:///')}: only 2019-09 and 2020-12 schemas with "
            "cross-file $refs can be bundled into a card",
            uri=doc.uri,
        )
    defs = dict(main.get("$defs") or {})
    for uri, res in doc.resources.items():
        body = _rewrite_refs(res, uri, doc.uri, keys)
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "$schema"}
        defs[keys[uri]] = body
    main["$defs"] = defs
    return with_dialect(main)


def _rewrite_refs(node: Any, base_uri: str, main_uri: str, keys: Mapping[str, str]) -> Any:
    """`node` (a schema read from `base_uri`) with each `$ref`/`$dynamicRef` pointing into the
    bundle: `main_uri`'s own root, or the `$defs` entry `keys` gives each other file."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k in ("$ref", "$dynamicRef") and isinstance(v, str):
                out[k] = _bundled_ref(base_uri, v, main_uri, keys)
            else:
                out[k] = _rewrite_refs(v, base_uri, main_uri, keys)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, base_uri, main_uri, keys) for v in node]
    return node


def _bundled_ref(base_uri: str, ref: str, main_uri: str, keys: Mapping[str, str]) -> str:
    """Where `ref` (written in the file at `base_uri`) points once bundled."""
    path, _, frag = ref.partition("#")
    if path:
        base_dir = posixpath.dirname(base_uri.removeprefix("file:///"))
        full = "file:///" + posixpath.normpath(posixpath.join(base_dir, path))
    else:
        full = base_uri
    if frag and not frag.startswith("/"):
        raise SchemaError(
            f"$ref {ref!r} uses an anchor across files: it cannot be bundled into one card schema",
            uri=base_uri,
        )
    if full == main_uri:
        return "#" + frag
    return f"#/$defs/{keys[full]}{frag}"
