"""`--help` of every command and group equals its golden file, so moving an option's
declaration (a shared `Annotated` alias in teamrel/cli/options.py) cannot change a word or
a default users read. Terminal width is fixed (COLUMNS=100; click wraps at 80 anyway).
Regenerate with TEAMREL_UPDATE_GOLDEN=1 after a deliberate change of an option, and review
the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from teamrel.cli.app import app

GOLDEN = Path(__file__).parent / "golden" / "help"
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
runner = CliRunner()


def _paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under `command`, the command itself first."""
    found = [prefix]
    commands = getattr(command, "commands", {})  # a group (typer ships its own click)
    for name in sorted(commands):
        found.extend(_paths(commands[name], (*prefix, name)))
    return found


PATHS = _paths(typer.main.get_command(app))


def test_every_command_is_covered() -> None:
    assert len(PATHS) > 30


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "teamrel")
def test_help_matches_golden(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env=ENV, prog_name="teamrel")
    assert result.exit_code == 0, result.output
    golden = GOLDEN / f"{'.'.join(path) or 'teamrel'}.txt"
    if os.environ.get("TEAMREL_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8"), path
