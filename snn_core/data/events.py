"""A procedural event camera: shapes move across a small sensor and emit ON/OFF brightness-change events."""
from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import numpy as np
import tonic.transforms

from .byte_cache import byte_lru
from .framing import EVENT_DTYPE  # tonic's NMNIST dtype: every event array in snn_core.data
from .validation import split_off

SENSOR_SIZE = (32, 32, 2)  # (W, H, polarities), tonic's order
DURATION_US = 96_000  # 2**8 * 375: see events_to_frames for why the power of two matters
SUB_STEPS = 32  # render steps per sample; 3000 us each
SHAPES = ("bar", "square", "cross", "ring", "triangle")
DIRECTIONS = ("right", "left", "up", "down")  # "up" = decreasing y (row 0 is the top of the sensor)
REVERSED_DIRECTION = (1, 0, 3, 2)  # DIRECTIONS index -> index of the opposite direction
LABELS = ("shape", "direction")
HALF_SIZE_RANGE_PX = (3.0, 6.0)  # shape half-size r
TRAVEL_RANGE_PX = (8.0, 16.0)  # distance the shape's centre moves during DURATION_US
N_HOT_PIXELS = 3
HOT_PIXEL_GAIN = 100.0  # a hot pixel fires this many times more often than a background pixel
MAX_NOISE_LEVEL = 10.0
MAX_TIME_STEPS = 256
MAX_SAMPLES = 100_000
MAX_SEED = 2**63 - 1

_UNIT = {"right": (1, 0), "left": (-1, 0), "up": (0, -1), "down": (0, 1)}
# Independent random streams: the per-sample seed is (seed, stream, index), so no stream depends on another.
_SIGNAL, _HOT, _SHAPE_LABEL, _DIRECTION_LABEL, _NOISE = range(5)


@dataclass(frozen=True)
class EventSamples:
    """Raw event streams with both labels (indices into SHAPES and DIRECTIONS)."""

    events: list[np.ndarray]
    shape_labels: np.ndarray
    direction_labels: np.ndarray


