"""Where an external member's interface is re-read from: the origin readers of `teamrel drift`.

Owns the small registry of origin readers (`origin:` of a member declared `external: true`:
`file`, `mcp`, `a2a`, see `teamrel.models.OriginSpec`) and the `file` reader. A reader takes
the workspace root, the member's kind and its origin (`parse_origin` of what the member's
resolved spec records), and returns the member's *current* interface: schema slot ->
`SchemaDoc` (tools: `input_schema`, `output_schema`; agents: `input`, `output`); a slot it
cannot say anything about is absent.

Readers plug in with `register_origin_reader(kind, reader)` (the MCP `tools/list` and A2A
card readers do); a kind with no reader yet gives `OriginUnavailable`, which drift reports
per member ("origin kind not available yet") rather than failing the run.

The `file` origin is a JSON file inside the workspace (paths escaping it, absolute paths and
URLs are refused) holding `{"input_schema": {...}, "output_schema": {...}}` for a tool or
`{"input": {...}, "output": {...}}` for an agent: inline JSON Schemas (local `#` references
only), checked against their dialect like any contract (docs/operations.md, "Drift").
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from teamrel.canonical import JSON
from teamrel.contracts import MAX_SCHEMA_BYTES, SchemaLoader
from teamrel.errors import InputError, TeamrelError
from teamrel.models import OriginSpec, SchemaDoc, error_text

#: The schema slots of each member kind, as a file origin names them.
SLOTS: dict[str, tuple[str, str]] = {
    "tool": ("input_schema", "output_schema"),
    "agent": ("input", "output"),
}

#: An origin reader: (workspace root, member kind, the origin) -> slot -> schema.
OriginReader = Callable[[Path, str, OriginSpec], dict[str, SchemaDoc]]


class OriginUnavailable(TeamrelError):
    """No reader is installed for this origin kind (yet): drift reports it per member."""


_READERS: dict[str, OriginReader] = {}


def register_origin_reader(kind: str, reader: OriginReader) -> None:
    """Install (or replace) the reader of origins of `kind` (`file`, `mcp`, `a2a`)."""
    _READERS[kind] = reader


def parse_origin(raw: JSON) -> OriginSpec:
    """The origin as a member's resolved spec records it (`origin:`), validated; `InputError`
    saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise InputError("an origin is a mapping naming one of 'file', 'mcp' or 'a2a'")
    try:
        return OriginSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        raise InputError(f"origin{'/' + where if where else ''}: {error_text(first)}") from None


def origin_kind(origin: OriginSpec) -> str:
    """Which kind an origin is: `file`, `mcp` or `a2a` (the one it names)."""
    if origin.file is not None:
        return "file"
    return "mcp" if origin.mcp is not None else "a2a"


def read_origin(root: Path, kind: str, origin: OriginSpec) -> dict[str, SchemaDoc]:
    """The member's current interface from its origin (see the module docstring).

    Raises `OriginUnavailable` when no reader handles the origin's kind, `InputError` when
    the origin cannot be read or holds no valid schemas."""
    which = origin_kind(origin)
    reader = _READERS.get(which)
    if reader is None:
        raise OriginUnavailable(
            f"origin kind {which!r} not available yet: this teamrel cannot re-read it",
            hint="use a `file` origin, or a teamrel with the importer of this kind",
        )
    return reader(root, kind, origin)


def read_file_origin(root: Path, kind: str, origin: OriginSpec) -> dict[str, SchemaDoc]:
    """The `file` reader: a JSON file in the workspace holding the member's current schemas."""
    raw = origin.file
    if not raw:
        raise InputError("a file origin names a workspace-relative JSON file")
    loader = SchemaLoader(root)
    rel = loader.path(raw, what="origin file")  # refuses URLs, absolute and escaping paths
    path = root / rel
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SCHEMA_BYTES + 1)
    except OSError as err:
        raise InputError(f"cannot read origin file {rel}: {err.strerror or err}") from None
    if len(data) > MAX_SCHEMA_BYTES:
        raise InputError(f"origin file {rel} is larger than {MAX_SCHEMA_BYTES} bytes")
    try:
        doc: JSON = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise InputError(f"origin file {rel} is not JSON: {err}") from None
    slots = SLOTS["tool" if kind == "tool" else "agent"]
    if not isinstance(doc, dict):
        raise InputError(f"origin file {rel}: expected an object with {' and/or '.join(slots)}")
    unknown = sorted(set(doc) - set(slots))
    if unknown:
        raise InputError(
            f"origin file {rel}: unknown key {unknown[0]!r} for a {kind} "
            f"(expected {' and/or '.join(slots)})"
        )
    out: dict[str, SchemaDoc] = {}
    for slot in slots:
        if slot not in doc:
            continue
        schema = doc[slot]
        if not isinstance(schema, (dict, bool)):
            raise InputError(f"origin file {rel}#/{slot}: expected a JSON Schema")
        schema_doc, problems = loader.inline(schema, f"origin:{slot}", file=rel, pointer=f"/{slot}")
        if schema_doc is None:
            raise InputError(f"origin file {rel}: {problems[0]}")
        out[slot] = schema_doc
    if not out:
        raise InputError(f"origin file {rel} holds none of {' or '.join(slots)}")
    return out


register_origin_reader("file", read_file_origin)
