"""Real datasets at full size: framing streams one recording at a time into an on-disk entry (resumable, never
served half done), train/test-samples 0 take every recording, and the splits stay on disk (``DiskFrames``)."""
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from snn_core.config.budget import estimate
from snn_core.config.run_config import RunConfig, with_dataset_defaults
from snn_core.data import DATASETS, load_dataset, readers
from snn_core.data import frame_cache as fc
from snn_core.data.folders import nmnist_files
from snn_core.data.framing import FrameSpec, frame_events


@pytest.fixture(autouse=True)
def fresh(monkeypatch, tmp_path):
    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


@pytest.fixture
def folder(real_data, tmp_path) -> Path:
    """An N-MNIST folder of real recordings: 4 per digit in Train/, 2 per digit in Test/ (copied: mtimes are ours)."""
    for digit in range(10):
        files = sorted((real_data / "nmnist" / "Train" / str(digit)).glob("*.bin"))
        for split, chosen in (("Train", files[:4]), ("Test", files[4:6])):
            (tmp_path / "nm" / split / str(digit)).mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, tmp_path / "nm" / split / str(digit) / path.name)
    return tmp_path / "nm"


def _config(root: Path, **settings) -> RunConfig:
    values = {"dataset": "nmnist", "data-dir": str(root), "T": "4", "train-samples": "0", "test-samples": "0",
              "channels": "4,8", "batch-size": "8", "epochs": "1", **settings}
    return RunConfig().with_values(with_dataset_defaults(values))


def _direct(paths) -> np.ndarray:
    return np.stack([frame_events(readers.read_events(p, sensor_size=(34, 34)).events, (34, 34, 2), FrameSpec(4))
                     for p in paths])


