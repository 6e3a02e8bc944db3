"""Background jobs: a long action (many runs, or a training) in a daemon thread, watched from the page.

Streamlit allows ``st.*`` calls from the script's thread only, so a job's thread touches nothing but a
``Control`` (plain Python, under a lock); the page reads ``Snapshot``s of it. ``panel`` shows a running job in a
fragment that re-runs every ``POLL_SECONDS`` (runs done / total, elapsed, time left, **Cancel**) and reruns the
whole page when a run finishes or the job ends, so the page redraws its results from the runs finished so far.

A job lives in one session's ``st.session_state`` (never in a cache shared between sessions), so two sessions
never share one. The thread holds the ``Control``, never the ``Job``: when a session ends and its state is
garbage-collected, the ``Job``'s finaliser sets the cancel event, and the thread (a daemon, which never keeps the
server from exiting) stops at its next check; a worker pool it drives terminates its processes (``run_many``).

A job's runs count against the server's shared memory budget (``snn_core.config.budget.LEDGER``) while they run: a
training reserves its run's estimate, a batch its workers' (each worker one run at a time, the largest counted);
a refusal ends the job as FAILED, its message naming what is reserved and what to lower. A job's trainers are its
own (never the session's Train & watch run), and each step holds that trainer's lock (``Trainer.step``).
"""
from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from snn_core.config import budget as admission
from snn_core.config.budget import out_of_memory_message
from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig
from snn_core.experiments.batch import RunCache, is_cancelled, run_many
from snn_core.results import RunResult
from snn_core.training.trainer import Trainer

from .text import escape_markdown

RUNNING, FINISHED, CANCELLED, FAILED = "running", "finished", "cancelled", "failed"
POLL_SECONDS = 1.0          # how often a running job's panel looks at it


class JobCancelled(Exception):
    """Raised by ``Control.check`` inside a job's work when Cancel was pressed: the job ends as cancelled."""


@dataclass(frozen=True)
class Snapshot:
    """A job at one moment, as the page reads it (a copy: the thread goes on without touching it)."""

    label: str
    state: str                         # RUNNING, FINISHED, CANCELLED or FAILED
    done: int                          # runs finished (cache hits included)
    total: int
    cached: int                        # of ``done``, runs that came from the run cache
    fraction: float                    # 0..1, for the progress bar
    text: str                          # what the job does now
    elapsed: float                     # seconds since it started (until it ended, once it has)
    remaining: float | None            # estimated seconds left; None until the first run or step is measured
    cancelling: bool                   # Cancel pressed, the job not yet stopped
    slots: tuple[RunResult | None, ...]  # each run's slot once it finished, else None (batch jobs)
    value: Any                         # what the work returned (once FINISHED)
    error: str | None                  # why it FAILED
    version: int                       # changes when a run finishes or the job ends: the page redraws then
    meta: dict = field(default_factory=dict)     # what the page needs to read the slots (arms, seeds, configs)

    @property
    def running(self) -> bool:
        return self.state == RUNNING


class Control:
    """The work's side of a job: the cancel event, and progress reports that any thread may make."""

    def __init__(self, total: int, owner: str | None = None):
        if total < 1:
            raise ValueError(f"a job of {total} runs is not valid; allowed: 1 or more runs")
        self.owner = owner                      # the session's token in the memory ledger (its own reservations)
        self.cancel = threading.Event()
        self._lock = threading.Lock()
        self._total, self._slots = total, [None] * total
        self._done = self._cached = self._version = 0
        self._fraction, self._text = 0.0, "starting..."
        self._started, self._ended = time.monotonic(), None
        self._state, self._value, self._error = RUNNING, None, None

    def check(self) -> None:
        """Raise ``JobCancelled`` if Cancel was pressed (call it between steps of the work)."""
        if self.cancel.is_set():
            raise JobCancelled

    def slot(self, index: int, slot: RunResult) -> None:
        """Run ``index`` finished with ``slot`` (``run_many``'s ``on_slot``)."""
        with self._lock:
            self._slots[index] = slot
            self._done += 1
            self._cached += bool(slot.cached)
            self._fraction = self._done / self._total
            outcome = slot.error or f"test accuracy {slot.metrics.test_accuracy:.1%}"
            self._text = f"last run finished: {outcome}{' (from the cache)' if slot.cached else ''}"
            self._version += 1

    def advance(self, fraction: float, text: str, done: int | None = None) -> None:
        """Progress within the work (training steps): ``fraction`` of the whole job, what it does, runs done."""
        with self._lock:
            self._fraction, self._text = min(max(fraction, 0.0), 1.0), text
            if done is not None and done != self._done:
                self._done, self._version = done, self._version + 1

    def end(self, state: str, value: Any = None, error: str | None = None) -> None:
        with self._lock:
            self._state, self._value, self._error = state, value, error
            self._ended, self._version = time.monotonic(), self._version + 1
            if state == FINISHED:
                self._done, self._fraction = self._total, 1.0

    def snapshot(self, label: str, meta: dict) -> Snapshot:
        with self._lock:
            elapsed = (self._ended or time.monotonic()) - self._started
            return Snapshot(label, self._state, self._done, self._total, self._cached, self._fraction, self._text,
                            elapsed, self._remaining(elapsed), self.cancel.is_set() and self._state == RUNNING,
                            tuple(self._slots), self._value, self._error, self._version, meta)

    def _remaining(self, elapsed: float) -> float | None:
        """Seconds left at the pace of the work measured so far: cache hits cost nothing and are left out, so the
        estimate starts with the first run (or step) actually computed."""
        if self._state != RUNNING:
            return 0.0
        work = self._total - self._cached
        measured = (self._fraction * self._total - self._cached) / work if work else 1.0
        return elapsed * (1 - measured) / measured if measured > 0 else None


