"""Length and cyclomatic complexity of functions, from the AST (no third-party tool).

    python bench/complexity.py teamrel/cli/check.py teamrel/plan.py ...   # every function
    python bench/complexity.py --over 60 20 teamrel                        # the long or complex

Complexity is McCabe's, counted as radon does for the common cases: 1, plus one for each
`if`/`elif`, loop, `except`, conditional expression, comprehension `if`, `assert`, `match`
case, and each extra operand of `and`/`or`. Lines are the function's span in the file
(decorators excluded, docstring included). Nested functions are reported on their own and
not counted in their parent.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.IfExp, ast.Assert, ast.match_case)


def _complexity(fn: ast.AST) -> int:
    score = 1
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # measured on its own
        if isinstance(node, (*_BRANCHES, ast.ExceptHandler)):
            score += 1
        elif isinstance(node, ast.BoolOp):
            score += len(node.values) - 1
        elif isinstance(node, ast.comprehension):
            score += 1 + len(node.ifs)
        stack.extend(ast.iter_child_nodes(node))
    return score


def functions(path: Path) -> Iterator[tuple[str, int, int, int]]:
    """(qualified name, first line, lines, complexity) of every function in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                end = child.end_lineno or child.lineno
                yield name, child.lineno, end - child.lineno + 1, _complexity(child)
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--over", nargs=2, type=int, metavar=("LINES", "COMPLEXITY"))
    args = parser.parse_args(argv)
    files: list[Path] = []
    for p in args.paths:
        files.extend(sorted(p.rglob("*.py")) if p.is_dir() else [p])
    print("| function | lines | complexity |\n|---|---:|---:|")
    for f in files:
        for name, line, length, cc in functions(f):
            if args.over and length <= args.over[0] and cc <= args.over[1]:
                continue
            print(f"| `{f}:{line}` {name} | {length} | {cc} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
