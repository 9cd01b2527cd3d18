"""`teamrel plan`: what shipping the working tree would change, before it ships.

Owns `build_plan` (the desired state, the working tree, compared member by member with a
base release: field-level diffs, schema evolution summarised by the compatibility engine,
the change category, the semver rule, the blast radius, every handoff's verdict and the
release waves), the plan document (`Plan`, format in docs/plan-format.md) and `read_plan`,
which reads a saved plan back for `teamrel release --plan` and refuses an unknown major
`format_version` or a plan whose recorded digest does not match.

Categories, as SQLMesh classifies model changes:
- `breaking`: a handoff no longer holds because of this member (its output now sends what a
  consumer rejects, or its input now rejects what a producer sends);
- `metadata-only`: only description, metadata, evals or the version changed;
- `non-breaking`: anything else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from teamrel import __version__, compat
from teamrel.baserelease import Base
from teamrel.canonical import JSON
from teamrel.check import (
    CheckReport,
    CheckSummary,
    EdgeResult,
    ModesReport,
    Prover,
    StepResult,
    UnknownPolicy,
    default_workspace,
    prove_flag_states,
    run_check,
)
from teamrel.errors import FormatVersionError, InputError, IntegrityError
from teamrel.gates import evals_section
from teamrel.graph import GraphEdge, TeamGraph
from teamrel.jsonpointer import escape_token, unescape_token
from teamrel.memberdiff import field_changes
from teamrel.models import NON_BEHAVIOURAL_KEYS, ResolvedMember, SchemaDoc, error_text
from teamrel.plandoc import (
    Action,
    BlastRadius,
    Category,
    EvalsSection,
    FieldChange,
    Finding,
    MemberEntry,
    Plan,
    PlanBase,
    PlanOptions,
    PlanSummary,
    Relation,
    SchemaChangeEntry,
    SemverEntry,
    Severity,
    StepEntry,
    VersionRef,
    Wave,
    core_digest,
)
from teamrel.progress import COMPARING, Progress, Ticker
from teamrel.resultcache import ResultCache
from teamrel.semver import check_bump, required_bump
from teamrel.workspace import Workspace

#: Major version of the plan document; a reader refuses any other.
PLAN_FORMAT_VERSION = 1
#: Lines of unified prompt diff kept in a plan (the full diff with `explain`).

#: Spec keys whose change does not change what a member does.
METADATA_KEYS = NON_BEHAVIOURAL_KEYS


# --------------------------------------------------------------------------- the document


class _PlanCore(BaseModel):
    """What a reader of a saved plan relies on; other keys are for humans and tools."""

    model_config = ConfigDict(extra="ignore")

    format_version: int
    team: str
    base: PlanBase
    desired_members: dict[str, str]
    digest: str


def _validation_error(where: str, err: ValidationError) -> InputError:
    first = err.errors()[0]
    pointer = "/" + "/".join(str(p) for p in first["loc"])
    return InputError(f"{where}#{pointer}: {error_text(first)}")


def plan_from_json(doc: JSON, where: str = "plan") -> Plan:
    """Validate a plan document; refuses an unknown major version or a tampered core."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a plan is a JSON object")
    version = doc.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(f"{where}: missing or invalid format_version (an integer)")
    if version != PLAN_FORMAT_VERSION:
        raise FormatVersionError(
            f"{where}: plan format_version {version} is not supported "
            f"(this teamrel {__version__} reads format_version {PLAN_FORMAT_VERSION})",
            hint="re-run `teamrel plan --out` with this teamrel",
        )
    try:
        _PlanCore.model_validate(doc)
    except ValidationError as err:
        raise _validation_error(where, err) from None
    expected = core_digest(doc)
    if doc["digest"] != expected:
        raise IntegrityError(
            f"{where}: the plan's digest does not match its content (edited after it was saved)"
        )
    try:
        return Plan.model_validate(doc)
    except ValidationError as err:
        raise _validation_error(where, err) from None


