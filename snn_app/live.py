"""A session's live run on Train & watch: the main run, its optional twin, their step logs, and the background
thread that trains them.

Training is decoupled from drawing. While ``playing``, a daemon thread owned by the session steps the runs at
engine speed; the page only reads what they have recorded (a fragment polls a few times a second and redraws),
so a slow redraw never slows training and a click is answered while the runs train. Every change a click makes
(Play, Pause, Step, Reset, a new twin) goes through this object:

- one lockstep step (the main run, then its twin) holds the main run's lock (``Trainer.lock``). A script run that
  must change the runs (fork a twin, replace the run) enters ``exclusive()``: the thread waits between steps
  until it is done, so the script gets the lock at once instead of competing for it step after step;
- between steps the thread holds only a weak reference to this object: when the session ends and drops it,
  the thread ends too (within ``IDLE_CHECK_SECONDS``).

The thread has no Streamlit script context, so nothing here touches ``st.session_state``: what the page needs
(the logs, why a run stopped) is kept on this object. It survives navigation because the session keeps it, not
the page; the page never owns the runs.
"""
from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import NamedTuple

from snn_core.config.run_config import RunConfig
from snn_core.training.trainer import StepResult, Trainer

from .failures import FAILURES, failure_message

STEP_LOG_LENGTH = 5000        # per-step losses kept for the live charts (the charts bin them)
IDLE_CHECK_SECONDS = 1.0      # a paused thread looks this often whether its session is gone


class StepLoss(NamedTuple):
    """What the charts plot of one step: the cross-entropy on the original input (comparable between runs with and
    without a method) and the objective the optimiser minimised (the method's extra terms included)."""

    cross_entropy: float
    objective: float

    @classmethod
    def of(cls, result: StepResult) -> StepLoss:
        return cls(result.cross_entropy, result.loss)


class LiveRun:
    """The session's main run and twin, trained in a background thread while playing."""

    def __init__(self) -> None:
        self.main: Trainer | None = None
        self.twin: Trainer | None = None
        self.twin_forked_at = 0           # the main run's step when the twin was forked (0: from the same start)
        self.problem = ""                 # why the main run stopped; shown until the next Play, Step or new run
        self.twin_problem = ""            # why the twin stopped (it is dropped; the main run goes on) ...
        self.failed_twin: RunConfig | None = None     # ... and its config, not to be forked again into the failure
        self._main_log: deque[StepLoss] = deque(maxlen=STEP_LOG_LENGTH)
        self._twin_log: deque[StepLoss] = deque(maxlen=STEP_LOG_LENGTH)
        self._log_lock = threading.Lock()
        self._wake = threading.Event()    # set while playing
        self._waiting = 0                 # scripts inside ``exclusive()``: the thread lets them go first
        self._waiting_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- what the page reads ------------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._wake.is_set()

    @property
    def finished(self) -> bool:
        """Both runs (or the main run alone) have trained all their epochs."""
        return self.main is not None and self.main.finished and (self.twin is None or self.twin.finished)

    def logs(self) -> tuple[list[StepLoss], list[StepLoss]]:
        """Copies of the main run's and the twin's step logs (the thread may be appending)."""
        with self._log_lock:
            return list(self._main_log), list(self._twin_log)

    # -- what clicks do -----------------------------------------------------------------------------------------
    def attach(self, main: Trainer | None) -> None:
        """Make ``main`` the run (a Reset, a model opened from a file, Home's quick start): a different one pauses,
        clears the logs and drops the twin; the same one changes nothing."""
        if main is self.main:
            return
        with self.exclusive():
            self.pause()
            self.main, self.problem = main, ""
            self.drop_twin()
            with self._log_lock:
                self._main_log.clear()

    def play(self) -> None:
        """Train in the background from where the runs are (nothing to do when there is no run or it is done)."""
        if self.main is None or self.finished:
            return
        self.problem = ""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=_work, args=(weakref.ref(self), self._wake), daemon=True,
                                            name="snn-live-run")
            self._thread.start()
        self._wake.set()

    def pause(self) -> None:
        """Stop after the step in progress."""
        self._wake.clear()

    def step_once(self) -> None:
        """One lockstep step now (Step): the main run's failure is kept in ``problem``."""
        if self.main is not None:
            with self.main.lock:
                self.problem = ""
                self._advance()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the main run's lock with the thread waiting between steps (fork, replace, read the weights)."""
        with self._waiting_lock:
            self._waiting += 1
        try:
            with self.main.lock if self.main is not None else contextlib.nullcontext():
                yield
        finally:
            with self._waiting_lock:
                self._waiting -= 1

    def set_twin(self, twin: Trainer) -> None:
        """``twin`` (a fork of the main run, made inside ``exclusive()``) trains beside it from now on; its log
        starts as a copy of the past the two runs share."""
        self.twin, self.twin_forked_at, self.twin_problem = twin, self.main.steps if self.main else 0, ""
        with self._log_lock:
            self._twin_log = deque(self._main_log, maxlen=STEP_LOG_LENGTH)

    def drop_twin(self) -> None:
        self.twin, self.twin_forked_at = None, 0
        with self._log_lock:
            self._twin_log.clear()

    # -- the thread's work --------------------------------------------------------------------------------------
    def _advance(self) -> None:
        """One step of each run with steps left, the main run first (the caller holds the main run's lock). The
        main run's failure pauses and is kept in ``problem``; the twin's drops the twin, its reason kept in
        ``twin_problem``. Finishing pauses."""
        main, twin = self.main, self.twin
        if main is None:
            return
        if not main.finished:
            try:
                result = main.step()
            except FAILURES as problem:
                self.pause()
                self.problem = failure_message(problem)
                return
            with self._log_lock:
                self._main_log.append(StepLoss.of(result))
        if twin is not None and not twin.finished:
            try:
                result = twin.step()
            except FAILURES as problem:
                self.twin_problem = f"The twin stopped at step {twin.steps}: {failure_message(problem)}"
                self.failed_twin = twin.cfg
                self.drop_twin()
            else:
                with self._log_lock:
                    self._twin_log.append(StepLoss.of(result))
        if self.finished:
            self.pause()


def _work(ref: weakref.ref[LiveRun], wake: threading.Event) -> None:
    """The thread: while playing, one lockstep step at a time; it ends when its session has dropped the run."""
    while True:
        if not wake.wait(IDLE_CHECK_SECONDS):
            if ref() is None:
                return
            continue
        run = ref()
        if run is None:
            return
        main = None
        if run._waiting:                   # a click wants the runs: let it have the lock first
            time.sleep(0.001)
        elif (main := run.main) is not None:
            with main.lock:
                if wake.is_set() and run.main is main:    # not paused or replaced while waiting for the lock
                    run._advance()
            time.sleep(0)                  # let a script waiting for the lock (a page reading the run) take it
        del run, main
