"""Progress on long work: drawn on stderr only on a terminal and never under -q; stdout is
the same with or without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from clikit import cli_runner
from conftest import REPO
from rich.console import Console

from teamrel.cli import common
from teamrel.cli.app import app
from teamrel.progress import COMPARING, LOADING, PROVING

runner = cli_runner()


def _terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """stderr is a terminal, and the work counts as long from the start."""

    def on_a_terminal(ctx: typer.Context) -> Console:
        return Console(stderr=True, force_terminal=True, width=100)

    monkeypatch.setattr(common, "progress_console", on_a_terminal)
    monkeypatch.setattr(common, "PROGRESS_AFTER_S", 0.0)


@pytest.fixture
def story(tmp_path: Path) -> Path:
    dest = tmp_path / "story"
    shutil.copytree(
        REPO / "examples" / "story-a-renamed-field",
        dest,
        ignore=shutil.ignore_patterns(".teamrel"),
    )
    return dest


def test_nothing_on_stderr_when_it_is_not_a_terminal(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "PROGRESS_AFTER_S", 0.0)  # long enough, but not a terminal
    page = str(demo_copy / "report.html")
    for args in (
        ["check", "--no-cache"],
        ["plan", "--no-cache"],
        ["graph", "--check"],
        ["report", "--out", page],
    ):
        r = runner.invoke(app, ["-C", str(demo_copy), *args])
        assert r.exit_code == 0, r.stderr
        assert r.stderr == "", args


def test_nothing_under_quiet_even_on_a_terminal(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch)
    for args in (["check", "--no-cache"], ["plan", "--no-cache"]):
        r = runner.invoke(app, ["-q", "-C", str(demo_copy), *args])
        assert r.exit_code == 0, r.stderr
        assert r.stderr == "", args


def test_nothing_for_work_that_ends_before_the_delay(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch)
    monkeypatch.setattr(common, "PROGRESS_AFTER_S", 3600.0)  # a small team: done long before
    r = runner.invoke(app, ["-C", str(demo_copy), "check", "--no-cache"])
    assert r.exit_code == 0 and r.stderr == ""


def test_check_on_a_terminal_shows_its_phases_on_stderr_only(
    demo_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = runner.invoke(app, ["-C", str(demo_copy), "check", "--no-cache", "--format", "json"])
    _terminal(monkeypatch)
    r = runner.invoke(app, ["-C", str(demo_copy), "check", "--no-cache", "--format", "json"])
    assert r.exit_code == 0
    assert LOADING in r.stderr and PROVING in r.stderr
    assert json.loads(r.stdout)["summary"] == json.loads(plain.stdout)["summary"]
    assert LOADING not in r.stdout


def test_plan_and_graph_check_on_a_terminal(story: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _terminal(monkeypatch)
    r = runner.invoke(app, ["-C", str(story), "plan", "--no-cache"])
    assert r.exit_code == 1  # the story breaks a handoff
    assert PROVING in r.stderr and COMPARING in r.stderr
    assert PROVING not in r.stdout and "refunds" in r.stdout
    r = runner.invoke(app, ["-C", str(story), "graph", "--check", "--format", "mermaid"])
    assert r.exit_code == 0
    assert PROVING in r.stderr and r.stdout.startswith("flowchart LR")
    page = story / "report.html"
    r = runner.invoke(app, ["-C", str(story), "report", "--out", str(page), "--no-cache"])
    assert r.exit_code == 1 and page.is_file()
    assert PROVING in r.stderr and "report written to" in r.stdout