def read_plan(path: Path) -> Plan:
    """Read a plan saved with `teamrel plan --out` (see `plan_from_json`)."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read plan: {err.strerror or err}") from None
    if len(raw) > 512 * 1024 * 1024:
        raise InputError(f"{path}: plan file too large")
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not a JSON plan: {err}") from None
    except RecursionError:
        raise InputError(f"{path}: not a plan: JSON nested too deeply") from None
    return plan_from_json(doc, str(path))


# --------------------------------------------------------------------------- schema evolution


@dataclass(frozen=True)
class SchemaChange:
    """How one schema of a member evolved (old -> new), decided by the compatibility engine."""

    role: str  # input | output | input_schema | output_schema | tools/<name>/call|result
    relation: Relation
    decided: bool
    summary: str
    added: StepResult | None  # new ⊆ old: incompatible when new allows more
    removed: StepResult | None  # old ⊆ new: incompatible when new allows less
    #: a schema declared or undeclared (an agent's tool `call`/`result`): nothing to compare
    declaration_only: bool = False

    @property
    def widened(self) -> bool:
        """New accepts (or sends) something old did not (undecided counts as both ways)."""
        return not self.declaration_only and self.relation in ("widened", "incomparable")

    @property
    def narrowed(self) -> bool:
        """Old accepted (or sent) something new does not."""
        return not self.declaration_only and self.relation in ("narrowed", "incomparable")

    def entry(self) -> SchemaChangeEntry:
        """The plan document's form (`members[].schema_changes[]`)."""

        def step(s: StepResult | None) -> StepEntry | None:
            if s is None or s.verdict == "compatible":
                return None
            return StepEntry(
                verdict=s.verdict,
                witness=s.witness if s.has_witness else None,
                problems=[p.to_json() for p in s.problems],
                reason=s.reason,
            )

        return SchemaChangeEntry(
            role=self.role,
            relation=self.relation,
            decided=self.decided,
            summary=self.summary,
            added=step(self.added),
            removed=step(self.removed),
        )


def _pointer_tokens(pointer: str) -> list[str]:
    if not pointer or pointer == "/":
        return []
    return [unescape_token(t) for t in pointer.lstrip("/").split("/")]


def _path_label(pointer: str) -> str:
    out = ""
    for t in _pointer_tokens(pointer):
        if t.isdigit():
            out += "[]"
        else:
            out += ("." if out else "") + t
    return out or "(the whole value)"


_MISSING = object()


def _value_at(doc: JSON, pointer: str) -> Any:
    cur: Any = doc
    for t in _pointer_tokens(pointer):
        if isinstance(cur, dict) and t in cur:
            cur = cur[t]
        elif isinstance(cur, list) and t.isdigit() and int(t) < len(cur):
            cur = cur[int(t)]
        else:
            return _MISSING
    return cur


