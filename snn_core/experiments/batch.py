"""Many training runs at once: cached results first, the rest in worker processes, one error slot per failed run.

Each run slot is the ``train`` command's result (``config, history, metrics, timing``) plus
``cached`` (whether it came from the cache) and ``error`` (None, or one line saying why the
run failed; then ``history`` is empty and ``metrics``/``timing`` are None).
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

import torch

from ..config.run_config import RunConfig
from ..runtime import configure_threads, resolve_device
from .run import train_run

DEFAULT_CACHE_DIR = Path(".cache") / "runs"     # git-ignored
Progress = Callable[[int, int, dict], None]     # (done, total, run slot)


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


def run_safely(cfg: RunConfig, device: str) -> dict:
    """``train_run`` as a run slot: any exception becomes ``error`` instead of propagating."""
    try:
        return {**train_run(cfg, device=device), "cached": False, "error": None}
    except Exception as problem:       # noqa: BLE001 - one failed run must not sink the batch
        return failed_slot(cfg, problem)


def failed_slot(cfg: RunConfig, problem: BaseException) -> dict:
    message = str(problem).splitlines()[0] if str(problem) else ""
    return {"config": cfg.to_dict(), "history": [], "metrics": None, "timing": None, "cached": False,
            "error": f"{type(problem).__name__}: {message}"}


def run_many(configs: Sequence[RunConfig], *, workers: int = 1, threads: int | None = None,
             device: str = "auto", cache: RunCache | None = None, progress: Progress | None = None) -> list[dict]:
    """Run slots in the order of ``configs``; cache hits cost nothing, the rest run on ``workers``.

    ``workers = 1`` runs in this process (with its current torch threads); more start that many
    processes, each with ``threads`` torch threads (None: $SNN_THREADS or 1, see ``configure_threads``).
    ``progress(done, total, slot)`` follows each finished run, cache hits included.
    """
    if workers < 1 or (threads is not None and threads < 1):
        raise ValueError(f"workers={workers}, threads={threads} are not valid; allowed: positive integers")
    slots: list[dict | None] = [None] * len(configs)
    done = 0

    def finish(index: int, slot: dict) -> None:
        nonlocal done
        slots[index], done = slot, done + 1
        if progress is not None:
            progress(done, len(configs), slot)

    pending = []
    for index, cfg in enumerate(configs):
        hit = None if cache is None else cache.get(cfg, device)
        if hit is None:
            pending.append(index)
        else:
            finish(index, {**hit, "cached": True, "error": None})
    for index, slot in _execute(configs, pending, workers, threads, device):
        if cache is not None and slot["error"] is None:
            cache.put(configs[index], device, {k: v for k, v in slot.items() if k not in ("cached", "error")})
        finish(index, slot)
    return slots


def _execute(configs: Sequence[RunConfig], pending: list[int], workers: int, threads: int | None,
             device: str) -> Iterator[tuple[int, dict]]:
    """(index, slot) of each pending run as it finishes, in-process or from a process pool."""
    if not pending:
        return
    if workers == 1:
        for index in pending:
            yield index, run_safely(configs[index], device)
        return
    with _main_script_hidden(), ProcessPoolExecutor(min(workers, len(pending)), mp_context=_context(),
                                                    initializer=configure_threads, initargs=(threads,)) as pool:
        futures = {pool.submit(run_safely, configs[index], device): index for index in pending}
        for future in as_completed(futures):
            index = futures[future]
            try:
                yield index, future.result()
            except Exception as problem:   # noqa: BLE001 - e.g. a worker killed for memory
                yield index, failed_slot(configs[index], problem)


@contextmanager
def _main_script_hidden() -> Iterator[None]:
    """Start workers without the parent's ``__main__`` script: multiprocessing re-imports that file in the
    fork server, and under Streamlit (and AppTest) ``__main__`` is whichever page script ran last, which
    must not run again, headless, in a worker."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


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
