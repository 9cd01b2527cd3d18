"""Shared fixtures: copies of the repo-root demo workspace and of the examples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_PARTS = ("teamrel.yaml", "contracts", "prompts")


def copy_demo(dest: Path) -> Path:
    """Copy the demo workspace (teamrel.yaml, contracts/, prompts/) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in DEMO_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part)
        else:
            shutil.copy2(src, dest / part)
    return dest


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A private copy of the repo-root demo workspace (safe to break)."""
    return copy_demo(tmp_path / "demo")


@pytest.fixture
def example_copy(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`example_copy("minimal")`: a private copy of examples/<name>/."""

    def make(name: str) -> Path:
        dest = tmp_path / "examples" / name
        shutil.copytree(REPO / "examples" / name, dest)
        return dest

    return make
