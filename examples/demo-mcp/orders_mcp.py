"""The demo's `orders` tool as its own team serves it: an MCP server (the official SDK).

The demo workspace pins this tool's interface in contracts/tools/orders_input.json and
orders_output.json (written against contracts/common.json). This server publishes the same
interface the way an MCP server does, self-contained, in its `tools/list`; teamrel compares
the two without importing this file:

    teamrel import mcp --command "python examples/demo-mcp/orders_mcp.py" --check

(`pip install 'teamrel[mcp]'` brings the SDK.) See the README's "The workspace at a glance".
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

ORDER_ID = {"type": "string", "pattern": "^ORD-[0-9]{10}$"}
CUSTOMER_ID = {"type": "string", "pattern": "^CUS-[0-9]{6}$"}

INPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["order_id"],
    "properties": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "include_items": {"type": "boolean", "default": False},
        "include_refunds": {"type": "boolean", "default": False},
    },
}

ITEM = {
    "type": "object",
    "additionalProperties": False,
    "required": ["sku", "name", "quantity", "unit_price_cents"],
    "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
        "name": {"type": "string", "maxLength": 200},
        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
        "unit_price_cents": {"type": "integer", "minimum": 0},
    },
}

ORDER = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "order_id",
        "customer_id",
        "status",
        "placed_at",
        "currency",
        "total_cents",
        "items",
    ],
    "properties": {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER_ID,
        "status": {
            "enum": [
                "pending",
                "paid",
                "shipped",
                "delivered",
                "cancelled",
                "refunded",
                "partially_refunded",
            ]
        },
        "placed_at": {"type": "string", "format": "date-time", "maxLength": 40},
        "currency": {"enum": ["USD", "EUR", "GBP"]},
        "total_cents": {"type": "integer", "minimum": 0},
        "refunded_cents": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "maxItems": 500, "items": ITEM},
    },
}

OUTPUT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["found"],
    "properties": {"found": {"type": "boolean"}, "order": {"$ref": "#/$defs/Order"}},
    "$defs": {"Order": ORDER},
}


async def list_tools(
    ctx: Any, params: types.PaginatedRequestParams | None
) -> types.ListToolsResult:
    tool = types.Tool(
        name="orders",
        description="Look up an order with its items and refunds.",
        input_schema=INPUT,
        output_schema=OUTPUT,
    )
    return types.ListToolsResult(tools=[tool])


server = Server("orders-mcp", on_list_tools=list_tools)


async def main() -> None:
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


if __name__ == "__main__":
    anyio.run(main)
