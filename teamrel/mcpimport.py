"""`teamrel import mcp`: tool members from a live MCP server's `tools/list`, and their drift.

Owns the mapping from an MCP server to the workspace (docs/sources.md, "MCP"):

- each listed tool becomes (or updates) the tool member of the same name: `input_schema`
  from its `inputSchema`, `output_schema` from its `outputSchema` where the server declares
  one, written to `contracts/tools/<tool>_input.json` / `_output.json` (or to the files the
  member already names) with `$schema` 2020-12 added when the server sends none, and
  `origin: {mcp: {command | url, tool}}` recorded (`external: true` only when asked);
- `plan_import` computes every file change and the edited teamrel.yaml (comments kept,
  `teamrel.yamledit`) without writing; `apply_import` writes them (contract files first,
  each atomically, teamrel.yaml last, refusing if it changed in between). Everything is
  validated before anything is written: tool names (a name is a member name and a file
  name, so `../x` is refused), each schema (well-formed, no `$ref` outside the document),
  the edited members;
- `check_drift` compares the live server with the pinned members of that server, tool by
  tool, with the compat engine: callers send what the pinned `input_schema` allows, so it
  must be contained in the live `inputSchema`; consumers read what the pinned
  `output_schema` promises, so the live `outputSchema` must be contained in it. A tool gone
  from the server breaks its callers; a new one is reported only.
"""

from __future__ import annotations

import difflib
import json
import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from teamrel import compat
from teamrel.canonical import JSON, JsonObject
from teamrel.contracts import MAX_SCHEMA_BYTES, SchemaLoader, missing_file, resolve_path
from teamrel.errors import InputError, SchemaError, UsageError
from teamrel.fileio import atomic_write, escapes
from teamrel.models import (
    NAME_RE,
    McpOrigin,
    MemberSpec,
    ResolvedMember,
    SchemaDoc,
    ToolSpec,
    error_text,
    is_generated_source,
)
from teamrel.sources.mcp import DEFAULT_TIMEOUT_S, LiveTool, McpSourceError, describe, list_tools
from teamrel.yamledit import REMOVE, add_member, set_member_keys
from teamrel.yamlsrc import YamlError, parse_yaml, read_yaml_text

WORKSPACE_FILE = "teamrel.yaml"
#: Version of the `teamrel import mcp [--check] --format json` documents.
IMPORT_FORMAT_VERSION = 1
#: Where the schemas of new tool members are written.
TOOLS_DIR = "contracts/tools"
#: The dialect written into a schema the server sends without `$schema` (MCP's default
#: since protocol 2025-11-25).
DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
#: Version given to a tool member an import creates.
NEW_MEMBER_VERSION = "1.0.0"

FileStatus = Literal["new", "changed", "unchanged"]
ToolAction = Literal["add", "update", "unchanged"]
#: unchanged: the live schemas allow exactly the pinned values; compatible: they changed
#: without breaking anyone (a widened input, a narrowed output)
DriftStatus = Literal["unchanged", "compatible", "breaking", "unknown", "new", "removed"]


def make_origin(*, command: str | None, url: str | None, tool: str = "*") -> McpOrigin:
    """The `McpOrigin` of `--command` / `--url` (exactly one), or `UsageError`."""
    if (command is None) == (url is None):
        raise UsageError("give exactly one of --command (stdio) or --url (streamable HTTP)")
    if command is not None and not command.strip():
        raise UsageError("--command is empty")
    if url is not None and not url.startswith(("http://", "https://")):
        raise UsageError(f"--url {url!r} is not an http:// or https:// URL")
    return McpOrigin(command=command, url=url, tool=tool)


def _transport(origin: McpOrigin) -> dict[str, str]:
    return {"command": origin.command} if origin.command is not None else {"url": origin.url or ""}


