"""examples/rollout/story.py runs and its canary is aborted by `teamrel rollout step`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent


def test_the_rollout_story_aborts_the_failing_canary() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples/rollout/story.py")],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "TEAMREL_DATABASE_URL": ""},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    out = done.stdout
    assert "STARTED rollout" in out
    assert "decision: ABORT — error_rate_ratio degraded" in out
    assert "applied: abort" in out
    assert "decision: PROMOTE" not in out
