"""The data model: what a workspace declares (`teamrel.yaml`) and what loading resolves it to.

Owns the pydantic models (frozen, `extra="forbid"`) of
- the workspace file: team, agent and tool members, handoffs, policy, environments;
- the resolved form every later layer works on: `SchemaDoc` (a JSON Schema with every file it
  references), `ResolvedMember` (a member's full spec with its content digest) and
  `ResolvedHandoff` (one edge of the team graph with the schemas on both ends).

This module does no I/O; `teamrel.workspace` reads files into these models.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator
from pydantic_core import ErrorDetails

from teamrel.canonical import JSON, digest

#: Names of members, teams, environments and releases: safe as file names and URL parts.
NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9_])?\Z")

#: Semantic Versioning 2.0.0, the official regex.
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\Z",
    re.ASCII,
)

#: What a pydantic error type says was expected, in teamrel's words.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}


def _json_kind(value: Any) -> str:
    """What a value is, as a reader of the file would say it (a scalar is shown as is)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def error_text(err: ErrorDetails) -> str:
    """teamrel's sentence for one pydantic validation error (an item of `errors()`).

    pydantic's own `msg` is worded differently from one pydantic release to the next; the
    errors a hand-written file commonly has are worded here, the rare rest keep pydantic's.
    """
    etype = err["type"]
    loc = err["loc"]
    key = loc[-1] if loc else None
    ctx = err.get("ctx") or {}
    if etype == "missing":
        return f"missing required key {key!r}"
    if etype == "extra_forbidden":
        return f"unknown key {key!r}"
    if etype in _EXPECTED:
        return f"expected {_EXPECTED[etype]}, not {_json_kind(err['input'])}"
    if etype == "literal_error":
        return f"{err['input']!r} is not one of the allowed values ({ctx.get('expected', '?')})"
    if etype == "string_pattern_mismatch":
        return f"{err['input']!r} does not have the expected form ({ctx.get('pattern', '?')})"
    if etype == "value_error" and "error" in ctx:
        # a teamrel validator's own message, without the "Value error, " pydantic puts before it
        return str(ctx["error"])
    return err["msg"]


#: Model ids that float: the provider may change what they point at without notice.
#: A deny-list (overridable under `policy.floating_models`), matched exactly or, for
#: entries starting with `*`, as a suffix.
DEFAULT_FLOATING_MODELS: tuple[str, ...] = (
    "*-latest",
    "*:latest",
    "latest",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4",
    "gpt-4-turbo",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-3.5-turbo",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "chatgpt-4o-latest",
    "o1",
    "o1-mini",
    "o3",
    "o3-mini",
    "o4-mini",
    "claude-3-opus",
    "claude-3-sonnet",
    "claude-3-haiku",
    "claude-3-5-sonnet",
    "claude-3-5-haiku",
    "claude-3-7-sonnet",
    "claude-sonnet-4",
    "claude-opus-4",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-opus-4-1",
    "gemini-pro",
    "gemini-1.5-pro",
    "gemini-1.5-flash",
    "gemini-2.0-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "mistral-large",
    "mistral-small",
    "command-r",
    "command-r-plus",
)


class Frozen(BaseModel):
    """Base of every model: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------- workspace file

#: A schema given in teamrel.yaml: a path to a JSON file in the workspace, an inline schema,
#: or a mapping naming where the file is generated from (`PydanticSource`: a mapping holding
#: the key `pydantic`, which no inline schema of teamrel's needs).
SchemaSource = str | dict[str, Any] | bool

#: `package.module:Model` (the attribute may be dotted: `module:Outer.Inner`).
PYDANTIC_REF_RE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
    r":[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z"
)

#: The schema slots a generated source may fill, and the direction each one faces: a
#: producer's slot is what the model *serialises*, a consumer's is what it *validates*. A
#: handoff contract is what the consumer side agrees to accept, so it is a validation schema
#: unless the mapping says `mode:` (docs/sources.md).
SLOT_MODES: dict[str, Literal["validation", "serialization"]] = {
    "input": "validation",
    "output": "serialization",
    "input_schema": "validation",
    "output_schema": "serialization",
    "call": "serialization",
    "result": "validation",
    "contract": "validation",
}


class PydanticSource(Frozen):
    """A schema slot generated from a Pydantic model: `{pydantic: "pkg.mod:Model", file: ...}`.

    Loading a workspace reads only `file` (the committed, generated schema) and never imports
    the model; `teamrel contracts sync` regenerates `file` from the model.
    """

    pydantic: str
    file: str = Field(min_length=1)
    mode: Literal["validation", "serialization"] | None = None

    @field_validator("pydantic")
    @classmethod
    def _model_ref(cls, v: str) -> str:
        if not PYDANTIC_REF_RE.match(v):
            raise ValueError(
                f"{v!r} does not name a model: write 'package.module:Model' "
                "(a module path, a colon, the class name)"
            )
        return v


def is_generated_source(src: Any) -> bool:
    """Whether a schema slot's value names a generated source rather than a schema."""
    return isinstance(src, dict) and "pydantic" in src


