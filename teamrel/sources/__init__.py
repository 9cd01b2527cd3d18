"""Generated contract sources: schema slots whose committed file is generated from code.

Owns `teamrel contracts sync`: finding every schema slot of `teamrel.yaml` that names a
source (`{pydantic: "pkg.module:Model", file: contracts/x.json}`), generating each schema in
the direction its slot faces (`teamrel.models.SLOT_MODES`, or the slot's `mode:`), and
comparing it with the committed file: `sync` rewrites the stale files, `sync --check` only
names them. Models are imported in a child interpreter with the workspace root (and any
`--python-path`) on its path, so the application's import-time code never runs inside
teamrel. Any problem (a reference that is malformed or does not import, a file outside the
workspace, one file claimed by two sources) is reported for every slot at once, and then
nothing is written.

Loading a workspace never comes here: `check`, `plan` and `validate` read the committed
files, so CI needs no import of the application.
"""

from __future__ import annotations

import json
import os
import posixpath
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from teamrel.canonical import JsonObject
from teamrel.contracts import resolve_path
from teamrel.errors import Diagnostic, InputError, SourceError
from teamrel.fileio import atomic_write
from teamrel.models import SLOT_MODES, PydanticSource, error_text, is_generated_source
from teamrel.yamlsrc import YamlDoc, YamlError, escape_token, load_yaml

WORKSPACE_FILE = "teamrel.yaml"
#: Version of the `teamrel contracts sync --format json` document.
SYNC_FORMAT_VERSION = 1
#: Longest the child interpreter may take to import the models and generate every schema.
IMPORT_TIMEOUT_S = 300.0

Status = Literal["fresh", "written", "stale", "missing"]


@dataclass(frozen=True)
class SourceSlot:
    """One schema slot of teamrel.yaml filled from a generated source."""

    pointer: str
    line: int | None
    source: PydanticSource
    mode: Literal["validation", "serialization"]
    #: the workspace-relative path of `source.file`
    file: str


@dataclass(frozen=True)
class SyncedFile:
    """One generated file and what `sync` found (and did)."""

    file: str
    model: str
    mode: str
    status: Status
    #: the teamrel.yaml pointers of the slots naming this file
    used_at: tuple[str, ...]

    @property
    def is_stale(self) -> bool:
        """The committed file is missing or differs from what the model generates."""
        return self.status in ("stale", "missing")

    def to_json(self) -> JsonObject:
        """One entry of the `--format json` document."""
        return {
            "file": self.file,
            "source": "pydantic",
            "model": self.model,
            "mode": self.mode,
            "status": self.status,
            "used_at": list(self.used_at),
        }


@dataclass(frozen=True)
class SyncReport:
    """What `teamrel contracts sync` did (or, under `--check`, would do)."""

    check: bool
    files: list[SyncedFile]

    @property
    def stale(self) -> list[SyncedFile]:
        """The files that are (under `--check`) or were missing or out of date."""
        return [f for f in self.files if f.is_stale]

    @property
    def ok(self) -> bool:
        """Nothing is stale (always true after a sync that wrote)."""
        return not self.stale

    def to_json(self) -> JsonObject:
        """The versioned `teamrel contracts sync --format json` document."""
        return {
            "format_version": SYNC_FORMAT_VERSION,
            "check": self.check,
            "ok": self.ok,
            "files": [f.to_json() for f in self.files],
            "stale": [f.file for f in self.stale],
        }


def sync_contracts(
    root: Path, *, check: bool = False, python_path: Sequence[Path] = ()
) -> SyncReport:
    """Regenerate every generated contract file of the workspace at `root`.

    `check`: write nothing, report the stale files. `python_path`: directories added after
    the workspace root to the path the models are imported from. Raises `SourceError` (every
    problem, nothing written) when any source cannot be generated.
    """
    slots, problems = find_slots(_workspace_doc(root), root)
    by_file: dict[str, list[SourceSlot]] = {}
    for slot in slots:
        by_file.setdefault(slot.file, []).append(slot)
    problems.extend(_conflicts(by_file))
    schemas, failed = _schemas(root, slots, python_path)
    problems.extend(failed)
    if problems:
        n = len(problems)
        raise SourceError(
            f"{n} problem{'s' if n != 1 else ''} with the generated contracts of "
            f"{WORKSPACE_FILE}; nothing was written",
            problems,
        )
    files = [_sync_file(root, rel, using, schemas, check) for rel, using in sorted(by_file.items())]
    return SyncReport(check=check, files=files)


