"""Sets of Unicode code points as sorted, disjoint, inclusive intervals.

Owns the character-set algebra of the regex automata and the two class tables the engine
models: ECMA-262 (`\\d` = [0-9], `\\w` = [A-Za-z0-9_], `\\s` = WhiteSpace + LineTerminator,
`.` = anything but a line terminator) and Python `re` on `str` patterns (Unicode `\\d \\w \\s`,
`.` = anything but "\\n"). The Python tables are read from `re` itself, once, so they are
exactly what the reference validator uses, whatever Unicode version this Python ships.
"""

from __future__ import annotations

import array
import bisect
import functools
import re
import sys
from collections.abc import Iterable
from typing import Literal

#: An interval set: sorted, disjoint, non-adjacent, inclusive (lo, hi) code-point ranges.
CharSet = tuple[tuple[int, int], ...]

#: The two regex dialects modelled: ECMA-262 (JSON Schema's) and Python `re` (the validator's).
Flavor = Literal["ecma", "python"]

MAX_CP = 0x10FFFF
_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"
NEWLINE = 0x0A


def normalize(ranges: Iterable[tuple[int, int]]) -> CharSet:
    """Sort and merge overlapping or adjacent ranges."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def union(*sets: CharSet) -> CharSet:
    """The union of interval sets."""
    return normalize(r for s in sets for r in s)


def negate(s: CharSet) -> CharSet:
    """The complement within [0, MAX_CP]."""
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in s:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CP:
        out.append((nxt, MAX_CP))
    return tuple(out)


def contains(s: CharSet, cp: int) -> bool:
    """Whether code point `cp` is in `s`."""
    i = bisect.bisect_right(s, (cp, MAX_CP + 1)) - 1
    return i >= 0 and s[i][0] <= cp <= s[i][1]


def single(cp: int) -> CharSet:
    """The set of one code point."""
    return ((cp, cp),)


ECMA_DIGIT: CharSet = ((0x30, 0x39),)
ECMA_WORD: CharSet = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
#: WhiteSpace (TAB VT FF ZWNBSP and category Zs) plus LineTerminator (LF CR LS PS).
ECMA_SPACE: CharSet = normalize(
    [
        (0x09, 0x0D),
        (0x20, 0x20),
        (0xA0, 0xA0),
        (0x1680, 0x1680),
        (0x2000, 0x200A),
        (0x2028, 0x2029),
        (0x202F, 0x202F),
        (0x205F, 0x205F),
        (0x3000, 0x3000),
        (0xFEFF, 0xFEFF),
    ]
)
ECMA_DOT: CharSet = negate(normalize([(0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029)]))
PYTHON_DOT: CharSet = negate(single(NEWLINE))


@functools.cache
def _python_tables() -> dict[str, CharSet]:
    # Index i of the text is chr(i), so match spans are code-point ranges. All three tables
    # are read in one go so the 4 MB text is not kept.
    codes = array.array("I", range(MAX_CP + 1))
    if codes.itemsize == 4:  # decoding UTF-32 is ~6x faster than joining chr()s
        text = codes.tobytes().decode(_UTF32, "surrogatepass")
    else:  # pragma: no cover - no mainstream platform
        text = "".join(map(chr, range(MAX_CP + 1)))
    return {
        letter: tuple((m.start(), m.end() - 1) for m in re.finditer(f"\\{letter}+", text))
        for letter in "dws"
    }


def class_set(name: str, flavor: Flavor) -> CharSet:
    """The set of a class escape (`d D w W s S`) or `.` under a flavor."""
    if name == ".":
        return ECMA_DOT if flavor == "ecma" else PYTHON_DOT
    lower = name.lower()
    if flavor == "ecma":
        base = {"d": ECMA_DIGIT, "w": ECMA_WORD, "s": ECMA_SPACE}[lower]
    else:
        base = _python_tables()[lower]
    return negate(base) if name.isupper() else base


def word_set(flavor: Flavor) -> CharSet:
    """The characters `\\b` considers word characters under a flavor."""
    return class_set("w", flavor)
