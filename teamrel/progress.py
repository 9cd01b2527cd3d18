"""Progress of long work: the callback type the library reports through, and `Ticker`.

The library never prints, so a caller that wants to show progress (the CLI, on a terminal)
passes a `Progress` callback down: `progress(phase, done, total)`, where `phase` is a short
human label ("proving handoffs") and `done` counts up to `total` within it. `Ticker` calls it
at the start and the end of each phase and at most every `interval` seconds in between: a
team of thousands of edges pays one clock read per item, nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: `progress(phase, done, total)`; `done` never decreases within a phase and ends at `total`.
Progress = Callable[[str, int, int], None]

#: Phases reported by the library (the labels a progress display shows).
LOADING = "loading members"
PROVING = "proving handoffs"
COMPARING = "comparing changed members"


class Ticker:
    """Counts the items of one phase and reports them through `progress` (when given)."""

    def __init__(
        self, progress: Progress | None, phase: str, total: int, *, interval: float = 0.1
    ) -> None:
        self.progress = progress
        self.phase = phase
        self.total = total
        self.done = 0
        self.interval = interval
        self._next = time.monotonic() + interval
        if progress is not None:
            progress(phase, 0, total)

    def advance(self, n: int = 1) -> None:
        """`n` more items done (reported when `interval` has passed since the last report)."""
        if self.progress is None:
            return
        self.done = min(self.total, self.done + n)
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.interval
            self.progress(self.phase, self.done, self.total)

    def finish(self) -> None:
        """The phase is complete: report `total` (items skipped on the way count as done)."""
        if self.progress is not None:
            self.done = self.total
            self.progress(self.phase, self.total, self.total)
