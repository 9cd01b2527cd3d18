"""A closed stdout is not a finding: `teamrel ... | head -1` ends quietly with 141.

Each command runs as a real subprocess whose stdout is a pipe read by a real `head -1`. The
pipe is shrunk to one page (Linux `F_SETPIPE_SZ`) and every output is several pages long, so
`head` has certainly gone when teamrel writes the rest: the closed pipe is met on every run,
not only when the scheduler happens to order the two processes that way.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from teamrel.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
F_SETPIPE_SZ = 1031  # fcntl.F_SETPIPE_SZ (Linux), named in the fcntl module only from 3.10 on

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's"),
    pytest.mark.skipif(shutil.which("head") is None, reason="needs head(1)"),
]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEAMREL_")}
    env["TEAMREL_ACTOR"] = "tester"
    env["TEAMREL_DATABASE_URL"] = f"sqlite:///{tmp_path / 'state.db'}"
    return env


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A generated team of 60 agents, released and promoted to staging."""
    tmp = tmp_path_factory.mktemp("pipes")
    ws = tmp / "team"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "gen_team.py"), "60", "120", str(ws)],
        check=True,
        capture_output=True,
    )
    env = _env(tmp)
    subprocess.run(
        [sys.executable, "-m", "teamrel", "-C", str(ws), "release", "--promote", "staging"],
        check=True,
        capture_output=True,
        env=env,
    )
    return ws, env


def _into_head(ws: Path, env: dict[str, str], *args: str) -> tuple[int, str, bytes]:
    """Run `teamrel -C WS ARGS | head -1`: teamrel's status and stderr, head's output."""
    import fcntl

    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    try:
        head = subprocess.Popen(["head", "-1"], stdin=r, stdout=subprocess.PIPE)
        proc = subprocess.Popen(
            [sys.executable, "-m", "teamrel", "-C", str(ws), *args],
            stdout=w,
            stderr=subprocess.PIPE,
            env=env,
        )
    finally:
        os.close(r)
        os.close(w)
    _, err = proc.communicate(timeout=120)
    first, _ = head.communicate(timeout=30)
    return proc.returncode, err.decode("utf-8", "replace"), first


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--explain"),
        ("check", "--format", "json"),
        ("resolve", "--env", "staging"),
        ("resolve", "--env", "staging", "--format", "json"),
    ],
    ids=" ".join,
)
def test_closed_stdout_ends_quietly_with_sigpipe_status(
    team: tuple[Path, dict[str, str]], args: tuple[str, ...]
) -> None:
    ws, env = team
    code, err, first = _into_head(ws, env, *args)
    assert first.strip(), "head read nothing: the command failed before writing"
    assert code == ExitCode.BROKEN_PIPE == 141, (code, err)
    assert err == "", err  # no traceback, no "error: Broken pipe"


def test_the_pipe_is_longer_than_a_page(team: tuple[Path, dict[str, str]]) -> None:
    """The premise of the test above: every output overflows the shrunk pipe."""
    ws, env = team
    for args in (
        ("plan", "--explain"),
        ("check", "--format", "json"),
        ("resolve", "--env", "staging"),
    ):
        out = subprocess.run(
            [sys.executable, "-m", "teamrel", "-C", str(ws), *args],
            capture_output=True,
            env=env,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert len(out.stdout) > 4096, (args, len(out.stdout))