def _same_server(raw: Any, origin: McpOrigin) -> str | None:
    """The tool name when a member's raw `origin` names this server, else None."""
    if not isinstance(raw, dict) or not isinstance(raw.get("mcp"), dict):
        return None
    mcp = raw["mcp"]
    if origin.command is not None and mcp.get("command") != origin.command:
        return None
    if origin.url is not None and mcp.get("url") != origin.url:
        return None
    tool = mcp.get("tool")
    return tool if isinstance(tool, str) else None


def schema_text(schema: JsonObject) -> str:
    """The committed form of a live schema: `$schema` first (2020-12 when absent), 2-space JSON."""
    doc = {"$schema": schema.get("$schema", DIALECT_2020_12)}
    doc.update((k, v) for k, v in schema.items() if k != "$schema")
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------- import


@dataclass(frozen=True)
class FileChange:
    """One file an import writes (or would write), with its old and new text."""

    path: str
    status: FileStatus
    before: str | None
    after: str

    def diff(self) -> str:
        """A unified diff of the change ('' when unchanged)."""
        if self.status == "unchanged":
            return ""
        return "".join(
            difflib.unified_diff(
                (self.before or "").splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"a/{self.path}" if self.before is not None else "/dev/null",
                tofile=f"b/{self.path}",
            )
        )


@dataclass(frozen=True)
class ToolImport:
    """What an import does for one live tool."""

    tool: str
    member: str
    action: ToolAction
    input_file: str
    output_file: str | None


@dataclass
class ImportPlan:
    """Everything `teamrel import mcp` would write, computed and validated, nothing written."""

    server: str
    origin: McpOrigin
    tools: list[ToolImport]
    #: contract files, then teamrel.yaml (when it changes)
    files: list[FileChange]
    #: members whose tool this server no longer lists (kept; reported)
    gone: list[tuple[str, str]] = field(default_factory=list)
    #: the exact teamrel.yaml text the plan was made from (apply refuses if it changed)
    yaml_before: str = ""

    @property
    def changes(self) -> list[FileChange]:
        """The files that would be created or changed."""
        return [f for f in self.files if f.status != "unchanged"]

    @property
    def changes_workspace_file(self) -> bool:
        """Whether teamrel.yaml itself would change."""
        return any(f.path == WORKSPACE_FILE for f in self.changes)

    def to_json(self, *, applied: bool) -> JsonObject:
        """The versioned `teamrel import mcp --format json` document."""
        return {
            "format_version": IMPORT_FORMAT_VERSION,
            "server": _transport(self.origin),
            "applied": applied,
            "changed": bool(self.changes),
            "tools": [
                {
                    "tool": t.tool,
                    "member": t.member,
                    "action": t.action,
                    "input_schema": t.input_file,
                    "output_schema": t.output_file,
                }
                for t in self.tools
            ],
            "files": [
                {"path": f.path, "status": f.status, "diff": f.diff() if f.before else None}
                for f in self.files
            ],
            "gone": [{"member": m, "tool": t} for m, t in self.gone],
        }


def _read_workspace_text(root: Path) -> str:
    return read_yaml_text(root / WORKSPACE_FILE, WORKSPACE_FILE)


def _members_of(text: str) -> dict[str, Any]:
    try:
        doc = parse_yaml(text, WORKSPACE_FILE)
    except YamlError as err:
        raise InputError(err.message) from None
    errors = [d for d in doc.diagnostics if d.severity == "error"]
    if errors:
        raise InputError(f"{WORKSPACE_FILE} does not parse: {errors[0]}")
    data = doc.data if isinstance(doc.data, dict) else {}
    members = data.get("members")
    if members is None:
        return {}
    if not isinstance(members, dict):
        raise InputError(f"{WORKSPACE_FILE}: members is not a mapping")
    return members


def _slot_file(root: Path, current: Any, default: str, what: str) -> str:
    """The file a slot's schema goes to: the file it names already, else `default`."""
    if is_generated_source(current):
        raise InputError(
            f"{what} is generated from the Pydantic model {current.get('pydantic')!r}; "
            "it cannot also come from an MCP server"
        )
    if isinstance(current, str):
        try:
            return resolve_path(root, current, what="schema path")
        except InputError as err:
            if not missing_file(err.message):
                raise InputError(f"{what}: {err.message}") from None
            # a file not there yet is fine (the import creates it)
            return posixpath.normpath(current.replace("\\", "/"))
    return default