@dataclass(frozen=True)
class EventArrays:
    """Framed train/test/validation sets: x is uint8 [N, T, 2, H, W] event counts, y is int64 [N]."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: tuple[str, ...]
    val_x: np.ndarray               # empty when there is no validation split
    val_y: np.ndarray


def _check_int(name: str, value, lo: int, hi: int) -> int:
    """Return value as int, or raise ValueError naming the argument, the value and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _check_float(name: str, value, lo: float, hi: float) -> float:
    """Return value as float, or raise ValueError naming the argument, the value and the allowed range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not lo <= float(value) <= hi:
        raise ValueError(f"{name} must be a number in [{lo}, {hi}], got {value!r}")
    return float(value)


def _check_events(events, duration_us: int, sensor: bool) -> None:
    """Raise ValueError unless events is a t-sorted structured array with t in [0, duration_us), p in {0, 1}."""
    names = getattr(getattr(events, "dtype", None), "names", None) or ()
    if not isinstance(events, np.ndarray) or events.ndim != 1 or not {"x", "y", "t", "p"} <= set(names):
        raise ValueError(f"events must be a 1-D structured array with fields x, y, t, p, got {events!r:.80}")
    if len(events) == 0:
        return
    t, p = events["t"], events["p"]
    if t.min() < 0 or t.max() >= duration_us or np.any(np.diff(t) < 0):
        raise ValueError(f"events['t'] must be sorted and inside [0, {duration_us}), got range [{t.min()}, {t.max()}]")
    if not np.isin(p, (0, 1)).all():
        raise ValueError(f"events['p'] must be 0 (OFF) or 1 (ON), got values {np.unique(p)[:5]}")
    w, h = SENSOR_SIZE[:2]
    if sensor and (events["x"].min() < 0 or events["x"].max() >= w or events["y"].min() < 0 or events["y"].max() >= h):
        raise ValueError(f"events x, y must lie on the {w}x{h} sensor")


def _pack(x, y, t, p) -> np.ndarray:
    """Build an EVENT_DTYPE array in canonical order: sorted by t, ties broken by x, y, p, so the
    result depends only on the multiset of events, never on the order they were drawn in."""
    events = np.empty(len(t), dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x, y, t, p
    return events[np.lexsort((events["p"], events["y"], events["x"], events["t"]))]


def _shape_mask(shape: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    """Binary mask of a shape with half-size r, evaluated at offsets (dx, dy) px from its centre."""
    ax, ay = np.abs(dx), np.abs(dy)
    if shape == "bar":  # vertical bar, 0.6 r wide and 2 r tall
        return (ax <= 0.3 * r) & (ay <= r)
    if shape == "square":
        return (ax <= r) & (ay <= r)
    if shape == "cross":  # two arms of half-width 0.3 r
        return ((ax <= 0.3 * r) & (ay <= r)) | ((ay <= 0.3 * r) & (ax <= r))
    if shape == "ring":  # annulus r - 1.4 <= |d| <= r
        d = np.hypot(dx, dy)
        return (d <= r) & (d >= r - 1.4)
    return (ay <= r) & (ax <= (dy + r) / 2)  # triangle, apex up: half-width grows from 0 at dy=-r to r at dy=r


def _signal_events(rng: np.random.Generator, shape: str, direction: str) -> tuple[np.ndarray, ...]:
    """Events of one shape moving in a straight line, as (x, y, t, p) arrays.

    The mask is rendered at SUB_STEPS + 1 instants (pixel centres at i + 0.5); between instants s-1 and s
    a pixel going 0->1 emits ON (p=1) and 1->0 emits OFF (p=0) at a uniform time inside that sub-step.
    The start is drawn so the whole shape stays on the sensor for the whole motion."""
    w, h = SENSOR_SIZE[:2]
    r = rng.uniform(*HALF_SIZE_RANGE_PX)
    travel = rng.uniform(*TRAVEL_RANGE_PX)
    ux, uy = _UNIT[direction]
    along_size, across_size = (w, h) if ux else (h, w)
    along = rng.uniform(r, along_size - r - travel)  # start, measured from the edge the shape moves away from
    across = rng.uniform(r, across_size - r)
    frac = np.arange(SUB_STEPS + 1) / SUB_STEPS
    sign = ux or uy
    path = (along if sign > 0 else along_size - along) + sign * travel * frac
    cx, cy = (path, np.full_like(frac, across)) if ux else (np.full_like(frac, across), path)
    dx = np.arange(w)[None, None, :] + 0.5 - cx[:, None, None]
    dy = np.arange(h)[None, :, None] + 0.5 - cy[:, None, None]
    change = np.diff(_shape_mask(shape, dx, dy, r).astype(np.int8), axis=0)  # [S, H, W]: +1 on, -1 off
    s, y, x = np.nonzero(change)
    t = np.floor((s + rng.random(len(s))) * (DURATION_US / SUB_STEPS)).astype(np.int64)
    return x, y, np.minimum(t, DURATION_US - 1), (change[s, y, x] > 0).astype(np.int64)


def hot_pixel_positions(seed: int) -> np.ndarray:
    """The N_HOT_PIXELS distinct (x, y) positions of the hot pixels, fixed for every sample of a seed."""
    seed = _check_int("seed", seed, 0, MAX_SEED)
    w, h = SENSOR_SIZE[:2]
    flat = np.random.default_rng([seed, _HOT]).choice(w * h, size=N_HOT_PIXELS, replace=False)
    return np.stack([flat % w, flat // w], axis=1).astype(np.int64)


def _noise_events(rng: np.random.Generator, noise_level: float, hot: np.ndarray) -> tuple[np.ndarray, ...]:
    """Background noise: Poisson(noise_level * W * H) events uniform in x, y, t in [0, DURATION_US), p;
    plus Poisson(noise_level * HOT_PIXEL_GAIN) events at each hot pixel.

    Drawn with a local np.random.Generator rather than tonic.transforms.UniformNoise because tonic
    (1.7) draws from numpy's *global* RNG, spans t only between the first and last signal event
    (not the whole window), and adds nothing to an empty recording."""
    w, h = SENSOR_SIZE[:2]
    n = rng.poisson(noise_level * w * h)
    per_hot = rng.poisson(noise_level * HOT_PIXEL_GAIN, size=len(hot))
    x = np.concatenate([rng.integers(0, w, n), np.repeat(hot[:, 0], per_hot)])
    y = np.concatenate([rng.integers(0, h, n), np.repeat(hot[:, 1], per_hot)])
    return x, y, rng.integers(0, DURATION_US, len(x)), rng.integers(0, 2, len(x))


def _balanced_labels(seed: int, stream: int, n_classes: int, start: int, stop: int) -> np.ndarray:
    """Labels of samples [start, stop): block b = i // k is a seeded permutation of range(k).

    So label i never depends on stop, and every prefix [0, n) holds each class n/k +- 1 times
    (a window not starting at 0 is within +- 2)."""
    if stop <= start:
        return np.zeros(0, dtype=np.int64)
    first, last = start // n_classes, (stop - 1) // n_classes
    blocks = [np.random.default_rng([seed, stream, b]).permutation(n_classes) for b in range(first, last + 1)]
    offset = first * n_classes
    return np.concatenate(blocks)[start - offset: stop - offset].astype(np.int64)


def generate_event_samples(n_samples: int, noise_level: float, seed: int, *, start: int = 0) -> EventSamples:
    """Samples start .. start + n_samples - 1 of the stream defined by (noise_level, seed).

    Sample i is drawn from seeds (seed, stream, i) only, so it is the same whatever n_samples and
    start are, and disjoint index ranges give disjoint train/test sets. numpy's global RNG is untouched."""
    n_samples = _check_int("n_samples", n_samples, 1, MAX_SAMPLES)
    noise_level = _check_float("noise_level", noise_level, 0.0, MAX_NOISE_LEVEL)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    start = _check_int("start", start, 0, MAX_SAMPLES)
    stop = start + n_samples
    shapes = _balanced_labels(seed, _SHAPE_LABEL, len(SHAPES), start, stop)
    directions = _balanced_labels(seed, _DIRECTION_LABEL, len(DIRECTIONS), start, stop)
    hot = hot_pixel_positions(seed)
    events = []
    for j, i in enumerate(range(start, stop)):
        signal = _signal_events(np.random.default_rng([seed, _SIGNAL, i]), SHAPES[shapes[j]], DIRECTIONS[directions[j]])
        noise = _noise_events(np.random.default_rng([seed, _NOISE, i]), noise_level, hot)
        events.append(_pack(*(np.concatenate(pair) for pair in zip(signal, noise))))
    return EventSamples(events=events, shape_labels=shapes, direction_labels=directions)


