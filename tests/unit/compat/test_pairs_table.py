"""The hand-made pair table (tests/unit/compat/pairs/) against the compatibility engine.

Per pair: the label itself is proven first (an incompatible pair's hand witness is checked with
the reference oracle; a compatible pair's samples are valid on both sides); then the engine's
verdict must never be the wrong one, and an incompatible verdict must carry a witness that
python-jsonschema AND the spec-faithful oracle accept under the producer and reject under the
consumer, plus problems located in the instance and in both schemas. "unknown" is not a failure
of a pair, only of the aggregate decided-rate test (>= 95% of the table).
"""

from __future__ import annotations

import fnmatch
import json
from collections import Counter
from typing import Any

import pytest
from compat_oracle import hang_guard, is_valid, witness_problems
from pairs import ALL_PAIRS, ANY, MISSING, Pair

DECIDED_TARGET = 0.95
#: Wall-clock guard per check, far above the engine's own budget: catches a hang.
HANG_SECONDS = 30

INCOMPATIBLE = [p for p in ALL_PAIRS if p.expected == "incompatible"]


def _check(pair: Pair) -> Any:
    """The engine's answer, or the exception it raised (always a failure of the pair)."""
    from teamrel.compat import check

    try:
        with hang_guard(HANG_SECONDS):
            return check(pair.producer, pair.consumer, format_assertion=pair.format_assertion)
    except Exception as err:
        return err


def _documented_kinds() -> frozenset[str] | None:
    import teamrel.compat as compat

    for name in ("PROBLEM_KINDS", "KINDS", "PROBLEM_KIND_VOCABULARY"):
        kinds = getattr(compat, name, None)
        if kinds:
            return frozenset(kinds)
    return None


def test_table_is_large_and_balanced() -> None:
    counts = Counter(p.expected for p in ALL_PAIRS)
    assert len(ALL_PAIRS) >= 150
    assert counts["compatible"] >= 50
    assert counts["incompatible"] >= 50
    assert all(p.witness is not MISSING and p.kinds and p.pointers for p in INCOMPATIBLE)


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=str)
def test_label_is_proven(pair: Pair) -> None:
    """The table's own truth: witnesses and samples checked with the oracle, not the engine."""
    fa = pair.format_assertion
    if pair.expected == "incompatible":
        problems = witness_problems(pair.producer, pair.consumer, pair.witness, format_assertion=fa)
        if pair.plain_witness:
            assert problems == [], f"hand witness {pair.witness!r} does not prove the label"
        else:
            # Spec-faithful judgement holds, plain python-jsonschema departs from the spec.
            assert all(p.startswith("python-jsonschema") for p in problems), problems
            assert problems, "plain_witness=False but python-jsonschema agrees: drop the flag"
    for sample in pair.samples:
        assert is_valid(pair.producer, sample, format_assertion=fa), f"{sample!r} not in producer"
        assert is_valid(pair.consumer, sample, format_assertion=fa), f"{sample!r} not in consumer"


def _verdict_failures(pair: Pair, result: Any) -> list[str]:
    """Why the engine's answer for `pair` is wrong or unproven (empty: acceptable)."""
    if isinstance(result, BaseException):
        return [f"raised {type(result).__name__}: {result}"]
    failures: list[str] = []
    verdict = result.verdict
    if verdict not in ("compatible", "incompatible", "unknown"):
        return [f"not a verdict: {verdict!r}"]
    if verdict == "unknown":
        if not (isinstance(result.reason, str) and result.reason.strip()):
            failures.append("unknown without a reason")
        return failures
    if verdict != pair.expected:
        failures.append(f"WRONG VERDICT: engine says {verdict}, truth is {pair.expected}")
    if verdict == "incompatible":
        if not result.has_witness:
            failures.append("incompatible without a witness")
        else:
            failures.extend(
                witness_problems(
                    pair.producer,
                    pair.consumer,
                    result.witness,
                    format_assertion=pair.format_assertion,
                )
            )
        if not result.problems:
            failures.append("incompatible without problems")
    return failures


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=str)
def test_verdict(pair: Pair) -> None:
    result = _check(pair)
    failures = _verdict_failures(pair, result)
    assert not failures, (
        f"{pair.id}: {failures}\nproducer={json.dumps(_plain(pair.producer))}\n"
        f"consumer={json.dumps(_plain(pair.consumer))}\nwitness={_witness(result)}"
    )
    doc = result.to_json()
    assert doc["verdict"] == result.verdict
    json.dumps(doc)  # serialisable as is


