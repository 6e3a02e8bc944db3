"""Real event datasets by name: find the files (``folders``), read them (``readers``), frame them
(``framing``), keep the frames on disk (``frame_cache``), and split them into train, validation and test.

When a dataset has no test split on disk, a stratified ``data.holdout`` fraction of its training files
(drawn with ``data.data_seed``) is held out as test, and ``Dataset.source`` says so. ``train_samples`` and
``test_samples`` cap each split (a seeded draw when there are more files; 0 = every recording); the sizes actually
used are the splits' lengths. Then ``data.validation`` of the (capped) training recordings is held out as the
validation split (``snn_core.data.validation``, stratified, drawn with ``data.data_seed``) by index: the frame cache
holds train and test as before, so changing the validation fraction never reframes a folder.

Framing streams: one recording is read and framed at a time, straight into the frame cache's on-disk entry
(``frame_cache.build``: resumable, never served half done), and the splits are index selections of that entry
(``frame_cache.DiskFrames``), so memory does not grow with the folder. Framing a folder for the first time reports
progress through ``framing_progress``.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import folders, frame_cache, readers
from .framing import FrameSpec, frame_events, frame_shape, spec_of
from .validation import split_off

if TYPE_CHECKING:
    from ..fields import Section as DataConfig

# (frames done, frames to do, what is being framed) -> None; set by the app around a load (a progress bar)
Progress = Callable[[int, int, str], None]
_progress: contextvars.ContextVar[Progress | None] = contextvars.ContextVar("framing_progress", default=None)
HEADER_FORMATS = ("evt2", "evt3", "dat", "aedat4")     # formats whose files state their sensor size
SHD_SENSOR = (700, 1, 1)
SHD_CLASSES = 20


@contextlib.contextmanager
def framing_progress(callback: Progress) -> Iterator[None]:
    """Within this block, loading a real dataset calls ``callback(done, total, label)`` while it frames files."""
    token = _progress.set(callback)
    try:
        yield
    finally:
        _progress.reset(token)


@dataclass(frozen=True)
class RealArrays:
    """Framed splits: x uint8 ``[N, T, P, H, W]`` (on disk, ``frame_cache.DiskFrames``; in memory, an ndarray,
    with the frame cache off), y int64 ``[N]``, and how the split was made."""

    train_x: frame_cache.DiskFrames | np.ndarray
    train_y: np.ndarray
    test_x: frame_cache.DiskFrames | np.ndarray
    test_y: np.ndarray
    class_names: tuple[str, ...]
    source: str
    val_x: frame_cache.DiskFrames | np.ndarray     # empty when data.validation is 0
    val_y: np.ndarray


def load_real_arrays(name: str, data: DataConfig) -> RealArrays:
    """The framed train/test arrays of the real dataset ``name`` (``nmnist``, ``dvs-gesture``, ``shd``,
    ``event-folder``) read from ``data.data_dir``."""
    root = folders.resolve_root(data.data_dir, name)
    if name == "shd":
        return _shd(root, data)
    files = {"nmnist": folders.nmnist_files, "dvs-gesture": folders.dvs_gesture_files}.get(name)
    listing = files(root) if files else folders.event_folder_files(root, readers.SUFFIXES)
    train, test, how = _split(listing.train, listing.test, data)
    spec = spec_of(data)
    paths = [path for path, _ in (*train, *test)]
    key = frame_cache.cache_key(paths, dataset=name, spec=spec.__dict__, sensor=list(data.sensor),
                                n_train=len(train))
    arrays = frame_cache.load(key)
    if arrays is None:
        labels = np.array([label for _, label in (*train, *test)], dtype=np.int64)
        arrays = _frame_files(key, name, paths, labels, spec, data.sensor)
    return _arrays(name, root, arrays["x"], arrays["y"], len(train), how, listing.class_names, data)


def _arrays(name: str, root: Path, x: np.ndarray, y: np.ndarray, n_train: int, how: str,
            class_names: tuple[str, ...], data: DataConfig) -> RealArrays:
    """The splits of framed recordings whose first ``n_train`` are the training ones: the validation part held
    out of those (module docstring), the rest test; ``source`` says how many of each and how they were split."""
    train_x, train_y, val_x, val_y = split_off(_rows(x, 0, n_train), y[:n_train], data.validation, data.data_seed)
    validation = f", {len(val_y)} of the training recordings held out for validation (stratified, data-seed " \
                 f"{data.data_seed})" if len(val_y) else ""
    source = f"{name} from {root}: {len(train_y)} training, {len(val_y)} validation and {len(y) - n_train} test " \
             f"recordings ({how}{validation})"
    return RealArrays(train_x, train_y, _rows(x, n_train, len(y)), y[n_train:], class_names, source, val_x, val_y)


def _rows(x, start: int, stop: int):
    """Rows start..stop-1 of frames: an index selection of frames on disk, a view of frames in memory."""
    return x.subset(slice(start, stop)) if isinstance(x, frame_cache.DiskFrames) else x[start:stop]


def _split(train: Sequence, test: Sequence, data: DataConfig) -> tuple[list, list, str]:
    """(train, test, how): the folder's own split, or a held-out part of train; each capped by a seeded draw."""
    rng = np.random.default_rng(data.data_seed)
    if test:
        how = "the folder's own test split"
    else:
        train, test = _hold_out(list(train), data.holdout, rng)
        how = f"no test split on disk: {len(test)} of the training recordings held out (stratified, data-seed " \
              f"{data.data_seed})"
    train, test = _cap(list(train), data.train_samples, rng), _cap(list(test), data.test_samples, rng)
    if len(test) == 0:
        raise ValueError(f"holding out {data.holdout:g} of {len(train)} recordings leaves no test recording; "
                         "allowed: more recordings, a Test split, or a larger --holdout")
    return train, test, how


