"""Real event datasets: framing with tonic, folder layouts, the on-disk frame cache, splits, and training on
real N-MNIST recordings (fixture ``real_data``: the samples bundled in data/samples, or the full collection where a
machine has it; ``full_real_data`` for the one test that needs all 10 DVS128 clips)."""
import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from snn_core.cli import main
from snn_core.config.check import check
from snn_core.config.run_config import RunConfig, with_dataset_defaults
from snn_core.data import DATASETS, frame_cache, load_dataset, readers, real
from snn_core.data.events import EVENT_DTYPE
from snn_core.data.folders import BUNDLED_SAMPLES, event_folder_files, nmnist_files, resolve_root
from snn_core.data.framing import FrameSpec, frame_events, framed_size


def _events(rows) -> np.ndarray:
    return np.array([tuple(r) for r in rows], dtype=EVENT_DTYPE)


def _config(root: Path, dataset: str = "nmnist", **settings) -> RunConfig:
    values = {"dataset": dataset, "data-dir": str(root), "T": "4", "train-samples": "40", "test-samples": "20",
              **{k.replace("_", "-"): str(v) for k, v in settings.items()}}
    return RunConfig().with_values(with_dataset_defaults(values))


@pytest.fixture(autouse=True)
def fresh_loads():
    """load_dataset is memoised per config; tests that change files on disk need it empty."""
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


@pytest.fixture
def small_nmnist(real_data, tmp_path) -> Path:
    """An N-MNIST folder of real samples: 6 per digit in Train/, 2 per digit in Test/ (copied)."""
    for digit in range(10):
        files = sorted((real_data / "nmnist" / "Train" / str(digit)).glob("*.bin"))
        for split, chosen in (("Train", files[:6]), ("Test", files[6:8])):
            (tmp_path / "nm" / split / str(digit)).mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, tmp_path / "nm" / split / str(digit) / path.name)
    return tmp_path / "nm"


# --- framing ------------------------------------------------------------------------------------------


def test_frames_count_events_per_time_bin_polarity_and_pixel():
    # span 0..800 us from the first event, T = 4: bins of 200 us
    events = _events([(0, 0, 1000, 1), (1, 0, 1100, 1), (1, 0, 1150, 0), (2, 1, 1450, 1), (2, 1, 1650, 0),
                      (3, 1, 1800, 1)])
    frames = frame_events(events, (4, 2, 2), FrameSpec(4))
    assert frames.shape == (4, 2, 2, 4) and frames.dtype == np.uint8
    assert frames[0, 1, 0, 0] == 1 and frames[0, 1, 0, 1] == 1 and frames[0, 0, 0, 1] == 1
    assert frames[2, 1, 1, 2] == 1 and frames[3, 0, 1, 2] == 1
    assert frames.sum() == 5            # tonic's n_time_bins leaves the very last event out of bin T-1's window


def test_binary_and_first_spike_codes():
    events = _events([(0, 0, 0, 1), (0, 0, 10, 1), (0, 0, 500, 1), (1, 0, 600, 0), (1, 0, 790, 0), (1, 0, 800, 0)])
    counts = frame_events(events, (2, 1, 2), FrameSpec(4))
    binary = frame_events(events, (2, 1, 2), FrameSpec(4, event_frames="binary"))
    first = frame_events(events, (2, 1, 2), FrameSpec(4, event_frames="first-spike"))
    assert counts[0, 1, 0, 0] == 2 and binary[0, 1, 0, 0] == 1
    np.testing.assert_array_equal(binary, (counts > 0).astype(np.uint8))
    assert first.sum(axis=0).max() == 1                      # each input spikes at most once
    assert first[0, 1, 0, 0] == 1 and first[2, 1, 0, 0] == 0     # ON at pixel 0: its first bin only
    assert first[3, 0, 0, 1] == 1 and first[:3, 0, 0, 1].sum() == 0


def test_downsampling_keeps_aspect_and_every_event_on_the_smaller_sensor():
    assert framed_size((128, 128, 2), 32) == (32, 32)
    assert framed_size((640, 480, 2), 64) == (64, 48)
    assert framed_size((34, 34, 2), 0) == (34, 34) and framed_size((34, 34, 2), 64) == (34, 34)
    rng = np.random.default_rng(0)
    events = _events(zip(rng.integers(0, 640, 500), rng.integers(0, 480, 500), np.sort(rng.integers(0, 10**5, 500)),
                         rng.integers(0, 2, 500)))
    frames = frame_events(events, (640, 480, 2), FrameSpec(2, frame_size=64))
    assert frames.shape == (2, 2, 48, 64) and frames.sum() == 499


