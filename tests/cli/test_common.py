"""Behaviour shared by every command: workspace discovery errors and colour conventions."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from clikit import cli_runner

from teamrel.cli.app import app
from teamrel.cli.common import GlobalOptions, console


def test_missing_workspace_directory_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = cli_runner().invoke(app, ["-C", str(missing), "validate"])
    assert result.exit_code == 3
    assert f"{missing}: no such directory" in result.stderr


def test_directory_without_teamrel_yaml_is_named(tmp_path: Path) -> None:
    result = cli_runner().invoke(app, ["-C", str(tmp_path), "validate"])
    assert result.exit_code == 3
    assert "no teamrel.yaml in this directory" in result.stderr


@pytest.mark.parametrize(
    ("no_color_env", "flag_color", "expected"),
    [(None, True, False), ("1", True, True), (None, False, True)],
)
def test_console_honours_no_color(
    monkeypatch: pytest.MonkeyPatch, no_color_env: str | None, flag_color: bool, expected: bool
) -> None:
    if no_color_env is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color_env)
    ctx = typer.Context(typer.main.get_command(app))
    ctx.obj = GlobalOptions(color=flag_color)
    assert console(ctx).no_color is expected
