"""`teamrel import a2a` / `teamrel export a2a`, and the media-type step of `teamrel check`.

End to end through the CLI with the real `a2a-sdk`: the story of examples/a2a-cards (two
external agents imported from their cards, one v1.0 and one v0.3; a card changes its input
modes and `check` catches the disjoint handoff in every output format), a card fetched with
`--url` from a real HTTP server on 127.0.0.1, the export -> import round trip, and every bad
input refused with exit 3, the card named and nothing written.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from clikit import cli_runner

from teamrel.cli.app import app
from teamrel.context import Context
from teamrel.errors import InputError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "a2a-cards"
runner = cli_runner()


def teamrel(ws: Path, *args: str) -> Any:
    return runner.invoke(app, ["-C", str(ws), *args])


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".teamrel" not in p.parts
    }


@pytest.fixture
def example(tmp_path: Path) -> Path:
    dest = tmp_path / "a2a-cards"
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".teamrel"))
    return dest


# --------------------------------------------------------------------------- the story


def test_the_example_passes_check_and_is_what_import_writes(example: Path) -> None:
    result = teamrel(example, "check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "PASS    fx-quotes@2.3.0 -> ledger@1.4.0" in result.stdout
    before = tree(example)
    for card in ("cards/fx-quotes.json", "cards/ledger.json"):
        result = teamrel(example, "import", "a2a", str(example / card))
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "up to date: nothing to change" in result.stdout
    assert tree(example) == before


def test_members_without_modes_keep_their_spec(example: Path) -> None:
    ws = Context(example).load()
    assert "modes" not in Context(REPO).load().members["router"].spec
    assert ws.members["ledger"].spec["modes"] == {
        "input": ["application/json", "text/plain"],
        "output": ["application/json"],
    }


def _disjoint(example: Path) -> None:
    card = example / "cards" / "ledger.json"
    doc = json.loads(card.read_text())
    doc["defaultInputModes"] = ["text/csv"]
    card.write_text(json.dumps(doc, indent=2))


def test_a_changed_card_shows_a_diff_and_writes_only_with_yes(example: Path) -> None:
    _disjoint(example)
    before = tree(example)
    result = teamrel(example, "import", "a2a", str(example / "cards/ledger.json"))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "-      input: [application/json, text/plain]" in result.stdout
    assert "+      input: [text/csv]" in result.stdout
    assert "would write teamrel.yaml (changed)" in result.stdout
    assert "nothing written: re-run with --yes" in result.stdout
    assert tree(example) == before

    code, doc = _json(example, "import", "a2a", str(example / "cards/ledger.json"), "--yes")
    assert code == 0
    assert doc["format_version"] == 1 and doc["applied"] is True
    assert doc["member"] == "ledger" and doc["card"]["shape"] == "0.3"
    assert {"path": "teamrel.yaml", "status": "changed"} in doc["files"]
    assert "text/csv" in (example / "teamrel.yaml").read_text()


def _json(ws: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = teamrel(ws, *args, "--format", "json")
    return result.exit_code, json.loads(result.stdout)


def test_check_fails_a_handoff_whose_modes_are_disjoint_in_every_format(example: Path) -> None:
    _disjoint(example)
    assert (
        teamrel(example, "import", "a2a", str(example / "cards/ledger.json"), "--yes").exit_code
        == 0
    )
    said = (
        "handoff fx-quotes -> ledger: no media type in common: fx-quotes produces "
        "[application/json], ledger accepts [text/csv]"
    )
    result = teamrel(example, "check")
    assert result.exit_code == 1
    assert "FAIL    fx-quotes@2.3.0 -> ledger@1.4.0" in result.stdout
    assert said in result.stdout
    assert "PASS    payer@1.0.0 -> fx-quotes@2.3.0" in result.stdout

    code, doc = _json(example, "check")
    assert code == 1
    edge = next(e for e in doc["edges"] if e["key"] == "fx-quotes->ledger")
    assert edge["verdict"] == "incompatible" and edge["first_problem"] == said
    step = next(s for s in edge["steps"] if s["step"] == "media-modes")
    assert step["verdict"] == "incompatible" and step["reason"] == said
    # the schemas themselves still prove compatible: only the media types fail
    assert [s["verdict"] for s in edge["steps"] if s["step"] != "media-modes"] == ["compatible"]

    for fmt in ("junit", "github", "sarif"):
        result = teamrel(example, "check", "--format", fmt)
        assert result.exit_code == 1, fmt
        text = result.stdout.replace("&gt;", ">")
        assert "[application/json]" in text and "[text/csv]" in text, fmt
        assert "fx-quotes -> ledger" in text, fmt


def test_an_intersecting_handoff_passes_through_wildcards(example: Path) -> None:
    card = example / "cards" / "ledger.json"
    doc = json.loads(card.read_text())
    doc["defaultInputModes"] = ["text/csv", "application/*"]
    card.write_text(json.dumps(doc))
    assert teamrel(example, "import", "a2a", str(card), "--yes").exit_code == 0
    assert teamrel(example, "check").exit_code == 0


# --------------------------------------------------------------------------- new workspace


def test_import_into_an_empty_directory_creates_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "new"
    ws.mkdir()
    result = teamrel(ws, "import", "a2a", str(EXAMPLE / "cards/fx-quotes.json"), "--team", "fx")
    assert result.exit_code == 0, result.stdout + result.stderr
    files = tree(ws)
    assert sorted(files) == [
        "cards/a2a/fx-quotes.json",
        "contracts/a2a/fx-quotes/quote.input.json",
        "contracts/a2a/fx-quotes/quote.output.json",
        "prompts/a2a/fx-quotes.md",
        "teamrel.yaml",
    ]
    schema = json.loads(files["contracts/a2a/fx-quotes/quote.input.json"])
    assert next(iter(schema)) == "$schema"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    m = Context(ws).load().members["fx-quotes"]
    assert m.spec["external"] is True
    assert m.spec["origin"] == {"a2a": {"card": "cards/a2a/fx-quotes.json"}}
    assert teamrel(ws, "validate").exit_code == 0


def test_a_card_without_the_extension_gives_open_schemas(tmp_path: Path) -> None:
    doc = json.loads((EXAMPLE / "cards/fx-quotes.json").read_text())
    doc["capabilities"] = {}
    card = tmp_path / "plain.json"
    card.write_text(json.dumps(doc))
    ws = tmp_path / "ws"
    ws.mkdir()
    result = teamrel(ws, "import", "a2a", str(card), "--member", "fx")
    assert result.exit_code == 0
    assert "note: the card carries no teamrel extension" in result.stdout
    spec = Context(ws).load().members["fx"].spec
    assert spec["input"]["schema"] is True and spec["output"]["schema"] is True  # type: ignore[index]


def test_an_existing_hand_written_member_is_not_overwritten(example: Path) -> None:
    before = tree(example)
    result = teamrel(
        example, "import", "a2a", str(example / "cards/ledger.json"), "--member", "payer", "--yes"
    )
    assert result.exit_code == 2
    assert "member 'payer' already exists and was not imported from an A2A card" in result.stderr
    assert tree(example) == before


def test_a_teamrel_yaml_that_is_not_utf8_is_named_not_a_traceback(example: Path) -> None:
    ws = example / "teamrel.yaml"
    ws.write_bytes(ws.read_bytes() + b"# caf\xe9\n")
    lines = ws.read_bytes().count(b"\n")
    before = tree(example)
    result = teamrel(example, "import", "a2a", str(example / "cards/ledger.json"), "--yes")
    assert result.exit_code == 3
    assert f"teamrel.yaml:{lines}: not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert tree(example) == before


def test_an_edit_between_plan_and_apply_is_not_overwritten(example: Path) -> None:
    """While the diff waits for a yes, someone edits teamrel.yaml: the import refuses
    rather than write back the file it read."""
    _disjoint(example)
    ctx = Context(example)
    plan = ctx.import_a2a(card=example / "cards/ledger.json")
    assert plan.changes
    ws = example / "teamrel.yaml"
    ws.write_text(ws.read_text("utf-8") + "# a colleague's note\n", "utf-8")
    before = tree(example)
    with pytest.raises(InputError, match="changed while the import was being prepared"):
        ctx.apply_a2a_import(plan)
    assert tree(example) == before


# --------------------------------------------------------------------------- --url


class _CardServer:
    def __init__(self, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = self.path == "/.well-known/agent-card.json"
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body if found else b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def served() -> Iterator[_CardServer]:
    server = _CardServer((EXAMPLE / "cards/ledger.json").read_bytes())
    try:
        yield server
    finally:
        server.close()


def test_import_from_a_url_records_it_as_the_origin(tmp_path: Path, served: _CardServer) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    result = teamrel(ws, "import", "a2a", "--url", served.url, "--skill", "book")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"A2A card {served.url}/.well-known/agent-card.json: Ledger 1.4.0 (v0.3 card" in (
        result.stdout
    )
    spec = Context(ws).load().members["ledger"].spec
    assert spec["origin"] == {"a2a": {"url": served.url, "skill": "book"}}
    assert "cards" not in {p.name for p in ws.iterdir()}


# --------------------------------------------------------------------------- bad input


def _card_with(tmp_path: Path, mutate: Any) -> Path:
    doc = json.loads((EXAMPLE / "cards/fx-quotes.json").read_text())
    mutate(doc)
    path = tmp_path / "bad-card.json"
    path.write_text(json.dumps(doc))
    return path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _quote(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = doc["capabilities"]["extensions"][0]["params"]["skills"]["quote"]
    return entry


def _set_skill_id(doc: dict[str, Any]) -> None:
    doc["skills"][0]["id"] = "../../evil"
    params = doc["capabilities"]["extensions"][0]["params"]
    params["skills"] = {"../../evil": params["skills"]["quote"]}


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda d: _write(d, b"not json at all"), "is not JSON"),
        (
            lambda d: _write(d, b'{"kind": "something else"}'),
            "is not a valid v1.0 AgentCard",
        ),
        (
            lambda d: _card_with(d.parent, lambda doc: doc.pop("skills")),
            "missing required /skills",
        ),
        (
            lambda d: _card_with(
                d.parent,
                lambda doc: doc["capabilities"]["extensions"][0]["params"]["skills"][
                    "quote"
                ].update(input_schema={"type": 7}),
            ),
            "the teamrel extension (https://teamrel.dev/extensions/skill-schemas/v1) is invalid",
        ),
        (lambda d: _card_with(d.parent, _set_skill_id), "skill id '../../evil' cannot name"),
        (
            lambda d: _card_with(d.parent, lambda doc: doc.update(version="latest")),
            "version 'latest' is not a semantic version",
        ),
    ],
)
def test_a_bad_card_is_refused_naming_it_and_nothing_is_written(
    example: Path, make: Any, says: str
) -> None:
    card = make(example.parent / "input.json")
    before = tree(example)
    result = teamrel(example, "import", "a2a", str(card), "--yes")
    assert result.exit_code == 3, result.stdout + result.stderr
    assert f"A2A card {card}" in result.stderr
    assert says in result.stderr
    assert tree(example) == before


def test_a_bad_card_in_json_format_is_an_error_document(example: Path, tmp_path: Path) -> None:
    card = tmp_path / "x.json"
    card.write_text("[]")
    result = teamrel(example, "import", "a2a", str(card), "--format", "json")
    assert result.exit_code == 3
    doc = json.loads(result.stdout or result.stderr)
    assert doc["error"] == "CardError" and doc["card"] == str(card)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("file:///etc/passwd", "only http:// and https:// URLs are fetched"),
        ("ftp://127.0.0.1/card.json", "only http:// and https:// URLs are fetched"),
    ],
)
def test_non_http_urls_are_refused(example: Path, url: str, says: str) -> None:
    before = tree(example)
    result = teamrel(example, "import", "a2a", "--url", url, "--yes")
    assert result.exit_code == 3
    assert f"A2A card {url}: {says}" in result.stderr
    assert tree(example) == before


def test_an_unreachable_url_is_refused(example: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on once it is closed
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    before = tree(example)
    result = teamrel(example, "import", "a2a", "--url", url, "--timeout", "2", "--yes")
    assert result.exit_code == 3
    assert f"A2A card {url}/.well-known/agent-card.json: cannot fetch it" in result.stderr
    assert tree(example) == before


def test_a_symlink_out_of_the_workspace_is_not_written_through(
    example: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(example / "contracts" / "a2a")
    (example / "contracts" / "a2a").symlink_to(outside, target_is_directory=True)
    before = tree(example)
    result = teamrel(example, "import", "a2a", str(example / "cards/ledger.json"), "--yes")
    assert result.exit_code == 3
    assert "resolves outside the workspace" in result.stderr
    assert list(outside.iterdir()) == []
    assert tree(example) == before


def test_a_member_name_that_is_a_path_is_refused(example: Path) -> None:
    before = tree(example)
    result = teamrel(
        example, "import", "a2a", str(example / "cards/ledger.json"), "--member", "../x", "--yes"
    )
    assert result.exit_code == 2
    assert "member name '../x' is not allowed" in result.stderr
    assert tree(example) == before


def test_card_and_url_together_is_a_usage_error(example: Path) -> None:
    result = teamrel(example, "import", "a2a", "x.json", "--url", "http://127.0.0.1:1")
    assert result.exit_code == 2


def test_without_the_sdk_the_command_names_the_extra(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "a2a.types.a2a_pb2", None)
    result = teamrel(example, "import", "a2a", str(example / "cards/fx-quotes.json"))
    assert result.exit_code == 3
    assert "pip install 'teamrel[a2a]'" in result.stderr


def test_the_cli_does_not_import_the_sdk_at_start_up() -> None:
    code = (
        "import sys, teamrel.cli.app\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('a2a', 'httpx')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- export


def test_export_then_import_gives_the_same_schemas(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "fx.json"
    result = teamrel(
        example, "export", "a2a", "fx-quotes", "--out", str(out), "--url-base", "https://a.example"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    card = json.loads(out.read_text())
    assert card["supportedInterfaces"][0]["url"] == "https://a.example/fx-quotes"
    ws = tmp_path / "ws"
    ws.mkdir()
    assert teamrel(ws, "import", "a2a", str(out)).exit_code == 0
    for side in ("input", "output"):
        rel = f"contracts/a2a/fx-quotes/quote.{side}.json"
        assert json.loads((ws / rel).read_text()) == json.loads((example / rel).read_text())
    got = Context(ws).load().members["fx-quotes"].spec
    assert got["modes"] == Context(example).load().members["fx-quotes"].spec["modes"]


def test_export_of_a_hand_written_member_round_trips(example: Path, tmp_path: Path) -> None:
    result = teamrel(example, "export", "a2a", "payer")
    assert result.exit_code == 0
    card = json.loads(result.stdout)
    assert card["defaultInputModes"] == ["text/plain"]
    path = tmp_path / "payer.json"
    path.write_text(result.stdout)
    ws = tmp_path / "ws"
    ws.mkdir()
    assert teamrel(ws, "import", "a2a", str(path)).exit_code == 0
    payer = Context(example).load().members["payer"].spec
    got = json.loads((ws / "contracts/a2a/payer/payer.output.json").read_text())
    want = payer["output"]["schema"]  # type: ignore[index]
    assert got == {"$schema": "https://json-schema.org/draft/2020-12/schema", **want}


def test_export_bundles_cross_file_refs(tmp_path: Path) -> None:
    out = tmp_path / "router.json"
    assert teamrel(REPO, "export", "a2a", "router", "--out", str(out)).exit_code == 0
    ws = tmp_path / "ws"
    ws.mkdir()
    assert teamrel(ws, "import", "a2a", str(out)).exit_code == 0
    ctx = Context(REPO)
    imported = ws / "contracts/a2a/router/router.input.json"
    original = REPO / "contracts/ticket.json"
    # the bundled schema accepts exactly what the original (with its $refs) accepts
    assert ctx.compat(imported, original).verdict == "compatible"
    assert ctx.compat(original, imported).verdict == "compatible"


def test_export_of_an_unknown_member_or_a_tool(example: Path) -> None:
    assert teamrel(example, "export", "a2a", "nobody").exit_code == 3
    result = teamrel(REPO, "export", "a2a", "orders")
    assert result.exit_code == 2
    assert "only agents are published as A2A cards" in result.stderr


# --------------------------------------------------------------------------- drift


def test_drift_rereads_the_card_and_catches_a_widened_skill_output(example: Path) -> None:
    """fx-quotes is external with an a2a card origin: released to prod, then the treasury
    team publishes a card whose quote output gains a `fee` the payer's pin does not allow."""
    code = teamrel(example, "release", "--name", "r1", "--promote", "prod", "--reason", "r1")
    assert code.exit_code == 0, code.stdout + code.stderr
    assert teamrel(example, "drift").exit_code == 0
    card_path = example / "cards" / "fx-quotes.json"
    card = json.loads(card_path.read_text("utf-8"))
    skill = card["capabilities"]["extensions"][0]["params"]["skills"]["quote"]
    skill["output_schema"]["properties"]["fee"] = {"type": "number"}
    card_path.write_text(json.dumps(card), "utf-8")
    result = teamrel(example, "drift", "--format", "json")
    assert result.exit_code == 1, result.stdout
    doc = json.loads(result.stdout)
    bad = [r for r in doc["results"] if r["verdict"] == "incompatible"]
    assert [(r["member"], r["slot"], r["origin"]) for r in bad] == [("fx-quotes", "output", "a2a")]
    assert "fee" in bad[0]["witness"]