def reverse_events(events: np.ndarray, duration_us: int = DURATION_US) -> np.ndarray:
    """Play the recording backwards: t -> duration_us - 1 - t and p -> 1 - p (a brightness increase
    seen backwards is a decrease), returned in canonical (t, x, y, p) order.

    Not tonic's RandomTimeReversal: that is random and maps t -> max(t) - t, which depends on the
    last event rather than on the recording window."""
    duration_us = _check_int("duration_us", duration_us, 1, 2**62)
    _check_events(events, duration_us, sensor=False)
    return _pack(events["x"], events["y"], duration_us - 1 - events["t"], 1 - events["p"].astype(np.int64))


@functools.lru_cache(maxsize=8)
def _to_frame(time_steps: int) -> tonic.transforms.ToFrame:
    """tonic's ToFrame with time_steps windows of 2 * DURATION_US on the rescaled clock (see events_to_frames)."""
    return tonic.transforms.ToFrame(
        sensor_size=SENSOR_SIZE, time_window=2 * DURATION_US, start_time=0, end_time=2 * DURATION_US * time_steps
    )


def events_to_frames(events: np.ndarray, time_steps: int) -> np.ndarray:
    """Event counts per (time bin, polarity, y, x) as float32 [T, 2, H, W] over the full window.

    Frame k always holds the ticks t whose midpoint t + 0.5 lies in [k, k + 1) * DURATION_US / T,
    wherever the first/last event falls (tonic's n_time_bins would instead divide the span between
    the first and last event, and drop the last one). It is done with tonic's ToFrame(time_window=...)
    on the clock t' = (2 t + 1) * T, whose windows of 2 * DURATION_US are exactly those bins, with
    integer edges. Midpoints make the binning mirror-symmetric under t -> DURATION_US - 1 - t; because
    DURATION_US has 2**8 as a factor no midpoint sits on an edge for T < 512, so reversing events
    reverses frames exactly."""
    time_steps = _check_int("time_steps", time_steps, 1, MAX_TIME_STEPS)
    _check_events(events, DURATION_US, sensor=True)
    w, h, n_pol = SENSOR_SIZE
    if len(events) == 0:  # tonic returns one [P, W, H] frame for empty input with time_window
        return np.zeros((time_steps, n_pol, h, w), dtype=np.float32)
    rescaled = events.astype(EVENT_DTYPE)  # copy: ToFrame sees only the rescaled clock
    rescaled["t"] = (2 * rescaled["t"] + 1) * time_steps
    frames = _to_frame(time_steps)(rescaled)  # tonic gives [T, P, H, W] (sensor_size reversed)
    return frames.astype(np.float32)


