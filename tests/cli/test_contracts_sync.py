"""`teamrel contracts sync [--check]`: contracts generated from Pydantic models.

The story of examples/pydantic-contracts (a model changes; `sync --check` catches the stale
file; `sync` then `check` finds the break), the round trip's exit codes, and every bad input
refused with exit 3, the source named and nothing written. Real pydantic throughout.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner
from pydantic import ValidationError

from teamrel.cli.app import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pydantic-contracts"
runner = cli_runner()


def teamrel(ws: Path, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(ws), *args])


def json_of(ws: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = teamrel(ws, *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dest = tmp_path / "pydantic-contracts"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".teamrel", "__pycache__"))
    return dest


def _import_file(path: Path, name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic resolves the models' annotations through it
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _witnesses(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("has_witness"):
            yield node["witness"]
        for v in node.values():
            yield from _witnesses(v)
    elif isinstance(node, list):
        for v in node:
            yield from _witnesses(v)


# --------------------------------------------------------------------------- the example


def test_example_is_in_sync_and_passes(example: Path) -> None:
    code, doc = json_of(example, "contracts", "sync", "--check")
    assert code == 0, doc
    assert doc["format_version"] == 1 and doc["ok"] and doc["stale"] == []
    modes = {f["file"]: f["mode"] for f in doc["files"]}
    assert modes == {
        "contracts/order.json": "validation",
        "contracts/quote.json": "serialization",
        "contracts/quote_request.json": "validation",
    }
    assert teamrel(example, "validate").exit_code == 0
    assert teamrel(example, "check").exit_code == 0


def test_story_a_computed_field_breaks_checkout(example: Path) -> None:
    models = example / "shop" / "models.py"
    source = models.read_text()
    # the pricer's developer adds a computed total to what it sends
    changed = source.replace(
        "from pydantic import BaseModel, ConfigDict, Field",
        "from pydantic import BaseModel, ConfigDict, Field, computed_field",
    ).replace(
        "    items: list[LineItem]\n\n\nclass Order",
        "    items: list[LineItem]\n\n"
        "    @computed_field\n"
        "    @property\n"
        "    def total(self) -> Decimal:\n"
        "        return sum((i.unit_price * i.quantity for i in self.items), Decimal(0))\n"
        "\n\nclass Order",
    )
    assert changed.count("computed_field") == 2
    models.write_text(changed)
    # the real models now break the handoff at runtime: Order forbids the new key
    shop = _import_file(models, "story_shop_models")
    quote = shop.Quote(quote_id="q1", currency="EUR", items=[])
    assert "total" in quote.model_dump(mode="json")
    with pytest.raises(ValidationError, match="total"):
        shop.Order.model_validate(quote.model_dump(mode="json"))

    # CI: the committed files no longer match the models
    code, doc = json_of(example, "contracts", "sync", "--check")
    assert code == 1
    assert doc["stale"] == ["contracts/quote.json"]
    text = teamrel(example, "contracts", "sync", "--check")
    assert text.exit_code == 1 and "contracts/quote.json" in text.stdout
    # check works from the committed files only: still green until they are synced
    assert teamrel(example, "check").exit_code == 0

    code, doc = json_of(example, "contracts", "sync")
    assert code == 0 and [f["status"] for f in doc["files"]].count("written") == 1
    assert json_of(example, "contracts", "sync", "--check")[0] == 0
    code, report = json_of(example, "check")
    assert code == 1
    (edge,) = report["edges"]
    assert edge["key"] == "pricer->checkout" and edge["verdict"] == "incompatible", edge
    assert "/total" in json.dumps(edge)
    # the break is real: the witness teamrel shows is rejected by the checkout's own model
    witnesses = list(_witnesses(edge))
    assert witnesses
    for w in witnesses:
        with pytest.raises(ValidationError):
            shop.Order.model_validate(w)


# --------------------------------------------------------------------------- a scratch team

TEAM = """\
team: t
members:
  a:
    version: 1.0.0
    model: {{provider: openai, id: gpt-4o-2024-08-06}}
    prompt: p.md
    input: {{type: object}}
    output: {output}
  b:
    version: 1.0.0
    model: {{provider: openai, id: gpt-4o-2024-08-06}}
    prompt: p.md
    input: {input}
    output: {{type: object}}
