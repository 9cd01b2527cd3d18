"""ECMA-262 regular expression syntax: the parser and the abstract syntax tree.

Owns the grammar accepted (the web-compatible, Annex B, non-`u` grammar that `new RegExp(p)`
accepts) and the tree the automata are built from. The parser is iterative, so no nesting
depth can exhaust the Python stack, and it never raises for valid syntax: constructs the
automata do not model (nested lookarounds, backreferences, legacy octal escapes...) are in
`Parsed.unsupported`, and places where Python's `re` would read the same text differently, or
not at all, in `Parsed.python_issues`. Syntax errors raise `RegexSyntaxError` with the
0-based position in the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Assertion kinds (zero-width): start of input, end of input, word boundary, not a boundary.
BOL, EOL, WB, NWB = 1, 2, 3, 4

#: Largest repetition count kept exactly; anything larger is clamped (it is over budget anyway).
HUGE_COUNT = 10**9


class RegexSyntaxError(Exception):
    """The pattern is not valid ECMA-262 syntax; `pos` is the 0-based offending position."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Chars:
    """Matches one character of a set; items are (lo, hi) ranges or class names (`d`, `W`, `.`)."""

    items: tuple[tuple[int, int] | str, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Seq:
    """Concatenation."""

    parts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    """Alternation."""

    options: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    """`child{lo,hi}`; hi None means unbounded. Laziness does not change the language."""

    child: Node
    lo: int
    hi: int | None


@dataclass(frozen=True, slots=True)
class Assert:
    """A zero-width assertion: BOL, EOL, WB or NWB."""

    kind: int


@dataclass(frozen=True, slots=True)
class Look:
    """A lookahead `(?=child)` `(?!child)` or lookbehind `(?<=child)` `(?<!child)`."""

    child: Node
    negative: bool
    behind: bool = False


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """A construct parsed for validity but not modelled (a backreference)."""

    what: str


Node = Chars | Seq | Alt | Repeat | Assert | Look | Unmodelled

EMPTY = Seq(())


@dataclass
class Parsed:
    """A parsed pattern and what the automata need to know about it."""

    node: Node
    unsupported: list[tuple[str, int]] = field(default_factory=list)
    python_issues: list[tuple[str, int]] = field(default_factory=list)
    #: whether ECMA-262 and Python `re` may give the pattern different meanings
    #: (`.`, class escapes, `$`, `\\b`, `\\B`)
    flavor_sensitive: bool = False
    max_depth: int = 0


_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_CLASS_ESCAPES = frozenset("dDsSwW")
_QUANT_START = frozenset("*+?")
#: Annex B accepts digits and "_" after \\c inside a class
_CONTROL_LETTERS = _ASCII_LETTERS | _DIGITS | {"_"}


def _make_seq(items: list[Node]) -> Node:
    return items[0] if len(items) == 1 else Seq(tuple(items))


def _make_alt(alts: list[list[Node]]) -> Node:
    if len(alts) == 1:
        return _make_seq(alts[0])
    return Alt(tuple(_make_seq(a) for a in alts))


class _Frame:
    __slots__ = ("alts", "kind", "last_quantifiable", "pos", "seq")

    def __init__(self, kind: str, pos: int) -> None:
        self.kind = kind
        self.pos = pos
        self.alts: list[list[Node]] = []
        self.seq: list[Node] = []
        self.last_quantifiable = False


class _Parser:
    def __init__(self, src: str, named_groups: bool) -> None:
        self.s = src
        self.n = len(src)
        self.named_groups = named_groups
        self.unsupported: list[tuple[str, int]] = []
        self.python_issues: list[tuple[str, int]] = []
        self.sensitive = False
        self.group_names: set[str] = set()
        self.referenced_names: list[tuple[str, int]] = []
        self.saw_named_group = False
        self.look_depth = 0
        self.eol_in_behind = False

    # -- helpers -------------------------------------------------------------------------
    def _hex(self, i: int, count: int) -> int | None:
        digits = self.s[i : i + count]
        if len(digits) == count and all(c in _HEX for c in digits):
            return int(digits, 16)
        return None

    def _python_issue(self, what: str, pos: int) -> None:
        self.python_issues.append((what, pos))

    def _unsupported(self, what: str, pos: int) -> None:
        self.unsupported.append((what, pos))

    def _char_escape(self, j: int, in_class: bool) -> tuple[int, int]:
        """A CharacterEscape starting at s[j] (the char after the backslash): (code point, next)."""
        s, e = self.s, self.s[j]
        if e in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[e], j + 1
        if e == "0":
            if j + 1 < self.n and s[j + 1] in _DIGITS:
                self._unsupported("legacy octal escape", j - 1)
                k = j + 1
                while k < self.n and k < j + 3 and s[k] in "01234567":
                    k += 1
                return 0, max(k, j + 2)
            return 0, j + 1
        if e in _DIGITS:
            # in a class \1..\9 are legacy octal escapes; outside one, backreferences
            what = "legacy octal escape" if in_class else "backreference"
            self._unsupported(what, j - 1)
            k = j
            while k < self.n and s[k] in _DIGITS:
                k += 1
            return ord(e), k
        if e == "x":
            v = self._hex(j + 1, 2)
            if v is not None:
                return v, j + 3
            self._python_issue("\\x without two hex digits", j - 1)
            return ord("x"), j + 1
        if e == "u":
            v = self._hex(j + 1, 4)
            if v is not None:
                if 0xD800 <= v <= 0xDFFF:
                    self._unsupported("surrogate \\u escape", j - 1)
                return v, j + 5
            if j + 1 < self.n and s[j + 1] == "{":
                # with the u flag (JSON Schema 2020-12's advice) a code point; without, "u{n}"
                self._unsupported("\\u{...} (its meaning depends on the u flag)", j - 1)
            self._python_issue("\\u without four hex digits", j - 1)
            return ord("u"), j + 1
        if e in ("p", "P"):
            # with the u flag a Unicode property class; without, the letter itself
            self._unsupported(f"\\{e} (its meaning depends on the u flag)", j - 1)
            return ord(e), j + 1
        if e in _ASCII_LETTERS:
            # ECMA (Annex B) reads an unknown letter escape as the letter itself; Python
            # rejects it or gives it another meaning (\a \A \Z \N \U \g ...).
            self._python_issue(f"escape \\{e}", j - 1)
            return ord(e), j + 1
        return ord(e), j + 1

    # -- character classes ---------------------------------------------------------------
    def _class_atom(self, j: int) -> tuple[int | str, int]:
        s = self.s
        if s[j] != "\\":
            return ord(s[j]), j + 1
        if j + 1 >= self.n:
            raise RegexSyntaxError("\\ at end of pattern", j)
        e = s[j + 1]
        if e == "b":
            return 0x08, j + 2
        if e == "-":
            return ord("-"), j + 2
        if e in _CLASS_ESCAPES:
            self.sensitive = True
            return e, j + 2
        if e == "c":
            if j + 2 < self.n and s[j + 2] in _CONTROL_LETTERS:
                self._python_issue("control escape \\c", j)
                return ord(s[j + 2]) % 32, j + 3
            self._python_issue("\\c without a control letter", j)
            return ord("\\"), j + 1
        return self._char_escape(j + 1, in_class=True)

    def _parse_class(self, i: int) -> tuple[Chars, int]:
        s = self.s
        j = i + 1
        negated = j < self.n and s[j] == "^"
        if negated:
            j += 1
        if j < self.n and s[j] == "]":
            self._python_issue("[] or [^] (Python reads a leading ] as a literal)", i)
        items: list[tuple[int, int] | str] = []
        while True:
            if j >= self.n:
                raise RegexSyntaxError("missing ] for character class", i)
            if s[j] == "]":
                j += 1
                break
            a, j = self._class_atom(j)
            if j + 1 < self.n and s[j] == "-" and s[j + 1] != "]":
                b, k = self._class_atom(j + 1)
                if isinstance(a, str) or isinstance(b, str):
                    # Annex B: a range with a class escape end is the union with "-"
                    self._python_issue("class escape as a range end", j)
                    items.extend(x if isinstance(x, str) else (x, x) for x in (a, ord("-"), b))
                else:
                    if a > b:
                        raise RegexSyntaxError("range out of order in character class", j)
                    items.append((a, b))
                j = k
            else:
                items.append(a if isinstance(a, str) else (a, a))
        return Chars(tuple(items), negated), j

    # -- quantifiers ---------------------------------------------------------------------
    def _braced(self, i: int) -> tuple[int, int | None, int] | None:
        """A valid ECMA `{n}`, `{n,}` or `{n,m}` at s[i] == "{": (lo, hi, next), else None."""
        s, n = self.s, self.n
        j = i + 1
        k = j
        while k < n and s[k] in _DIGITS:
            k += 1
        lo_txt = s[j:k]
        hi: int | None
        if k < n and s[k] == ",":
            m = k + 1
            while m < n and s[m] in _DIGITS:
                m += 1
            hi_txt = s[k + 1 : m]
            end = m
            if not lo_txt:
                if end < n and s[end] == "}":
                    self._python_issue("{,n} (a quantifier in Python, literal text in ECMA)", i)
                return None
            hi = _count(hi_txt) if hi_txt else None
        else:
            end = k
            if not lo_txt:
                return None
            hi = _count(lo_txt)
        if end >= n or s[end] != "}":
            return None
        lo = _count(lo_txt)
        hi_digits = s[k + 1 : end] if k < n and s[k] == "," else lo_txt
        if hi_digits and _as_number(hi_digits) < _as_number(lo_txt):
            raise RegexSyntaxError("numbers out of order in {} quantifier", i)
        return lo, hi, end + 1

    # -- groups --------------------------------------------------------------------------
    def _group_name(self, j: int, close: str) -> tuple[str, int]:
        s = self.s
        k = j
        while k < self.n and s[k] != close:
            k += 1
        if k >= self.n:
            raise RegexSyntaxError("invalid group name", j)
        name = s[j:k]
        if "\\" in name:
            self._unsupported("escape in a group name", j)
        elif not _is_identifier(name):
            raise RegexSyntaxError(f"invalid group name {name!r}", j)
        return name, k + 1

    def _open_group(self, i: int) -> tuple[_Frame, int]:
        s = self.s
        if i + 1 < self.n and s[i + 1] == "?":
            t = s[i + 2 : i + 4]
            if t[:1] == ":":
                return _Frame("group", i), i + 3
            if t[:1] in ("=", "!"):
                if self.look_depth:
                    self._unsupported("lookaround inside a lookaround", i)
                self.look_depth += 1
                return _Frame("lookahead" if t[:1] == "=" else "neglookahead", i), i + 3
            if t in ("<=", "<!"):
                if self.look_depth:
                    self._unsupported("lookaround inside a lookaround", i)
                self.look_depth += 1
                return _Frame("lookbehind" if t == "<=" else "neglookbehind", i), i + 4
            if t[:1] == "<":
                name, j = self._group_name(i + 3, ">")
                if name in self.group_names:
                    raise RegexSyntaxError(f"duplicate group name {name!r}", i)
                self.group_names.add(name)
                self.saw_named_group = True
                self._python_issue("named group (?<name>...)", i)
                return _Frame("group", i), j
            raise RegexSyntaxError("invalid group", i)
        return _Frame("group", i), i + 1

    # -- the main loop -------------------------------------------------------------------
    def parse(self) -> Parsed:
        s, n = self.s, self.n
        stack = [_Frame("root", 0)]
        max_depth = 0
        i = 0
        while i < n:
            c = s[i]
            f = stack[-1]
            if c == "|":
                f.alts.append(f.seq)
                f.seq = []
                f.last_quantifiable = False
                i += 1
            elif c == "(":
                frame, i = self._open_group(i)
                stack.append(frame)
                max_depth = max(max_depth, len(stack) - 1)
            elif c == ")":
                if len(stack) == 1:
                    raise RegexSyntaxError("unmatched )", i)
                stack.pop()
                f.alts.append(f.seq)
                node: Node = _make_alt(f.alts)
                if f.kind in ("lookahead", "neglookahead"):
                    node = Look(node, f.kind == "neglookahead")
                    self.look_depth -= 1
                elif f.kind in ("lookbehind", "neglookbehind"):
                    node = Look(node, f.kind == "neglookbehind", behind=True)
                    self.look_depth -= 1
                    if self.eol_in_behind:
                        self._unsupported("$ inside a lookbehind", f.pos)
                    self.eol_in_behind = False
                parent = stack[-1]
                parent.seq.append(node)
                # Annex B: lookaheads may be quantified, lookbehinds may not
                parent.last_quantifiable = f.kind not in ("lookbehind", "neglookbehind")
                i += 1
            elif c in _QUANT_START or (c == "{" and self._braced(i) is not None):
                if c == "{":
                    q = self._braced(i)
                    assert q is not None
                    lo, hi, j = q
                else:
                    lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
                    j = i + 1
                if not f.last_quantifiable:
                    raise RegexSyntaxError("nothing to repeat", i)
                if j < n and s[j] == "?":
                    j += 1
                if isinstance(f.seq[-1], Look):
                    self._python_issue("a quantified lookahead", i)
                f.seq[-1] = Repeat(f.seq[-1], lo, hi)
                f.last_quantifiable = False
                i = j
            elif c == "^" or c == "$":
                if c == "$":
                    self.sensitive = True
                    if any(fr.kind in ("lookbehind", "neglookbehind") for fr in stack):
                        self.eol_in_behind = True
                f.seq.append(Assert(BOL if c == "^" else EOL))
                f.last_quantifiable = False
                i += 1
            elif c == "\\":
                i = self._escape(i, f)
            elif c == "[":
                chars, i = self._parse_class(i)
                if any(isinstance(it, str) for it in chars.items):
                    self.sensitive = True
                f.seq.append(chars)
                f.last_quantifiable = True
            elif c == ".":
                self.sensitive = True
                f.seq.append(Chars((".",)))
                f.last_quantifiable = True
                i += 1
            else:
                cp = ord(c)
                f.seq.append(Chars(((cp, cp),)))
                f.last_quantifiable = True
                i += 1
        if len(stack) > 1:
            raise RegexSyntaxError("missing )", stack[-1].pos)
        root = stack[0]
        root.alts.append(root.seq)
        for name, pos in self.referenced_names:
            if name not in self.group_names:
                raise RegexSyntaxError(f"reference to an undefined group name {name!r}", pos)
        return Parsed(
            node=_make_alt(root.alts),
            unsupported=self.unsupported,
            python_issues=self.python_issues,
            flavor_sensitive=self.sensitive,
            max_depth=max_depth,
        )

    def _escape(self, i: int, f: _Frame) -> int:
        s = self.s
        j = i + 1
        if j >= self.n:
            raise RegexSyntaxError("\\ at end of pattern", i)
        e = s[j]
        if e in ("b", "B"):
            self.sensitive = True
            f.seq.append(Assert(WB if e == "b" else NWB))
            f.last_quantifiable = False
            return j + 1
        if e in _CLASS_ESCAPES:
            self.sensitive = True
            f.seq.append(Chars((e,)))
            f.last_quantifiable = True
            return j + 1
        if e == "c":
            if j + 1 < self.n and s[j + 1] in _ASCII_LETTERS:
                self._python_issue("control escape \\c", i)
                cp, nxt = ord(s[j + 1]) % 32, j + 2
            else:
                # Annex B: the backslash is a literal; "c" is then read on its own
                self._python_issue("\\c without a control letter", i)
                cp, nxt = ord("\\"), j
        elif e == "k" and self.named_groups:
            if j + 1 >= self.n or s[j + 1] != "<":
                raise RegexSyntaxError("invalid named reference", i)
            name, nxt = self._group_name(j + 2, ">")
            self.referenced_names.append((name, i))
            self._unsupported("backreference", i)
            f.seq.append(Unmodelled("backreference"))
            f.last_quantifiable = True
            return nxt
        else:
            cp, nxt = self._char_escape(j, in_class=False)
        f.seq.append(Chars(((cp, cp),)))
        f.last_quantifiable = True
        return nxt


def _as_number(digits: str) -> tuple[int, str]:
    # orders decimal digit strings of any length without converting them
    d = digits.lstrip("0")
    return len(d), d


def _count(txt: str) -> int:
    # Very long digit strings are over any budget: avoid converting them.
    return HUGE_COUNT if len(txt) > 9 else min(int(txt), HUGE_COUNT)


def _is_identifier(name: str) -> bool:
    if not name:
        return False
    return (name[0] == "$" or name[0].isidentifier()) and all(
        ch == "$" or ("a" + ch).isidentifier() or ch in "\u200c\u200d" for ch in name[1:]
    )


def parse(pattern: str) -> Parsed:
    """Parse an ECMA-262 pattern; raises `RegexSyntaxError` for invalid syntax."""
    p = _Parser(pattern, named_groups=False)
    result = p.parse()
    if p.saw_named_group:
        # `\k` means a named backreference only in patterns that have named groups
        result = _Parser(pattern, named_groups=True).parse()
    return result
