"""Framed real datasets on disk, so a folder is read and framed once, not on every run.

An entry is one ``.npz`` (numpy arrays only: no pickle is written or accepted) named by a hash of
everything the frames depend on: each file's path, size and modification time, the frame spec and the
selection. A changed, added or removed file gives a new key, so a stale entry is never read; it is evicted
in time. The folder is capped (``SNN_FRAME_CACHE_MB``, default 2048 MB): after each write the least
recently used entries (by modification time, refreshed on every hit) are deleted until the rest fit.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from ..files import prune_to_size, write_atomically

DEFAULT_DIR = Path(".cache") / "frames"
DEFAULT_CAP_MB = 2048


def cache_dir() -> Path:
    """``$SNN_FRAME_CACHE_DIR``, else ``.cache/frames`` under the working folder."""
    return Path(os.environ.get("SNN_FRAME_CACHE_DIR") or DEFAULT_DIR)


def cap_bytes() -> int:
    """The folder's size cap: ``$SNN_FRAME_CACHE_MB`` megabytes (0 turns the cache off)."""
    text = os.environ.get("SNN_FRAME_CACHE_MB", str(DEFAULT_CAP_MB))
    try:
        megabytes = float(text)
    except ValueError:
        raise ValueError(f"SNN_FRAME_CACHE_MB={text!r} is not a number; allowed: megabytes >= 0") from None
    if not megabytes >= 0:
        raise ValueError(f"SNN_FRAME_CACHE_MB={text!r} is negative; allowed: megabytes >= 0")
    return int(megabytes * 2**20)


def cache_key(files: list[Path], **parameters) -> str:
    """Hash of the files (path, size, mtime in ns) and the JSON-serialisable parameters."""
    stats = [(str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for path in files]
    text = json.dumps({"files": stats, "parameters": parameters}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None (also for an unreadable entry, which is then removed)."""
    path = cache_dir() / f"{key}.npz"
    if cap_bytes() == 0 or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError):
        path.unlink(missing_ok=True)
        return None
    os.utime(path)                                    # a hit makes it the most recently used
    return arrays


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` under ``key`` (atomically: a reader never sees half a file), then evict to the cap."""
    cap = cap_bytes()
    if cap == 0:
        return
    write_atomically(cache_dir() / f"{key}.npz", lambda file: np.savez(file, **arrays))
    evict(cap, keep=key)


def evict(cap: int, keep: str | None = None) -> list[Path]:
    """Delete least recently used entries until the folder's ``.npz`` files total at most ``cap`` bytes;
    ``keep`` (the entry just written) goes last. Returns what was deleted."""
    return prune_to_size(cache_dir(), "*.npz", cap, keep)