def _workspace_doc(root: Path) -> YamlDoc:
    """teamrel.yaml, parsed; a `SourceError` when it does not parse."""
    try:
        doc = load_yaml(root / WORKSPACE_FILE, WORKSPACE_FILE)
    except YamlError as err:
        raise SourceError(err.message, err.diagnostics) from None
    if any(d.severity == "error" for d in doc.diagnostics):
        raise SourceError(f"{WORKSPACE_FILE} does not parse", doc.diagnostics)
    return doc


def _conflicts(by_file: dict[str, list[SourceSlot]]) -> list[Diagnostic]:
    """Every slot generating a file that another slot generates from a different source."""
    problems: list[Diagnostic] = []
    for rel, using in by_file.items():
        if len({(s.source.pydantic, s.mode) for s in using}) > 1:
            first = using[0]
            for other in using[1:]:
                if (other.source.pydantic, other.mode) != (first.source.pydantic, first.mode):
                    problems.append(
                        _diag(
                            "source-conflict",
                            other,
                            f"{rel} is generated from {other.source.pydantic!r} "
                            f"({other.mode}) here but from {first.source.pydantic!r} "
                            f"({first.mode}) at #{first.pointer}: give each its own file",
                        )
                    )
    return problems


def _schemas(
    root: Path,
    slots: list[SourceSlot],
    python_path: Sequence[Path],
) -> tuple[dict[tuple[str, str], dict[str, Any]], list[Diagnostic]]:
    """(model, mode) -> generated schema, and a problem for each slot whose source failed."""
    jobs = sorted({(s.source.pydantic, s.mode) for s in slots})
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    problems: list[Diagnostic] = []
    if not jobs:
        return schemas, problems
    results = _generate(root, jobs, python_path)
    for slot in slots:
        got = results[(slot.source.pydantic, slot.mode)]
        if isinstance(got, str):
            problems.append(
                _diag("pydantic-source", slot, f"pydantic source {slot.source.pydantic!r}: {got}")
            )
        else:
            schemas[(slot.source.pydantic, slot.mode)] = got
    return schemas, problems


def _sync_file(
    root: Path,
    rel: str,
    using: list[SourceSlot],
    schemas: dict[tuple[str, str], dict[str, Any]],
    check: bool,
) -> SyncedFile:
    """Compare one generated file with its schema and, unless `check`, rewrite it if stale."""
    first = using[0]
    schema = schemas[(first.source.pydantic, first.mode)]
    status = _compare(root / rel, schema)
    if status != "fresh" and not check:
        text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
        atomic_write(root / rel, text.encode("utf-8"))
        status = "written"
    return SyncedFile(
        file=rel,
        model=first.source.pydantic,
        mode=first.mode,
        status=status,
        used_at=tuple(s.pointer for s in using),
    )


def find_slots(doc: YamlDoc, root: Path) -> tuple[list[SourceSlot], list[Diagnostic]]:
    """Every slot of teamrel.yaml naming a generated source, and the malformed ones."""
    slots: list[SourceSlot] = []
    problems: list[Diagnostic] = []
    for ptr, key, raw in _slot_values(doc.data):
        if not is_generated_source(raw):
            continue
        try:
            source = PydanticSource.model_validate(raw)
        except ValidationError as err:
            for e in err.errors():
                where = ptr + "".join("/" + escape_token(str(t)) for t in e["loc"][:1])
                name = str(raw.get("pydantic"))
                problems.append(
                    Diagnostic(
                        "invalid",
                        f"pydantic source {name!r}: {error_text(e)}",
                        WORKSPACE_FILE,
                        doc.line_of(where),
                        where,
                    )
                )
            continue
        try:
            rel = _target(root, source.file)
        except InputError as err:
            where = ptr + "/file"
            problems.append(
                Diagnostic(
                    "path-refused",
                    f"pydantic source {source.pydantic!r}: {err.message}",
                    WORKSPACE_FILE,
                    doc.line_of(where),
                    where,
                )
            )
            continue
        slots.append(
            SourceSlot(
                pointer=ptr,
                line=doc.line_of(ptr),
                source=source,
                mode=source.mode or SLOT_MODES[key],
                file=rel,
            )
        )
    return slots, problems


