"""Training from frames on disk: the DataLoader (worker processes or not) gives exactly the batches, losses and
evaluations of indexing frames in memory, and a fork mid-epoch continues the same batches."""
import shutil
from pathlib import Path

import pytest
import torch

from snn_core.config.run_config import RunConfig, with_dataset_defaults
from snn_core.data import DiskFrames, load_dataset
from snn_core.data.batches import LOADER_WORKERS_ENV, loader_workers
from snn_core.training.trainer import Trainer


@pytest.fixture
def folder(real_data, tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path / "cache"))
    for digit in range(10):
        files = sorted((real_data / "nmnist" / "Train" / str(digit)).glob("*.bin"))
        for split, chosen in (("Train", files[:4]), ("Test", files[4:5])):
            (tmp_path / "nm" / split / str(digit)).mkdir(parents=True)
            for path in chosen:
                shutil.copy(path, tmp_path / "nm" / split / str(digit) / path.name)
    load_dataset.cache_clear()
    yield tmp_path / "nm"
    load_dataset.cache_clear()


def _run(root: Path, monkeypatch, workers: str | None, cache_mb: str = "2048") -> tuple[list[float], Trainer]:
    monkeypatch.setenv("SNN_FRAME_CACHE_MB", cache_mb)
    if workers is None:
        monkeypatch.delenv(LOADER_WORKERS_ENV, raising=False)
    else:
        monkeypatch.setenv(LOADER_WORKERS_ENV, workers)
    load_dataset.cache_clear()
    cfg = RunConfig().with_values(with_dataset_defaults({
        "dataset": "nmnist", "data-dir": str(root), "T": "3", "channels": "4", "batch-size": "7", "epochs": "2",
        "train-samples": "0", "test-samples": "0", "validation": "0.2", "seed": "3"}))
    trainer = Trainer(cfg)
    return [trainer.step().loss for _ in range(7)], trainer              # 32 samples, 5 batches: into epoch 2


def test_the_loader_gives_the_batches_and_losses_of_indexing_frames_in_memory(folder, monkeypatch):
    memory, in_memory = _run(folder, monkeypatch, None, cache_mb="0")       # the frame cache off: tensors
    direct, on_disk = _run(folder, monkeypatch, "0")
    loaded, with_worker = _run(folder, monkeypatch, "1")
    assert isinstance(in_memory.dataset.train_x, torch.Tensor) and isinstance(with_worker.dataset.train_x, DiskFrames)
    assert loader_workers(with_worker.dataset.train_x) == 1 and loader_workers(in_memory.dataset.train_x) == 0
    assert memory == direct == loaded
    assert in_memory.history[0].to_dict() | {"train_seconds": 0} == with_worker.history[0].to_dict() | {
        "train_seconds": 0}
    trace = in_memory.trace_samples([0, 3]).trace
    assert torch.equal(trace.logits, with_worker.trace_samples([0, 3]).trace.logits)
    fork = with_worker.fork(with_worker.cfg)                                # mid-epoch: the rest of its batches
    assert [fork.step().loss for _ in range(2)] == [with_worker.step().loss for _ in range(2)]


def test_workers_are_for_large_splits_on_disk_only(folder, monkeypatch):
    monkeypatch.delenv(LOADER_WORKERS_ENV, raising=False)
    load_dataset.cache_clear()
    data = load_dataset(RunConfig().with_values(with_dataset_defaults({
        "dataset": "nmnist", "data-dir": str(folder), "train-samples": "0", "test-samples": "0"})).data)
    assert loader_workers(data.train_x) == 0                                # 36 samples: read in the process
    monkeypatch.setenv(LOADER_WORKERS_ENV, "two")
    with pytest.raises(ValueError, match="SNN_LOADER_WORKERS='two' is not valid; allowed: a whole number"):
        loader_workers(data.train_x)
