"""Eval scorecards: per-case results turned into evidence bound to the member they measured.

Owns the scorecard document (`evals/scorecards/<member>/<suite>.json`, format in
docs/evals.md, JSON Schema `teamrel/schemas/scorecard.schema.json`), reading per-case results
(teamrel's JSONL, promptfoo's `--output results.json`) with every problem located (file, line,
JSON pointer), computing the summary (n, pass rate with its Wilson interval, mean score with
its interval, latency p50/p95, cost and tokens per case) and reading scorecards back.

A scorecard is stamped with the *behavioural digest* of the member it measured
(`models.behaviour_digest`): freshness is that stamp equal to the member's current one.
Errored cases, and cases of the dataset the results do not mention, count as failures: they
never leave the denominator.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamrel.canonical import JSON, digest, sha256_hex
from teamrel.errors import InputError
from teamrel.evalstats import Z_TWO_SIDED_95, mean_interval, quantile, wilson
from teamrel.fileio import atomic_write
from teamrel.models import NAME_RE, behaviour_digest

#: Major version of the scorecard document.
SCORECARD_FORMAT_VERSION = 1
#: Workspace-relative directory of scorecards: `<dir>/<member>/<suite>.json`.
SCORECARDS_DIR = "evals/scorecards"
#: Refuse results files larger than this.
MAX_RESULTS_BYTES = 512 * 1024 * 1024

#: Metrics a scorecard computes with an interval (higher is better).
INTERVAL_METRICS = ("pass_rate", "score")


@dataclass(frozen=True)
class Case:
    """One case's outcome: pass/fail and/or a score; `error` marks a case that did not run."""

    id: str
    passed: bool | None
    score: float | None
    error: bool = False
    latency_ms: float | None = None
    cost_usd: float | None = None
    tokens: float | None = None


def _finite(value: Any, where: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}/{key}: expected a number, not {json.dumps(value)[:40]}")
    if not math.isfinite(value):
        raise InputError(f"{where}/{key}: expected a finite number, not {value}")
    return float(value)


