"""Exact evaluation of single keywords, mirroring python-jsonschema's semantics.

Owns the JSON equality used by `enum`/`const`/`uniqueItems` (1 == 1.0, true != 1), the
membership test of a large `enum` (`enum_contains`: hashed, so each of a producer's 100,000
values is looked up once rather than compared with every consumer value), the JSON type
test (1.0 is an integer), `multipleOf` with the reference validator's own float arithmetic,
cached `re.search` for `pattern`, and JSON-type names. The prover evaluates its atoms with
these so that its finite reasoning agrees with the reference validator.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from teamrel.canonical import JSON, JsonObject

BASE_TYPES = ("null", "boolean", "number", "string", "array", "object")


def json_type(v: JSON) -> str:
    """The base JSON type of a Python JSON value ("number" for int and float)."""
    if v is None:
        return "null"
    if v is True or v is False:
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def is_integer(v: JSON) -> bool:
    """JSON Schema's integer test: an int, or a float with no fractional part."""
    if v is True or v is False:
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and v.is_integer()


def is_type(v: JSON, t: str) -> bool:
    """Whether `v` is of JSON Schema type `t`."""
    if t == "integer":
        return is_integer(v)
    return json_type(v) == t


def equal(a: JSON, b: JSON) -> bool:
    """JSON Schema equality: numbers by value, booleans distinct from numbers."""
    if a is b:
        return True
    if isinstance(a, str) or isinstance(b, str):
        return bool(a == b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
        return False
    return bool(a == b)


#: Below this many values an `enum` is scanned: hashing it would cost more than it saves.
ENUM_INDEX_OVER = 32
#: Indexes of the large `enum` lists seen lately, by identity (the list is kept alive with its
#: index, so an id is never reused while its entry is here); schemas are never mutated.
_ENUM_INDEX: dict[int, tuple[list[Any], frozenset[Any], list[Any]]] = {}
_ENUM_INDEX_MAX = 256


def _key(v: Any) -> Any:
    """A hashable key, equal for JSON-equal values (1 and 1.0 alike, true apart from 1, an
    object's key order ignored); None for a value holding NaN, which equals nothing."""
    if v is None:
        return ("null",)
    if v is True or v is False:
        return ("bool", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, (int, float)):
        return ("num", v) if v == v else None
    if isinstance(v, list):
        items = tuple(_key(x) for x in v)
        return None if None in items else ("arr", items)
    if isinstance(v, dict):
        pairs = frozenset((k, _key(x)) for k, x in v.items())
        return None if any(x is None for _, x in pairs) else ("obj", pairs)
    return None


def enum_contains(enums: list[Any], v: JSON) -> bool:
    """Whether `v` equals (JSON Schema equality) a value of `enums`: a scan of a short list,
    a hashed lookup in a long one."""
    if len(enums) <= ENUM_INDEX_OVER:
        return any(equal(v, e) for e in enums)
    entry = _ENUM_INDEX.get(id(enums))
    if entry is None or entry[0] is not enums:
        keys: set[Any] = set()
        others: list[Any] = []
        for e in enums:
            k = _key(e)
            if k is None:
                others.append(e)
            else:
                keys.add(k)
        if len(_ENUM_INDEX) >= _ENUM_INDEX_MAX:
            _ENUM_INDEX.clear()
        entry = _ENUM_INDEX[id(enums)] = (enums, frozenset(keys), others)
    k = _key(v)
    if k is not None and k in entry[1]:
        return True
    return any(equal(v, e) for e in entry[2])


def unique(items: list[JSON]) -> bool:
    """Whether all items are pairwise unequal (JSON Schema equality)."""
    for i, x in enumerate(items):
        for y in items[i + 1 :]:
            if equal(x, y):
                return False
    return True


@lru_cache(maxsize=8192)
def _exact_float(x: float) -> Fraction:
    return Fraction(Decimal(repr(x)))


def exact(x: int | float) -> Fraction:
    """The exact value of a JSON number: its decimal text (0.1 is one tenth)."""
    return Fraction(x) if isinstance(x, int) else _exact_float(x)


def multiple_of(v: int | float, d: int | float) -> bool:
    """The specification's `multipleOf`: exact decimal arithmetic on the numbers' text."""
    if isinstance(v, float) and not math.isfinite(v):
        return False
    return (exact(v) / exact(d)).denominator == 1


def ref_multiple_of(v: int | float, d: int | float) -> bool:
    """python-jsonschema's `multipleOf` test, binary float arithmetic included."""
    if isinstance(d, float):
        quotient = v / d
        try:
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(v) / Fraction(d)).denominator == 1
    return not (v % d)


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str]:
    """The Python regex the reference validator uses for `pattern`."""
    return re.compile(pattern)


class ValidationUnavailable(Exception):
    """The reference semantics could not be evaluated (recursion limit, overflow, bad regex)."""


class PatternUnavailable(ValidationUnavailable):
    """Python's `re` (the reference validator's regex engine) cannot compile the pattern."""


def python_search(pattern: str, s: str) -> bool:
    """`re.search` as python-jsonschema does it."""
    try:
        rx = compiled(pattern)
    except re.error as exc:
        raise PatternUnavailable(f"pattern {pattern!r} is not a Python regex: {exc}") from None
    return rx.search(s) is not None


@lru_cache(maxsize=65536)
def search(pattern: str, s: str) -> bool:
    """Whether the ECMA-262 `pattern` matches somewhere in `s` (the specification's reading).

    Uses the regex automata of `teamrel.compat.regex`; a construct they do not model
    (lookaround, backreferences) falls back to Python's reading.
    """
    try:
        from teamrel.compat import regex as rx
    except ImportError:  # pragma: no cover - the regex package ships with teamrel
        return python_search(pattern, s)
    try:
        return rx.matches(pattern, s, semantics="ecma")
    except rx.RegexUnsupported:
        return python_search(pattern, s)
    except Exception as exc:  # an invalid ECMA-262 pattern (SchemaError) or budget
        raise PatternUnavailable(f"pattern {pattern!r}: {exc}") from None


def types_of(kw: JsonObject) -> tuple[frozenset[str], bool]:
    """(allowed base types, integers only?) of a keyword set's `type`."""
    t = kw.get("type")
    if t is None:
        return frozenset(BASE_TYPES), False
    names = [t] if isinstance(t, str) else list(t)
    base = set()
    for n in names:
        base.add("number" if n == "integer" else n)
    int_only = "integer" in names and "number" not in names
    return frozenset(base & set(BASE_TYPES)), int_only
