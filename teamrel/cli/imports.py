"""The `teamrel import` and `teamrel export` command groups.

Each integration (A2A cards, MCP servers, the OpenAI Agents SDK) adds its own subcommand to
these groups from its own module; this one only creates and registers the groups.
"""

from __future__ import annotations

import typer

from teamrel.cli.app import app

import_app = typer.Typer(
    help="Create or update members from the code and services a team already has.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
export_app = typer.Typer(
    help="Publish members in another ecosystem's format (A2A agent cards).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
