"""Provider profiles (`structured_output: openai-strict`): the refusals `validate` reports and
the effective schema `check` proves.

teamrel's rewrite is compared with the OpenAI Agents SDK's own `ensure_strict_json_schema`
over real Pydantic models; then two workspaces show why check must prove the effective
schema: a break only the effective schema reveals (`oneOf` becomes `anyOf`), and a false
alarm it removes (a field with a default is always sent in strict mode).
"""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from teamrel.check import run_check
from teamrel.profiles import MAX_ENUM_VALUES, MAX_NESTING, PROFILES, OpenAIStrict
from teamrel.workspace import check_workspace, load_workspace

strict_schema = pytest.importorskip("agents.strict_schema")


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Address(BaseModel):
    street: str
    postcode: str | None = None


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Node(BaseModel):
    value: int
    children: list[Node] = []


class Everything(BaseModel):
    name: str
    note: str | None = None
    colour: Colour = Colour.red
    address: Address = Field(description="where to send it")
    addresses: list[Address] = []
    pet: Annotated[Cat | Dog, Field(discriminator="kind")]
    maybe_pet: Cat | Dog | None = None
    amount: int | float = 0
    tree: Node | None = None


MODELS = [Address, Cat, Node, Everything]


@pytest.mark.parametrize("mode", ["validation", "serialization"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_effective_schema_is_the_sdks(model: type[BaseModel], mode: Any) -> None:
    schema = model.model_json_schema(mode=mode)
    sdk = strict_schema.ensure_strict_json_schema(copy.deepcopy(schema))
    ours = OpenAIStrict().effective(schema)
    assert ours == sdk
    assert OpenAIStrict().refusals(schema) == []
    assert schema == model.model_json_schema(mode=mode)  # the input is left alone


def test_refusals_name_every_construct_with_its_pointer() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"allOf": [{"type": "string"}, {"minLength": 1}]},
            "b": {"not": {"type": "null"}},
            "c": {"if": {"type": "string"}, "then": {"minLength": 2}},
            "d": {
                "type": "object",
                "properties": {"x": {"type": "string"}},
                "dependentRequired": {"x": ["y"]},
            },
            "e": {"type": "object", "additionalProperties": {"type": "integer"}},
            "f": {"enum": list(range(MAX_ENUM_VALUES + 1))},
        },
    }
    found = dict(OpenAIStrict().refusals(schema))
    assert "allOf" in found["/properties/a/allOf"]
    assert "not" in found["/properties/b/not"]
    assert "if" in found["/properties/c/if"]
    assert "dependentRequired" in found["/properties/d/dependentRequired"]
    assert "additionalProperties" in found["/properties/e/additionalProperties"]
    assert f"at most {MAX_ENUM_VALUES}" in found[""]
    # what the rewrite fixes is not refused: optional properties, missing additionalProperties
    assert "/required" not in found and "/additionalProperties" not in found


def test_refusals_at_the_root_and_limits() -> None:
    p = OpenAIStrict()
    assert "/anyOf" in dict(p.refusals({"anyOf": [{"type": "object"}, {"type": "null"}]}))
    assert "/anyOf" in dict(p.refusals({"oneOf": [{"type": "object"}, {"type": "object"}]}))
    assert "must be an object" in dict(p.refusals({"type": "array"}))["/type"]
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_NESTING + 1):
        deep = {"type": "object", "properties": {"x": deep}}
    assert any("levels of nesting" in m for _, m in p.refusals(deep))
    wide = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(5001)}}
    assert any("5001 object properties" in m for _, m in p.refusals(wide))
    assert list(PROFILES) == ["openai-strict"]