@byte_lru(lambda arrays: sum(array.nbytes for array in arrays))
def _framed_dataset(time_steps: int, train_samples: int, test_samples: int, noise_level: float, seed: int):
    """(x, shape_labels, direction_labels) for samples [0, train + test), x as uint8 counts, all read-only;
    cached because the app reruns on every widget change and the shape and direction tasks share the frames
    (within ``$SNN_DATA_CACHE_MB``: the largest allowed set is 1.8 GiB)."""
    samples = generate_event_samples(train_samples + test_samples, noise_level, seed)
    w, h, n_pol = SENSOR_SIZE
    x = np.empty((len(samples.events), time_steps, n_pol, h, w), dtype=np.uint8)   # counts: 4x less than float32
    for i, events in enumerate(samples.events):
        x[i] = np.minimum(events_to_frames(events, time_steps), np.iinfo(np.uint8).max)
    for array in (x, samples.shape_labels, samples.direction_labels):
        array.flags.writeable = False
    return x, samples.shape_labels, samples.direction_labels


def load_event_arrays(
    label: str, time_steps: int, train_samples: int, test_samples: int, noise_level: float, seed: int,
    validation: float = 0.0,
) -> EventArrays:
    """Framed event data labelled by "shape" or "direction": train = samples [0, train_samples) less the
    ``validation`` fraction held out of them (``snn_core.data.validation``, stratified by ``label``), test = the
    next test_samples of the same stream. Without validation the arrays are read-only views of a cached result;
    with it the train and validation parts are copies."""
    if label not in LABELS:
        raise ValueError(f"label must be one of {LABELS}, got {label!r}")
    time_steps = _check_int("time_steps", time_steps, 1, MAX_TIME_STEPS)
    train_samples = _check_int("train_samples", train_samples, 1, MAX_SAMPLES)
    test_samples = _check_int("test_samples", test_samples, 1, MAX_SAMPLES)
    noise_level = _check_float("noise_level", noise_level, 0.0, MAX_NOISE_LEVEL)
    seed = _check_int("seed", seed, 0, MAX_SEED)
    x, shapes, directions = _framed_dataset(time_steps, train_samples, test_samples, noise_level, seed)
    y, names = (shapes, SHAPES) if label == "shape" else (directions, DIRECTIONS)
    n = train_samples
    train_x, train_y, val_x, val_y = split_off(x[:n], y[:n], validation, seed)
    return EventArrays(train_x=train_x, train_y=train_y, test_x=x[n:], test_y=y[n:], class_names=names,
                       val_x=val_x, val_y=val_y)