def _entries(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache").iterdir())


def test_samples_0_frames_every_recording_exactly_as_framing_each_file(folder, tmp_path):
    data = load_dataset(_config(folder, validation="0").data)
    listing = nmnist_files(folder)
    assert (len(data.train_y), len(data.test_y)) == (40, 20) == (len(listing.train), len(listing.test))
    assert isinstance(data.train_x, fc.DiskFrames) and data.train_x.shape == (40, 4, 2, 34, 34)
    np.testing.assert_array_equal(data.train_x.numpy(), _direct([p for p, _ in listing.train]))
    np.testing.assert_array_equal(data.test_x[:].numpy(), _direct([p for p, _ in listing.test]))
    assert data.train_y.tolist() == [label for _, label in listing.train]
    entry = tmp_path / "cache" / _entries(tmp_path)[0]
    mapped = np.load(entry / "x.npy", mmap_mode="r")                    # a plain .npy: anyone can map it
    assert mapped.shape == (60, 4, 2, 34, 34) and np.array_equal(mapped[41], data.test_x[1].numpy())


def test_validation_and_indexing_select_rows_without_copying_frames(folder):
    data = load_dataset(_config(folder, validation="0.25").data)
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (30, 10, 20)
    assert data.train_x.file is data.val_x.file is data.test_x.file                    # one file, three selections
    frames = 60 * 4 * 2 * 34 * 34
    assert data.nbytes < frames / 100                                                   # labels and indices only
    whole = torch.cat([data.train_x[:], data.val_x[:]])
    assert torch.equal(data.train_x[[3, 0, 4]], whole[[3, 0, 4]]) and torch.equal(data.val_x[-1], whole[-1])
    assert torch.equal(data.train_x[torch.tensor([5, 6])], data.train_x[5:7])
    assert data.frame_shape == (2, 34, 34) and data.train_x.dtype == torch.uint8


def test_an_interrupted_framing_is_never_served_and_the_next_load_resumes(folder, tmp_path, monkeypatch):
    monkeypatch.setattr(fc, "CHECKPOINT_EVERY", 8)
    read, calls = readers.read_events, []

    def interrupted(path, **kwargs):
        calls.append(path)
        if len(calls) == 21 and not interrupted.once:
            interrupted.once = True
            raise KeyboardInterrupt
        return read(path, **kwargs)

    interrupted.once = False
    monkeypatch.setattr(readers, "read_events", interrupted)
    cfg = _config(folder)
    with pytest.raises(KeyboardInterrupt):
        load_dataset(cfg.data)
    [partial] = _entries(tmp_path)
    assert partial.endswith(".partial") and fc.load(partial.removesuffix(".partial")) is None
    assert json.loads((tmp_path / "cache" / partial / "progress.json").read_text())["done"] == 20
    calls.clear()
    data = load_dataset(cfg.data)                                      # resumes at recording 21 of 60
    assert len(calls) == 40 and _entries(tmp_path) == [partial.removesuffix(".partial")]
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", "0")                      # the cache off: framed in memory, afresh
    load_dataset.cache_clear()
    fresh = load_dataset(cfg.data)
    assert isinstance(fresh.train_x, torch.Tensor)
    assert torch.equal(fresh.train_x, data.train_x[:]) and torch.equal(fresh.test_x, data.test_x[:])


def test_a_corrupt_recording_is_one_line_naming_it_and_nothing_complete_is_left(folder, tmp_path):
    bad = sorted((folder / "Train" / "3").glob("*.bin"))[1]
    bad.write_bytes(b"\x00" * 7)
    with pytest.raises(ValueError) as problem:
        load_dataset(_config(folder).data)
    text = str(problem.value)
    assert "\n" not in text and text.startswith(str(bad)) and "is truncated" in text
    assert "framing stopped at recording 14 of 60; the 13 framed are kept" in text
    assert all(name.endswith(".partial") for name in _entries(tmp_path))


def test_a_full_disk_fails_before_framing_with_what_is_allowed(folder, tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    with pytest.raises(ValueError, match=r"is full \(framing 60 recordings\): the frames need .* MB are free; "
                                         "allowed: free disk space, SNN_FRAME_CACHE_DIR"):
        load_dataset(_config(folder).data)
    assert not any((tmp_path / "cache").rglob("x.npy"))


def test_a_second_process_finding_a_partial_entry_of_other_frames_starts_over(folder, tmp_path):
    cfg = _config(folder)
    load_dataset(cfg.data)
    [key] = _entries(tmp_path)
    shutil.move(tmp_path / "cache" / key, tmp_path / "cache" / f"{key}.partial")        # as if never finished
    (tmp_path / "cache" / f"{key}.partial" / "progress.json").write_text('{"shape": [1, 2], "done": 1}')
    load_dataset.cache_clear()
    data = load_dataset(cfg.data)
    assert _entries(tmp_path) == [key] and len(data.train_y) == 36


def test_samples_0_means_the_whole_digits_split_and_is_refused_for_generated_clips():
    digits = load_dataset(RunConfig().with_values({"train-samples": 0, "test-samples": 0}).data)
    assert (len(digits.train_y) + len(digits.val_y), len(digits.test_y)) == (1437, 360)
    with pytest.raises(ValueError, match=r"train_samples \(--train-samples\)=0 means every recording of a real "
                                         r"dataset.*allowed: a number of clips from 20 to 100000"):
        load_dataset(RunConfig().with_values({"dataset": "events-shape", "train-samples": 0}).data)
    with pytest.raises(ValueError, match=r"test_samples \(--test-samples\)=5 is not allowed; allowed: 0"):
        load_dataset(RunConfig().with_values({"test-samples": 5}).data)


def test_the_config_takes_nmnist_at_full_size_and_the_estimate_leaves_frames_on_disk():
    cfg = RunConfig().with_values(with_dataset_defaults({"dataset": "nmnist", "train-samples": "60000",
                                                         "test-samples": "10000"}))
    assert (cfg.data.train_samples, cfg.data.test_samples) == (60000, 10000)
    with pytest.raises(ValueError, match=r"allowed: integer 0\.\.100000"):
        cfg.with_values({"train-samples": 100_001})
    every = estimate(cfg.with_values({"train-samples": 0, "test-samples": 0}), DATASETS["nmnist"])
    assert every.dataset < 50 * 2**20                                   # index and read-ahead, not 1.3 GB of frames
    assert estimate(cfg, DATASETS["nmnist"]).dataset < every.dataset    # 0 counts as the most a folder may hold


def test_eviction_touches_only_the_caches_own_entries(tmp_path, monkeypatch):
    from snn_core.data import frame_cache

    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path))
    users = [tmp_path / "0123456789abcdef0123456789abcdef.txt", tmp_path / "notes", tmp_path / "photo.npz"]
    users[0].write_bytes(b"x" * 5000)
    users[1].mkdir()
    (users[1] / "big.bin").write_bytes(b"y" * 5000)
    users[2].write_bytes(b"z" * 5000)
    ours = tmp_path / ("a" * 32)
    ours.mkdir()
    (ours / "x.npy").write_bytes(b"0" * 5000)
    assert frame_cache.evict(cap=0) == [ours]
    assert all(path.exists() for path in users)
