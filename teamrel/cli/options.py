"""The options several commands share, declared once: `--format`, `--env`, `--reason`,
`--actor`, `--yes`, `--unknown`, `--format-assertion`, `--no-cache`, `--against`, `--base`,
`--member`, `--expect`, `--force`, `--timeout`, `--out`, `--python-path`, `--override-gates`.

An option whose declaration and help are the same everywhere is an `Annotated` alias
(`ReasonOpt`); one whose help says what it means to its command is a factory returning the
`typer.Option` to annotate with (`Annotated[str | None, env_option("Only this ...")]`), the
type and the default staying in the command's signature. Parsing the values (`--format`,
`--unknown` against their choices) is `teamrel.cli.common`'s.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

#: The `--format` help of a command printing text or a JSON document.
TEXT_OR_JSON_HELP = "Output format: text or json."


def format_option(help: str = TEXT_OR_JSON_HELP) -> Any:
    """`--format`, with the command's list of formats as `help` (None: the global one)."""
    return typer.Option("--format", help=help)


def env_option(help: str = "Environment.") -> Any:
    """`--env`: the environment the command acts on, or reads."""
    return typer.Option("--env", help=help)


def member_option(help: str, *, short: bool = False) -> Any:
    """`--member` (and `-m` with `short`)."""
    return typer.Option("--member", *(("-m",) if short else ()), help=help)


def yes_option(help: str) -> Any:
    """`--yes`/`-y`: apply the changes an import would write."""
    return typer.Option("--yes", "-y", help=help)


def unknown_option(help: str = "fail or warn on undecided handoffs.") -> Any:
    """`--unknown`: whether an undecided verdict fails the command (`common.parse_unknown`)."""
    return typer.Option("--unknown", help=help)


def against_option(help: str) -> Any:
    """`--against ENV|MANIFEST`: the release every other member is pinned to."""
    return typer.Option("--against", metavar="ENV|MANIFEST", help=help)


def base_option(help: str) -> Any:
    """`--base MANIFEST`: the release a plan compares with."""
    return typer.Option("--base", metavar="MANIFEST", help=help)


def expect_option(help: str) -> Any:
    """`--expect`: the release that must be live now, else a conflict."""
    return typer.Option("--expect", help=help)


def force_option(help: str) -> Any:
    """`--force`: go on past a refusal (the command's help says which, and what it needs)."""
    return typer.Option("--force", help=help)


def timeout_option(help: str) -> Any:
    """`--timeout` in seconds (at least 0.1) for reading a remote source."""
    return typer.Option("--timeout", help=help, min=0.1)


def out_option(help: str, *, short: bool = False) -> Any:
    """`--out FILE` (and `-o` with `short`): the file the command writes its document to."""
    return typer.Option("--out", *(("-o",) if short else ()), help=help, dir_okay=False)


def python_path_option(help: str) -> Any:
    """`--python-path DIR` (repeatable): where an import finds the application's code."""
    return typer.Option("--python-path", help=help, file_okay=False)


#: `--format` of a command printing text or a JSON document.
FormatOpt = Annotated[str | None, format_option()]
#: `--env` of a command acting on one environment (required: no default).
EnvOpt = Annotated[str, env_option()]
#: `--reason`, recorded with the change in the audit log.
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why: recorded in the audit log.")]
#: `--actor`, recorded with the change in the audit log.
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", help="Who is acting (default: TEAMREL_ACTOR, else user@host)."),
]
#: `--unknown` of the commands planning a release.
UnknownOpt = Annotated[str | None, unknown_option()]
#: `--format-assertion/--no-format-assertion` (None: the workspace's policy decides).
FormatAssertionOpt = Annotated[
    bool | None,
    typer.Option(
        "--format-assertion/--no-format-assertion",
        help="Treat `format` as an assertion (default: workspace policy).",
    ),
]
#: `--no-cache` of the commands proving handoffs.
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Ignore and do not update the result cache.")
]
#: `--override-gates` of the commands making a release live.
OverrideGatesOpt = Annotated[
    bool,
    typer.Option(
        "--override-gates",
        help="Promote past failing eval gates (needs --reason; only where the environment "
        "sets allow_gate_override: true; the audit event records it).",
    ),
]
