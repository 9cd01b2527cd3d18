"""The incident path stays flat (the rollback itself) or linear (the re-ship warning) in team
size: teamrel's own executed lines are counted at 1,000 and 4,000 members, in process.

Counting lines (a trace function limited to teamrel's own files) is deterministic where a
wall-clock figure is not: the re-ship warning once rebuilt every member's digest for each
member it looked at, 16x the lines for 4x the members, and this test fails on that.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

import teamrel
from teamrel import release as rel
from teamrel.models import EnvironmentSpec, ResolvedMember, member_digest
from teamrel.store import open_store

PKG = str(Path(teamrel.__file__).resolve().parent)
PASSED = {"edges": 0, "compatible": 0, "incompatible": 0, "unknown": 0, "passed": True}
ENVS = {"prod": EnvironmentSpec(require_reason=True)}


def _agent(i: int, prompt: str) -> ResolvedMember:
    spec = {
        "kind": "agent",
        "version": "1.0.0",
        "model": {"provider": "acme", "id": "m-1", "parameters": {}},
        "prompt": {"sha256": hashlib.sha256(prompt.encode()).hexdigest(), "text": prompt},
        "input": {"uri": "urn:i", "schema": {"type": "object"}, "resources": {}},
        "output": {"uri": "urn:o", "schema": {"type": "object"}, "resources": {}},
        "tools": [],
    }
    return ResolvedMember(
        name=f"m{i}", kind="agent", version="1.0.0", spec=spec, digest=member_digest(spec)
    )


def lines_run(fn: Callable[[], Any]) -> tuple[int, Any]:
    """(lines of teamrel's own code executed by `fn()`, its result)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.startswith(PKG) else None

    sys.settrace(tracer)
    try:
        result = fn()
    finally:
        sys.settrace(None)
    return count, result


def measure(tmp: Path, n: int) -> tuple[int, int]:
    """Lines for the rollback itself, and for the re-ship warning after it, at `n` members."""
    store = open_store(None, tmp)
    try:
        v1 = {f"m{i}": _agent(i, f"prompt {i}") for i in range(n)}
        v2 = dict(v1, m0=_agent(0, "prompt 0, improved"))
        for members in (v1, v2):
            rel.release(
                store, tmp, "big", members, check_summary=PASSED, environments=ENVS, actor="t"
            )
        working = {name: m.digest for name, m in v2.items()}
        for name in ("r1", "r2"):
            rel.promote(store, tmp, "big", ENVS, name, "prod", actor="t", reason="x")

        def rollback() -> rel.TransitionResult:
            return rel.rollback(
                store,
                tmp,
                "big",
                ENVS,
                "prod",
                actor="t",
                reason="INC",
                guard_seconds=0,
                working_digests=lambda: working,
            )

        rollback().finish()  # warm every cache on the way (compiled statements, stamps)
        rel.promote(store, tmp, "big", ENVS, "r2", "prod", actor="t", reason="x")
        moved, result = lines_run(rollback)
        warned, warnings = lines_run(result.finish)
        assert warnings and "still declares exactly r2" in warnings[0]
        return moved, warned
    finally:
        store.close()


@pytest.mark.slow
def test_rollback_is_flat_and_its_warning_linear_in_team_size(tmp_path: Path) -> None:
    small_move, small_warn = measure(tmp_path / "small", 1_000)
    big_move, big_warn = measure(tmp_path / "big", 4_000)
    # the transaction does no per-member work at all
    assert big_move <= small_move * 1.05 + 20, (small_move, big_move)
    # the working-tree comparison is linear: 4x the members, at most ~4x the lines
    assert big_warn <= small_warn * 4.5, (small_warn, big_warn)
