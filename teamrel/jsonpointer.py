"""JSON Pointer (RFC 6901): the one place reference tokens are escaped and unescaped.

Owns `escape_token`/`unescape_token` (`~` <-> `~0`, `/` <-> `~1`, in the order the RFC
requires), and `pointer` (a pointer from keys and indexes). Every
module that writes or reads a pointer (diagnostics, compat problems, plan diffs, manifest
errors) uses these, so a key holding `/` or `~` is located the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable


def escape_token(token: str) -> str:
    """Escape one reference token: `~` first, then `/` (RFC 6901 section 3)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    """Undo `escape_token`: `~1` first, then `~0` (RFC 6901 section 4)."""
    return token.replace("~1", "/").replace("~0", "~")


def pointer(path: Iterable[str | int]) -> str:
    """The pointer of a sequence of object keys and array indexes (`""` for the root)."""
    return "".join("/" + escape_token(str(t)) for t in path)
