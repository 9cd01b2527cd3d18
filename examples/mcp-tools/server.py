"""The orders team's MCP server: the tools the support agent calls.

Built with the official MCP Python SDK (`pip install 'teamrel[mcp]'` brings it). teamrel
never imports this file: `teamrel import mcp --command "python server.py"` starts it and
reads its `tools/list`, and `teamrel import mcp --check` does again in CI.
"""

from __future__ import annotations

from typing import Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

server = MCPServer("orders-mcp")


class Item(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


class Order(BaseModel):
    order_id: str
    status: Literal["open", "shipped", "delivered", "cancelled"]
    total_cents: int = Field(ge=0)
    currency: str = Field(pattern="^[A-Z]{3}$")
    items: list[Item]


class RefundQuote(BaseModel):
    order_id: str
    refundable_cents: int = Field(ge=0)


@server.tool(description="Look up an order by its id, optionally with its items.")
def lookup_order(order_id: str, include_items: bool = False) -> Order:
    return Order(order_id=order_id, status="open", total_cents=0, currency="EUR", items=[])


@server.tool(description="Quote how much of an order can still be refunded.")
def quote_refund(order_id: str) -> RefundQuote:
    return RefundQuote(order_id=order_id, refundable_cents=0)


if __name__ == "__main__":
    server.run("stdio")