class ModelSpec(Frozen):
    """The pinned LLM an agent runs on."""

    provider: str = Field(min_length=1)
    id: str = Field(min_length=1, description="Pinned model snapshot id")
    parameters: dict[str, JSON] = Field(default_factory=dict)


class EvalSpec(Frozen):
    """One eval scorecard: a suite and its metric values."""

    suite: str = Field(min_length=1)
    metrics: dict[str, float] = Field(default_factory=dict)
    dataset: str | None = None


class ToolUse(Frozen):
    """How an agent uses a tool: the arguments it sends and the result it expects.

    Both are optional: undeclared, the agent is taken to send and expect exactly the tool's
    schemas as pinned in the base release, and `check --against` proves the tool's evolution
    against that pin.
    """

    tool: str
    call: SchemaSource | None = None
    result: SchemaSource | None = None


class McpOrigin(Frozen):
    """A tool served by a live MCP server: how to reach it and the tool's name there."""

    command: str | None = Field(default=None, min_length=1, description="stdio server command")
    url: str | None = Field(default=None, min_length=1, description="streamable HTTP endpoint")
    tool: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_transport(self) -> McpOrigin:
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (stdio) or 'url' (streamable HTTP)")
        return self


class A2aOrigin(Frozen):
    """An agent published as an A2A AgentCard (a file in the workspace or a URL)."""

    card: str | None = Field(default=None, min_length=1)
    url: str | None = Field(default=None, min_length=1)
    skill: str | None = None

    @model_validator(mode="after")
    def _one_place(self) -> A2aOrigin:
        if (self.card is None) == (self.url is None):
            raise ValueError("give exactly one of 'card' (a file) or 'url'")
        return self