@pytest.mark.parametrize(
    ("schema", "pointer"),
    [
        ({"type": "object", "properties": {"a": {"allOf": [True]}}}, "/properties/a/allOf/0"),
        ({"type": "object", "properties": {"a": True}}, "/properties/a"),
        ({"type": "object", "properties": {"a": {"anyOf": [{}, False]}}}, "/properties/a/anyOf/1"),
    ],
)
def test_a_boolean_subschema_is_a_refusal_where_the_sdk_raises(
    schema: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(TypeError):
        strict_schema.ensure_strict_json_schema(copy.deepcopy(schema))
    found = dict(OpenAIStrict().refusals(schema))
    assert "boolean schema" in found[pointer]


def test_a_looping_ref_chain_is_a_refusal_not_a_crash() -> None:
    """The loader refuses such a cycle in a workspace; a direct caller gets a refusal."""
    schema = {
        "$defs": {
            "A": {"$ref": "#/$defs/B", "description": "x"},
            "B": {"$ref": "#/$defs/A", "description": "z"},
        },
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A", "description": "y"}},
    }
    p = OpenAIStrict()
    assert any("too deeply" in m for _, m in p.refusals(schema))
    assert p.effective(schema) == schema


# --------------------------------------------------------------------------- workspaces

TEAM = """team: t
members:
  writer:
    version: 1.0.0
    model: {{provider: openai, id: gpt-4o-2024-08-06}}
    prompt: p.md
    input: {{type: string}}
    output: contracts/out.json
{profile}
  reader:
    version: 1.0.0
    model: {{provider: openai, id: gpt-4o-2024-08-06}}
    prompt: p.md
    input: contracts/in.json
    output: {{type: string}}
handoffs:
  - {{from: writer, to: reader}}
"""


def _ws(tmp: Path, out: Any, inp: Any, profile: str | None) -> Path:
    (tmp / "contracts").mkdir(parents=True)
    (tmp / "p.md").write_text("x", encoding="utf-8")
    (tmp / "contracts" / "out.json").write_text(json.dumps(out, indent=2), encoding="utf-8")
    (tmp / "contracts" / "in.json").write_text(json.dumps(inp, indent=2), encoding="utf-8")
    line = f"    structured_output: {profile}" if profile else ""
    (tmp / "teamrel.yaml").write_text(TEAM.format(profile=line), encoding="utf-8")
    return tmp


def _verdict(root: Path) -> str:
    ws = load_workspace(root)
    return run_check(ws).edges[0].verdict


AMOUNT = {
    "oneOf": [
        {
            "type": "object",
            "properties": {"amount": {"type": "number"}},
            "required": ["amount"],
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"amount": {"type": "integer"}},
            "required": ["amount"],
            "additionalProperties": False,
        },
    ]
}
PAYMENT = {
    "type": "object",
    "properties": {"pay": AMOUNT},
    "required": ["pay"],
    "additionalProperties": False,
}


def test_a_break_only_the_effective_schema_reveals(tmp_path: Path) -> None:
    # declared, the writer sends exactly what the reader accepts; in strict mode the SDK
    # turns oneOf into anyOf, and {"amount": 0} (valid under both branches) is then sent
    plain = _ws(tmp_path / "plain", PAYMENT, PAYMENT, None)
    assert _verdict(plain) == "compatible"
    strict = _ws(tmp_path / "strict", PAYMENT, PAYMENT, "openai-strict")
    report = run_check(load_workspace(strict))
    edge = report.edges[0]
    assert edge.verdict == "incompatible"
    assert edge.steps[0].witness == {"pay": {"amount": 0}}


def test_a_false_alarm_the_effective_schema_removes(tmp_path: Path) -> None:
    # a field with a default may be left out by the declared schema, but a strict model
    # always sends it: the reader requiring it is safe
    out = {
        "type": "object",
        "properties": {"priority": {"type": "integer", "default": 3}},
        "additionalProperties": False,
    }
    inp = {
        "type": "object",
        "properties": {"priority": {"type": "integer"}},
        "required": ["priority"],
    }
    assert _verdict(_ws(tmp_path / "plain", out, inp, None)) == "incompatible"
    assert _verdict(_ws(tmp_path / "strict", out, inp, "openai-strict")) == "compatible"


def test_validate_reports_refusals_in_the_contract_file(tmp_path: Path) -> None:
    out = {
        "type": "object",
        "properties": {
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "n": {"not": {"type": "null"}},
        },
    }
    root = _ws(tmp_path, out, {"type": "object"}, "openai-strict")
    report = check_workspace(root)
    refused = [d for d in report.diagnostics if d.code == "profile-refused"]
    assert {(d.file, d.pointer) for d in refused} == {
        ("contracts/out.json", "/properties/tags/additionalProperties"),
        ("contracts/out.json", "/properties/n/not"),
    }
    assert all(d.line and "used at teamrel.yaml" in d.message for d in refused)
    assert not report.valid


def test_an_unknown_profile_is_named(tmp_path: Path) -> None:
    root = _ws(tmp_path, {"type": "object"}, {"type": "object"}, "openai-strikt")
    [diag] = [d for d in check_workspace(root).diagnostics if d.code == "unknown-profile"]
    assert diag.pointer == "/members/writer/structured_output"
    assert "did you mean 'openai-strict'" in diag.message


def test_the_key_is_in_the_spec_only_when_declared(tmp_path: Path) -> None:
    out = {"type": "object", "additionalProperties": False}
    plain = load_workspace(_ws(tmp_path / "a", out, {"type": "object"}, None))
    strict = load_workspace(_ws(tmp_path / "b", out, {"type": "object"}, "openai-strict"))
    assert "structured_output" not in plain.members["writer"].spec
    assert strict.members["writer"].spec["structured_output"] == "openai-strict"
    assert plain.members["reader"].digest == strict.members["reader"].digest
    assert plain.members["writer"].digest != strict.members["writer"].digest