def _checked_schema(
    loader: SchemaLoader, server: str, tool: str, which: str, schema: dict[str, Any]
) -> dict[str, Any]:
    """The schema as it will be committed, refused (`McpSourceError`) unless usable."""
    try:
        text = schema_text(schema)
        committed: dict[str, Any] = json.loads(text)
    except (RecursionError, ValueError):
        raise McpSourceError(
            server, f"tool {tool!r}: its {which} schema is nested too deeply to be read"
        ) from None
    if len(text.encode("utf-8")) > MAX_SCHEMA_BYTES:
        raise McpSourceError(
            server,
            f"tool {tool!r}: its {which} schema is larger than {MAX_SCHEMA_BYTES} bytes "
            "(the limit of a schema file)",
        )
    _, problems = loader.inline(committed, f"mcp:{tool}:{which}", file=f"{tool} {which}")
    if problems:
        first = problems[0]
        where = f" at #{first.pointer}" if first.pointer else ""
        raise McpSourceError(
            server, f"tool {tool!r}: its {which} schema is not usable{where}: {first.message}"
        )
    return committed


def _check_name(server: str, name: str) -> None:
    if not NAME_RE.match(name):
        raise McpSourceError(
            server,
            f"tool name {name!r} cannot be a member or file name (letters, digits, '_', "
            "'.', '-'; starting with a letter or digit; at most 128 characters)",
            hint="import the other tools by name with --tool NAME",
        )


def _select(server: str, live: list[LiveTool], only: Collection[str]) -> list[LiveTool]:
    if not only:
        return live
    names = {t.name for t in live}
    unknown = sorted(set(only) - names)
    if unknown:
        raise McpSourceError(server, f"lists no tool named {', '.join(map(repr, unknown))}")
    return [t for t in live if t.name in only]


def plan_import(
    root: Path,
    origin: McpOrigin,
    *,
    only: Collection[str] = (),
    external: bool = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    live: list[LiveTool] | None = None,
) -> ImportPlan:
    """Read the server and compute (and validate) every change an import makes; write nothing.

    `only`: import just these tools. `live`: the listing, when already read. Raises
    `McpSourceError` (naming the server) for a server that cannot be read or lists a tool
    whose name or schema is unusable, `InputError` for a workspace that cannot take it.
    """
    server = describe(origin)
    text = _read_workspace_text(root)
    members = _members_of(text)
    tools = _select(
        server, live if live is not None else list_tools(origin, timeout=timeout, cwd=root), only
    )
    for t in tools:
        _check_name(server, t.name)
    loader = SchemaLoader(root)
    by_tool = _members_by_tool(members, origin)
    contracts: dict[str, str] = {}
    imports: list[ToolImport] = []
    new_text = text
    for t in tools:
        member = by_tool.get(t.name, t.name)
        raw = members.get(member)
        _check_adoptable(server, origin, t.name, member, raw)
        current = raw if isinstance(raw, dict) else {}
        in_file, out_file = _place_schemas(root, loader, server, t, current, member, contracts)
        origin_value = {"mcp": {**_transport(origin), "tool": t.name}}
        if raw is None:
            spec = _new_spec(t, in_file, out_file, origin_value, external=external)
            _validate_spec(server, member, spec)
            new_text = add_member(new_text, member, spec)
            imports.append(ToolImport(t.name, member, "add", in_file, out_file))
            continue
        updates = _updates(current, in_file, out_file, origin_value, external=external)
        if updates:
            merged = {k: v for k, v in {**current, **updates}.items() if v is not REMOVE}
            _validate_spec(server, member, merged)
            new_text = set_member_keys(new_text, member, updates)
        imports.append(ToolImport(t.name, member, "update", in_file, out_file))
    gone = sorted(
        (m, tool) for tool, m in by_tool.items() if tool not in {t.name for t in tools} and not only
    )
    files = _file_changes(root, contracts, text, new_text)
    imports = _settle_actions(imports, files, text, new_text)
    return ImportPlan(server, origin, imports, files, gone, yaml_before=text)