class OriginSpec(Frozen):
    """Where a member's interface is re-read from (imports record it; `teamrel drift` reads it).

    Exactly one of: `file` (a JSON file holding the member's current schemas), `mcp` (a live
    MCP server's `tools/list`), `a2a` (an AgentCard).
    """

    file: str | None = Field(default=None, min_length=1)
    mcp: McpOrigin | None = None
    a2a: A2aOrigin | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> OriginSpec:
        given = [k for k in ("file", "mcp", "a2a") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an origin names exactly one of 'file', 'mcp' or 'a2a'")
        return self


def _check_external(external: bool, origin: OriginSpec | None) -> None:
    if external and origin is None:
        raise ValueError(
            "an external member needs an 'origin' (file, mcp or a2a) for teamrel drift to re-read"
        )


#: A media type as A2A cards list them (`text/plain`, `application/json`, `image/*`, `*/*`),
#: parameters allowed (`text/plain; charset=utf-8`).
_MEDIA_TOKEN = r"(?:\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)"
MEDIA_TYPE_RE = re.compile(rf"^{_MEDIA_TOKEN}/{_MEDIA_TOKEN}(?:\s*;.*)?\Z")


class ModesSpec(Frozen):
    """The media types an agent accepts and produces (an A2A card's input/output modes).

    `teamrel check` requires a handoff's producer `output` and consumer `input` to share a
    media type when both members declare modes (docs/check.md).
    """

    input: list[str] = Field(default_factory=list)
    output: list[str] = Field(default_factory=list)

    @field_validator("input", "output")
    @classmethod
    def _media_types(cls, v: list[str]) -> list[str]:
        for m in v:
            if not MEDIA_TYPE_RE.match(m):
                raise ValueError(f"{m!r} is not a media type (write type/subtype, e.g. text/plain)")
        return v


def media_type_key(m: str) -> tuple[str, str]:
    """(type, subtype) of a media type, lower-cased, without parameters."""
    base = m.split(";", 1)[0].strip().lower()
    t, _, sub = base.partition("/")
    return t, sub


def modes_intersect(produced: list[str], accepted: list[str]) -> bool:
    """Whether some produced media type is accepted: equal type/subtype (parameters and case
    ignored), or a wildcard (`*/*`, `text/*`) on either side covering the other."""

    def covers(a: tuple[str, str], b: tuple[str, str]) -> bool:
        return a[0] in ("*", b[0]) and a[1] in ("*", b[1])

    keys_p = [media_type_key(m) for m in produced]
    keys_a = [media_type_key(m) for m in accepted]
    return any(covers(p, a) or covers(a, p) for p in keys_p for a in keys_a)


class VariantSpec(Frozen):
    """An alternative configuration of an agent, declared beside it (`variants:`) and selected
    by a flag: what it does not give is the member's own. Resolved into a full member spec of
    its own, content-addressed like the member (docs/flags.md)."""

    version: str | None = None
    description: str | None = None
    prompt: str | None = None
    model: ModelSpec | None = None
    #: merged over the model's parameters (the variant's `model`, else the member's)
    parameters: dict[str, JSON] | None = None
    input: SchemaSource | None = None
    output: SchemaSource | None = None


class AgentSpec(Frozen):
    """An agent member as declared in teamrel.yaml."""

    kind: Literal["agent"] = "agent"
    version: str
    description: str | None = None
    model: ModelSpec
    prompt: str
    input: SchemaSource
    output: SchemaSource
    tools: list[str | ToolUse] = Field(default_factory=list)
    evals: list[EvalSpec] = Field(default_factory=list)
    metadata: dict[str, JSON] = Field(default_factory=dict)
    #: media types accepted and produced (A2A input/output modes); absent: not declared
    modes: ModesSpec | None = None
    #: deployed by someone else, on its own schedule (`teamrel drift` watches it via `origin`)
    external: bool = False
    origin: OriginSpec | None = None
    #: the provider profile its structured output is generated under (`teamrel.profiles`):
    #: `check` proves what follows from the schema the model really generates against
    structured_output: str | None = Field(default=None, min_length=1)
    #: alternative configurations flags may select (never part of the member's own digest)
    variants: dict[str, VariantSpec] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _external_has_origin(self) -> Self:
        _check_external(self.external, self.origin)
        return self

    @field_validator("evals", mode="before")
    @classmethod
    def _one_eval(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v


class ToolSpec(Frozen):
    """A tool member (e.g. an MCP tool) as declared in teamrel.yaml."""

    kind: Literal["tool"]
    version: str
    description: str | None = None
    input_schema: SchemaSource
    output_schema: SchemaSource | None = None
    metadata: dict[str, JSON] = Field(default_factory=dict)
    #: deployed by someone else, on its own schedule (`teamrel drift` watches it via `origin`)
    external: bool = False
    origin: OriginSpec | None = None

    @model_validator(mode="after")
    def _external_has_origin(self) -> Self:
        _check_external(self.external, self.origin)
        return self


MemberSpec = Annotated[AgentSpec | ToolSpec, Field(discriminator="kind")]


#: How far a handoff's proof reaches across releases (docs/check.md, "Compatibility modes"):
#: `atomic` proves the new producer against the new consumer only (every conversation is
#: pinned to one release); `backward` also proves every producer still live against the new
#: consumer; `forward` the new producer against every consumer still live; `full` both.
CompatModeName = Literal["atomic", "backward", "forward", "full"]

#: `policy.retention`: a number of days, hours or minutes (`30d`, `12h`, `90m`).
RETENTION_RE = re.compile(r"^([1-9][0-9]{0,5})([dhm])\Z")


class CompatMode(Frozen):
    """A handoff's compatibility mode: `compat: backward`, `compat: backward-transitive` or
    `compat: {mode: backward, transitive: true}` (all three spellings are the same value).

    `transitive` widens "live" from the releases live now (environment pointers and open
    rollouts' candidates) to every release promoted anywhere inside `policy.retention`.
    """

    mode: CompatModeName = "atomic"
    transitive: bool = False

    @model_validator(mode="before")
    @classmethod
    def _spelled(cls, value: Any) -> Any:
        if isinstance(value, str):
            base, sep, suffix = value.partition("-")
            if sep and suffix != "transitive":
                raise ValueError(
                    f"{value!r} is not a compatibility mode: write atomic, backward, forward or "
                    "full, optionally followed by -transitive"
                )
            return {"mode": base, "transitive": bool(sep)}
        return value

    @model_validator(mode="after")
    def _transitive_needs_a_mode(self) -> Self:
        if self.transitive and self.mode == "atomic":
            raise ValueError("atomic has no transitive form (nothing else is live to prove)")
        return self

    @property
    def backward(self) -> bool:
        """Whether older producers still live are proved against the new consumer."""
        return self.mode in ("backward", "full")

    @property
    def forward(self) -> bool:
        """Whether the new producer is proved against older consumers still live."""
        return self.mode in ("forward", "full")

    @property
    def label(self) -> str:
        """The mode as written in the short form, e.g. `backward-transitive`."""
        return f"{self.mode}-transitive" if self.transitive else self.mode


class HandoffSpec(Frozen):
    """An edge: `from`'s output goes to `to`'s input, optionally through a named contract."""

    from_: str = Field(alias="from")
    to: str
    contract: SchemaSource | None = None
    description: str | None = None
    #: which releases of the two ends must understand each other (None: `policy.compat`)
    compat: CompatMode | None = None
    #: the messages outlive the conversation (a queue, a thread store, a ticket store):
    #: rollback and rollout start prove that the older consumer reads what the newer producer
    #: wrote (and, for a rollout, both ways)
    persisted: bool = False


class GateSpec(Frozen):
    """One eval gate of an environment (docs/evals.md).

    `metric` is `member/suite.metric` (fnmatch patterns; `member/suite` alone means every
    metric with evidence: `pass_rate` and `score`). `min`/`max` are floors and ceilings;
    `no_regression` compares with the release live in the environment, failing only when the
    candidate may be worse by more than `margin` (`significant: true`: only when it is
    significantly worse by more than `margin`).
    """

    metric: str = Field(min_length=1)
    min: float | None = None
    max: float | None = None
    no_regression: bool = False
    margin: float = Field(default=0.0, ge=0)
    significant: bool = False
    min_cases: int = Field(default=0, ge=0)
    #: for hand-typed metrics without cases: which way is better
    higher_is_better: bool = True


class ScoreRule(Frozen):
    """How far one quality score of the canary may fall below stable's (absolute)."""

    max_drop: float = Field(ge=0)


class RolloutPolicy(Frozen):
    """How a progressive rollout in an environment advances and is judged (`rollout:`).

    Ratios compare the candidate arm with stable; every threshold is judged with a
    sequential method (see `teamrel.rollout`), never on a raw ratio. Steps are traffic
    percentages, increasing, ending at 100 (reaching 100 is the promotion).
    """

    steps: list[float] = Field(default_factory=lambda: [5.0, 10.0, 25.0, 50.0, 100.0])
    #: candidate conversations a step needs before it may advance or promote
    min_conversations: int = Field(default=200, ge=1)
    #: candidate conversations after which a step still undecided pauses for a human
    #: (default: 100 x min_conversations: at a 2% error rate the error-rate test of an equal
    #: candidate needs up to ~16,000 canary conversations at the last step to accept it;
    #: 25x paused 12% of such rollouts and 75x 0.1%, bench/rollout_sim.py)
    max_step_conversations: int | None = Field(default=None, ge=1)
    abort_error_ratio: float = Field(default=1.5, gt=1)
    promote_error_ratio: float = Field(default=1.1, ge=1)
    latency_p95_ratio: float = Field(default=1.3, gt=1)
    cost_ratio: float = Field(default=1.2, gt=1)
    scores: dict[str, ScoreRule] = Field(default_factory=dict)
    #: probability of aborting a candidate no worse than the promote thresholds (all tests)
    false_abort_rate: float = Field(default=0.01, gt=0, lt=0.5)
    #: probability of promoting a candidate at the abort thresholds (all tests)
    false_promote_rate: float = Field(default=0.05, gt=0, lt=0.5)

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: list[float]) -> list[float]:
        if not steps or steps[-1] != 100:
            raise ValueError("steps must end at 100 (the promotion)")
        if any(not 0 < s <= 100 for s in steps) or any(
            a >= b for a, b in itertools.pairwise(steps)
        ):
            raise ValueError("steps must be increasing percentages in (0, 100]")
        if any(round(s * 100) != s * 100 for s in steps):
            raise ValueError("steps have at most two decimals (10,000 buckets)")
        return steps

    def model_post_init(self, _context: Any) -> None:
        if self.promote_error_ratio >= self.abort_error_ratio:
            raise ValueError("promote_error_ratio must be below abort_error_ratio")

    @property
    def step_budget(self) -> int:
        """Candidate conversations after which an undecided step pauses."""
        return self.max_step_conversations or 100 * self.min_conversations


class EnvironmentSpec(Frozen):
    """Protection rules for one environment."""

    description: str | None = None
    require_reason: bool = False
    allow_incompatible: bool = True
    #: eval gates a release must pass to be promoted here
    gates: list[GateSpec] = Field(default_factory=list)
    #: what an inconclusive gate does: `block` refuses promotion, `warn` lets it through
    inconclusive: Literal["block", "warn"] = "block"
    #: what a stale scorecard (measured another configuration) does
    stale_evals: Literal["block", "warn"] = "warn"
    #: whether `--override-gates --reason TEXT` may ship past failing gates
    allow_gate_override: bool = False
    rollout: RolloutPolicy | None = None


class PolicySpec(Frozen):
    """Workspace-wide policy."""

    floating_models: list[str] = Field(default_factory=lambda: list(DEFAULT_FLOATING_MODELS))
    unknown: Literal["fail", "warn"] = "fail"
    format_assertion: bool = False
    #: the compatibility mode of every handoff that declares none (None: atomic)
    compat: CompatMode | None = None
    #: how far back `*-transitive` modes look: releases promoted within it (`30d`, `12h`)
    retention: str = Field(default="30d", pattern=r"^[1-9][0-9]{0,5}[dhm]$")

    @property
    def retention_seconds(self) -> int:
        """`retention` in seconds."""
        m = RETENTION_RE.match(self.retention)
        assert m is not None  # validated by the pattern
        return int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60}[m.group(2)]


