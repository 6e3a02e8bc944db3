"""Datasets by name: what each one is (known without loading it) and how to load it, cached per config.

Static datasets give float ``x[N, C, H, W]`` in [0, 1] (encoded into spikes later); event
datasets give uint8 event counts ``x[N, T, P, H, W]`` that already carry the time axis.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:       # the config's dataset choices come from DATASETS, so config imports this module
    from ..config.run_config import DataConfig


@dataclass(frozen=True)
class Dataset:
    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    class_names: tuple[str, ...]
    has_time_axis: bool             # True: x is [N, T, ...] event frames; False: static, to be encoded

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of the input at one time step of one sample, e.g. (1, 8, 8) or (2, 32, 32)."""
        return tuple(self.train_x.shape[2:] if self.has_time_axis else self.train_x.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is without loading it: the facts config checks need (``snn_core.config.check``),
    and its loader. A test holds each one to the dataset it loads."""

    has_time_axis: bool               # event frames (True) or static images to encode (False)
    frame_shape: tuple[int, ...]      # (C, H, W) of one time step
    n_classes: int
    load: Callable[[DataConfig], Dataset]


def _digits(cfg: DataConfig) -> Dataset:
    from . import digits  # scikit-learn is imported only when digits are asked for

    train_x, train_y, test_x, test_y = digits.load_digit_arrays(cfg.train_samples, cfg.test_samples, cfg.data_seed)
    return Dataset("digits", *map(torch.from_numpy, (train_x, train_y, test_x, test_y)),
                   digits.CLASS_NAMES, has_time_axis=False)


def _events(label: str, cfg: DataConfig) -> Dataset:
    from . import events  # tonic is imported only when event data is asked for

    arrays = events.load_event_arrays(label, cfg.time_steps, cfg.train_samples, cfg.test_samples,
                                      cfg.noise_level, cfg.data_seed)
    parts = (arrays.train_x, arrays.train_y, arrays.test_x, arrays.test_y)
    tensors = (torch.from_numpy(a.copy()) for a in parts)     # copy: the cached arrays are read-only
    return Dataset(f"events-{label}", *tensors, arrays.class_names, has_time_axis=True)


DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(False, (1, 8, 8), 10, _digits),
    "events-shape": DatasetInfo(True, (2, 32, 32), 5, functools.partial(_events, "shape")),
    "events-direction": DatasetInfo(True, (2, 32, 32), 4, functools.partial(_events, "direction")),
}


@functools.lru_cache(maxsize=8)
def load_dataset(cfg: DataConfig) -> Dataset:
    """The dataset a config names; identical configs share one (read-only) copy."""
    if cfg.dataset not in DATASETS:
        raise ValueError(f"dataset={cfg.dataset!r} is not known; allowed: {', '.join(DATASETS)}")
    return DATASETS[cfg.dataset].load(cfg)