def _slot_values(data: Any) -> Iterable[tuple[str, str, Any]]:
    """(pointer, slot key, value) of every schema slot present in teamrel.yaml's data."""
    if not isinstance(data, dict):
        return
    members = data.get("members")
    if isinstance(members, dict):
        for name, raw in members.items():
            if not isinstance(raw, dict):
                continue
            base = "/members/" + escape_token(str(name))
            for key in ("input", "output", "input_schema", "output_schema"):
                if key in raw:
                    yield f"{base}/{key}", key, raw[key]
            tools = raw.get("tools")
            for j, use in enumerate(tools if isinstance(tools, list) else []):
                if isinstance(use, dict):
                    for key in ("call", "result"):
                        if key in use:
                            yield f"{base}/tools/{j}/{key}", key, use[key]
    handoffs = data.get("handoffs")
    for i, h in enumerate(handoffs if isinstance(handoffs, list) else []):
        if isinstance(h, dict) and "contract" in h:
            yield f"/handoffs/{i}/contract", "contract", h["contract"]


def _target(root: Path, raw: str) -> str:
    """The workspace-relative path of a file to generate (it need not exist yet)."""
    try:
        return resolve_path(root, raw, what="file")
    except InputError as err:
        # the same refusals as any schema path, except that a file not there yet is fine
        if "no such file" not in err.message:
            raise
        return posixpath.normpath(raw.replace("\\", "/"))


def _diag(code: str, slot: SourceSlot, message: str) -> Diagnostic:
    return Diagnostic(code, message, WORKSPACE_FILE, slot.line, slot.pointer)


def _compare(path: Path, schema: dict[str, Any]) -> Status:
    # equal JSON is fresh: reformatting a committed file is not a change to regenerate
    try:
        current = json.loads(path.read_bytes())
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError):
        return "stale"
    return "fresh" if current == schema else "stale"


def _generate(
    root: Path, jobs: Sequence[tuple[str, str]], python_path: Sequence[Path]
) -> dict[tuple[str, str], dict[str, Any] | str]:
    """Each job's schema, or the sentence saying why it could not be generated."""
    program = (Path(__file__).parent / "pydantic_gen.py").read_text(encoding="utf-8")
    env = dict(os.environ)
    paths = [str(root), *(str(p) for p in python_path)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    request = {"jobs": [{"model": m, "mode": mode} for m, mode in jobs]}
    failure: str
    try:
        proc = subprocess.run(
            [sys.executable, "-B", "-c", program],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=root,
            env=env,
            timeout=IMPORT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        failure = f"importing the models took longer than {IMPORT_TIMEOUT_S:.0f} s"
    except OSError as err:
        failure = f"cannot start {sys.executable}: {err.strerror or err}"
    else:
        try:
            answer = json.loads(proc.stdout)["results"]
            if proc.returncode == 0 and len(answer) == len(jobs):
                return {
                    job: (r["error"] if "error" in r else r["schema"])
                    for job, r in zip(jobs, answer, strict=True)
                }
        except (ValueError, KeyError, TypeError):
            pass
        tail = [line for line in proc.stderr.splitlines() if line.strip()][-1:]
        failure = f"the Python process importing the models failed (exit {proc.returncode})" + (
            f": {tail[0].strip()}" if tail else ""
        )
    return dict.fromkeys(jobs, failure)
