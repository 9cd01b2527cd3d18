"""Placing an imported A2A member into teamrel.yaml: the rest of the file, comments included,
is kept; the result is verified to hold exactly the member before anything is written."""

from __future__ import annotations

import pytest

from teamrel.errors import InputError, UsageError
from teamrel.sources.a2a_import import _check_placed, _upsert_member
from teamrel.yamlsrc import parse_yaml

SPEC = {
    "version": "1.0.0",
    "external": True,
    "origin": {"a2a": {"card": "cards/x.json"}},
    "modes": {"input": ["text/plain"], "output": ["application/json"]},
}

FILE = """\
# the team
team: t
members:
  a:  # first
    version: 1.0.0

  # about x
  x:
    version: 0.1.0
    origin: {a2a: {card: cards/x.json}}
  z:
    version: 2.0.0   # last
handoffs: []
"""


def placed(text: str) -> str:
    out = _upsert_member(text, "x", SPEC, "t")
    _check_placed(out, "x", SPEC)
    return out


def test_replacing_a_member_keeps_the_others_and_their_comments() -> None:
    out = placed(FILE)
    assert "  a:  # first\n" in out and "  # about x\n" in out
    assert "    version: 2.0.0   # last\nhandoffs: []\n" in out
    data = parse_yaml(out, "teamrel.yaml").data
    assert list(data["members"]) == ["a", "x", "z"]
    assert data["members"]["z"] == {"version": "2.0.0"}


def test_a_new_member_goes_after_the_last_one() -> None:
    text = FILE.replace("  x:\n    version: 0.1.0\n    origin: {a2a: {card: cards/x.json}}\n", "")
    out = placed(text)
    assert list(parse_yaml(out, "teamrel.yaml").data["members"]) == ["a", "z", "x"]
    assert out.endswith("handoffs: []\n")


@pytest.mark.parametrize(
    "text",
    [
        "team: t\n",
        "team: t\nmembers:\n",
        "team: t\nmembers:",
        "team: t\nmembers:\n  a: {version: 1.0.0}",
    ],
)
def test_files_without_members_or_a_final_newline(text: str) -> None:
    data = parse_yaml(placed(text), "teamrel.yaml").data
    assert data["members"]["x"]["modes"] == SPEC["modes"]


def test_a_flow_style_members_mapping_is_refused() -> None:
    with pytest.raises(InputError, match="'members' is not a block mapping"):
        _upsert_member("team: t\nmembers: {a: {version: 1.0.0}}\n", "x", SPEC, "t")


def test_a_hand_written_member_is_never_replaced() -> None:
    with pytest.raises(UsageError, match="member 'a' already exists"):
        _upsert_member(FILE, "a", SPEC, "t")


def test_a_misplaced_member_is_caught_before_writing() -> None:
    with pytest.raises(InputError, match="cannot place member 'x'"):
        _check_placed("team: t\nmembers: {}\n", "x", SPEC)