def test_crop_keeps_the_first_microseconds_and_the_callers_events_stay_as_they_were():
    events = _events([(0, 0, 5000, 1), (0, 0, 5100, 1), (0, 0, 9000, 1), (0, 0, 9999, 1)])
    before = events.copy()
    frames = frame_events(events, (1, 1, 2), FrameSpec(2, crop_us=200))
    assert frames.sum() == 1                                   # 5000 and 5100 kept; the last one falls off the bins
    np.testing.assert_array_equal(events, before)


def test_empty_or_instant_recordings_give_silent_frames():
    assert frame_events(_events([]), (4, 4, 2), FrameSpec(3)).sum() == 0
    assert frame_events(_events([(1, 1, 7, 1), (1, 1, 8, 0)]), (4, 4, 2), FrameSpec(3)).sum() == 0


def test_frame_spec_refuses_bad_values():
    with pytest.raises(ValueError, match="event_frames='spikes' is not known; allowed: counts, binary, first-spike"):
        FrameSpec(4, event_frames="spikes")
    with pytest.raises(ValueError, match="time_steps=0 is not valid"):
        FrameSpec(0)


# --- folders ------------------------------------------------------------------------------------------


def test_nmnist_layout_errors_name_the_folder_and_the_layout(tmp_path):
    with pytest.raises(ValueError, match="has no Train/ folder; expected the N-MNIST layout"):
        nmnist_files(tmp_path)
    (tmp_path / "Train" / "3").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"class folder .*Train/3 holds no \.bin files"):
        nmnist_files(tmp_path)
    (tmp_path / "Train" / "3" / "a.bin").write_bytes(b"")
    (tmp_path / "Train" / "cats").mkdir()
    with pytest.raises(ValueError, match="is not a class folder; allowed names: 0, 1, 2"):
        nmnist_files(tmp_path)


def test_a_folder_with_no_files_at_all_and_a_missing_folder_are_refused(tmp_path):
    with pytest.raises(ValueError, match="holds no event files; expected <class>/<file>"):
        event_folder_files(tmp_path, readers.SUFFIXES)
    with pytest.raises(ValueError, match="is not a folder"):
        resolve_root(str(tmp_path / "nowhere"), "nmnist")


def test_labels_csv_may_not_point_outside_its_folder(tmp_path, real_data):
    outside = tmp_path / "secret.bin"
    shutil.copy(next((real_data / "nmnist" / "Train" / "1").glob("*.bin")), outside)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "labels.csv").write_text("file,label\n../secret.bin,1\n")
    with pytest.raises(ValueError, match="a file outside the folder"):
        event_folder_files(tmp_path / "data", readers.SUFFIXES)


# --- N-MNIST from the real sample ---------------------------------------------------------------------


def test_real_nmnist_without_test_folder_holds_out_a_stratified_part(real_data):
    cfg = _config(real_data / "nmnist", **{"train-samples": 10000, "test-samples": 5000})
    data = load_dataset(cfg.data)
    # test: 20% of each digit's files, rounded; validation: 10% of the others. The bundle: 20 files per digit,
    # 4 each to test, 16 of the other 160 to validation; the full 1,000: 199 to test, 80 of the other 801
    train, val, test, fewest = (144, 16, 40, 4) if real_data == BUNDLED_SAMPLES else (721, 80, 199, 17)
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (train, val, test)
    assert data.train_x.shape[1:] == (4, 2, 34, 34) and data.frame_shape == DATASETS["nmnist"].frame_shape_for(cfg.data)
    assert torch.bincount(data.test_y, minlength=10).min() >= fewest
    assert f"no test split on disk: {test} of the training recordings held out" in data.source
    assert f"{train} training, {val} validation and {test} test recordings" in data.source
    # frame 0 of a training sample is what framing that file directly gives
    path = sorted((real_data / "nmnist" / "Train" / str(int(data.train_y[0]))).glob("*.bin"))
    direct = [frame_events(readers.read_events(p, sensor_size=(34, 34)).events, (34, 34, 2), FrameSpec(4))
              for p in path[:3]]
    assert any(np.array_equal(d, data.train_x[0].numpy()) for d in direct)


