"""A hand-written JSON-RPC "MCP server" on stdio that misbehaves on purpose.

It answers the handshake like a 2025-06-18 server, then answers `tools/list` according to
its one argument:

- `malformed`: `tools` is not a list;
- `traversal`: a tool named `../../escape` (a path, not a name);
- `loop`: every page points to the same `nextCursor`;
- `duplicate`: two tools with the same name;
- `remote-ref`: an inputSchema whose `$ref` points to another host;
- `not-a-schema`: an inputSchema whose `minProperties` is a string;
- `deep`: an inputSchema nested 3,000 levels deep (written as text: too deep to build).

    python hostile_server.py MODE
"""

from __future__ import annotations

import json
import sys

MODE = sys.argv[1] if len(sys.argv) > 1 else "malformed"
OBJECT = {"type": "object", "properties": {"q": {"type": "string"}}}


def tools_page(params: dict) -> dict:
    if MODE == "malformed":
        return {"tools": "not a list"}
    if MODE == "traversal":
        return {"tools": [{"name": "../../escape", "inputSchema": OBJECT}]}
    if MODE == "loop":
        return {"tools": [{"name": "t", "inputSchema": OBJECT}], "nextCursor": "same"}
    if MODE == "duplicate":
        return {"tools": [{"name": "t", "inputSchema": OBJECT}] * 2}
    if MODE == "remote-ref":
        schema = {"type": "object", "properties": {"q": {"$ref": "https://example.com/q.json"}}}
        return {"tools": [{"name": "t", "inputSchema": schema}]}
    if MODE == "not-a-schema":
        return {"tools": [{"name": "t", "inputSchema": {"type": "object", "minProperties": "x"}}]}
    raise SystemExit(f"unknown mode {MODE}")


def main() -> None:
    for line in sys.stdin:
        msg = json.loads(line)
        if "id" not in msg:
            continue  # a notification
        method = msg.get("method")
        if method == "initialize":
            result = {
                "protocolVersion": "2025-06-18",
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "hostile", "version": "0"},
            }
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": result}
        elif method == "tools/list" and MODE == "deep":
            depth = 3000
            schema = '{"type": "object", "properties": {"a": ' * depth + "{}" + "}}" * depth
            tools = '{"tools": [{"name": "t", "inputSchema": ' + schema + "}]}"
            head = '{"jsonrpc": "2.0", "id": ' + json.dumps(msg["id"]) + ', "result": '
            sys.stdout.write(head + tools + "}\n")
            sys.stdout.flush()
            continue
        elif method == "tools/list":
            reply = {"jsonrpc": "2.0", "id": msg["id"], "result": tools_page(msg.get("params"))}
        else:
            error = {"code": -32601, "message": f"method not found: {method}"}
            reply = {"jsonrpc": "2.0", "id": msg["id"], "error": error}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
