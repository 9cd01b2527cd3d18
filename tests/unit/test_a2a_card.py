"""Reading and writing A2A AgentCards (teamrel.sources.a2a) against the real `a2a-sdk` types.

Both card shapes (v1.0: the SDK's protobuf `AgentCard`; v0.3: the SDK's compatibility model
and converter), the teamrel skill-schemas extension, cards fetched from a real HTTP server on
127.0.0.1 (the standard library's: a card is a static document, so the SDK's server app, which
needs its `http-server` extra, adds nothing to what is tested), and every bad input refused
with a `CardError` naming the card.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from teamrel.errors import EXIT_OPERATIONAL, MissingExtraError
from teamrel.models import A2aOrigin, ModesSpec, SchemaDoc, modes_intersect
from teamrel.sources.a2a import (
    CARD_PATH,
    EXTENSION_URI,
    CardError,
    build_card,
    card_url,
    fetch_card,
    parse_card,
    read_card,
)
from teamrel.sources.a2a_import import bundle

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "examples" / "a2a-cards" / "cards"

INPUT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["amount"],
    "properties": {"amount": {"type": "integer", "minimum": 1}},
}
OUTPUT = {"type": "object", "required": ["value"], "properties": {"value": {"type": "number"}}}


def v10_card(**changes: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "name": "Currency Agent",
        "description": "Converts money",
        "version": "1.2.0",
        "supportedInterfaces": [
            {
                "url": "http://127.0.0.1:1/a2a",
                "protocolBinding": "JSONRPC",
                "protocolVersion": "1.0",
            }
        ],
        "capabilities": {
            "extensions": [
                {
                    "uri": EXTENSION_URI,
                    "params": {
                        "skills": {"convert": {"input_schema": INPUT, "output_schema": OUTPUT}}
                    },
                }
            ]
        },
        "defaultInputModes": ["application/json"],
        "defaultOutputModes": ["application/json", "text/plain"],
        "skills": [{"id": "convert", "name": "Convert", "description": "d", "tags": ["fx"]}],
    }
    card.update(changes)
    return card


def v03_card() -> dict[str, Any]:
    card = v10_card()
    del card["supportedInterfaces"]
    card.update(protocolVersion="0.3.0", url="http://127.0.0.1:1/a2a", preferredTransport="JSONRPC")
    card["skills"][0]["inputModes"] = ["text/plain"]
    return card


def parse(doc: Any, name: str = "card.json") -> Any:
    return parse_card(json.dumps(doc).encode(), name)


# --------------------------------------------------------------------------- both shapes


def test_v10_card_is_read_with_its_skill_schemas() -> None:
    card = parse(v10_card())
    assert card.shape == "1.0"
    assert (card.name, card.version, card.url) == (
        "Currency Agent",
        "1.2.0",
        "http://127.0.0.1:1/a2a",
    )
    assert card.extension
    (skill,) = card.skills
    assert skill.id == "convert" and skill.tags == ("fx",)
    # the schemas come from the card's JSON: integers stay integers (a protobuf Struct would
    # have turned `minimum: 1` into 1.0)
    assert skill.input_schema == INPUT
    assert isinstance(skill.input_schema["properties"]["amount"]["minimum"], int)  # type: ignore[index]
    assert skill.output_schema == OUTPUT
    # a skill without modes of its own has the card's defaults
    assert card.modes() == (["application/json"], ["application/json", "text/plain"])


def test_v03_card_is_read_through_the_sdk_compat_types() -> None:
    card = parse(v03_card())
    assert card.shape == "0.3"
    assert card.url == "http://127.0.0.1:1/a2a"  # the v0.3 top-level url became an interface
    (skill,) = card.skills
    assert skill.input_modes == ("text/plain",)  # the skill's own modes win over the defaults
    assert skill.output_modes == ("application/json", "text/plain")
    assert skill.input_schema == INPUT


def test_the_example_cards_are_one_of_each_shape() -> None:
    shapes = {p.name: parse_card(p.read_bytes(), p.name).shape for p in CARDS.glob("*.json")}
    assert shapes == {"fx-quotes.json": "1.0", "ledger.json": "0.3"}


def test_a_card_without_the_extension_has_no_schemas() -> None:
    doc = v10_card()
    doc["capabilities"] = {"streaming": True}
    card = parse(doc)
    assert not card.extension
    assert card.skills[0].input_schema is None and card.skills[0].output_schema is None


def test_modes_of_one_skill_and_of_the_whole_agent() -> None:
    doc = v10_card()
    doc["skills"].append(
        {
            "id": "chart",
            "name": "Chart",
            "description": "d",
            "tags": [],
            "outputModes": ["image/png"],
        }
    )
    card = parse(doc)
    assert card.modes("chart") == (["application/json"], ["image/png"])
    # the agent may produce what any skill produces
    assert card.modes()[1] == ["application/json", "text/plain", "image/png"]
    with pytest.raises(CardError, match="has no skill 'nope' \\(its skills: convert, chart\\)"):
        card.modes("nope")


# --------------------------------------------------------------------------- bad cards


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"{not json", "is not JSON"),
        (b"\xff\xfe", "is not UTF-8"),
        (b'{"a": NaN}', "is not JSON"),
        (b'{"name": "a", "name": "b"}', "duplicate key 'name'"),
        (b"[1, 2]", "is not an AgentCard: expected a JSON object"),
        (b'{"hello": "world"}', "is not a valid v1.0 AgentCard: missing required /name"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_what_is_not_a_card_is_refused_naming_it(data: bytes, says: str) -> None:
    with pytest.raises(CardError) as err:
        parse_card(data, "cards/x.json")
    assert err.value.message.startswith("A2A card cards/x.json: ")
    assert says in err.value.message
    assert err.value.exit_code == EXIT_OPERATIONAL


def test_a_v10_card_missing_required_fields_names_each_with_its_pointer() -> None:
    doc = v10_card()
    del doc["version"]
    del doc["skills"][0]["tags"]
    del doc["supportedInterfaces"][0]["protocolVersion"]
    with pytest.raises(CardError) as err:
        parse(doc)
    pointers = {d.pointer for d in err.value.diagnostics}
    assert pointers == {"/version", "/skills/0/tags", "/supportedInterfaces/0/protocolVersion"}
    assert all(d.file == "card.json" for d in err.value.diagnostics)


def test_a_v03_card_missing_required_fields_is_refused() -> None:
    doc = v03_card()
    del doc["skills"][0]["name"]
    with pytest.raises(CardError, match=r"is not a valid v0\.3 AgentCard") as err:
        parse(doc)
    assert "/skills/0/name" in {d.pointer for d in err.value.diagnostics}


def test_a_skill_id_listed_twice_is_refused() -> None:
    doc = v10_card()
    doc["skills"].append(dict(doc["skills"][0]))
    with pytest.raises(CardError, match="lists skill id 'convert' twice") as err:
        parse(doc)
    assert [d.pointer for d in err.value.diagnostics] == ["/skills/1/id"]


def test_a_wrongly_typed_field_is_refused() -> None:
    with pytest.raises(CardError, match=r"is not a valid v1\.0 AgentCard"):
        parse(v10_card(skills="convert"))


def _ext(doc: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = doc["capabilities"]["extensions"][0]["params"]
    return params


@pytest.mark.parametrize(
    ("mutate", "pointer", "says"),
    [
        (
            lambda p: p["skills"]["convert"].update(input_schema={"type": "objekt"}),
            "/capabilities/extensions/0/params/skills/convert/input_schema/type",
            "not a valid draft2020-12 schema",
        ),
        (
            lambda p: p["skills"]["convert"].update(output_schema=42),
            "/capabilities/extensions/0/params/skills/convert/output_schema",
            "a JSON Schema must be an object or a boolean",
        ),
        (
            lambda p: p["skills"]["convert"].update(
                input_schema={"$ref": "https://evil.example/x.json"}
            ),
            "/capabilities/extensions/0/params/skills/convert/input_schema/$ref",
            "refused",
        ),
        (
            lambda p: p["skills"].update(ghost={"input_schema": True}),
            "/capabilities/extensions/0/params/skills/ghost",
            "names skill 'ghost', which the card does not list",
        ),
        (
            lambda p: p["skills"]["convert"].update(inputSchema=True),
            "/capabilities/extensions/0/params/skills/convert/inputSchema",
            "unknown key 'inputSchema'",
        ),
        (
            lambda p: p.update(skills=["convert"]),
            "/capabilities/extensions/0/params",
            "params must be",
        ),
    ],
)
def test_an_extension_whose_schemas_are_not_schemas_is_refused(
    mutate: Any, pointer: str, says: str
) -> None:
    doc = v10_card()
    mutate(_ext(doc))
    with pytest.raises(CardError) as err:
        parse(doc)
    assert f"the teamrel extension ({EXTENSION_URI}) is invalid" in err.value.message
    found = {d.pointer: d.message for d in err.value.diagnostics}
    assert pointer in found, found
    assert says in found[pointer]


def test_a_card_file_outside_the_workspace_is_refused(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "card.json").write_text(json.dumps(v10_card()))
    for raw in ("../card.json", "/etc/passwd", "missing.json"):
        with pytest.raises(CardError, match=f"A2A card {raw}"):
            read_card(A2aOrigin(card=raw), ws)


def test_read_card_checks_the_origin_skill(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text(json.dumps(v10_card()))
    card = read_card(A2aOrigin(card="card.json", skill="convert"), tmp_path)
    assert card.skills[0].input_schema == INPUT
    with pytest.raises(CardError, match="has no skill 'other'"):
        read_card(A2aOrigin(card="card.json", skill="other"), tmp_path)


def test_without_the_sdk_the_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "a2a.types.a2a_pb2", None)
    with pytest.raises(MissingExtraError) as err:
        parse(v10_card())
    assert err.value.hint == "pip install 'teamrel[a2a]'"


# --------------------------------------------------------------------------- over HTTP


class _Server:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.requests: list[str] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                if self.path == "/redirect.json":
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return
                status, body = routes.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if not self.thread.is_alive():
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    try:
        yield s
    finally:
        s.close()


def test_a_card_is_fetched_from_the_well_known_path(server: _Server) -> None:
    server.routes[CARD_PATH] = (200, json.dumps(v10_card()).encode())
    data, where = fetch_card(server.base)
    assert where == server.base + CARD_PATH
    assert parse_card(data, where).skills[0].output_schema == OUTPUT
    card = read_card(A2aOrigin(url=server.base + "/"), Path("."))
    assert card.source == server.base + CARD_PATH
    assert server.requests == [CARD_PATH, CARD_PATH]


def test_a_url_ending_in_json_is_fetched_as_is(server: _Server) -> None:
    server.routes["/cards/v03.json"] = (200, json.dumps(v03_card()).encode())
    assert read_card(A2aOrigin(url=server.base + "/cards/v03.json"), Path(".")).shape == "0.3"


def test_fetch_failures_name_the_url(server: _Server) -> None:
    with pytest.raises(CardError, match=f"A2A card {server.base}{CARD_PATH}: .*HTTP 404"):
        fetch_card(server.base)
    server.routes["/big.json"] = (200, b" " * 2048)
    with pytest.raises(CardError, match="larger than 1024 bytes"):
        fetch_card(server.base + "/big.json", max_bytes=1024)
    # a redirect to another scheme is not followed
    with pytest.raises(CardError, match="cannot fetch it"):
        fetch_card(server.base + "/redirect.json", timeout=2)


def test_an_unreachable_url_is_refused(server: _Server) -> None:
    port = server.httpd.server_address[1]
    server.close()
    with pytest.raises(
        CardError, match=f"A2A card http://127.0.0.1:{port}{CARD_PATH}: cannot fetch"
    ):
        fetch_card(f"http://127.0.0.1:{port}", timeout=2)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/card.json", "127.0.0.1:8000", "http://"]
)
def test_only_http_urls_are_fetched(url: str) -> None:
    with pytest.raises(CardError, match="only http:// and https:// URLs are fetched"):
        card_url(url)


# --------------------------------------------------------------------------- writing


def test_build_card_is_a_v10_card_the_reader_reads_back() -> None:
    doc = build_card(
        name="Planner",
        description="Plans",
        version="1.0.0",
        url="https://x.example/planner",
        input_modes=["text/plain"],
        output_modes=["application/json"],
        skills=[{"id": "plan", "name": "Plan", "description": "d", "tags": []}],
        schemas={"plan": {"input_schema": INPUT, "output_schema": OUTPUT}},
    )
    card = parse(doc)
    assert card.shape == "1.0"
    assert (card.skills[0].input_schema, card.skills[0].output_schema) == (INPUT, OUTPUT)
    assert card.modes() == (["text/plain"], ["application/json"])


def test_build_card_refuses_what_the_sdk_refuses() -> None:
    with pytest.raises(CardError, match=r"is not a valid v1\.0 AgentCard"):
        build_card(
            name="x",
            description="d",
            version="1.0.0",
            url="u",
            input_modes=[],
            output_modes=[],
            skills=[{"id": "s", "name": 5, "description": "d", "tags": []}],
            schemas={},
        )


def test_bundle_moves_referenced_files_under_defs() -> None:
    common = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": {"Id": {"type": "string", "minLength": 3}, "Ref": {"$ref": "#/$defs/Id"}},
    }
    doc = SchemaDoc.model_validate(
        {
            "uri": "file:///contracts/a2a/x.json",
            "schema": {
                "type": "object",
                "properties": {"id": {"$ref": "../common.json#/$defs/Ref"}},
                "$defs": {"Mine": {"type": "integer"}},
            },
            "resources": {"file:///contracts/common.json": common},
        }
    )
    out = bundle(doc)
    assert out == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"id": {"$ref": "#/$defs/teamrel.bundle.0/$defs/Ref"}},
        "$defs": {
            "Mine": {"type": "integer"},
            "teamrel.bundle.0": {
                "$defs": {
                    "Id": {"type": "string", "minLength": 3},
                    "Ref": {"$ref": "#/$defs/teamrel.bundle.0/$defs/Id"},
                }
            },
        },
    }
    jsonschema = pytest.importorskip("jsonschema")
    v = jsonschema.Draft202012Validator(out)
    assert v.is_valid({"id": "abcd"}) and not v.is_valid({"id": "ab"})


# --------------------------------------------------------------------------- modes


@pytest.mark.parametrize(
    ("produced", "accepted", "meet"),
    [
        (["application/json"], ["application/json"], True),
        (["application/json"], ["text/plain"], False),
        (["Text/Plain; charset=utf-8"], ["text/plain"], True),
        (["image/png"], ["image/*"], True),
        (["*/*"], ["text/csv"], True),
        (["text/*"], ["application/json"], False),
    ],
)
def test_modes_intersect(produced: list[str], accepted: list[str], meet: bool) -> None:
    assert modes_intersect(produced, accepted) is meet


def test_modes_must_be_media_types() -> None:
    with pytest.raises(ValueError, match="'json' is not a media type"):
        ModesSpec.model_validate({"input": ["json"]})


def test_v10_sample_is_not_mutated_by_parsing() -> None:
    doc = v10_card()
    before = copy.deepcopy(doc)
    parse(doc)
    assert doc == before
