"""The `external` / `origin` keys of a member: their shape, and that they do not move digests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from teamrel.models import NON_BEHAVIOURAL_KEYS, OriginSpec, ToolSpec


def _tool(**extra: object) -> ToolSpec:
    return ToolSpec.model_validate(
        {"kind": "tool", "version": "1.0.0", "input_schema": {"type": "object"}, **extra}
    )


def test_each_origin_kind_parses() -> None:
    assert OriginSpec.model_validate({"file": "interfaces/orders.json"}).file
    mcp = OriginSpec.model_validate({"mcp": {"url": "http://127.0.0.1:9/mcp", "tool": "orders"}})
    assert mcp.mcp is not None and mcp.mcp.tool == "orders"
    a2a = OriginSpec.model_validate({"a2a": {"card": "cards/billing.json", "skill": "refund"}})
    assert a2a.a2a is not None and a2a.a2a.skill == "refund"


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ({}, "exactly one of 'file', 'mcp' or 'a2a'"),
        ({"file": "a.json", "a2a": {"card": "c.json"}}, "exactly one of 'file', 'mcp' or 'a2a'"),
        ({"mcp": {"tool": "orders"}}, "exactly one of 'command' (stdio) or 'url'"),
        ({"mcp": {"command": "x", "url": "http://h/mcp", "tool": "t"}}, "exactly one of 'command'"),
        ({"a2a": {}}, "exactly one of 'card' (a file) or 'url'"),
    ],
)
def test_bad_origins_say_what_is_wrong(origin: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        OriginSpec.model_validate(origin)


def test_external_needs_an_origin() -> None:
    with pytest.raises(ValidationError, match="an external member needs an 'origin'"):
        _tool(external=True)
    assert _tool(external=True, origin={"file": "i.json"}).external


def test_origin_is_not_behaviour() -> None:
    assert {"external", "origin"} <= NON_BEHAVIOURAL_KEYS
