"""The architecture rules of DEVELOPERS.md, enforced on the source tree.

Layers, lowest first; a module imports only from lower layers (or its own package).
networkx lives only in the graph module, sqlmodel/SQLAlchemy only in store/, typer/rich
only in cli/; nothing imports cli; the library never prints or calls sys.exit.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "teamrel"

#: module (dotted, relative to teamrel) -> layer number. Packages map every submodule.
LAYERS: dict[str, int] = {
    "errors": 0,
    "canonical": 0,
    "fileio": 0,
    "localstate": 0,
    "progress": 0,
    "extras": 1,
    "models": 1,
    "scaffold": 1,
    "yamlsrc": 2,
    "graph": 2,
    "contracts": 3,
    "evalstats": 0,
    "scorecard": 3,
    "gates": 7,
    "workspace": 4,
    "compat": 5,
    "sources": 5,
    "manifest": 5,
    "flags": 5,
    "memberdiff": 5,
    "rules": 6,
    "store": 6,
    "semver": 7,
    "check": 7,
    "flagops": 8,
    "reporting": 8,
    "plan": 8,
    "markdown": 8,
    "htmlreport": 8,
    "release": 8,
    "rollout": 8,
    "context": 9,
    "runtime": 9,
    "cli": 10,
}

ONLY_IN: dict[str, set[str]] = {
    "networkx": {"graph"},
    "sqlmodel": {"store"},
    "sqlalchemy": {"store"},
    "typer": {"cli"},
    "rich": {"cli"},
    "click": {"cli"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def _top(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.extend(
                (
                    f"{node.module}.{alias.name}" if node.module == "teamrel" else node.module,
                    node.lineno,
                )
                for alias in node.names
            )
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_module_respects_layers(path: Path) -> None:
    top = _top(path)
    if top in ("__init__", "__main__"):
        return  # the package root re-exports lazily; __main__ is the CLI entry
    assert top in LAYERS, f"teamrel/{top} has no layer: add it to LAYERS in {__file__}"
    mine = LAYERS[top]
    for name, line in _imports(path):
        root = name.split(".")[0]
        if root in ONLY_IN:
            assert top in ONLY_IN[root], (
                f"{path}:{line}: {root} may only be imported in {ONLY_IN[root]}"
            )
        if root != "teamrel":
            continue
        parts = name.split(".")
        if len(parts) < 2 or parts[1] in ("__version__",):
            continue
        target = parts[1]
        if target == top:
            continue
        assert target in LAYERS, f"{path}:{line}: imports unknown teamrel module {name}"
        assert LAYERS[target] < mine, (
            f"{path}:{line}: teamrel.{top} (layer {mine}) imports teamrel.{target} "
            f"(layer {LAYERS[target]}); a module imports only from lower layers"
        )


@pytest.mark.parametrize(
    "path", [p for p in _modules() if _top(p) != "cli"], ids=lambda p: str(p.relative_to(PKG))
)
def test_library_never_prints_or_exits(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("print", "exit", "quit"):
                pytest.fail(f"{path}:{node.lineno}: library code calls {func.id}()")
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "exit"
                and isinstance(func.value, ast.Name)
                and func.value.id == "sys"
            ):
                pytest.fail(f"{path}:{node.lineno}: library code calls sys.exit()")
