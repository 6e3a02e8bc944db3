"""Where a batch's runs go: one interface, ``Executor.execute``, and two executors behind it.

``LocalExecutor`` is this machine: one run after another in this process, or a pool of worker processes.
``RayExecutor`` hands each run to Ray as one task (a local Ray instance, or a cluster joined by address).
Either way a run is ``run(cfg, device)`` (``batch.run_safely``, handed in by ``batch.run_many``): the same config
in, the same result slot out, and the
caller (``batch.run_many``) reads and fills the same run cache, so results do not depend on who ran them.
Ray is imported only when a ``RayExecutor`` starts; without it, asking for one is a ValueError saying how to
install it.
"""
from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing import spawn
from pathlib import Path
from typing import Protocol, runtime_checkable

from .. import settings
from ..config.run_config import RunConfig
from ..data import DATASETS, folders
from ..results.run_result import RunResult
from ..runtime import configure_threads
from .slots import engine_fingerprint, failed_slot

CANCEL_POLL_SECONDS = 0.1                       # how often a wait looks at the cancel event
EXECUTORS = ("local", "ray")
RAY_INSTALL = "pip install 'ray[client]==2.60.0' (or the project's dev extra: pip install -e .[dev])"
WORKER_FOLDERS = (settings.DATA_DIR, settings.FRAME_CACHE_DIR)  # sent to Ray workers as the driver's absolute paths
Slots = Generator[tuple[int, RunResult], None, None]   # (index in configs, run slot) as each run finishes; a
                                                       # caller that stops early closes it (``run_many``)
Run = Callable[..., RunResult]                  # run(cfg, device[, cancel]) -> run slot, never raising


@runtime_checkable
class Executor(Protocol):
    def execute(self, run: Run, configs: Sequence[RunConfig], pending: list[int], device: str,
                cancel: threading.Event | None) -> Slots:
        """(index, ``run(configs[index], device)``) for each index in ``pending``, as it finishes, until
        ``cancel`` is set (then it returns without the rest, leaving nothing running)."""


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


class LocalExecutor:
    """This machine: ``workers = 1`` runs in this process, more start that many worker processes, each with
    ``threads`` torch threads (None: $SNN_THREADS or 1)."""

    def __init__(self, workers: int = 1, threads: int | None = None):
        if workers < 1 or (threads is not None and threads < 1):
            raise ValueError(f"workers={workers}, threads={threads} are not valid; allowed: positive integers")
        self.workers, self.threads = workers, threads

    def __str__(self) -> str:
        return str(self.workers)

    def execute(self, run: Run, configs: Sequence[RunConfig], pending: list[int], device: str,
                cancel: threading.Event | None) -> Slots:
        if not pending or _cancelled(cancel):
            return
        if self.workers == 1:
            for index in pending:
                if _cancelled(cancel):
                    return
                yield index, run(configs[index], device, cancel)
            return
        pool = ProcessPoolExecutor(min(self.workers, len(pending)), mp_context=_context(),
                                   initializer=worker_setup, initargs=(self.threads,))
        stopped = False
        try:
            with _main_script_hidden():        # the pool starts its processes as runs are submitted
                futures = {pool.submit(run, configs[index], device): index for index in pending}
            waiting = set(futures)
            while waiting and not _cancelled(cancel):
                finished, waiting = wait(waiting, timeout=CANCEL_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = futures[future]
                    try:
                        yield index, future.result()
                    except Exception as problem:   # noqa: BLE001 - e.g. a worker killed for memory
                        yield index, failed_slot(configs[index], problem)
        except BaseException:       # the caller stopped early (GeneratorExit) or was interrupted: stop the workers
            stopped = True
            raise
        finally:
            _stop_pool(pool, stopped or _cancelled(cancel))


def worker_setup(threads: int | None) -> None:
    """A pool worker's start: ``threads`` torch threads, and Ctrl-C ignored. A terminal's Ctrl-C reaches the whole
    process group; the parent alone decides (``run_many`` stops the pool), so no worker dies mid-run with a
    traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_threads(threads)


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
                patched = spawn.get_preparation_data
                if not isinstance(patched, functools.partial):
                    raise RuntimeError(f"multiprocessing.spawn.get_preparation_data is {patched!r:.80}, not the "
                                       "patch _main_script_hidden installed")
                spawn.get_preparation_data = patched.args[0]


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


def _ray_module():
    """``ray``, imported now; ValueError saying how to install it when it is not."""
    try:
        import ray
    except ImportError:
        raise ValueError(f"--executor ray needs Ray, which is not installed; install it with {RAY_INSTALL}") from None
    return ray


def ray_run(run: Run, cfg: RunConfig, device: str, threads: int | None) -> tuple[str, RunResult]:
    """One run as a Ray task: the worker's engine fingerprint (its ``snn_core`` source) and the run slot."""
    configure_threads(threads)
    return engine_fingerprint(), run(cfg, device)


def worker_environment() -> dict[str, str]:
    """The folder settings (``WORKER_FOLDERS``) as this process reads them, each an absolute path, for the Ray
    workers' environment: a worker reads ``$SNN_DATA_DIR`` and the frame cache (``.cache/frames`` unset) relative
    to its own working folder, where ``ray start`` ran, so a relative one would name another folder there."""
    chosen = {setting.name: settings.read(setting) for setting in WORKER_FOLDERS}
    return {name: os.path.abspath(os.path.expanduser(folder)) for name, folder in chosen.items() if folder is not None}


def _data_folder(cfg: RunConfig) -> Path | None:
    """The folder a run of ``cfg`` here reads, named as that run names it (``folders.resolve_root``: the data folder
    as given, else the first default place that exists here); None for a procedural dataset, or when no default
    place exists here (the worker then fails with the message a local run gives)."""
    data = cfg.data
    if data.dataset not in DATASETS or not DATASETS[data.dataset].reads_folder:
        return None
    if data.data_dir:
        return Path(os.path.expanduser(data.data_dir))       # as resolve_root reads it, whether it exists or not
    try:
        return folders.resolve_root("", data.dataset)
    except ValueError:
        return None


def for_worker(cfg: RunConfig) -> RunConfig:
    """``cfg`` with its data folder as the absolute path of the folder a run here reads (``_data_folder``), so a
    worker anywhere reads that folder and never one relative to its own working folder; else ``cfg`` itself."""
    here = _data_folder(cfg)
    if here is None:
        return cfg
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, data_dir=os.path.abspath(here)))


