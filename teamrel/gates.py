"""Eval gates: whether a release's scorecards meet an environment's `gates`, with the statistics.

Owns the three-valued verdict of each gate (`pass`, `fail`, `inconclusive`) for a candidate
team against the release live in the environment, the freshness findings of its scorecards,
and the plan's "Evals" section (live → new per member and suite, Δ with its interval).

Every verdict carries its method, n, bounds and threshold. Bounds are one-sided 95% (the
two-sided 90% interval): a floor passes when the lower bound is at or above it, fails when
the upper bound is below it, and is otherwise inconclusive; `no_regression` is a
non-inferiority test on candidate − live, paired on shared case ids (Tango's score interval
for pass rates, a t interval of per-case differences for scores), unpaired otherwise
(Newcombe's interval; Welch's normal interval). Hand-typed metrics without cases are
compared as plain numbers and marked "no evidence". docs/evals.md has the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from teamrel.canonical import JSON
from teamrel.errors import NotFoundError, UsageError
from teamrel.evalstats import (
    Z_ONE_SIDED_95,
    Interval,
    mean_interval,
    newcombe,
    paired_means,
    paired_proportions,
    wilson,
)
from teamrel.models import EnvironmentSpec, GateSpec, ResolvedMember
from teamrel.scorecard import (
    INTERVAL_METRICS,
    SCORECARD_FORMAT_VERSION,
    build_scorecard,
    dataset_ids,
    read_results,
    stale_scorecards,
    write_scorecard,
)

Status = Literal["pass", "fail", "inconclusive"]
Z = Z_ONE_SIDED_95


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class SuiteEvidence:
    """One member's suite: per-case outcomes (if a scorecard exists) and hand-typed metrics."""

    member: str
    suite: str
    passes: dict[str, bool] | None = None
    scores: dict[str, float] | None = None
    typed: dict[str, float] = field(default_factory=dict)
    stale: str | None = None

    def metrics(self) -> list[str]:
        """Every metric this suite has, evidence first."""
        out = [m for m in INTERVAL_METRICS if self.values(m) is not None]
        return out + [m for m in self.typed if m not in out]

    def values(self, metric: str) -> dict[str, float] | None:
        """Per-case values of an evidence metric (pass as 0/1), None without cases."""
        if metric == "pass_rate" and self.passes is not None:
            return {k: 1.0 if v else 0.0 for k, v in self.passes.items()}
        if metric == "score" and self.scores is not None:
            return self.scores
        return None


