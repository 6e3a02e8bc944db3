"""The data caches are bounded in bytes: least recently used out first, nothing over the budget kept, a result still
held elsewhere served without recomputing, and ``cache_clear`` as with ``functools.lru_cache``."""
import gc

import numpy as np
import pytest

from snn_core.config.run_config import RunConfig
from snn_core.data import load_dataset
from snn_core.data.byte_cache import CACHE_ENV, MB, byte_lru, capacity_bytes


class Blob:
    """A result of ``size`` bytes that can be weakly referenced (as a ``Dataset`` can)."""

    def __init__(self, size):
        self.size = size


def counted(calls):
    @byte_lru(lambda blob: blob.size)
    def make(name, size):
        calls.append(name)
        return Blob(size)
    return make


def test_the_least_recently_used_goes_first_once_the_bytes_are_over(monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(10 / MB))       # 10 bytes
    calls = []
    make = counted(calls)
    kept = [make("a", 4), make("b", 4)]
    make("a", 4)                                      # a hit: "a" is now the most recent
    make("c", 4)                                      # 12 bytes: "b" goes
    assert calls == ["a", "b", "c"] and make.cache_info().bytes == 8
    del kept
    gc.collect()
    make("a", 4)                                      # still kept
    make("b", 4)                                      # evicted and no longer held: computed again
    assert calls == ["a", "b", "c", "b"]


def test_a_result_over_the_whole_budget_is_not_kept_but_served_while_held(monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(10 / MB))
    calls = []
    make = counted(calls)
    held = make("big", 100)
    assert make("big", 100) is held and make.cache_info().entries == 0
    del held
    gc.collect()
    make("big", 100)
    assert calls == ["big", "big"]


def test_cache_clear_forgets_everything(monkeypatch):
    calls = []
    make = counted(calls)
    held = make("a", 1)
    make.cache_clear()
    assert make("a", 1) is not held and calls == ["a", "a"]


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "-1")
    with pytest.raises(ValueError, match=f"{CACHE_ENV}='-1' is not a cache size; allowed: a number of megabytes"):
        capacity_bytes()


def test_load_dataset_and_the_event_frames_are_bounded_in_bytes(monkeypatch):
    load_dataset.cache_clear()
    monkeypatch.setenv(CACHE_ENV, "1")                # 1 MB: one small digits split, no event set
    small = RunConfig().with_values({"train-samples": "64", "test-samples": "40"}).data
    first = load_dataset(small)
    assert load_dataset(small) is first and 0 < load_dataset.cache_info().bytes == first.nbytes <= MB
    events = RunConfig().with_values({"dataset": "events-shape", "T": "4", "train-samples": "100",
                                      "test-samples": "100"}).data
    frames = load_dataset(events)
    assert frames.nbytes > MB and load_dataset.cache_info().entries == 1       # too big to keep
    assert np.array_equal(load_dataset(events).train_x.numpy(), frames.train_x.numpy())
    load_dataset.cache_clear()
