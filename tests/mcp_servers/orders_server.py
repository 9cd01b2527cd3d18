"""A real MCP server built with the official SDK (`MCPServer`), for teamrel's MCP tests.

Serves an orders-lookup tool and a refund-quote tool. `--variant` changes the published
interface the way a server team's release might:

- `v1`: the reference interface;
- `narrowed`: `lookup_order` now requires `customer_id` (callers sending only `order_id`
  break);
- `dropped`: `lookup_order`'s result no longer has `total_cents` (consumers reading it break);
- `widened`: `lookup_order` accepts a numeric `order_id` too (nothing breaks);
- `renamed`: `quote_refund` is gone and `refund_quote` is new.

    python orders_server.py [--variant v1] [--http PORT]   # stdio unless --http

The variant may also come from the environment (`ORDERS_MCP_VARIANT`).
"""

from __future__ import annotations

import argparse
import os

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel


class Item(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    order_id: str
    status: str
    total_cents: int
    items: list[Item]


class OrderWithoutTotal(BaseModel):
    order_id: str
    status: str
    items: list[Item]


class RefundQuote(BaseModel):
    order_id: str
    refundable_cents: int


def build(variant: str) -> MCPServer:
    server = MCPServer("orders-mcp")

    if variant == "narrowed":

        @server.tool(description="Look up an order by id.")
        def lookup_order(order_id: str, customer_id: str, include_items: bool = False) -> Order:
            return Order(order_id=order_id, status="open", total_cents=0, items=[])

    elif variant == "dropped":

        @server.tool(description="Look up an order by id.")
        def lookup_order(order_id: str, include_items: bool = False) -> OrderWithoutTotal:  # type: ignore[misc]
            return OrderWithoutTotal(order_id=order_id, status="open", items=[])

    elif variant == "widened":

        @server.tool(description="Look up an order by id.")
        def lookup_order(order_id: str | int, include_items: bool = False) -> Order:  # type: ignore[misc]
            return Order(order_id=str(order_id), status="open", total_cents=0, items=[])

    else:

        @server.tool(description="Look up an order by id.")
        def lookup_order(order_id: str, include_items: bool = False) -> Order:  # type: ignore[misc]
            return Order(order_id=order_id, status="open", total_cents=0, items=[])

    if variant == "renamed":

        @server.tool(description="Quote the refundable amount of an order.")
        def refund_quote(order_id: str) -> RefundQuote:
            return RefundQuote(order_id=order_id, refundable_cents=0)

    else:

        @server.tool(description="Quote the refundable amount of an order.")
        def quote_refund(order_id: str) -> RefundQuote:
            return RefundQuote(order_id=order_id, refundable_cents=0)

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    # the environment too: the same command line (a member's recorded origin) can then
    # serve another release of the interface
    parser.add_argument("--variant", default=os.environ.get("ORDERS_MCP_VARIANT", "v1"))
    parser.add_argument("--http", type=int, default=None, metavar="PORT")
    args = parser.parse_args()
    server = build(args.variant)
    if args.http is None:
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=args.http)


if __name__ == "__main__":
    main()