def _short_json(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _difference(step: StepResult | None) -> tuple[str, str] | None:
    """(`kind`, `what`) describing the first problem of an incompatible step: `absent` with
    the path of a property that may be missing, or `value` with `path=value`."""
    if step is None or step.verdict != "incompatible" or not step.problems:
        return None
    p = step.problems[0]
    value = _value_at(step.witness, p.instance_pointer) if step.has_witness else _MISSING
    if "required" in p.kind:
        path = p.instance_pointer
        if isinstance(value, dict):
            # the pointer names the object; the missing property is named in the message
            m = _QUOTED.search(p.message)
            if m is not None:
                name = escape_token(m.group(1))
                path = f"{path}/{name}"
        return ("absent", _path_label(path))
    if value is _MISSING:
        return ("absent", _path_label(p.instance_pointer))
    return ("value", f"{_path_label(p.instance_pointer)}={_short_json(value)}")


def _evolution_summary(
    role: str, relation: Relation, added: StepResult, removed: StepResult
) -> str:
    sending = role in ("output", "output_schema") or role.endswith("/call")
    label = role.replace("_schema", "").replace("tools/", "tool ")
    if relation == "identical":
        return f"{label} unchanged (same values, rewritten schema)"
    if added.verdict == "unknown" or removed.verdict == "unknown":
        why = added.reason if added.verdict == "unknown" else removed.reason
        return f"{label} changed; the engine could not decide how ({why or 'unknown'})"
    parts: list[str] = []
    more = _difference(added)  # a value new allows and old did not
    less = _difference(removed)  # a value old allowed and new does not
    if more is not None:
        kind, what = more
        if sending:
            parts.append(f"may now omit {what}" if kind == "absent" else f"may now send {what}")
        else:
            parts.append(
                f"no longer requires {what}" if kind == "absent" else f"now accepts {what}"
            )
    if less is not None:
        kind, what = less
        if sending:
            parts.append(
                f"now always sends {what}" if kind == "absent" else f"no longer sends {what}"
            )
        else:
            parts.append(
                f"now requires {what}" if kind == "absent" else f"no longer accepts {what}"
            )
    head = f"{label} {relation}"
    return f"{head}: {'; '.join(parts)}" if parts else head


def schema_change(
    role: str, old: SchemaDoc | None, new: SchemaDoc | None, prover: Prover
) -> SchemaChange | None:
    """How a schema evolved; None when unchanged. Both directions go through the prover (and
    so through the result cache): `added` = new ⊆ old, `removed` = old ⊆ new."""
    label = role.replace("_schema", "").replace("tools/", "tool ")
    if old is None and new is None:
        return None
    if old is None or new is None:
        what = "now declared" if old is None else "no longer declared"
        return SchemaChange(role, "incomparable", False, f"{label} schema {what}", None, None, True)
    if prover.digest(old) == prover.digest(new):
        return None
    added = prover.prove("evolution-added", new, old)
    removed = prover.prove("evolution-removed", old, new)
    decided = added.verdict != "unknown" and removed.verdict != "unknown"
    relation: Relation
    if not decided:
        relation = "incomparable"
    elif added.verdict == "compatible" and removed.verdict == "compatible":
        relation = "identical"
    elif removed.verdict == "compatible":
        relation = "widened"
    elif added.verdict == "compatible":
        relation = "narrowed"
    else:
        relation = "incomparable"
    summary = _evolution_summary(role, relation, added, removed)
    if prover.semantic_digest(old) == prover.semantic_digest(new):
        summary = f"{label} unchanged but for annotations (title, description, ...)"
    return SchemaChange(role, relation, decided, summary, added, removed)


def _schema_roles(m: ResolvedMember) -> dict[str, SchemaDoc | None]:
    roles: dict[str, SchemaDoc | None] = {}
    if m.kind == "agent":
        roles["input"] = m.schema_doc("input")
        roles["output"] = m.schema_doc("output")
        for t in m.spec.get("tools") or []:
            if isinstance(t, dict):
                name = str(t.get("tool"))
                for which in ("call", "result"):
                    raw = t.get(which)
                    roles[f"tools/{name}/{which}"] = (
                        SchemaDoc.model_validate(raw) if isinstance(raw, dict) else None
                    )
    else:
        roles["input_schema"] = m.schema_doc("input")
        roles["output_schema"] = m.schema_doc("output")
    return roles


# --------------------------------------------------------------------------- field diffs


_SCHEMA_KEYS = frozenset({"input", "output", "input_schema", "output_schema"})


def _behaviour_changed(
    old: ResolvedMember, new: ResolvedMember, schema_changes: list[SchemaChange]
) -> bool:
    """Whether anything but metadata changed; a schema rewritten to the same set of values
    (relation identical, e.g. a moved `$ref` target) does not count."""
    if old.tools != new.tools:
        return True
    if any(s.relation != "identical" for s in schema_changes):
        return True
    keys = (set(old.spec) | set(new.spec)) - METADATA_KEYS - _SCHEMA_KEYS - {"tools"}
    return any(old.spec.get(k) != new.spec.get(k) for k in keys)


def _without_scorecards(m: ResolvedMember) -> dict[str, JSON]:
    return {k: v for k, v in m.spec.items() if k != "scorecards"}


# --------------------------------------------------------------------------- building


@dataclass
class _MemberPlan:
    name: str
    action: Action
    kind: str
    old: ResolvedMember | None
    new: ResolvedMember | None
    category: Category | None = None
    changes: list[FieldChange] = field(default_factory=list)
    prompt_diff: str | None = None
    schema_changes: list[SchemaChange] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    breaks: list[str] = field(default_factory=list)  # keys of edges this member broke
    hit: set[str] = field(default_factory=set)  # members on the other end of those edges
    semver: SemverEntry | None = None
    downstream: list[str] = field(default_factory=list)
    new_capability: bool = False

    def schema(self, role: str) -> SchemaChange | None:
        for s in self.schema_changes:
            if s.role == role:
                return s
        return None

    def entry(self) -> MemberEntry:
        """The plan document's form (`members[]`)."""

        def ref(m: ResolvedMember | None) -> VersionRef | None:
            return VersionRef(version=m.version, digest=m.digest) if m else None

        return MemberEntry(
            name=self.name,
            action=self.action,
            kind=self.kind,
            category=self.category,
            old=ref(self.old),
            new=ref(self.new),
            changes=self.changes,
            prompt_diff=self.prompt_diff,
            schema_changes=[s.entry() for s in self.schema_changes],
            semver=self.semver,
            breaks=self.breaks,
            blast_radius=BlastRadius(hit=sorted(self.hit), downstream=self.downstream),
            reasons=self.reasons,
        )


def _edge_roles(edge: EdgeResult) -> tuple[str, str]:
    """The schema role of the producer and of the consumer on this edge."""
    p, c = edge.producer.name, edge.consumer.name
    if edge.kind == "handoff":
        return "output", "input"
    if edge.kind == "tool-call":
        return f"tools/{c}/call", "input_schema"
    return "output_schema", f"tools/{p}/result"  # tool-result: the tool produces


def _attribute(edge: EdgeResult, plans: Mapping[str, _MemberPlan], prover: Prover) -> list[str]:
    """The members whose change broke this edge. Empty: it was broken in the base already, or
    its contract changed (a contract is not a member)."""
    failing = [s for s in edge.failing if s.verdict == "incompatible"]
    if failing and all(s.step.startswith("tool-") for s in failing):
        tool = edge.consumer.name if edge.kind == "tool-call" else edge.producer.name
        return [tool]  # the tool's own evolution broke what the agent relied on
    changed = _changed_ends(edge, plans)
    if len(changed) < 2:
        return [n for n, _ in changed]
    return _blame_both_ends(changed, plans, prover)


def _changed_ends(edge: EdgeResult, plans: Mapping[str, _MemberPlan]) -> list[tuple[str, str]]:
    """(member, schema role) of each end of `edge` whose side of it was added or changed."""
    p_role, c_role = _edge_roles(edge)
    changed: list[tuple[str, str]] = []
    for name, role in ((edge.producer.name, p_role), (edge.consumer.name, c_role)):
        mp = plans.get(name)
        if mp is None:
            continue
        if mp.action == "add" or (mp.action == "change" and mp.schema(role) is not None):
            changed.append((name, role))
    return changed


def _fits(producer: SchemaDoc | None, consumer: SchemaDoc | None, prover: Prover) -> bool:
    if producer is None or consumer is None:
        return False
    return prover.prove("attribution", producer, consumer).verdict == "compatible"


def _blame_both_ends(
    changed: list[tuple[str, str]], plans: Mapping[str, _MemberPlan], prover: Prover
) -> list[str]:
    """Both ends changed: when this end's old schema still fits the other end's new one, the
    other end is fine and this end's change is what broke the edge."""
    (pn, prole), (cn, crole) = changed
    pp, cp = plans[pn], plans[cn]
    if pp.old is None or cp.old is None or pp.new is None or cp.new is None:
        return [pn, cn]
    old_p, new_c = _schema_roles(pp.old).get(prole), _schema_roles(cp.new).get(crole)
    new_p, old_c = _schema_roles(pp.new).get(prole), _schema_roles(cp.old).get(crole)
    blame: list[str] = []
    if _fits(old_p, new_c, prover):
        blame.append(pn)
    if _fits(new_p, old_c, prover):
        blame.append(cn)
    return blame or [pn, cn]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True)
