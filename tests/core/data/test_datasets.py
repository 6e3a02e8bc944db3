"""The dataset registry and loader: the digits split, and each dataset described as it loads."""

import pytest
import torch

from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS, load_dataset


def test_digits_split_is_stratified_deterministic_and_scaled(tiny):
    data = load_dataset(tiny(**{"train-samples": "1437", "test-samples": "360"}).data)
    assert data.train_x.shape == (1293, 1, 8, 8) and data.test_x.shape == (360, 1, 8, 8)   # 1437 less 144 held out
    assert data.val_x.shape == (144, 1, 8, 8)
    assert 0.0 <= float(data.train_x.min()) and float(data.train_x.max()) == 1.0
    counts = torch.bincount(data.test_y, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    other = load_dataset(tiny(**{"data-seed": "1", "train-samples": "1437", "test-samples": "360"}).data)
    assert not torch.equal(data.test_y, other.test_y)


@pytest.mark.parametrize("name", [name for name, info in DATASETS.items() if not info.reads_folder])
def test_the_registry_describes_each_dataset_as_it_loads(name):
    cfg = RunConfig().with_values({"dataset": name, "T": 2, "train-samples": 20, "test-samples": 20})
    info, dataset = DATASETS[name], load_dataset(cfg.data)
    assert (info.has_time_axis, info.frame_shape, info.n_classes) == (
        dataset.has_time_axis, dataset.frame_shape, dataset.n_classes)


@pytest.mark.parametrize("frame_size", [0, 16])
def test_a_real_dataset_is_described_as_it_loads_at_each_frame_size(real_data, frame_size):
    cfg = RunConfig().with_values({"dataset": "nmnist", "data-dir": str(real_data / "nmnist"), "T": 2,
                                   "frame-size": frame_size, "train-samples": 20, "test-samples": 20})
    info, dataset = DATASETS["nmnist"], load_dataset(cfg.data)
    assert (info.has_time_axis, info.frame_shape_for(cfg.data), info.n_classes) == (
        dataset.has_time_axis, dataset.frame_shape, dataset.n_classes)
