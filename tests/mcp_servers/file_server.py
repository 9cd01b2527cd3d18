"""A real MCP server (the SDK's low-level `Server`) publishing one tool read from a JSON file.

    python file_server.py TOOL INTERFACE.json

`INTERFACE.json` holds `{"input_schema": ..., "output_schema": ...}` (a `file` origin's
shape), re-read on every `tools/list`: a test changes what the "deployed" server publishes by
editing the file, the way another team would release its tool.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

TOOL = sys.argv[1]
INTERFACE = Path(sys.argv[2])


async def list_tools(
    ctx: object, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    doc = json.loads(INTERFACE.read_text("utf-8"))
    return types.ListToolsResult(
        tools=[
            types.Tool(
                name=TOOL,
                description=f"{TOOL}, as published from {INTERFACE.name}",
                input_schema=doc["input_schema"],
                output_schema=doc.get("output_schema"),
            )
        ]
    )


server = Server("file-server", on_list_tools=list_tools)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