class _Options:
    """The options a plan was computed with (recorded in the document's `options`)."""

    unknown: UnknownPolicy
    format_assertion: bool


def build_plan(
    ws: Workspace,
    base: Base,
    *,
    unknown: UnknownPolicy | None = None,
    format_assertion: bool | None = None,
    cache_dir: Path | None = None,
    explain: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Compare the working tree `ws` with `base` and compute the plan.

    `progress` is told how many handoffs are proved, then how many changed members are
    compared with their base version (see `teamrel.progress`)."""
    policy = ws.team.policy
    opts = _Options(
        unknown or policy.unknown,
        policy.format_assertion if format_assertion is None else format_assertion,
    )
    prover = Prover(ResultCache(cache_dir), format_assertion=opts.format_assertion)
    report = _prove_handoffs(ws, base, opts, prover, progress)
    plans = _member_plans(ws, base)
    _compare_changed(plans, prover, explain=explain, progress=progress)
    findings = _handoff_findings(report, plans, prover, opts.unknown)
    for mp in plans.values():
        finding = _classify(ws, mp)
        if finding is not None:
            findings.append(finding)
    plan = _document(ws, base, report, plans, findings, opts, now)
    prover.cache.save()
    return plan


def _prove_handoffs(
    ws: Workspace, base: Base, opts: _Options, prover: Prover, progress: Progress | None
) -> CheckReport:
    """Phase 1: every handoff of the working tree proved, as `teamrel check` does."""
    report: CheckReport = run_check(
        default_workspace(ws),
        unknown=opts.unknown,
        format_assertion=opts.format_assertion,
        base=base.members,
        prover=prover,
        base_info=base.ref(),
        progress=progress,
    )
    # every explored flag state too: its edges join the report, named by the state
    report, _ = prove_flag_states(ws, report, prover, base=base.members)
    return report


def _member_plans(ws: Workspace, base: Base) -> dict[str, _MemberPlan]:
    """Phase 2: each member's action (add, change, remove, unchanged)."""
    plans: dict[str, _MemberPlan] = {}
    for name, new in ws.members.items():
        old = base.members.get(name)
        if old is None:
            plans[name] = _MemberPlan(name, "add", new.kind, None, new)
        elif old.digest == new.digest:
            plans[name] = _MemberPlan(name, "unchanged", new.kind, old, new)
        else:
            plans[name] = _MemberPlan(name, "change", new.kind, old, new)
    for name, old in base.members.items():
        if name not in ws.members:
            plans[name] = _MemberPlan(name, "remove", old.kind, old, None)
    return plans


def _compare_changed(
    plans: Mapping[str, _MemberPlan],
    prover: Prover,
    *,
    explain: bool,
    progress: Progress | None,
) -> None:
    """Phase 3: field diffs and schema evolution of every changed member."""
    changed = [mp for mp in plans.values() if mp.action == "change"]
    tick = Ticker(progress, COMPARING, len(changed))
    for mp in changed:
        assert mp.old is not None and mp.new is not None  # a change has both sides
        mp.changes, mp.prompt_diff = field_changes(mp.old, mp.new, explain=explain)
        old_roles, new_roles = _schema_roles(mp.old), _schema_roles(mp.new)
        for role in [*new_roles, *(r for r in old_roles if r not in new_roles)]:
            sc = schema_change(role, old_roles.get(role), new_roles.get(role), prover)
            if sc is not None:
                mp.schema_changes.append(sc)
        if mp.old.kind != mp.new.kind:
            mp.changes.insert(0, FieldChange(field="kind", old=mp.old.kind, new=mp.new.kind))
        tick.advance()
    tick.finish()


def _finding(
    code: str,
    severity: Severity,
    message: str,
    *,
    member: str | None = None,
    edge: str | None = None,
) -> Finding:
    return Finding(code=code, severity=severity, member=member, edge=edge, message=message)


def _handoff_findings(
    report: CheckReport,
    plans: Mapping[str, _MemberPlan],
    prover: Prover,
    unknown_policy: UnknownPolicy,
) -> list[Finding]:
    """Phase 4: who broke which handoff; a finding per handoff that does not hold."""
    findings: list[Finding] = []
    for edge in report.edges:
        if edge.verdict == "incompatible":
            blamed = sorted(set(_attribute(edge, plans, prover)))
            for name in blamed:
                mp = plans[name]
                mp.breaks.append(edge.key)
                other = edge.consumer.name if name == edge.producer.name else edge.producer.name
                mp.hit.add(other)
            cause = (
                f" (caused by {', '.join(blamed)})"
                if blamed
                else " (not caused by a member change: broken in the base already, "
                "or by its contract)"
            )
            message = f"{edge.key}: {edge.first_problem()}{cause}"
            findings.append(_finding("incompatible-handoff", "error", message, edge=edge.key))
        elif edge.verdict == "unknown":
            severity: Severity = "error" if unknown_policy == "fail" else "warning"
            message = f"{edge.key}: could not be decided: {edge.first_problem()}"
            findings.append(_finding("undecided-handoff", severity, message, edge=edge.key))
    return findings


def _classify(ws: Workspace, mp: _MemberPlan) -> Finding | None:
    """Phase 5: an added or changed member's category, reasons, semver rule and blast radius;
    the semver finding, if any."""
    if mp.action in ("unchanged", "remove"):
        return None
    assert mp.new is not None
    below = ws.graph.downstream(mp.name)
    mp.downstream = [n for n in ws.members if n in below]
    if mp.breaks:
        mp.category = "breaking"
        mp.reasons.append(
            f"breaking: {', '.join(mp.breaks)} no longer holds because of this change "
            f"(hits {', '.join(sorted(mp.hit))})"
        )
    if mp.action == "add":
        mp.category = mp.category or "non-breaking"
        mp.reasons.append("new member")
        return None
    _categorise_change(mp)
    return _check_semver(mp)


def _categorise_change(mp: _MemberPlan) -> None:
    """The category and reasons of a changed member (a breaking one is already known)."""
    old, new = mp.old, mp.new
    assert old is not None and new is not None
    widened = [s for s in mp.schema_changes if s.widened]
    added_tools = [c.new for c in mp.changes if c.field == "tools" and c.new]
    mp.new_capability = bool(widened or added_tools)
    for s in mp.schema_changes:
        mp.reasons.append(s.summary)
    for t in added_tools:
        mp.reasons.append(f"new capability: now calls tool {t}")
    if mp.category is not None:
        return
    mp.category = (
        "non-breaking" if _behaviour_changed(old, new, mp.schema_changes) else "metadata-only"
    )
    fields = sorted({c.field.split(".")[0] for c in mp.changes} - {"version"})
    what = ", ".join(fields) or "nothing but the version"
    mp.reasons.append(
        f"non-breaking: {what} changed, and no handoff breaks because of it"
        if mp.category == "non-breaking"
        else f"metadata-only: only {what} changed, nothing a neighbour could notice"
    )


def _check_semver(mp: _MemberPlan) -> Finding | None:
    """The semver rule of a changed member against its version bump; the finding, if any."""
    old, new = mp.old, mp.new
    assert old is not None and new is not None
    required = required_bump(breaking=mp.category == "breaking", new_capability=mp.new_capability)
    # a new scorecard is evidence about the member, not a change of it: no bump needed
    bump, finding = check_bump(
        old.version,
        new.version,
        required,
        content_changed=_without_scorecards(old) != _without_scorecards(new),
    )
    mp.semver = SemverEntry(
        old=old.version,
        new=new.version,
        bump=bump,
        required=required,
        ok=finding is None,
        finding=finding.code if finding else None,
        message=finding.message if finding else None,
        suggested=finding.suggested if finding else None,
    )
    if finding is None:
        return None
    return _finding(finding.code, "error", f"{mp.name}: {finding.message}", member=mp.name)


def _summary_line(
    base: Base,
    plans: Mapping[str, _MemberPlan],
    handoffs: CheckSummary,
    waves: int,
    problems: int,
) -> str:
    """Phase 6: `Plan: 2 to change (1 breaking), 1 to add, 0 to remove · ...`."""

    def part(action: Action, verb: str) -> str:
        # a new member can be "breaking" too (its handoffs do not hold): say so where it is
        count = sum(1 for p in plans.values() if p.action == action)
        n = sum(1 for p in plans.values() if p.action == action and p.category == "breaking")
        return f"{count} to {verb}" + (f" ({n} breaking)" if n else "")

    handoff_parts = [f"{handoffs.compatible} compatible"]
    for v in ("incompatible", "unknown", "unchecked"):
        if handoffs.count(v):
            handoff_parts.append(f"{handoffs.count(v)} {v}")
    edges = f"{_plural(handoffs.edges, 'handoff')}: {', '.join(handoff_parts)}"
    if any(p.action != "unchanged" for p in plans.values()):
        removed = sum(1 for p in plans.values() if p.action == "remove")
        line = (
            f"Plan: {part('change', 'change')}, {part('add', 'add')}, {removed} to remove · "
            f"{edges} · {_plural(waves, 'release wave')}"
        )
    else:
        line = f"No changes: the working tree matches {base.describe()} · {edges}"
    if problems:
        line += f" · {_plural(problems, 'problem')}"
    return line


def _document(
    ws: Workspace,
    base: Base,
    report: CheckReport,
    plans: Mapping[str, _MemberPlan],
    findings: list[Finding],
    opts: _Options,
    now: datetime | None,
) -> Plan:
    """Phase 7: the plan (docs/plan-format.md), its digest last."""
    waves = _release_waves(ws, plans)
    counts = {a: sum(1 for p in plans.values() if p.action == a) for a in plans_actions()}
    handoffs = report.summary()
    problems = sum(1 for f in findings if f.severity == "error")
    members_order = [*ws.members, *(n for n in base.members if n not in ws.members)]
    plan = Plan(
        format_version=PLAN_FORMAT_VERSION,
        teamrel_version=__version__,
        engine_version=compat.ENGINE_VERSION,
        team=ws.team.team,
        created_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        base=PlanBase.model_validate(base.to_json()),
        summary=PlanSummary(
            line=_summary_line(base, plans, handoffs, len(waves), problems),
            **counts,
            breaking=sum(1 for p in plans.values() if p.category == "breaking"),
            handoffs=handoffs.to_json(),
            waves=len(waves),
            problems=problems,
        ),
        has_changes=any(p.action != "unchanged" for p in plans.values()),
        passed=not problems,
        desired_members={n: m.digest for n, m in ws.members.items()},
        members=[plans[n].entry() for n in members_order],
        handoffs=[e.to_json() for e in report.edges],
        waves=waves,
        findings=findings,
        options=PlanOptions(unknown=opts.unknown, format_assertion=opts.format_assertion),
        evals=EvalsSection.model_validate(
            evals_section(ws.members, base.members, ws.team.environments)
        ),
        flags=report.flags.to_json() if report.flags is not None else None,
        digest="",
    )
    return plan.model_copy(update={"digest": plan.core_digest()})


def with_compat_modes(plan: Plan, edges: list[EdgeResult], modes: ModesReport) -> Plan:
    """The plan with the pairs its handoffs' compatibility modes added (`teamrel.meet`): a
    `compat_modes` section (the live releases, the count per mode, every pair), a finding per
    pair that fails, and `passed` and the digest recomputed. Only called when a mode is
    declared, so a plan without one is unchanged."""
    findings = [*plan.findings, *_live_pair_findings(edges, plan.options.unknown)]
    problems = sum(1 for f in findings if f.severity == "error")
    line = re.sub(r" · [0-9]+ problems?$", "", plan.summary.line)
    if problems:
        line += f" · {_plural(problems, 'problem')}"
    updated = plan.model_copy(
        update={
            "findings": findings,
            "passed": not problems,
            "summary": plan.summary.model_copy(update={"problems": problems, "line": line}),
            "compat_modes": {**modes.to_json(), "pairs": [e.to_json() for e in edges]},
        }
    )
    return updated.model_copy(update={"digest": updated.core_digest()})


def _live_pair_findings(edges: list[EdgeResult], unknown_policy: UnknownPolicy) -> list[Finding]:
    findings: list[Finding] = []
    for e in edges:
        mode = e.compat_mode
        if mode is None:
            continue  # every edge here is a pair a mode added (`teamrel.meet.mode_edges`)
        added_by = f"{mode.direction} pair of {mode.handoff}"
        if e.verdict == "incompatible":
            releases = ", ".join(mode.releases)
            message = f"{e.key} ({added_by}, live in {releases}): {e.first_problem()}"
            findings.append(_finding("incompatible-live-pair", "error", message, edge=e.key))
        elif e.verdict == "unknown":
            severity: Severity = "error" if unknown_policy == "fail" else "warning"
            message = f"{e.key} ({added_by}): could not be decided: {e.first_problem()}"
            findings.append(_finding("undecided-live-pair", severity, message, edge=e.key))
    return findings


def plans_actions() -> tuple[Action, ...]:
    """Every member action, in display order."""
    return ("add", "change", "remove", "unchanged")


def _consumer_role(kind: str, producer: str, consumer: str) -> str:
    if kind == "handoff":
        return "input"
    if kind == "tool-call":
        return "input_schema"
    return f"tools/{producer}/result"


def _release_waves(ws: Workspace, plans: Mapping[str, _MemberPlan]) -> list[Wave]:
    """Order the members to ship: for each handoff between two shipped members, the consumer
    goes first (it must accept the new values before they are sent), unless the consumer
    narrows its input, in which case the producer must stop sending first. Members of a cycle
    ship together; removals come last."""
    shipped = [n for n in ws.members if plans[n].action in ("add", "change")]
    ship = set(shipped)
    edges: list[GraphEdge] = []
    for h in ws.handoffs:
        if h.producer not in ship or h.consumer not in ship or h.producer == h.consumer:
            continue
        role = _consumer_role(h.kind, h.producer, h.consumer)
        sc = plans[h.consumer].schema(role)
        if sc is not None and sc.narrowed and not sc.widened:
            edges.append(GraphEdge(h.producer, h.consumer))
        else:
            edges.append(GraphEdge(h.consumer, h.producer))
    waves: list[Wave] = []
    if shipped:
        graph = TeamGraph.build(shipped, edges)
        for i, wave in enumerate(graph.waves(), start=1):
            waves.append(Wave(wave=i, action="ship", members=wave))
    removed = [n for n, p in plans.items() if p.action == "remove"]
    if removed:
        waves.append(Wave(wave=len(waves) + 1, action="remove", members=sorted(removed)))
    return waves
