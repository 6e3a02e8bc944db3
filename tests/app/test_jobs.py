"""Background jobs (snn_app.jobs): progress and its estimate, cancel, a session's end, and the Compare page's job
from start to cancel to resume, its results equal to the synchronous comparison."""
import gc
import threading
import time

import pytest

import snn_core.experiments.batch as batch
from app_runner import open_script
from snn_app import comparison, jobs
from snn_core.config.run_config import RunConfig
from snn_core.experiments.compare import compare
from snn_core.results import LayerActivity, Metrics, RunResult

PAGE = {"T": 2, "train-samples": 80, "hidden": 8}     # changes from the tiny base
BOUND = 120                                           # seconds a wait may take before the test gives up


def slot(accuracy=0.5, cached=False, error=None):
    """A run slot as ``run_many`` hands it over: a finished run with its test accuracy, or a failed one."""
    layers = LayerActivity({}, {}, {}, {}, {})
    metrics = None if error else Metrics(accuracy, 0.0, None, 0.0, 0.0, 0.0, 0.0, layers)
    return RunResult(RunConfig(), metrics=metrics, cached=cached, error=error)


def test_a_job_reports_each_run_and_ends_with_the_works_value():
    release = threading.Event()

    def work(control):
        control.slot(1, slot(cached=True))
        control.slot(0, slot())
        release.wait(BOUND)
        return "value"

    job = jobs.Job("Test", 3, work, {"what": 1})
    snap = job.snapshot()
    assert snap.running and snap.meta == {"what": 1} and snap.value is None
    while job.snapshot().done < 2:
        time.sleep(0.01)
    snap = job.snapshot()
    assert (snap.done, snap.cached, snap.total) == (2, 1, 3) and snap.slots[2] is None
    assert snap.slots[1].cached and snap.remaining is not None and snap.remaining >= 0
    assert "2 of 3 runs finished (1 from the cache)" in jobs.status_line(snap)
    release.set()
    snap = job.wait(BOUND)
    assert snap.state == jobs.FINISHED and snap.value == "value" and snap.fraction == 1.0 and snap.remaining == 0


def test_the_estimate_waits_for_a_run_that_was_computed_not_read_from_the_cache():
    control = jobs.Control(4)
    control.slot(0, slot(cached=True))
    assert control.snapshot("Test", {}).remaining is None          # cache hits cost nothing: nothing measured yet
    control.slot(1, slot())
    assert control.snapshot("Test", {}).remaining is not None
    with pytest.raises(ValueError, match="a job of 0 runs is not valid; allowed: 1 or more runs"):
        jobs.Control(0)


def test_cancel_stops_the_work_and_a_failure_is_kept_with_its_reason():
    def until_cancelled(control):
        while True:
            control.check()
            time.sleep(0.01)

    job = jobs.Job("Loop", 1, until_cancelled)
    job.cancel()
    assert job.wait(BOUND).state == jobs.CANCELLED

    def fails(control):
        raise RuntimeError("a kernel failed\nits details")

    snap = jobs.Job("Fails", 1, fails).wait(BOUND)
    assert snap.state == jobs.FAILED and snap.error == "RuntimeError: a kernel failed"


def test_a_job_that_runs_out_of_memory_fails_saying_what_to_lower():
    def allocates(control):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 68719476736 bytes.")

    def no_memory(control):
        raise MemoryError

    for work in (allocates, no_memory):
        snap = jobs.Job("Too big", 1, work).wait(BOUND)
        assert snap.state == jobs.FAILED and snap.error.startswith("out of memory: lower training.batch_size")
        assert "(--T)" in snap.error and "(--train-samples)" in snap.error and "\n" not in snap.error


def test_the_thread_stops_when_the_session_drops_its_job():
    def until_cancelled(control):
        while True:
            control.check()
            time.sleep(0.01)

    job = jobs.Job("Orphan", 1, until_cancelled)
    thread = next(t for t in threading.enumerate() if t.name == "snn job: Orphan")
    assert thread.daemon
    del job
    gc.collect()
    thread.join(BOUND)
    assert not thread.is_alive()


def test_durations_read_as_minutes_and_seconds():
    assert [jobs.duration(s) for s in (0, 59.6, 61, 3725)] == ["0:00", "1:00", "1:01", "1:02:05"]


@pytest.fixture
def gated_runs(monkeypatch, tmp_path):
    """Runs after the second wait for ``release`` (so a test can cancel with exactly 2 runs finished); the page's
    run cache is a fresh folder."""
    monkeypatch.setenv("SNN_RUN_CACHE_DIR", str(tmp_path))
    real, calls, release = batch.train_run, [], threading.Event()

    def gated(cfg, device="auto", on_epoch=None):
        calls.append(cfg)
        if len(calls) > 2:
            release.wait(BOUND)
        return real(cfg, device=device, on_epoch=on_epoch)

    monkeypatch.setattr(batch, "train_run", gated)
    yield release, calls
    release.set()


def test_compare_job_shows_progress_cancels_keeping_finished_runs_and_resumes(tiny, tiny_values, gated_runs,
                                                                               tmp_path):
    release, calls = gated_runs
    at = open_script("app_pages/compare.py", tiny_values(PAGE), timeout=BOUND)
    at.number_input(key="cmp_seeds").set_value(3)
    at.button(key="cmp_run").click().run()
    job = at.session_state[jobs.state_key(comparison.JOB)]
    deadline = time.monotonic() + BOUND
    while job.snapshot().done < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    at.run()                                                     # the page while run 3 of 6 is under way
    assert not at.exception and not at.error
    status = at.get("progress")[0].proto.text
    assert "Comparison**: 2 of 6 runs finished" in status and "elapsed" in status and "left" in status
    assert at.button(key="cmp_run").disabled
    assert at.session_state.comparison.seeds == (0,)          # the first pair, drawn before the others finish
    assert len(at.get("plotly_chart")) == 3
    assert any("(4 runs still to come)" in h.value for h in at.subheader)

    at.button(key=f"{jobs.state_key(comparison.JOB)}:cancel").click().run()
    release.set()
    snap = job.wait(BOUND)
    assert snap.state == jobs.CANCELLED and snap.done == 2 and len(calls) == 3     # run 3 stopped, 4..6 never ran
    at.run()
    assert not at.exception
    assert "cancelled after 2 of 6 runs" in at.warning[0].value and "resume" in at.warning[0].value
    assert at.session_state.comparison.seeds == (0,) and at.session_state.comparison.unfinished_runs == 4
    assert len(list(tmp_path.glob("*/*.json"))) == 2             # the finished runs: in the cache's folder

    at.button(key="cmp_run").click().run()
    snap = at.session_state[jobs.state_key(comparison.JOB)].wait(BOUND)
    at.run()
    assert snap.state == jobs.FINISHED and snap.cached == 2 and len(calls) == 3 + 4   # resumed: 2 from the cache
    assert not at.exception and not at.error and not at.get("progress")
    assert any("6 runs in" in c.value and "2 from the cache" in c.value for c in at.caption)
    shown = at.session_state.comparison
    assert shown.seeds == (0, 1, 2) and shown.failed_runs == 0 and shown.unfinished_runs == 0

    base, variant = comparison.arms(tiny(PAGE), "max-spikes=1", 1.0)
    synchronous = compare(base, variant, [0, 1, 2])              # no cache: every run trained again
    for name in ("test_accuracy", "spikes_per_sample", "nasfr", "test_loss"):
        assert shown.paired[name] == synchronous.paired[name], name
    assert set(shown.paired) == set(synchronous.paired)
