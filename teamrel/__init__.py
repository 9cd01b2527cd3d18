"""teamrel: a release manager for multi-agent AI teams.

The package's public surface: `__version__`, the compatibility engine (`teamrel.compat`),
the `Context` facade every command goes through, and `Runtime` for loading the pinned team.
Heavy submodules are imported lazily so `import teamrel` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Context", "Runtime", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Context":
        from teamrel.context import Context

        return Context
    if name == "Runtime":
        from teamrel.runtime import Runtime

        return Runtime
    raise AttributeError(f"module 'teamrel' has no attribute {name!r}")
