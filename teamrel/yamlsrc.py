"""YAML source reading: plain JSON-like data plus a line for every JSON pointer.

Owns how `teamrel.yaml` is parsed: with the safe (libyaml when available) composer, into
JSON-compatible values only (mappings with string keys, sequences, scalars), recording the
1-based line of every node by JSON pointer so diagnostics can name `teamrel.yaml:LINE`.

Hostile input is refused with located diagnostics, never a traceback: duplicate keys (reported,
the first occurrence wins so loading can go on and find more problems), non-scalar keys, tags
that are not plain JSON types, files over the size cap, and alias expansion beyond a budget
(the "billion laughs" bomb: anchors are fine, exponential expansion is not).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from teamrel.errors import Diagnostic, InputError

# re-exported for the modules that import them from here (workspace, contracts, sources)
from teamrel.jsonpointer import escape_token as escape_token
from teamrel.jsonpointer import unescape_token as unescape_token

#: Largest YAML file read (bytes).
MAX_YAML_BYTES = 32 * 1024 * 1024
#: Most nodes materialised through aliases (beyond the nodes written in the file).
MAX_ALIAS_NODES = 100_000
#: Deepest nesting accepted.
MAX_DEPTH = 200

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# First characters with which a plain scalar may resolve to something other than a string
# (the keys of the YAML 1.1 implicit resolvers: bool, int, float, null, merge, timestamp...).
_SPECIAL_FIRST = frozenset("-+.0123456789yYnNtTfFoO~<=")


_Loader: Any = _BaseLoader
_RESOLVER: Any = yaml.resolver.Resolver()

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MERGE = _TAG + "merge"
_SCALAR_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class YamlError(InputError):
    """A YAML file that cannot be read at all (syntax error, too big, bomb...)."""

    def __init__(self, message: str, diagnostics: list[Diagnostic]) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics


def pointer(*tokens: str | int) -> str:
    """The JSON pointer of a path of keys and indices (`pointer("a", 0)` is `/a/0`)."""
    return "".join("/" + escape_token(str(t)) for t in tokens)


@dataclass
class YamlDoc:
    """A parsed YAML document: `data`, line of each JSON pointer, and non-fatal problems."""

    file: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: sha256 (hex) of the file's bytes, when read from a file by `load_yaml`
    sha256: str | None = None

    def line_of(self, ptr: str) -> int | None:
        """The line of `ptr`, else of its nearest ancestor that has one."""
        while True:
            line = self.lines.get(ptr)
            if line is not None or not ptr:
                return line
            ptr = ptr.rsplit("/", 1)[0]


_MAP_TAG, _SEQ_TAG = _TAG + "map", _TAG + "seq"
_DISCARD = object()  # pending key of a value to build and drop (duplicate or invalid key)
_MERGE_KEY = object()  # pending key of a `<<` merge value


class _Frame:
    """An open mapping or sequence while its events stream in."""

    __slots__ = (
        "anchor",
        "container",
        "is_key",
        "keep",
        "line",
        "merges",
        "pending",
        "ptr",
        "size",
    )

    def __init__(self, container: Any, ptr: str, keep: bool, anchor: str | None, line: int):
        self.container = container
        self.ptr = ptr
        self.keep = keep  # False: built only to be dropped (no lines recorded)
        self.anchor = anchor
        self.line = line
        self.size = 1
        self.pending: Any = None  # mappings: the key waiting for its value
        self.merges: list[tuple[Any, int]] = []
        self.is_key = False


class _Builder:
    """Builds JSON-like data and the pointer -> line map from YAML events.

    Event-driven with an explicit stack: no recursion, so no nesting depth can overflow
    the C stack (libyaml's recursive composer crashes on very deep input).
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[str, int] = {}
        self.diagnostics: list[Diagnostic] = []
        self.alias_nodes = 0
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0

    def error(self, line: int, ptr: str | None, code: str, message: str) -> None:
        self.diagnostics.append(
            Diagnostic(code=code, message=message, file=self.file, line=line, pointer=ptr)
        )

    def fatal(self, line: int, ptr: str | None, message: str) -> YamlError:
        self.error(line, ptr, "yaml", message)
        where = f"{self.file}:{line}" if line else self.file
        return YamlError(f"{where}: {message}", self.diagnostics)

    def too_deep(self, line: int) -> YamlError:
        """The refusal of nesting deeper than `MAX_DEPTH`.

        It names the top-level entry the nesting is under (`/members`): the line says where
        it went too deep, and a pointer 200 levels long helps nobody.
        """
        ptr: str | None = None
        if len(self.stack) > 1:
            ptr = self.stack[1].ptr
        elif self.stack and isinstance(self.stack[0].pending, str):
            ptr = pointer(self.stack[0].pending)
        return self.fatal(line, ptr, f"nesting deeper than {MAX_DEPTH} levels")

    # -- where the next value goes ---------------------------------------------------

    def _slot(self, line: int) -> tuple[str, bool]:
        """(pointer, keep) of the value about to be built."""
        if not self.stack:
            return "", True
        top = self.stack[-1]
        if isinstance(top.container, list):
            ptr = f"{top.ptr}/{len(top.container)}"
            if top.keep:
                self.lines.setdefault(ptr, line)
            return ptr, top.keep
        key = top.pending
        if key is _DISCARD or key is _MERGE_KEY:
            return top.ptr, False
        return f"{top.ptr}/{escape_token(key)}", top.keep

    def _attach(self, value: Any, size: int, line: int) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.container, list):
            top.container.append(value)
        elif top.pending is _MERGE_KEY:
            top.merges.append((value, line))
            top.pending = None
        elif top.pending is _DISCARD:
            top.pending = None
        else:
            top.container[top.pending] = value
            top.pending = None

    def _expect_key(self) -> _Frame | None:
        """The mapping frame waiting for a key, if the next node is a key."""
        if self.stack:
            top = self.stack[-1]
            if isinstance(top.container, dict) and top.pending is None:
                return top
        return None

    def _key(self, frame: _Frame, key: str, line: int, merge: bool) -> None:
        if merge:
            frame.pending = _MERGE_KEY
            return
        ptr = f"{frame.ptr}/{escape_token(key)}"
        if key in frame.container:
            if frame.keep:
                self.error(
                    line,
                    ptr,
                    "duplicate-key",
                    f"duplicate key {key!r} (first defined on line {self.lines.get(ptr, '?')})",
                )
            frame.pending = _DISCARD
            return
        if frame.keep:
            self.lines.setdefault(ptr, line)
        frame.pending = key

    # -- events ------------------------------------------------------------------------

    def feed(self, ev: Any) -> None:
        line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
        if isinstance(ev, yaml.ScalarEvent):
            self.scalar(ev, line)
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            self.start(ev, line)
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            self.end(line)
        elif isinstance(ev, yaml.AliasEvent):
            self.alias(ev, line)
        elif isinstance(ev, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise self.fatal(line, None, "more than one YAML document in the file")

    def scalar(self, ev: Any, line: int) -> None:
        tag = ev.tag
        if tag is None or tag == "!":
            if ev.implicit[0] and ev.value and ev.value[0] not in _SPECIAL_FIRST:
                tag = _STR
            else:
                tag = _RESOLVER.resolve(yaml.ScalarNode, ev.value, ev.implicit)
        frame = self._expect_key()
        if frame is not None:
            self._key(frame, str(ev.value), line, tag == _MERGE)
            if ev.anchor:
                self.anchors[ev.anchor] = (str(ev.value), 1)
            return
        ptr, keep = self._slot(line)
        value: Any
        if tag == _STR:
            value = ev.value
        elif tag in (_INT, _FLOAT, _BOOL, _NULL):
            node = yaml.ScalarNode(tag, ev.value, ev.start_mark, ev.end_mark)
            value = _SCALAR_CONSTRUCTOR.yaml_constructors[tag](_SCALAR_CONSTRUCTOR, node)
            if isinstance(value, float) and not math.isfinite(value):
                if keep:
                    self.error(line, ptr, "yaml", "NaN and infinities are not JSON values")
                value = None
        elif tag == _TAG + "timestamp" and ev.implicit[0]:
            value = ev.value  # a date-looking plain scalar: keep its text
        else:
            # binary, sets, custom tags (!include, !!python/...): refused, nothing is run
            if keep:
                self.error(line, ptr, "yaml", f"unsupported YAML tag {tag!r}")
            value = None
        if ev.anchor:
            self.anchors[ev.anchor] = (value, 1)
        self._attach(value, 1, line)

    def start(self, ev: Any, line: int) -> None:
        is_map = isinstance(ev, yaml.MappingStartEvent)
        frame = self._expect_key()
        if frame is not None:
            # a collection used as a mapping key: built into a throwaway frame, then the
            # key and its value are dropped
            if frame.keep:
                self.error(line, frame.ptr, "yaml", "mapping keys must be plain strings")
            new = _Frame({} if is_map else [], frame.ptr, False, None, line)
            new.is_key = True
            self.stack.append(new)
        else:
            ptr, keep = self._slot(line)
            default = _MAP_TAG if is_map else _SEQ_TAG
            if ev.tag not in (None, "!", default) and keep:
                self.error(line, ptr, "yaml", f"unsupported YAML tag {ev.tag!r}")
            if keep and not self.stack:
                self.lines.setdefault(ptr, line)
            self.stack.append(_Frame({} if is_map else [], ptr, keep, ev.anchor, line))
            if ev.anchor:
                self.open_anchors.add(ev.anchor)
        if len(self.stack) > MAX_DEPTH:
            raise self.too_deep(line)

    def end(self, line: int) -> None:
        frame = self.stack.pop()
        value = frame.container
        if frame.is_key:
            self.stack[-1].pending = _DISCARD
            return
        for merged, mline in frame.merges:
            sources = merged if isinstance(merged, list) else [merged]
            for src in sources:
                if not isinstance(src, dict):
                    if frame.keep:
                        self.error(mline, frame.ptr, "yaml", "`<<` merge value must be a mapping")
                    continue
                for k, v in src.items():
                    value.setdefault(k, v)
        if frame.anchor:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (value, frame.size)
        self._attach(value, frame.size, frame.line)

    def alias(self, ev: Any, line: int) -> None:
        name = ev.anchor
        if name in self.open_anchors:
            raise self.fatal(
                line, None, f"recursive alias *{name}: JSON data cannot contain itself"
            )
        got = self.anchors.get(name)
        if got is None:
            raise self.fatal(line, None, f"undefined alias *{name}")
        value, size = got
        frame = self._expect_key()
        if frame is not None:
            if isinstance(value, str):
                self._key(frame, value, line, False)
            else:
                if frame.keep:
                    self.error(line, frame.ptr, "yaml", "mapping keys must be plain strings")
                frame.pending = _DISCARD
            return
        ptr, _keep = self._slot(line)
        self.alias_nodes += size
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self.fatal(line, ptr, f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes")
        self._attach(value, size, line)


def _is_depth_refusal(err: yaml.MarkedYAMLError) -> bool:
    """Whether the YAML library refused the text for its nesting depth (its own limit)."""
    return "nesting depth" in str(err.problem or "") or "nesting depth" in str(err.context or "")


def parse_yaml(text: str, file: str) -> YamlDoc:
    """Parse one YAML document from `text`; `file` names it in diagnostics.

    Raises `YamlError` when the text is not YAML at all (with the line of the problem), or
    is hostile (alias bomb, nesting deeper than `MAX_DEPTH`); duplicate keys and
    unsupported tags come back as `YamlDoc.diagnostics`.
    """
    builder = _Builder(file)
    loader = _Loader(text)
    try:
        while loader.check_event():
            builder.feed(loader.get_event())
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        if _is_depth_refusal(err):
            # libyaml (from PyYAML 6.0.4) refuses deep nesting in its scanner, which reads
            # ahead of the events the builder counts: the same refusal, in teamrel's words
            raise builder.too_deep(line or 0) from None
        msg = " ".join(str(p) for p in (err.context, err.problem) if p) or "invalid YAML"
        diag = Diagnostic(code="yaml", message=f"invalid YAML: {msg}", file=file, line=line)
        raise YamlError(f"{file}: invalid YAML: {msg}", [diag]) from None
    except yaml.reader.ReaderError as err:
        # a control character (NUL, ...): name the line and the character, not a position
        # in "<unicode string>"
        line = text.count("\n", 0, err.position) + 1
        what = f"U+{err.character:04X}" if isinstance(err.character, int) else repr(err.character)
        msg = f"invalid YAML: control character {what} is not allowed"
        diag = Diagnostic(code="yaml", message=msg, file=file, line=line)
        raise YamlError(f"{file}:{line}: {msg}", [diag]) from None
    except yaml.YAMLError as err:
        diag = Diagnostic(code="yaml", message=f"invalid YAML: {err}", file=file)
        raise YamlError(f"{file}: invalid YAML: {err}", [diag]) from None
    finally:
        loader.dispose()
    # Values are shared between an anchor and its aliases: copy nothing, the data is
    # read-only from here on (pydantic builds its own objects).
    return YamlDoc(
        file=file, data=builder.root, lines=builder.lines, diagnostics=builder.diagnostics
    )


def load_yaml(path: Path, file: str | None = None, *, max_bytes: int = MAX_YAML_BYTES) -> YamlDoc:
    """Read and parse a YAML file (UTF-8, at most `max_bytes`); see `parse_yaml`."""
    raw, text = _read(path, file or path.name, max_bytes)
    doc = parse_yaml(text, file or path.name)
    doc.sha256 = hashlib.sha256(raw).hexdigest()
    return doc


def read_yaml_text(path: Path, file: str | None = None, *, max_bytes: int = MAX_YAML_BYTES) -> str:
    """A YAML file's text (UTF-8, a BOM dropped, at most `max_bytes`), for a tool that edits
    it in place: unreadable, too large or not UTF-8 raise `YamlError` naming the file (and
    the line of the first bad byte), as `load_yaml` does."""
    return _read(path, file or path.name, max_bytes)[1]


def _read(path: Path, name: str, max_bytes: int) -> tuple[bytes, str]:
    try:
        with path.open("rb") as fh:
            raw = fh.read(max_bytes + 1)
    except OSError as err:
        msg = f"cannot read: {err.strerror or err}"
        raise YamlError(f"{name}: {msg}", [Diagnostic("io", msg, file=name)]) from None
    if len(raw) > max_bytes:
        msg = f"file larger than {max_bytes} bytes"
        raise YamlError(f"{name}: {msg}", [Diagnostic("too-large", msg, file=name)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        msg = f"not UTF-8 (byte {err.start}: {raw[err.start : err.end]!r})"
        diag = Diagnostic("encoding", msg, file=name, line=line)
        raise YamlError(f"{name}:{line}: {msg}", [diag]) from None
    return raw, text
