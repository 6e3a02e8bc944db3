"""Datasets by name: what each one is (known without loading it) and how to load it, cached per config
(within the data cache's byte budget, ``snn_core.data.byte_cache``).

Static datasets give float ``x[N, C, H, W]`` in [0, 1] (encoded into spikes later); event
datasets give uint8 event counts ``x[N, T, P, H, W]`` that already carry the time axis. Procedural
datasets are generated here (``digits``, ``events``); real ones are read from a folder (``real``:
``nmnist``, ``dvs-gesture``, ``shd``, ``event-folder``), downloaded only when asked (``fetch``).

Every dataset has three splits: train, validation (``data.validation`` of the training split, held out by
``snn_core.data.validation``; empty at 0) and test. Settings are chosen on validation accuracy, never on test.

``train_samples``/``test_samples`` = 0 mean every sample: every recording of a real dataset's folder, the whole
digits split (1437 training, 360 test images); the generated event clips have no fixed size, so 0 is refused there.

A real dataset's frames stay on disk (``frame_cache.DiskFrames``: indexing reads those rows), so ``Dataset.nbytes``
(what the data cache counts) holds only its labels and index arrays; ``batches.batches`` reads a training epoch
through a torch ``DataLoader`` (worker processes for large folders) in the trainer's own batch order.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch

from .byte_cache import byte_lru
from .frame_cache import DiskFrames

if TYPE_CHECKING:       # the config's dataset choices come from DATASETS, so config imports this module
    from ..fields import Section as DataConfig


Frames = torch.Tensor | DiskFrames     # x of a split: in memory, or a real dataset's frames on disk


@dataclass(frozen=True, init=False)    # its own __init__: a validation split not given is an empty one
class Dataset:
    name: str
    train_x: Frames                 # indexing either gives a tensor; a real dataset's stay on disk
    train_y: torch.Tensor
    test_x: Frames
    test_y: torch.Tensor
    class_names: tuple[str, ...]
    has_time_axis: bool             # True: x is [N, T, ...] event frames; False: static, to be encoded
    source: str                     # where the samples came from and how they were split (real datasets)
    val_x: Frames                   # the validation split, held out of train; empty when there is none
    val_y: torch.Tensor

    def __init__(self, name: str, train_x: Frames, train_y: torch.Tensor, test_x: Frames, test_y: torch.Tensor,
                 class_names: tuple[str, ...], has_time_axis: bool, source: str = "",
                 val_x: Frames | None = None, val_y: torch.Tensor | None = None) -> None:
        """The fields in their order; ``val_x`` or ``val_y`` None: no validation, an empty split (``train_x[:0]``)."""
        if val_x is None or val_y is None:
            val_x, val_y = train_x[:0], train_y[:0]
        values = {"name": name, "train_x": train_x, "train_y": train_y, "test_x": test_x, "test_y": test_y,
                  "class_names": class_names, "has_time_axis": has_time_axis, "source": source,
                  "val_x": val_x, "val_y": val_y}
        for key, value in values.items():           # frozen: set through object's own __setattr__
            object.__setattr__(self, key, value)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of the input at one time step of one sample, e.g. (1, 8, 8) or (2, 32, 32)."""
        return tuple(self.train_x.shape[2:] if self.has_time_axis else self.train_x.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def nbytes(self) -> int:
        """Memory its six splits hold (what the data cache counts): frames on disk count only their index."""
        tensors = (self.train_x, self.train_y, self.val_x, self.val_y, self.test_x, self.test_y)
        return sum(t.resident_nbytes if isinstance(t, DiskFrames) else t.element_size() * t.nelement()
                   for t in tensors)


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset is without loading it: the facts config checks need (``snn_core.config.check``),
    and its loader. A test holds each one to the dataset it loads."""

    has_time_axis: bool               # event frames (True) or static images to encode (False)
    frame_shape: tuple[int, ...]      # (C, H, W) of one time step; for a real dataset its sensor's, 0 = unknown
    n_classes: int                    # 0: known once loaded (event-folder)
    load: Callable[[DataConfig], Dataset]
    reads_folder: bool = False        # a real dataset, read from data.data_dir
    sensor: tuple[int, int, int] | None = None              # (W, H, P) of a real dataset's sensor, when fixed
    defaults: Mapping[str, str] = field(default_factory=dict)  # settings (CLI names) that suit the dataset

    def frame_shape_for(self, data: DataConfig) -> tuple[int, ...]:
        """(C, H, W) of one time step under ``data``'s framing (a real dataset downsampled by frame_size)."""
        if not self.reads_folder:
            return self.frame_shape
        from .framing import frame_shape, spec_of

        sensor = self.sensor or ((*data.sensor, 2) if len(data.sensor) == 2 else None)
        return frame_shape(sensor, spec_of(data)) if sensor else self.frame_shape


def _tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor of ``array``, sharing its memory unless it is read-only (the procedural clips' cache): copied."""
    return torch.from_numpy(np.require(array, requirements="W"))


def _digits(cfg: DataConfig) -> Dataset:
    from . import digits  # scikit-learn is imported only when digits are asked for

    train_x, train_y, test_x, test_y, val_x, val_y = map(_tensor, digits.load_digit_arrays(
        cfg.train_samples or None, cfg.test_samples or None, cfg.data_seed, cfg.validation))   # 0: the whole split
    return Dataset("digits", train_x, train_y, test_x, test_y, digits.CLASS_NAMES, has_time_axis=False,
                   val_x=val_x, val_y=val_y)


def _events(label: str, cfg: DataConfig) -> Dataset:
    from . import events  # tonic is imported only when event data is asked for

    for option, value in (("train-samples", cfg.train_samples), ("test-samples", cfg.test_samples)):
        if value == 0:
            raise ValueError(f"data.{option.replace('-', '_')} (--{option})=0 means every recording of a real "
                             f"dataset, but the events-{label} clips are generated and have no fixed number; "
                             f"allowed: a number of clips from 20 to {events.MAX_SAMPLES}")
    arrays = events.load_event_arrays(label, cfg.time_steps, cfg.train_samples, cfg.test_samples,
                                      cfg.noise_level, cfg.data_seed, cfg.validation)
    train_x, train_y, test_x, test_y, val_x, val_y = map(_tensor, (
        arrays.train_x, arrays.train_y, arrays.test_x, arrays.test_y, arrays.val_x, arrays.val_y))
    return Dataset(f"events-{label}", train_x, train_y, test_x, test_y, arrays.class_names, has_time_axis=True,
                   val_x=val_x, val_y=val_y)


def _real(name: str, cfg: DataConfig) -> Dataset:
    from . import real  # tonic and the file readers are imported only when real data is asked for

    arrays = real.load_real_arrays(name, cfg)

    def frames(array: DiskFrames | np.ndarray) -> Frames:
        return array if isinstance(array, DiskFrames) else _tensor(array)
    return Dataset(name, frames(arrays.train_x), _tensor(arrays.train_y), frames(arrays.test_x),
                   _tensor(arrays.test_y), arrays.class_names, has_time_axis=True, source=arrays.source,
                   val_x=frames(arrays.val_x), val_y=_tensor(arrays.val_y))


def _real_info(name: str, sensor: tuple[int, int, int] | None, n_classes: int, defaults: dict) -> DatasetInfo:
    shape = (sensor[2], sensor[1], sensor[0]) if sensor else (2, 0, 0)
    return DatasetInfo(True, shape, n_classes, functools.partial(_real, name), True, sensor, defaults)


# Each real dataset's defaults reach a good accuracy on a CPU in minutes (README "Real datasets" gives the numbers).
REAL_DEFAULTS = {
    "nmnist": {"arch": "conv", "channels": "16,32", "T": "8", "epochs": "10", "batch-size": "32",
               "train-samples": "10000", "test-samples": "5000"},
    "dvs-gesture": {"arch": "conv", "channels": "16,32", "T": "16", "frame-size": "32", "epochs": "20",
                    "batch-size": "16", "train-samples": "10000", "test-samples": "5000"},
    "shd": {"arch": "mlp", "hidden": "256", "T": "50", "frame-size": "350", "epochs": "20", "batch-size": "64",
            "train-samples": "10000", "test-samples": "5000"},
    "event-folder": {"arch": "conv", "channels": "16,32", "T": "8", "frame-size": "64", "epochs": "10",
                     "batch-size": "32"},
}

DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(False, (1, 8, 8), 10, _digits),
    "events-shape": DatasetInfo(True, (2, 32, 32), 5, functools.partial(_events, "shape")),
    "events-direction": DatasetInfo(True, (2, 32, 32), 4, functools.partial(_events, "direction")),
    "nmnist": _real_info("nmnist", (34, 34, 2), 10, REAL_DEFAULTS["nmnist"]),
    "dvs-gesture": _real_info("dvs-gesture", (128, 128, 2), 11, REAL_DEFAULTS["dvs-gesture"]),
    "shd": _real_info("shd", (700, 1, 1), 20, REAL_DEFAULTS["shd"]),
    "event-folder": _real_info("event-folder", None, 0, REAL_DEFAULTS["event-folder"]),
}


MIN_SAMPLES = 20        # a nonzero train/test-samples below this is refused (the config's range starts at 0 = all)


@byte_lru(lambda dataset: dataset.nbytes)
def load_dataset(cfg: DataConfig) -> Dataset:
    """The dataset a config names; identical configs share one (read-only) copy while it is cached (the most
    recently used datasets within ``$SNN_DATA_CACHE_MB``) or a run still holds it."""
    if cfg.dataset not in DATASETS:
        raise ValueError(f"dataset={cfg.dataset!r} is not known; allowed: {', '.join(DATASETS)}")
    for option, value in (("train-samples", cfg.train_samples), ("test-samples", cfg.test_samples)):
        if 0 < value < MIN_SAMPLES:
            raise ValueError(f"data.{option.replace('-', '_')} (--{option})={value} is not allowed; allowed: 0 (every "
                             f"sample of a real dataset or of the digits split) or {MIN_SAMPLES} and more")
    return DATASETS[cfg.dataset].load(cfg)