def _hold_out(pairs: list, fraction: float, rng: np.random.Generator) -> tuple[list, list]:
    """Per class, round(fraction * n) randomly chosen recordings go to test; order within each part is kept."""
    labels = np.array([label for _, label in pairs])
    test = set()
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test.update(rng.permutation(members)[:round(fraction * len(members))].tolist())
    return [p for i, p in enumerate(pairs) if i not in test], [p for i, p in enumerate(pairs) if i in test]


def _cap(pairs: list, cap: int, rng: np.random.Generator) -> list:
    """At most ``cap`` of ``pairs`` (0: all of them): a seeded random subset in the original order."""
    if cap == 0 or len(pairs) <= cap:
        return pairs
    keep = np.sort(rng.permutation(len(pairs))[:cap])
    return [pairs[i] for i in keep]


def _frame_files(key: str, name: str, paths: list[Path], labels: np.ndarray, spec: FrameSpec,
                 sensor: tuple[int, ...]) -> dict:
    """The frame cache entry ``key`` of the files, framed one at a time with the dataset's reader
    (``frame_cache.build``): ``{"x": frames [N, T, P, H, W], "y": labels}``."""
    if name == "dvs-gesture":
        read, common = readers.read_dvs_gesture_npy, (128, 128, 2)
    else:
        given = _given_sensor(sensor) if name == "event-folder" else (34, 34)
        read = functools.partial(readers.read_events, sensor_size=given)
        common = _common_sensor(paths, given, name)

    def frame(i: int) -> np.ndarray:
        return frame_events(read(paths[i]).events, common, spec)

    return frame_cache.build(key, len(paths), (spec.time_steps, *frame_shape(common, spec)), frame, {"y": labels},
                             label=name, name=lambda i: str(paths[i]), report=_progress.get())


def _given_sensor(sensor: tuple[int, ...]) -> tuple[int, int] | None:
    """``data.sensor`` (--sensor) as (W, H); None when it is empty (a size to find in the files)."""
    if not sensor:
        return None
    if len(sensor) != 2:            # as the readers' sensor_size: (W, H) or nothing
        raise ValueError(f"data.sensor (--sensor)={list(sensor)} is not valid; allowed: W,H or empty")
    return sensor[0], sensor[1]


def _common_sensor(paths: list[Path], given: tuple[int, int] | None, name: str) -> tuple[int, int, int]:
    """The one sensor of a folder: the given size, else the size the headers state (they must agree),
    else the largest extent of the data. Without a given size, a first pass reads each file once for its size
    and keeps only that (not its events)."""
    if given:
        return (*given, 2)
    report = _progress.get()
    stated: set[tuple[int, int, int]] = set()
    extents = [0, 0]
    for i, path in enumerate(paths):
        recording = readers.read_events(path, sensor_size=None)
        if recording.format in HEADER_FORMATS:
            width, height, polarities = recording.sensor_size
            stated.add((width, height, polarities))
        extents = [max(extents[0], recording.sensor_size[0]), max(extents[1], recording.sensor_size[1])]
        del recording
        if report and (i + 1 == len(paths) or i % frame_cache.REPORT_EVERY == 0):
            report(i + 1, len(paths), f"reading the sensor sizes of {name}")
    if len(stated) > 1:
        raise ValueError(f"the folder mixes sensor sizes {sorted(stated)} (from the files' headers); allowed: "
                         "recordings of one sensor, or --sensor W,H to frame them all on one")
    if stated:
        return stated.pop()
    return extents[0], extents[1], 2


def _shd(root: Path, data: DataConfig) -> RealArrays:
    """Spiking Heidelberg Digits: 700 channels as a 1 x 700 sensor of one polarity."""
    train_file, test_file = folders.shd_files(root)
    spec = spec_of(data)
    key = frame_cache.cache_key([p for p in (train_file, test_file) if p], dataset="shd", spec=spec.__dict__,
                                seed=data.data_seed, holdout=data.holdout, caps=[data.train_samples, data.test_samples])
    arrays = frame_cache.load(key)
    if arrays is None:
        read_train = _shd_pairs(train_file)           # SHD's files come in bulk: their events are read whole
        read_test = _shd_pairs(test_file) if test_file else ()
        train, test, how = _split(read_train, read_test, data)
        pairs = (*train, *test)
        stored = {"y": np.array([y for _, y in pairs], dtype=np.int64), "n_train": np.array(len(train)),
                  "how": np.array(how)}
        arrays = frame_cache.build(key, len(pairs), (spec.time_steps, *frame_shape(SHD_SENSOR, spec)),
                                   lambda i: frame_events(pairs[i][0].events, SHD_SENSOR, spec), stored, label="shd",
                                   name=lambda i: f"shd sample {i}", report=_progress.get())
    names = tuple(str(k) for k in range(SHD_CLASSES))
    return _arrays("shd", root, arrays["x"], arrays["y"], int(arrays["n_train"]), str(arrays["how"]), names, data)


@dataclass(frozen=True)
class _Events:
    """A stand-in for a Recording where only the events are needed (SHD samples come in bulk)."""

    events: np.ndarray


def _shd_pairs(path: Path) -> tuple:
    events, labels = readers.shd_samples(path)
    if len(labels) and (labels.min() < 0 or labels.max() >= SHD_CLASSES):
        raise ValueError(f"{path}: labels must be 0..{SHD_CLASSES - 1}, got {labels.min()}..{labels.max()}")
    return tuple((_Events(e), int(y)) for e, y in zip(events, labels))
