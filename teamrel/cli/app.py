"""The `teamrel` typer application: global options and the registry of command modules.

Each command lives in its own module under `teamrel/cli/` and registers itself on `app`
when imported; `COMMAND_MODULES` lists them, in the order `teamrel --help` shows them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from teamrel import __version__
from teamrel.cli.common import TEXT_JSON, GlobalOptions, parse_choice
from teamrel.cli.options import format_option
from teamrel.errors import ExitCode

app = typer.Typer(
    name="teamrel",
    help="Release manager for multi-agent AI teams: contracts, manifests, atomic rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"teamrel {__version__}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _global(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "-C",
            "--workspace",
            help="Workspace directory (default: nearest parent holding teamrel.yaml).",
            file_okay=False,
        ),
    ] = None,
    output_format: Annotated[str, format_option("Default output format: text or json.")] = "text",
    no_color: Annotated[bool, typer.Option("--no-color", help="Plain text output.")] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Only errors and the verdict.")
    ] = False,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="TEAMREL_DATABASE_URL",
            help="State store URL (default: sqlite at .teamrel/state.db in the workspace).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """teamrel: plan, check, release, promote and roll back an agent team."""
    parse_choice(ctx, "--format", output_format, TEXT_JSON)
    ctx.obj = GlobalOptions(
        workspace=workspace, format=output_format, color=not no_color, quiet=quiet, db=db
    )


#: Command modules, each registering its commands on `app` at import.
COMMAND_MODULES: tuple[str, ...] = (
    "init",
    "validate",
    "graph",
    "compat",
    "contracts",
    "imports",
    "import_mcp",
    "import_openai_agents",
    "a2a",
    "check",
    "plan",
    "release",
    "report",
    "evals",
    "rollout",
    "drift",
    "flags",
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"teamrel.cli.{_name}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="teamrel")
