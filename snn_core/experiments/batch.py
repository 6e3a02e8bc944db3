"""Many training runs at once: cached results first, the rest in worker processes, one error slot per failed run.

Each run slot is a ``RunResult``: the ``train`` command's result with ``cached`` (whether it came from the
cache), ``error`` (None, or one line saying why the run failed; then ``history`` is empty and
``metrics``/``timing`` are None) and ``engine`` (the fingerprint of the code that ran it). A run that a cancel
stopped or never started has a *cancelled slot*: an error slot whose error starts with ``CANCELLED``
(``is_cancelled``), so every reader that skips failed runs skips it too.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .. import settings
from ..config.run_config import RunConfig
from ..data.fingerprint import data_fingerprint
from ..files import prune_to_size, write_atomically
from ..results.json_tree import (
    finite_tree,
    restore_non_finite,
)
from ..results.run_result import RunResult
from ..runtime import resolve_device
from .run import train_run
from .slots import cancelled_slot, engine_fingerprint, failed_slot, is_cancelled

if TYPE_CHECKING:
    from .executors import Executor

def default_cache_dir() -> Path:
    """``$SNN_RUN_CACHE_DIR``, else ``.cache/runs`` under the working folder (git-ignored in a checkout)."""
    return settings.read(settings.RUN_CACHE_DIR)
CACHE_SIZE_ENV = settings.RUN_CACHE_MB.name
CACHE_FORMAT = 1                                # the layout of a cache file; another one is a miss
STALE_TEMP_SECONDS = 3600                       # a temp file this old belongs to a writer that died: removed
FINGERPRINT_CHARS = 16                          # the fingerprint folder's name: this many hex digits of it
CACHE_MARKER = ".snn-run-cache"                  # in every folder the cache creates: "snn-run-cache <fingerprint>"
_MARKER_PREFIX = "snn-run-cache "
_FINGERPRINT_FOLDER = re.compile(rf"[0-9a-f]{{{FINGERPRINT_CHARS}}}")
_ENTRY_FILE = re.compile(r"[0-9a-f]{64}\.json")                     # an entry: its key's hash
_ENTRY_GLOB = "[0-9a-f]" * 64 + ".json"                             # the same, as a glob (pruning)
_TEMP_FILE = re.compile(r"[0-9a-f]{16}\.[a-z0-9_]+\.tmp")          # write_atomically's temp file of an entry
_OLD_LAYOUT_FILE = re.compile(r"[0-9a-f]{64}(\.\d+)?\.(json|tmp)")   # entries of the flat layout before folders
_ENTRY_START = b'{"format": '                                       # how every entry file this cache writes begins
_REQUIRED = {"config": dict, "history": list, "metrics": dict, "timing": dict}
log = logging.getLogger(__name__)
Progress = Callable[[int, int, RunResult], None]     # (done, total, run slot)
OnSlot = Callable[[int, RunResult], None]            # (index in configs, run slot)


def cache_cap_bytes(environ=os.environ) -> int:
    """``$SNN_RUN_CACHE_MB`` in bytes (``settings.RUN_CACHE_MB``: its default, and the ValueError for a value that
    is not a number of megabytes >= 0)."""
    return int(settings.read(settings.RUN_CACHE_MB, environ) * 1024 * 1024)


def _all_finite(node) -> bool:
    """No NaN or infinity anywhere in ``node`` (Python's json reads the tokens NaN and Infinity: no writer of ours
    does, so a file holding them was not written by this cache)."""
    if isinstance(node, float):
        return math.isfinite(node)
    if isinstance(node, dict):
        return all(_all_finite(value) for value in node.values())
    if isinstance(node, list):
        return all(_all_finite(value) for value in node)
    return True


def validated_result(entry, cfg: RunConfig, device_type: str) -> RunResult:
    """The result a cache file's ``entry`` (parsed JSON) holds for ``cfg`` on ``device_type``; ValueError saying
    what is wrong: not this cache's format, another device, the wrong types (``RunResult.from_json``), a non-finite
    number, or a stored config that is not ``cfg`` (a file renamed or forged: its name is a hash no reader can
    check)."""
    if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
        raise ValueError(f"not a run cache entry of format {CACHE_FORMAT}")
    result, found = entry.get("result"), entry.get("non_finite")
    if entry.get("device") != device_type:
        raise ValueError(f"stored for device {entry.get('device')!r:.40}, asked for {device_type!r}")
    if not isinstance(result, dict):
        raise ValueError(f"its result is a {type(result).__name__}, not an object")
    wrong = [f"{name} ({type(result.get(name)).__name__})" for name, kind in _REQUIRED.items()
             if not isinstance(result.get(name), kind)]
    if wrong:
        raise ValueError(f"wrong or missing parts: {', '.join(wrong)}; allowed: "
                         + ", ".join(f"{name} as {kind.__name__}" for name, kind in _REQUIRED.items()))
    if not _all_finite(result):
        raise ValueError("it holds NaN or infinity as a number (this cache stores them as null)")
    if result["config"] != json.loads(json.dumps(cfg.to_dict())):
        raise ValueError("its stored config is not the requested one")
    record = RunResult.from_json(restore_non_finite(result, found if found is not None else []))
    if record.metrics is None:          # _REQUIRED makes the metrics an object, so from_json read them
        raise ValueError("it has no metrics")
    accuracy = record.metrics.test_accuracy
    if not 0 <= accuracy <= 1:
        raise ValueError(f"its metrics.test_accuracy is {accuracy!r:.40}, not a number in [0, 1]")
    return record


class RunCache:
    """Finished runs keyed by (engine source, device, config JSON with its seed): in memory, optionally on disk.

    On disk every entry is one JSON file in ``directory/<engine fingerprint>/``, written to a unique temporary
    file in that folder and renamed into place (``files.write_atomically``), so two writers of one key,
    threads or processes, never see a partial file or each other's temp file. A file is served only when it is
    valid (``validated_result``: this format, device and config, the right types, finite numbers); anything else
    is a miss, logged, and the file removed. Folders of other engine fingerprints (an edit to ``snn_core`` makes
    their entries unreachable) and the old flat layout's files are removed when a cache opens the directory, and
    only what this cache wrote is ever removed (``_remove_orphans``): a folder it creates holds the marker file
    ``CACHE_MARKER`` naming its fingerprint, so a user's folder that merely has a 16-hex-digit name is left alone;
    the folder is kept under ``$SNN_RUN_CACHE_MB`` (``cache_cap_bytes``) by removing the least recently used
    entries (a hit renews a file's time). NaN and infinities are stored as null plus a list of where they were
    (``finite_tree``), so every file is valid JSON, and come back as they were.
    """

    def __init__(self, directory: str | Path | None = None):
        self.fingerprint = engine_fingerprint()
        self.cap = cache_cap_bytes()
        self.root = None if directory is None else Path(directory)
        self.directory = None if self.root is None else self.root / self.fingerprint[:FINGERPRINT_CHARS]
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, str] = OrderedDict()     # key -> entry JSON (parsed afresh each read), LRU
        self._memory_bytes = 0
        if self.root is not None:
            self._remove_orphans()

    def key(self, cfg: RunConfig, device: str) -> str:
        """Hash of the engine, the device type, the config and the data actually read (``data_fingerprint``: a
        real dataset's files, so a folder that gained or lost recordings never gets the old folder's result)."""
        text = f"{self.fingerprint}\n{resolve_device(device).type}\n{cfg.to_json()}\n{data_fingerprint(cfg.data)}"
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, cfg: RunConfig, device: str) -> RunResult | None:
        """The stored result of this run, or None (no entry, or one that is not valid: then it is removed)."""
        key, device_type = self.key(cfg, device), resolve_device(device).type
        with self._lock:
            text = self._memory.get(key)
            if text is not None:
                self._memory.move_to_end(key)
        path = None if self.directory is None else self.directory / f"{key}.json"
        if text is None and path is not None:
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError):           # missing (a miss) or unreadable
                return None
        if text is None:
            return None
        try:
            result = validated_result(json.loads(text), cfg, device_type)
        except (ValueError, RecursionError) as problem:     # json.JSONDecodeError is a ValueError
            log.warning("run cache: entry %s is not served (%s); removed", key[:12], problem)
            self._forget(key, path)
            return None
        if path is not None:
            self._remember(key, text)
            self._touch(path)
        return result

    def put(self, cfg: RunConfig, device: str, result: RunResult) -> None:
        """Store a successful result (its JSON form, without the batch's ``cached``/``error``); a failed write is
        logged and leaves no file behind (the run's result is still returned to its caller: a cache that cannot
        write only costs a rerun)."""
        key = self.key(cfg, device)
        directory = self.directory
        tree, found = finite_tree(replace(result, cached=None, error=None).to_json())
        entry = {"format": CACHE_FORMAT, "device": resolve_device(device).type, "result": tree, "non_finite": found}
        text = json.dumps(entry, allow_nan=False)
        self._remember(key, text)
        if directory is None:
            return

        def write(file: BinaryIO) -> None:
            file.write(text.encode())
        try:
            self._claim(directory)
            write_atomically(directory / f"{key}.json", write)
        except OSError as problem:
            log.warning("run cache: entry %s not written (%s)", key[:12], problem)
            return
        self.prune()

    def prune(self) -> None:
        """Remove the least recently used entries until the folder is within ``cap`` bytes."""
        if self.directory is None:
            return
        for path in prune_to_size(self.directory, _ENTRY_GLOB, self.cap):
            log.info("run cache: pruned %s (over %s bytes)", path.name, self.cap)

    def _remember(self, key: str, text: str) -> None:
        """Keep ``text`` in memory too, within the same cap as the folder."""
        with self._lock:
            if key in self._memory:
                self._memory_bytes -= len(self._memory.pop(key))
            self._memory[key] = text
            self._memory_bytes += len(text)
            while self._memory_bytes > self.cap and self._memory:
                _, dropped = self._memory.popitem(last=False)
                self._memory_bytes -= len(dropped)

    def _forget(self, key: str, path: Path | None) -> None:
        with self._lock:
            if key in self._memory:
                self._memory_bytes -= len(self._memory.pop(key))
        if path is not None:
            try:
                path.unlink(missing_ok=True)
            except OSError as problem:
                log.warning("run cache: could not remove %s (%s)", path, problem)

    @staticmethod
    def _touch(path: Path) -> None:
        try:
            os.utime(path)                                   # most recently used: pruned last
        except OSError:
            pass

    def _claim(self, directory: Path) -> None:
        """Create this cache's folder ``directory`` with its marker (``CACHE_MARKER``), unless the marker is there
        already."""
        marker = directory / CACHE_MARKER
        if marker.is_file():
            return
        directory.mkdir(parents=True, exist_ok=True)

        def write(file: BinaryIO) -> None:
            file.write(f"{_MARKER_PREFIX}{self.fingerprint}\n".encode())
        write_atomically(marker, write)

    def _remove_orphans(self) -> None:
        """Remove other engine fingerprints' folders, the old flat layout's files, and temp files of writers that
        died (older than ``STALE_TEMP_SECONDS``). Only what this cache wrote is touched (``_ours``): a folder is
        one of ours when it holds the marker naming a fingerprint that starts with its name (or, written before
        markers, when everything in it is an entry file of ours); in it only entry, temp and marker files are
        removed, then the folder if that left it empty. A flat-layout file must begin as every entry does."""
        root, directory = self.root, self.directory
        if root is None or directory is None:
            raise ValueError("run cache: _remove_orphans needs the cache's root folder (none was given)")
        try:
            children = list(root.iterdir())
        except OSError:                                      # no folder yet
            return
        ours = directory.name
        for child in children:
            if child.is_symlink():
                continue
            if child.name != ours and _FINGERPRINT_FOLDER.fullmatch(child.name) and _cache_folder(child):
                _empty_cache_folder(child)
            elif _OLD_LAYOUT_FILE.fullmatch(child.name) and _entry_file(child):
                _unlink(child)
        if not (directory / CACHE_MARKER).is_file():
            return
        now = time.time()
        for partial in directory.glob("*.tmp"):
            try:
                if _TEMP_FILE.fullmatch(partial.name) and now - partial.lstat().st_mtime > STALE_TEMP_SECONDS:
                    partial.unlink()
            except OSError:
                continue


def _entry_file(path: Path) -> bool:
    """A regular file (not a link) that begins as every entry this cache writes does."""
    try:
        if not path.is_file() or path.is_symlink():
            return False
        with path.open("rb") as handle:
            return handle.read(len(_ENTRY_START)) == _ENTRY_START
    except OSError:
        return False


def _cache_folder(folder: Path) -> bool:
    """Whether ``folder`` (named by 16 hex digits) is a run cache folder: its marker names a fingerprint that starts
    with the folder's name; or, from before markers, it holds entry files of ours and nothing else."""
    marker = folder / CACHE_MARKER
    try:
        if marker.is_file() and not marker.is_symlink():
            text = marker.read_bytes()[:200].decode("ascii", "replace").strip()
            return text.startswith(_MARKER_PREFIX + folder.name)
        if not folder.is_dir():
            return False
        children = list(folder.iterdir())
    except OSError:
        return False
    return bool(children) and all(_TEMP_FILE.fullmatch(child.name) and child.is_file() and not child.is_symlink()
                                  or _ENTRY_FILE.fullmatch(child.name) and _entry_file(child) for child in children)


def _empty_cache_folder(folder: Path) -> None:
    """Remove a cache folder's entries, temp files and marker, then the folder; anything else in it stays (and so
    does the folder, with its marker)."""
    try:
        children = list(folder.iterdir())
    except OSError:
        return
    others = []
    for child in children:
        if child.name != CACHE_MARKER and (_ENTRY_FILE.fullmatch(child.name) or _TEMP_FILE.fullmatch(child.name)) \
                and child.is_file() and not child.is_symlink():
            _unlink(child)
        elif child.name != CACHE_MARKER:
            others.append(child.name)
    if others:
        log.warning("run cache: kept %s (another engine fingerprint) for what it holds that the cache did not "
                    "write: %s", folder, ", ".join(sorted(others)[:5]))
        return
    _unlink(folder / CACHE_MARKER)
    try:
        folder.rmdir()
        log.info("run cache: removed %s (another engine fingerprint)", folder)
    except OSError:
        pass


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as problem:
        log.warning("run cache: could not remove %s (%s)", path, problem)


class RunCancelled(Exception):
    """Raised inside a run (after an epoch) when its batch was cancelled; ``run_safely`` turns it into a cancelled
    slot."""


def run_safely(cfg: RunConfig, device: str, cancel: threading.Event | None = None) -> RunResult:
    """``train_run`` as a run slot: any exception becomes ``error`` instead of propagating. With ``cancel`` (runs in
    this process only), a set event stops the run after its current epoch and gives a cancelled slot."""
    def check(_record: object) -> None:
        if cancel is not None and cancel.is_set():      # only passed to train_run with a cancel event
            raise RunCancelled
    try:
        result = train_run(cfg, device=device) if cancel is None else train_run(cfg, device=device, on_epoch=check)
        return replace(result, cached=False, error=None)
    except RunCancelled:
        return cancelled_slot(cfg)
    except Exception as problem:       # noqa: BLE001 - one failed run must not sink the batch
        return failed_slot(cfg, problem)


def run_many(configs: Sequence[RunConfig], *, workers: int | Executor = 1, threads: int | None = None,
             device: str = "auto", cache: RunCache | None = None, progress: Progress | None = None,
             on_slot: OnSlot | None = None, cancel: threading.Event | None = None) -> list[RunResult]:
    """Run slots in the order of ``configs``; cache hits cost nothing, the rest run on ``workers``.

    ``workers`` is where the runs go (``experiments.executors``): a number is the local executor, where 1 runs in
    this process (with its current torch threads) and more start that many processes, each with ``threads`` torch
    threads (None: $SNN_THREADS or 1, see ``configure_threads``); or an ``Executor`` such as ``RayExecutor`` (one
    Ray task per run). Whichever runs them, each run is ``run_safely(cfg, device)`` and the cache is this one.
    ``progress(done, total, slot)`` follows each finished run, cache hits included; ``on_slot(index, slot)``
    too, with the run's index in ``configs`` (a caller that shows results seed by seed places it with that).
    Every slot names the engine fingerprint of this code (a Ray worker's is checked to be the same).

    ``cancel``: once the event is set (from another thread, or from a callback), no run starts, and the call
    returns without waiting for the runs under way: a worker process is terminated, a run in this process stops
    after its current epoch (the soonest point a run can stop without losing what it was doing). Cache hits
    still count (they cost nothing), and every run that finished is already in ``cache``; each run that did not
    finish gets a cancelled slot (``is_cancelled``; no callback is called for it). Every worker process has
    ended when this returns, cancelled or not, and when it raises (a KeyboardInterrupt: the command line's Ctrl-C,
    whose caller keeps the slots ``on_slot`` gave it): the runs under way are stopped as by a cancel.
    """
    from .executors import as_executor  # executors imports this module's run_safely: imported when needed

    executor = as_executor(workers, threads)
    engine = engine_fingerprint() if cache is None else cache.fingerprint
    slots: list[RunResult | None] = [None] * len(configs)
    done = 0

    def finish(index: int, slot: RunResult) -> None:
        nonlocal done
        slot = replace(slot, engine=engine)
        slots[index], done = slot, done + 1
        if on_slot is not None:
            on_slot(index, slot)
        if progress is not None:
            progress(done, len(configs), slot)

    pending = []
    for index, cfg in enumerate(configs):
        hit = None if cache is None else cache.get(cfg, device)
        if hit is None:
            pending.append(index)
        else:
            finish(index, replace(hit, cached=True, error=None))
    finishing = executor.execute(run_safely, configs, pending, device, cancel)
    try:
        for index, slot in finishing:
            if is_cancelled(slot):
                continue
            if cache is not None and slot.error is None:
                cache.put(configs[index], device, slot)
            finish(index, slot)
    finally:        # an exception here (Ctrl-C's KeyboardInterrupt) stops the runs under way at once, as a cancel
        finishing.close()
    return [cancelled_slot(cfg) if slot is None else slot for cfg, slot in zip(configs, slots)]
