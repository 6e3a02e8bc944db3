"""Many training runs at once: cached results first, the rest in worker processes, one error slot per failed run.

Each run slot is the ``train`` command's result (``config, history, metrics, timing``) plus
``cached`` (whether it came from the cache) and ``error`` (None, or one line saying why the
run failed; then ``history`` is empty and ``metrics``/``timing`` are None). A run that a cancel
stopped or never started has a *cancelled slot*: an error slot whose error starts with ``CANCELLED``
(``is_cancelled``), so every reader that skips failed runs skips it too.
"""
from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import spawn
from pathlib import Path

import torch

from ..config.run_config import RunConfig
from ..runtime import configure_threads, resolve_device
from .run import train_run

DEFAULT_CACHE_DIR = Path(".cache") / "runs"     # git-ignored
Progress = Callable[[int, int, dict], None]     # (done, total, run slot)
OnSlot = Callable[[int, dict], None]            # (index in configs, run slot)
CANCELLED = "Cancelled"                         # the error of a run that a cancel stopped or never started
CANCEL_POLL_SECONDS = 0.1                       # how often a pool's wait looks at the cancel event


def engine_fingerprint() -> str:
    """SHA-256 of the torch version and every ``snn_core`` source file: a code change never serves a
    stale cached result."""
    digest = hashlib.sha256(torch.__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class RunCache:
    """Finished runs keyed by (engine source, device, config JSON with its seed): in memory, optionally on disk."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = None if directory is None else Path(directory)
        self.fingerprint = engine_fingerprint()
        self._memory: dict[str, str] = {}          # key -> result JSON (a copy each read)

    def key(self, cfg: RunConfig, device: str) -> str:
        text = f"{self.fingerprint}\n{resolve_device(device).type}\n{cfg.to_json()}"
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, cfg: RunConfig, device: str) -> dict | None:
        """The stored result of this run, or None."""
        key = self.key(cfg, device)
        if key in self._memory:
            return json.loads(self._memory[key])
        if self.directory is None:
            return None
        try:
            text = (self.directory / f"{key}.json").read_text()
            result = json.loads(text)
        except (OSError, ValueError):              # missing or unreadable file: a miss
            return None
        self._memory[key] = text
        return result

    def put(self, cfg: RunConfig, device: str, result: dict) -> None:
        """Store a successful result (written to a temporary file, then renamed into place)."""
        key = self.key(cfg, device)
        text = self._memory[key] = json.dumps(result)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.directory / f"{key}.{os.getpid()}.tmp"
            partial.write_text(text)
            os.replace(partial, self.directory / f"{key}.json")


class RunCancelled(Exception):
    """Raised inside a run (after an epoch) when its batch was cancelled; ``run_safely`` turns it into a cancelled
    slot."""


def run_safely(cfg: RunConfig, device: str, cancel: threading.Event | None = None) -> dict:
    """``train_run`` as a run slot: any exception becomes ``error`` instead of propagating. With ``cancel`` (runs in
    this process only), a set event stops the run after its current epoch and gives a cancelled slot."""
    def check(_record) -> None:
        if cancel.is_set():
            raise RunCancelled
    try:
        result = train_run(cfg, device=device) if cancel is None else train_run(cfg, device=device, on_epoch=check)
        return {**result, "cached": False, "error": None}
    except RunCancelled:
        return cancelled_slot(cfg)
    except Exception as problem:       # noqa: BLE001 - one failed run must not sink the batch
        return failed_slot(cfg, problem)


def failed_slot(cfg: RunConfig, problem: BaseException) -> dict:
    message = str(problem).splitlines()[0] if str(problem) else ""
    return {"config": cfg.to_dict(), "history": [], "metrics": None, "timing": None, "cached": False,
            "error": f"{type(problem).__name__}: {message}"}


def cancelled_slot(cfg: RunConfig) -> dict:
    return {"config": cfg.to_dict(), "history": [], "metrics": None, "timing": None, "cached": False,
            "error": f"{CANCELLED}: the batch was cancelled before this run finished"}


def is_cancelled(slot: dict | None) -> bool:
    """Whether ``slot`` is a cancelled slot (a run stopped or never started by a cancel), not a failed run."""
    return slot is not None and (slot.get("error") or "").startswith(CANCELLED)


def run_many(configs: Sequence[RunConfig], *, workers: int = 1, threads: int | None = None,
             device: str = "auto", cache: RunCache | None = None, progress: Progress | None = None,
             on_slot: OnSlot | None = None, cancel: threading.Event | None = None) -> list[dict]:
    """Run slots in the order of ``configs``; cache hits cost nothing, the rest run on ``workers``.

    ``workers = 1`` runs in this process (with its current torch threads); more start that many
    processes, each with ``threads`` torch threads (None: $SNN_THREADS or 1, see ``configure_threads``).
    ``progress(done, total, slot)`` follows each finished run, cache hits included; ``on_slot(index, slot)``
    too, with the run's index in ``configs`` (a caller that shows results seed by seed places it with that).

    ``cancel``: once the event is set (from another thread, or from a callback), no run starts, and the call
    returns without waiting for the runs under way: a worker process is terminated, a run in this process stops
    after its current epoch (the soonest point a run can stop without losing what it was doing). Cache hits
    still count (they cost nothing), and every run that finished is already in ``cache``; each run that did not
    finish gets a cancelled slot (``is_cancelled``; no callback is called for it). Every worker process has
    ended when this returns, cancelled or not.
    """
    if workers < 1 or (threads is not None and threads < 1):
        raise ValueError(f"workers={workers}, threads={threads} are not valid; allowed: positive integers")
    slots: list[dict | None] = [None] * len(configs)
    done = 0

    def finish(index: int, slot: dict) -> None:
        nonlocal done
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
            finish(index, {**hit, "cached": True, "error": None})
    for index, slot in _execute(configs, pending, workers, threads, device, cancel):
        if is_cancelled(slot):
            continue
        if cache is not None and slot["error"] is None:
            cache.put(configs[index], device, {k: v for k, v in slot.items() if k not in ("cached", "error")})
        finish(index, slot)
    return [cancelled_slot(cfg) if slot is None else slot for cfg, slot in zip(configs, slots)]


def _execute(configs: Sequence[RunConfig], pending: list[int], workers: int, threads: int | None,
             device: str, cancel: threading.Event | None) -> Iterator[tuple[int, dict]]:
    """(index, slot) of each pending run as it finishes, in-process or from a process pool, until ``cancel``."""
    def cancelled() -> bool:
        return cancel is not None and cancel.is_set()

    if not pending or cancelled():
        return
    if workers == 1:
        for index in pending:
            if cancelled():
                return
            yield index, run_safely(configs[index], device, cancel)
        return
    pool = ProcessPoolExecutor(min(workers, len(pending)), mp_context=_context(), initializer=configure_threads,
                               initargs=(threads,))
    try:
        with _main_script_hidden():        # the pool starts its processes as runs are submitted
            futures = {pool.submit(run_safely, configs[index], device): index for index in pending}
        waiting = set(futures)
        while waiting and not cancelled():
            finished, waiting = wait(waiting, timeout=CANCEL_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in finished:
                index = futures[future]
                try:
                    yield index, future.result()
                except Exception as problem:   # noqa: BLE001 - e.g. a worker killed for memory
                    yield index, failed_slot(configs[index], problem)
    finally:
        _stop_pool(pool, cancelled())


def _stop_pool(pool: ProcessPoolExecutor, cancelled: bool) -> None:
    """Shut ``pool`` down; when cancelled, first terminate its workers instead of letting their runs finish.

    Python 3.14 has ``ProcessPoolExecutor.terminate_workers`` for this; before it, the same by hand: queued runs
    are dropped (``cancel_futures``), each live worker is terminated, and then the shutdown has nothing to wait for.
    """
    if cancelled:
        workers = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers:
            if process.is_alive():
                process.terminate()
        for process in workers:
            process.join()
    pool.shutdown(wait=True, cancel_futures=True)


_HIDING = threading.Lock()
_hiding = 0                        # pool starts under way that hide the main script (one patch serves them all)
_MAIN_KEYS = ("init_main_from_path", "init_main_from_name")


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start workers without the parent's ``__main__`` script: multiprocessing sends each new worker the main
    script's path, and the worker runs that file again first; under Streamlit (and AppTest) that is whichever page
    script ran last, which must not run again, headless, in a worker.

    Swapping ``sys.modules["__main__"]`` for the start is not enough when a background job starts the pool: the
    script thread binds ``__main__`` anew at every page run (a status panel's, every second), so the swap races
    with it. Instead, while workers start, the preparation data multiprocessing sends them
    (``multiprocessing.spawn.get_preparation_data``, which nothing else replaces) leaves the main script out.
    """
    global _hiding
    with _HIDING:
        if _hiding == 0:
            spawn.get_preparation_data = functools.partial(_without_main, spawn.get_preparation_data)
        _hiding += 1
    try:
        yield
    finally:
        with _HIDING:
            _hiding -= 1
            if _hiding == 0:
                spawn.get_preparation_data = spawn.get_preparation_data.args[0]


def _without_main(prepare: Callable[[str], dict], name: str) -> dict:
    data = prepare(name)
    for key in _MAIN_KEYS:
        data.pop(key, None)
    return data


def _context():
    """``forkserver`` where it exists, else ``spawn``; never plain fork (torch + fork is fragile).

    The fork server imports torch once and forks each worker from that clean, idle process. It
    also imports ``torch._dynamo``, which Adam's constructor would otherwise import (~2 s) in
    every worker; a module missing from the preload list is skipped, not an error.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["snn_core.experiments.run", "torch._dynamo"])
    return context
