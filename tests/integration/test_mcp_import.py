"""`teamrel import mcp [--check]` against real MCP servers built with the official SDK.

The servers (tests/mcp_servers/) run as subprocesses: `orders_server.py` (`MCPServer`) over
stdio and over streamable HTTP on 127.0.0.1, `paged_server.py` (the low-level `Server`,
`tools/list` in pages), and `hostile_server.py`, a hand-written JSON-RPC script that
misbehaves. No mock of the SDK anywhere. Each test's stdio servers are ended by the SDK when
the command returns (checked: no child process is left behind); the HTTP server is killed by
its fixture.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from clikit import cli_runner

from teamrel.cli.app import app
from teamrel.errors import TeamrelError
from teamrel.models import McpOrigin
from teamrel.sources.mcp import McpSourceError, list_tools

SERVERS = Path(__file__).resolve().parents[1] / "mcp_servers"
PY = shlex.quote(sys.executable)
ORDERS = f"{PY} {shlex.quote(str(SERVERS / 'orders_server.py'))}"
PAGED = f"{PY} {shlex.quote(str(SERVERS / 'paged_server.py'))}"
HOSTILE = f"{PY} {shlex.quote(str(SERVERS / 'hostile_server.py'))}"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
runner = cli_runner()

WORKSPACE = """\
# the shop team (a comment the import must keep)
team: shop
members:
  # support answers questions about orders
  support:
    version: 1.0.0
    model: {provider: openai, id: gpt-4o-2024-08-06}
    prompt: prompts/support.md
    input: {type: object}
    output: {type: object}
"""


def teamrel(ws: Path, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(ws), *args])


def json_of(ws: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = teamrel(ws, *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".teamrel" not in p.parts
    }


def _children() -> list[str]:
    """Command lines of this process's live children that run one of the test servers."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and "mcp_servers" in cmdline and "--http" not in cmdline:
            found.append(f"{fields[0]} {cmdline}")
    return found


@pytest.fixture(autouse=True)
def no_leaked_servers() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 5
    while _children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children() == []


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "prompts").mkdir(parents=True)
    (root / "prompts" / "support.md").write_text("Answer about orders.\n")
    (root / "teamrel.yaml").write_text(WORKSPACE)
    return root


@pytest.fixture(scope="module")
def imported_v1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the v1 orders server imported over stdio (copied by each test)."""
    root = tmp_path_factory.mktemp("imported") / "shop"
    (root / "prompts").mkdir(parents=True)
    (root / "prompts" / "support.md").write_text("Answer about orders.\n")
    (root / "teamrel.yaml").write_text(WORKSPACE)
    result = teamrel(root, "import", "mcp", "--command", ORDERS, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    return root


@pytest.fixture
def imported(imported_v1: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "shop"
    shutil.copytree(imported_v1, dest)
    return dest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The orders server on streamable HTTP at 127.0.0.1 (a random free port)."""
    port = _free_port()
    log = tmp_path_factory.mktemp("http") / "server.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(SERVERS / "orders_server.py"), "--http", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the HTTP MCP server did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------- import


def test_import_creates_tool_members_and_schema_files(imported: Path) -> None:
    text = (imported / "teamrel.yaml").read_text()
    # the comments and the hand-written member are kept
    assert text.startswith(WORKSPACE)
    assert "# support answers questions about orders" in text
    tools = imported / "contracts" / "tools"
    assert sorted(p.name for p in tools.iterdir()) == [
        "lookup_order_input.json",
        "lookup_order_output.json",
        "quote_refund_input.json",
        "quote_refund_output.json",
    ]
    schema = json.loads((tools / "lookup_order_input.json").read_text())
    assert next(iter(schema)) == "$schema" and schema["$schema"] == DIALECT
    assert schema["required"] == ["order_id"]
    output = json.loads((tools / "lookup_order_output.json").read_text())
    assert output["$schema"] == DIALECT
    assert set(output["properties"]) == {"order_id", "status", "total_cents", "items"}
    code, doc = json_of(imported, "validate")
    assert code == 0, doc
    result = teamrel(imported, "graph", "--format", "json")
    members = {m["name"]: m for m in json.loads(result.stdout)["members"]}
    assert members["lookup_order"]["kind"] == "tool"
    # the origin is recorded as the member's spec says (teamrel drift re-reads it)
    data = yaml.safe_load(text)
    assert data["members"]["lookup_order"]["origin"] == {
        "mcp": {"command": ORDERS, "tool": "lookup_order"}
    }
    assert data["members"]["lookup_order"]["input_schema"] == (
        "contracts/tools/lookup_order_input.json"
    )
    assert "external" not in data["members"]["lookup_order"]


