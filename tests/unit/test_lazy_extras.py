"""The optional integrations cost nothing until used: the CLI imports no extra's library,
and a command needing a missing one says which `pip install` brings it (exit 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BLOCK_MCP = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "mcp" or name.startswith("mcp."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
"""


def test_importing_the_cli_does_not_import_mcp() -> None:
    code = (
        "import sys, json, teamrel.cli.app\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('mcp', 'mcp_types', 'anyio', 'httpx2', 'starlette', 'uvicorn'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_import_mcp_without_the_extra_names_the_pip_install(tmp_path: Path) -> None:
    (tmp_path / "teamrel.yaml").write_text("team: t\nmembers: {}\n")
    code = BLOCK_MCP + (
        "from teamrel.cli.app import main\n"
        f"sys.argv = ['teamrel', '-C', {str(tmp_path)!r}, 'import', 'mcp', '--command', 'x']\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 3, out.stderr
    assert "MCP servers need the optional dependency 'mcp', which is not installed" in out.stderr
    assert "pip install 'teamrel[mcp]'" in out.stderr
    assert "Traceback" not in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["teamrel.yaml"]


def test_starting_the_cli_builds_no_pydantic_model() -> None:
    """`teamrel --version` (and every command's start) registers the commands without
    loading pydantic or teamrel's models, ~0.1 s of start-up (docs/benchmarks.md)."""
    code = (
        "import sys, json, teamrel.cli.app\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'"
        " or m in ('teamrel.models', 'teamrel.plandoc', 'teamrel.gates'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_check_and_plan_without_a_store_do_not_import_sqlalchemy(tmp_path: Path) -> None:
    """A CI gate on a team that reads no environment never opens the state store, so it
    never pays SQLAlchemy's import (~0.35 s of every `check` and `plan`)."""
    import shutil

    repo = Path(__file__).resolve().parents[2]
    root = tmp_path / "ws"
    shutil.copytree(repo / "examples" / "story-a-renamed-field", root)
    for command in ("check", "plan"):
        code = (
            "import sys, json\n"
            "from teamrel.cli.app import main\n"
            f"sys.argv = ['teamrel', '-q', '-C', {str(root)!r}, {command!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(json.dumps(sorted(m for m in sys.modules\n"
            "    if m.split('.')[0] in ('sqlalchemy', 'sqlmodel') or m == 'teamrel.store')))\n"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert "Traceback" not in out.stderr, out.stderr
        assert json.loads(out.stderr.strip().splitlines()[-1]) == [], command