def _reject_constant(token: str) -> Any:
    # json accepts NaN and Infinity by default; a result file holding them is broken
    raise ValueError(f"{token} is not valid JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _case(row: Any, where: str) -> Case:
    if not isinstance(row, dict):
        raise InputError(f"{where}: a case is a JSON object")
    unknown = set(row) - {"id", "pass", "score", "error", "latency_ms", "cost_usd", "tokens"}
    if unknown:
        raise InputError(f"{where}/{sorted(unknown)[0]}: unknown key")
    cid = row.get("id")
    if isinstance(cid, bool) or not isinstance(cid, (str, int)) or cid == "":
        raise InputError(f"{where}/id: expected a non-empty string (or integer) case id")
    passed = row.get("pass")
    if passed is not None and not isinstance(passed, bool):
        raise InputError(f"{where}/pass: expected true or false, not {json.dumps(passed)[:40]}")
    score = _finite(row.get("score"), where, "score")
    error = row.get("error")
    if error is not None and not isinstance(error, (bool, str)):
        raise InputError(f"{where}/error: expected a message or true")
    errored = bool(error)
    if passed is None and score is None and not errored:
        raise InputError(f"{where}: a case needs `pass`, `score` or `error`")
    return Case(
        id=str(cid),
        passed=passed,
        score=score,
        error=errored,
        latency_ms=_finite(row.get("latency_ms"), where, "latency_ms"),
        cost_usd=_finite(row.get("cost_usd"), where, "cost_usd"),
        tokens=_finite(row.get("tokens"), where, "tokens"),
    )


def parse_jsonl(text: str, file: str) -> list[Case]:
    """teamrel's results format: one JSON case per line (blank lines ignored)."""
    cases: list[Case] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _loads(line)
        except (ValueError, RecursionError) as err:
            raise InputError(f"{file}:{i}: not JSON: {err}") from None
        cases.append(_case(row, f"{file}:{i} #"))
    return cases


def parse_promptfoo(doc: Any, file: str) -> list[Case]:
    """promptfoo's `eval --output results.json` (results.results[]: one row per test × prompt)."""
    results = doc.get("results") if isinstance(doc, dict) else None
    rows = results.get("results") if isinstance(results, dict) else None
    if not isinstance(rows, list):
        raise InputError(f"{file} #/results/results: missing (not a promptfoo results file)")
    # several prompts or providers: a test's id alone no longer names one case
    multi = len({(r.get("promptIdx"), _provider(r)) for r in rows if isinstance(r, dict)}) > 1
    cases: list[Case] = []
    for i, r in enumerate(rows):
        where = f"{file} #/results/results/{i}"
        if not isinstance(r, dict):
            raise InputError(f"{where}: a result is a JSON object")
        cases.append(_promptfoo_case(r, i, multi, where))
    return cases


def _promptfoo_case(r: dict[str, Any], i: int, multi: bool, where: str) -> Case:
    """One promptfoo result row as a case."""
    success = r.get("success")
    if not isinstance(success, bool):
        raise InputError(f"{where}/success: expected true or false")
    usage = r.get("response", {}).get("tokenUsage") if isinstance(r.get("response"), dict) else None
    tokens = usage.get("total") if isinstance(usage, dict) else None
    errored = _promptfoo_errored(r, success)
    return Case(
        id=_promptfoo_id(r, i, multi),
        passed=success and not errored,
        score=_finite(r.get("score"), where, "score"),
        error=errored,
        latency_ms=_finite(r.get("latencyMs"), where, "latencyMs"),
        cost_usd=_finite(r.get("cost"), where, "cost"),
        tokens=_finite(tokens, where, "response/tokenUsage/total"),
    )


def _promptfoo_id(r: dict[str, Any], i: int, multi: bool) -> str:
    test: dict[str, Any] = r["testCase"] if isinstance(r.get("testCase"), dict) else {}
    meta: dict[str, Any] = test["metadata"] if isinstance(test.get("metadata"), dict) else {}
    cid = meta.get("id") or test.get("description") or f"test-{r.get('testIdx', i)}"
    if multi:
        cid = f"{cid}#{r.get('promptIdx', 0)}:{_provider(r)}"
    return str(cid)


def _promptfoo_errored(r: dict[str, Any], success: bool) -> bool:
    # failureReason 2 (ResultFailureReason.ERROR) is an error: the case produced no answer
    reason = r.get("failureReason")
    return reason == 2 or (
        reason is None and not success and bool(r.get("error")) and not r.get("gradingResult")
    )


def _provider(r: Mapping[str, Any]) -> str:
    p = r.get("provider")
    return str(p.get("id", "")) if isinstance(p, dict) else str(p or "")


def read_results(path: Path, display: str, fmt: str = "auto") -> list[Case]:
    """Read a results file (`fmt`: `jsonl`, `promptfoo` or `auto` by content); located errors."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"{display}: cannot read results: {err.strerror or err}") from None
    if len(raw) > MAX_RESULTS_BYTES:
        raise InputError(f"{display}: results file too large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{display}: not UTF-8 (invalid byte at offset {err.start})") from None
    if fmt == "auto":
        stripped = text.lstrip()
        fmt = "jsonl"
        if (stripped.startswith("{") and '"evalId"' in text[:4096]) or (
            stripped.startswith("{") and "\n" in stripped.rstrip() and '"results"' in text
        ):
            fmt = "promptfoo"
    if fmt == "promptfoo":
        try:
            doc = _loads(text)
        except (ValueError, RecursionError) as err:
            raise InputError(f"{display}: not JSON: {err}") from None
        cases = parse_promptfoo(doc, display)
    elif fmt == "jsonl":
        cases = parse_jsonl(text, display)
    else:
        raise InputError(f"unknown results format {fmt!r} (jsonl, promptfoo)")
    if not cases:
        raise InputError(f"{display}: no cases: an empty results file is not evidence")
    seen: dict[str, int] = {}
    for i, c in enumerate(cases):
        if c.id in seen:
            raise InputError(
                f"{display}: duplicate case id {c.id!r} (cases {seen[c.id] + 1} and {i + 1})"
            )
        seen[c.id] = i
    return cases


def dataset_ids(path: Path, display: str) -> list[str] | None:
    """Case ids of a JSONL dataset (each line an object with `id`), None if it has none."""
    ids: list[str] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{display}: cannot read the dataset: {err}") from None
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = _loads(line)
        except ValueError as err:
            raise InputError(f"{display}:{i}: not JSON: {err}") from None
        if not isinstance(row, dict) or "id" not in row:
            return None
        ids.append(str(row["id"]))
    return ids


# --------------------------------------------------------------------------- the document


def _round(x: float) -> float:
    # 12 significant digits: stable across platforms' last-bit differences, far below n's resolution
    return float(f"{x:.12g}")


def summarise(cases: Iterable[Case]) -> dict[str, JSON]:
    """n, pass rate (Wilson 95%), mean score (95%), latency p50/p95, cost and tokens per case."""
    cs = list(cases)
    n = len(cs)
    out: dict[str, JSON] = {"n": n, "errors": sum(1 for c in cs if c.error)}
    if (pass_rate := _pass_rate(cs)) is not None:
        out["pass_rate"] = pass_rate
    if (score := _mean_score(cs)) is not None:
        out["score"] = score
    lat = [c.latency_ms for c in cs if c.latency_ms is not None]
    if lat:
        out["latency_ms"] = {"p50": _round(quantile(lat, 0.5)), "p95": _round(quantile(lat, 0.95))}
    costs = [c.cost_usd for c in cs if c.cost_usd is not None]
    if costs:
        out["cost_usd_per_case"] = _round(math.fsum(costs) / n)
    toks = [c.tokens for c in cs if c.tokens is not None]
    if toks:
        out["tokens_per_case"] = _round(math.fsum(toks) / n)
    return out


def _pass_rate(cs: list[Case]) -> dict[str, JSON] | None:
    """Pass rate over the judged cases (an errored case fails), with its Wilson 95% interval."""
    judged = [c for c in cs if c.passed is not None or c.error]
    if not judged:
        return None
    k = sum(1 for c in judged if c.passed and not c.error)
    p, lo, hi = wilson(k, len(judged), Z_TWO_SIDED_95)
    return {
        "n": len(judged),
        "passed": k,
        "value": _round(p),
        "lo": _round(lo),
        "hi": _round(hi),
    }


def _mean_score(cs: list[Case]) -> dict[str, JSON] | None:
    """Mean score (an errored case scores 0) with its 95% interval; None when nothing scored."""
    scored = [c for c in cs if c.score is not None or c.error]
    if not any(c.score is not None for c in scored):
        return None
    values = [0.0 if c.error or c.score is None else c.score for c in scored]
    m, lo, hi = mean_interval(values, Z_TWO_SIDED_95)
    return {
        "n": len(values),
        "value": _round(m),
        "lo": _round(lo) if math.isfinite(lo) else None,
        "hi": _round(hi) if math.isfinite(hi) else None,
    }


def build_scorecard(
    member: str,
    suite: str,
    cases: list[Case],
    *,
    behaviour_digest: str,
    member_version: str,
    source_format: str,
    dataset: list[str] | None = None,
    dataset_file: str | None = None,
) -> dict[str, JSON]:
    """The scorecard document for `cases`; dataset cases missing from the results fail."""
    by_id = {c.id: c for c in cases}
    missing: list[str] = []
    if dataset is not None:
        missing = [i for i in dataset if i not in by_id]
        for i in missing:
            by_id[i] = Case(id=i, passed=False, score=None, error=True)
    ordered = [by_id[k] for k in sorted(by_id)]
    ids_digest = digest(sorted(by_id))
    doc: dict[str, JSON] = {
        "format_version": SCORECARD_FORMAT_VERSION,
        "member": member,
        "suite": suite,
        "measured": {"behaviour_digest": behaviour_digest, "version": member_version},
        "source": {"format": source_format, "dataset": dataset_file, "missing": len(missing)},
        "dataset_digest": ids_digest,
        "summary": summarise(ordered),
        "cases": [_case_json(c) for c in ordered],
    }
    return doc


def _case_json(c: Case) -> dict[str, JSON]:
    row: dict[str, JSON] = {"id": c.id}
    if c.error:
        row["error"] = True
    if c.passed is not None or c.error:
        row["pass"] = bool(c.passed) and not c.error
    if c.score is not None:
        row["score"] = c.score
    return row


def scorecard_path(root: Path, member: str, suite: str) -> Path:
    """`<root>/evals/scorecards/<member>/<suite>.json` (names checked: they become paths)."""
    for what, name in (("member", member), ("suite", suite)):
        if not NAME_RE.match(name):
            raise InputError(f"{what} name {name!r} cannot name a scorecard file")
    return root / SCORECARDS_DIR / member / f"{suite}.json"


def write_scorecard(root: Path, doc: Mapping[str, JSON]) -> Path:
    """Write a scorecard atomically; returns its path."""
    path = scorecard_path(root, str(doc["member"]), str(doc["suite"]))
    data = (json.dumps(doc, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
    atomic_write(path, data)
    return path


def check_scorecard(doc: Any, where: str) -> dict[str, JSON]:
    """The structural checks a reader relies on; raises InputError naming the JSON pointer."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a scorecard is a JSON object")
    version = doc.get("format_version")
    if version != SCORECARD_FORMAT_VERSION:
        raise InputError(
            f"{where} #/format_version: {version!r} is not a scorecard format this teamrel reads "
            f"({SCORECARD_FORMAT_VERSION})"
        )
    for key in ("member", "suite", "measured", "summary", "cases"):
        if key not in doc:
            raise InputError(f"{where} #/{key}: missing")
    measured = doc["measured"]
    if not isinstance(measured, dict) or not isinstance(measured.get("behaviour_digest"), str):
        raise InputError(f"{where} #/measured/behaviour_digest: missing")
    if not isinstance(doc["cases"], list):
        raise InputError(f"{where} #/cases: expected a list")
    return doc