class SwitchSpec(Frozen):
    """One thing a flag switches: exactly one of a member's tool (`{member, tool}`), a
    declared handoff (`{handoff: "a->b"}`) or a member's variant (`{member, variant}`). The
    switched thing exists (tool, handoff) or is selected (variant) iff the flag is on."""

    member: str | None = None
    tool: str | None = None
    variant: str | None = None
    handoff: str | None = None

    @model_validator(mode="after")
    def _one_thing(self) -> Self:
        if self.handoff is not None:
            if self.member is not None or self.tool is not None or self.variant is not None:
                raise ValueError("a handoff switch names only 'handoff' ('from->to')")
        elif self.member is None or (self.tool is None) == (self.variant is None):
            raise ValueError(
                "a switch is {member, tool}, {member, variant} or {handoff: 'from->to'}"
            )
        return self

    @property
    def kind(self) -> Literal["tool", "variant", "handoff"]:
        """What the switch switches."""
        if self.handoff is not None:
            return "handoff"
        return "tool" if self.tool is not None else "variant"


class FlagSpec(Frozen):
    """A feature flag (`flags:`): its default and what it switches (docs/flags.md)."""

    description: str | None = None
    default: bool = False
    switches: list[SwitchSpec] = Field(min_length=1)


class TeamFile(Frozen):
    """The whole of `teamrel.yaml`."""

    team: str
    description: str | None = None
    members: dict[str, MemberSpec]
    handoffs: list[HandoffSpec] = Field(default_factory=list)
    policy: PolicySpec = Field(default_factory=PolicySpec)
    environments: dict[str, EnvironmentSpec] = Field(default_factory=dict)
    flags: dict[str, FlagSpec] = Field(default_factory=dict)


