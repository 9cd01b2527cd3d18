"""`teamrel.yamledit`: members added and keys set in teamrel.yaml, every comment kept."""

from __future__ import annotations

import pytest
import yaml

from teamrel.yamledit import (
    REMOVE,
    YamlEditError,
    add_member,
    flow,
    set_keys,
    set_member_keys,
)

TEXT = """\
# the team (top comment)
team: shop
members:
  # the agent
  support:
    version: 1.0.0  # bumped by hand
    input: {type: object}

  orders:
    kind: tool
    version: 1.6.0
    input_schema: contracts/in.json
    output_schema: contracts/out.json
    origin:
      mcp:
        command: python old.py
        tool: orders
    metadata: {owner: ops}

# the edges
handoffs:
  - {from: support, to: orders}
"""

SPEC = {
    "kind": "tool",
    "version": "1.0.0",
    "description": "Look: an order",
    "input_schema": "contracts/tools/x_input.json",
    "origin": {"mcp": {"url": "http://127.0.0.1:8000/mcp", "tool": "x"}},
}


def comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if "#" in line]


def test_add_member_appends_to_the_members_block_keeping_comments() -> None:
    out = add_member(TEXT, "x", SPEC)
    data = yaml.safe_load(out)
    assert data["members"]["x"] == SPEC
    assert list(data["members"]) == ["support", "orders", "x"]
    assert data["handoffs"] == yaml.safe_load(TEXT)["handoffs"]
    assert comments(out) == comments(TEXT)
    assert "\n  x:\n    kind: tool\n" in out


@pytest.mark.parametrize(
    "text",
    [
        "team: t\n",
        "team: t\nmembers:\n",
        "team: t\nmembers: {}\n",
        "team: t\nmembers: {a: {kind: tool}}\n",
    ],
)
def test_add_member_where_members_is_absent_empty_or_flow(text: str) -> None:
    out = add_member(text, "x", SPEC)
    data = yaml.safe_load(out)
    assert data["members"]["x"] == SPEC
    assert data["team"] == "t"


def test_set_member_keys_replaces_adds_and_removes_only_those_keys() -> None:
    origin = {"mcp": {"command": "python new.py", "tool": "orders"}}
    out = set_member_keys(
        TEXT, "orders", {"origin": origin, "external": True, "output_schema": REMOVE}
    )
    member = yaml.safe_load(out)["members"]["orders"]
    assert member["origin"] == origin
    assert member["external"] is True
    assert "output_schema" not in member
    assert member["metadata"] == {"owner": "ops"}
    assert comments(out) == comments(TEXT)
    # the lines of other members are untouched
    assert "    version: 1.0.0  # bumped by hand\n" in out


def test_set_keys_in_block_style_writes_what_yaml_dump_would() -> None:
    origin = {"mcp": {"command": "python new.py", "tool": "orders"}}
    out = set_keys(TEXT, ("members", "orders"), {"origin": origin, "notes": ["a", "b"]}, block=True)
    assert (
        "    origin:\n      mcp:\n        command: python new.py\n        tool: orders\n"
        "    metadata: {owner: ops}\n    notes:\n    - a\n    - b\n"
    ) in out
    assert comments(out) == comments(TEXT)
    # at the top level: a key replaced in place, a new one appended
    edges = [{"from": "support", "to": "orders", "contract": {"type": "object"}}]
    out = set_keys(out, (), {"handoffs": edges, "environments": {"prod": {}}}, block=True)
    assert "handoffs:\n- from: support\n  to: orders\n  contract:\n    type: object\n" in out
    assert out.endswith("environments:\n  prod: {}\n")
    assert comments(out) == comments(TEXT)
    data = yaml.safe_load(out)
    assert data["handoffs"] == edges and data["members"]["orders"]["origin"] == origin


def test_set_keys_names_what_is_missing() -> None:
    with pytest.raises(YamlEditError, match="has no member 'nobody' to update"):
        set_member_keys(TEXT, "nobody", {"version": "2.0.0"})
    with pytest.raises(YamlEditError, match="has no environments to update"):
        set_keys(TEXT, ("environments",), {"prod": {}})
    with pytest.raises(YamlEditError, match="team is not a mapping"):
        set_keys(TEXT, ("team",), {"x": 1})


def test_a_flow_member_is_rewritten_on_one_line() -> None:
    out = set_member_keys(
        "members:\n  a: {kind: tool, version: 1.0.0}\n", "a", {"version": "2.0.0"}
    )
    assert out == "members:\n  a: {kind: tool, version: 2.0.0}\n"


def test_adding_an_existing_member_is_refused() -> None:
    with pytest.raises(YamlEditError, match="already has a member 'orders'"):
        add_member(TEXT, "orders", SPEC)


def test_flow_quotes_what_yaml_would_misread() -> None:
    for value in ["1.0", "yes", "a: b", "#x", "", "null", {"k": "v: w"}, ["-", "~"]]:
        assert yaml.safe_load(f"k: {flow(value)}") == {"k": value}
