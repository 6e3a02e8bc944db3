"""Files on disk: the caches' two file operations, shared by the framed datasets (``data.frame_cache``) and the run
cache (``experiments.batch.RunCache``): a write that a reader never sees half done, and pruning a folder to a size
cap, least recently used first (a hit refreshes a file's modification time). An entry may be a folder (a framed
dataset is one: its frames, labels and marker): its size is that of the files in it, and it is deleted whole.

And files someone hands us: how much one may decode to (``Limit``: every event reader, ``data.readers``, the frames
made of a recording, ``data.framing``, and the HDF5 check, ``hdf5_safety``, refuse what would pass it), where an
archive's member may be written (``member_path``: the fetched datasets, ``data.fetch``, and the app's uploaded zips),
and sizes as the messages give them (``megabytes``)."""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from . import settings


@dataclass(frozen=True)
class Limit:
    """A limit on the decoded size of one file: ``default_mb`` megabytes unless ``$env`` gives another number."""

    env: str
    default_mb: float

    def megabytes(self, environ=os.environ) -> float:
        """The limit in MB; ValueError naming ``env`` for a value that is not a positive number (read as
        ``settings.decode_limit`` reads every such variable)."""
        return settings.read(settings.decode_limit(self.env, self.default_mb), environ)

    def describe(self, environ=os.environ) -> str:
        return f"{self.megabytes(environ):,g} MB ({self.env})"


# one event file of any format (data.readers), SHD too
FILE_DECODE = Limit(settings.MAX_FILE_DECODE_MB.name, settings.MAX_FILE_DECODE_MB.default)
MEGABYTE = 2**20


def megabytes(size: float) -> str:
    """A size in MB as messages give it: one decimal below 10 MB, whole megabytes above."""
    value = size / MEGABYTE
    return f"{value:,.1f} MB" if value < 10 else f"{value:,.0f} MB"


def member_path(archive: str, name: str, root: Path, *, where: str) -> Path:
    """Where an archive's member ``name`` goes under ``root``; ValueError (naming ``archive`` and ``where``) for an
    absolute path, a Windows drive (``C:``), a ``..`` or a NUL, any of which could write outside ``root`` (a ':'
    elsewhere, as in a name holding a URL, stays part of the name)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    drive = len(parts[0]) >= 2 and parts[0][1] == ":" and parts[0][0].isalpha() if parts else False    # C:, C:x
    if not parts or name.startswith(("/", "\\")) or drive or ".." in parts or any("\x00" in part for part in parts):
        raise ValueError(f"{archive}: member {name!r} would be written outside {where}; allowed: relative paths "
                         "inside the archive, without '..' or a leading '/'")
    return root.joinpath(*parts)                # "./" (a tar's top folder): root itself


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


def tree_size(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (a file removed meanwhile counts 0)."""
    if not path.is_dir():
        return path.stat().st_size
    total = 0
    for root, _, names in os.walk(path):
        for name in names:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def prune_to_size(folder: Path, pattern: str, cap: int, keep: str | None = None,
                  spare: Callable[[Path], bool] | None = None, ours: Callable[[Path], bool] | None = None
                  ) -> list[Path]:
    """Delete the least recently used entries (files or folders) of ``folder`` matching ``pattern`` until they
    total at most ``cap`` bytes; ``keep`` (the stem of the entry just written) goes last, and when it is a folder
    (a framed dataset a run is about to read from disk) it is never deleted. An entry ``spare(path)`` is true for
    (one another process is writing) is counted but left alone; one another process removed or that may not be
    removed is skipped. Only entries ``ours(path)`` is true for are counted or deleted (a cache folder a user
    pointed at a folder of their own: their files are never touched). Returns what was deleted."""
    entries = []
    for path in folder.glob(pattern):
        if ours is not None and not ours(path):
            continue
        try:
            stat = path.stat()
            size = tree_size(path)
        except OSError:                              # removed meanwhile by another cache
            continue
        entries.append((path.stem == keep, stat.st_mtime_ns, size, path))
    total, deleted = sum(size for _, _, size, _ in entries), []
    for kept, _, size, path in sorted(entries):
        if total <= cap:
            break
        if (kept and path.is_dir()) or (spare is not None and spare(path)):
            continue
        try:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        except OSError:                              # e.g. no permission: the next write tries again
            continue
        total -= size
        deleted.append(path)
    return deleted
