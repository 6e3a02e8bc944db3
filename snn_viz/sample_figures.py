"""Figures of what happens inside one test sample: its input, the readout, and each layer's spikes and membranes."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from .layout import headed
from .style import FONT_SIZE, OTHER_COLOUR, layer_colour, shades, styled, time_axis

if TYPE_CHECKING:
    import torch

    from snn_core.data import Dataset
    from snn_core.network.records import LayerTrace

MAX_RASTER_NEURONS = 256
RASTER_PX = (440, 300)           # rough plot area (width, height) of a raster in half a wide page
MEMBRANE_NEURONS = 4
MARKERS = ("circle", "square", "diamond", "triangle-up", "cross", "x")     # one per followed neuron
MAX_CHANNEL_MAPS = 16
MAP_LABEL_PX, NARROWEST_MAP_PX = 18, 420   # a map title's height; the mosaic's width at 1024 px, less its colour bar
MAP_CHART_PX = 760               # the mosaic's usual width: a full-width chart at 1400 px, less its colour bar
POLARITY_RGB = {"ON": np.array([255, 170, 40]), "OFF": np.array([60, 150, 255])}   # event polarity 1 / 0
READOUT_COLOURS = {"label": "#222222", "wrong": "#CC3311", "other": "#BBBBBB"}


def _sample_neurons(layer: LayerTrace, sample: int) -> tuple[np.ndarray, np.ndarray]:
    """One sample's spikes and pre-reset membrane as ``(T, N)`` arrays, neurons flattened."""
    spikes = layer.spikes[:, sample].flatten(1).cpu().numpy()                  # (T, N) bool
    v_pre = layer.v_pre[:, sample].flatten(1).float().cpu().numpy()            # (T, N)
    return spikes, v_pre


def has_channels(layer: LayerTrace) -> bool:
    """Whether the layer is convolutional: its records are ``[T, b, C, H, W]``."""
    return layer.spikes.dim() == 5


def neuron_names(layer: LayerTrace, neurons: Sequence[int] | np.ndarray | None = None) -> list[str]:
    """Labels of flat neuron indices (default: all), e.g. ``neuron 70: ch 1, row 0, col 6`` in conv layers."""
    shape = tuple(layer.spikes.shape[2:])                                      # (N,) or (C, H, W)
    neurons = range(int(np.prod(shape))) if neurons is None else neurons
    if len(shape) != 3:
        return [f"neuron {n}" for n in neurons]
    channel, row, col = np.unravel_index(np.asarray(neurons, dtype=int), shape)
    return [f"neuron {n}: ch {c}, row {r}, col {w}" for n, c, r, w in zip(neurons, channel, row, col)]


def raster_neurons(spikes: np.ndarray, max_neurons: int) -> np.ndarray:
    """Which neurons a capped raster shows: every neuron that spiked (up to the cap, evenly spaced among
    them), the rest of the cap filled with evenly spaced silent ones, so sparse layers never look empty."""
    total = spikes.shape[1]
    if total <= max_neurons:
        return np.arange(total)
    active, silent = np.flatnonzero(spikes.any(0)), np.flatnonzero(~spikes.any(0))
    keep = active[np.linspace(0, len(active) - 1, min(len(active), max_neurons)).round().astype(int)] \
        if len(active) else active
    room = max_neurons - len(keep)
    fill = silent[np.linspace(0, len(silent) - 1, min(len(silent), room)).round().astype(int)] if room else silent[:0]
    return np.unique(np.concatenate([keep, fill]))