def _typed_metrics(spec: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """suite -> the plain numbers an agent's spec declares for it (`evals[].metrics`)."""
    typed: dict[str, dict[str, float]] = {}
    for e in spec.get("evals") or []:
        if isinstance(e, dict) and isinstance(e.get("suite"), str):
            metrics = e.get("metrics") or {}
            typed[e["suite"]] = {str(k): float(v) for k, v in metrics.items()}
    return typed


def _case_values(cases: list[dict[str, Any]]) -> tuple[dict[str, bool], dict[str, float]]:
    """Per-case pass and score of a scorecard; an errored case fails and scores 0."""
    passes: dict[str, bool] = {}
    scores: dict[str, float] = {}
    for row in cases:
        cid = str(row["id"])
        errored = bool(row.get("error"))
        if "pass" in row or errored:
            passes[cid] = bool(row.get("pass")) and not errored
        if "score" in row or errored:
            scores[cid] = 0.0 if errored else float(row.get("score") or 0.0)
    return passes, scores


def _evidence(m: ResolvedMember) -> dict[str, SuiteEvidence]:
    typed = _typed_metrics(m.spec)
    stale = dict(stale_scorecards(m.name, m.spec, m.behaviour_digest)) if m.scorecards else {}
    out: dict[str, SuiteEvidence] = {}
    for suite, card in m.scorecards.items():
        cases = card.get("cases") or []
        passes, scores = _case_values(cases)
        out[suite] = SuiteEvidence(
            m.name,
            suite,
            passes or None,
            # a score is evidence only when every case has one
            scores if scores and len(scores) == len(cases) else None,
            typed.pop(suite, {}),
            stale.get(suite),
        )
    for suite, metrics in typed.items():
        out[suite] = SuiteEvidence(m.name, suite, typed=metrics)
    return out


def team_evidence(members: Mapping[str, ResolvedMember]) -> dict[tuple[str, str], SuiteEvidence]:
    """(member, suite) -> evidence, for every agent of a team."""
    out: dict[tuple[str, str], SuiteEvidence] = {}
    for name, m in members.items():
        if m.kind != "agent":
            continue
        for suite, ev in _evidence(m).items():
            out[(name, suite)] = ev
    return out


# --------------------------------------------------------------------------- statistics


def _r(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(f"{x:.6g}")


def point(ev: SuiteEvidence, metric: str) -> tuple[float, int | None, Interval | None]:
    """(value, n, one-sided 95% interval) of a metric; n None for a hand-typed number."""
    vals = ev.values(metric)
    if vals is None:
        return ev.typed[metric], None, None
    n = len(vals)
    if metric == "pass_rate":
        return wilson(int(sum(vals.values())), n, Z)[0], n, wilson(int(sum(vals.values())), n, Z)
    iv = mean_interval(list(vals.values()), Z)
    return iv[0], n, iv


def delta(new: SuiteEvidence, old: SuiteEvidence, metric: str) -> dict[str, JSON] | None:
    """candidate − live of a metric, with its interval and method; None if either lacks it."""
    nv, ov = new.values(metric), old.values(metric)
    if nv is None or ov is None:
        if metric in new.metrics() and metric in old.metrics():
            a, b = point(new, metric)[0], point(old, metric)[0]
            return {"value": _r(a - b), "lo": None, "hi": None, "n": None, "method": "plain"}
        return None
    shared = set(nv) & set(ov)
    if shared:
        # paired over the live cases: one the candidate no longer reports counts as failed
        ids = sorted(ov)
        if metric == "pass_rate":
            better = sum(1 for i in ids if nv.get(i, 0.0) > ov[i])
            worse = sum(1 for i in ids if nv.get(i, 0.0) < ov[i])
            d, lo, hi = paired_proportions(better, worse, len(ids), Z)
            method = "paired score interval (Tango)"
        else:
            diffs = [nv.get(i, 0.0) - ov[i] for i in ids]
            d, lo, hi = paired_means(diffs, Z)
            method = "paired t interval"
        return {"value": _r(d), "lo": _r(lo), "hi": _r(hi), "n": len(ids), "method": method}
    if metric == "pass_rate":
        d, lo, hi = newcombe(int(sum(nv.values())), len(nv), int(sum(ov.values())), len(ov), Z)
        method = "unpaired (Newcombe)"
    else:
        xs, ys = list(nv.values()), list(ov.values())
        ma, mb = math.fsum(xs) / len(xs), math.fsum(ys) / len(ys)
        va = _var(xs) / len(xs)
        vb = _var(ys) / len(ys)
        half = Z * math.sqrt(va + vb)
        d, lo, hi = ma - mb, ma - mb - half, ma - mb + half
        method = "unpaired (Welch, normal)"
    return {
        "value": _r(d),
        "lo": _r(lo),
        "hi": _r(hi),
        "n": min(len(nv), len(ov)),
        "method": method,
    }


def _var(xs: list[float]) -> float:
    if len(xs) < 2:
        return math.inf
    m = math.fsum(xs) / len(xs)
    return math.fsum((x - m) ** 2 for x in xs) / (len(xs) - 1)


# --------------------------------------------------------------------------- gates


def _split(pattern: str) -> tuple[str, str, str | None]:
    member, _, rest = pattern.partition("/")
    if not rest:
        return member, "*", None
    suite, dot, metric = rest.rpartition(".")
    return (member, suite, metric) if dot else (member, rest, None)


def _matches(gate: GateSpec, ev: SuiteEvidence) -> Iterator[str]:
    pm, ps, metric = _split(gate.metric)
    if not (fnmatchcase(ev.member, pm) and fnmatchcase(ev.suite, ps)):
        return
    for m in ev.metrics():
        if metric is None:
            if m in INTERVAL_METRICS or gate.min is not None or gate.max is not None:
                yield m
        elif fnmatchcase(m, metric):
            yield m


def _threshold(gate: GateSpec, metric: str, ev: SuiteEvidence) -> dict[str, Any]:
    value, n, iv = point(ev, metric)
    v: dict[str, Any] = {"value": _r(value), "n": n}
    if n is not None and n < gate.min_cases:
        v.update(
            status="fail", method="min_cases", why=f"only {n} cases (min_cases {gate.min_cases})"
        )
        return v
    if iv is None:
        ok = (gate.min is None or value >= gate.min) and (gate.max is None or value <= gate.max)
        v.update(status="pass" if ok else "fail", method="plain number (no evidence)")
        return v
    _, lo, hi = iv
    v.update(lo=_r(lo), hi=_r(hi))
    vals = ev.values(metric) or {}
    exact_values = set(vals.values()) <= {0.0, 1.0}
    status: Status = "pass"
    if gate.min is not None:
        status = _floor_status(gate.min, value, lo, hi, exact_values)
    if gate.max is not None and status == "pass":
        status = _ceiling_status(gate.max, value, lo, hi, exact_values)
    method = "Wilson one-sided 95%" if metric == "pass_rate" else "t one-sided 95%"
    v.update(status=status, method=method)
    return v


def _floor_status(floor: float, value: float, lo: float, hi: float, exact: bool) -> Status:
    """A `min` gate against the interval [lo, hi] of a metric."""
    if floor >= 1.0 and exact:  # a 100% floor: every case must pass
        return "pass" if value >= 1.0 else "fail"
    return "pass" if lo >= floor else ("fail" if hi < floor else "inconclusive")


def _ceiling_status(ceiling: float, value: float, lo: float, hi: float, exact: bool) -> Status:
    """A `max` gate against the interval [lo, hi] of a metric."""
    if ceiling <= 0.0 and exact:  # a zero ceiling: no case may count
        return "pass" if value <= 0.0 else "fail"
    return "pass" if hi <= ceiling else ("fail" if lo > ceiling else "inconclusive")


def _regression(
    gate: GateSpec, metric: str, ev: SuiteEvidence, live: SuiteEvidence | None
) -> dict[str, Any]:
    if live is None or metric not in live.metrics():
        return {"status": "pass", "method": "nothing live to compare with", "n": None}
    d = delta(ev, live, metric)
    if d is None:
        return {"status": "pass", "method": "live has no comparable evidence", "n": None}
    v: dict[str, Any] = dict(d)
    v["live"] = _r(point(live, metric)[0])
    if d["lo"] is None:
        diff = float(d["value"] or 0.0) * (1 if gate.higher_is_better else -1)
        v.update(
            status="pass" if diff >= -gate.margin else "fail",
            method="plain numbers (no evidence)",
        )
        return v
    n = d["n"] if isinstance(d["n"], int) else 0
    if n < gate.min_cases:
        v.update(status="fail", why=f"only {n} cases (min_cases {gate.min_cases})")
        return v
    lo, hi = float(d["lo"] or 0.0), float(d["hi"] or 0.0)
    status: Status
    if gate.significant:
        status = "fail" if hi < -gate.margin else "pass"
    else:
        status = "pass" if lo > -gate.margin else ("fail" if hi < -gate.margin else "inconclusive")
    v["status"] = status
    return v


@dataclass
class GateReport:
    """Verdicts of an environment's gates for one candidate team."""

    env: str
    verdicts: list[dict[str, Any]]
    stale: list[dict[str, Any]]
    rules: EnvironmentSpec

    @property
    def blocking(self) -> list[str]:
        """One line per verdict that refuses promotion under the environment's rules."""
        out: list[str] = []
        for v in self.verdicts:
            if v["status"] == "fail" or (
                v["status"] == "inconclusive" and self.rules.inconclusive == "block"
            ):
                out.append(describe(GateVerdict.of(v)))
        if self.rules.stale_evals == "block":
            out.extend(s["message"] for s in self.stale)
        return out

    @property
    def passed(self) -> bool:
        """No blocking verdict."""
        return not self.blocking

    def to_json(self) -> dict[str, JSON]:
        """The JSON form (in plans and promotion refusals)."""
        return {
            "env": self.env,
            "passed": self.passed,
            "inconclusive": self.rules.inconclusive,
            "stale_evals": self.rules.stale_evals,
            "allow_gate_override": self.rules.allow_gate_override,
            "verdicts": self.verdicts,
            "stale": self.stale,
            "blocking": list(self.blocking),
        }


def _number(x: JSON) -> float | None:
    # the recorded number as it is (an int stays an int: the wording prints it as recorded)
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _text(x: JSON) -> str | None:
    return None if x is None else str(x)


@dataclass(frozen=True)
class GateVerdict:
    """One gate's verdict on one metric: an entry of a `GateReport`'s (and so of a plan's
    or a refusal's) `verdicts`, read back with `of`."""

    member: str
    suite: str
    metric: str
    #: min | max | no_regression
    kind: str
    #: the floor, the ceiling, or the no-regression margin
    threshold: float | None
    #: pass | fail | inconclusive
    status: str
    method: str | None = None
    #: the candidate's value (no_regression: Δ candidate − live) and its one-sided bounds
    value: float | None = None
    lo: float | None = None
    hi: float | None = None
    n: int | None = None
    #: no_regression: the live release's value
    live: float | None = None
    why: str | None = None

    @classmethod
    def of(cls, v: Mapping[str, JSON]) -> GateVerdict:
        """The verdict a `verdicts` entry records."""
        n = v.get("n")
        return cls(
            member=str(v["member"]),
            suite=str(v["suite"]),
            metric=str(v["metric"]),
            kind=str(v["kind"]),
            threshold=_number(v.get("threshold")),
            status=str(v["status"]),
            method=_text(v.get("method")),
            value=_number(v.get("value")),
            lo=_number(v.get("lo")),
            hi=_number(v.get("hi")),
            n=n if isinstance(n, int) and not isinstance(n, bool) else None,
            live=_number(v.get("live")),
            why=_text(v.get("why")),
        )


def describe(v: GateVerdict) -> str:
    """`router/routing.pass_rate 0.9 [0.81, 0.95] (n=50) vs min 0.9: inconclusive (Wilson…)`."""
    what = f"{v.member}/{v.suite}.{v.metric}"
    n = f" (n={v.n})" if v.n is not None else ""
    bounds = f" [{v.lo}, {v.hi}]" if v.lo is not None else ""
    if v.kind == "no_regression":
        live = f" live {v.live}" if v.live is not None else ""
        d = f" Δ {v.value}" if v.value is not None else ""
        head = f"{what}{live}{d}{bounds}{n} vs margin −{v.threshold}"
    else:
        head = f"{what} {v.value}{bounds}{n} vs {v.kind} {v.threshold}"
    why = f"; {v.why}" if v.why else ""
    return f"{head}: {v.status} ({v.method}{why})"


def evaluate(
    env: str,
    rules: EnvironmentSpec,
    candidate: Mapping[str, ResolvedMember],
    live: Mapping[str, ResolvedMember],
) -> GateReport:
    """Every gate of `rules` on the candidate team, against the team live in `env`."""
    new = team_evidence(candidate)
    old = team_evidence(live) if any(g.no_regression for g in rules.gates) else {}
    verdicts: list[dict[str, Any]] = []
    for gi, gate in enumerate(rules.gates):
        for key, ev in new.items():
            for metric in _matches(gate, ev):
                base = {"gate": gi, "member": key[0], "suite": key[1], "metric": metric}
                if gate.min is not None or gate.max is not None:
                    kind = "min" if gate.min is not None else "max"
                    th = gate.min if gate.min is not None else gate.max
                    verdicts.append(
                        {**base, "kind": kind, "threshold": th, **_threshold(gate, metric, ev)}
                    )
                if gate.no_regression:
                    verdicts.append(
                        {
                            **base,
                            "kind": "no_regression",
                            "threshold": gate.margin,
                            "significant": gate.significant,
                            **_regression(gate, metric, ev, old.get(key)),
                        }
                    )
    stale = [
        {"member": k[0], "suite": k[1], "message": ev.stale} for k, ev in new.items() if ev.stale
    ]
    return GateReport(env, verdicts, stale, rules)


def evals_section(
    candidate: Mapping[str, ResolvedMember],
    live: Mapping[str, ResolvedMember],
    environments: Mapping[str, EnvironmentSpec],
) -> dict[str, JSON]:
    """The plan's "Evals" section: per member and suite, live → new with Δ, and gate verdicts."""
    new, old = team_evidence(candidate), team_evidence(live)
    rows: list[JSON] = []
    for key, ev in new.items():
        before = old.get(key)
        metrics: list[JSON] = []
        for metric in ev.metrics():
            value, n, _ = point(ev, metric)
            was = point(before, metric)[0] if before and metric in before.metrics() else None
            metrics.append(
                {
                    "metric": metric,
                    "live": _r(was),
                    "new": _r(value),
                    "n": n,
                    "evidence": n is not None,
                    "delta": delta(ev, before, metric) if before else None,
                }
            )
        rows.append(
            {
                "member": key[0],
                "suite": key[1],
                "fresh": ev.stale is None,
                "stale": ev.stale,
                "metrics": metrics,
            }
        )
    gates = {
        env: evaluate(env, rules, candidate, live).to_json()
        for env, rules in environments.items()
        if rules.gates
    }
    return {"suites": rows, "gates": gates}


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class RecordedScorecard:
    """What `teamrel eval record` wrote: the file, and the scorecard document it holds."""

    path: Path
    scorecard: dict[str, JSON]

    @property
    def summary(self) -> JSON:
        """The scorecard's summary (n, pass rate, score, latency, cost, errors)."""
        return self.scorecard.get("summary")

    def without_cases(self) -> dict[str, JSON]:
        """The scorecard without its per-case results (what `--format json` prints)."""
        return {k: v for k, v in self.scorecard.items() if k != "cases"}


def record(
    root: Path,
    members: Mapping[str, ResolvedMember],
    member: str,
    suite: str,
    results: Path,
    *,
    display: str,
    fmt: str = "auto",
) -> RecordedScorecard:
    """Ingest a results file into `evals/scorecards/<member>/<suite>.json`, stamped with the
    member's behavioural digest; nothing is written unless every case reads cleanly."""
    m = members.get(member)
    if m is None:
        raise NotFoundError(f"no member {member!r} in the workspace")
    if m.kind != "agent":
        raise UsageError(f"{member} is a tool: scorecards are recorded for agents")
    cases = read_results(results, display, fmt)
    source_format = "promptfoo" if fmt == "promptfoo" else _sniffed(results, fmt)
    dataset_file: str | None = None
    dataset: list[str] | None = None
    for e in m.spec.get("evals") or []:
        if isinstance(e, dict) and e.get("suite") == suite and isinstance(e.get("dataset"), str):
            dataset_file = str(e["dataset"])
            path = root / dataset_file
            if path.is_file():
                dataset = dataset_ids(path, dataset_file)
    doc = build_scorecard(
        member,
        suite,
        cases,
        behaviour_digest=m.behaviour_digest,
        member_version=m.version,
        source_format=source_format,
        dataset=dataset,
        dataset_file=dataset_file,
    )
    return RecordedScorecard(write_scorecard(root, doc), doc)


def _sniffed(results: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    with results.open("rb") as fh:
        head = fh.read(4096)
    return "promptfoo" if b'"evalId"' in head or b'"results"' in head else "jsonl"


@dataclass(frozen=True)
class ScorecardRow:
    """One recorded scorecard as `teamrel eval show` lists it."""

    member: str
    suite: str
    #: why it no longer measures the member's configuration (None: fresh)
    stale: str | None
    #: the scorecard's `measured`, `dataset_digest` and `summary`, as recorded
    measured: JSON
    dataset_digest: JSON
    summary: JSON

    @property
    def fresh(self) -> bool:
        """It measured the member's current configuration."""
        return self.stale is None

    def to_json(self) -> dict[str, JSON]:
        """The row of the `teamrel eval show --format json` document."""
        return {
            "member": self.member,
            "suite": self.suite,
            "fresh": self.fresh,
            "stale": self.stale,
            "measured": self.measured,
            "dataset_digest": self.dataset_digest,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class Scorecards:
    """The recorded scorecards of a workspace (or of one member): `teamrel eval show`."""

    rows: tuple[ScorecardRow, ...]

    def to_json(self) -> dict[str, JSON]:
        """The versioned `teamrel eval show --format json` document."""
        return {
            "format_version": SCORECARD_FORMAT_VERSION,
            "scorecards": [r.to_json() for r in self.rows],
        }


def show(members: Mapping[str, ResolvedMember], member: str | None = None) -> Scorecards:
    """Every recorded scorecard (of one member), with its summary and freshness."""
    if member is not None and member not in members:
        raise NotFoundError(f"no member {member!r} in the workspace")
    rows: list[ScorecardRow] = []
    for name, m in members.items():
        if member is not None and name != member:
            continue
        stale = dict(stale_scorecards(name, m.spec, m.behaviour_digest))
        for suite, card in m.scorecards.items():
            rows.append(
                ScorecardRow(
                    member=name,
                    suite=suite,
                    stale=stale.get(suite),
                    measured=card.get("measured"),
                    dataset_digest=card.get("dataset_digest"),
                    summary=card.get("summary"),
                )
            )
    return Scorecards(tuple(rows))