@pytest.mark.parametrize("pair", INCOMPATIBLE, ids=str)
def test_explanation(pair: Pair) -> None:
    """An incompatible verdict names the kind and locations a release manager needs."""
    result = _check(pair)
    if isinstance(result, BaseException) or result.verdict != "incompatible":
        pytest.skip(f"engine answered {getattr(result, 'verdict', result)!r}")
    documented = _documented_kinds()
    for problem in result.problems:
        assert isinstance(problem.message, str) and problem.message.strip()
        # "producer#/pointer", or "<resource uri>#/pointer" inside a cross-file $ref
        assert _located(problem.producer_location, "producer"), problem.producer_location
        assert _located(problem.consumer_location, "consumer"), problem.consumer_location
        assert problem.instance_pointer == "" or problem.instance_pointer.startswith("/")
        if documented is not None:
            assert problem.kind in documented, f"undocumented kind {problem.kind!r}"
        assert _resolves(result.witness, problem.instance_pointer), (
            f"{problem.instance_pointer!r} is not a location in the witness {result.witness!r}"
        )
        for side, schema in (("producer", pair.producer), ("consumer", pair.consumer)):
            location = getattr(problem, f"{side}_location")
            if location.startswith(f"{side}#"):
                root = schema.schema_ if pair_doc(schema) else schema
                assert _resolves(root, location.split("#", 1)[1]), (
                    f"{location} is not a location in the {side} schema"
                )
        json.dumps(problem.to_json())
    shown = [json.dumps(p.to_json(), sort_keys=True) for p in result.problems]
    assert len(shown) == len(set(shown)), f"the same problem reported twice: {shown}"
    matching = [
        p
        for p in result.problems
        if (ANY in pair.kinds or p.kind in pair.kinds)
        and any(fnmatch.fnmatchcase(p.instance_pointer, pat) for pat in pair.pointers)
    ]
    found = [(p.kind, p.instance_pointer) for p in result.problems]
    assert matching, f"expected kind in {pair.kinds} at {pair.pointers}; engine reported {found}"


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=str)
def test_compare_agrees(pair: Pair) -> None:
    """compare(old=producer, new=consumer): `removed` answers old ⊆ new (this pair's truth) and
    the relation follows from the two directions."""
    from teamrel.compat import compare

    evolution = compare(pair.producer, pair.consumer, format_assertion=pair.format_assertion)
    removed, added = evolution.removed, evolution.added
    assert removed.verdict in (pair.expected, "unknown"), f"WRONG VERDICT {removed.verdict}"
    if removed.verdict == "incompatible":
        assert removed.has_witness
        assert not witness_problems(
            pair.producer,
            pair.consumer,
            removed.witness,
            format_assertion=pair.format_assertion,
        )
    if added.verdict == "incompatible":
        assert added.has_witness
        assert not witness_problems(
            pair.consumer,
            pair.producer,
            added.witness,
            format_assertion=pair.format_assertion,
        )
    both = (removed.verdict, added.verdict)
    expected_relation = {
        ("compatible", "compatible"): "identical",
        ("compatible", "incompatible"): "widened",
        ("incompatible", "compatible"): "narrowed",
    }.get(both, "incomparable")
    assert evolution.relation == expected_relation, both
    json.dumps(evolution.to_json())


def test_decided_rate() -> None:
    """No wrong verdict anywhere in the table, and >= 95% of it decided."""
    wrong: list[str] = []
    undecided: list[str] = []
    for pair in ALL_PAIRS:
        result = _check(pair)
        failures = _verdict_failures(pair, result)
        if failures:
            wrong.append(f"{pair.id}: {failures}")
        if isinstance(result, BaseException) or result.verdict == "unknown":
            undecided.append(f"{pair.id}: {getattr(result, 'reason', result)}")
    decided = 1 - len(undecided) / len(ALL_PAIRS)
    print(
        f"\npair table: {len(ALL_PAIRS)} pairs, decided {decided:.1%} "
        f"({len(undecided)} unknown), wrong or unproven {len(wrong)}"
    )
    assert not wrong, "\n".join(wrong)
    assert decided >= DECIDED_TARGET, f"decided {decided:.1%} < 95%; unknown:\n" + "\n".join(
        undecided
    )


def pair_doc(schema: Any) -> bool:
    """Is `schema` a SchemaDoc (its JSON form wraps the schema)?"""
    return hasattr(schema, "resources")


def _resolves(document: Any, pointer: str) -> bool:
    """Does the JSON pointer name a value inside `document`?"""
    if pointer == "":
        return True
    if not pointer.startswith("/"):
        return False
    node = document
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return False
    return True


def _located(location: str, side: str) -> bool:
    other = "consumer" if side == "producer" else "producer"
    return "#" in location and not location.startswith(f"{other}#")


def _plain(schema: Any) -> Any:
    to_json = getattr(schema, "to_json", None)
    return to_json() if callable(to_json) else schema


def _witness(result: Any) -> str:
    if isinstance(result, BaseException) or not result.has_witness:
        return "-"
    return json.dumps(result.witness)
