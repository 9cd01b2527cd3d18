"""The engine's entry points: `check` (producer ⊆ consumer?) and `compare` (old vs new).

Owns the guarantees around the prover: bad input becomes `SchemaError`, every budget or
recursion limit becomes "unknown", every "incompatible" carries a witness verified with the
reference validator (python-jsonschema) and problems derived from the reference validator's
own errors on that witness, every "unknown" says what could not be decided and where.
"""

from __future__ import annotations

import json
import marshal
import math
from typing import Any

from teamrel.canonical import JSON
from teamrel.compat.annotations import same_but_annotations
from teamrel.compat.evaluate import ValidationUnavailable
from teamrel.compat.explain import problems_for
from teamrel.compat.prove import Cand, Outcome, ProofSearch, fail
from teamrel.compat.result import Budget, BudgetExhausted, CompatResult, Evolution
from teamrel.compat.schema import Side, cached_side, fingerprint_of, load_side
from teamrel.errors import SchemaError
from teamrel.models import SchemaDoc


def _side(
    doc: JSON | SchemaDoc, label: str, format_assertion: bool, fingerprint: str | None = None
) -> Side:
    try:
        return load_side(doc, label, format_assertion=format_assertion, fingerprint=fingerprint)
    except RecursionError:
        raise SchemaError(f"{label} schema is nested too deeply to be analysed") from None


def _finite_json(v: JSON, depth: int = 0) -> bool:
    if depth > 200:
        return False
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(_finite_json(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _finite_json(x, depth + 1) for k, x in v.items())
    return v is None or isinstance(v, (bool, int, str))


def _identical(p: Side, c: Side) -> bool:
    # same document, same base URI, same resources: the same set of values
    return p.fingerprint is not None and p.fingerprint == c.fingerprint


def _same_plain(a: JSON | SchemaDoc, b: JSON | SchemaDoc) -> bool:
    """Whether two plain JSON documents are strictly the same (`true` is not `1`)."""
    if isinstance(a, SchemaDoc) or isinstance(b, SchemaDoc):
        return False
    try:
        if a != b:  # Python's equality: fast, but `true == 1` and `1.0 == 1`
            return False
        # marshal keeps every type apart and is fast; equal bytes mean equal values, but
        # equal values may give unequal bytes (shared objects are written as back-references)
        if marshal.dumps(a) == marshal.dumps(b):
            return True
        return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    except (ValueError, TypeError, RecursionError):
        return False


def check(
    producer: JSON | SchemaDoc,
    consumer: JSON | SchemaDoc,
    *,
    format_assertion: bool = False,
    budget: Budget | None = None,
) -> CompatResult:
    """Is every JSON value valid under `producer` also valid under `consumer`?

    Raises `teamrel.errors.SchemaError` (or its `RefError`) for a schema that is not a schema
    or a `$ref` that cannot be resolved; every other difficulty gives verdict "unknown".
    """
    run = (budget or Budget()).start()
    p = _side(producer, "producer", format_assertion)
    c_fingerprint: str | None = None
    if cached_side(consumer, "consumer", format_assertion=format_assertion) is None:
        # the same document on both sides (already checked well-formed as the producer)
        if p.fingerprint is None:
            if _same_plain(producer, consumer):
                return CompatResult("compatible")
        else:
            c_fingerprint = fingerprint_of(consumer)
            if c_fingerprint is not None and c_fingerprint == p.fingerprint:
                return CompatResult("compatible")
    if same_but_annotations(producer, consumer):
        # only annotations differ: the same values, no proof needed
        return CompatResult("compatible")
    c = _side(consumer, "consumer", format_assertion, c_fingerprint)
    if _identical(p, c):
        return CompatResult("compatible")
    prover = ProofSearch(p, c, run)
    try:
        out = prover.goal([p.root], [c.root], 0)
        if out.ok:
            return CompatResult("compatible", steps=run.steps)
        return _refute(prover, p, c, out, run)
    except BudgetExhausted as exc:
        return CompatResult("unknown", reason=exc.what, steps=run.steps)
    except RecursionError:
        return CompatResult(
            "unknown", reason="schemas nested too deeply to analyse", steps=run.steps
        )
    except SchemaError:
        raise
    except Exception as exc:  # a defect must never turn into a verdict or a crash
        return CompatResult(
            "unknown",
            reason=f"internal error in the compatibility engine ({type(exc).__name__}: {exc})",
            steps=run.steps,
        )


def _verified(p: Side, c: Side, value: JSON) -> list[Any] | None:
    """The consumer's errors on `value` if it is a genuine witness, else None."""
    if not _finite_json(value):
        return None
    try:
        # valid under the producer, rejected by the consumer: both for plain
        # python-jsonschema and for the specification's reading (exact decimals, ECMA-262)
        if not p.valid_in_both_readings(value):
            return None
        errors, may_differ = c.errors_noting(value)
        if not errors or (may_differ and c.is_valid(c.root, value)):
            return None
    except ValidationUnavailable:
        return None
    return errors


def _refute(prover: ProofSearch, p: Side, c: Side, out: Outcome, run: Budget) -> CompatResult:
    cands: list[Cand] = list(out.cands)
    tried = 0
    for cand in cands:
        tried += 1
        errors = _verified(p, c, cand.value)
        if errors is not None:
            return _incompatible(p, c, cand, errors, run)
    # the failed proof gave no usable candidate: try a few plain producer values
    extra = prover.goal([p.root], [], 0)
    for cand in extra.cands:
        errors = _verified(p, c, cand.value)
        if errors is not None:
            return _incompatible(p, c, cand, errors, run)
    reason = out.reason
    if reason is None:
        if prover.unmodelled:
            reason = prover.unmodelled[0]
        elif tried:
            reason = (
                "a counterexample candidate was built but the reference validator "
                "did not confirm it"
            )
        else:
            reason = "the proof failed but no counterexample could be constructed"
    if prover.approximations:
        reason += "; approximated: " + ", ".join(sorted(set(prover.approximations))[:3])
    return CompatResult("unknown", reason=reason, steps=run.steps)


def _incompatible(p: Side, c: Side, cand: Cand, errors: list[Any], run: Budget) -> CompatResult:
    probs = problems_for(p, c, cand, errors)
    return CompatResult(
        "incompatible", witness=cand.value, has_witness=True, problems=probs, steps=run.steps
    )


def compare(
    old: JSON | SchemaDoc,
    new: JSON | SchemaDoc,
    *,
    format_assertion: bool = False,
    budget: Budget | None = None,
) -> Evolution:
    """How `new` relates to `old`: identical, widened, narrowed or incomparable.

    `added` = check(new, old): values new accepts that old did not (a witness when so);
    `removed` = check(old, new): values old accepted that new no longer does.
    """
    removed = check(old, new, format_assertion=format_assertion, budget=budget)
    added = check(new, old, format_assertion=format_assertion, budget=budget)
    if added.verdict == "compatible" and removed.verdict == "compatible":
        relation = "identical"
    elif removed.verdict == "compatible" and added.verdict == "incompatible":
        relation = "widened"
    elif added.verdict == "compatible" and removed.verdict == "incompatible":
        relation = "narrowed"
    else:
        relation = "incomparable"
    return Evolution(relation, added=added, removed=removed)  # type: ignore[arg-type]


def dumps(value: JSON) -> str:
    """Compact JSON for messages."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


__all__ = ["check", "compare", "fail"]
