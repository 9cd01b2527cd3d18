"""Canonical JSON (RFC 8785 style) and digests."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teamrel.canonical import canonical_bytes, canonical_json, digest, sha256_hex, short


def test_sorted_keys_no_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "x"]}) == '{"a":[true,null,"x"],"b":1}'


def test_keys_sorted_by_utf16_code_units() -> None:
    # U+1F600 (surrogate pair D83D DE00) sorts before U+FB01 in UTF-16, after it in UTF-8/UCS
    doc = {"\ufb01": 1, "\U0001f600": 2, "a": 3}
    assert canonical_json(doc) == '{"a":3,"\U0001f600":2,"\ufb01":1}'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456789.125, "123456789.125"),
        (2**60, str(2**60)),
        (-5, "-5"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert canonical_json(value) == text


def test_rejects_non_json() -> None:
    with pytest.raises(ValueError):
        canonical_json(float("nan"))
    with pytest.raises(TypeError):
        canonical_json({1: 2})
    with pytest.raises(TypeError):
        canonical_json({"a": object()})


def test_unicode_kept_utf8() -> None:
    assert canonical_bytes({"k": "é\n"}) == '{"k":"é\\n"}'.encode()


def test_digest_format() -> None:
    d = digest({"a": 1})
    assert d.startswith("sha256:") and len(d) == 7 + 64
    assert d == sha256_hex(b'{"a":1}')
    assert short(d) == d[7:19]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_roundtrip_and_stability(value: object) -> None:
    text = canonical_json(value)
    again = json.loads(text)
    assert canonical_json(again) == text  # idempotent through a JSON round trip
    assert digest(again) == digest(value)