def test_real_nmnist_uses_its_test_folder_and_the_caps(small_nmnist):
    data = load_dataset(_config(small_nmnist, **{"train-samples": 50, "test-samples": 20}).data)
    assert (len(data.train_y), len(data.val_y), len(data.test_y)) == (45, 5, 20)    # 10% of the 50 for validation
    assert "the folder's own test split" in data.source
    again = load_dataset(_config(small_nmnist, **{"train-samples": 50, "test-samples": 20, "data-seed": 1}).data)
    assert not torch.equal(data.train_y, again.train_y)          # the seed picks which 50 of the 60


def test_frames_come_from_the_disk_cache_and_a_changed_file_is_reframed(small_nmnist, monkeypatch, tmp_path):
    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path / "cache"))
    cfg = _config(small_nmnist)
    first = load_dataset(cfg.data)
    load_dataset.cache_clear()
    monkeypatch.setattr(readers, "read_events", lambda *a, **k: pytest.fail("read a file despite the cache"))
    cached = load_dataset(cfg.data)
    assert torch.equal(first.train_x[:], cached.train_x[:]) and torch.equal(first.test_y, cached.test_y)
    entries = list((tmp_path / "cache").iterdir())
    assert len(entries) == 1 and sorted(p.name for p in entries[0].iterdir()) == ["arrays.npz", "x.npy"]
    monkeypatch.undo()
    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path / "cache"))
    changed = sorted((small_nmnist / "Train" / "0").glob("*.bin"))[0]
    os.utime(changed, ns=(1, 1))
    load_dataset.cache_clear()
    load_dataset(cfg.data)
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_the_cache_evicts_least_recently_used_entries_to_its_cap(monkeypatch, tmp_path):
    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", str(2.5 * 1_000_000 / 2**20))     # room for two 1 MB entries
    a, b, c, d, bad = (letter * 32 for letter in "abcde")                          # keys: 32 hex digits
    old = "f" * 32 + ".npz"
    (tmp_path / old).write_bytes(b"an entry of the earlier .npz format")
    os.utime(tmp_path / old, ns=(0, 0))
    for i, key in enumerate((a, b, c)):
        frame_cache.store(key, {"x": np.zeros((1000, 1000), dtype=np.uint8), "y": np.zeros(1000)})
        os.utime(tmp_path / key, ns=((i + 1) * 10**9, (i + 1) * 10**9))
        if key == b:
            assert frame_cache.load(a) is not None                               # a hit: a is now newest
    assert sorted(p.name for p in tmp_path.iterdir()) == [a, c]
    (tmp_path / bad).mkdir()
    (tmp_path / bad / "x.npy").write_bytes(b"not an npy")
    assert frame_cache.load(bad) is None and not (tmp_path / bad).exists()
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", "0.5")                             # under the newest entry alone
    frame_cache.store(d, {"x": np.ones((1000, 1000), dtype=np.uint8), "y": np.zeros(1000)})
    assert sorted(p.name for p in tmp_path.iterdir()) == [d]                     # kept: a run reads it from disk
    assert int(frame_cache.load(d)["x"][999].sum()) == 1000


def test_progress_is_reported_while_a_folder_is_framed(small_nmnist):
    seen = []
    with real.framing_progress(lambda done, total, label: seen.append((done, total, label))):
        load_dataset(_config(small_nmnist, data_seed=7).data)
    assert seen[-1] == (60, 60, "framing nmnist")