def _members_by_tool(members: dict[str, Any], origin: McpOrigin) -> dict[str, str]:
    """The existing members of this server, by tool name (the first one when several)."""
    by_tool: dict[str, str] = {}
    for name, raw in members.items():
        if isinstance(raw, dict):
            tool = _same_server(raw.get("origin"), origin)
            if tool is not None:
                by_tool.setdefault(tool, str(name))
    return by_tool


def _check_adoptable(server: str, origin: McpOrigin, tool: str, member: str, raw: Any) -> None:
    """Refuse (`InputError`) to import `tool` into an existing member that is not a tool
    member or that records another origin."""
    if raw is None:
        return
    where = f"member {member!r}"
    if not isinstance(raw, dict) or raw.get("kind") != "tool":
        raise InputError(
            f"tool {tool!r} of MCP server {server}: the {where} exists and is not a tool member",
            hint="rename that member, or import the other tools with --tool NAME",
        )
    theirs = raw.get("origin")
    if theirs is not None and _same_server(theirs, origin) != tool:
        raise InputError(
            f"tool {tool!r} of MCP server {server}: the {where} already has another "
            f"origin ({json.dumps(theirs, ensure_ascii=False)})",
            hint="remove its origin to adopt it, or import the other tools with --tool",
        )


def _place_schemas(
    root: Path,
    loader: SchemaLoader,
    server: str,
    t: LiveTool,
    current: dict[str, Any],
    member: str,
    contracts: dict[str, str],
) -> tuple[str, str | None]:
    """The files the tool's input and output schemas go to (output: None when the server
    declares none), the checked schemas added to `contracts`; refuses two different schemas
    for one file."""
    where = f"member {member!r}"
    in_file = _slot_file(
        root,
        current.get("input_schema"),
        f"{TOOLS_DIR}/{t.name}_input.json",
        f"{where}: input_schema",
    )
    in_schema = _checked_schema(loader, server, t.name, "input", t.input_schema)
    out_file: str | None = None
    out_schema: dict[str, Any] | None = None
    if t.output_schema is not None:
        out_file = _slot_file(
            root,
            current.get("output_schema"),
            f"{TOOLS_DIR}/{t.name}_output.json",
            f"{where}: output_schema",
        )
        out_schema = _checked_schema(loader, server, t.name, "output", t.output_schema)
    for path, schema in ((in_file, in_schema), (out_file, out_schema)):
        if path is None or schema is None:
            continue
        body = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        if contracts.get(path, body) != body:
            raise InputError(
                f"MCP server {server}: two schemas would be written to {path} "
                f"(the last one for tool {t.name!r})",
                hint="give the members their own files",
            )
        contracts[path] = body
    return in_file, out_file


def _new_spec(
    t: LiveTool,
    in_file: str,
    out_file: str | None,
    origin_value: dict[str, Any],
    *,
    external: bool,
) -> dict[str, Any]:
    """The tool member an import adds for `t`."""
    spec: dict[str, Any] = {"kind": "tool", "version": NEW_MEMBER_VERSION}
    if t.description and t.description.strip():
        spec["description"] = " ".join(t.description.split())[:200]
    spec["input_schema"] = in_file
    if out_file is not None:
        spec["output_schema"] = out_file
    spec["origin"] = origin_value
    if external:
        spec["external"] = True
    return spec


