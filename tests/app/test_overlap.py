"""Overlapping script runs of one session: Streamlit may start a new run while the previous run's training step
still executes in its thread, so two steps of one Trainer could overlap ("one of the variables needed for gradient
computation has been modified by an inplace operation"). Every step, chunk and fork holds the run's lock
(``Trainer.lock``): these tests drive the page's step path from two threads at once and check that no step
overlaps another, nothing fails, and the steps counted (the step log) equal the steps taken."""
import copy
import pickle
import threading
import time
from collections import deque

import pytest
import streamlit as st

from app_runner import open_script
from snn_app import twin
from snn_core.training.trainer import Trainer

# wide enough that a step takes a while (the bug needed hidden=1024,1024; this is the same race, smaller)
BUSY = {"hidden": "256,256", "T": "6", "batch-size": "32", "train-samples": "640", "epochs": "1"}


class FakeState(dict):
    """``st.session_state`` outside a script run: keys as attributes too."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


@pytest.fixture
def session(monkeypatch):
    state = FakeState(step_log=deque(maxlen=5000), twin=None, twin_of=None, twin_problem="",
                      admission_owner="test-session")
    monkeypatch.setattr(st, "session_state", state)
    return state


def count_overlaps(trainer: Trainer) -> dict:
    """Instrument ``trainer``'s step body: the most steps ever in flight at once (a short sleep inside widens any
    window in which two could overlap)."""
    seen = {"in_flight": 0, "most": 0}
    guard, real = threading.Lock(), trainer._step

    def step():
        with guard:
            seen["in_flight"] += 1
            seen["most"] = max(seen["most"], seen["in_flight"])
        try:
            time.sleep(0.002)
            return real()
        finally:
            with guard:
                seen["in_flight"] -= 1
    trainer._step = step
    return seen


def run_threads(*targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(target):
        try:
            target()
        except BaseException as problem:          # noqa: BLE001 - collected and asserted on
            errors.append(problem)
    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def test_two_script_runs_training_one_run_never_overlap_and_count_every_step(tiny, session):
    trainer = Trainer(tiny(BUSY))
    seen = count_overlaps(trainer)
    done = [0, 0]

    def script_run(index: int):
        def chunks():
            while not twin.finished(trainer):
                done[index] += twin.train_chunk(trainer, session.step_log, seconds=0.02)
        return chunks

    errors = run_threads(script_run(0), script_run(1))
    assert errors == []
    assert seen["most"] == 1
    assert trainer.finished and trainer.steps == trainer.batches_per_epoch
    assert len(session.step_log) == trainer.steps == sum(done)
    assert all(isinstance(loss, float) for loss in session.step_log)


def test_lockstep_with_a_twin_stays_in_step_under_overlapping_runs(tiny, session):
    trainer = Trainer(tiny(BUSY))
    session.twin_on, session.twin_setting, session.twin_text = True, twin.ANY_FIELD, "threshold=0.8"
    twin.sync(trainer)
    pair = twin.active()
    assert pair is not None and session.twin_of is trainer
    seen_main, seen_twin = count_overlaps(trainer), count_overlaps(pair)

    def script_run():
        for _ in range(4):
            twin.train_chunk(trainer, session.step_log, seconds=0.02)

    errors = run_threads(script_run, script_run)
    assert errors == [] and seen_main["most"] == 1 and seen_twin["most"] == 1
    assert pair.steps == trainer.steps == len(session.step_log) == len(session.twin_step_log)


def test_a_setting_changed_mid_run_forks_a_consistent_copy_while_the_run_steps(tiny, session):
    """A fork taken while another thread steps is of one step's state, never half of two: stepped once more, it
    gives the loss the run itself gives on that step."""
    trainer = Trainer(tiny(BUSY, epochs=3))
    forks: list[Trainer] = []
    stop = threading.Event()

    def keep_stepping():
        while not stop.is_set() and not trainer.finished:
            twin.advance(trainer, session.step_log)

    def fork_now():
        for _ in range(3):
            time.sleep(0.01)
            forks.append(trainer.fork(trainer.cfg))
        stop.set()

    errors = run_threads(keep_stepping, fork_now)
    assert errors == [] and len(forks) == 3
    steps = list(session.step_log)
    for fork in forks:
        at = fork.steps                           # the run's own loss of its next step is steps[at]
        if at < len(steps):
            assert fork.step().loss == pytest.approx(steps[at], abs=1e-6)


def test_a_trainer_pickles_and_copies_with_a_lock_of_its_own(tiny):
    trainer = Trainer(tiny())
    trainer.step()
    for copied in (pickle.loads(pickle.dumps(trainer)), copy.deepcopy(trainer)):
        assert copied.lock is not trainer.lock and copied.steps == 1
        assert copied.step().loss == pytest.approx(trainer.fork(trainer.cfg).step().loss)


def test_the_page_reruns_while_another_run_of_the_session_is_stepping(tiny_values):
    """Play on Train & watch, then a rerun with a changed seed (what the sidebar does) while the session's previous
    script run is still stepping the same trainer in its own thread: no error, and every step is logged once."""
    at = open_script("app_pages/train.py", tiny_values(BUSY, epochs=3))
    at.button(key="play_pause").click().run()
    trainer, log = at.session_state.trainer, at.session_state.step_log
    assert at.session_state.running and trainer.steps > 0
    stop, extra = threading.Event(), [0]

    def earlier_script_run():                     # what twin.advance does, from the thread of the previous run
        while not stop.is_set() and not trainer.finished:
            with trainer.lock:
                log.append(trainer.step().loss)
                extra[0] += 1

    thread = threading.Thread(target=earlier_script_run)
    thread.start()
    try:
        at.session_state.config = trainer.cfg.with_values({"seed": 5})
        for _ in range(3):
            at.run()
    finally:
        stop.set()
        thread.join(60)
    assert not at.exception and not at.error
    assert at.session_state.trainer is trainer and extra[0] > 0
    assert len(log) == trainer.steps
