"""A CliRunner that keeps stdout and stderr apart on every click version teamrel allows."""

from __future__ import annotations

from typer.testing import CliRunner


def cli_runner() -> CliRunner:
    """A runner whose results have `stdout` and `stderr` apart.

    Read those two, never `result.output`: click 8.2 made `output` both streams interleaved,
    where before (with the streams apart) it was stdout alone.
    """
    try:
        # click < 8.2 mixes stderr into stdout unless told not to (and then has no `stderr`)
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg,unused-ignore]
    except TypeError:  # click >= 8.2: always apart, and the argument is gone
        return CliRunner()
