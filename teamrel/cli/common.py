"""What every command shares: global options, the error-to-exit-code mapping, output helpers,
and the progress display of long work (`progress_display`).

A command is: parse, one call into `Context`, render, exit code. Commands wrap their body
in `run(...)`, which turns a `TeamrelError` into a clear message on stderr (or a JSON error
document under `--format json`) and the error's exit code, and never lets a traceback out.
A reader that closes stdout early (`teamrel plan | head -1`) ends the command quietly with
`ExitCode.BROKEN_PIPE` (141, what a shell reports for a process killed by SIGPIPE).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from teamrel.canonical import JsonObject
from teamrel.cli.hints import command_hint
from teamrel.context import Context
from teamrel.errors import ExitCode, TeamrelError, UsageError, WorkspaceError

if TYPE_CHECKING:
    from rich.progress import Progress as Bar
    from rich.progress import TaskID

    from teamrel.progress import Progress

#: Version of every JSON error document printed by the CLI.
ERROR_FORMAT_VERSION = 1


@dataclass
class GlobalOptions:
    """Options given before the command name (`teamrel -C DIR --format json validate`)."""

    workspace: Path | None = None
    format: str = "text"
    color: bool = True
    quiet: bool = False
    db: str | None = None


def options(ctx: typer.Context) -> GlobalOptions:
    """The global options of this invocation."""
    obj = ctx.find_root().obj
    if isinstance(obj, GlobalOptions):
        return obj
    return GlobalOptions()


def context(ctx: typer.Context) -> Context:
    """The library facade for this invocation's workspace and store.

    Its store connections are closed when the command ends.
    """
    opts = options(ctx)
    c = Context(workspace=opts.workspace, db_url=opts.db)
    ctx.call_on_close(c.close_store)
    return c


def fmt(ctx: typer.Context, override: str | None) -> str:
    """The output format: the command's own `--format`, else the global one."""
    return override or options(ctx).format


