"""Optional integrations: importing an extra's library only when its command runs.

The MCP, OpenAI Agents SDK and A2A integrations live behind extras (`teamrel[mcp]`,
`teamrel[openai-agents]`, `teamrel[a2a]`) so the core install and the CLI's start-up stay as
they are. Their modules import the third-party library through `require`, at call time, and a
missing one becomes a `MissingExtraError` naming the `pip install` that brings it (exit 3).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from teamrel.errors import MissingExtraError

#: extra name -> what it is for, as the error message says it
EXTRAS: dict[str, str] = {
    "mcp": "MCP servers",
    "openai-agents": "the OpenAI Agents SDK",
    "a2a": "A2A agent cards",
}


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, or raise `MissingExtraError` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        # only the library itself being absent is "not installed"; a broken install of it
        # (one of *its* imports failing) is reported with the underlying reason
        missing = getattr(err, "name", None)
        what = EXTRAS.get(extra, extra)
        if missing is not None and module.split(".")[0] == missing.split(".")[0]:
            raise MissingExtraError(
                f"{what} need the optional dependency {module.split('.')[0]!r}, "
                "which is not installed",
                hint=f"pip install 'teamrel[{extra}]'",
            ) from None
        raise MissingExtraError(
            f"{what}: importing {module!r} failed: {err}",
            hint=f"reinstall it: pip install --force-reinstall 'teamrel[{extra}]'",
        ) from None
