"""The hooks of .pre-commit-hooks.yaml, run by the real `pre-commit` (`pre-commit try-repo`) in
a temporary git repository holding a workspace: a compatible commit passes both hooks, a
commit that breaks a handoff is refused by teamrel-check, naming the handoff."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STORY = REPO / "examples" / "story-b-enum-minor-bump"

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's hooks and package as one commit: try-repo installs what is being
    tested (uncommitted work included), once for the module."""
    dest = tmp_path_factory.mktemp("hooks") / "teamrel"
    dest.mkdir()
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(
        REPO / "teamrel", dest / "teamrel", ignore=shutil.ignore_patterns("__pycache__")
    )
    _git(dest, "init", "-q", "-b", "main")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "hooks")
    return dest


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PRE_COMMIT_HOME: the hook environment is built once for the module."""
    return tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(hooks: Path, work: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    return subprocess.run(
        ["pre-commit", "try-repo", str(hooks), hook, "--verbose"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_passing_and_breaking_commits(hooks_repo: Path, home: Path, tmp_path: Path) -> None:
    work = tmp_path / "agents"
    shutil.copytree(STORY, work, ignore=shutil.ignore_patterns(".teamrel"))
    billing = work / "contracts" / "billing_input.json"
    closed = billing.read_text(encoding="utf-8")
    # the starting point holds: billing accepts the router's new intent
    billing.write_text(
        closed.replace('"technical_issue"', '"technical_issue", "cancel_subscription"'),
        encoding="utf-8",
    )
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "a team whose handoffs hold")

    # a passing commit: billing's prompt changes, its contracts do not
    prompt = work / "prompts" / "billing.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + "\nBe brief.\n", encoding="utf-8")
    _git(work, "add", "-A")
    for hook in ("teamrel-validate", "teamrel-check"):
        ok = _try_repo(hooks_repo, work, home, hook)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "Passed" in ok.stdout
    _git(work, "commit", "-q", "-m", "billing: a shorter prompt")

    # a breaking commit: billing closes its enum again
    billing.write_text(closed, encoding="utf-8")
    _git(work, "add", "-A")
    valid = _try_repo(hooks_repo, work, home, "teamrel-validate")
    assert valid.returncode == 0, valid.stdout + valid.stderr  # still a valid workspace
    bad = _try_repo(hooks_repo, work, home, "teamrel-check")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout
    assert "router@2.2.0 -> billing@1.4.2" in bad.stdout
    assert 'intent="cancel_subscription"' in bad.stdout
    # only the changed member's edges: billing's two, not the team's seven
    assert "teamrel check FAILED: 2 edges" in bad.stdout


def test_hooks_skip_commits_that_touch_no_workspace_file(
    hooks_repo: Path, home: Path, tmp_path: Path
) -> None:
    work = tmp_path / "agents"
    shutil.copytree(STORY, work, ignore=shutil.ignore_patterns(".teamrel"))
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "start")
    (work / "NOTES.txt").write_text("hello\n", encoding="utf-8")
    _git(work, "add", "-A")
    run = _try_repo(hooks_repo, work, home, "teamrel-check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Skipped" in run.stdout