handoffs:
  - {{from: a, to: b}}
"""

MODELS = """\
from pydantic import BaseModel, ConfigDict

NOT_A_MODEL = 3


class Msg(BaseModel):
    text: str


class MsgIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
"""


def scratch(
    tmp_path: Path,
    output: str = '{pydantic: "app.models:Msg", file: contracts/msg.json}',
    input: str = '{pydantic: "app.models:MsgIn", file: contracts/msg_in.json}',
    models: str = MODELS,
    package: str = "app",
) -> Path:
    ws = tmp_path / "ws"
    (ws / package).mkdir(parents=True)
    (ws / package / "__init__.py").write_text("")
    (ws / package / "models.py").write_text(models)
    (ws / "p.md").write_text("hi\n")
    (ws / "teamrel.yaml").write_text(TEAM.format(output=output, input=input))
    return ws


def test_sync_then_check_round_trip(tmp_path: Path) -> None:
    ws = scratch(tmp_path)
    assert teamrel(ws, "contracts", "sync", "--check").exit_code == 1
    result = teamrel(ws, "contracts", "sync")
    assert result.exit_code == 0, result.stderr
    produced = json.loads((ws / "contracts" / "msg.json").read_text())
    assert produced["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert produced["additionalProperties"] is False
    assert teamrel(ws, "check").exit_code == 0
    # a second sync has nothing to do
    code, doc = json_of(ws, "contracts", "sync")
    assert code == 0 and {f["status"] for f in doc["files"]} == {"fresh"}
    # reformatting a committed file is not staleness
    path = ws / "contracts" / "msg.json"
    path.write_text(json.dumps(json.loads(path.read_text())))
    assert teamrel(ws, "contracts", "sync", "--check").exit_code == 0


def test_loading_never_imports_the_models(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    models = f"open({str(marker)!r}, 'w').close()\n" + MODELS
    ws = scratch(tmp_path, models=models)
    assert teamrel(ws, "contracts", "sync").exit_code == 0
    assert marker.exists()
    marker.unlink()
    for cmd in (["validate"], ["check", "--no-cache"], ["plan"], ["graph"]):
        result = teamrel(ws, *cmd)
        assert result.exit_code in (0, 1), (cmd, result.stderr)
    assert not marker.exists()


def test_validate_names_a_missing_generated_file(tmp_path: Path) -> None:
    ws = scratch(tmp_path)
    code, doc = json_of(ws, "validate")
    assert code == 1
    diags = {d["pointer"]: d for d in doc["diagnostics"]}
    d = diags["/members/a/output/file"]
    assert d["code"] == "missing-file" and d["line"] == 8
    assert "app.models:Msg" in d["message"] and "teamrel contracts sync" in d["message"]


def test_mode_override_and_tool_slots(tmp_path: Path) -> None:
    ws = scratch(tmp_path)
    yaml = (ws / "teamrel.yaml").read_text()
    yaml = yaml.replace(
        "  - {from: a, to: b}",
        '  - from: a\n    to: b\n    contract: {pydantic: "app.models:Msg", file: '
        "contracts/wire.json, mode: serialization}",
    )
    yaml = yaml.replace(
        "members:\n",
        "members:\n  tool1:\n    kind: tool\n    version: 1.0.0\n"
        '    input_schema: {pydantic: "app.models:MsgIn", file: contracts/msg_in.json}\n'
        '    output_schema: {pydantic: "app.models:Msg", file: contracts/tool_out.json}\n',
    )
    (ws / "teamrel.yaml").write_text(yaml)
    code, doc = json_of(ws, "contracts", "sync")
    assert code == 0, doc
    files = {f["file"]: f for f in doc["files"]}
    assert files["contracts/wire.json"]["mode"] == "serialization"
    assert files["contracts/tool_out.json"]["mode"] == "serialization"
    assert files["contracts/msg_in.json"]["mode"] == "validation"
    assert files["contracts/msg_in.json"]["used_at"] == [
        "/members/tool1/input_schema",
        "/members/b/input",
    ]
    assert teamrel(ws, "validate").exit_code == 0


def test_python_path(tmp_path: Path) -> None:
    ws = scratch(tmp_path, package="src/app")
    result = teamrel(ws, "contracts", "sync")
    assert result.exit_code == 3
    assert "does not import" in result.stderr
    result = teamrel(ws, "contracts", "sync", "--python-path", str(ws / "src"))
    assert result.exit_code == 0, result.stderr


def test_import_time_output_does_not_corrupt_json(tmp_path: Path) -> None:
    ws = scratch(tmp_path, models="print('hello from the app')\n" + MODELS)
    code, doc = json_of(ws, "contracts", "sync")
    assert code == 0 and doc["ok"]


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("output", "models", "expect", "pointer"),
    [
        (
            '{pydantic: "app.nothere:Msg", file: contracts/msg.json}',
            MODELS,
            "module 'app.nothere' does not import",
            "/members/a/output",
        ),
        (
            '{pydantic: "app.models:Missing", file: contracts/msg.json}',
            MODELS,
            "has no attribute 'Missing'",
            "/members/a/output",
        ),
        (
            '{pydantic: "app.models:NOT_A_MODEL", file: contracts/msg.json}',
            MODELS,
            "is not a Pydantic model",
            "/members/a/output",
        ),
        (
            '{pydantic: "app.models:Msg", file: contracts/msg.json}',
            "raise RuntimeError('no database')\n" + MODELS,
            "RuntimeError: no database",
            "/members/a/output",
        ),
        (
            '{pydantic: "app.models:Msg", file: contracts/msg.json}',
            "import sys\nsys.exit(4)\n" + MODELS,
            "does not import: SystemExit",
            "/members/a/output",
        ),
        (
            '{pydantic: "app.models/Msg", file: contracts/msg.json}',
            MODELS,
            "does not name a model",
            "/members/a/output/pydantic",
        ),
        (
            '{pydantic: "app.models:Msg", file: ../outside.json}',
            MODELS,
            "escapes the workspace",
            "/members/a/output/file",
        ),
        (
            '{pydantic: "app.models:Msg", file: /tmp/abs.json}',
            MODELS,
            "absolute",
            "/members/a/output/file",
        ),
        (
            '{pydantic: "app.models:Msg", file: contracts/msg_in.json}',
            MODELS,
            "give each its own file",
            "/members/b/input",
        ),
        (
            '{pydantic: "app.models:Msg", fiel: contracts/msg.json}',
            MODELS,
            "unknown key 'fiel'",
            "/members/a/output/fiel",
        ),
    ],
    ids=[
        "no-module",
        "no-attribute",
        "not-a-model",
        "import-raises",
        "import-exits",
        "malformed",
        "escapes",
        "absolute",
        "conflict",
        "typo",
    ],
)
def test_bad_source_exit_3_nothing_written(
    tmp_path: Path, output: str, models: str, expect: str, pointer: str
) -> None:
    ws = scratch(tmp_path, output=output, models=models)
    result = teamrel(ws, "contracts", "sync")
    assert result.exit_code == 3, result.stdout
    assert "Traceback" not in result.stderr
    assert expect in result.stderr
    assert "nothing was written" in result.stderr
    # the good slot (b's input) was not written either
    assert not (ws / "contracts").exists()
    assert not (tmp_path / "outside.json").exists()
    code, doc = json_of(ws, "contracts", "sync", "--check")
    assert code == 3 and doc["ok"] is False
    diags = [d for d in doc["diagnostics"] if d["pointer"] == pointer]
    assert diags and expect in diags[0]["message"], doc["diagnostics"]
    assert diags[0]["file"] == "teamrel.yaml" and diags[0]["line"] is not None
    named = re.search(r'pydantic: "([^"]+)"', output)
    assert named is not None and repr(named.group(1)) in diags[0]["message"]
