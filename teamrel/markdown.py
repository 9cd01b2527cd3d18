"""The plan as GitHub-flavoured Markdown: a pull-request comment or a job summary.

Owns `render_plan_markdown`, which reads a plan (`teamrel.plandoc.Plan`, docs/plan-format.md)
and nothing else, so a saved plan renders the same as a fresh one. The output is a pure
function of the document minus its timestamp: posting it on every push of a pull request
shows a diff only when the plan itself changed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from teamrel.canonical import JSON
from teamrel.check import CheckSummary, EdgeResult, PlanCheck
from teamrel.flags import label
from teamrel.gates import GateVerdict, describe
from teamrel.plandoc import EvalMetric, EvalsSection, EvalSuite, MemberEntry, Plan, PlanBase, Wave

#: Sections with more rows than this are folded into a <details> block: a pull-request
#: comment should show the verdict and the problems without scrolling past a thousand rows.
FOLD_OVER = 10

_ACTION = {"add": "➕ add", "change": "✏️ change", "remove": "➖ remove", "unchanged": "unchanged"}
_VERDICT = {
    "compatible": "✅ compatible",
    "incompatible": "❌ incompatible",
    "unknown": "⚠️ unknown",
    "unchecked": "⏭️ unchecked",
}


def cell(text: object) -> str:
    """A table cell: pipes escaped, newlines flattened (a table row is one line)."""
    s = str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", "<br>")


def code(text: object) -> str:
    """Inline code that survives backticks inside `text`."""
    s = str(text)
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def block(text: str, lang: str = "") -> list[str]:
    """A fenced code block, its fence longer than any backtick run inside."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{lang}", text.rstrip("\n"), fence]


def _uri(ref: str) -> str:
    """A schema reference as the workspace path a reviewer can open."""
    return ref.removeprefix("file:///")


def _fold(summary: str, body: list[str], *, fold: bool) -> list[str]:
    if not fold:
        return body
    # blank lines around the body: GitHub renders Markdown inside <details> only then
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>"]


def _version(m: MemberEntry) -> str:
    old, new = m.old, m.new
    if old and new and old.version != new.version:
        return f"{old.version} → {new.version}"
    if old and new and old.digest != new.digest:
        return f"{new.version} (content changed)"
    side = new or old
    return side.version if side else ""


def _rule(m: MemberEntry) -> str:
    sv = m.semver
    if m.action == "add":
        return "new member"
    if m.action == "remove":
        return "removed"
    if not sv:
        return ""
    if sv.ok:
        return f"✅ {sv.bump} bump (≥ {sv.required})"
    suggested = f", use {code(sv.suggested)}" if sv.suggested else ""
    return f"❌ {sv.message}{suggested}"


def _base(base: PlanBase) -> str:
    if base.kind == "empty":
        return "an empty team (no release yet)"
    if base.kind == "env":
        return f"environment {code(base.env)} ({base.release or 'nothing live'})"
    path = f" ({code(base.path)})" if base.path else ""
    return f"release {code(base.release)}{path}"


def _value(v: JSON) -> str:
    if isinstance(v, str) and v.startswith("sha256:"):
        return v.removeprefix("sha256:")[:12]
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _member_details(m: MemberEntry) -> list[str]:
    """The field-level diff of one changed member, as a list."""
    lines: list[str] = []
    for s in m.schema_changes:
        lines.append(f"- {s.summary}")
    for c in m.changes:
        if c.field == "version" or c.field.startswith("evals"):
            continue
        if c.field == "tools":
            what = f"+ {c.new}" if c.new else f"- {c.old}"
            lines.append(f"- tools: {code(what)}")
        else:
            lines.append(f"- {c.field}: {code(_value(c.old))} → {code(_value(c.new))}")
    radius = m.blast_radius
    if radius.hit:
        lines.append(f"- hits: {', '.join(code(n) for n in radius.hit)}")
    if radius.downstream:
        lines.append(f"- blast radius: {', '.join(code(n) for n in radius.downstream)}")
    if m.prompt_diff:
        lines += ["", *_fold("prompt diff", block(m.prompt_diff, "diff"), fold=True)]
    return lines


def _witnesses(edge: EdgeResult) -> list[str]:
    out: list[str] = []
    for s in edge.steps:
        if s.verdict != "incompatible":
            continue
        out.append(f"Step {code(s.step)}: {code(_uri(s.left))} ⊄ {code(_uri(s.right))}")
        out.append("")
        for p in s.problems:
            where = f" at {code(p.instance_pointer)}" if p.instance_pointer else ""
            out.append(f"- {code(p.kind)}{where}: {p.message}")
        if s.has_witness:
            witness = json.dumps(s.witness, indent=2, ensure_ascii=False, sort_keys=True)
            out += [
                "",
                "A message the producer may send and the consumer rejects:",
                "",
                *block(witness, "json"),
            ]
        out.append("")
    return out


