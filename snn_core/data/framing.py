"""Real recordings -> the frames a network sees: tonic's transforms, then one of three input codes.

One recording (``snn_core.data.readers.Recording``) becomes uint8 ``[T, P, H, W]``:

1. its clock starts at its first event (t - t_first), so files with absolute timestamps frame alike;
2. ``tonic.transforms.CropTime(max=crop_us)`` keeps the first ``crop_us`` microseconds (0: all);
3. ``tonic.transforms.Denoise(filter_time=denoise_us)`` drops isolated events (0: off);
4. ``tonic.transforms.Downsample(sensor_size, target_size)`` shrinks the sensor so its longer side is
   ``frame_size`` pixels (0, or a sensor already that small: unchanged);
5. ``tonic.transforms.ToFrame(n_time_bins=T)`` counts events per time bin, polarity and pixel; the T bins
   split each recording's own span, so recordings of different lengths all give T frames;
6. the code: ``counts`` (saturating at 255), ``binary`` (1 where a bin has any event), or ``first-spike``
   (each input, a (polarity, pixel), spikes once, in the bin of its first event: a latency code for TTFS).

The size is known before anything is allocated: T x P x H x W cells, each a uint8 frame cell plus tonic's int16
count and its clipped copy (``BYTES_PER_CELL``), is checked against the megabytes one file may decode to
(``SNN_MAX_FILE_DECODE_MB``, ``files.FILE_DECODE``); a header may state any sensor size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..files import FILE_DECODE

EVENT_CODES = ("counts", "binary", "first-spike")
EVENT_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])  # tonic's NMNIST dtype, as in events
COUNT_MAX = np.iinfo(np.uint8).max
BYTES_PER_CELL = 5          # uint8 frames, tonic's int16 counts, np.minimum's int16 copy of them


@dataclass(frozen=True)
class FrameSpec:
    """How recordings become frames; the fields of ``DataConfig`` that say so (``spec_of``)."""

    time_steps: int
    frame_size: int = 0       # longer side after downsampling, in pixels; 0 = the sensor's own size
    event_frames: str = "counts"
    denoise_us: int = 0       # 0 = no denoising
    crop_us: int = 0          # 0 = the whole recording

    def __post_init__(self) -> None:
        if self.event_frames not in EVENT_CODES:
            raise ValueError(f"event_frames={self.event_frames!r} is not known; allowed: {', '.join(EVENT_CODES)}")
        for name in ("time_steps", "frame_size", "denoise_us", "crop_us"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < (name == "time_steps"):
                raise ValueError(f"{name}={value!r} is not valid; allowed: an integer >= {int(name == 'time_steps')}")


def spec_of(data) -> FrameSpec:
    """The frame spec of a ``DataConfig``."""
    return FrameSpec(data.time_steps, data.frame_size, data.event_frames, data.denoise_us, data.crop_us)


def framed_size(sensor_size: tuple[int, ...], frame_size: int) -> tuple[int, int]:
    """(W, H) after downsampling a (W, H, ...) sensor so its longer side is ``frame_size`` (aspect kept,
    each side at least 1); the sensor's own (W, H) when frame_size is 0 or not smaller."""
    width, height = int(sensor_size[0]), int(sensor_size[1])
    longer = max(width, height)
    if frame_size == 0 or frame_size >= longer:
        return width, height
    scale = frame_size / longer
    return max(1, round(width * scale)), max(1, round(height * scale))


def frame_shape(sensor_size: tuple[int, int, int], spec: FrameSpec) -> tuple[int, int, int]:
    """(P, H, W) of one frame for recordings from this sensor."""
    width, height = framed_size(sensor_size, spec.frame_size)
    return int(sensor_size[2]), height, width


def check_frames_size(sensor_size: tuple[int, int, int], spec: FrameSpec) -> None:
    """ValueError (one line, naming the limit) when one recording's frames would pass the decode limit."""
    polarities = int(sensor_size[2])
    width, height = framed_size(sensor_size, spec.frame_size)
    need, limit = spec.time_steps * polarities * height * width * BYTES_PER_CELL, FILE_DECODE.megabytes()
    if need > limit * 2**20:
        raise ValueError(f"frames of {spec.time_steps}x{polarities}x{height}x{width} (T x P x H x W, from the "
                         f"{sensor_size[0]}x{sensor_size[1]} sensor) would take {need / 2**20:,.0f} MB "
                         f"to build; allowed: at most {limit:,g} MB ({FILE_DECODE.env}): a smaller frame-size, "
                         "fewer time steps or a smaller sensor")


def frame_events(events: np.ndarray, sensor_size: tuple[int, int, int], spec: FrameSpec) -> np.ndarray:
    """uint8 ``[T, P, H, W]`` frames of one recording (steps 1-6 of the module docstring).

    ``events``: t-sorted structured array with x, y, t, p on a (W, H, P) sensor."""
    import tonic.transforms  # here, not at the top: the config reads EVENT_CODES without loading tonic

    check_frames_size(sensor_size, spec)
    polarities = int(sensor_size[2])
    width, height = framed_size(sensor_size, spec.frame_size)
    frames = np.zeros((spec.time_steps, polarities, height, width), dtype=np.uint8)    # (T, P, H, W)
    events = _transformed(events, sensor_size, spec, (width, height))
    if len(events) == 0 or events["t"][-1] - events["t"][0] < spec.time_steps:
        return frames            # nothing left, or too short a span for T bins of at least 1 us: no spikes
    counts = tonic.transforms.ToFrame(sensor_size=(width, height, polarities), n_time_bins=spec.time_steps)(events)
    frames[:len(counts)] = np.minimum(counts, COUNT_MAX)                                # (T, P, H, W)
    return _coded(frames, spec.event_frames)


def _transformed(events: np.ndarray, sensor_size: tuple[int, int, int], spec: FrameSpec,
                 size: tuple[int, int]) -> np.ndarray:
    """Steps 1-4: a new EVENT_DTYPE array (the caller's stays as it was)."""
    import tonic.transforms

    out = np.empty(len(events), dtype=EVENT_DTYPE)
    for name in ("x", "y", "t", "p"):
        out[name] = events[name]
    if len(out) == 0:
        return out
    out["t"] -= out["t"][0]
    if spec.crop_us:
        out = tonic.transforms.CropTime(min=0, max=spec.crop_us)(out)
    if spec.denoise_us and len(out):
        out = tonic.transforms.Denoise(filter_time=spec.denoise_us)(out)
    if size != (int(sensor_size[0]), int(sensor_size[1])) and len(out):
        out = tonic.transforms.Downsample(sensor_size=tuple(sensor_size), target_size=size)(out)
    return out


def _coded(counts: np.ndarray, code: str) -> np.ndarray:
    """Event counts ``[T, ...]`` in the requested input code (module docstring, step 6)."""
    if code == "counts":
        return counts
    fired = counts > 0
    if code == "binary":
        return fired.astype(np.uint8)
    first = np.zeros_like(counts)
    step = fired.argmax(axis=0)                         # first bin with an event (0 where there is none)
    np.put_along_axis(first, step[None], fired.any(axis=0, keepdims=True).astype(np.uint8), axis=0)
    return first
