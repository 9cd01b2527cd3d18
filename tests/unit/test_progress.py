"""Progress reported by the library: `Ticker`, and the phases `Context.check` and
`Context.plan` report through the callback they are given."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, copy_demo

from teamrel.context import Context
from teamrel.progress import COMPARING, LOADING, PROVING, Ticker

Calls = list[tuple[str, int, int]]


def _phases(calls: Calls) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for phase, done, total in calls:
        out.setdefault(phase, []).append((done, total))
    return out


def _assert_well_formed(calls: Calls) -> dict[str, int]:
    """Each phase starts at 0, never goes back, never passes its total and ends at it."""
    totals: dict[str, int] = {}
    for phase, reports in _phases(calls).items():
        (total,) = {t for _, t in reports}
        done = [d for d, _ in reports]
        assert done[0] == 0 and done[-1] == total, (phase, done)
        assert done == sorted(done) and all(0 <= d <= total for d in done), (phase, done)
        totals[phase] = total
    return totals


def test_ticker_reports_start_throttled_steps_and_the_end() -> None:
    calls: Calls = []
    every = Ticker(lambda *a: calls.append(a), "work", 5, interval=0)
    for _ in range(5):
        every.advance()
    every.finish()
    assert calls == [("work", d, 5) for d in (0, 1, 2, 3, 4, 5, 5)]

    calls.clear()
    rarely = Ticker(lambda *a: calls.append(a), "work", 1000, interval=3600)
    for _ in range(998):  # two items skipped (say, filtered out): still ends at the total
        rarely.advance()
    rarely.finish()
    assert calls == [("work", 0, 1000), ("work", 1000, 1000)]

    silent = Ticker(None, "work", 3)  # no callback: counting costs nothing, reports nothing
    silent.advance()
    silent.finish()


def test_check_reports_members_loaded_then_handoffs_proved(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "demo")
    calls: Calls = []
    report = Context(root).check(use_cache=False, progress=lambda *a: calls.append(a))
    totals = _assert_well_formed(calls)
    assert list(totals) == [LOADING, PROVING]
    # the progress counts the default state's handoffs (the demo's flag states come after)
    default_state = [e for e in report.edges if e.flag_state is None]
    assert totals == {LOADING: 8, PROVING: len(default_state)}

    # a selection proves fewer edges: the total says so
    calls.clear()
    some = Context(root).check(
        members=["refunds"], use_cache=False, progress=lambda *a: calls.append(a)
    )
    proved = [e for e in some.edges if e.flag_state is None]
    assert _assert_well_formed(calls)[PROVING] == len(proved) < len(default_state)


def test_plan_reports_the_changed_members_compared(tmp_path: Path) -> None:
    root = tmp_path / "story"
    shutil.copytree(
        REPO / "examples" / "story-a-renamed-field",
        root,
        ignore=shutil.ignore_patterns(".teamrel"),
    )
    calls: Calls = []
    plan = Context(root).plan(use_cache=False, progress=lambda *a: calls.append(a))
    totals = _assert_well_formed(calls)
    assert list(totals) == [LOADING, PROVING, COMPARING]
    changed = [m for m in plan.to_json()["members"] if m["action"] == "change"]
    assert totals[COMPARING] == len(changed) == 1