Work = Callable[[Control], Any]


class Job:
    """One long action of one session, started at once in a daemon thread; ``snapshot()`` reads it, ``cancel()``
    stops it (the work sees ``Control.cancel``)."""

    def __init__(self, label: str, total: int, work: Work, meta: dict | None = None):
        self.label, self.meta = label, dict(meta or {})
        self._control = Control(total, _session_owner())
        weakref.finalize(self, self._control.cancel.set)      # the session ended: stop the thread
        self._thread = threading.Thread(target=_work_in_thread, args=(self._control, work), daemon=True,
                                        name=f"snn job: {label}")
        self._thread.start()

    def snapshot(self) -> Snapshot:
        return self._control.snapshot(self.label, self.meta)

    def cancel(self) -> None:
        self._control.cancel.set()

    def wait(self, timeout: float | None = None) -> Snapshot:
        """Block until the job ends (or ``timeout`` passes); the page never does this, scripts and tests may."""
        self._thread.join(timeout)
        return self.snapshot()


def _session_owner() -> str | None:
    """The starting session's ledger token (``state.owner``); None outside a script run (scripts, tests)."""
    from .state import owner

    try:
        return owner()
    except Exception:                 # noqa: BLE001 - no session here: the job's reservations are just unnamed
        return None


def _work_in_thread(control: Control, work: Work) -> None:
    """Run ``work``; whatever it raises ends the job (MemoryError included) as FAILED with one message, so the
    thread never dies with an unseen traceback and the page says why (an out-of-memory error: which settings to
    lower, ``snn_core.config.budget.out_of_memory_message``)."""
    try:
        value = work(control)
    except JobCancelled:
        control.end(CANCELLED)
    except Exception as problem:      # noqa: BLE001 - the page shows it; the session goes on
        control.end(FAILED, error=failure_line(problem))
    else:
        control.end(FINISHED, value)


def failure_line(problem: BaseException) -> str:
    """Why a job failed, in one line: what to lower when memory ran out, else the exception's type and first line."""
    memory = out_of_memory_message(problem)
    if memory is not None:
        return memory
    text = str(problem).splitlines()[0] if str(problem) else "no details"
    return f"{type(problem).__name__}: {text}"


def batch_work(configs: Sequence[RunConfig], *, workers: int, cache: RunCache, device: str = "auto") -> Work:
    """``run_many`` of ``configs`` as a job's work: each finished run lands in the job's slots as it comes, a cancel
    stops the pool, finished runs stay in ``cache`` (so running the same configs again resumes), and the job ends
    cancelled when a run did not finish."""
    configs = list(configs)

    def work(control: Control) -> list[RunResult]:
        at_once = max(1, min(workers, len(configs))) if isinstance(workers, int) else 1   # a Ray cluster: elsewhere
        need = at_once * max(admission.run_bytes(cfg) for cfg in configs)
        with admission.LEDGER.reserve(need, f"a background job ({at_once} run{'s' * (at_once != 1)} at once)",
                                      kind="background run", owner=control.owner, wait=admission.WAIT_SECONDS,
                                      lower=f"the number of workers ({workers}) or the runs' sizes"):
            slots = run_many(configs, workers=workers, device=device, cache=cache, on_slot=control.slot,
                             cancel=control.cancel)
        if any(is_cancelled(slot) for slot in slots):
            raise JobCancelled
        return slots
    return work