def as_run_here(slot: RunResult, cfg: RunConfig) -> RunResult:
    """A worker's ``slot`` of ``for_worker(cfg)`` as the slot a run of ``cfg`` here gives: ``cfg`` itself (the JSON
    and the run cache's entry are the original config's) and the data source naming the folder as ``cfg`` does
    (``"<dataset> from <folder>: ..."``, ``data.real``), so the JSON equals the local executor's."""
    here, data = _data_folder(cfg), slot.data
    if here is not None and data is not None:
        sent = f"{cfg.data.dataset} from {os.path.abspath(here)}:"
        if data.source.startswith(sent):
            data = dataclasses.replace(data, source=f"{cfg.data.dataset} from {here}:" + data.source[len(sent):])
    return dataclasses.replace(slot, config=cfg, data=data)


class RayExecutor:
    """One Ray task per run. ``address``: the cluster to join (``ray.init(address=...)``: "auto" or "HEAD:6379" on a
    cluster node, "ray://HEAD:10001" through Ray Client from anywhere); None starts a local Ray instance with
    ``cpus`` CPUs, unless Ray is already initialised in this process (then that instance is used, as a test's
    ``ray.init(num_cpus=2)``). A worker's working folder is where its node's ``ray start`` ran, so each task gets
    what this process would read relative to its own: the config's data folder (``for_worker``) and the folder
    settings (``worker_environment``) as absolute paths; its slot comes back holding the original config
    (``as_run_here``). A task whose worker runs other ``snn_core`` code than this process (another engine
    fingerprint) gives a failed slot saying so: its result would not be the one cached under this code."""

    def __init__(self, address: str | None = None, cpus: int = 1, threads: int | None = None):
        if cpus < 1 or (threads is not None and threads < 1):
            raise ValueError(f"workers={cpus}, threads={threads} are not valid; allowed: positive integers")
        self.address, self.cpus, self.threads = address, cpus, threads
        self.ray = _ray_module()

    def __str__(self) -> str:
        return f"Ray ({self.address or f'local, {self.cpus} CPUs'})"

    def _start(self) -> None:
        if not self.ray.is_initialized():
            options = {"address": self.address} if self.address else {"num_cpus": self.cpus}
            self.ray.init(**options, log_to_driver=False, include_dashboard=False)

    def execute(self, run: Run, configs: Sequence[RunConfig], pending: list[int], device: str,
                cancel: threading.Event | None) -> Slots:
        if not pending or _cancelled(cancel):
            return
        self._start()
        task = self.ray.remote(num_cpus=1, num_gpus=1 if device == "cuda" else 0, max_retries=0,
                               runtime_env={"env_vars": worker_environment()})(ray_run)
        ours = engine_fingerprint()
        refs = {task.remote(run, for_worker(configs[index]), device, self.threads): index for index in pending}
        waiting = list(refs)
        try:
            while waiting and not _cancelled(cancel):
                finished, waiting = self.ray.wait(waiting, num_returns=1, timeout=CANCEL_POLL_SECONDS)
                for ref in finished:
                    yield refs[ref], self._slot(ref, configs[refs[ref]], ours)
        finally:
            for ref in waiting:
                self.ray.cancel(ref, force=True)

    def _slot(self, ref, cfg: RunConfig, ours: str) -> RunResult:
        try:
            theirs, slot = self.ray.get(ref)
        except Exception as problem:       # noqa: BLE001 - a task lost with its node, or killed for memory
            return failed_slot(cfg, problem)
        if theirs != ours:
            return failed_slot(cfg, ValueError(f"the Ray worker runs other snn_core code (engine {theirs[:12]}, here "
                                               f"{ours[:12]}); install this checkout on every node"))
        return as_run_here(slot, cfg)


def executor_for(name: str, workers: int = 1, threads: int | None = None, address: str | None = None) -> Executor:
    """The executor the CLI's ``--executor NAME`` (``--workers``, ``--threads``, ``--ray-address``) names."""
    if name == "local":
        if address is not None:
            raise ValueError("--ray-address needs --executor ray; allowed: --executor ray --ray-address ADDR")
        return LocalExecutor(workers, threads)
    if name == "ray":
        return RayExecutor(address, workers, threads)
    raise ValueError(f"--executor {name!r} is not known; allowed: {', '.join(EXECUTORS)}")


def as_executor(workers: int | Executor, threads: int | None = None) -> Executor:
    """``workers`` as an executor: a number of local workers, or an executor as it is."""
    return workers if isinstance(workers, Executor) else LocalExecutor(workers, threads)