def read_scorecards(root: Path, member: str) -> dict[str, dict[str, JSON]]:
    """Every scorecard of `member` in the workspace, by suite (InputError on a bad file)."""
    folder = root / SCORECARDS_DIR / member
    if not folder.is_dir():
        return {}
    out: dict[str, dict[str, JSON]] = {}
    for path in sorted(folder.glob("*.json")):
        rel = path.relative_to(root).as_posix()
        try:
            doc = _loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as err:
            raise InputError(f"{rel}: cannot read scorecard: {err}") from None
        check_scorecard(doc, rel)
        if doc["suite"] != path.stem or doc["member"] != member:
            raise InputError(
                f"{rel}: scorecard of {doc['member']}/{doc['suite']} in the wrong file"
            )
        out[path.stem] = doc
    return out


def pinned_form(doc: Mapping[str, JSON]) -> dict[str, JSON]:
    """What a member spec pins of a scorecard: all but the member's name (names are not content)."""
    return {k: v for k, v in doc.items() if k != "member"}


def file_digest(doc: Mapping[str, JSON]) -> str:
    """Digest of a scorecard's content."""
    return digest(dict(doc))


def results_digest(raw: bytes) -> str:
    """Digest of a results file's bytes."""
    return sha256_hex(raw)


def _short(d: str) -> str:
    return d.removeprefix("sha256:")[:12]


def stale_scorecards(
    name: str, spec: dict[str, JSON], current: str | None = None
) -> list[tuple[str, str]]:
    """(suite, message) for each scorecard in `spec` that measured another configuration
    (`current`: the member's behavioural digest, when already known)."""
    cards = spec.get("scorecards")
    if not isinstance(cards, dict):
        return []
    now = current or behaviour_digest(spec)
    out: list[tuple[str, str]] = []
    for suite, doc in cards.items():
        measured = doc.get("measured") if isinstance(doc, dict) else None
        stamp = measured.get("behaviour_digest") if isinstance(measured, dict) else None
        if stamp != now:
            out.append(
                (
                    str(suite),
                    f"{name}'s `{suite}` scorecard measured {_short(str(stamp))}…; {name} is now "
                    f"{_short(now)}…: re-run the suite",
                )
            )
    return out
