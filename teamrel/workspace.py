"""The workspace: `teamrel.yaml` plus the prompt and contract files it names, resolved.

Owns loading and validating a workspace into a `Workspace` (the parsed `TeamFile`, every
member resolved and content-addressed, every edge with its schemas, the team graph), and
reporting *every* problem at once as located `Diagnostic`s (file, YAML line, JSON pointer).

Decisions (documented in docs/workspace.md):
- A member's digest covers its fully resolved spec (prompt bytes and text, schemas with
  every `$ref`ed file, model, parameters, tools with their call/result schemas, evals,
  metadata), never its name or the path of its prompt file.
- `policy.floating_models` replaces the built-in deny-list; the entry `@default` pulls the
  built-in list back in (`[@default, my-alias]` extends it). Matching is case-insensitive,
  exact or (entries starting with `*`) by suffix, on the whole id and on the part after the
  last `/` (router-style ids such as `openrouter/openai/gpt-4o`).
- Edges: declared handoffs first (producer output -> contract -> consumer input), then for
  each tool an agent uses: agent => tool (`tool-call`: the agent's declared `call` schema,
  the tool's `input_schema`) and tool => agent (`tool-result`: the tool's `output_schema`,
  the agent's declared `result` schema).
- Cycles in the team graph are warnings, naming their path.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from teamrel.canonical import DIGEST_PREFIX, JSON, JsonObject, canonical_json
from teamrel.contracts import SchemaLoader, missing_file
from teamrel.errors import Diagnostic, InputError, WorkspaceError, errors_of
from teamrel.graph import GraphEdge, GraphNode, TeamGraph
from teamrel.models import (
    DEFAULT_FLOATING_MODELS,
    NAME_RE,
    NON_BEHAVIOURAL_KEYS,
    SEMVER_RE,
    AgentSpec,
    EnvironmentSpec,
    FlagSpec,
    HandoffSpec,
    PolicySpec,
    PydanticSource,
    ResolvedHandoff,
    ResolvedMember,
    SchemaDoc,
    Source,
    TeamFile,
    ToolSpec,
    ToolUse,
    VariantSpec,
    error_text,
    is_generated_source,
)
from teamrel.profiles import PROFILES, effective_doc, get_profile
from teamrel.progress import LOADING, Progress, Ticker
from teamrel.scorecard import SCORECARDS_DIR, pinned_form, read_scorecards, stale_scorecards
from teamrel.yamlsrc import YamlDoc, YamlError, escape_token, load_yaml

WORKSPACE_FILE = "teamrel.yaml"
#: Largest prompt file read (bytes).
MAX_PROMPT_BYTES = 5 * 1024 * 1024
#: The `policy.floating_models` entry standing for the built-in deny-list.
DEFAULT_MARKER = "@default"
#: Version of the `teamrel validate --format json` document.
VALIDATE_FORMAT_VERSION = 1

_TOP_KEYS = tuple(f.alias or n for n, f in TeamFile.model_fields.items())


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Workspace:
    """A loaded workspace: the team file, resolved members and edges, and the team graph."""

    root: Path
    team: TeamFile
    members: dict[str, ResolvedMember]
    handoffs: list[ResolvedHandoff]
    diagnostics: list[Diagnostic]
    graph: TeamGraph
    lines: Mapping[str, int] = field(default_factory=dict, repr=False)
    #: the resolved contract of each declared handoff, in declaration order
    contracts: tuple[SchemaDoc | None, ...] = field(default=(), repr=False)
    #: sha256 of the exact bytes of teamrel.yaml that were loaded
    file_sha256: str | None = None
    #: member -> variant name -> the variant resolved as a member of its own (docs/flags.md)
    variants: Mapping[str, Mapping[str, ResolvedMember]] = field(default_factory=dict, repr=False)

    def line_of(self, pointer: str) -> int | None:
        """The teamrel.yaml line of a JSON pointer (or of its nearest declared ancestor)."""
        while True:
            line = self.lines.get(pointer)
            if line is not None or not pointer:
                return line
            pointer = pointer.rsplit("/", 1)[0]

    def source(self, pointer: str) -> Source:
        """A `Source` in teamrel.yaml for a JSON pointer."""
        return Source(file=WORKSPACE_FILE, line=self.line_of(pointer), pointer=pointer)

    def handoff(self, key: str) -> ResolvedHandoff:
        """The edge with this key (`a->b`, `agent=>tool`, `agent<=tool`)."""
        for h in self.handoffs:
            if h.key == key:
                return h
        raise KeyError(key)

    def with_members(self, replace: Mapping[str, ResolvedMember]) -> Workspace:
        """The same declarations with some members swapped (e.g. pinned from a manifest).

        Declared handoffs keep their contracts; every edge is rebuilt from the swapped
        members' schemas, and tool edges from each agent's own (possibly pinned) tool list.
        """
        members = dict(self.members)
        for name, member in replace.items():
            members[name] = member
        handoffs = _edges(members, self.team.handoffs, self.contracts, self.source)
        graph = _graph(members, handoffs)
        return Workspace(
            root=self.root,
            team=self.team,
            members=members,
            handoffs=handoffs,
            diagnostics=self.diagnostics,
            graph=graph,
            lines=self.lines,
            contracts=self.contracts,
            file_sha256=self.file_sha256,
            variants=self.variants,
        )

    def edges_among(self, members: Mapping[str, ResolvedMember]) -> list[ResolvedHandoff]:
        """The edges between these members only (declared handoffs and tool edges), built
        from their schemas: a part of the graph, without rebuilding the whole of it."""
        return _edges(members, self.team.handoffs, self.contracts, self.source)

    def without_edges(self, keys: Collection[str]) -> Workspace:
        """The same workspace with the edges of these keys left out (flags switched off)."""
        if not keys:
            return self
        handoffs = [h for h in self.handoffs if h.key not in keys]
        return dataclasses.replace(self, handoffs=handoffs, graph=_graph(self.members, handoffs))


@dataclass(frozen=True)
class ValidationReport:
    """What `teamrel validate` reports: every diagnostic, and the workspace when it loaded."""

    root: Path
    team: str | None
    members: int
    handoffs: int
    diagnostics: list[Diagnostic]
    workspace: Workspace | None = None

    @property
    def valid(self) -> bool:
        """No diagnostic of severity error."""
        return not errors_of(self.diagnostics)

    def to_json(self) -> JsonObject:
        """The versioned `teamrel validate --format json` document."""
        return {
            "format_version": VALIDATE_FORMAT_VERSION,
            "valid": self.valid,
            "team": self.team,
            "members": self.members,
            "handoffs": self.handoffs,
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def load_workspace(root: Path, *, progress: Progress | None = None) -> Workspace:
    """Load and resolve the workspace at `root`; raises `WorkspaceError` with ALL problems.

    `progress` is told how many members are resolved (see `teamrel.progress`)."""
    report = check_workspace(root, progress=progress)
    if report.workspace is None:
        errors = errors_of(report.diagnostics)
        n = len(errors)
        # The problems themselves travel in `diagnostics` (the CLI prints one per line, JSON
        # lists them): repeating the first here printed it twice. They may also lie in a
        # contract or prompt, not in teamrel.yaml.
        raise WorkspaceError(
            f"the workspace at {root} does not load: {n} problem{'s' if n != 1 else ''}",
            report.diagnostics,
        )
    return report.workspace


def validate_workspace(root: Path) -> list[Diagnostic]:
    """Every error and warning of the workspace at `root`; never raises for bad content."""
    return check_workspace(root).diagnostics


def check_workspace(root: Path, *, progress: Progress | None = None) -> ValidationReport:
    """Load the workspace at `root` collecting every diagnostic (the workspace if valid)."""
    return _Loader(root.resolve(), progress).run()


def is_floating(model_id: str, patterns: list[str]) -> str | None:
    """The deny-list entry a model id matches (see module docstring), or None if pinned."""
    exact, suffixes = _compiled_patterns(tuple(patterns))
    ids = {model_id.lower(), model_id.rsplit("/", 1)[-1].lower()}
    for i in ids:
        if i in exact:
            return exact[i]
    for suffix, p in suffixes:
        if any(i.endswith(suffix) for i in ids):
            return p
    return None


@functools.lru_cache(maxsize=64)
def _compiled_patterns(
    patterns: tuple[str, ...],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    exact: dict[str, str] = {}
    suffixes: list[tuple[str, str]] = []
    for p in patterns:
        for q in DEFAULT_FLOATING_MODELS if p == DEFAULT_MARKER else (p,):
            if q.startswith("*"):
                suffixes.append((q[1:].lower(), q))
            else:
                exact.setdefault(q.lower(), q)
    return exact, suffixes


# --------------------------------------------------------------------------- digests


def _utf16(s: str) -> bytes:
    return s.encode("utf-16-be")


@functools.lru_cache(maxsize=4096)
def _key_text(key: str) -> str:
    return json.dumps(key, ensure_ascii=False) + ":"


def _canon(value: JSON, pre: Mapping[int, str]) -> str:
    """canonical_json(value), reusing the already encoded text of shared sub-objects."""
    hit = pre.get(id(value))
    if hit is not None:
        return hit
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(_key_text(k) + _canon(value[k], pre) for k in sorted(value, key=_utf16))
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_canon(v, pre) for v in value) + "]"
    return canonical_json(value)


def spec_digest(spec: dict[str, JSON], pre: Mapping[int, str] | None = None) -> str:
    """`member_digest(spec)`, faster when `pre` holds the encodings of shared schema objects."""
    text = _canon(spec, pre or {})
    return DIGEST_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- edges & graph


def _contract_label(doc: SchemaDoc | None) -> str | None:
    if doc is None:
        return None
    return doc.uri.removeprefix("file:///") if doc.uri.startswith("file:///") else "inline"


def _edges(
    members: Mapping[str, ResolvedMember],
    declared: list[HandoffSpec],
    contracts: tuple[SchemaDoc | None, ...],
    source: Callable[[str], Source],
) -> list[ResolvedHandoff]:
    docs: dict[tuple[str, str], SchemaDoc | None] = {}

    def doc(name: str, which: str) -> SchemaDoc | None:
        k = (name, which)
        if k not in docs:
            got = members[name].schema_doc("input" if which == "input" else "output")
            profile = members[name].spec.get("structured_output")
            found = get_profile(profile) if isinstance(profile, str) else None
            if which == "output" and got is not None and found is not None:
                # what the model really generates against is what reaches the consumer
                got = effective_doc(found, got)
            docs[k] = got
        return docs[k]

    out: list[ResolvedHandoff] = []
    for i, h in enumerate(declared):
        if h.from_ not in members or h.to not in members:
            continue
        out.append(
            ResolvedHandoff.model_construct(
                producer=h.from_,
                consumer=h.to,
                kind="handoff",
                producer_schema=doc(h.from_, "output"),
                contract=contracts[i] if i < len(contracts) else None,
                consumer_schema=doc(h.to, "input"),
                source=source(f"/handoffs/{i}"),
            )
        )
    for name, m in members.items():
        if m.kind != "agent":
            continue
        for j, use in enumerate(m.spec.get("tools") or []):
            tool = str(use["tool"]) if isinstance(use, dict) else str(use)
            if tool not in members or members[tool].kind != "tool":
                continue
            call = use.get("call") if isinstance(use, dict) else None
            result = use.get("result") if isinstance(use, dict) else None
            src = source(f"/members/{escape_token(name)}/tools/{j}")
            out.append(
                ResolvedHandoff.model_construct(
                    producer=name,
                    consumer=tool,
                    kind="tool-call",
                    producer_schema=SchemaDoc.model_validate(call) if call else None,
                    consumer_schema=doc(tool, "input"),
                    source=src,
                )
            )
            out.append(
                ResolvedHandoff.model_construct(
                    producer=tool,
                    consumer=name,
                    kind="tool-result",
                    producer_schema=doc(tool, "output"),
                    consumer_schema=SchemaDoc.model_validate(result) if result else None,
                    source=src,
                )
            )
    return out


def _graph(members: Mapping[str, ResolvedMember], handoffs: list[ResolvedHandoff]) -> TeamGraph:
    nodes = [GraphNode(n, m.kind, m.version, m.digest) for n, m in members.items()]
    edges = [
        GraphEdge(h.producer, h.consumer, h.kind, _contract_label(h.contract), h.key)
        for h in handoffs
    ]
    return TeamGraph.build(nodes, edges)


# --------------------------------------------------------------------------- the loader


def _walk_loc(data: Any, base: str, loc: tuple[int | str, ...]) -> tuple[str, Any, list[str]]:
    """Map a pydantic error location onto the data: (pointer, node, unmatched tokens)."""
    ptr, cur = base, data
    rest: list[str] = []
    for tok in loc:
        if isinstance(cur, dict) and isinstance(tok, str) and tok in cur:
            cur = cur[tok]
            ptr += "/" + escape_token(tok)
        elif isinstance(cur, list) and isinstance(tok, int) and 0 <= tok < len(cur):
            cur = cur[tok]
            ptr += f"/{tok}"
        else:
            rest.append(str(tok))  # a union branch tag, or a missing key
    return ptr, cur, rest


_SCHEMA_SOURCE_KEYS = {
    "input",
    "output",
    "input_schema",
    "output_schema",
    "contract",
    "call",
    "result",
}


class _Loader:
    def __init__(self, root: Path, progress: Progress | None = None) -> None:
        self.root = root
        self.progress = progress
        self.diags: list[Diagnostic] = []
        self.doc = YamlDoc(file=WORKSPACE_FILE, data=None)
        self.schemas = SchemaLoader(root)
        self.reported: set[Diagnostic] = set()
        self.prompts: dict[str, tuple[str, str] | None] = {}
        self.encoded: dict[int, str] = {}
        # keyed by id(doc), holding the doc too: an inline schema's doc is not kept anywhere
        # else, and once freed its id could be reused by the next doc built
        self.doc_json: dict[int, tuple[SchemaDoc, dict[str, JSON]]] = {}
        self.variants: dict[str, dict[str, ResolvedMember]] = {}

    # ------------------------------------------------------------------ diagnostics

    def diag(self, code: str, ptr: str, message: str, severity: str = "error") -> None:
        self.diags.append(
            Diagnostic(
                code=code,
                message=message,
                file=WORKSPACE_FILE,
                line=self.doc.line_of(ptr),
                pointer=ptr,
                severity="warning" if severity == "warning" else "error",
            )
        )

    def pydantic(self, err: ValidationError, data: Any, base: str, model: type[BaseModel]) -> None:
        grouped: dict[str, list[str]] = {}
        raw = err.errors()
        ptrs = [_walk_loc(data, base, tuple(e["loc"])) for e in raw]
        for e, (ptr, _node, rest) in zip(raw, ptrs, strict=True):
            etype = e["type"]
            if etype.endswith(("_type", "_parsing")) and any(
                p.startswith(ptr + "/") for p, _, _ in ptrs
            ):
                continue  # a union branch that failed earlier than the one that matters
            key = ptr.rsplit("/", 1)[-1]
            if etype == "missing":
                msg = f"missing required key {rest[-1] if rest else key!r}"
            elif etype == "extra_forbidden":
                msg = f"unknown key {key!r}"
                fields = _fields_at(model, tuple(e["loc"])[:-1])
                close = difflib.get_close_matches(key, fields, n=1)
                if close:
                    msg += f" (did you mean {close[0]!r}?)"
            elif key in _SCHEMA_SOURCE_KEYS and etype.endswith(("_type", "_parsing")):
                msg = (
                    f"{key}: expected a path to a JSON Schema file, an inline schema "
                    "(mapping or true/false) or a generated source ({pydantic: ..., file: ...})"
                )
            else:
                msg = error_text(e)
                if etype == "string_type" and isinstance(_node, (int, float)):
                    msg += " (quote it in YAML)"
            grouped.setdefault(ptr, [])
            if msg not in grouped[ptr]:
                grouped[ptr].append(msg)
        for ptr, msgs in grouped.items():
            code = "unknown-key" if msgs[0].startswith("unknown key") else "invalid"
            self.diag(code, ptr, "; ".join(msgs))

    def schema_problems(self, problems: list[Diagnostic], ptr: str) -> None:
        where = f"{WORKSPACE_FILE}:{self.doc.line_of(ptr)}"
        for p in problems:
            if p in self.reported:
                continue
            self.reported.add(p)
            if p.file == WORKSPACE_FILE:
                self.diags.append(
                    Diagnostic(
                        p.code, p.message, p.file, self.doc.line_of(p.pointer or ptr), p.pointer
                    )
                )
            else:
                self.diags.append(
                    Diagnostic(
                        p.code,
                        f"{p.message} (used at {where} #{ptr})",
                        p.file,
                        p.line,
                        p.pointer,
                    )
                )

    # ------------------------------------------------------------------ run

    def run(self) -> ValidationReport:
        try:
            self.doc = load_yaml(self.root / WORKSPACE_FILE, WORKSPACE_FILE)
        except YamlError as err:
            if any(d.code == "io" for d in err.diagnostics):
                # an unreadable workspace is an operational error, not a finding
                raise InputError(err.message) from None
            return ValidationReport(self.root, None, 0, 0, err.diagnostics)
        self.diags.extend(self.doc.diagnostics)
        data = self.doc.data
        if not isinstance(data, dict):
            self.diag("invalid", "", f"{WORKSPACE_FILE} must be a mapping with team and members")
            return self.report(None, 0, 0)

        for key in data:
            if key not in _TOP_KEYS:
                close = difflib.get_close_matches(key, _TOP_KEYS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.diag("unknown-key", "/" + escape_token(key), f"unknown key {key!r}{hint}")
        team = data.get("team")
        team_name = team if isinstance(team, str) else None
        if "team" not in data:
            self.diag("invalid", "", "missing required key 'team'")
        elif not isinstance(team, str) or not NAME_RE.match(team):
            self.diag("invalid-name", "/team", f"invalid team name {team!r}: {_NAME_RULE}")
            team_name = None
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            self.diag("invalid", "/description", "description must be a string")
            description = None

        policy = self.section("policy", data, PolicySpec) or PolicySpec()
        environments: dict[str, EnvironmentSpec] = {}
        envs = data.get("environments", {})
        if not isinstance(envs, dict):
            self.diag("invalid", "/environments", "environments must be a mapping")
            envs = {}
        for name, raw in envs.items():
            ptr = "/environments/" + escape_token(name)
            if not NAME_RE.match(name):
                self.diag("invalid-name", ptr, f"invalid environment name {name!r}: {_NAME_RULE}")
            spec = self.model(EnvironmentSpec, raw if raw is not None else {}, ptr)
            if spec is not None:
                environments[name] = spec

        specs = self.member_specs(data, policy)
        members = self.resolve_members(specs, policy)
        handoff_specs, contracts = self.handoff_specs(data, specs)
        flags = self.flag_specs(data, specs, handoff_specs)
        n_edges = len(handoff_specs) + sum(
            2 * len(s.tools) for s in specs.values() if isinstance(s, AgentSpec)
        )

        if errors_of(self.diags):
            return self.report(team_name, len(specs), n_edges)
        assert team_name is not None
        teamfile = TeamFile.model_validate(
            {
                "team": team_name,
                "description": description,
                "members": specs,
                "handoffs": handoff_specs,
                "policy": policy,
                "environments": environments,
                "flags": flags,
            }
        )
        lines = self.doc.lines

        def source(ptr: str) -> Source:
            line = None
            p = ptr
            while line is None:
                line = lines.get(p)
                if not p:
                    break
                p = p.rsplit("/", 1)[0]
            return Source.model_construct(file=WORKSPACE_FILE, line=line, pointer=ptr)

        handoffs = _edges(members, handoff_specs, contracts, source)
        graph = _graph(members, handoffs)
        self.cycle_warnings(graph, handoff_specs)
        ws = Workspace(
            root=self.root,
            team=teamfile,
            members=members,
            handoffs=handoffs,
            diagnostics=list(self.diags),
            graph=graph,
            lines=lines,
            contracts=contracts,
            file_sha256=self.doc.sha256,
            variants=self.variants,
        )
        return self.report(team_name, len(members), len(handoffs), ws)

    def report(
        self, team: str | None, members: int, handoffs: int, ws: Workspace | None = None
    ) -> ValidationReport:
        # teamrel.yaml first, then contract files, each in line order (stable otherwise)
        diags = sorted(
            self.diags,
            key=lambda d: (d.file != WORKSPACE_FILE, d.file or "", d.line or 0),
        )
        return ValidationReport(self.root, team, members, handoffs, diags, ws)

    def model(self, cls: type[Any], raw: Any, ptr: str) -> Any:
        try:
            return cls.model_validate(raw)
        except ValidationError as err:
            self.pydantic(err, raw, ptr, cls)
            return None

    def section(self, key: str, data: dict[str, Any], cls: type[Any]) -> Any:
        if key not in data or data[key] is None:
            return None
        return self.model(cls, data[key], "/" + key)

    # ------------------------------------------------------------------ members

    def member_specs(
        self, data: dict[str, Any], policy: PolicySpec
    ) -> dict[str, AgentSpec | ToolSpec]:
        raw_members = data.get("members")
        if "members" not in data:
            self.diag("invalid", "", "missing required key 'members'")
            return {}
        if not isinstance(raw_members, dict) or not raw_members:
            self.diag("invalid", "/members", "members must be a non-empty mapping name -> spec")
            return {}
        specs: dict[str, AgentSpec | ToolSpec] = {}
        for name, raw in raw_members.items():
            ptr = "/members/" + escape_token(name)
            if not NAME_RE.match(name):
                self.diag("invalid-name", ptr, f"invalid member name {name!r}: {_NAME_RULE}")
                continue
            if not isinstance(raw, dict):
                self.diag("invalid", ptr, f"member {name!r} must be a mapping")
                continue
            kind = raw.get("kind", "agent")
            if kind not in ("agent", "tool"):
                self.diag("invalid", ptr + "/kind", f"kind must be agent or tool, not {kind!r}")
                continue
            cls: type[AgentSpec | ToolSpec] = AgentSpec if kind == "agent" else ToolSpec
            version = raw.get("version")
            numeric = isinstance(version, (int, float)) and not isinstance(version, bool)
            if numeric:
                self.diag(
                    "invalid-version",
                    ptr + "/version",
                    f"member {name!r}: version {version!r} was read as a number; write a "
                    "semver string such as 1.4.0 (quote it in YAML)",
                )
                raw = {**raw, "version": str(version)}
            spec = self.model(cls, raw, ptr)
            if spec is None:
                self.partial(name, raw, ptr, policy)
                continue
            if not numeric and not SEMVER_RE.match(spec.version):
                self.diag(
                    "invalid-version",
                    ptr + "/version",
                    f"member {name!r}: version {spec.version!r} is not semver (e.g. 1.4.0)",
                )
            specs[name] = spec
        return specs

    def partial(self, name: str, raw: dict[str, Any], ptr: str, policy: PolicySpec) -> None:
        """Check what can be checked of a member whose spec is malformed (report everything)."""
        model = raw.get("model")
        model_id = model.get("id") if isinstance(model, dict) else None
        if isinstance(model_id, str):
            self.floating(name, model_id, ptr, policy)
        if isinstance(raw.get("prompt"), str):
            self.prompt(raw["prompt"], ptr + "/prompt")
        for key in ("input", "output", "input_schema", "output_schema"):
            src = raw.get(key)
            if isinstance(src, (str, dict, bool)):
                self.schema(src, f"{ptr}/{key}", [])

    def floating(self, name: str, model_id: str, ptr: str, policy: PolicySpec) -> bool:
        hit = is_floating(model_id, policy.floating_models)
        if hit is None:
            return False
        self.diag(
            "floating-model",
            ptr + "/model/id",
            f"member {name!r}: model id {model_id!r} floats (matches {hit!r} in "
            "policy.floating_models); pin a dated snapshot such as "
            "claude-sonnet-4-5-20250929 or gpt-4o-2024-08-06",
        )
        return True

    def resolve_members(
        self, specs: dict[str, AgentSpec | ToolSpec], policy: PolicySpec
    ) -> dict[str, ResolvedMember]:
        members: dict[str, ResolvedMember] = {}
        tick = Ticker(self.progress, LOADING, len(specs))
        for name, spec in specs.items():
            ptr = "/members/" + escape_token(name)
            files: list[str] = []
            if isinstance(spec, AgentSpec):
                m = self.agent(name, spec, ptr, policy, files)
            else:
                m = self.tool(name, spec, ptr, files)
            if m is not None:
                members[name] = m
            tick.advance()
        tick.finish()
        return members

    def schema(self, src: Any, ptr: str, files: list[str]) -> tuple[bool, SchemaDoc | None]:
        """(ok, doc) of a SchemaSource; ok is False when a problem was reported."""
        if src is None:
            return True, None
        generated: PydanticSource | None = None
        if is_generated_source(src):
            # only the committed file is read: loading never imports the application
            generated = self.model(PydanticSource, src, ptr)
            if generated is None:
                return False, None
            src, ptr = generated.file, ptr + "/file"
        if isinstance(src, str):
            try:
                rel = self.schemas.path(src, what="schema path")
            except InputError as err:
                missing = missing_file(err.message)
                message = err.message
                if missing and generated is not None:
                    message += (
                        f": it is generated from the Pydantic model {generated.pydantic!r}; "
                        "run `teamrel contracts sync` and commit the file"
                    )
                self.diag("missing-file" if missing else "path-refused", ptr, message)
                return False, None
            doc, problems = self.schemas.resolve(rel)
            if doc is None:
                self.schema_problems(problems, ptr)
                return False, None
            files.append(rel)
            files.extend(u.removeprefix("file:///") for u in doc.resources)
            return True, doc
        # The inline URI names the field, not the member: a member's digest must not
        # depend on its name.
        where = ptr.split("/", 3)[3] if ptr.startswith("/members/") else "contract"
        doc, problems = self.schemas.inline(src, where, pointer=ptr)
        if doc is None:
            self.schema_problems(problems, ptr)
            return False, None
        return True, doc

    def enc(self, doc: SchemaDoc | None) -> dict[str, JSON] | None:
        """The JSON form of `doc`, one shared object per doc with its canonical text cached."""
        if doc is None:
            return None
        got = self.doc_json.get(id(doc))
        if got is not None and got[0] is doc:
            return got[1]
        obj = doc.to_json()
        self.doc_json[id(doc)] = (doc, obj)
        self.encoded[id(obj)] = canonical_json(obj)
        return obj

    def prompt(self, raw: str, ptr: str) -> tuple[str, str, str] | None:
        try:
            rel = self.schemas.path(raw, what="prompt")
        except InputError as err:
            code = "missing-file" if missing_file(err.message) else "path-refused"
            self.diag(code, ptr, err.message)
            return None
        if rel not in self.prompts:
            self.prompts[rel] = self.read_prompt(rel, ptr)
        got = self.prompts[rel]
        return None if got is None else (rel, *got)

    def read_prompt(self, rel: str, ptr: str) -> tuple[str, str] | None:
        try:
            with (self.root / rel).open("rb") as fh:
                data = fh.read(MAX_PROMPT_BYTES + 1)
        except OSError as err:
            self.diag("io", ptr, f"cannot read prompt {rel}: {err.strerror or err}")
            return None
        if len(data) > MAX_PROMPT_BYTES:
            self.diag("too-large", ptr, f"prompt {rel} is larger than {MAX_PROMPT_BYTES} bytes")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as err:
            self.diag(
                "prompt-encoding",
                ptr,
                f"prompt {rel} is not UTF-8 (invalid byte at offset {err.start})",
            )
            return None
        return DIGEST_PREFIX + hashlib.sha256(data).hexdigest(), text

    def agent(
        self, name: str, spec: AgentSpec, ptr: str, policy: PolicySpec, files: list[str]
    ) -> ResolvedMember | None:
        ok = True
        if self.floating(name, spec.model.id, ptr, policy):
            ok = False
        prompt = self.prompt(spec.prompt, ptr + "/prompt")
        if prompt is None:
            ok = False
        else:
            files.append(prompt[0])
        ok_in, d_in = self.schema(spec.input, ptr + "/input", files)
        ok_out, d_out = self.schema(spec.output, ptr + "/output", files)
        ok = ok and ok_in and ok_out
        if spec.structured_output is not None and not self.profile(
            spec.structured_output, d_out, ptr
        ):
            ok = False
        tools: list[dict[str, JSON]] = []
        seen: set[str] = set()
        for j, use in enumerate(spec.tools):
            uptr = f"{ptr}/tools/{j}"
            tname = use if isinstance(use, str) else use.tool
            if tname in seen:
                self.diag("duplicate-tool", uptr, f"member {name!r} lists tool {tname!r} twice")
                ok = False
            seen.add(tname)
            call_src = use.call if isinstance(use, ToolUse) else None
            result_src = use.result if isinstance(use, ToolUse) else None
            ok_c, d_call = self.schema(call_src, uptr + "/call", files)
            ok_r, d_res = self.schema(result_src, uptr + "/result", files)
            ok = ok and ok_c and ok_r
            tools.append({"tool": tname, "call": self.enc(d_call), "result": self.enc(d_res)})
        if not ok:
            return None
        assert prompt is not None
        rspec: dict[str, JSON] = {
            "kind": "agent",
            "version": spec.version,
            "description": spec.description,
            "model": {
                "provider": spec.model.provider,
                "id": spec.model.id,
                "parameters": spec.model.parameters,
            },
            "prompt": {"sha256": prompt[1], "text": prompt[2]},
            "input": self.enc(d_in),
            "output": self.enc(d_out),
            "tools": tools,
            "evals": [e.model_dump(mode="json") for e in spec.evals],
            "metadata": spec.metadata,
        }
        if spec.modes is not None:
            # only present when declared, so members without modes keep their digests
            rspec["modes"] = spec.modes.model_dump(mode="json")
        _origin(rspec, spec)
        if spec.structured_output is not None:
            # only present when declared, so members without a profile keep their digests
            rspec["structured_output"] = spec.structured_output
        if spec.variants:
            self.resolve_variants(name, spec, rspec, ptr, policy)
        behaviour = self.scorecards(name, rspec, ptr, files)
        member = self.member(name, "agent", spec.version, rspec, ptr, files)
        if behaviour is not None:
            member.prime_behaviour_digest(behaviour)
        return member

    def profile(self, name: str, doc: SchemaDoc | None, ptr: str) -> bool:
        """Report every construct of the output schema (and of each file it references) the
        member's provider profile refuses; False when there is any."""
        profile = get_profile(name)
        if profile is None:
            close = difflib.get_close_matches(name, sorted(PROFILES), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.diag(
                "unknown-profile",
                ptr + "/structured_output",
                f"unknown structured_output profile {name!r}{hint}: known profiles are "
                + ", ".join(sorted(PROFILES)),
            )
            return False
        if doc is None:
            return True
        problems: list[Diagnostic] = []
        for uri, schema, is_root in (
            (doc.uri, doc.schema_, True),
            *((u, r, False) for u, r in doc.resources.items()),
        ):
            for pointer, message in profile.refusals(schema, root=is_root):
                text = f"{name} refuses this: {message}"
                if uri.startswith("file:///"):
                    problems.append(
                        Diagnostic(
                            "profile-refused", text, uri.removeprefix("file:///"), None, pointer
                        )
                    )
                else:
                    problems.append(
                        Diagnostic(
                            "profile-refused", text, WORKSPACE_FILE, None, ptr + "/output" + pointer
                        )
                    )
        self.schema_problems(self.schemas.locate(problems), ptr + "/output")
        return not problems

    def scorecards(
        self, name: str, rspec: dict[str, JSON], ptr: str, files: list[str]
    ) -> str | None:
        # only present when recorded, so members without scorecards keep their digests
        try:
            cards = read_scorecards(self.root, name)
        except InputError as err:
            self.diag("scorecard", ptr + "/evals", err.message)
            return None
        if not cards:
            return None
        behaviour = spec_digest(
            {k: v for k, v in rspec.items() if k not in NON_BEHAVIOURAL_KEYS}, self.encoded
        )
        rspec["scorecards"] = {suite: pinned_form(doc) for suite, doc in cards.items()}
        files.extend(f"{SCORECARDS_DIR}/{name}/{suite}.json" for suite in cards)
        for _suite, message in stale_scorecards(name, rspec, behaviour):
            self.diag("stale-scorecard", ptr + "/evals", message, "warning")
        return behaviour

    def tool(self, name: str, spec: ToolSpec, ptr: str, files: list[str]) -> ResolvedMember | None:
        ok_in, d_in = self.schema(spec.input_schema, ptr + "/input_schema", files)
        ok_out, d_out = self.schema(spec.output_schema, ptr + "/output_schema", files)
        if not (ok_in and ok_out):
            return None
        rspec: dict[str, JSON] = {
            "kind": "tool",
            "version": spec.version,
            "description": spec.description,
            "input_schema": self.enc(d_in),
            "output_schema": self.enc(d_out),
            "metadata": spec.metadata,
        }
        _origin(rspec, spec)
        return self.member(name, "tool", spec.version, rspec, ptr, files)

    def member(
        self, name: str, kind: str, version: str, spec: dict[str, JSON], ptr: str, files: list[str]
    ) -> ResolvedMember:
        return ResolvedMember(
            name=name,
            kind="agent" if kind == "agent" else "tool",
            version=version,
            spec=spec,
            digest=spec_digest(spec, self.encoded),
            source=Source(file=WORKSPACE_FILE, line=self.doc.line_of(ptr), pointer=ptr),
            files=tuple(sorted(set(files))),
        )

    # ------------------------------------------------------------------ flags

    def resolve_variants(
        self, name: str, spec: AgentSpec, rspec: dict[str, JSON], ptr: str, policy: PolicySpec
    ) -> None:
        """Each variant as a full member spec: the member's, with what the variant gives."""
        out: dict[str, ResolvedMember] = {}
        for vname, v in spec.variants.items():
            vptr = f"{ptr}/variants/{escape_token(vname)}"
            if not NAME_RE.match(vname):
                self.diag("invalid-name", vptr, f"invalid variant name {vname!r}: {_NAME_RULE}")
                continue
            member = self.variant(name, v, dict(rspec), vptr, policy)
            if member is not None:
                out[vname] = member
        if out:
            self.variants[name] = out

    def variant(
        self, name: str, v: VariantSpec, vspec: dict[str, JSON], vptr: str, policy: PolicySpec
    ) -> ResolvedMember | None:
        files: list[str] = []
        ok = True
        if v.version is not None:
            if not SEMVER_RE.match(v.version):
                self.diag("invalid-version", vptr + "/version", f"{v.version!r} is not semver")
                ok = False
            vspec["version"] = v.version
        if v.description is not None:
            vspec["description"] = v.description
        model = dict(vspec["model"]) if isinstance(vspec.get("model"), dict) else {}
        if v.model is not None:
            if self.floating(name, v.model.id, vptr, policy):
                ok = False
            model = {"provider": v.model.provider, "id": v.model.id, "parameters": {}}
            model["parameters"] = dict(v.model.parameters)
        if v.parameters is not None:
            params = model.get("parameters")
            merged = dict(params) if isinstance(params, dict) else {}
            merged.update(v.parameters)
            model["parameters"] = merged
        vspec["model"] = model
        if v.prompt is not None:
            prompt = self.prompt(v.prompt, vptr + "/prompt")
            if prompt is None:
                ok = False
            else:
                files.append(prompt[0])
                vspec["prompt"] = {"sha256": prompt[1], "text": prompt[2]}
        for key in ("input", "output"):
            src = getattr(v, key)
            if src is None:
                continue
            ok_s, doc = self.schema(src, f"{vptr}/{key}", files)
            ok = ok and ok_s
            vspec[key] = self.enc(doc)
        if not ok:
            return None
        return self.member(name, "agent", str(vspec["version"]), vspec, vptr, files)

    def flag_specs(
        self,
        data: dict[str, Any],
        specs: dict[str, AgentSpec | ToolSpec],
        handoffs: list[HandoffSpec],
    ) -> dict[str, FlagSpec]:
        """`flags:`, every reference checked (members, their tools and variants, handoffs)."""
        raw = data.get("flags")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.diag("invalid", "/flags", "flags must be a mapping name -> flag")
            return {}
        declared = {f"{h.from_}->{h.to}" for h in handoffs}
        out: dict[str, FlagSpec] = {}
        owner: dict[tuple[str, ...], str] = {}
        for fname, fraw in raw.items():
            fptr = "/flags/" + escape_token(str(fname))
            if not isinstance(fname, str) or not NAME_RE.match(fname):
                self.diag("invalid-name", fptr, f"invalid flag name {fname!r}: {_NAME_RULE}")
                continue
            flag = self.model(FlagSpec, fraw, fptr)
            if flag is None:
                continue
            ok = True
            for i, sw in enumerate(flag.switches):
                sptr = f"{fptr}/switches/{i}"
                problem, thing = _switch_problem(sw, specs, declared)
                if problem is not None:
                    self.diag("unknown-reference", sptr, f"flag {fname!r}: {problem}")
                    ok = False
                    continue
                if thing in owner:
                    self.diag(
                        "duplicate-switch",
                        sptr,
                        f"flag {fname!r}: {' '.join(thing[1:])} is already switched by flag "
                        f"{owner[thing]!r} (one flag per tool, handoff or member's variants)",
                    )
                    ok = False
                owner.setdefault(thing, fname)
            if ok:
                out[fname] = flag
        return out

    # ------------------------------------------------------------------ handoffs

    def handoff_specs(
        self, data: dict[str, Any], specs: dict[str, AgentSpec | ToolSpec]
    ) -> tuple[list[HandoffSpec], tuple[SchemaDoc | None, ...]]:
        raw = data.get("handoffs", [])
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            self.diag("invalid", "/handoffs", "handoffs must be a list of {from, to, contract}")
            return [], ()
        all_names = (
            set(self.doc.data.get("members") or {})
            if isinstance(self.doc.data.get("members"), dict)
            else set()
        )
        out: list[HandoffSpec] = []
        contracts: list[SchemaDoc | None] = []
        seen: dict[tuple[str, str], int] = {}
        for i, item in enumerate(raw):
            ptr = f"/handoffs/{i}"
            h = self.model(HandoffSpec, item, ptr)
            if h is None:
                continue
            ok = True
            for end, name in (("from", h.from_), ("to", h.to)):
                if name not in all_names:
                    close = difflib.get_close_matches(name, sorted(all_names), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.diag(
                        "unknown-member",
                        f"{ptr}/{end}",
                        f"handoff {h.from_} -> {h.to}: unknown member {name!r}{hint}",
                    )
                    ok = False
            pair = (h.from_, h.to)
            if pair in seen:
                self.diag(
                    "duplicate-handoff",
                    ptr,
                    f"duplicate handoff {h.from_} -> {h.to} (also declared at "
                    f"{WORKSPACE_FILE}:{self.doc.line_of(f'/handoffs/{seen[pair]}')})",
                )
                ok = False
            seen.setdefault(pair, i)
            ok_c, contract = self.schema(h.contract, ptr + "/contract", [])
            if ok and ok_c:
                out.append(h)
                contracts.append(contract)
        for name, spec in specs.items():
            if not isinstance(spec, AgentSpec):
                continue
            for j, use in enumerate(spec.tools):
                tname = use if isinstance(use, str) else use.tool
                uptr = f"/members/{escape_token(name)}/tools/{j}"
                target = specs.get(tname)
                if tname not in all_names:
                    close = difflib.get_close_matches(tname, sorted(all_names), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.diag(
                        "unknown-member",
                        uptr,
                        f"member {name!r} uses unknown tool {tname!r}{hint}",
                    )
                elif target is not None and not isinstance(target, ToolSpec):
                    self.diag(
                        "not-a-tool",
                        uptr,
                        f"member {name!r} lists {tname!r} under tools, but it is an agent "
                        "(declare a handoff instead)",
                    )
        return out, tuple(contracts)

    def cycle_warnings(self, graph: TeamGraph, handoffs: list[HandoffSpec]) -> None:
        index = {(h.from_, h.to): i for i, h in enumerate(handoffs)}
        for cyc in graph.cycles():
            path = " -> ".join([*cyc, cyc[0]])
            first = index.get((cyc[0], cyc[1 % len(cyc)]))
            ptr = f"/handoffs/{first}" if first is not None else "/handoffs"
            self.diag(
                "cycle",
                ptr,
                f"handoff cycle {path}: its members are released together as one unit",
                severity="warning",
            )


_NAME_RULE = (
    "letters, digits, '.', '_' and '-', starting with a letter or digit (names become file names)"
)


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names (aliases) of the model found at `loc` inside `model` (best effort)."""
    from teamrel.models import EvalSpec, ModelSpec, ModesSpec

    nested: dict[str, type[BaseModel]] = {
        "modes": ModesSpec,
        "model": ModelSpec,
        "evals": EvalSpec,
        "tools": ToolUse,
        "ToolUse": ToolUse,
    }
    cur = model
    for tok in loc:
        if isinstance(tok, str) and tok in nested:
            cur = nested[tok]
    return [f.alias or n for n, f in cur.model_fields.items()]


def _switch_problem(
    sw: Any, specs: Mapping[str, AgentSpec | ToolSpec], declared: Collection[str]
) -> tuple[str | None, tuple[str, ...]]:
    """What is wrong with one flag switch (None when it names something declared), and the
    thing it switches (a member's variants count as one thing: one flag selects among them)."""
    if sw.handoff is not None:
        key = str(sw.handoff).replace(" ", "")
        if key not in declared:
            return f"no declared handoff {sw.handoff!r} (write 'from->to')", ()
        return None, ("handoff", key)
    member = specs.get(str(sw.member))
    if member is None:
        return f"unknown member {sw.member!r}", ()
    if not isinstance(member, AgentSpec):
        return f"member {sw.member!r} is a tool: only agents have tools and variants", ()
    if sw.tool is not None:
        tools = [t if isinstance(t, str) else t.tool for t in member.tools]
        if sw.tool not in tools:
            return f"member {sw.member!r} does not list tool {sw.tool!r} under tools", ()
        return None, ("tool", f"{sw.member}=>{sw.tool}")
    if sw.variant not in member.variants:
        known = ", ".join(member.variants) or "none declared"
        return f"member {sw.member!r} has no variant {sw.variant!r} (variants: {known})", ()
    return None, ("variant", f"{sw.member}")


def _origin(rspec: dict[str, JSON], spec: AgentSpec | ToolSpec) -> None:
    # only present when declared, so members without an origin keep their digests
    if spec.external:
        rspec["external"] = True
    if spec.origin is not None:
        rspec["origin"] = spec.origin.model_dump(mode="json", exclude_none=True)