def _updates(
    current: dict[str, Any],
    in_file: str,
    out_file: str | None,
    origin_value: dict[str, Any],
    *,
    external: bool,
) -> dict[str, Any]:
    """The keys of an existing member the import sets (`REMOVE`: drops), only those that differ."""
    updates: dict[str, Any] = {}
    if current.get("input_schema") != in_file:
        updates["input_schema"] = in_file
    if out_file is None:
        if "output_schema" in current:
            updates["output_schema"] = REMOVE
    elif current.get("output_schema") != out_file:
        updates["output_schema"] = out_file
    if current.get("origin") != origin_value:
        updates["origin"] = origin_value
    if external and current.get("external") is not True:
        updates["external"] = True
    return updates


def _file_changes(
    root: Path, contracts: dict[str, str], text: str, new_text: str
) -> list[FileChange]:
    """The contract files (sorted by path) against what is on disk, then teamrel.yaml."""
    files: list[FileChange] = []
    for path, body in sorted(contracts.items()):
        before = _read_text(root / path)
        status: FileStatus = (
            "new" if before is None else "unchanged" if before == body else "changed"
        )
        if before is not None and status == "changed" and _same_json(before, body):
            status = "unchanged"  # reformatting a committed file is not a change
        files.append(FileChange(path, status, before, body))
    files.append(
        FileChange(WORKSPACE_FILE, "unchanged" if new_text == text else "changed", text, new_text)
    )
    return files


def _settle_actions(
    imports: list[ToolImport], files: list[FileChange], text: str, new_text: str
) -> list[ToolImport]:
    """The imports with `update` turned into `unchanged` where neither the member nor its
    files change."""
    changed = {f.path for f in files if f.status != "unchanged"}
    return [
        t
        if t.action == "add"
        or (WORKSPACE_FILE in changed and _member_changed(text, new_text, t.member))
        or t.input_file in changed
        or (t.output_file is not None and t.output_file in changed)
        else ToolImport(t.tool, t.member, "unchanged", t.input_file, t.output_file)
        for t in imports
    ]


def _member_changed(before: str, after: str, member: str) -> bool:
    return _members_of(before).get(member) != _members_of(after).get(member)


def _validate_spec(server: str, member: str, spec: dict[str, Any]) -> None:
    try:
        ToolSpec.model_validate(spec)
    except ValidationError as err:
        raise InputError(
            f"MCP server {server}: member {member!r} would be invalid: "
            + "; ".join(error_text(e) for e in err.errors())
        ) from None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def _same_json(a: str, b: str) -> bool:
    try:
        return bool(json.loads(a) == json.loads(b))
    except ValueError:
        return False


def apply_import(root: Path, plan: ImportPlan) -> list[str]:
    """Write the plan's changed files (contracts first, teamrel.yaml last); their paths.

    Refuses (`InputError`, nothing written) if teamrel.yaml changed since the plan was made.
    """
    if _read_workspace_text(root) != plan.yaml_before:
        raise InputError(
            f"{WORKSPACE_FILE} changed while the import was being prepared; nothing written",
            hint="run the import again",
        )
    for f in plan.changes:
        if escapes(root, f.path):
            raise InputError(f"{f.path}: resolves outside the workspace (symlink?)")
    written: list[str] = []
    for f in plan.changes:
        if f.path == WORKSPACE_FILE:
            continue
        atomic_write(root / f.path, f.after.encode("utf-8"))
        written.append(f.path)
    for f in plan.changes:
        if f.path == WORKSPACE_FILE:
            atomic_write(root / f.path, f.after.encode("utf-8"))
            written.append(f.path)
    return written


# ---------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class DirectionDrift:
    """One direction of one tool: the pinned schema against the live one."""

    which: Literal["input", "output"]
    #: the pinned file (None: the member pins no output schema)
    pinned: str | None
    #: compatible | incompatible | unknown, or `missing` (the server declares no output
    #: schema any more) / `added` (it declares one the member does not pin: not breaking)
    verdict: str
    result: compat.CompatResult | None = None
    message: str = ""

    @property
    def breaking(self) -> bool:
        """Consumers of the pinned interface can fail against the live one."""
        return self.verdict in ("incompatible", "missing")

    def to_json(self) -> JsonObject:
        """One direction of a tool in the `--check --format json` document."""
        r = self.result
        return {
            "pinned": self.pinned,
            "verdict": self.verdict,
            "message": self.message,
            "witness": r.witness if r is not None and r.has_witness else None,
            "has_witness": bool(r is not None and r.has_witness),
            "problems": [p.to_json() for p in r.problems] if r is not None else [],
            "reason": r.reason if r is not None else None,
        }


