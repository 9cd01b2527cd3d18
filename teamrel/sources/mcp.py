"""Reading a live MCP server's tools: the `tools/list` of a stdio command or an HTTP endpoint.

Owns the one place teamrel talks to MCP servers, through the official `mcp` Python SDK (the
`teamrel[mcp]` extra, imported here at call time only): `list_tools(origin, timeout=...)`
starts the server (`origin.command`, split like a POSIX shell would, run in `cwd` with the
caller's environment) or connects to it (`origin.url`, streamable HTTP), negotiates the
protocol, follows `tools/list`'s `nextCursor` pages and returns every tool's name and
schemas. `teamrel import mcp` and `teamrel drift` both call it.

Every failure (the command does not start or exits, no answer within the timeout, nobody
listens at the URL, something that is not an MCP server, a malformed `tools/list`, a
pagination that never ends) raises `McpSourceError` naming the server; the SDK's own
exceptions never escape. The server's stderr is captured, never shown, and its last lines
are quoted in the error when it fails.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teamrel.errors import InputError, MissingExtraError
from teamrel.extras import require
from teamrel.models import McpOrigin

#: Seconds `list_tools` waits by default for the whole exchange (start, handshake, pages).
DEFAULT_TIMEOUT_S = 30.0
#: Most `tools/list` pages followed (a server whose cursor never ends is refused).
MAX_PAGES = 1000
#: Most tools accepted from one server.
MAX_TOOLS = 10_000
#: Lines of the server's stderr quoted in an error.
STDERR_TAIL_LINES = 5


class McpSourceError(InputError):
    """A live MCP server could not be read; the message names the server (exit 3)."""

    def __init__(self, server: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"MCP server {server}: {message}", hint=hint)
        #: how the server was named: `command "..."` or `url ...`
        self.server = server


@dataclass(frozen=True)
class LiveTool:
    """One tool as a live server lists it: its name and JSON Schemas (as sent)."""

    name: str
    input_schema: dict[str, Any]
    #: None when the server declares no `outputSchema` (unstructured results)
    output_schema: dict[str, Any] | None = None
    description: str | None = None


def describe(origin: McpOrigin) -> str:
    """How errors and reports name the server: `command "python srv.py"` or `url http://...`."""
    if origin.command is not None:
        return f"command {origin.command!r}"
    return f"url {origin.url}"


def list_tools(
    origin: McpOrigin, *, timeout: float = DEFAULT_TIMEOUT_S, cwd: Path | None = None
) -> list[LiveTool]:
    """Every tool the MCP server of `origin` lists (all `tools/list` pages), in its order.

    `origin.tool` is not used: the whole listing is returned. `timeout` bounds the whole
    exchange in seconds; `cwd` is where a stdio command runs (the workspace root, so a
    relative path in the command means the same from anywhere). Raises `McpSourceError`
    naming the server on any failure, `MissingExtraError` without the `mcp` extra.
    """
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError("timeout must be a positive number of seconds")
    server = describe(origin)
    require("mcp", "mcp")
    anyio = require("anyio", "mcp")
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errlog,
        _sdk_log() as sdk_log,
    ):
        try:
            result: list[LiveTool] = anyio.run(_list_all, origin, timeout, cwd, errlog)
        except McpSourceError:
            raise
        except MissingExtraError:
            raise
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            reported = f"; the MCP SDK reported: {_one_line(sdk_log[-1], 200)}" if sdk_log else ""
            raise McpSourceError(
                server,
                _explain(exc, timeout) + reported + _stderr_tail(errlog),
                hint=_hint(origin),
            ) from None
    return result


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.into.append(record.getMessage())


@contextlib.contextmanager
def _sdk_log() -> Iterator[list[str]]:
    """The SDK's warnings and errors, collected instead of printed (the library never
    prints: Python's last-resort handler would write them, tracebacks included, to stderr)."""
    messages: list[str] = []
    logger = logging.getLogger("mcp")
    handler = _Collect(messages)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


