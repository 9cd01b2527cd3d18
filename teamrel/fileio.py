"""Writing files so that no reader ever sees half of one.

Owns `atomic_write`: every file teamrel writes (manifests, snapshots, saved plans, the check
caches) goes through a temporary file in the same directory and a rename; and `escapes`, the
check an importer makes before writing a path inside a workspace a symlink may lead out of.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, *, durable: bool = True, mkdir: bool = True) -> None:
    """Write `data` to `path` through a temporary file and a rename: never half-written.

    `durable` fsyncs the data before the rename (skip it for caches and content-addressed
    files a reader re-hashes anyway); `mkdir` creates missing parent directories.
    """
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def escapes(root: Path, rel: str) -> bool:
    """Whether writing `root / rel` would land outside `root`: the file itself, or its nearest
    existing directory, resolves elsewhere (a symlink). `rel` was built from checked names;
    this guards against the workspace's own links."""
    target = root / rel
    existing = target if target.exists() or target.is_symlink() else target.parent
    while not existing.exists() and existing != root:
        existing = existing.parent
    return not existing.resolve().is_relative_to(root.resolve())
