"""Consumer unions covering the producer only jointly, unevaluated* beside anyOf/oneOf and
uniqueItems counting: random pairs judged against every value of a small universe, and the
bounds on the case splits.

The random pairs are deterministic (seeded). Their schemas use no pattern, format or
multipleOf, so plain python-jsonschema is the specification's reading there: a "compatible"
answer must hold for every value of the universe, an "incompatible" witness must be valid under
the producer and invalid under the consumer.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import jsonschema
import pytest

from teamrel.compat import Budget, check

V = jsonschema.Draft202012Validator
KEYS = ["a", "b", "xa"]
LEAVES: list[Any] = [None, True, 0, 1.5, "", "ab", [], {}]
TYPES = ["null", "boolean", "integer", "number", "string", "array", "object"]


def _universe() -> list[Any]:
    out: list[Any] = [*LEAVES, False, 2, "a", "abc", "abcdef"]
    items: list[Any] = [None, True, 0, "x"]
    for n in range(5):
        out.extend(list(c) for c in itertools.product(items, repeat=n))
    values: list[Any] = [None, True, 0, 1.5, "", "ab", [], {}]
    for mask in itertools.product((0, 1), repeat=len(KEYS)):
        names = [k for k, m in zip(KEYS, mask, strict=True) if m]
        out.extend(
            dict(zip(names, c, strict=True)) for c in itertools.product(values, repeat=len(names))
        )
    return out


UNIVERSE = _universe()


def _leaf(r: random.Random) -> Any:
    return r.choice(
        [
            {"type": r.choice(TYPES)},
            {"type": r.sample(TYPES, 2)},
            {"enum": r.sample(LEAVES[:6], r.randint(1, 3))},
            {"const": r.choice(LEAVES[:6])},
            {},
            False,
            {"type": "string", "maxLength": r.randint(0, 2)},
        ]
    )


def _object(r: random.Random) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "object"}
    s["properties"] = {k: _leaf(r) for k in r.sample(KEYS, r.randint(0, 3))}
    if r.random() < 0.4:
        s["required"] = r.sample(KEYS, r.randint(1, 2))
    if r.random() < 0.3:
        s["additionalProperties"] = r.choice([False, _leaf(r)])
    if r.random() < 0.1:
        s["maxProperties"] = r.randint(0, 2)
    return s


def _string(r: random.Random) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "string"}
    if r.random() < 0.6:
        s["minLength"] = r.randint(0, 4)
    if r.random() < 0.6:
        s["maxLength"] = r.randint(0, 6)
    return s


def _array(r: random.Random) -> dict[str, Any]:
    s: dict[str, Any] = {"type": "array"}
    if r.random() < 0.5:
        s["prefixItems"] = [_leaf(r) for _ in range(r.randint(1, 2))]
    if r.random() < 0.7:
        s["items"] = r.choice([_leaf(r), {"enum": r.sample([None, True, 0, "x"], 3)}])
    if r.random() < 0.5:
        s["minItems"] = r.randint(0, 3)
    if r.random() < 0.5:
        s["maxItems"] = r.randint(0, 4)
    if r.random() < 0.4:
        s["uniqueItems"] = True
    if r.random() < 0.15:
        s["contains"] = _leaf(r)
        s["maxContains"] = r.randint(0, 2)
    return s


MAKERS = {"object": _object, "string": _string, "array": _array}


def _union(r: random.Random, kind: str) -> dict[str, Any]:
    most = 6 if kind == "object" else 4
    s: dict[str, Any] = {
        r.choice(["anyOf", "anyOf", "oneOf"]): [MAKERS[kind](r) for _ in range(r.randint(2, most))]
    }
    if kind == "object" and r.random() < 0.5:
        s["unevaluatedProperties"] = r.choice([False, _leaf(r)])
        if r.random() < 0.5:
            s["properties"] = {r.choice(KEYS): _leaf(r)}
    if kind == "array" and r.random() < 0.5:
        s["unevaluatedItems"] = r.choice([False, _leaf(r)])
        if r.random() < 0.5:
            s["prefixItems"] = [_leaf(r)]
    return s


def _pair(seed: int) -> tuple[Any, Any]:
    r = random.Random(seed)
    kind = r.choice(list(MAKERS))
    shape = r.random()
    if shape < 0.5:
        return MAKERS[kind](r), _union(r, kind)
    if shape < 0.8:
        return _union(r, kind), _union(r, kind)
    return _union(r, kind), MAKERS[kind](r)


def _object_pair(seed: int) -> tuple[Any, Any]:
    """An object producer against a union of 2-6 objects (split by names, types, values)."""
    r = random.Random(seed)
    producer = _object(r)
    for name in producer["properties"]:
        if r.random() < 0.5:
            producer["properties"][name] = {"type": r.sample(TYPES, r.randint(2, 3))}
    return producer, _union(r, "object")


@pytest.mark.parametrize("block", range(6))
def test_random_union_pairs_are_never_wrong(block: int) -> None:
    decided = 0
    for seed in range(block * 100, block * 100 + 100):
        producer, consumer = _pair(seed) if block < 3 else _object_pair(seed)
        result = check(producer, consumer)
        p, c = V(producer), V(consumer)
        shown = f"seed {seed}: {json.dumps(producer)} vs {json.dumps(consumer)}"
        if result.verdict == "compatible":
            bad = next((x for x in UNIVERSE if p.is_valid(x) and not c.is_valid(x)), None)
            assert bad is None, f"WRONG VERDICT compatible, {json.dumps(bad)}: {shown}"
        elif result.verdict == "incompatible":
            assert p.is_valid(result.witness) and not c.is_valid(result.witness), shown
        else:
            assert result.reason
        decided += result.verdict != "unknown"
    assert decided >= 90, f"only {decided} of 100 decided"


def _tagged_branch(i: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {f"k{i}": {"const": i}, f"v{i}": {"type": "integer"}},
        "required": [f"k{i}"],
    }


def test_case_splits_are_bounded() -> None:
    """Many alternatives telling values apart by many names: the splits stop at their limits
    (an answer, well within the step budget), and a small budget still only gives unknown."""
    consumer = {"anyOf": [_tagged_branch(i) for i in range(10)]}
    producer = {
        "type": "object",
        "properties": {f"k{i}": {"enum": [i, i + 1]} for i in range(10)},
        "required": ["k0"],
    }
    result = check(producer, consumer)
    assert result.verdict in ("incompatible", "unknown")
    assert result.steps < 100_000
    if result.verdict == "incompatible":
        assert V(producer).is_valid(result.witness)
        assert not V(consumer).is_valid(result.witness)
    small = check(producer, consumer, budget=Budget(max_steps=300))
    assert small.verdict in (result.verdict, "unknown")


def test_joint_cover_needs_every_case() -> None:
    """A case the union misses gives the witness, from that case."""
    consumer = {
        "anyOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}},
            {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        ]
    }
    producer = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert check(producer, consumer).verdict == "compatible"
    result = check({"type": "object", "properties": {"a": {"type": "boolean"}}}, consumer)
    assert result.verdict == "incompatible"
    assert isinstance(result.witness, dict) and isinstance(result.witness.get("a"), bool)
