"""run_many's cancel: what a set event stops, what it keeps, and that no worker process outlives the call."""
import multiprocessing
import threading

import snn_core.experiments.batch as batch
from snn_core.experiments.batch import RunCache, failed_slot, is_cancelled, run_many

QUICK = {"T": 2, "train-samples": 64, "hidden": 8}          # changes from the tiny base
SLOW = {"epochs": 300, "train-samples": 400}               # minutes if it ran to the end: it must be stopped


def no_training(*args, **kwargs):
    raise AssertionError("a run started after the cancel")


def test_a_set_cancel_starts_nothing_but_still_returns_the_cache_hits(tiny, monkeypatch):
    configs = [tiny(QUICK, seed=seed) for seed in range(3)]
    cache = RunCache()
    cached = run_many(configs[:1], cache=cache)[0]
    monkeypatch.setattr(batch, "train_run", no_training)
    cancel, seen = threading.Event(), []
    cancel.set()
    slots = run_many(configs, cache=cache, cancel=cancel, on_slot=lambda i, s: seen.append(i))
    assert slots[0].cached and slots[0].metrics == cached.metrics and seen == [0]
    assert [is_cancelled(slot) for slot in slots] == [False, True, True]
    assert slots[1].error.startswith("Cancelled: ") and slots[1].metrics is None
    assert slots[2].config == configs[2]
    assert not is_cancelled(failed_slot(configs[0], RuntimeError("out of memory"))) and not is_cancelled(None)


def test_cancel_within_a_batch_keeps_the_finished_runs_in_the_cache(tiny):
    configs = [tiny(QUICK, seed=seed) for seed in range(3)]
    cache, cancel, calls = RunCache(), threading.Event(), []

    def after_the_first(done, total, slot):
        calls.append((done, total))
        cancel.set()

    slots = run_many(configs, cache=cache, cancel=cancel, progress=after_the_first)
    assert calls == [(1, 3)] and slots[0].error is None
    assert [is_cancelled(slot) for slot in slots] == [False, True, True]
    assert cache.get(configs[0], "auto") is not None and cache.get(configs[1], "auto") is None


def test_on_slot_places_each_run_by_its_index(tiny):
    configs = [tiny(QUICK, seed=seed) for seed in range(2)]
    placed = {}
    slots = run_many(configs, on_slot=placed.__setitem__)
    assert placed == {0: slots[0], 1: slots[1]}


def test_a_run_in_this_process_stops_after_its_epoch(tiny, monkeypatch):
    cancel = threading.Event()
    slow = tiny(QUICK, epochs=50)
    real, epochs = batch.train_run, []

    def counting(cfg, device="auto", on_epoch=None):
        def each(record):
            epochs.append(record)
            cancel.set()                                   # Cancel pressed during the first epoch
            on_epoch(record)
        return real(cfg, device=device, on_epoch=each)

    monkeypatch.setattr(batch, "train_run", counting)
    slots = run_many([slow], cancel=cancel)
    assert len(epochs) == 1 and is_cancelled(slots[0])


def test_cancel_terminates_the_pools_running_workers(tiny):
    quick = tiny(QUICK)
    configs = [quick] + [tiny(QUICK, SLOW, seed=seed) for seed in range(1, 4)]
    cancel = threading.Event()
    slots = run_many(configs, workers=2, cancel=cancel, progress=lambda *a: cancel.set())
    assert slots[0].error is None
    assert [is_cancelled(slot) for slot in slots[1:]] == [True, True, True]     # one was running: terminated
    assert multiprocessing.active_children() == []


def test_workers_never_run_the_parents_main_script_even_while_another_thread_rebinds_it(tiny, tmp_path, monkeypatch):
    """Under Streamlit the script thread binds ``__main__`` to the page at every run, while a job's thread starts
    the pool: a worker that ran the page script would die and break the pool."""
    import sys
    import types
    from multiprocessing import spawn

    script = tmp_path / "page.py"
    script.write_text("raise SystemExit('the parent\\'s main script ran in a worker')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    prepare, stop = spawn.get_preparation_data, threading.Event()

    def rebind():
        while not stop.is_set():
            sys.modules["__main__"] = page

    thread = threading.Thread(target=rebind)
    thread.start()
    try:
        slots = run_many([tiny(QUICK, seed=seed) for seed in range(3)], workers=2)
    finally:
        stop.set()
        thread.join()
    assert [slot.error for slot in slots] == [None, None, None]
    assert spawn.get_preparation_data is prepare                   # multiprocessing as it was


def test_ctrl_c_in_the_parent_terminates_the_pools_workers_and_keeps_what_on_slot_got(tiny):
    quick = tiny(QUICK)
    configs = [quick] + [tiny(QUICK, SLOW, seed=seed) for seed in range(1, 4)]
    kept = {}

    def interrupt(done, total, slot):          # Ctrl-C's KeyboardInterrupt, in the parent, after the first run
        raise KeyboardInterrupt
    try:
        run_many(configs, workers=2, on_slot=kept.__setitem__, progress=interrupt)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the KeyboardInterrupt must reach the caller")
    assert list(kept) == [0] and kept[0].error is None
    assert multiprocessing.active_children() == []      # the slow runs were terminated, not waited for