def spike_raster(layer: LayerTrace, sample: int = 0, max_neurons: int = MAX_RASTER_NEURONS) -> go.Figure:
    """Spikes of one layer for one recorded sample: a mark at (time step, neuron index) per spike."""
    spikes, v_pre = _sample_neurons(layer, sample)
    steps, total = spikes.shape
    shown = raster_neurons(spikes, max_neurons)
    t, k = np.nonzero(spikes[:, shown])
    bar_px = (max(3, RASTER_PX[0] * 4 // (5 * steps)), max(1, min(12, RASTER_PX[1] // len(shown))))  # (long, thick)
    colour = layer_colour(layer.name)
    fig = go.Figure(go.Scattergl(                       # a spike is a bar filling most of its (step, neuron) cell
        x=t, y=shown[k], mode="markers", name=layer.name, text=neuron_names(layer, shown[k]),
        customdata=v_pre[t, shown[k]], hovertemplate="%{text}<br>step %{x}<br>membrane before reset "
                                                     "%{customdata:.3f}<extra>spike</extra>",
        marker=dict(symbol="line-ew-open", size=bar_px[0], color=colour, line=dict(width=bar_px[1], color=colour))))
    which = f"all {total} neurons" if len(shown) == total else \
        f"{len(shown)} of {total} neurons ({int(spikes[:, shown].any(0).sum())} of them spiking)"
    headed(fig, f"{layer.name} spikes", RASTER_PX[1] + 140, subtitle=f"{int(spikes.sum()):,} spikes, {which} shown")
    time_axis(fig, steps)
    fig.update_yaxes(title_text="neuron index", range=[-0.5, total - 0.5])
    _channel_bounds(fig, layer)
    if len(t) == 0:
        fig.add_annotation(text="no spikes for this sample", showarrow=False, font_size=FONT_SIZE + 2,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def _channel_bounds(fig: go.Figure, layer: LayerTrace) -> None:
    """Thin grey lines between the channels of a conv layer's flattened neuron index."""
    if has_channels(layer) and layer.spikes.shape[2] <= 64:
        per_channel = int(np.prod(layer.spikes.shape[3:]))                     # H * W
        fig.update_layout(shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=y, y1=y, layer="below",
                                       line=dict(color="#BBBBBB", width=1))
                                  for y in np.arange(1, layer.spikes.shape[2]) * per_channel - 0.5])


def informative_neurons(layer: LayerTrace, sample: int = 0, count: int = MEMBRANE_NEURONS) -> list[int]:
    """Neurons with different spike trains, those firing on about half the steps first, then the most varied."""
    spikes, v_pre = _sample_neurons(layer, sample)
    fired = spikes.sum(0)                                                        # (N,)
    mixed = fired * (spikes.shape[0] - fired)                    # largest for neurons firing on half the steps
    ranked = [int(n) for n in np.lexsort((-v_pre.std(0), -mixed))]
    chosen, trains = [], set()
    for n in ranked:                                             # the best-ranked neuron of each spike train
        if len(chosen) < count and spikes[:, n].tobytes() not in trains:
            chosen.append(n)
            trains.add(spikes[:, n].tobytes())
    chosen += [n for n in ranked if n not in chosen][:count - len(chosen)]
    return sorted(chosen)


def membrane_traces(layer: LayerTrace, threshold: float, neurons: Sequence[int], sample: int = 0) -> go.Figure:
    """Pre-reset membrane of the chosen neurons over time, spikes starred, the threshold V_th dashed."""
    spikes, v_pre = _sample_neurons(layer, sample)
    steps = np.arange(v_pre.shape[0])
    fig = go.Figure()
    colours = shades(layer_colour(layer.name), len(neurons))   # each readable on both backgrounds
    for colour, symbol, n, name in zip(colours, MARKERS, neurons, neuron_names(layer, neurons)):
        fired = spikes[:, n]
        fig.add_scatter(x=steps, y=v_pre[:, n], mode="lines+markers", name=str(n), legendgroup=str(n),
                        line=dict(color=colour, width=3), marker=dict(size=9, symbol=symbol),
                        hovertemplate=f"{name}<br>step %{{x}}<br>membrane %{{y:.3f}}<extra></extra>")
        fig.add_scatter(x=steps[fired], y=v_pre[fired, n], mode="markers", legendgroup=str(n), showlegend=False,
                        marker=dict(symbol="star", size=16, color=colour, line=dict(width=1, color="white")),
                        hovertemplate=f"{name}<br>spike at step %{{x}}<br>membrane %{{y:.3f}}<extra></extra>")
    fig.add_scatter(x=[-0.5, len(steps) - 0.5], y=[threshold, threshold], mode="lines", hoverinfo="skip",
                    name=f"threshold V_th = {threshold:g}", line=dict(dash="dash", color="black", width=2))
    fig.update_layout(legend_title_text="neuron")
    headed(fig, f"{layer.name} membrane before reset (★ = spike)",
           subtitle="spike and reset at V_th, while under the spike cap K")
    time_axis(fig, len(steps))
    fig.update_yaxes(title_text="membrane potential<br>before reset")
    if not len(neurons):
        fig.add_annotation(text="choose neurons to follow", showarrow=False, font_size=FONT_SIZE + 2,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def rate_per_step(layer: LayerTrace, sample: int = 0, test_average: Sequence[float] | None = None) -> go.Figure:
    """Fraction of the layer's neurons that spike at each step, for this sample and averaged over the test set."""
    spikes, _ = _sample_neurons(layer, sample)
    steps = np.arange(spikes.shape[0])
    fig = go.Figure()
    fig.add_scatter(x=steps, y=spikes.mean(1), name="this sample", mode="lines+markers",
                    line=dict(color=layer_colour(layer.name), width=3), marker=dict(size=8),
                    hovertemplate="this sample<br>step %{x}<br>rate %{y:.3f}<extra></extra>")
    if test_average is not None:
        fig.add_scatter(x=steps, y=list(test_average), name="test set average", mode="lines+markers",
                        line=dict(color=OTHER_COLOUR, width=2, dash="dash"), marker=dict(size=6),
                        hovertemplate="test set average<br>step %{x}<br>rate %{y:.3f}<extra></extra>")
    headed(fig, f"{layer.name} firing rate per time step")
    time_axis(fig, len(steps))
    fig.update_yaxes(title_text="firing rate<br>(spikes per neuron)", rangemode="tozero")
    return fig


def channel_rates(layer: LayerTrace, sample: int = 0) -> np.ndarray:
    """Firing rate of each channel of a conv layer at each step, ``(C, T)``: the fraction of its H*W neurons firing."""
    spikes = layer.spikes[:, sample].float().cpu().numpy()                     # (T, C, H, W)
    return spikes.mean((2, 3)).T                                                 # (C, T)


def _rate_scale(colour: str) -> list[list]:
    return [[0.0, "white"], [1.0, colour]]


def channel_rate_over_time(layer: LayerTrace, sample: int = 0) -> go.Figure:
    """Heatmap of channel x time step: which feature maps are busy, and when."""
    rates = channel_rates(layer, sample)                                         # (C, T)
    fig = go.Figure(go.Heatmap(
        z=rates, colorscale=_rate_scale(layer_colour(layer.name)), zmin=0, zmax=max(float(rates.max()), 1e-3),
        colorbar=dict(title=dict(text="rate", side="right")), xgap=1, ygap=1,
        hovertemplate="channel %{y}<br>step %{x}<br>rate %{z:.3f}<extra></extra>"))
    headed(fig, f"{layer.name} firing rate per channel", 300 + 12 * rates.shape[0],
           subtitle="fraction of the channel's neurons spiking at each step")
    time_axis(fig, rates.shape[1])
    fig.update_yaxes(title_text="channel", autorange="reversed", dtick=1 if rates.shape[0] <= 16 else None)
    return fig


def map_label_gap(cols: int, width: int) -> int:
    """Rows of empty cells above each channel map of ``channel_rate_maps``, room for its "ch k" title: a title is
    ``MAP_LABEL_PX`` high, and at the narrowest chart (``NARROWEST_MAP_PX`` wide) one cell of a mosaic ``cols`` maps
    of ``width`` (+1 gap) cells wide is NARROWEST_MAP_PX / (cols (width + 1)) px high (the maps keep square cells)."""
    return max(1, int(np.ceil(MAP_LABEL_PX * cols * (width + 1) / NARROWEST_MAP_PX)))


def channel_rate_maps(layer: LayerTrace, sample: int = 0, max_channels: int = MAX_CHANNEL_MAPS) -> go.Figure:
    """One small map per channel of each position's firing rate over the sample's steps, tiled on one colour scale,
    each under its own title (a band of empty cells above every row of maps keeps titles off the row above)."""
    rates = layer.spikes[:, sample].float().mean(0).cpu().numpy()[:max_channels]   # (C, H, W)
    count, height, width = rates.shape
    cols = min(count, 4 if count <= 8 else 8)
    rows = -(-count // cols)
    gap = map_label_gap(cols, width)
    pitch = gap + height                                                    # cells from one row's title to the next
    tiles = np.full((rows * cols, pitch, width + 1), np.nan)                # title band above, 1-cell gap right
    tiles[:count, gap:, :width] = rates
    mosaic = tiles.reshape(rows, cols, pitch, width + 1).transpose(0, 2, 1, 3)      # (rows, pitch, cols, W+1)
    mosaic = mosaic.reshape(rows * pitch, cols * (width + 1))[:, :-1]               # no gap after the last
    row, col = np.indices(mosaic.shape)
    channel = row // pitch * cols + col // (width + 1)
    fig = go.Figure(go.Heatmap(
        z=mosaic, zmin=0, zmax=max(float(rates.max()), 1e-3), colorscale=_rate_scale(layer_colour(layer.name)),
        customdata=np.stack([channel, row % pitch - gap, col % (width + 1)], -1), hoverongaps=False,
        colorbar=dict(title=dict(text="rate", side="right")),
        hovertemplate="channel %{customdata[0]}<br>row %{customdata[1]}, col %{customdata[2]}<br>"
                      "rate %{z:.3f}<extra></extra>"))
    tiles = [(c % cols * (width + 1) - 0.5, c // cols * pitch + gap - 0.5) for c in range(count)]   # (x, y) corners
    fig.update_layout(
        shapes=[dict(type="rect", x0=x, x1=x + width, y0=y, y1=y + height, line=dict(color="#CCCCCC", width=1))
                for x, y in tiles],
        annotations=[dict(text=f"ch {c}", x=x + width / 2, y=y, yanchor="bottom", showarrow=False,
                          font_size=FONT_SIZE - 2) for c, (x, y) in enumerate(tiles)])
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", scaleanchor="x", constrain="domain")
    total = layer.spikes.shape[2]
    which = "" if count == total else f", first {count} of {total} channels shown"
    shown_px = MAP_CHART_PX * rows * pitch / (cols * (width + 1))       # the mosaic's height at the usual width
    return styled(fig, f"{layer.name} firing rate map per channel", int(140 + min(shown_px, 260 * rows)),
                  subtitle=f"spikes per step at each position, averaged over the {layer.spikes.shape[0]} steps{which}")


def readout_over_time(logits: torch.Tensor, class_names: Sequence[str], label: int, predicted: int) -> go.Figure:
    """The readout's score for every class at each step (``logits[T, classes]``); label and wrong guess stand out."""
    scores = logits.float().cpu().numpy()                                      # (T, classes)
    steps = np.arange(scores.shape[0])
    others = [k for k in range(len(class_names)) if k not in (label, predicted)]
    fig = go.Figure()
    for k in [*others, predicted, label] if predicted != label else [*others, label]:   # highlights drawn last
        role = "label" if k == label else "wrong" if k == predicted else "other"
        name = class_names[k]
        fig.add_scatter(x=steps, y=scores[:, k], mode="lines+markers", legendgroup=role,
                        name={"label": f"label {name}", "wrong": f"predicted {name}", "other": "other classes"}[role],
                        showlegend=role != "other" or k == others[0],
                        line=dict(color=READOUT_COLOURS[role], width=1.5 if role == "other" else 4),
                        hovertemplate=f"class {name}<br>step %{{x}}<br>score %{{y:.2f}}<extra></extra>")
    headed(fig, "Readout score per step", subtitle="the prediction is the class with the highest mean score")
    time_axis(fig, len(steps))
    fig.update_yaxes(title_text="class score (logit)")
    return fig


def input_sample(dataset: Dataset, index: int) -> go.Figure:
    """A test input: the digit image, or the event frames as an animation over time steps with ON and OFF coloured
    (a heatmap of channel against time step for a sensor one pixel high, such as SHD's)."""
    x = dataset.test_x[index].float().cpu().numpy()
    title = f"test sample {index}: {dataset.class_names[int(dataset.test_y[index])]}"
    if dataset.has_time_axis:
        return event_frames(x, title, "events: orange = ON, blue = OFF" if x.shape[1] == 2 else "events per step")
    fig = go.Figure(go.Heatmap(z=x[0], colorscale="Greys", zmin=0, zmax=1, showscale=False,  # x: (1, H, W)
                               hovertemplate="row %{y}, col %{x}<br>intensity %{z:.2f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    styled(fig, title, 400, "pixel intensity, 0 to 1")
    return fig.update_layout(margin_l=10, margin_r=10)       # no tick labels: the image gets a narrow column's width


def event_frames(frames: np.ndarray, title: str, subtitle: str) -> go.Figure:
    """Frames ``[T, P, H, W]``: an animation (all steps summed first) on a 2-D sensor, one polarity shown as OFF
    (blue); a channel x time-step heatmap on a sensor one pixel high, where an image would be one line."""
    frames = frames.astype(np.float64)
    steps, polarities, height, _ = frames.shape
    if height == 1:
        off = "rgb({}, {}, {})".format(*POLARITY_RGB["OFF"])
        counts = frames.sum(1)[:, 0, :].T                                   # (W channels, T)
        fig = go.Figure(go.Heatmap(z=counts, colorscale=[[0.0, "white"], [1.0, off]], zmin=0,
                                   colorbar=dict(title=dict(text="events", side="right")),
                                   hovertemplate="channel %{y}<br>step %{x}<br>%{z:.0f} events<extra></extra>"))
        headed(fig, title, 460, subtitle)
        time_axis(fig, steps)
        fig.update_yaxes(title_text="channel")
        return fig
    if polarities == 1:
        frames = np.concatenate([frames, np.zeros_like(frames)], axis=1)   # (T, 2, H, W): the spikes as OFF
    fig = event_animation(frames)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    return headed(fig, title, 460, subtitle)


def event_image(counts: np.ndarray, scale: float) -> go.Image:
    """RGB image of ``counts[2, H, W]`` on black: channel 1 (ON) orange, channel 0 (OFF) blue, ``scale`` counts
    and above at full brightness; counts on hover. Shared with the TRT figures (``trt_figures``)."""
    scaled = np.clip(counts / scale, 0, 1)                                      # (2, H, W)
    rgb = scaled[1, ..., None] * POLARITY_RGB["ON"] + scaled[0, ..., None] * POLARITY_RGB["OFF"]  # (H, W, 3)
    return go.Image(z=np.clip(rgb, 0, 255).astype(np.uint8), customdata=counts.transpose(1, 2, 0).astype(int),
                    hovertemplate="row %{y}, col %{x}<br>ON %{customdata[1]}, OFF %{customdata[0]}<extra></extra>")


def full_scale(counts: np.ndarray) -> float:
    """The count shown at full brightness: the 98th percentile of the non-zero counts, so a few hot pixels do
    not darken the rest. Shared with the TRT figures (``trt_figures``)."""
    active = counts[counts > 0]
    return float(np.percentile(active, 98)) if active.size else 1.0


def event_animation(frames: np.ndarray) -> go.Figure:
    """Event frames ``[T, 2, H, W]``: all steps summed first, then one animation frame per time step.
    Shared with the recording page (``recording_figures``), which frames a file the same way."""
    step_scale = full_scale(frames)
    images = [("all", event_image(frames.sum(0), full_scale(frames.sum(0))))]
    images += [(str(t), event_image(frame, step_scale)) for t, frame in enumerate(frames)]
    fig = go.Figure(data=[images[0][1]], frames=[go.Frame(data=[image], name=name) for name, image in images])
    show = dict(mode="immediate", frame=dict(duration=0, redraw=True), transition=dict(duration=0))
    steps = [dict(label=name, method="animate", args=[[name], show]) for name, _ in images]
    play = dict(label="▶", method="animate",
                args=[[name for name, _ in images[1:]], dict(show, frame=dict(duration=500, redraw=True))])
    fig.update_layout(
        sliders=[dict(active=0, currentvalue=dict(prefix="time step: ", xanchor="right"), pad=dict(t=10),
                      len=0.85, x=0.15, steps=steps)],
        updatemenus=[dict(type="buttons", showactive=False, x=0, y=0, xanchor="left", yanchor="top",
                          pad=dict(t=10), buttons=[play])])
    return fig
