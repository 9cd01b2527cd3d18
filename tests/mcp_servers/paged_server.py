"""A real MCP server built with the SDK's low-level `Server`, listing its tools in pages.

`tools/list` returns `PAGE` tools per page with a `nextCursor` until all `COUNT` tools are
listed (tool `tool_NN` takes `{"n": integer}` and returns `{"n": integer, "tool": "NN"}`).

    python paged_server.py [COUNT] [PAGE]
"""

from __future__ import annotations

import sys

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 7
PAGE = int(sys.argv[2]) if len(sys.argv) > 2 else 3


def tool(i: int) -> types.Tool:
    return types.Tool(
        name=f"tool_{i:02d}",
        description=f"tool number {i}",
        input_schema={
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"],
        },
        output_schema={
            "type": "object",
            "properties": {"n": {"type": "integer"}, "tool": {"const": f"{i:02d}"}},
            "required": ["n", "tool"],
        },
    )


async def list_tools(
    ctx: object, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    start = int(params.cursor) if params is not None and params.cursor else 0
    end = min(start + PAGE, COUNT)
    return types.ListToolsResult(
        tools=[tool(i) for i in range(start, end)],
        next_cursor=str(end) if end < COUNT else None,
    )


server = Server("paged", on_list_tools=list_tools)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
