"""Framed real datasets on disk, so a folder is read and framed once, not on every run, and a run reads its
frames from disk instead of holding them in memory.

An entry is a folder named by a hash of everything the frames depend on (each file's path, size and modification
time, the frame spec and the selection; a changed, added or removed file gives a new key, so a stale entry is never
read, and it is evicted in time). It holds numpy arrays only (no pickle is written or accepted):

- ``x.npy``: the uint8 frames ``[N, T, P, H, W]``, a plain ``.npy`` that ``np.load(..., mmap_mode="r")`` maps;
  a run reads the rows of each batch from it (``DiskFrames``), so memory does not grow with the dataset;
- ``arrays.npz``: the labels ``y`` and what else the loader stored (e.g. SHD's split).

``build`` frames one recording at a time into ``<key>.partial/`` (``x.npy`` allocated at its full size first, so a
full disk fails at once, before any framing; rows written with ordinary writes, never through a memory map, so the
framing process's memory stays flat too). Every ``CHECKPOINT_EVERY`` recordings, and when framing stops on an error
or an interrupt, the rows written so far are synced and ``progress.json`` records how many: the next ``build`` of
the key resumes there. Only a finished entry is renamed to ``<key>/`` (atomically), so an interrupted pass is never
served as complete. One process frames a key at a time (a lock file in the partial folder); another that asks for the
same key waits, then reads the finished entry.

The folder is capped (``SNN_FRAME_CACHE_MB``, default 2048 MB): before and after each build the least recently used
entries (by modification time, refreshed on every hit) are deleted until the rest fit. The entry just built is never
deleted, even when it alone is over the cap: a run reads it from disk. ``SNN_FRAME_CACHE_MB=0`` turns the cache off;
frames are then framed into memory on every load (small folders only).
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from torch.utils._pytree import tree_map

from .. import settings
from ..files import prune_to_size, write_atomically

if sys.platform == "win32":                          # Windows: no advisory locks; one framing process at a time
    fcntl = None
else:
    import fcntl

CHECKPOINT_EVERY = 512         # recordings between syncs of the partial entry (what an interrupted pass keeps)
REPORT_EVERY = 50              # recordings between progress reports
PARTIAL = ".partial"
FRAMES, ARRAYS, PROGRESS, LOCK = "x.npy", "arrays.npz", "progress.json", "lock"
# (frames done, frames to do, what is being framed) -> None
Progress = Callable[[int, int, str], None]


def cache_dir() -> Path:
    """``$SNN_FRAME_CACHE_DIR``, else ``.cache/frames`` under the working folder."""
    return settings.read(settings.FRAME_CACHE_DIR)


def cap_bytes() -> int:
    """The folder's size cap: ``$SNN_FRAME_CACHE_MB`` megabytes (0 turns the cache off). ValueError for NaN, an
    infinity or a negative number (``settings.FRAME_CACHE_MB``): none of them is a size to prune to."""
    return int(settings.read(settings.FRAME_CACHE_MB) * 2**20)


def cache_key(files: list[Path], **parameters) -> str:
    """Hash of the files (path, size, mtime in ns) and the JSON-serialisable parameters."""
    stats = [(str(path.resolve()), path.stat().st_size, path.stat().st_mtime_ns) for path in files]
    text = json.dumps({"files": stats, "parameters": parameters}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# --- reading frames from disk ----------------------------------------------------------------------------------


class FrameFile:
    """The rows of one entry's ``x.npy``, read with positioned reads (``os.preadv``): only the rows asked for come
    into memory. A memory map would do the same, but every page it touches stays in the process's resident set
    (an epoch of 60,000 N-MNIST recordings: 1.1 GB); a read leaves the file in the kernel's page cache only.
    The file stays open while the object lives, so an entry evicted meanwhile is still readable (POSIX)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with open(self.path, "rb") as file:
            version = np.lib.format.read_magic(file)
            header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in header:
                raise ValueError(f"{self.path}: .npy format {version}; expected 1.0 or 2.0")
            shape, fortran, dtype = header[version](file)          # parses the header as a literal: no pickle
            self.offset = file.tell()
        if dtype != np.uint8 or fortran:
            raise ValueError(f"{self.path}: frames are {dtype}{' in Fortran order' if fortran else ''}; "
                             "expected C-ordered uint8")
        self.shape = tuple(int(n) for n in shape)
        self.row_bytes = math.prod(self.shape[1:])
        size = self.path.stat().st_size
        if size != self.offset + self.shape[0] * self.row_bytes:
            raise ValueError(f"{self.path}: {size} bytes, expected {self.offset + self.shape[0] * self.row_bytes} "
                             f"for frames {self.shape}")
        self._fd: int | None = None
        self._lock = threading.Lock()

    def _descriptor(self) -> int:
        if self._fd is None:
            with self._lock:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        return self._fd

    def read(self, rows: np.ndarray) -> np.ndarray:
        """uint8 ``[len(rows), ...]``: the rows in the order given, each run of consecutive rows in one read."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        if len(rows) == 0 or self.row_bytes == 0:
            return out
        flat = out.reshape(len(rows), self.row_bytes)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(rows) != 1) + 1, [len(rows)]])
        for first, stop in zip(starts[:-1], starts[1:]):
            self._read_into(flat[first:stop].data.cast("B"), self.offset + int(rows[first]) * self.row_bytes)
        return out

    def _read_into(self, buffer: memoryview, position: int) -> None:
        fd, done = self._descriptor(), 0
        while done < len(buffer):
            if hasattr(os, "preadv"):
                got = os.preadv(fd, [buffer[done:]], position + done)
            else:                                                    # no positioned reads: one reader at a time
                with self._lock:
                    os.lseek(fd, position + done, os.SEEK_SET)
                    chunk = os.read(fd, len(buffer) - done)
                    buffer[done:done + len(chunk)] = chunk
                    got = len(chunk)
            if got == 0:
                raise ValueError(f"{self.path} is shorter than its header states; delete the frame cache entry "
                                 f"{self.path.parent} (it is reframed on the next load)")
            done += got

    def __getstate__(self) -> dict:                 # a worker process (spawn) opens its own descriptor
        return {**self.__dict__, "_fd": None, "_lock": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)            # None: never opened (or a copy not yet opened)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


class DiskFrames:
    """Frames on disk, as much of a tensor as a run needs: ``len``, ``shape``, ``dtype`` (``torch.uint8``), and
    indexing (an int, a slice, or a sequence/array/tensor of ints) that reads those rows and gives a uint8 tensor.
    A split is a selection of an entry's rows (``index``): the train/validation/test splits and the caps are index
    arrays over one file, never copies of its frames. ``subset`` selects further; ``resident_nbytes`` is what it
    holds in memory (the index). ``to``, ``float`` and ``numpy`` read every row (small splits only)."""

    dtype = torch.uint8

    def __init__(self, file: FrameFile, index: np.ndarray | None = None):
        self.file = file
        self.index = np.arange(file.shape[0], dtype=np.int64) if index is None else np.asarray(index, np.int64)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.index), *self.file.shape[1:]))

    @property
    def ndim(self) -> int:
        return len(self.file.shape)

    def dim(self) -> int:
        return self.ndim

    def __len__(self) -> int:
        return len(self.index)

    def element_size(self) -> int:
        return 1

    def nelement(self) -> int:
        return math.prod(self.shape)

    numel = nelement

    @property
    def resident_nbytes(self) -> int:
        return self.index.nbytes

    def subset(self, rows) -> DiskFrames:
        """The rows ``rows`` of this selection (an index array or a slice), still on disk."""
        return DiskFrames(self.file, self.index[_rows(rows, len(self.index))])

    def __getitem__(self, key) -> torch.Tensor:
        if isinstance(key, tuple):                                  # x[i, t] and the like: the rows, then the rest
            rows = self[key[0]]
            return rows[key[1:]] if _is_int(key[0]) else rows[(slice(None), *key[1:])]
        if _is_int(key):
            n = len(self.index)
            i = int(key)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of range for {n} samples")
            return torch.from_numpy(self.file.read(self.index[[i % n]])[0])
        return torch.from_numpy(self.file.read(self.index[_rows(key, len(self.index))]))

    def numpy(self) -> np.ndarray:
        return self.file.read(self.index)

    def to(self, *args, **kwargs) -> torch.Tensor:
        return self[:].to(*args, **kwargs)

    def float(self) -> torch.Tensor:
        return self[:].float()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        """A torch function given frames on disk (``torch.equal(x, y)``, ``torch.cat``) gets them read, whole."""
        def whole(value):
            return value[:] if isinstance(value, DiskFrames) else value
        return func(*tree_map(whole, tuple(args)), **tree_map(whole, dict(kwargs or {})))

    def __repr__(self) -> str:
        return f"DiskFrames(shape={tuple(self.shape)}, file={str(self.file.path)!r})"


def _is_int(key) -> bool:
    if isinstance(key, bool):
        return False
    if isinstance(key, int | np.integer):
        return True
    if isinstance(key, torch.Tensor):
        return key.ndim == 0 and key.dtype != torch.bool
    return isinstance(key, np.ndarray) and key.ndim == 0 and key.dtype != np.bool_


def _rows(key, n: int) -> np.ndarray:
    """Positions ``0..n-1`` a slice, a boolean mask or a sequence of ints selects (negative ints count from the end)."""
    if isinstance(key, slice):
        return np.arange(n)[key]
    rows = key.cpu().numpy() if isinstance(key, torch.Tensor) else np.asarray(key)
    if rows.dtype == np.bool_:
        return np.flatnonzero(rows)
    rows = rows.astype(np.int64, copy=False).reshape(-1)
    if len(rows) and (rows.min() < -n or rows.max() >= n):
        raise IndexError(f"indices {rows.min()}..{rows.max()} are out of range for {n} samples")
    return np.where(rows < 0, rows + n, rows)


# --- entries ---------------------------------------------------------------------------------------------------


def load(key: str) -> dict | None:
    """The entry stored under ``key``: ``{"x": DiskFrames, "y": ..., ...}``, or None (also for an unreadable or
    inconsistent entry, which is then removed)."""
    path = cache_dir() / key
    if cap_bytes() == 0 or not (path / FRAMES).is_file():
        return None
    try:
        frames = DiskFrames(FrameFile(path / FRAMES))
        with np.load(path / ARRAYS, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if "y" in arrays and len(arrays["y"]) != len(frames):
            raise ValueError("labels and frames differ in length")
    except (OSError, ValueError, EOFError):
        shutil.rmtree(path, ignore_errors=True)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)                                # a hit makes it the most recently used
    return {"x": frames, **arrays}


def build(key: str, total: int, row_shape: tuple[int, ...], frame: Callable[[int], np.ndarray],
          arrays: Mapping[str, np.ndarray], *, label: str, name: Callable[[int], str] = str,
          report: Progress | None = None) -> dict:
    """Frame rows ``0..total-1`` (``frame(i)``: uint8 ``row_shape``) into the entry ``key`` and return it as ``load``
    does, with ``arrays`` (numpy arrays: the labels ``y``, ...) stored beside the frames. Resumes a partial entry of
    the key (module docstring); ``report(done, total, f"framing {label}")`` as it goes; ``name(i)`` says which
    recording row i is, in errors. With the cache off (``SNN_FRAME_CACHE_MB=0``) the frames are framed into memory:
    ``{"x": np.ndarray, ...}``."""
    cap = cap_bytes()
    row_shape = tuple(int(n) for n in row_shape)
    if cap == 0:
        x = np.empty((total, *row_shape), dtype=np.uint8)
        for i in range(total):
            x[i] = _checked(frame(i), row_shape, name(i))
            _report(report, i + 1, total, label)
        return {"x": x, **arrays}
    for _ in range(3):                                # the partial folder may be renamed while we reach for its lock
        found = load(key)
        if found is not None:
            return found
        partial = cache_dir() / f"{key}{PARTIAL}"
        lock = _lock(partial)
        if lock is None:
            continue
        with lock:
            found = load(key)                         # another process finished it while we waited
            if found is None:
                _frame_into(partial, key, total, row_shape, frame, arrays, label, name, report, cap)
        if found is not None:
            with contextlib.suppress(OSError):
                partial.rmdir()                       # ours, empty; another waiter's lock file keeps it
            return found
        evict(cap, keep=key)
        found = load(key)
        if found is not None:
            return found
    raise ValueError(f"the frame cache entry {cache_dir() / key} could not be written or read back; allowed: a "
                     "frame cache folder this process may write (SNN_FRAME_CACHE_DIR)")


def _lock(partial: Path) -> contextlib.AbstractContextManager | None:
    """The partial folder's lock (folder and lock file created if needed), held while the context is entered: one
    framing process per key. None when the folder vanished meanwhile (renamed into place by the process that
    finished it)."""
    partial.mkdir(parents=True, exist_ok=True)
    try:
        handle = open(partial / LOCK, "a+b")
    except FileNotFoundError:
        return None

    @contextlib.contextmanager
    def held() -> Iterator[None]:
        with handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return held()


def _locked_by_another(path: Path) -> bool:
    """True for a partial folder another process is framing into (its lock is held)."""
    if not path.name.endswith(PARTIAL) or fcntl is None:
        return False
    try:
        with open(path / LOCK, "rb") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def _frame_into(partial: Path, key: str, total: int, row_shape: tuple[int, ...], frame: Callable[[int], np.ndarray],
                arrays: Mapping[str, np.ndarray], label: str, name: Callable[[int], str], report: Progress | None,
                cap: int) -> None:
    """Under the lock: resume or start the partial entry, frame the rows left, then rename it into place."""
    shape = (total, *row_shape)
    row_bytes = math.prod(row_shape)
    done = _resumable(partial, shape)
    path = partial / FRAMES
    if done is None:
        (partial / PROGRESS).unlink(missing_ok=True)
        needed = total * row_bytes
        evict(max(0, cap - needed), keep=key)         # make room first: the new entry counts against the cap
        done = 0
        _allocate(path, shape)
        _write_progress(partial, shape, 0)
    offset = FrameFile(path).offset
    _report(report, done, total, label)
    with open(path, "r+b") as file:
        last_sync = time.monotonic()
        i = done
        try:
            for i in range(done, total):
                row = _checked(frame(i), row_shape, name(i))
                file.seek(offset + i * row_bytes)
                file.write(np.ascontiguousarray(row).data.cast("B"))
                _report(report, i + 1, total, label)
                if (i + 1) % CHECKPOINT_EVERY == 0 or time.monotonic() - last_sync > 30:
                    _sync(file)
                    _write_progress(partial, shape, i + 1)
                    last_sync = time.monotonic()
            i = total
            _sync(file)
        except BaseException as problem:              # keep what is framed (an interrupt, a bad file, a full disk)
            with contextlib.suppress(OSError):
                _sync(file)
                _write_progress(partial, shape, i)
            if isinstance(problem, OSError) and problem.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _no_space(partial, name(i), total * row_bytes) from None
            if isinstance(problem, ValueError):
                raise ValueError(f"{problem} (framing stopped at recording {i + 1} of {total}; the {i} framed "
                                 "are kept, and the next load resumes from there)") from None
            raise
    try:
        # allow_pickle: numpy's default, named so that no entry of ``arrays`` can be taken for it
        write_atomically(partial / ARRAYS, lambda handle: np.savez(handle, allow_pickle=True, **arrays))
        (partial / PROGRESS).unlink(missing_ok=True)
        (partial / LOCK).unlink(missing_ok=True)      # the lock is held until the rename is done
        final = cache_dir() / key
        shutil.rmtree(final, ignore_errors=True)      # an unreadable leftover (load removed readable ones' need)
        os.replace(partial, final)
    except OSError as problem:
        if problem.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _no_space(partial, "the labels", total * row_bytes) from None
        raise


def _resumable(partial: Path, shape: tuple[int, ...]) -> int | None:
    """How many rows of the partial entry are framed, when it is one of these frames; else None (start over)."""
    try:
        state = json.loads((partial / PROGRESS).read_text())
        frames = FrameFile(partial / FRAMES)
    except (OSError, ValueError):
        return None
    if state.get("shape") != list(shape) or frames.shape != shape:
        return None
    done = state.get("done")
    return done if isinstance(done, int) and 0 <= done <= shape[0] else None


def _allocate(path: Path, shape: tuple[int, ...]) -> None:
    """A ``.npy`` of uint8 ``shape`` with every byte reserved on disk, so a full disk fails here, not half way."""
    try:
        header = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)   # header, sparse rows
        del header                                                                         # unmapped, untouched
        with open(path, "r+b") as file:
            if hasattr(os, "posix_fallocate"):
                try:
                    os.posix_fallocate(file.fileno(), 0, path.stat().st_size)
                except OSError as problem:             # a file system without fallocate: writes will tell
                    if problem.errno in (errno.ENOSPC, errno.EDQUOT):
                        raise
    except OSError as problem:
        if problem.errno in (errno.ENOSPC, errno.EDQUOT):
            path.unlink(missing_ok=True)
            raise _no_space(path.parent, f"{shape[0]} recordings", math.prod(shape)) from None
        raise


def _no_space(partial: Path, at: str, needed: int) -> ValueError:
    free = shutil.disk_usage(partial.parent).free if partial.parent.exists() else 0
    return ValueError(f"the disk of the frame cache {partial.parent} is full (framing {at}): the frames need "
                      f"{needed / 2**20:,.0f} MB, {free / 2**20:,.0f} MB are free; allowed: free disk space, "
                      "SNN_FRAME_CACHE_DIR on a disk with room, or fewer recordings (--train-samples, --test-samples)")


def _checked(row: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    if row.shape != shape:
        raise ValueError(f"{name}: framed to {row.shape}, expected {shape}; allowed: recordings of one sensor")
    return row.astype(np.uint8, copy=False)


def _sync(file) -> None:
    file.flush()
    os.fsync(file.fileno())


def _write_progress(partial: Path, shape: tuple[int, ...], done: int) -> None:
    text = json.dumps({"shape": list(shape), "done": int(done)}).encode()

    def write(handle: BinaryIO) -> None:
        handle.write(text)
    write_atomically(partial / PROGRESS, write)


def _report(report: Progress | None, done: int, total: int, label: str) -> None:
    if report and (done == total or done % REPORT_EVERY == 1 or done == 0):
        report(done, total, f"framing {label}")


def store(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write in-memory ``arrays`` (``x``: uint8 rows, and the rest) as the entry ``key``, then evict to the cap."""
    x = np.asarray(arrays["x"], dtype=np.uint8)
    rest = {name: value for name, value in arrays.items() if name != "x"}
    if cap_bytes():
        build(key, len(x), x.shape[1:], lambda i: x[i], rest, label=key)


def evict(cap: int, keep: str | None = None) -> list[Path]:
    """Delete least recently used entries until the folder's entries (finished, partial, and the ``.npz`` files of
    earlier versions) total at most ``cap`` bytes; ``keep`` (the entry just written) stays, and so does a partial
    entry another process is framing into. Returns what was deleted."""
    folder = cache_dir()
    if not folder.is_dir():
        return []
    return prune_to_size(folder, "*", cap, keep, spare=_locked_by_another, ours=is_entry)


ENTRY_NAME = re.compile(r"[0-9a-f]{32}(\.partial|\.npz)?")     # a key, a partial entry, an earlier version's file


def is_entry(path: Path) -> bool:
    """Whether ``path`` is one of this cache's entries, by its name (``cache_key``'s 32 hex digits): eviction never
    touches anything else in the folder, even when SNN_FRAME_CACHE_DIR names a folder that holds other files."""
    return ENTRY_NAME.fullmatch(path.name) is not None
