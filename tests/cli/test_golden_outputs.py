"""Every user-facing rendering of `check` (text, json, junit, github, sarif) and of `plan`
(text) for the demo workspace and each `examples/story-*` equals its golden file, so a change
of the code under the renderers cannot move a byte of what users read (regenerate with
TEAMREL_UPDATE_GOLDEN=1 after a deliberate change of an output, and review the diff). The plan's
JSON and Markdown have their own golden tests."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamrel import __version__
from teamrel.cli.app import app

REPO = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "outputs"
STORIES = sorted(p.name for p in (REPO / "examples").glob("story-*"))
DEMO_FILES = ("teamrel.yaml", "contracts", "prompts", "manifests", "examples/demo-mcp")
runner = CliRunner()

#: What changes from run to run, machine to machine or release to release, not with the
#: content: timestamps, versions, durations and the temporary workspace's own path.
_VOLATILE = [
    (re.compile(r'"(created_at|teamrel_version|engine_version)": "[^"]*"'), r'"\1": "…"'),
    (re.compile(r'(engine|teamrel)( version)?[ =]"?\d+\.\d+(\.\d+)?[^\s"<]*'), r"\1\2 …"),
    (re.compile(r'(time|duration_ms|elapsed)="?[\d.]+"?'), r"\1=…"),
    (re.compile(r"in \d+(\.\d+)? ?m?s\b"), "in …"),
    # SARIF's tool driver carries teamrel's own version
    (re.compile(rf'"(version|semanticVersion)": "{re.escape(__version__)}"'), r'"\1": "…"'),
]

CASES = [
    ("check", "text"),
    ("check", "json"),
    ("check", "junit"),
    ("check", "github"),
    ("check", "sarif"),
    ("plan", "text"),
    ("plan", "json"),
    ("plan", "markdown"),
]


def _workspace(name: str, tmp: Path) -> Path:
    root = tmp / name
    if name == "demo":
        root.mkdir()
        for rel in DEMO_FILES:
            src, dst = REPO / rel, root / rel
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".teamrel", "__pycache__"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    else:
        shutil.copytree(REPO / "examples" / name, root, ignore=shutil.ignore_patterns(".teamrel"))
    return root


def _normalise(text: str, root: Path) -> str:
    text = text.replace(str(root), "<workspace>")
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return text


@pytest.mark.parametrize("workspace", ["demo", *STORIES])
def test_outputs_match_golden(workspace: str, tmp_path: Path) -> None:
    root = _workspace(workspace, tmp_path)
    for command, fmt in CASES:
        args = ["-C", str(root), command, "--format", fmt, "--no-cache"]
        result = runner.invoke(app, args)
        assert result.exit_code in (0, 1), (command, fmt, result.stdout, result.stderr)
        got = f"exit {result.exit_code}\n{_normalise(result.stdout, root)}"
        golden = GOLDEN / f"{workspace}.{command}.{fmt}"
        if os.environ.get("TEAMREL_UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(got, encoding="utf-8")
        assert got == golden.read_text(encoding="utf-8"), (command, fmt)