async def _list_all(
    origin: McpOrigin, timeout: float, cwd: Path | None, errlog: Any
) -> list[LiveTool]:
    import anyio
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.client.streamable_http import streamable_http_client

    server = describe(origin)
    transport: Any
    if origin.command is not None:
        try:
            argv = shlex.split(origin.command)
        except ValueError as err:
            raise McpSourceError(server, f"the command does not parse: {err}") from None
        if not argv:
            raise McpSourceError(server, "the command is empty")
        params = StdioServerParameters(
            command=argv[0],
            args=argv[1:],
            # the command runs as from the user's shell: its own environment, not the SDK's
            # short list of inherited variables (servers read their keys and paths from it)
            env=dict(os.environ),
            cwd=str(cwd) if cwd is not None else None,
        )
        transport = stdio_client(params, errlog=errlog)
    else:
        assert origin.url is not None
        transport = streamable_http_client(origin.url)

    tools: list[LiveTool] = []
    seen_cursors: set[str] = set()
    with anyio.fail_after(timeout):
        # cache=None: every listing comes from the server, never from a response cache
        async with Client(transport, cache=None, read_timeout_seconds=timeout) as client:
            cursor: str | None = None
            for _ in range(MAX_PAGES):
                page = await client.list_tools(cursor=cursor)
                for tool in page.tools:
                    tools.append(_live_tool(server, tool))
                    if len(tools) > MAX_TOOLS:
                        raise McpSourceError(server, f"lists more than {MAX_TOOLS} tools")
                cursor = page.next_cursor
                if cursor is None:
                    break
                if cursor in seen_cursors:
                    raise McpSourceError(
                        server, f"tools/list returned the cursor {cursor!r} twice (a loop)"
                    )
                seen_cursors.add(cursor)
            else:
                raise McpSourceError(server, f"tools/list did not end within {MAX_PAGES} pages")
    names = [t.name for t in tools]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise McpSourceError(server, f"tools/list names a tool twice: {', '.join(dupes)}")
    return tools


def _live_tool(server: str, tool: Any) -> LiveTool:
    name = tool.name
    if not isinstance(tool.input_schema, dict):
        raise McpSourceError(server, f"tool {name!r}: inputSchema is not a JSON object")
    if tool.output_schema is not None and not isinstance(tool.output_schema, dict):
        raise McpSourceError(server, f"tool {name!r}: outputSchema is not a JSON object")
    return LiveTool(
        name=name,
        input_schema=tool.input_schema,
        output_schema=tool.output_schema,
        description=tool.description,
    )


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or `exc` itself."""
    if isinstance(exc, BaseExceptionGroup):
        out: list[BaseException] = []
        for sub in exc.exceptions:
            out.extend(_leaves(sub))
        return out
    return [exc]


def _explain(exc: BaseException, timeout: float) -> str:
    """One sentence for a failure of the SDK, the transport or the server."""
    leaves = _leaves(exc)
    # our own refusal raised inside the SDK's task groups comes back wrapped
    for leaf in leaves:
        if isinstance(leaf, McpSourceError):
            return leaf.message.split(": ", 1)[1] if ": " in leaf.message else leaf.message
    for leaf in leaves:
        if isinstance(leaf, TimeoutError):
            return f"no complete answer within {timeout:g} s"
    return _start_failure(leaves) or _protocol_failure(leaves) or _transport_failure(leaves[0])


def _start_failure(leaves: list[BaseException]) -> str | None:
    """The sentence for a command that does not start, if that is what happened."""
    for leaf in leaves:
        if isinstance(leaf, FileNotFoundError):
            return f"the command does not start: {leaf.strerror or 'not found'}: {leaf.filename}"
        if isinstance(leaf, PermissionError):
            return f"the command does not start: {leaf.strerror or 'permission denied'}"
    return None


def _protocol_failure(leaves: list[BaseException]) -> str | None:
    """The sentence for a server that answered but not as MCP asks, if that is what happened."""
    from mcp.shared.exceptions import MCPError
    from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT
    from pydantic import ValidationError

    for leaf in leaves:
        if isinstance(leaf, ValidationError):
            where = ".".join(str(p) for p in leaf.errors()[0]["loc"]) if leaf.errors() else ""
            return "answered with a malformed message (not a valid MCP tools/list result" + (
                f"; at {where})" if where else ")"
            )
        if isinstance(leaf, MCPError) and leaf.code in (CONNECTION_CLOSED, REQUEST_TIMEOUT):
            return "closed the connection before answering (did it exit? is it an MCP server?)"
        if isinstance(leaf, MCPError):
            return f"answered with an MCP error {leaf.code}: {_one_line(leaf.message)}"
    return None


def _transport_failure(leaf: BaseException) -> str:
    """The sentence for any other failure, from the exception's type and text."""
    name = type(leaf).__name__
    text = _one_line(str(leaf))
    if name in ("EndOfStream", "ClosedResourceError", "BrokenResourceError", "BrokenPipeError"):
        return "closed the connection before answering (did it exit, or is it not an MCP server?)"
    if "Connect" in name or isinstance(leaf, ConnectionError):
        return f"cannot connect ({name}{': ' + text if text else ''})"
    return f"failed ({name}{': ' + text if text else ''})"


def _hint(origin: McpOrigin) -> str:
    if origin.command is not None:
        return "check that the command starts an MCP server on stdio (run it by hand)"
    return "check that an MCP server answers streamable HTTP at this URL (e.g. .../mcp)"


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _stderr_tail(errlog: Any) -> str:
    try:
        errlog.flush()
        errlog.seek(0)
        text = errlog.read()
    except (OSError, ValueError):
        return ""
    lines = [_one_line(line, 200) for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    return "; its stderr ends: " + " | ".join(lines[-STDERR_TAIL_LINES:])