@dataclass(frozen=True)
class ToolDrift:
    """The verdict on one tool: the live server against the pinned member."""

    tool: str
    member: str | None
    status: DriftStatus
    input: DirectionDrift | None = None
    output: DirectionDrift | None = None

    def to_json(self) -> JsonObject:
        """One tool of the `--check --format json` document."""
        return {
            "tool": self.tool,
            "member": self.member,
            "status": self.status,
            "input": self.input.to_json() if self.input else None,
            "output": self.output.to_json() if self.output else None,
        }


@dataclass
class DriftReport:
    """`teamrel import mcp --check`: every tool of the server and of the workspace."""

    origin: McpOrigin
    tools: list[ToolDrift]

    @property
    def failing(self) -> list[ToolDrift]:
        """The tools whose drift breaks (or cannot be proven not to break) their users."""
        return [t for t in self.tools if t.status in ("breaking", "unknown", "removed")]

    @property
    def ok(self) -> bool:
        """No tool breaks its callers or consumers."""
        return not self.failing

    @property
    def server(self) -> str:
        """How reports name the server: `command 'python srv.py'` or `url http://...`."""
        return describe(self.origin)

    def to_json(self) -> JsonObject:
        """The versioned `teamrel import mcp --check --format json` document."""
        return {
            "format_version": IMPORT_FORMAT_VERSION,
            "server": _transport(self.origin),
            "ok": self.ok,
            "engine_version": compat.ENGINE_VERSION,
            "tools": [t.to_json() for t in self.tools],
        }


def check_drift(
    root: Path,
    origin: McpOrigin,
    *,
    only: Collection[str] = (),
    timeout: float = DEFAULT_TIMEOUT_S,
    live: list[LiveTool] | None = None,
) -> DriftReport:
    """Compare the live server with the workspace's members of that server, tool by tool.

    The members compared are the tool members whose `origin.mcp` names this command or URL,
    and those named like a live tool that record no origin (the ones an import adopts).
    Raises `McpSourceError` when the server cannot be read, `WorkspaceError` when the
    workspace does not load (its pinned schemas are read through the workspace loader).
    """
    from teamrel.workspace import load_workspace

    server = describe(origin)
    listing = live if live is not None else list_tools(origin, timeout=timeout, cwd=root)
    listing = _select(server, listing, only)
    ws = load_workspace(root)
    pinned = _pinned_members(ws.members, origin, only, {t.name for t in listing})
    raw_members = ws.team.members
    loader = SchemaLoader(root)
    out: list[ToolDrift] = []
    for t in listing:
        if t.name not in pinned:
            out.append(ToolDrift(t.name, None, "new"))
            continue
        name, member = pinned.pop(t.name)
        out.append(_tool_drift(loader, server, t, name, member, raw_members[name]))
    for tool, (name, _member) in sorted(pinned.items()):
        out.append(ToolDrift(tool, name, "removed"))
    return DriftReport(origin, out)


def _pinned_members(
    members: Mapping[str, ResolvedMember],
    origin: McpOrigin,
    only: Collection[str],
    live_names: set[str],
) -> dict[str, tuple[str, ResolvedMember]]:
    """The workspace's members compared with the server, by tool name: those whose origin
    names this server (restricted to `only`), then those an import would adopt."""
    pinned: dict[str, tuple[str, ResolvedMember]] = {}
    for name, member in members.items():
        if member.kind != "tool":
            continue
        tool = _same_server(member.spec.get("origin"), origin)
        if tool is not None and (not only or tool in only):
            pinned.setdefault(tool, (name, member))
    for name, member in members.items():
        # a tool member named like a live tool and recording no origin is the one an import
        # would adopt: compare it too
        if member.kind == "tool" and "origin" not in member.spec and name in live_names:
            pinned.setdefault(name, (name, member))
    return pinned


