"""Deterministic verdicts: the step budget decides, wall time is only a safety net.

The engine's clock is slowed down artificially (every reading 50 ms later than the one
before, as on a machine twenty times slower than this one): the verdicts, reasons and step
counts stay the same. Only a clock slowed past the safety net stops a check, and then the
reason says so, apart from the step budget's.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from teamrel.compat import Budget, check
from teamrel.compat import result as result_module


def _wide(n: int, changed: int | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {f"p{i}": {"type": "string", "maxLength": 64} for i in range(n)}
    if changed is not None:
        props[f"p{changed}"] = {"type": "integer"}
    return {"type": "object", "properties": props, "additionalProperties": False}


_VALUES = [f"v{i:05d}" for i in range(5_000)]

PAIRS: dict[str, tuple[Any, Any]] = {
    "enum-minus-one": ({"enum": _VALUES}, {"enum": _VALUES[:-1]}),
    "enum-subset": ({"enum": _VALUES[:-1]}, {"enum": list(reversed(_VALUES))}),
    "wide-one-changed": (_wide(1_000), _wide(1_000, changed=999)),
    "wide-required-empty": (
        _wide(1_000),
        {**_wide(1_000), "required": []},
    ),
    "step-budget-runs-out": (
        {"enum": _VALUES},
        {"enum": _VALUES[:-1]},
    ),
}


def _slowed(step: float) -> Any:
    """A clock that runs `step` seconds ahead at every reading."""
    start = time.monotonic()
    ticks = itertools.count()
    return lambda: start + step * next(ticks)


def _budget(name: str) -> Budget:
    return Budget(max_steps=1_000) if name == "step-budget-runs-out" else Budget()


@pytest.mark.parametrize("name", list(PAIRS))
def test_same_verdict_under_a_slowed_clock(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    producer, consumer = PAIRS[name]
    fast = check(producer, consumer, budget=_budget(name))
    monkeypatch.setattr(result_module, "_clock", _slowed(0.05))
    slow = check(producer, consumer, budget=_budget(name))
    assert (slow.verdict, slow.reason, slow.steps) == (fast.verdict, fast.reason, fast.steps)
    if name == "step-budget-runs-out":
        assert fast.verdict == "unknown"
        assert fast.reason == "step budget (1000 steps) exhausted"
    else:
        assert fast.verdict != "unknown", fast.reason


def test_the_safety_net_is_its_own_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    producer, consumer = PAIRS["enum-minus-one"]
    # every reading a minute later: past the 30 s net at the first look at the clock
    monkeypatch.setattr(result_module, "_clock", _slowed(60.0))
    got = check(producer, consumer)
    assert got.verdict == "unknown"
    assert got.reason is not None
    assert got.reason.startswith("wall-clock safety net (30 s) reached after ")
    assert "step budget" not in got.reason


def test_default_budget_counts_steps_first() -> None:
    budget = Budget()
    assert budget.max_steps == 200_000
    assert budget.max_seconds >= 30.0  # a net far above what 200,000 steps take