def _edge_name(e: EdgeResult) -> str:
    p, c = e.producer, e.consumer
    state = f"{label(e.flag_state)}: " if e.flag_state is not None else ""
    return f"{state}{p.name}@{p.version} → {c.name}@{c.version}"


def _num(v: object) -> str:
    return "—" if v is None else f"{v:.4g}"


def _scorecard_lines(section: EvalsSection | None) -> list[str]:
    """The scorecards that moved (live → new, Δ with its one-sided 95% bounds), stale ones,
    and each gated environment's verdict; empty when the plan has no scorecards or gates."""
    if section is None:
        return []
    out: list[str] = []
    rows: list[str] = []
    stale: list[str] = []
    for s in section.suites:
        if s.stale:
            stale.append(f"- ⚠️ stale: {s.stale}")
        rows += [_scorecard_row(s, m) for m in s.metrics if _moved_evidence(m)]
    if rows:
        table = [
            "| suite | metric | live | new | Δ [one-sided 95%] | n | scorecard |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
        ]
        out += _fold(f"{len(rows)} scorecard metrics moved", table, fold=len(rows) > FOLD_OVER)
        out.append("")
    if stale:
        out += [*stale, ""]
    for env, report in section.gates.items():
        verdicts = report["verdicts"]
        shown = [v for v in verdicts if v["status"] != "pass"]
        head = "✅ pass" if report["passed"] else "❌ refused"
        passing = f"{len(verdicts) - len(shown)} of {len(verdicts)} verdicts pass"
        out += [f"Gates of {code(env)}: **{head}** ({passing})", ""]
        mark = {"fail": "❌", "inconclusive": "⚠️"}
        out += [
            f"- {mark.get(v['status'], '✅')} {cell(describe(GateVerdict.of(v)))}" for v in shown
        ]
        if shown:
            out.append("")
    return out


def _moved_evidence(m: EvalMetric) -> bool:
    # hand-typed figures are the eval-changes table's; unchanged evidence folds away
    return m.evidence and not (m.live is not None and m.live == m.new)


def _scorecard_row(s: EvalSuite, m: EvalMetric) -> str:
    d = m.delta or {}
    dtext = "" if d.get("value") is None else f"{d['value']:+.4g}"
    if d.get("lo") is not None:
        dtext += f" [{_num(d['lo'])}, {_num(d['hi'])}]"
    return (
        f"| {code(s.member + '/' + s.suite)} | {cell(m.metric)} "
        f"| {_num(m.live)} | {_num(m.new)} | {cell(dtext)} | {m.n} "
        f"| {'fresh' if s.fresh else '**stale**'} |"
    )


def render_plan_markdown(plan: Plan) -> str:
    """The plan as a Markdown pull-request comment (ends with a newline)."""
    mark = "❌" if not plan.passed else ("✏️" if plan.has_changes else "✅")
    checked = PlanCheck.of(plan)
    out = [f"### {mark} teamrel plan: {code(plan.team)}", ""]
    out += [f"**{plan.summary.line}**", ""]
    out += [f"Base: {_base(plan.base)} · engine {plan.engine_version}", ""]
    out += _findings(plan)
    out += _members(plan)
    out += _breaking(checked.edges)
    out += _evals(plan)
    out += _rollout(plan.waves)
    out += _handoffs(checked, plan)
    out += _compat_modes(checked)
    out.append(f"<sub>plan {code(plan.digest)}</sub>")
    return "\n".join(out) + "\n"


def _findings(plan: Plan) -> list[str]:
    out: list[str] = []
    if plan.problems:
        out += ["#### Problems", ""]
        out += [f"- ❌ {f.message}" for f in plan.problems]
        out.append("")
    if plan.warnings:
        out += ["#### Warnings", ""]
        out += [f"- ⚠️ {f.message}" for f in plan.warnings]
        out.append("")
    return out


