"""`teamrel validate` and `teamrel check` on draft-04 workspace contracts: a closed object
(`additionalProperties: false`, the common draft-04 shape) is a valid contract."""

from __future__ import annotations

import json
from pathlib import Path

from teamkit import agent, write_workspace
from typer.testing import CliRunner

from teamrel.cli.app import app

runner = CliRunner()
D4 = "http://json-schema.org/draft-04/schema#"
CLOSED = {
    "$schema": D4,
    "type": "object",
    "properties": {"id": {"type": "string"}, "tags": {"items": [{}], "additionalItems": False}},
    "required": ["id"],
    "additionalProperties": False,
}


#: what b reads: a's closed output is a narrowing of it
OPEN = {"$schema": D4, "type": "object", "required": ["id"]}


def _workspace(tmp_path: Path) -> Path:
    return write_workspace(
        tmp_path / "ws",
        members={
            "a": agent("1.0.0", "contracts/open.json", "contracts/c.json", "prompts/a.md"),
            "b": agent("1.0.0", "contracts/open.json", "contracts/c.json", "prompts/b.md"),
        },
        handoffs=[{"from": "a", "to": "b"}],
        files={
            "contracts/c.json": CLOSED,
            "contracts/open.json": OPEN,
            "prompts/a.md": "A\n",
            "prompts/b.md": "B\n",
        },
    )


def test_validate_accepts_a_closed_draft4_contract(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    result = runner.invoke(app, ["-C", str(root), "validate", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] is True and report["diagnostics"] == []


def test_check_passes_a_closed_draft4_output_to_an_open_input(tmp_path: Path) -> None:
    root = _workspace(tmp_path)
    result = runner.invoke(app, ["-C", str(root), "check"])
    assert result.exit_code == 0, result.output