def test_reimport_is_a_no_op(imported: Path) -> None:
    before = snapshot(imported)
    mtimes = {p: p.stat().st_mtime_ns for p in imported.rglob("*.json")}
    code, doc = json_of(imported, "import", "mcp", "--command", ORDERS)
    assert code == 0
    assert doc["format_version"] == 1 and doc["changed"] is False and doc["applied"] is False
    assert {t["action"] for t in doc["tools"]} == {"unchanged"}
    assert snapshot(imported) == before
    assert {p: p.stat().st_mtime_ns for p in imported.rglob("*.json")} == mtimes


def test_without_yes_the_diff_is_shown_and_nothing_written(ws: Path) -> None:
    before = snapshot(ws)
    result = teamrel(ws, "import", "mcp", "--command", ORDERS)
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "+  lookup_order:" in result.stdout
    assert "new  contracts/tools/lookup_order_input.json" in result.stdout
    assert "nothing written: rerun with --yes" in result.stdout
    assert snapshot(ws) == before


def test_a_contracts_directory_linked_outside_the_workspace_is_refused(
    ws: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (ws / "contracts").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(ws)
    result = teamrel(ws, "import", "mcp", "--command", ORDERS, "--yes")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "resolves outside the workspace (symlink?)" in result.stderr
    assert snapshot(ws) == before and not any(elsewhere.iterdir())


def test_external_flag_marks_members_external(ws: Path) -> None:
    result = teamrel(ws, "import", "mcp", "--command", ORDERS, "--tool", "quote_refund", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    text = (ws / "teamrel.yaml").read_text()
    assert "lookup_order" not in text
    result = teamrel(
        ws, "import", "mcp", "--command", ORDERS, "--tool", "quote_refund", "--external", "--yes"
    )
    assert result.exit_code == 0
    member = yaml.safe_load((ws / "teamrel.yaml").read_text())["members"]["quote_refund"]
    assert member["external"] is True


def test_a_changed_server_updates_the_files_the_member_names(imported: Path) -> None:
    env = {"ORDERS_MCP_VARIANT": "narrowed"}
    yaml_before = (imported / "teamrel.yaml").read_text()
    result = runner.invoke(
        app, ["-C", str(imported), "import", "mcp", "--command", ORDERS, "--yes"], env=env
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "changed  contracts/tools/lookup_order_input.json" in result.stdout
    schema = json.loads((imported / "contracts/tools/lookup_order_input.json").read_text())
    assert "customer_id" in schema["required"]
    assert (imported / "teamrel.yaml").read_text() == yaml_before


def test_an_existing_member_is_adopted_keeping_its_files_and_comments(ws: Path) -> None:
    (ws / "contracts").mkdir()
    (ws / "contracts" / "lookup_in.json").write_text('{"type": "object"}\n')
    (ws / "teamrel.yaml").write_text(
        WORKSPACE
        + "  lookup_order:  # written by hand before the server existed\n"
        + "    kind: tool\n"
        + "    version: 2.3.0\n"
        + "    input_schema: contracts/lookup_in.json\n"
        + "    metadata: {owner: orders-team}\n"
        + "handoffs: []\n"
    )
    result = teamrel(ws, "import", "mcp", "--command", ORDERS, "--tool", "lookup_order", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    text = (ws / "teamrel.yaml").read_text()
    assert "# written by hand before the server existed" in text
    member = yaml.safe_load(text)["members"]["lookup_order"]
    assert member["version"] == "2.3.0"
    assert member["input_schema"] == "contracts/lookup_in.json"
    assert member["output_schema"] == "contracts/tools/lookup_order_output.json"
    assert member["metadata"] == {"owner": "orders-team"}
    assert member["origin"]["mcp"]["tool"] == "lookup_order"
    assert json.loads((ws / "contracts/lookup_in.json").read_text())["required"] == ["order_id"]
    assert teamrel(ws, "validate").exit_code == 0


def test_import_over_streamable_http(ws: Path, http_server: str) -> None:
    code, doc = json_of(ws, "import", "mcp", "--url", http_server, "--yes")
    assert code == 0, doc
    assert doc["applied"] is True
    assert {t["tool"]: t["action"] for t in doc["tools"]} == {
        "lookup_order": "add",
        "quote_refund": "add",
    }
    member = yaml.safe_load((ws / "teamrel.yaml").read_text())["members"]["lookup_order"]
    assert member["origin"] == {"mcp": {"url": http_server, "tool": "lookup_order"}}
    code, doc = json_of(ws, "import", "mcp", "--url", http_server, "--check")
    assert code == 0, json.dumps(doc["tools"])
    assert {t["status"] for t in doc["tools"]} == {"unchanged"}


def test_every_page_of_tools_list_is_followed(ws: Path) -> None:
    code, doc = json_of(ws, "import", "mcp", "--command", f"{PAGED} 7 3", "--yes")
    assert code == 0, doc
    assert [t["tool"] for t in doc["tools"]] == [f"tool_{i:02d}" for i in range(7)]
    out = json.loads((ws / "contracts/tools/tool_06_output.json").read_text())
    assert out["properties"]["tool"] == {"const": "06"}


def test_list_tools_is_the_library_entry_point_for_drift() -> None:
    tools = list_tools(McpOrigin(command=f"{PAGED} 5 2", tool="tool_00"), timeout=20)
    assert [t.name for t in tools] == [f"tool_{i:02d}" for i in range(5)]
    assert tools[0].input_schema["required"] == ["n"]
    assert tools[0].output_schema is not None


# ---------------------------------------------------------------------------- --check


def _check(ws: Path, variant: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app,
        [
            "-C",
            str(ws),
            "import",
            "mcp",
            "--command",
            ORDERS,
            "--check",
            "--format",
            "json",
            *extra,
        ],
        env={"ORDERS_MCP_VARIANT": variant},
    )
    return result.exit_code, json.loads(result.stdout)


def _tool(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tools"] if t["tool"] == name)


def test_check_passes_against_the_same_server(imported: Path) -> None:
    before = snapshot(imported)
    code, doc = _check(imported, "v1")
    assert code == 0 and doc["ok"] is True and doc["format_version"] == 1
    assert [t["status"] for t in doc["tools"]] == ["unchanged", "unchanged"]
    assert snapshot(imported) == before


def test_check_catches_a_narrowed_input_with_a_witness(imported: Path) -> None:
    code, doc = _check(imported, "narrowed")
    assert code == 1 and doc["ok"] is False
    lookup = _tool(doc, "lookup_order")
    assert lookup["status"] == "breaking"
    assert lookup["input"]["verdict"] == "incompatible"
    assert lookup["output"]["verdict"] == "compatible"
    witness = lookup["input"]["witness"]
    # a call the pinned schema allows, which the live server refuses
    assert "order_id" in witness and "customer_id" not in witness
    assert _tool(doc, "quote_refund")["status"] == "unchanged"
    result = runner.invoke(
        app,
        ["-C", str(imported), "import", "mcp", "--command", ORDERS, "--check"],
        env={"ORDERS_MCP_VARIANT": "narrowed"},
    )
    assert result.exit_code == 1
    assert "BREAK" in result.stdout and "witness: {" in result.stdout
    assert "MCP drift check FAILED" in result.stdout


def test_check_catches_a_dropped_output_field_with_a_witness(imported: Path) -> None:
    code, doc = _check(imported, "dropped")
    assert code == 1
    lookup = _tool(doc, "lookup_order")
    assert lookup["status"] == "breaking"
    assert lookup["input"]["verdict"] == "compatible"
    assert lookup["output"]["verdict"] == "incompatible"
    assert "total_cents" not in lookup["output"]["witness"]
    assert any("total_cents" in p["message"] for p in lookup["output"]["problems"])


def test_check_accepts_a_widened_input(imported: Path) -> None:
    code, doc = _check(imported, "widened")
    assert code == 0, doc
    assert _tool(doc, "lookup_order")["status"] == "compatible"


def test_check_reports_new_and_removed_tools(imported: Path) -> None:
    code, doc = _check(imported, "renamed")
    assert code == 1
    assert _tool(doc, "refund_quote") == {
        "tool": "refund_quote",
        "member": None,
        "status": "new",
        "input": None,
        "output": None,
    }
    assert _tool(doc, "quote_refund")["status"] == "removed"
    assert _tool(doc, "quote_refund")["member"] == "quote_refund"


def test_check_options_that_write_are_usage_errors(imported: Path) -> None:
    result = teamrel(imported, "import", "mcp", "--command", ORDERS, "--check", "--yes")
    assert result.exit_code == 2


# ---------------------------------------------------------------------------- bad input

BAD_SERVERS = {
    "not-found": ("--command", "teamrel-no-such-mcp-server --stdio", "does not start"),
    "exits": ("--command", f"{PY} -c 'import sys; sys.exit(3)'", "closed the connection"),
    "malformed": ("--command", f"{HOSTILE} malformed", "malformed"),
    "loop": ("--command", f"{HOSTILE} loop", "twice (a loop)"),
    "duplicate": ("--command", f"{HOSTILE} duplicate", "names a tool twice"),
    "traversal": ("--command", f"{HOSTILE} traversal", "cannot be a member or file name"),
    "remote-ref": ("--command", f"{HOSTILE} remote-ref", "schema is not usable"),
    "not-a-schema": ("--command", f"{HOSTILE} not-a-schema", "schema is not usable"),
    # the SDK drops a message it cannot parse and waits for another: the timeout ends it
    "deep": ("--command", f"{HOSTILE} deep", "the MCP SDK reported: "),
    "nobody-listens": ("--url", "http://127.0.0.1:{port}/mcp", "cannot connect"),
}


@pytest.mark.parametrize("case", sorted(BAD_SERVERS))
def test_a_bad_server_is_refused_naming_it_and_nothing_is_written(ws: Path, case: str) -> None:
    option, value, why = BAD_SERVERS[case]
    value = value.replace("{port}", str(_free_port()))
    before = snapshot(ws)
    result = teamrel(ws, "import", "mcp", option, value, "--yes", "--timeout", "5")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: MCP server {option.lstrip('-')} ")
    assert value in result.stderr
    assert why in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(ws) == before


@pytest.mark.parametrize("case", ["malformed", "nobody-listens"])
def test_check_against_a_bad_server_is_an_operational_error(ws: Path, case: str) -> None:
    # (a tool whose name or schema is unusable only fails where it is used: an import, or
    # a --check of a member pinning it; a new one is only reported)
    option, value, _ = BAD_SERVERS[case]
    value = value.replace("{port}", str(_free_port()))
    code, doc = json_of(ws, "import", "mcp", option, value, "--check", "--timeout", "20")
    assert code == 3
    assert doc["format_version"] == 1
    assert doc["error"] == "McpSourceError" and value in doc["message"]


def test_a_server_that_never_answers_times_out(ws: Path) -> None:
    start = time.monotonic()
    result = teamrel(
        ws, "import", "mcp", "--command", f"{PY} -c 'import time; time.sleep(60)'", "--timeout", "1"
    )
    assert result.exit_code == 3
    assert "no complete answer within 1 s" in result.stderr
    assert time.monotonic() - start < 15


def test_the_library_error_names_the_server() -> None:
    origin = McpOrigin(command=f"{HOSTILE} malformed", tool="t")
    with pytest.raises(McpSourceError) as info:
        list_tools(origin, timeout=20)
    assert isinstance(info.value, TeamrelError) and info.value.exit_code == 3
    assert info.value.server == f"command {origin.command!r}"
    assert info.value.message.startswith(f"MCP server command {origin.command!r}: ")


def test_a_tool_named_like_an_agent_member_is_refused(ws: Path) -> None:
    (ws / "teamrel.yaml").write_text(WORKSPACE.replace("  support:", "  lookup_order:"))
    before = snapshot(ws)
    result = teamrel(ws, "import", "mcp", "--command", ORDERS, "--yes")
    assert result.exit_code == 3
    assert "member 'lookup_order' exists and is not a tool member" in result.stderr
    assert snapshot(ws) == before


def test_an_unknown_tool_filter_is_refused(ws: Path) -> None:
    result = teamrel(ws, "import", "mcp", "--command", ORDERS, "--tool", "nope", "--yes")
    assert result.exit_code == 3
    assert "lists no tool named 'nope'" in result.stderr


def test_command_and_url_are_exclusive(ws: Path) -> None:
    assert teamrel(ws, "import", "mcp").exit_code == 2
    result = teamrel(ws, "import", "mcp", "--command", "x", "--url", "http://127.0.0.1:1/mcp")
    assert result.exit_code == 2


# ---------------------------------------------------------------------------- the example

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mcp-tools"


def test_the_example_story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/mcp-tools (docs/sources.md): the imported tools pass check and --check; the
    orders team replaces `total_cents` by a string `total`; the scheduled --check fails with
    a witness; importing the new schema makes `teamrel check` show the broken tool edge."""
    ws = tmp_path / "mcp-tools"
    shutil.copytree(EXAMPLE, ws, ignore=shutil.ignore_patterns(".teamrel", "__pycache__"))
    # the example's command is `python server.py`: this interpreter, with the SDK
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = "python server.py"
    assert teamrel(ws, "check").exit_code == 0
    code, doc = json_of(ws, "import", "mcp", "--command", command, "--check")
    assert code == 0 and [t["status"] for t in doc["tools"]] == ["unchanged", "unchanged"]
    assert json_of(ws, "import", "mcp", "--command", command)[1]["changed"] is False

    server = ws / "server.py"
    source = server.read_text()
    changed = source.replace(
        '    total_cents: int = Field(ge=0)\n    currency: str = Field(pattern="^[A-Z]{3}$")\n',
        "    total: str = Field(description=\"the amount, e.g. '12.50 EUR'\")\n",
    ).replace('total_cents=0, currency="EUR"', 'total="0.00 EUR"')
    assert changed != source
    server.write_text(changed)

    code, doc = json_of(ws, "import", "mcp", "--command", command, "--check")
    assert code == 1
    lookup = _tool(doc, "lookup_order")
    assert lookup["status"] == "breaking" and lookup["output"]["verdict"] == "incompatible"
    assert "total_cents" not in lookup["output"]["witness"]
    assert teamrel(ws, "check").exit_code == 0  # the committed files still agree

    result = teamrel(ws, "import", "mcp", "--command", command, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "changed  contracts/tools/lookup_order_output.json" in result.stdout
    code, report = json_of(ws, "check")
    assert code == 1
    verdicts = {e["key"]: e["verdict"] for e in report["edges"]}
    assert verdicts == {
        "support=>lookup_order": "compatible",
        "support<=lookup_order": "incompatible",
    }


def test_the_demo_orders_tool_against_its_mcp_server(tmp_path: Path) -> None:
    """The README's commands on the demo: examples/demo-mcp/orders_mcp.py publishes the orders
    tool the demo pins (written differently: self-contained, no `$ref` to common.json), so the
    drift check passes; an import adopts the member (same name, no origin yet), rewrites its
    two schema files from the server, and every orders edge still proves."""
    from conftest import copy_demo

    repo = Path(__file__).resolve().parents[2]
    demo = copy_demo(tmp_path / "demo")
    shutil.copytree(
        repo / "examples/demo-mcp",
        demo / "examples/demo-mcp",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    command = f"{PY} examples/demo-mcp/orders_mcp.py"
    code, doc = json_of(demo, "import", "mcp", "--command", command, "--check")
    assert code == 0, doc
    assert doc["tools"][0] | {"input": None, "output": None} == {
        "tool": "orders",
        "member": "orders",
        "status": "unchanged",
        "input": None,
        "output": None,
    }
    result = teamrel(demo, "import", "mcp", "--command", command, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "+    origin: {mcp: {command: " in result.stdout
    member = yaml.safe_load((demo / "teamrel.yaml").read_text())["members"]["orders"]
    assert member["input_schema"] == "contracts/tools/orders_input.json"
    assert member["metadata"] == {"mcp_server": "orders-mcp", "transport": "stdio"}
    assert "$ref" not in (demo / "contracts/tools/orders_input.json").read_text()
    code, report = json_of(demo, "check")
    assert code == 0
    orders = [e for e in report["edges"] if "orders" in e["key"] and "flag_state" not in e]
    assert len(orders) == 6 and {e["verdict"] for e in orders} == {"compatible"}
    code, doc = json_of(demo, "import", "mcp", "--command", command, "--check")
    assert code == 0 and doc["tools"][0]["status"] == "unchanged"
