"""Canonical JSON (RFC 8785 style) and the sha256 content digests built on it.

Owns: the single byte representation every digest in teamrel is computed over, so the same
content gives the same digest on every machine and Python version: object keys sorted by
UTF-16 code units, no insignificant whitespace, UTF-8, numbers in ECMAScript form (an
integral float such as 1.0 is written `1`), arbitrary-size integers kept exact.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

JSON = Any  # a JSON value: None, bool, int, float, str, list, dict[str, JSON]
#: A JSON object where one crosses a boundary: the serialisation of a typed result (what a
#: `to_json` returns and a `from_json` reads), a document read from outside (a schema, a
#: server's listing, an SDK's answer) before it is typed, or a cache entry. Operations pass
#: typed values between each other, never these.
JsonObject = dict[str, JSON]

DIGEST_PREFIX = "sha256:"


def _utf16_key(s: str) -> bytes:
    return s.encode("utf-16-be")


def _number(x: float) -> str:
    if math.isnan(x) or math.isinf(x):
        raise ValueError("NaN and Infinity are not JSON numbers")
    if x == 0:
        return "0"
    if x.is_integer() and abs(x) < 2**53:
        return str(int(x))
    # Shortest round-trip digits, then ECMAScript Number::toString layout.
    r = repr(x)
    sign = "-" if r.startswith("-") else ""
    r = r.lstrip("-")
    mantissa, _, exp_s = r.partition("e")
    exp = int(exp_s) if exp_s else 0
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    # n: position of the decimal point relative to the digit string (ECMA-262 7.1.12.1)
    lead_zeros = len(int_part + frac_part) - len((int_part + frac_part).lstrip("0"))
    n = len(int_part) + exp - lead_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        out = digits + "0" * (n - k)
    elif 0 < n <= 21:
        out = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        e_s = f"e+{e}" if e >= 0 else f"e-{-e}"
        out = digits[0] + ("." + digits[1:] if k > 1 else "") + e_s
    return sign + out


def _encode(value: JSON, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def canonical_json(value: JSON) -> str:
    """The canonical JSON text of `value`."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out)


def canonical_bytes(value: JSON) -> bytes:
    """The canonical JSON of `value`, UTF-8 encoded: the bytes every digest is taken over."""
    return canonical_json(value).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """`sha256:<hex>` of raw bytes."""
    return DIGEST_PREFIX + hashlib.sha256(data).hexdigest()


def digest(value: JSON) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return sha256_hex(canonical_bytes(value))


def short(digest_str: str, n: int = 12) -> str:
    """A short form of a digest for human output (`sha256:` stripped)."""
    return digest_str.removeprefix(DIGEST_PREFIX)[:n]