def train_steps(control: Control, cfg: RunConfig, label: str, part: int = 0, parts: int = 1) -> Trainer:
    """A new run of ``cfg`` trained to its end in the job's thread, one step at a time: the job's progress follows
    it as part ``part`` of ``parts``, and Cancel stops it between two steps."""
    control.advance(part / parts, f"{label}: preparing the data (event clips are generated the first time)", part)
    require_valid(cfg)                          # not runnable, or over the budget alone: that message first
    reservation = admission.LEDGER.reserve(admission.run_bytes(cfg), f"a background job's run ({label})",
                                           kind="background run", owner=control.owner, wait=admission.WAIT_SECONDS,
                                           lower="the job's batch size, T or hidden widths")
    try:
        trainer = Trainer(cfg)
    except BaseException:
        reservation.release()
        raise
    reservation.attach(trainer)                 # the page keeps the trained run: reserved while it is kept
    while not trainer.finished:
        control.check()
        trainer.step()
        control.advance((part + trainer.progress) / parts,
                        f"{label}: epoch {min(trainer.epoch + 1, cfg.training.epochs)} of {cfg.training.epochs}")
    control.advance((part + 1) / parts, f"{label}: done", part + 1)
    return trainer


# ---- the page's side: one job per name and session ---------------------------------------------------------

def state_key(name: str) -> str:
    """Where job ``name`` lives in ``st.session_state`` (tests read it there too)."""
    return f"job:{name}"


def get(name: str) -> Job | None:
    return st.session_state.get(state_key(name))


def running(name: str) -> bool:
    job = get(name)
    return job is not None and job.snapshot().running


def start(name: str, job: Job) -> None:
    """Make ``job`` this session's job ``name`` (one still running under that name is cancelled), and rerun the page
    at once, so that it draws the job's panel and disables the button that started it."""
    old = get(name)
    if old is not None:
        old.cancel()
    st.session_state[state_key(name)] = job
    st.rerun()


def forget(name: str) -> None:
    """Drop job ``name`` (once the page has taken its result), cancelling it if it still runs."""
    job = st.session_state.pop(state_key(name), None)
    if job is not None:
        job.cancel()


def panel(name: str, again: str, resumes: bool = True) -> Snapshot | None:
    """Job ``name``'s status where this is called, and the snapshot the page draws its results from (None: no job).

    Running: a bordered panel, re-drawn every ``POLL_SECONDS`` (a fragment), with the progress and **Cancel**.
    Ended: one line: finished; cancelled, with how to go on (``again`` names the button that starts the job;
    ``resumes``: its finished runs are cached, so it resumes); or failed, with the reason.
    """
    job = get(name)
    if job is None:
        return None
    snap = job.snapshot()
    st.session_state[f"{state_key(name)}:seen"] = snap.version
    if snap.running:
        st.session_state[f"{state_key(name)}:full run"] = True
        _live_panel(name)
    elif snap.state == FINISHED:
        st.caption(f":material/check_circle: {snap.label}: {_runs(snap)} in {duration(snap.elapsed)}"
                   f"{f', {snap.cached} from the cache' if snap.cached else ''}.")
    elif snap.state == CANCELLED:
        how = (f"The finished runs are kept: press **{again}** again to resume where it stopped." if resumes else
               f"Press **{again}** to start it again.")
        st.warning(f"{snap.label} cancelled after {snap.done} of {_runs(snap)} ({duration(snap.elapsed)}). {how}",
                   icon=":material/cancel:")
    else:
        st.error(f"{snap.label} failed: {escape_markdown(str(snap.error), 2000)}")
    return snap


@st.fragment(run_every=POLL_SECONDS)
def _live_panel(name: str) -> None:
    """The running job's progress and Cancel. On a timed re-run (not within a full page run), a run that finished
    or the job's end reruns the whole page, which then draws the new results."""
    job = get(name)
    if job is None:
        return
    snap = job.snapshot()
    within_page_run = st.session_state.pop(f"{state_key(name)}:full run", False)
    if not within_page_run and (snap.version != st.session_state.get(f"{state_key(name)}:seen") or not snap.running):
        st.rerun()
    with st.container(border=True):
        left, right = st.columns([6, 1], vertical_alignment="center")
        if right.button("Cancel", key=f"{state_key(name)}:cancel", icon=":material/cancel:", disabled=snap.cancelling):
            job.cancel()
            snap = job.snapshot()
        left.progress(snap.fraction, text=status_line(snap))
        left.caption(snap.text if not snap.cancelling else
                     "Cancelling: no new run starts, the runs under way are stopped; finished runs are kept.")


def status_line(snap: Snapshot) -> str:
    """"3 of 10 runs finished (1 from the cache) · 0:42 elapsed · about 1:30 left"."""
    left = "estimating the time left..." if snap.remaining is None else f"about {duration(snap.remaining)} left"
    return (f"**{snap.label}**: {snap.done} of {_runs(snap)} finished"
            f"{f' ({snap.cached} from the cache)' if snap.cached else ''} · {duration(snap.elapsed)} elapsed · {left}")


def _runs(snap: Snapshot) -> str:
    return f"{snap.total} run{'s' if snap.total != 1 else ''}"


def duration(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour on)."""
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