class _Console(Console):
    """A rich console whose closed stdout goes through `run`'s one handling of a closed pipe
    (rich's own exits 1, the "findings" code)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


#: The values of `--format` for a command printing text or a JSON document.
TEXT_JSON: tuple[str, ...] = ("text", "json")
#: The values of `--unknown`: an undecided verdict fails the command, or only warns.
UNKNOWN_CHOICES: tuple[str, ...] = ("fail", "warn")


def or_list(choices: Sequence[str]) -> str:
    """`a, b or c`: how help texts and error messages list the values of an option."""
    if len(choices) < 2:
        return "".join(choices)
    return f"{', '.join(choices[:-1])} or {choices[-1]}"


def parse_choice(
    ctx: typer.Context,
    option: str,
    value: str | None,
    choices: Sequence[str],
    *,
    err_format: str = "text",
) -> str | None:
    """`value` if it is one of `choices` (or None); else a usage error (exit 2) saying
    `--option must be a, b or c, not 'x'`, the one message for that mistake everywhere."""
    if value is None or value in choices:
        return value
    fail(ctx, UsageError(f"{option} must be {or_list(choices)}, not {value!r}"), err_format)


def parse_format(
    ctx: typer.Context, override: str | None, choices: Sequence[str] = TEXT_JSON
) -> str:
    """The output format (the command's `--format`, else the global one), checked against
    the command's `choices`; a wrong one is reported as text (it is not a format to use)."""
    value = fmt(ctx, override)
    parse_choice(ctx, "--format", value, choices)
    return value


def parse_unknown(ctx: typer.Context, value: str | None, *, err_format: str = "text") -> str | None:
    """`--unknown`: fail, warn or None (the workspace's policy decides)."""
    return parse_choice(ctx, "--unknown", value, UNKNOWN_CHOICES, err_format=err_format)


def console(ctx: typer.Context, *, stderr: bool = False) -> Console:
    """A rich console honouring `--no-color` (colour only on a TTY)."""
    opts = options(ctx)
    return _Console(
        stderr=stderr,
        # None lets rich honour the NO_COLOR convention when --no-color is not given
        no_color=None if opts.color else True,
        highlight=False,
        soft_wrap=True,
        color_system="auto" if opts.color else None,
    )


#: Progress shows only once the work has run this long: a small team is done before it, so
#: its output is what it always was.
PROGRESS_AFTER_S = 0.5


def progress_console(ctx: typer.Context) -> Console:
    """The console progress is drawn on: stderr, so stdout stays the command's output."""
    return console(ctx, stderr=True)


class _ProgressDisplay:
    """The `teamrel.progress` callback drawing rich progress bars, one per phase, once the
    work has outlasted `PROGRESS_AFTER_S`; removed from the screen when the work ends."""

    def __init__(self, out: Console) -> None:
        self.out = out
        self.show_at = time.monotonic() + PROGRESS_AFTER_S
        self.bar: Bar | None = None
        self.tasks: dict[str, TaskID] = {}
        self.seen: dict[str, tuple[int, int]] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.bar is None:
            self.seen[phase] = (done, total)
            if time.monotonic() < self.show_at or done >= total:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self.bar = Bar(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.out,
                transient=True,
                # nothing else writes while the work runs: leave the streams alone
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.bar.start()
            for seen, (d, t) in self.seen.items():  # the phases done so far, for context
                self._update(seen, d, t)
            return
        self._update(phase, done, total)

    def _update(self, phase: str, done: int, total: int) -> None:
        assert self.bar is not None
        task = self.tasks.get(phase)
        if task is None:
            task = self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(task, completed=done, total=total)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@contextlib.contextmanager
def progress_display(ctx: typer.Context) -> Iterator[Progress | None]:
    """A progress callback for long work, drawn on stderr while the block runs; None (no
    progress at all) under `-q` or when stderr is not a terminal (CI logs, pipes)."""
    if options(ctx).quiet:
        yield None
        return
    out = progress_console(ctx)
    if not out.is_terminal:
        yield None
        return
    display = _ProgressDisplay(out)
    try:
        yield display
    finally:
        display.stop()


def emit_json(doc: JsonObject) -> None:
    """Print a JSON document to stdout (stable key order as built, UTF-8)."""
    write_stdout(json_text(doc))


def json_text(doc: Any) -> str:
    """A JSON document as every command prints it: indented, UTF-8, ending with a newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


#: Size of the pieces stdout is written in (see `write_stdout`).
STDOUT_CHUNK = 64 * 1024


def write_stdout(text: str) -> None:
    """Write `text` to stdout in flushed pieces of `STDOUT_CHUNK` characters.

    One large write into a pipe its reader closes half-way is cut short without an error
    (CPython keeps the kernel's partial count): written in pieces, the next piece meets the
    closed pipe and `run` ends the command with `ExitCode.BROKEN_PIPE`, not with 0.
    """
    out = sys.stdout
    for start in range(0, len(text), STDOUT_CHUNK):
        out.write(text[start : start + STDOUT_CHUNK])
        out.flush()


def emit_json_pieces(pieces: Iterable[str]) -> None:
    """Print a JSON document produced in pieces (a large one, built as it is read).

    The pieces are spooled (in memory up to a few MB, then a temporary file) and printed
    only once the last one is made: an error half-way prints the error document alone,
    never half a document followed by it.
    """
    with tempfile.SpooledTemporaryFile(
        max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8"
    ) as buf:
        for piece in pieces:
            buf.write(piece)
        buf.seek(0)
        while chunk := buf.read(STDOUT_CHUNK):
            write_stdout(chunk)
        write_stdout("\n")


def fail(ctx: typer.Context, err: TeamrelError, output_format: str = "text") -> NoReturn:
    """Report `err` (with the command to run next, `command_hint`) and exit with its code."""
    hint = command_hint(err)
    if output_format == "json":
        doc: dict[str, Any] = {"format_version": ERROR_FORMAT_VERSION, "ok": False}
        doc.update(err.to_json())
        doc["hint"] = hint
        emit_json(doc)
    else:
        out = console(ctx, stderr=True)
        out.print(f"[bold red]error:[/] {err.message}", markup=True, highlight=False)
        if isinstance(err, WorkspaceError):
            for d in err.diagnostics:
                out.print(f"  {d}", markup=False)
        if hint:
            out.print(f"  hint: {hint}", markup=False)
    raise typer.Exit(err.exit_code)


def run(ctx: typer.Context, output_format: str, body: Callable[[], int]) -> NoReturn:
    """Run a command body returning an exit code; map teamrel errors to exit codes."""
    try:
        try:
            code = body()
        except TeamrelError as err:
            fail(ctx, err, output_format)
        except BrokenPipeError:
            raise
        except OSError as err:  # I/O outside the library's own error handling
            fail(
                ctx,
                TeamrelError(f"{err.strerror or err}: {err.filename or ''}".strip()),
                output_format,
            )
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        # what is still buffered is written now, where a closed pipe can still be handled
        sys.stdout.flush()
    except BrokenPipeError:
        stdout_closed()
    raise typer.Exit(code)


def stdout_closed() -> NoReturn:
    """The reader closed stdout (`teamrel plan | head -1`): stop quietly with 141.

    The Python recipe for SIGPIPE (docs.python.org, "Note on SIGPIPE"): whatever is still
    buffered goes to /dev/null instead of failing again at interpreter exit, and the exit
    status is the one a shell shows for a process killed by SIGPIPE (128 + 13). The work
    itself is complete (a release recorded, a store closed): only its output was unwanted.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (a test runner's buffer)
        pass
    raise typer.Exit(ExitCode.BROKEN_PIPE)


def exit_operational(message: str) -> NoReturn:
    """Exit 3 with a message (for the rare failure outside the library)."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(ExitCode.OPERATIONAL)
