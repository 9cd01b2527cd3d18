"""The repository speaks for itself: no code, test, script or document cites a tracker's issue
numbers or a developers' guide that is not in it (a reader of the repository cannot follow
either reference)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("teamrel", "tests", "bench", "docs", "examples", ".ci")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".sh", ".toml", ".txt", ".json", ""}
#: a tracker's numbers ("issue" then a number, "#" optional, any case) and the guide, each
#: named in pieces so this file does not match itself
OUTSIDE = re.compile(r"(?<![\w/-])issues? ?#?\d+|" + "DEVELOPERS" + r"\.md", re.IGNORECASE)


def _files() -> list[Path]:
    found = [REPO / "README.md", REPO / "pyproject.toml"]
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            parts = set(path.relative_to(REPO).parts)
            if parts & {"__pycache__", ".teamrel", "node_modules", "golden"}:
                continue
            if path.is_file() and path.suffix in SUFFIXES:
                found.append(path)
    return found


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_reference_outside_the_repository(path: Path) -> None:
    text = path.read_text("utf-8", errors="replace")
    hits = [
        f"{path.relative_to(REPO)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
        for m in OUTSIDE.finditer(text)
    ]
    assert not hits, hits
