"""`teamrel init`: the packaged examples equal the repository's workspaces, a scaffolded
workspace passes the next steps exactly as printed, and nothing is ever overwritten."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from teamrel.scaffold import EXAMPLES, template_files

REPO = Path(__file__).resolve().parents[2]
#: packaged example -> the repository workspace it copies
SOURCES = {
    "minimal": REPO / "examples" / "minimal",
    "with-tool": REPO / "examples" / "with-tool",
    "support": REPO,
}
BIN = Path(sys.executable).parent


def teamrel(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("TEAMREL_DATABASE_URL", None)
    return subprocess.run(
        ["teamrel", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_packaged_example_equals_the_repository_workspace(example: str) -> None:
    assert set(SOURCES) == set(EXAMPLES)
    src = SOURCES[example]
    packaged = dict(template_files(example))
    assert "teamrel.yaml" in packaged
    for rel, res in packaged.items():
        assert res.read_bytes() == (src / rel).read_bytes(), f"{example}: {rel} differs"
    # and nothing of the workspace is missing from the package
    expected = {
        p.relative_to(src).as_posix()
        for d in ("contracts", "prompts")
        if (src / d).is_dir()
        for p in (src / d).rglob("*")
        if p.is_file()
    } | {"teamrel.yaml"}
    assert set(packaged) == expected


def _steps(stdout: str) -> list[str]:
    lines = stdout.split("next steps:\n", 1)[1].splitlines()
    return [ln.strip() for ln in lines if ln.strip()]


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_next_steps_work_as_printed(example: str, tmp_path: Path) -> None:
    made = teamrel(tmp_path, "init", "--example", example)
    assert made.returncode == 0, made.stderr
    steps = _steps(made.stdout)
    assert steps[0] == "teamrel validate"
    for step in steps:
        args = shlex.split(step)
        assert args[0] == "teamrel"
        done = teamrel(tmp_path, *args[1:])
        assert done.returncode == 0, f"{step}: {done.stdout}{done.stderr}"
    assert (tmp_path / "manifests").is_dir()  # the last step released r1


def test_into_a_new_directory_with_C(tmp_path: Path) -> None:
    made = teamrel(tmp_path, "-C", "team", "init", "--format", "json")
    assert made.returncode == 0, made.stderr
    doc = json.loads(made.stdout)
    assert doc["format_version"] == 1 and doc["example"] == "minimal" and doc["team"] == "minimal"
    assert doc["next_steps"][0] == "teamrel -C team validate"
    assert teamrel(tmp_path, *shlex.split(doc["next_steps"][1])[1:]).returncode == 0


def test_refuses_to_overwrite_anything(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    mine = tmp_path / "prompts" / "drafter.md"
    mine.write_text("my own prompt\n", encoding="utf-8")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    refused = teamrel(tmp_path, "init")
    assert refused.returncode == 3
    assert "would overwrite prompts/drafter.md" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "my own prompt\n"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_unknown_example_is_a_usage_error(tmp_path: Path) -> None:
    bad = teamrel(tmp_path, "init", "--example", "nope")
    assert bad.returncode == 2
    assert "minimal, support, with-tool" in bad.stderr
    assert list(tmp_path.iterdir()) == []