# --------------------------------------------------------------------------- resolved forms


class SchemaDoc(Frozen):
    """A JSON Schema together with every resource its `$ref`s may reach.

    `uri` is the schema's base URI: `file:///<workspace-relative path>` for a file (a virtual,
    workspace-rooted URI: never read from disk again), `urn:teamrel:inline:<where>` for an
    inline schema. `resources` maps the URI of every other file reachable through `$ref` to its
    contents, so the document is self-contained: the compatibility engine and the store need
    nothing else to interpret it.
    """

    uri: str
    schema_: JSON = Field(alias="schema")
    resources: dict[str, JSON] = Field(default_factory=dict)

    def to_json(self) -> dict[str, JSON]:
        """Canonical JSON form (also what is digested)."""
        return {"uri": self.uri, "schema": self.schema_, "resources": dict(self.resources)}

    @property
    def digest(self) -> str:
        """Content digest of the schema and its resources."""
        return digest(self.to_json())

    @classmethod
    def inline(cls, schema: JSON, where: str = "schema") -> SchemaDoc:
        """A self-contained schema with no other resources."""
        return cls.model_validate({"uri": f"urn:teamrel:inline:{where}", "schema": schema})


class Source(Frozen):
    """Where something was declared, for diagnostics and CI annotations."""

    file: str
    line: int | None = None
    pointer: str | None = None


