"""The `Context` facade: one object per invocation that the CLI (and Python users) call into.

Owns workspace discovery (`-C DIR`, else the nearest parent holding `teamrel.yaml`), the
lazily loaded workspace and state store, and one method per user-facing operation. Each
method is a single call from a CLI command; it returns values (reports, findings) and raises
`TeamrelError`s, and never prints or exits.
"""

from __future__ import annotations

from pathlib import Path

from teamrel.errors import WorkspaceNotFound

WORKSPACE_FILE = "teamrel.yaml"


def find_workspace(start: Path | None = None) -> Path:
    """The directory holding `teamrel.yaml`: `start` itself, or its nearest parent that does."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / WORKSPACE_FILE).is_file():
            return candidate
    raise WorkspaceNotFound(
        f"no {WORKSPACE_FILE} in {here} or any parent directory",
        hint="run inside a teamrel workspace or pass -C DIR",
    )


class Context:
    """Entry point of every operation on one workspace (and its state store)."""

    def __init__(self, workspace: Path | str | None = None, db_url: str | None = None) -> None:
        self._workspace_arg = Path(workspace) if workspace is not None else None
        self._db_url = db_url
        self._root: Path | None = None

    @property
    def root(self) -> Path:
        """The workspace directory (found on first use)."""
        if self._root is None:
            if self._workspace_arg is not None:
                if not (self._workspace_arg / WORKSPACE_FILE).is_file():
                    raise WorkspaceNotFound(
                        f"{self._workspace_arg}: no {WORKSPACE_FILE} in this directory"
                    )
                self._root = self._workspace_arg.resolve()
            else:
                self._root = find_workspace()
        return self._root

    # ---------------------------------------------------------------- workspace (issue 2)

    # ---------------------------------------------------------------- compat (issue 3)

    # ---------------------------------------------------------------- check / plan (issue 4)

    # ---------------------------------------------------------------- store / release (issue 5)
