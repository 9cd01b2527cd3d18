"""The live origin readers of `teamrel drift`: MCP servers and A2A agent cards.

Owns the two readers `teamrel.origins` dispatches `mcp` and `a2a` origins to, and their
registration. Each turns what the import integration reads (an MCP server's `tools/list`,
an AgentCard with the teamrel skill-schemas extension) into the member's current interface,
schema slot -> `SchemaDoc`, in the shapes drift proves against the pinned schemas. The
integrations' modules (and through them their SDKs) are imported only when a reader runs,
so a workspace with no such origin never loads them (`install()` registers them;
`teamrel.meet.drift` calls it); without the extra the reader raises
`MissingExtraError` naming the `pip install` (exit 3).
"""

from __future__ import annotations

from pathlib import Path

from teamrel.canonical import JSON
from teamrel.contracts import SchemaLoader
from teamrel.errors import InputError
from teamrel.models import OriginSpec, SchemaDoc
from teamrel.origins import register_origin_reader

#: How long one origin may take to answer (a scheduled CI job, not an incident).
TIMEOUT_S = 30.0


def _doc(root: Path, schema: JSON, where: str, what: str) -> SchemaDoc:
    loaded, problems = SchemaLoader(root).inline(schema, where, file=what, pointer="")
    if loaded is None:
        raise InputError(f"{what}: {problems[0].message}")
    return loaded


def read_mcp_origin(root: Path, kind: str, origin: OriginSpec) -> dict[str, SchemaDoc]:
    """The tool's `inputSchema` / `outputSchema` as its MCP server lists them now."""
    from teamrel.sources.mcp import describe, list_tools

    spec = origin.mcp
    assert spec is not None, "read_origin dispatches only mcp origins here"
    server = describe(spec)
    if kind != "tool":
        raise InputError(f"an mcp origin describes a tool, not an {kind} (MCP server {server})")
    found = [t for t in list_tools(spec, timeout=TIMEOUT_S, cwd=root) if t.name == spec.tool]
    if not found:
        raise InputError(f"MCP server {server} no longer lists the tool {spec.tool!r}")
    tool = found[0]
    out = {
        "input_schema": _doc(
            root, tool.input_schema, f"mcp:{spec.tool}:input", f"MCP {server} {spec.tool}"
        )
    }
    if tool.output_schema is not None:
        out["output_schema"] = _doc(
            root, tool.output_schema, f"mcp:{spec.tool}:output", f"MCP {server} {spec.tool}"
        )
    return out


def read_a2a_origin(root: Path, kind: str, origin: OriginSpec) -> dict[str, SchemaDoc]:
    """The agent's input / output as its AgentCard's teamrel extension declares them now: the
    skill the origin names, else every skill (several: an `anyOf` of them, as the import
    writes it). A side some selected skill declares no schema for is left out (nothing to
    prove), as is an agent card without the extension."""
    from teamrel.sources.a2a import read_card, with_dialect

    spec = origin.a2a
    assert spec is not None, "read_origin dispatches only a2a origins here"
    card = read_card(spec, root, timeout=TIMEOUT_S)
    if kind != "agent":
        raise InputError(f"an a2a origin describes an agent, not a {kind} (card {card.source})")
    skills = list(card.skills)
    if spec.skill is not None:
        skills = [s for s in skills if s.id == spec.skill]
        if not skills:
            raise InputError(f"card {card.source} no longer lists the skill {spec.skill!r}")
    out: dict[str, SchemaDoc] = {}
    for side, key in (("input", "input_schema"), ("output", "output_schema")):
        schemas = [getattr(s, key) for s in skills]
        if not schemas or any(x is None for x in schemas):
            continue
        where = f"a2a:{card.name}:{side}"
        what = f"card {card.source}"
        pairs = zip(skills, schemas, strict=True)
        docs = [_doc(root, with_dialect(x), f"{where}:{s.id}", what) for s, x in pairs]
        if len(docs) == 1:
            out[side] = docs[0]
            continue
        # several skills: each keeps its own document (its local `#` references stay valid)
        resources: dict[str, JSON] = {d.uri: d.schema_ for d in docs}
        union: JSON = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "anyOf": [{"$ref": d.uri} for d in docs],
        }
        out[side] = SchemaDoc.model_validate(
            {"uri": f"urn:teamrel:inline:{where}", "schema": union, "resources": resources}
        )
    return out


def install() -> None:
    """Register the `mcp` and `a2a` readers with `teamrel.origins` (idempotent)."""
    register_origin_reader("mcp", read_mcp_origin)
    register_origin_reader("a2a", read_a2a_origin)