def _tool_drift(
    loader: SchemaLoader,
    server: str,
    t: LiveTool,
    name: str,
    member: ResolvedMember,
    spec: MemberSpec,
) -> ToolDrift:
    """The verdict on live tool `t` against member `name` (`member`: its loaded form, `spec`:
    its raw one, which names the pinned files)."""
    files = {
        "input": _pinned_path(getattr(spec, "input_schema", None)),
        "output": _pinned_path(getattr(spec, "output_schema", None)),
    }
    live_in = _checked_schema(loader, server, t.name, "input", t.input_schema)
    live_out = (
        _checked_schema(loader, server, t.name, "output", t.output_schema)
        if t.output_schema is not None
        else None
    )
    pin_in = member.schema_doc("input")
    pin_out = member.schema_doc("output")
    inp = _direction("input", files["input"], pin_in, live_in)
    outp = _direction("output", files["output"], pin_out, live_out)
    status: DriftStatus
    if inp.breaking or outp.breaking:
        status = "breaking"
    elif "unknown" in (inp.verdict, outp.verdict):
        status = "unknown"
    elif (
        inp.verdict == "compatible"
        and outp.verdict == "compatible"
        and _equivalent(pin_in, live_in, "input")
        and _equivalent(pin_out, live_out, "output")
    ):
        status = "unchanged"
    else:
        status = "compatible"
    return ToolDrift(t.name, name, status, inp, outp)


def _pinned_path(src: Any) -> str | None:
    if isinstance(src, str):
        return src
    if is_generated_source(src):
        return str(src.get("file"))
    return None if src is None else "(inline)"


def _equivalent(doc: SchemaDoc | None, live: JSON | None, which: str) -> bool:
    """Whether the live schema allows exactly the pinned values (the other direction of
    containment also holds): written differently (`$ref`s to shared files, titles) is the
    same interface."""
    if doc is None or live is None:
        return doc is None and live is None
    if not doc.resources and doc.schema_ == live:
        return True
    live_doc = SchemaDoc.inline(live, f"mcp:{which}")
    try:
        back = compat.check(live_doc, doc) if which == "input" else compat.check(doc, live_doc)
    except SchemaError:
        return False
    return back.verdict == "compatible"


def _direction(
    which: Literal["input", "output"], path: str | None, pinned: SchemaDoc | None, live: JSON | None
) -> DirectionDrift:
    if which == "output" and pinned is None:
        if live is None:
            return DirectionDrift(which, None, "compatible", message="no output schema either side")
        return DirectionDrift(
            which,
            None,
            "added",
            message="the server now declares an output schema the member does not pin",
        )
    assert pinned is not None
    if live is None:
        return DirectionDrift(
            which,
            path,
            "missing",
            message="the server no longer declares an output schema: consumers of the pinned "
            "structured result get none",
        )
    live_doc = SchemaDoc.inline(live, f"mcp:{which}")
    try:
        if which == "input":
            # every call the pinned schema allows must still be accepted
            result = compat.check(pinned, live_doc)
            sense = "a call the pinned input_schema allows is refused by the live server"
        else:
            # every result the live server may return must still be what consumers expect
            result = compat.check(live_doc, pinned)
            sense = "the live server may return a result the pinned output_schema does not allow"
    except SchemaError as err:
        return DirectionDrift(which, path, "unknown", message=f"schema error: {err.message}")
    if result.verdict == "compatible":
        message = "pinned ⊆ live" if which == "input" else "live ⊆ pinned"
    elif result.verdict == "incompatible":
        message = sense
    else:
        message = result.reason or "could not be decided"
    return DirectionDrift(which, path, result.verdict, result, message)