def test_an_nmnist_run_trains_and_reports_the_samples_it_used(small_nmnist, capsys):
    code = main(["train", "--dataset", "nmnist", "--data-dir", str(small_nmnist), "--epochs", "1", "--T", "4",
                 "--channels", "4,8", "--train-samples", "30", "--robustness", "false", "--quiet"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["config"]["model"]["arch"] == "conv"           # the dataset's default
    metrics = result["metrics"]
    assert (metrics["train_samples"], metrics["validation_samples"], metrics["test_samples"]) == (27, 3, 20)
    assert 0.0 <= metrics["validation_accuracy"] <= 1.0
    assert "the folder's own test split" in result["data"]["source"]


def test_a_missing_data_dir_is_one_line_exit_2(tmp_path, capsys):
    assert main(["train", "--dataset", "nmnist", "--data-dir", str(tmp_path / "none"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a folder" in err


# --- the other datasets -------------------------------------------------------------------------------


def test_dvs_gesture_in_tonics_layout_reads_real_dvs128_clips(full_real_data, tmp_path):
    """tonic's DVSGesture stores [N, 4] arrays (x, y, p, t in ms) as <user>_<lighting>/<label>.npy; ten clips
    (the bundle holds one), so on a fresh clone this is skipped with its reason."""
    for clip in range(1, 11):
        rec = readers.read_events(full_real_data / "dvs128_clips_unlabeled" / f"clip_{clip:02d}.bin")
        rows = np.stack([rec.events["x"], rec.events["y"], rec.events["p"], rec.events["t"] / 1000.0], axis=1)
        split = "ibmGestureTest" if clip > 8 else "ibmGestureTrain"
        folder = tmp_path / split / f"user{clip:02d}_led"
        folder.mkdir(parents=True)
        np.save(folder / f"{clip - 1}.npy", rows)
    data = load_dataset(_config(tmp_path, "dvs-gesture", T=4).data)
    assert data.train_x.shape == (8, 4, 2, 32, 32) and data.test_x.shape == (2, 4, 2, 32, 32)
    assert data.val_x.shape == (0, 4, 2, 32, 32)          # 10% of 8 clips is one: fewer than two, no validation
    assert data.train_y.tolist() == list(range(8)) and data.n_classes == 11
    assert int(data.train_x[0].sum()) > 10_000


def test_shd_trains_an_mlp_on_its_700_channels(tmp_path):
    rng = np.random.default_rng(0)
    vlen = (h5py.vlen_dtype(np.float32), h5py.vlen_dtype(np.uint16))
    for name, n in (("shd_train.h5", 24), ("shd_test.h5", 6)):
        with h5py.File(tmp_path / name, "w") as f:
            counts = rng.integers(50, 200, n)
            f.create_dataset("spikes/times", data=[np.sort(rng.random(c)).astype(np.float32) for c in counts],
                             dtype=vlen[0])
            f.create_dataset("spikes/units", data=[rng.integers(0, 700, c).astype(np.uint16) for c in counts],
                             dtype=vlen[1])
            f.create_dataset("labels", data=np.arange(n) % 20)
    cfg = _config(tmp_path, "shd", T=5, epochs=1, hidden=16, **{"frame-size": 100})
    data = load_dataset(cfg.data)
    assert data.train_x.shape == (22, 5, 1, 1, 100) and data.n_classes == 20      # 2 of the 24 for validation
    assert data.val_x.shape == (2, 5, 1, 1, 100)
    assert check(cfg) == [] and "conv" in " ".join(check(cfg.__class__.from_dict(
        {**cfg.to_dict(), "model": {**cfg.to_dict()["model"], "arch": "conv"}})))
    out = main(["train", "--config", _write(tmp_path / "c.json", cfg), "--robustness", "false", "--quiet"])
    assert out == 0


def _write(path: Path, cfg: RunConfig) -> str:
    path.write_text(cfg.to_json())
    return str(path)


def test_event_folder_of_prophesee_recordings_needs_one_sensor(real_data, tmp_path):
    for name in ("prophesee_gen3_evt2.raw", "prophesee_gen41_evt3.raw"):
        (tmp_path / "moving" / name).parent.mkdir(exist_ok=True)
        shutil.copy(real_data / "dvs_recordings" / name, tmp_path / "moving" / name)
    (tmp_path / "still").mkdir()
    shutil.copy(real_data / "dvs_recordings" / "prophesee_gen41_evt3_decoded.npy", tmp_path / "still" / "a.npy")
    cfg = _config(tmp_path, "event-folder", holdout=0.5)
    with pytest.raises(ValueError, match=r"mixes sensor sizes \[\(640, 480, 2\), \(1280, 720, 2\)\]"):
        load_dataset(cfg.data)
    wide = _config(tmp_path, "event-folder", holdout=0.5, sensor="1280,720", **{"frame-size": 32})
    data = load_dataset(wide.data)
    assert data.frame_shape == (2, 18, 32) and data.class_names == ("moving", "still")
    assert len(data.train_y) + len(data.test_y) == 3
    assert len(data.val_y) == 0                          # 10% of 2 training recordings rounds to none


def test_real_data_settings_are_refused_on_generated_datasets():
    cfg = RunConfig().with_values({"dataset": "digits", "data-dir": "/tmp", "frame-size": "8"})
    assert check(cfg) == ["data.data_dir, data.frame_size: read only by real datasets, but dataset='digits' is "
                          "generated; allowed: a real dataset (nmnist, dvs-gesture, shd, event-folder), or the "
                          "defaults"]


def test_naming_a_dataset_brings_its_defaults_under_the_explicit_settings():
    assert with_dataset_defaults({"dataset": "nmnist", "epochs": "2"})["arch"] == "conv"
    assert with_dataset_defaults({"dataset": "nmnist", "epochs": "2"})["epochs"] == "2"
    assert with_dataset_defaults({"T": "4"}) == {"T": "4"}
