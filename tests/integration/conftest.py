"""Fixtures for the store integration tests: a state store URL on SQLite and PostgreSQL.

`store_url` is parametrised over SQLite (a file in tmp_path) and PostgreSQL (from
TEAMREL_TEST_DATABASE_URL, skipped cleanly when unset). Each PostgreSQL test gets its own
schema (selected through the connection's search_path, so subprocesses given the URL land in
it too), dropped afterwards: tests are isolated and re-runnable.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from clikit import cli_runner

from teamrel.cli.app import app

PG_ENV = "TEAMREL_TEST_DATABASE_URL"


def _libpq(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty state store URL (SQLite file, or a private PostgreSQL schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'state.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    import psycopg

    schema = f"teamrel_test_{uuid.uuid4().hex[:12]}"
    conninfo = _libpq(base.split("?", 1)[0])
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class Cli:
    """Runs `teamrel -C WS --db URL ...` in-process (CliRunner) or as a subprocess."""

    def __init__(self, ws: Path, url: str) -> None:
        self.ws = ws
        self.url = url
        self.runner = cli_runner()

    def __call__(self, *args: str, actor: str = "tester") -> tuple[int, str, str]:
        result = self.runner.invoke(
            app,
            ["-C", str(self.ws), "--db", self.url, *args],
            env={"TEAMREL_ACTOR": actor, "TEAMREL_DATABASE_URL": None, "TEAMREL_FAULT": None},
            catch_exceptions=False,
        )
        return result.exit_code, result.stdout, result.stderr

    def popen(
        self, *args: str, env: dict[str, str] | None = None, prelude: Sequence[str] = ()
    ) -> subprocess.Popen[str]:
        """A `teamrel` subprocess; `prelude` runs Python lines before the CLI starts."""
        code = "\n".join(
            [
                *prelude,
                "import sys",
                "from teamrel.cli.app import main",
                "sys.argv[0] = 'teamrel'",
                "main()",
            ]
        )
        full_env = {**os.environ, "TEAMREL_ACTOR": "tester", **(env or {})}
        full_env.pop("TEAMREL_DATABASE_URL", None)
        return subprocess.Popen(
            [sys.executable, "-c", code, "-C", str(self.ws), "--db", self.url, *args],
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def fork(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        gate: tuple[int, int] | None = None,
    ) -> tuple[int, Path]:
        """Run the CLI in a forked child process (fast: everything is already imported).

        Returns `(pid, stderr_file)`; collect with `reap`. With `gate` (a pipe) the child
        blocks until the parent closes the write end: children released
        together race for real. `gate` is `(read_end, write_end)`.
        """
        err_path = self.ws.parent / f"stderr-{uuid.uuid4().hex[:8]}.txt"
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 99
            try:
                fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(fd, 2)
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 1)
                # pytest replaced sys.stdout/sys.stderr with capture objects: undo that here
                sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
                os.environ.update({"TEAMREL_ACTOR": "tester", **(env or {})})
                os.environ.pop("TEAMREL_DATABASE_URL", None)
                if gate is not None:
                    os.close(gate[1])  # else this child itself keeps the gate open
                    os.read(gate[0], 1)
                try:
                    app(["-C", str(self.ws), "--db", self.url, *args], prog_name="teamrel")
                    code = 0
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        return pid, err_path


def reap(pid: int) -> int:
    """Wait for a forked child: its exit code, or minus the signal that killed it."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def assert_manifests_match_schema(root: Path) -> int:
    """Validate every manifest file under `root/manifests/` against the packaged JSON Schema
    (skipping files a test tampered with on purpose); returns how many were checked."""
    import json
    from importlib import resources

    import jsonschema

    from teamrel.errors import IntegrityError
    from teamrel.manifest import read_manifest

    schema = json.loads(
        resources.files("teamrel").joinpath("schemas/manifest.schema.json").read_text("utf-8")
    )
    validator = jsonschema.Draft202012Validator(schema)
    checked = 0
    for path in sorted((root / "manifests").glob("*/*.json")):
        try:
            read_manifest(path)
        except IntegrityError:
            continue  # tampered by the test itself
        validator.validate(json.loads(path.read_text("utf-8")))
        checked += 1
    return checked


@pytest.fixture
def cli(demo_copy: Path, store_url: str) -> Iterator[Cli]:
    """The CLI bound to a private copy of the demo workspace and a fresh store; every
    manifest the test wrote is validated against the JSON Schema afterwards."""
    yield Cli(demo_copy, store_url)
    assert_manifests_match_schema(demo_copy)


PASSED_CHECK = {
    "edges": 0,
    "compatible": 0,
    "incompatible": 0,
    "unknown": 0,
    "unchecked": 0,
    "engine_version": "test",
    "passed": True,
}


def lib_release(ws: Path, url: str, prompt_suffix: str | None = None) -> str:
    """Release the workspace through the library (no check run: these tests are about the
    store), after appending `prompt_suffix` to the router prompt; returns the release name."""
    from teamrel import release as rel
    from teamrel.context import Context

    if prompt_suffix is not None:
        router = ws / "prompts" / "router.md"
        router.write_text(router.read_text("utf-8") + prompt_suffix, "utf-8")
    ctx = Context(ws, db_url=url)
    try:
        loaded = ctx.load()
        result = rel.release(
            ctx.store(),
            ws,
            loaded.team.team,
            loaded.members,
            check_summary=PASSED_CHECK,
            environments=loaded.team.environments,
            actor="setup",
        )
        return result.manifest.release
    finally:
        ctx.close_store()


def open_test_store(url: str):  # type: ignore[no-untyped-def]
    """A Store on `url` (close it after use)."""
    from teamrel.store import open_store

    return open_store(url, None)
