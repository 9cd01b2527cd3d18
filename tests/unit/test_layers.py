"""The architecture rules of docs/architecture.md, enforced on the source tree.

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
    "jsonpointer": 0,
    "extras": 1,
    "models": 1,
    "plandoc": 1,
    "profiles": 2,
    "scaffold": 1,
    "yamlsrc": 2,
    "yamledit": 3,
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
    "origins": 5,
    "rules": 6,
    "origin_readers": 6,
    "safety": 6,
    "store": 6,
    "resultcache": 6,
    "pinned": 7,
    "baserelease": 6,
    "semver": 7,
    "check": 7,
    "mcpimport": 7,
    "flagops": 8,
    "reporting": 8,
    "plan": 8,
    "markdown": 8,
    "htmlreport": 8,
    "release": 8,
    "rollout": 8,
    "meet": 8,
    "reportcache": 8,
    "checkrun": 9,
    "releaserun": 9,
    "moves": 9,
    "planrun": 9,
    "context": 10,
    "runtime": 9,
    "cli": 11,
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


# ----------------------------------------------------------------------------- modules
#
# The rules above see top-level modules and packages. These see modules: a package's inside
# is its own business (what other modules use is what its `__init__` exports), a private name
# (`_x`) is private to its package, and the CLI renders what `Context` returns instead of
# calling the operation modules itself.

#: Modules the CLI may import at run time besides `teamrel.cli`: the facade, the error tree,
#: and pure renderers/formatters of what the facade returns (type-only imports, under
#: `if TYPE_CHECKING:`, are free).
CLI_MAY_IMPORT: frozenset[str] = frozenset(
    {"context", "errors", "canonical", "progress", "reporting", "markdown", "htmlreport"}
)

#: (importing module, imported module) -> why the import is allowed anyway.
ALLOWED: dict[tuple[str, str], str] = {
    ("cli/check.py", "teamrel.flags"): (
        "label(): the one spelling of a flag state (`with `x` on`), shared with the check"
        " document's edge keys"
    ),
    ("cli/plan.py", "teamrel.flags"): (
        "label(): the one spelling of a flag state, as the check report and edge keys say it"
    ),
    ("cli/plan.py", "teamrel.check"): (
        "PlanCheck.of(): the check results a plan embeds read back as the check's types, which"
        " the text renderer reads (imported when a plan is rendered, never at start-up)"
    ),
    ("cli/evals.py", "teamrel.gates"): (
        "describe(): a gate's wording, the same in `eval show` and in the plan's eval section"
    ),
    **{
        ("context.py", f"teamrel.sources.{module}"): (
            "an optional integration: the facade imports it when its command runs, so the"
            " other commands (and `contracts sync`, which imports teamrel.sources) never load it"
        )
        for module in ("openai_agents", "a2a", "a2a_import")
    },
    **{
        ("origin_readers.py", f"teamrel.sources.{module}"): (
            "drift's live readers call the optional integrations, imported when a reader runs"
        )
        for module in ("mcp", "a2a")
    },
    ("cli/a2a.py", "teamrel.sources.a2a_import"): (
        "the type of the plan `import a2a` renders, under TYPE_CHECKING: the optional"
        " integration is not exported from teamrel.sources, and start-up never loads it"
    ),
    ("mcpimport.py", "teamrel.sources.mcp"): (
        "the MCP reader is an optional integration: exported from teamrel.sources it would be"
        " loaded by `contracts sync`; `import mcp` and drift load it when they run"
    ),
    ("runtime.py", "teamrel.store.watch"): (
        "the change feed has one user, the runtime; exported from teamrel.store it would be"
        " imported by every command that opens a store"
    ),
}


def _runtime_imports(tree: ast.Module) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every absolute teamrel import outside
    `if TYPE_CHECKING:` blocks."""
    found: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "teamrel":
                found.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "teamrel":
                    found.append((alias.name, [], node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _all_imports(tree: ast.Module) -> list[tuple[str, list[str], int]]:
    return [
        (node.module, [a.name for a in node.names], node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.level == 0
        and node.module.split(".")[0] == "teamrel"
    ]


def _allowed(path: Path, module: str) -> bool:
    rel = str(path.relative_to(PKG))
    return (rel, module) in ALLOWED


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_module_imports_packages_through_their_front(path: Path) -> None:
    """Outside a package, only what its `__init__` exports: not `teamrel.store.store`, nor
    any `_private` name of another package."""
    top = _top(path)
    if top in ("__init__", "__main__"):
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for module, names, line in _all_imports(tree):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] == top:
            continue
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, (
            f"{path}:{line}: imports {', '.join(private)} from {module}:"
            f" private to teamrel.{parts[1]}"
        )
        if len(parts) > 2 and (PKG / parts[1]).is_dir() and not _allowed(path, module):
            pytest.fail(
                f"{path}:{line}: imports from {module}, inside teamrel.{parts[1]}: import what"
                f" teamrel.{parts[1]} exports, or allow it in ALLOWED with a reason"
            )


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _top(p) == "cli"],
    ids=lambda p: str(p.relative_to(PKG)),
)
def test_cli_goes_through_context(path: Path) -> None:
    """A command renders what `Context` returns: no operation module called directly."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for module, _names, line in _runtime_imports(tree):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] in ("cli", "__version__") or module == "teamrel":
            continue
        if parts[1] in CLI_MAY_IMPORT or _allowed(path, module):
            continue
        pytest.fail(
            f"{path}:{line}: the CLI imports {module} at run time: go through teamrel.context"
            " (or allow it in ALLOWED with a reason)"
        )


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose import has gone is removed, so the list says what is true."""
    for rel, module in ALLOWED:
        tree = ast.parse((PKG / rel).read_text(encoding="utf-8"))
        assert any(m == module for m, _n, _l in _all_imports(tree)), (rel, module)
