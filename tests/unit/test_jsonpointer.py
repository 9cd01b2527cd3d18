"""The one JSON Pointer helper (RFC 6901): escaping order, round trips, the root."""

from __future__ import annotations

import pytest

from teamrel.jsonpointer import escape_token, pointer, unescape_token


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("/~", "~1~0"), ("", ""), ("plain", "plain")],
)
def test_escape_and_back(raw: str, escaped: str) -> None:
    assert escape_token(raw) == escaped
    assert unescape_token(escaped) == raw


def test_pointer_of_keys_and_indexes() -> None:
    assert pointer([]) == ""
    assert pointer(["properties", "a/b", 0, "~"]) == "/properties/a~1b/0/~0"