class ResolvedMember(Frozen):
    """A member with everything it references read in, and its content digest.

    `spec` is the canonical, fully resolved spec (prompt text, schemas with their `$ref`
    resources, model, parameters, tools, evals, metadata); `digest` is sha256 over its
    canonical JSON. The member's name and the file paths it was read from are not part of
    the digest: moving a prompt file does not change a member, editing one byte of it does.
    """

    name: str
    kind: Literal["agent", "tool"]
    version: str
    spec: dict[str, JSON]
    digest: str
    source: Source | None = None
    #: workspace-relative paths of every file this member was built from (for --changed-since)
    files: tuple[str, ...] = ()

    def schema_doc(self, which: Literal["input", "output"]) -> SchemaDoc | None:
        """The member's input or output schema (tools: input_schema / output_schema)."""
        key = which if self.kind == "agent" else f"{which}_schema"
        raw = self.spec.get(key)
        if raw is None:
            return None
        return SchemaDoc.model_validate(raw)

    #: the behavioural digest once computed (the loader primes it with a faster encoder)
    _behaviour: str | None = PrivateAttr(default=None)

    @property
    def behaviour_digest(self) -> str:
        """The behavioural digest (`behaviour_digest`): what scorecards are stamped with."""
        if self._behaviour is None:
            self._behaviour = behaviour_digest(self.spec)
        return self._behaviour

    def prime_behaviour_digest(self, value: str) -> None:
        """Record the behavioural digest computed by whoever built the spec."""
        self._behaviour = value

    @property
    def scorecards(self) -> dict[str, dict[str, JSON]]:
        """Suite -> the scorecard pinned in this member's spec (agents with recorded evals)."""
        raw = self.spec.get("scorecards")
        return (
            {str(k): v for k, v in raw.items() if isinstance(v, dict)}
            if isinstance(raw, dict)
            else {}
        )

    @property
    def model_id(self) -> str | None:
        """The pinned model id of an agent, None for a tool."""
        model = self.spec.get("model")
        return model.get("id") if isinstance(model, dict) else None

    @property
    def tools(self) -> list[str]:
        """Names of the tool members this agent calls."""
        out: list[str] = []
        for t in self.spec.get("tools") or []:
            out.append(str(t["tool"]) if isinstance(t, dict) else str(t))
        return out


EdgeKind = Literal["handoff", "tool-call", "tool-result"]


class ResolvedHandoff(Frozen):
    """One edge to prove: `producer`'s output ⊆ contract ⊆ `consumer`'s input.

    For a tool an agent calls there are two implicit edges: agent → tool (`tool-call`, the
    agent's calls must fit the tool's input schema) and tool → agent (`tool-result`).
    """

    producer: str
    consumer: str
    kind: EdgeKind = "handoff"
    #: what the producer sends (agent output; an agent's declared tool `call`; a tool's output)
    producer_schema: SchemaDoc | None = None
    #: the contract named on the handoff, if any
    contract: SchemaDoc | None = None
    #: what the consumer accepts (agent input; a tool's input; an agent's declared tool `result`)
    consumer_schema: SchemaDoc | None = None
    source: Source | None = None

    @property
    def key(self) -> str:
        """Stable identifier of the edge, e.g. `router->billing`."""
        sep = {"handoff": "->", "tool-call": "=>", "tool-result": "<="}[self.kind]
        if self.kind == "tool-result":
            return f"{self.consumer}{sep}{self.producer}"
        return f"{self.producer}{sep}{self.consumer}"


#: Spec keys that do not change what a member does: excluded from its behavioural digest.
NON_BEHAVIOURAL_KEYS = frozenset(
    {"description", "metadata", "evals", "version", "scorecards", "external", "origin"}
)


def behaviour_digest(spec: dict[str, JSON]) -> str:
    """Digest of everything that changes what a member does (prompt, model, parameters, tools,
    schemas), without its evals, scorecards, description, metadata or version: what a
    scorecard is stamped with, so a new scorecard never makes itself stale."""
    return digest({k: v for k, v in spec.items() if k not in NON_BEHAVIOURAL_KEYS})


def member_digest(spec: dict[str, JSON]) -> str:
    """The content digest of a resolved member spec."""
    return digest(spec)
