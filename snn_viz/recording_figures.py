"""Figures of one opened recording: its events over time, the frames a network would see, and a model's readout.

Colours follow the sample figures (``sample_figures.POLARITY_RGB``): ON orange, OFF blue, so a recording and a
test sample of the Spike explorer look alike.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from .layout import headed
from .sample_figures import POLARITY_RGB, READOUT_COLOURS, event_frames, readout_over_time
from .style import time_axis

if TYPE_CHECKING:
    import torch

MAX_RASTER_EVENTS = 100_000      # a browser draws this many WebGL points smoothly; the JSON stays a few MB
DENSE = 20_000                   # from this many points on, smaller markers keep the raster readable


def _rgb(name: str) -> str:
    r, g, b = POLARITY_RGB[name]
    return f"rgb({r}, {g}, {b})"


def raster_events(count: int, max_events: int = MAX_RASTER_EVENTS) -> np.ndarray:
    """Indices of the events a raster draws: all of them, or ``max_events`` evenly spaced in time order."""
    if count <= max_events:
        return np.arange(count)
    return np.unique(np.linspace(0, count - 1, max_events).round().astype(np.int64))


def event_raster(events: np.ndarray, sensor_size: Sequence[int], max_events: int = MAX_RASTER_EVENTS) -> go.Figure:
    """Every event (or an even subsample) at (time in ms from the first event, x); ON and OFF as two WebGL traces.

    ``events``: t-sorted structured array with x, y, t (microseconds), p (0 OFF, 1 ON). A sensor one pixel high
    (SHD's 700 channels) plots its channel, which is x; on a 2-D sensor x shows motion across the field."""
    shown = raster_events(len(events), max_events)
    picked = events[shown]
    t_ms = (picked["t"] - events["t"][0]).astype(np.float64) / 1000.0
    one_row = int(sensor_size[1]) == 1
    along = "channel" if one_row else "x (column)"
    polarities = ((1, "ON"), (0, "OFF")) if int(sensor_size[2]) == 2 else ((0, "spike"),)
    fig = go.Figure()
    for value, name in polarities:
        mine = picked["p"] == value
        colour = _rgb("ON" if value == 1 else "OFF")
        fig.add_trace(go.Scattergl(x=t_ms[mine], y=picked["x"][mine], mode="markers", name=name,
                                   marker=dict(size=3 if len(shown) < DENSE else 2, color=colour, opacity=0.6),
                                   hovertemplate=f"{name}<br>%{{x:.3f}} ms<br>{along} %{{y}}<extra></extra>"))
    subtitle = f"all {len(events):,} events" if len(shown) == len(events) else \
        f"{len(shown):,} of {len(events):,} events shown, evenly spaced in time order"
    headed(fig, "Events over time", 420, subtitle)
    fig.update_xaxes(title_text="time from the first event (ms)")
    fig.update_yaxes(title_text=along, range=[-0.5, int(sensor_size[0]) - 0.5])
    return fig


def framed_recording(frames: np.ndarray, subtitle: str) -> go.Figure:
    """The recording as T frames ``[T, P, H, W]``, drawn as the Spike explorer draws a test sample."""
    return event_frames(frames, f"The recording in {len(frames)} frames", subtitle)


def readout_scores(logits: torch.Tensor, class_names: Sequence[str], predicted: int,
                   label: int | None = None) -> go.Figure:
    """The readout's score per class at each step (``logits[T, classes]``). With a label (SHD files carry one)
    this is the Spike explorer's figure; without one the predicted class stands out and the rest are grey."""
    if label is not None:
        return readout_over_time(logits, class_names, label, predicted)
    scores = logits.float().cpu().numpy()                                   # (T, classes)
    steps = np.arange(scores.shape[0])
    fig = go.Figure()
    others = [k for k in range(len(class_names)) if k != predicted]
    for k in [*others, predicted]:                                          # the prediction drawn last, on top
        mine = k == predicted
        fig.add_scatter(x=steps, y=scores[:, k], mode="lines+markers", legendgroup="predicted" if mine else "other",
                        name=f"predicted {class_names[k]}" if mine else "other classes",
                        showlegend=mine or k == others[0],
                        line=dict(color=READOUT_COLOURS["label" if mine else "other"], width=4 if mine else 1.5),
                        hovertemplate=f"class {class_names[k]}<br>step %{{x}}<br>score %{{y:.2f}}<extra></extra>")
    headed(fig, "Readout score per step", subtitle="the prediction is the class with the highest mean score")
    time_axis(fig, len(steps))
    fig.update_yaxes(title_text="class score (logit)")
    return fig
