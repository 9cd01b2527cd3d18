"""Renderers by name: one registry per result type, which is also its command's `--format`.

A command with several output formats builds one `Renderers` for its result and registers a
renderer per format name (check-jsonschema's `REPORTER_BY_NAME` is the model). The registry
supplies the command's `--format` choices and help text, parses the option (one message for
a wrong value, see `common.parse_choice`), and prints or returns the rendered result. A
renderer turns the result into the complete text of its format (what `--output FILE` holds);
one may add a styled form for the terminal (colour, rich markup), used only on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import typer
from rich.console import Console

from teamrel.cli.common import console, or_list, parse_format, write_stdout

R = TypeVar("R")


@dataclass(frozen=True)
class Renderer(Generic[R]):
    """One output format of a result: its complete text, and optionally a styled printing."""

    name: str
    text: Callable[[R], str]
    styled: Callable[[R, Console], None] | None = None


class Renderers(Generic[R]):
    """The renderers of one result type, by format name, in the order `--help` lists them."""

    def __init__(self, result: str) -> None:
        self.result = result
        self.by_name: dict[str, Renderer[R]] = {}

    def add(
        self,
        name: str,
        text: Callable[[R], str],
        *,
        styled: Callable[[R, Console], None] | None = None,
    ) -> None:
        """Register the renderer of format `name` (once)."""
        if name in self.by_name:
            raise ValueError(f"{self.result}: a renderer named {name!r} is registered already")
        self.by_name[name] = Renderer(name, text, styled)

    @property
    def names(self) -> tuple[str, ...]:
        """The format names: the command's `--format` choices."""
        return tuple(self.by_name)

    def help(self, note: str = "") -> str:
        """The `--format` help: `text, json or markdown` and `note`, as a sentence."""
        return f"{or_list(self.names)}{note}."

    def parse(self, ctx: typer.Context, override: str | None) -> str:
        """The output format of this invocation, checked against the registered names."""
        return parse_format(ctx, override, self.names)

    def text(self, name: str, result: R) -> str:
        """The complete text of `result` in format `name`."""
        return self.by_name[name].text(result)

    def emit(self, ctx: typer.Context, name: str, result: R) -> None:
        """Print `result` in format `name` on stdout (styled when the renderer can)."""
        renderer = self.by_name[name]
        if renderer.styled is not None:
            renderer.styled(result, console(ctx))
        else:
            write_stdout(renderer.text(result))
