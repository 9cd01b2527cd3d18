"""`teamrel report`: plan, check and team graph as one self-contained HTML file.

Owns `render_report`, which reads a plan (`teamrel.plandoc.Plan`; its handoffs are the
check's edges) and the team graph, and writes one HTML page with inline CSS, SVG and
JavaScript: no CDN, no font, no request of any kind, so it opens offline, from a CI artifact or
an e-mail attachment. The SVG is drawn here, in Python (columns are release waves, from
`TeamGraph.layout`); the script only handles clicks, search and filters, so the page is
readable (and testable) before any script runs. The Evals section (scorecard metrics, gate
verdicts) is plain HTML as well, present when the plan has scorecards or gates.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass

from teamrel.canonical import JSON
from teamrel.check import EdgeResult, PlanCheck
from teamrel.gates import GateVerdict, describe
from teamrel.graph import TeamGraph
from teamrel.plandoc import EvalsSection, MemberEntry, Plan

#: Version of the JSON embedded in the page (`#teamrel-data`), for tools that scrape it.
REPORT_DATA_VERSION = 1
#: Above this many members the unchanged handoffs start hidden: a 1,000-member team is a list
#: to search and filter, not a picture of every line.
LARGE_TEAM = 150

COL_W, NODE_W, NODE_H, ROW_H, TOP, LEFT = 250, 180, 34, 46, 44, 20

CATEGORY_COLOUR = {
    "breaking": "#cf222e",
    "non-breaking": "#1a7f37",
    "metadata-only": "#0969da",
    "unchanged": "#6e7781",
}
VERDICT_COLOUR = {
    "incompatible": "#cf222e",
    "compatible": "#1a7f37",
    "unknown": "#bf8700",
    "unchecked": "#8250df",
    "unchanged": "#afb8c1",
}


@dataclass
class HtmlReport:
    """The rendered page and what the command reports about it."""

    html: str
    passed: bool
    summary_line: str
    members: int
    handoffs: int


def html_report(plan: Plan, graph: TeamGraph) -> HtmlReport:
    """`teamrel report`: the page of `plan` over the team `graph`, with what the command
    says about it (verdict, summary line, counts)."""
    return HtmlReport(
        html=render_report(plan, graph),
        passed=plan.passed,
        summary_line=plan.summary_line,
        members=len(graph.nodes),
        handoffs=len(plan.handoffs),
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def edge_verdict(edge: EdgeResult, changed: set[str]) -> str:
    """The colour class of a handoff: its check verdict, or `unchanged` for a compatible
    handoff between two members the release does not touch."""
    p, c = edge.producer.name, edge.consumer.name
    if edge.verdict == "compatible" and p not in changed and c not in changed:
        return "unchanged"
    return edge.verdict


def _css() -> str:
    cats = "\n".join(
        f".node[data-category={k}] rect{{stroke:{v}}} .node[data-category={k}] .bar{{fill:{v}}}"
        f" .sw-{k}{{background:{v}}}"
        for k, v in CATEGORY_COLOUR.items()
    )
    verdicts = "\n".join(
        f".edge[data-verdict={k}]{{stroke:{v}}} .sw-v-{k}{{background:{v}}}"
        f" #graph.hide-{k} .edge[data-verdict={k}]{{display:none}}"
        for k, v in VERDICT_COLOUR.items()
    )
    return f"""
