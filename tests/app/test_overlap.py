"""The session's background thread (``snn_app.live.LiveRun``) and the page's script runs share one Trainer: Play's
thread steps it while a click (Step), a fork (a new twin) or another script run reads or changes it. Two steps of
one Trainer must never overlap ("one of the variables needed for gradient computation has been modified by an
inplace operation"): every step holds the run's lock (``Trainer.lock``). These tests drive the thread and a script
at once and check that no step overlaps another, nothing fails, every step is logged once, a fork is of one step's
state, and a session that drops its run ends its thread."""
import copy
import gc
import pickle
import threading
import time

import pytest

from app_runner import open_script
from snn_app.live import LiveRun
from snn_core.training.trainer import Trainer

# wide enough that a step takes a while (the bug needed hidden=1024,1024; this is the same race, smaller)
BUSY = {"hidden": "256,256", "T": "6", "batch-size": "32", "train-samples": "640", "epochs": "1"}


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


def wait_until_done(live: LiveRun, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while live.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not live.playing


def test_the_thread_and_step_clicks_never_overlap_and_log_every_step(tiny):
    trainer = Trainer(tiny(BUSY))
    seen = count_overlaps(trainer)
    live = LiveRun()
    live.attach(trainer)
    live.play()

    def clicks():                                  # Step pressed again and again while playing
        while not trainer.finished:
            live.step_once()

    errors = run_threads(clicks)
    wait_until_done(live)
    assert errors == [] and seen["most"] == 1 and not live.problem
    assert trainer.finished and trainer.steps == trainer.batches_per_epoch
    main_log, _ = live.logs()
    assert len(main_log) == trainer.steps and all(isinstance(point.cross_entropy, float) for point in main_log)


def test_a_twin_trains_in_lockstep_in_the_thread(tiny):
    trainer = Trainer(tiny(BUSY))
    live = LiveRun()
    live.attach(trainer)
    with live.exclusive():
        live.set_twin(trainer.fork(trainer.cfg.with_values({"threshold": "0.8"})))
    pair = live.twin
    seen_main, seen_twin = count_overlaps(trainer), count_overlaps(pair)
    live.play()
    wait_until_done(live)
    main_log, twin_log = live.logs()
    assert seen_main["most"] == 1 and seen_twin["most"] == 1 and live.finished
    assert pair.steps == trainer.steps == len(main_log) == len(twin_log)
    assert [p.cross_entropy for p in main_log] != [p.cross_entropy for p in twin_log]   # the threshold matters


def test_a_fork_taken_while_the_thread_steps_is_of_one_steps_state(tiny):
    """A fork taken while the thread steps is of one step's state, never half of two: stepped once more, it gives
    the loss the run itself gives on that step."""
    trainer = Trainer(tiny(BUSY, epochs=3))
    live = LiveRun()
    live.attach(trainer)
    live.play()
    forks = []
    for _ in range(3):
        time.sleep(0.01)
        with live.exclusive():
            forks.append(trainer.fork(trainer.cfg))
    wait_until_done(live)
    steps = [point.objective for point in live.logs()[0]]
    assert len(forks) == 3 and len(steps) == trainer.steps
    for fork in forks:
        at = fork.steps                           # the run's own loss of its next step is steps[at]
        if at < len(steps):
            assert fork.step().loss == pytest.approx(steps[at], abs=1e-6)


def test_a_script_waiting_for_the_run_s_lock_gets_it_while_playing(tiny):
    """The thread lets go of the lock between steps, so a page reading the run (the explorer tracing a sample) is
    not starved while training plays (a liveness check with a generous bound, not a timing)."""
    trainer = Trainer(tiny(BUSY, epochs=20))
    live = LiveRun()
    live.attach(trainer)
    live.play()
    got = threading.Event()

    def reader():
        with trainer.lock:
            got.set()

    thread = threading.Thread(target=reader)
    thread.start()
    thread.join(30)
    live.pause()
    assert got.is_set() and not trainer.finished


def test_a_session_that_drops_its_run_ends_the_thread(tiny):
    live = LiveRun()
    live.attach(Trainer(tiny(BUSY, epochs=20)))
    live.play()
    thread = live._thread
    live.pause()
    del live
    gc.collect()
    thread.join(10)
    assert not thread.is_alive()


def test_a_trainer_pickles_and_copies_with_a_lock_of_its_own(tiny):
    trainer = Trainer(tiny())
    trainer.step()
    for copied in (pickle.loads(pickle.dumps(trainer)), copy.deepcopy(trainer)):
        assert copied.lock is not trainer.lock and copied.steps == 1
        assert copied.step().loss == pytest.approx(trainer.fork(trainer.cfg).step().loss)


def test_the_page_reruns_while_the_thread_is_stepping(tiny_values):
    """Play on Train & watch, then reruns with a changed seed (what the sidebar does) while the session's thread
    steps the same trainer: no error, the run is kept, and every step is logged once."""
    at = open_script("app_pages/train.py", tiny_values(BUSY, epochs=3))
    at.button(key="play_pause").click().run()
    trainer, live = at.session_state.trainer, at.session_state.live
    assert live.playing
    at.session_state.config = trainer.cfg.with_values({"seed": 5})
    for _ in range(3):
        at.run()
    wait_until_done(live)
    at.run()
    assert not at.exception and not at.error and trainer.finished
    assert at.session_state.trainer is trainer and len(live.logs()[0]) == trainer.steps
