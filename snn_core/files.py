"""The on-disk caches' two file operations, shared by the framed datasets (``data.frame_cache``) and the run cache
(``experiments.batch.RunCache``): a write that a reader never sees half done, and pruning a folder to a size cap,
least recently used first (a hit refreshes a file's modification time)."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """``write(file)`` into a temporary file unique to this writer in ``path``'s folder, then renamed to ``path``
    (``os.replace`` is atomic): two writers of one name never collide, and a failed write leaves nothing behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f"{path.stem[:16]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def prune_to_size(folder: Path, pattern: str, cap: int, keep: str | None = None) -> list[Path]:
    """Delete the least recently used files of ``folder`` matching ``pattern`` until they total at most ``cap``
    bytes; ``keep`` (the stem of the entry just written) goes last. A file another process removed or may not be
    removed is skipped. Returns what was deleted."""
    entries = []
    for path in folder.glob(pattern):
        try:
            stat = path.stat()
        except OSError:                              # removed meanwhile by another cache
            continue
        entries.append((path.stem == keep, stat.st_mtime_ns, stat.st_size, path))
    total, deleted = sum(size for _, _, size, _ in entries), []
    for _, _, size, path in sorted(entries):
        if total <= cap:
            break
        try:
            path.unlink(missing_ok=True)
        except OSError:                              # e.g. no permission: the next write tries again
            continue
        total -= size
        deleted.append(path)
    return deleted