def _members(plan: Plan) -> list[str]:
    out: list[str] = []
    changed = [m for m in plan.members if m.action != "unchanged"]
    unchanged = [m.name for m in plan.members if m.action == "unchanged"]
    if changed:
        table = [
            "| member | change | version | category | version rule |",
            "| --- | --- | --- | --- | --- |",
        ]
        for m in changed:
            cat: str = m.category or ""
            cat = f"**{cat}**" if cat == "breaking" else cat
            table.append(
                f"| {code(m.name)} | {_ACTION[m.action]} | {cell(_version(m))} "
                f"| {cat} | {cell(_rule(m))} |"
            )
        out += ["#### Members", ""]
        out += _fold(f"{len(changed)} members to ship", table, fold=len(changed) > FOLD_OVER)
        out.append("")
        for m in changed:
            details = _member_details(m) if m.action == "change" else []
            if details:
                out += _fold(f"<code>{m.name}</code>: what changed", details, fold=True)
                out.append("")
    if unchanged:
        names = ", ".join(code(n) for n in unchanged)
        if len(unchanged) > FOLD_OVER:
            out += _fold(f"{len(unchanged)} members unchanged", [names], fold=True)
        else:
            out.append(f"Unchanged: {names}")
        out.append("")
    return out


def _breaking(edges: Sequence[EdgeResult]) -> list[str]:
    out: list[str] = []
    broken = [e for e in edges if e.verdict == "incompatible"]
    if broken:
        out += ["#### Breaking handoffs", ""]
        for e in broken:
            out += [f"**{code(e.key)}** ({_edge_name(e)})", ""]
            first = e.first_problem()
            if first:
                out += [f"> {first}", ""]
            out += _witnesses(e)
    return out


def _evals(plan: Plan) -> list[str]:
    out: list[str] = []
    evals = [
        (m.name, c)
        for m in plan.members
        if m.action != "unchanged"
        for c in m.changes
        if c.field == "evals" or c.field.startswith("evals.")
    ]
    scorecards = _scorecard_lines(plan.evals)
    if evals or scorecards:
        out += ["#### Evals", ""]
        out += scorecards
    if evals:
        table = ["| member | metric | old | new |", "| --- | --- | --- | --- |"]
        for name, c in evals:
            metric = c.field.removeprefix("evals").removeprefix(".") or "evals"
            old = "" if c.old is None else _value(c.old)
            new = "" if c.new is None else _value(c.new)
            table.append(f"| {code(name)} | {cell(metric)} | {cell(old)} | {cell(new)} |")
        out += _fold(f"{len(evals)} eval changes", table, fold=len(evals) > FOLD_OVER)
        out.append("")
    return out


def _rollout(waves: Sequence[Wave]) -> list[str]:
    if not waves:
        return []
    table = ["| wave | action | members |", "| --- | --- | --- |"]
    for w in waves:
        names = ", ".join(code(n) for n in w.members)
        table.append(f"| {w.wave} | {w.action} | {names} |")
    out = ["#### Rollout", ""]
    out += _fold(f"{len(waves)} release waves", table, fold=len(waves) > FOLD_OVER)
    out.append("")
    return out


def _handoffs(checked: PlanCheck, plan: Plan) -> list[str]:
    edges = checked.edges
    if not edges:
        return []
    s = CheckSummary.from_json(plan.summary.handoffs)
    counts = ", ".join(
        f"{s.count(v)} {v}"
        for v in ("compatible", "incompatible", "unknown", "unchecked")
        if s.count(v)
    )
    table = ["| handoff | verdict | versions | first problem |", "| --- | --- | --- | --- |"]
    for e in edges:
        problem = e.first_problem() if e.verdict != "compatible" else ""
        table.append(
            f"| {code(e.key)} | {_VERDICT.get(e.verdict, e.verdict)} "
            f"| {cell(_edge_name(e))} | {cell(problem or '')} |"
        )
    out = ["#### Handoffs", ""]
    out += _fold(f"{s.edges} handoffs: {counts}", table, fold=len(edges) > FOLD_OVER)
    out.append("")
    return out


def _compat_modes(checked: PlanCheck) -> list[str]:
    modes, pairs = checked.modes, checked.pairs
    if modes is None or not pairs:
        return []  # only when a mode added pairs: a plan without one renders as before
    live = ", ".join(f"{code(r.release)} ({', '.join(r.where)})" for r in modes.live_releases)
    out = ["#### Compatibility modes", ""]
    out += [
        f"{modes.backward} backward and {modes.forward} forward pair(s) added with "
        f"the live releases {live}.",
        "",
    ]
    table = ["| pair | verdict | added by | first problem |", "| --- | --- | --- | --- |"]
    for e in pairs:
        m = e.compat_mode
        added_by = f"{m.direction} pair of {m.handoff}" if m is not None else ""
        problem = e.first_problem() if e.verdict != "compatible" else ""
        table.append(
            f"| {code(e.key)} | {_VERDICT.get(e.verdict, e.verdict)} "
            f"| {cell(added_by)} | {cell(problem or '')} |"
        )
    out += _fold(f"{len(pairs)} pairs", table, fold=len(pairs) > FOLD_OVER)
    out.append("")
    return out
