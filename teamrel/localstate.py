"""The workspace's local state directory, `<workspace>/.teamrel/`, and whether to trust it.

Owns where teamrel keeps what it may recompute (result caches, the rules index, file stamps)
and the one rule for trusting it: a directory that arrived with the checkout (files under
`.teamrel/` tracked by git, e.g. committed in a pull request) could claim anything, so it is
neither read nor written; the directory teamrel creates carries a `.gitignore` so it is never
committed by accident.
"""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path


def state_dir(root: Path, *, create: bool = True) -> Path | None:
    """`<workspace>/.teamrel` (created, with its `.gitignore`), or None when untrusted.

    `create=False` (read-only commands): None when it does not exist yet.
    """
    state = root / ".teamrel"
    if not create and not state.is_dir():
        return None
    if _tracked_by_git(root, state):
        return None
    with contextlib.suppress(OSError):
        state.mkdir(exist_ok=True)
        ignore = state / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# teamrel's local state: never commit it\n*\n", "utf-8")
    return state


def default_cache_dir(root: Path) -> Path | None:
    """`<workspace>/.teamrel/cache`, or None when it cannot be trusted (see `state_dir`)."""
    state = state_dir(root)
    return state / "cache" if state is not None else None


def _tracked_by_git(root: Path, path: Path) -> bool:
    """Whether git tracks any file under `path` (False outside a git work tree or without git)."""
    if not path.exists():
        return False
    try:
        proc = subprocess.run(
            ["git", "ls-files", "-z", "--", str(path)],
            cwd=root,
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout)