*{{box-sizing:border-box}}
body{{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;
  background:#f6f8fa}}
header{{padding:12px 20px;background:#fff;border-bottom:1px solid #d0d7de}}
header h1{{margin:0 0 4px;font-size:20px}}
.badge{{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600}}
.badge.fail{{background:#cf222e}} .badge.ok{{background:#1a7f37}}
#controls{{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:8px 20px;
  background:#fff;border-bottom:1px solid #d0d7de;position:sticky;top:0;z-index:2}}
#controls input[type=search]{{width:260px;padding:4px 8px}}
.sw{{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:middle}}
#layout{{display:flex;align-items:flex-start}}
#graph{{flex:1;overflow:auto;max-height:calc(100vh - 120px);background:#fff;margin:12px;
  border:1px solid #d0d7de}}
#details{{width:420px;margin:12px 12px 12px 0;padding:12px;background:#fff;
  border:1px solid #d0d7de;max-height:calc(100vh - 120px);overflow:auto}}
#details pre{{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px}}
.node rect{{fill:#fff;stroke-width:2}} .node text{{font-size:12px}} .node .ver{{fill:#57606a}}
.node{{cursor:pointer}} .node.tool rect{{stroke-dasharray:4 2}}
.edge{{fill:none;stroke-width:1.5;cursor:pointer;opacity:.8}}
.edge[data-verdict=incompatible]{{stroke-width:4;opacity:1}}
.edge[data-verdict=unknown]{{stroke-width:3}}
.edge.tool{{stroke-dasharray:5 3}}
.wave{{font-size:12px;fill:#57606a;font-weight:600}}
.dim{{opacity:.12}} .sel{{stroke-width:6 !important;opacity:1}}
.node.sel rect{{stroke-width:4}}
table{{border-collapse:collapse;margin:0 12px 24px;background:#fff;font-size:13px}}
td,th{{border:1px solid #d0d7de;padding:3px 8px;text-align:left}}
h2{{margin:16px 12px 6px;font-size:16px}}
tr.hidden{{display:none}}
{cats}
{verdicts}
"""


_JS = r"""
(function () {
  const D = JSON.parse(document.getElementById('teamrel-data').textContent);
  const graph = document.getElementById('graph');
  const details = document.getElementById('details');
  const esc = s => String(s).replace(/[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;',
    '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]));
  function clearSel() {
    graph.querySelectorAll('.sel').forEach(n => n.classList.remove('sel'));
  }
  function showEdge(key) {
    const el = graph.querySelector('.edge[data-key="' + CSS.escape(key) + '"]');
    clearSel();
    if (el) el.classList.add('sel');
    const e = D.edges[key];
    let h = '<h3>' + esc(key) + '</h3><p>verdict: <b>' + esc(e.verdict) + '</b>' +
      (e.contract ? ' · contract <code>' + esc(e.contract) + '</code>' : '') + '</p>';
    if (e.first_problem) h += '<p>' + esc(e.first_problem) + '</p>';
    for (const s of e.steps || []) {
      if (s.verdict === 'compatible') continue;
      h += '<h4>' + esc(s.step) + ': ' + esc(s.verdict) + '</h4><ul class="problems">';
      for (const p of s.problems) {
        h += '<li><code>' + esc(p.kind) + '</code> at <code>' + esc(p.instance_pointer) +
          '</code>: ' + esc(p.message) + '</li>';
      }
      h += '</ul>';
      if (s.reason) h += '<p>' + esc(s.reason) + '</p>';
      if (s.has_witness) {
        h += '<p>witness (the producer may send it, the consumer rejects it):</p>' +
          '<pre class="witness">' + esc(JSON.stringify(s.witness, null, 2)) + '</pre>';
      }
    }
    details.innerHTML = h;
  }
  function showMember(name) {
    const m = D.members[name];
    clearSel();
    const el = graph.querySelector('.node[data-name="' + CSS.escape(name) + '"]');
    if (el) { el.classList.add('sel'); }
    let h = '<h3>' + esc(name) + '</h3><p>' + esc(m.label) + ' · ' + esc(m.kind) +
      ' · <b>' + esc(m.category) + '</b>' + (m.wave ? ' · ships in wave ' + m.wave : '') + '</p>';
    if (m.semver) h += '<p>semver: ' + esc(m.semver) + '</p>';
    if (m.lines.length) {
      h += '<ul>' + m.lines.map(l => '<li>' + esc(l) + '</li>').join('') + '</ul>';
    }
    const edges = Object.keys(D.edges).filter(
      k => D.edges[k].from === name || D.edges[k].to === name);
    h += '<h4>handoffs</h4><ul>' + edges.map(k => '<li><a href="#" data-edge="' + esc(k) + '">' +
      esc(k) + '</a> ' + esc(D.edges[k].verdict) + '</li>').join('') + '</ul>';
    details.innerHTML = h;
  }
  graph.addEventListener('click', ev => {
    const edge = ev.target.closest('.edge');
    if (edge) { showEdge(edge.dataset.key); return; }
    const node = ev.target.closest('.node');
    if (node) showMember(node.dataset.name);
  });
  document.body.addEventListener('click', ev => {
    const a = ev.target.closest('a[data-edge]');
    if (a) { ev.preventDefault(); showEdge(a.dataset.edge); }
    const b = ev.target.closest('a[data-member]');
    if (b) {
      ev.preventDefault(); showMember(b.dataset.member);
      const n = graph.querySelector('.node[data-name="' + CSS.escape(b.dataset.member) + '"]');
      if (n) n.scrollIntoView({block: 'center', inline: 'center'});
    }
  });
  document.querySelectorAll('input[data-verdict]').forEach(box => {
    box.addEventListener('change',
      () => graph.classList.toggle('hide-' + box.dataset.verdict, !box.checked));
  });
  const search = document.getElementById('search');
  const count = document.getElementById('search-count');
  search.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    let hits = 0;
    const keep = new Set();
    graph.querySelectorAll('.node').forEach(n => {
      const ok = !q || n.dataset.name.toLowerCase().includes(q);
      if (ok) { keep.add(n.dataset.name); hits++; }
    });
    graph.querySelectorAll('.node').forEach(
      n => n.classList.toggle('dim', !keep.has(n.dataset.name)));
    graph.querySelectorAll('.edge').forEach(e => e.classList.toggle('dim',
      !!q && !(keep.has(e.dataset.from) || keep.has(e.dataset.to))));
    document.querySelectorAll('#members tbody tr').forEach(
      r => r.classList.toggle('hidden', !!q && !keep.has(r.dataset.name)));
    count.textContent = q ? hits + ' match' + (hits === 1 ? '' : 'es') : '';
    if (q && hits) {
      const first = graph.querySelector('.node:not(.dim)');
      if (first) first.scrollIntoView({block: 'center', inline: 'center'});
    }
  });
  document.documentElement.dataset.ready = '1';
})();
"""


def _member_lines(m: MemberEntry | None) -> list[str]:
    if m is None:
        return []
    lines = [s.summary for s in m.schema_changes]
    for c in m.changes:
        if c.field == "version":
            continue
        lines.append(f"{c.field}: {c.old} -> {c.new}")
    if m.blast_radius.hit:
        lines.append("hits: " + ", ".join(m.blast_radius.hit))
    return lines


def _evals_html(section: EvalsSection | None) -> str:
    """The plan's Evals section as a table (live → new, Δ with its one-sided 95% bounds, n,
    freshness) and each gated environment's verdicts; empty without scorecards or gates."""
    if section is None:
        return ""
    rows: list[str] = []
    for s in section.suites:
        for m in s.metrics:
            d = m.delta or {}
            dtext = "" if d.get("value") is None else f"{d['value']:+.4g}"
            if d.get("lo") is not None:
                dtext += f" [{d['lo']:.4g}, {d['hi']:.4g}]"
            fresh = ("fresh" if s.fresh else "stale") if m.evidence else "no evidence"
            rows.append(
                f"<tr><td>{_e(s.member)}/{_e(s.suite)}</td><td>{_e(m.metric)}</td>"
                f"<td>{_e('' if m.live is None else m.live)}</td><td>{_e(m.new)}</td>"
                f"<td>{_e(dtext)}</td><td>{_e('' if m.n is None else m.n)}</td>"
                f"<td>{_e(fresh)}</td></tr>"
            )
    gates = section.gates
    if not rows and not gates:
        return ""
    out = [
        '<h2>Evals</h2><table id="evals"><thead><tr><th>suite</th><th>metric</th><th>live</th>'
        "<th>new</th><th>Δ [one-sided 95%]</th><th>n</th><th>scorecard</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    ]
    for env, report in gates.items():
        verdict = "pass" if report["passed"] else "refused"
        items = "".join(
            f'<li class="gate-{_e(v["status"])}">{_e(v["status"])}: '
            f"{_e(describe(GateVerdict.of(v)))}</li>"
            for v in report["verdicts"]
        )
        stale = "".join(f"<li>stale: {_e(s['message'])}</li>" for s in report.get("stale") or [])
        out.append(f"<h3>Gates of {_e(env)}: {verdict}</h3><ul>{items}{stale}</ul>")
    return "\n".join(out)


def render_report(plan: Plan, graph: TeamGraph, *, title: str | None = None) -> str:
    """The whole page, as a string."""
    wave_of = {n: w.wave for w in plan.waves for n in w.members}
    data_members = _data_members(plan, graph, wave_of)
    data_edges = _data_edges(plan, graph)
    svg = _svg(graph, data_members, data_edges)
    large = len(graph.nodes) > LARGE_TEAM
    verdict_boxes = "".join(
        f'<label><input type="checkbox" data-verdict="{v}"'
        f"{'' if (v == 'unchanged' and large) else ' checked'}> "
        f'<span class="sw sw-v-{v}"></span> {v}</label>'
        for v in VERDICT_COLOUR
    )
    legend = " ".join(f'<span class="sw sw-{k}"></span> {k}' for k in CATEGORY_COLOUR)
    member_rows = "".join(
        f'<tr data-name="{_e(m.name)}"><td><a href="#" data-member="{_e(m.name)}">'
        f"{_e(m.name)}</a></td><td>{_e(m.action)}</td><td>{_e(m.category or '')}"
        f"</td><td>{_e(m.old.version if m.old else '')}</td>"
        f"<td>{_e(m.new.version if m.new else '')}</td>"
        f"<td>{_e(wave_of.get(m.name, ''))}</td></tr>"
        for m in plan.members
        if m.name in data_members or m.action == "remove"
    )
    return _page(plan, title, data_members, data_edges, svg, verdict_boxes, legend, member_rows)


def _data_members(
    plan: Plan, graph: TeamGraph, wave_of: Mapping[str, int]
) -> dict[str, dict[str, JSON]]:
    """What the page's script shows of each member (`#teamrel-data` `members`)."""
    members = {m.name: m for m in plan.members}
    data_members: dict[str, dict[str, JSON]] = {}
    for node in graph.nodes:
        m = members.get(node.name)
        sv = m.semver if m else None
        data_members[node.name] = {
            "label": f"{node.name} {node.version or ''}".strip(),
            "kind": node.kind,
            "category": (m.category if m else None) or "unchanged",
            "action": m.action if m else "unchanged",
            "wave": wave_of.get(node.name),
            "semver": (sv.message or f"ok, {sv.bump} bump") if sv else None,
            "lines": _member_lines(m),
        }
    return data_members


def _data_edges(plan: Plan, graph: TeamGraph) -> dict[str, dict[str, JSON]]:
    """What the page's script shows of each handoff (`#teamrel-data` `edges`)."""
    changed = {m.name for m in plan.members if m.action in ("add", "change")}
    edges = {e.key: e for e in PlanCheck.of(plan).edges}
    data_edges: dict[str, dict[str, JSON]] = {}
    for ge in graph.edges:
        key = ge.key or f"{ge.producer}->{ge.consumer}"
        e = edges.get(key)
        verdict = edge_verdict(e, changed) if e else "unchecked"
        entry: dict[str, JSON] = {
            "from": ge.producer,
            "to": ge.consumer,
            "kind": ge.kind,
            "contract": ge.label,
            "verdict": verdict,
            "first_problem": e.first_problem() if e else None,
        }
        if e and e.verdict != "compatible":
            # only failing edges carry proofs: keeps 1,000s small
            entry["steps"] = [s.to_json() for s in e.steps]
        data_edges[key] = entry
    return data_edges


def _svg(
    graph: TeamGraph,
    data_members: Mapping[str, Mapping[str, JSON]],
    data_edges: Mapping[str, Mapping[str, JSON]],
) -> list[str]:
    """The team graph drawn in waves: columns are release waves (`TeamGraph.layout`)."""
    pos = graph.layout()
    svg: list[str] = []
    if not pos:
        return svg
    cols = max(c for c, _ in pos.values()) + 1
    rows = max(r for _, r in pos.values()) + 1
    width, height = LEFT * 2 + cols * COL_W, TOP + rows * ROW_H + 20
    svg.append(
        f'<svg id="team-graph" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    )
    for c in range(cols):
        x = LEFT + c * COL_W
        svg.append(f'<text class="wave" x="{x}" y="24">wave {c + 1}</text>')
    svg.append('<g id="edges">')
    for key, d in data_edges.items():
        if d["from"] not in pos or d["to"] not in pos:
            continue
        svg.append(_svg_edge(key, d, pos))
    svg.append('</g><g id="nodes">')
    for node in graph.nodes:
        c, r = pos[node.name]
        x, y = LEFT + c * COL_W, TOP + r * ROW_H
        m = data_members[node.name]
        tool = " tool" if node.kind == "tool" else ""
        svg.append(
            f'<g class="node{tool}" data-name="{_e(node.name)}" '
            f'data-category="{m["category"]}" transform="translate({x},{y})">'
            f'<rect width="{NODE_W}" height="{NODE_H}" rx="5"/>'
            f'<rect class="bar" width="5" height="{NODE_H}" rx="2"/>'
            f'<text x="12" y="15">{_e(node.name)}</text>'
            f'<text class="ver" x="12" y="28">{_e(node.version or "")} · {_e(m["category"])}'
            f"</text><title>{_e(m['label'])}</title></g>"
        )
    svg.append("</g></svg>")
    return svg


def _svg_edge(key: str, d: Mapping[str, JSON], pos: Mapping[str, tuple[int, int]]) -> str:
    (c1, r1), (c2, r2) = pos[d["from"]], pos[d["to"]]
    y1, y2 = TOP + r1 * ROW_H + NODE_H / 2, TOP + r2 * ROW_H + NODE_H / 2
    if c2 > c1:
        x1, x2 = LEFT + c1 * COL_W + NODE_W, LEFT + c2 * COL_W
    elif c2 < c1:
        x1, x2 = LEFT + c1 * COL_W, LEFT + c2 * COL_W + NODE_W
    else:  # same wave (a cycle): loop out to the right
        x1 = x2 = LEFT + c1 * COL_W + NODE_W
    bend = max(40.0, abs(x2 - x1) / 2)
    k1 = x1 + bend if c2 >= c1 else x1 - bend
    k2 = x2 - bend if c2 > c1 else x2 + bend
    tool = " tool" if d["kind"] != "handoff" else ""
    return (
        f'<path class="edge{tool}" data-key="{_e(key)}" data-verdict="{d["verdict"]}" '
        f'data-from="{_e(d["from"])}" data-to="{_e(d["to"])}" '
        f'd="M{x1:.0f},{y1:.0f} C{k1:.0f},{y1:.0f} {k2:.0f},{y2:.0f} {x2:.0f},{y2:.0f}">'
        f"<title>{_e(key)}: {_e(d['verdict'])}</title></path>"
    )


def _page(
    plan: Plan,
    title: str | None,
    data_members: dict[str, dict[str, JSON]],
    data_edges: dict[str, dict[str, JSON]],
    svg: list[str],
    verdict_boxes: str,
    legend: str,
    member_rows: str,
) -> str:
    """The HTML around the parts: header, controls, graph, details, tables, data, script."""
    team = plan.team
    passed = plan.passed
    problems = plan.problems
    problem_items = "".join(
        f"<li>{_e(f.message)}"
        + (f' <a href="#" data-edge="{_e(f.edge)}">show</a>' if f.edge else "")
        + "</li>"
        for f in problems
    )
    large = len(data_members) > LARGE_TEAM
    data = {
        "format_version": REPORT_DATA_VERSION,
        "team": team,
        "summary": plan.summary.model_dump(),
        "members": data_members,
        "edges": data_edges,
    }
    # "</" never appears inside the JSON, so the script element cannot be closed early
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    hidden = " hide-unchanged" if large else ""
    intro = (
        f"<p>{len(problems)} problem(s): click a red handoff, or a link below, for its witness.</p>"
        f"<ul>{problem_items}</ul>"
        if problems
        else "<p>Click a member or a handoff for its details.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title or f"teamrel report: {team}")}</title>
<style>{_css()}</style></head>
<body>
<header><h1>teamrel report: {_e(team)}
<span class="badge {"ok" if passed else "fail"}">{"passed" if passed else "FAILED"}</span></h1>
<div id="summary">{_e(plan.summary.line)}</div></header>
<div id="controls"><input id="search" type="search" placeholder="Search members"
aria-label="Search members"> <span id="search-count"></span>
<span>handoffs: {verdict_boxes}</span><span>members: {legend}</span></div>
<div id="layout"><div id="graph" class="{hidden.strip()}">{"".join(svg)}</div>
<aside id="details">{intro}</aside></div>
<h2>Members</h2>
<table id="members"><thead><tr><th>member</th><th>change</th><th>category</th><th>old</th>
<th>new</th><th>ships in wave</th></tr></thead><tbody>{member_rows}</tbody></table>
{_evals_html(plan.evals)}
<script type="application/json" id="teamrel-data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""
