"""`teamrel init`: a new workspace scaffolded from one of the packaged examples.

Owns the example catalogue (`EXAMPLES`) and the copy. The examples are package data under
`teamrel/templates/` (so they exist after `pip install`, not only in a git checkout); each is a
byte-for-byte copy of a workspace of the repository (tests/cli/test_init.py keeps them equal).
Nothing is ever overwritten: every destination path is checked before the first byte is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from teamrel.errors import InputError, UsageError

#: example name -> what it is (for --help and errors)
EXAMPLES: dict[str, str] = {
    "minimal": "a drafter hands a draft to a reviewer (2 agents, 1 handoff)",
    "support": "the 7-agent customer-support team with an orders tool (the repository's demo)",
    "with-tool": "an agent calling an MCP-style tool, then handing off to a writer",
}


@dataclass
class InitResult:
    """What `teamrel init` wrote."""

    directory: Path
    example: str
    team: str
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "example": self.example,
            "team": self.team,
            "files": self.files,
        }


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name in ("__pycache__", ".teamrel"):
            continue
        rel = f"{prefix}{child.name}"
        if child.is_dir():
            found.extend(_walk(child, rel + "/"))
        else:
            found.append((rel, child))
    return found


def template_files(example: str) -> list[tuple[str, Traversable]]:
    """The files of a packaged example: (relative posix path, resource), sorted."""
    if example not in EXAMPLES:
        raise UsageError(
            f"--example must be one of {', '.join(EXAMPLES)}, not {example!r}",
        )
    return _walk(resources.files("teamrel") / "templates" / example)


def init_workspace(directory: Path, example: str) -> InitResult:
    """Copy `example` into `directory` (created if missing); refuse when any file exists."""
    files = template_files(example)
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: not a directory")
    clashes = [rel for rel, _ in files if (directory / rel).exists()]
    if clashes:
        more = f" and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        shown = ", ".join(clashes[:5]) + more
        raise InputError(
            f"{directory}: would overwrite {shown}; teamrel init writes only new files",
            hint="run it in an empty directory, or pass -C NEW_DIR",
        )
    team = ""
    for rel, res in files:
        data = res.read_bytes()
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        # exclusive create: a file appearing since the check above is still not overwritten
        with target.open("xb") as fh:
            fh.write(data)
        if rel == "teamrel.yaml":
            for line in data.decode("utf-8").splitlines():
                if line.startswith("team:"):
                    team = line.split(":", 1)[1].strip()
    return InitResult(directory=directory, example=example, team=team, files=[r for r, _ in files])
