"""Real-world schemas: check-jsonschema's vendored SchemaStore copies (schemastore_corpus.py).

Every pair must be answered without an exception or a hang and never with the wrong verdict;
an incompatible answer must carry a witness python-jsonschema (and the spec-faithful oracle)
accepts under the producer and rejects under the consumer. No reflexive annotation-edit pair
may be left unknown (in particular not for the budget's sake), and >= 99% of the labelled pairs
must be decided. A schema the engine cannot read (a `$ref` to a document check-jsonschema does
not ship) is recorded in UNUSABLE and must keep raising `RefError`, never give a verdict.
Timing is a benchmark figure (`bench/compat.py`, its schemastore set), not asserted here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from compat_oracle import hang_guard, witness_problems
from schemastore_corpus import UNUSABLE, Pair, pairs, schema_dir

from teamrel.errors import RefError

pytestmark = pytest.mark.skipif(schema_dir() is None, reason="check-jsonschema not installed")

PAIRS = pairs()
DECIDED_TARGET = 0.99
HANG_SECONDS = 60

_ANSWERS: dict[str, Any] = {}


def answer(pair: Pair) -> Any:
    key = str(pair)
    if key not in _ANSWERS:
        from teamrel.compat import check

        try:
            with hang_guard(HANG_SECONDS):
                _ANSWERS[key] = check(pair.producer, pair.consumer)
        except Exception as err:  # kept to report: every exception fails the pair
            _ANSWERS[key] = err
    return _ANSWERS[key]


def test_every_schema_is_used() -> None:
    names = {p.schema for p in PAIRS}
    assert len(names) >= 25
    assert {p.schema for p in PAIRS if p.kind == "annotation"} == names
    kinds = {p.kind for p in PAIRS if p.expected == "incompatible"}
    assert kinds == {"enum-value-removed", "property-required", "bound-tightened", "object-closed"}


@pytest.mark.parametrize("pair", PAIRS, ids=str)
def test_pair(pair: Pair) -> None:
    result = answer(pair)
    if pair.schema in UNUSABLE:
        assert isinstance(result, RefError), result
        return
    assert not isinstance(result, BaseException), f"raised {type(result).__name__}: {result}"
    if pair.kind.startswith("annotation"):
        assert result.verdict == "compatible", result.reason
        return
    if result.verdict == "unknown":
        assert result.reason
        return
    assert result.verdict == pair.expected, f"WRONG VERDICT {result.verdict}"
    if result.verdict == "incompatible":
        assert result.has_witness and result.problems
        problems = witness_problems(pair.producer, pair.consumer, result.witness)
        assert not problems, f"witness {json.dumps(result.witness)[:200]}: {problems}"


def test_decided_rate() -> None:
    usable = [p for p in PAIRS if p.schema not in UNUSABLE]
    decided = [
        p
        for p in usable
        if not isinstance(answer(p), BaseException) and answer(p).verdict != "unknown"
    ]
    rate = len(decided) / len(usable)
    print(f"\nschemastore: {len(usable)} pairs, decided {rate:.2%}")
    assert rate >= DECIDED_TARGET
