"""Figures of what happens inside one sample: the input, spike rasters and membrane traces."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from .style import FONT_SIZE, layer_colour, styled, time_axis

if TYPE_CHECKING:
    from snn_core.data import Dataset
    from snn_core.layers import LayerTrace

MAX_RASTER_NEURONS = 256
RASTER_PX = (440, 300)           # rough plot area (width, height) of a raster in half a wide page
MEMBRANE_NEURONS = 4
POLARITY_RGB = {"ON": np.array([255, 170, 40]), "OFF": np.array([60, 150, 255])}   # event polarity 1 / 0


def _sample_neurons(layer: LayerTrace, sample: int) -> tuple[np.ndarray, np.ndarray]:
    """One sample's spikes and pre-reset membrane as ``(T, N)`` arrays, neurons flattened."""
    spikes = layer.spikes[:, sample].flatten(1).cpu().numpy()                  # (T, N) bool
    v_pre = layer.v_pre[:, sample].flatten(1).float().cpu().numpy()            # (T, N)
    return spikes, v_pre


def spike_raster(layer: LayerTrace, sample: int = 0, max_neurons: int = MAX_RASTER_NEURONS) -> go.Figure:
    """Spikes of one layer for one recorded sample: a mark at (time step, neuron index) per spike."""
    spikes, _ = _sample_neurons(layer, sample)
    steps, total = spikes.shape
    shown = np.unique(np.linspace(0, total - 1, min(total, max_neurons)).round().astype(int))
    t, k = np.nonzero(spikes[:, shown])
    bar_px = (max(3, RASTER_PX[0] * 4 // (5 * steps)), max(1, min(12, RASTER_PX[1] // len(shown))))  # (long, thick)
    colour = layer_colour(layer.name)
    fig = go.Figure(go.Scattergl(                       # a spike is a bar filling most of its (step, neuron) cell
        x=t, y=shown[k], mode="markers", name=layer.name, hovertemplate="step %{x}<br>neuron %{y}<extra></extra>",
        marker=dict(symbol="line-ew-open", size=bar_px[0], color=colour, line=dict(width=bar_px[1], color=colour))))
    which = f"all {total} neurons" if len(shown) == total else f"{len(shown)} of {total} neurons (evenly spaced)"
    styled(fig, f"{layer.name} spikes", RASTER_PX[1] + 140, subtitle=f"{int(spikes.sum()):,} spikes, {which} shown")
    time_axis(fig, steps)
    fig.update_yaxes(title_text="neuron index", range=[-0.5, total - 0.5])
    if len(t) == 0:
        fig.add_annotation(text="no spikes for this sample", showarrow=False, font_size=FONT_SIZE + 2,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    return fig


def _shades(colour: str, count: int) -> list[str]:
    """``count`` variants of a hex colour, from a light tint to a dark shade, so a layer keeps its hue."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])               # (3,)
    mixes = np.linspace(0.5, -0.5, count) if count > 1 else np.zeros(1)        # > 0: towards white, < 0: black
    targets = np.where(mixes[:, None] > 0, 255, 0)                              # (count, 3)
    shades = rgb + (targets - rgb) * np.abs(mixes)[:, None]                     # (count, 3)
    return [f"rgb({r:.0f}, {g:.0f}, {b:.0f})" for r, g, b in shades]


def membrane_traces(layer: LayerTrace, threshold: float, sample: int = 0,
                    count: int = MEMBRANE_NEURONS) -> go.Figure:
    """Pre-reset membrane of the neurons that fire on some steps but not all, spikes starred, threshold dashed."""
    spikes, v_pre = _sample_neurons(layer, sample)
    steps = np.arange(v_pre.shape[0])
    count_spikes = spikes.sum(0)                                                 # (N,)
    mixed = count_spikes * (len(steps) - count_spikes)           # largest for neurons firing on half the steps
    neurons = np.lexsort((-v_pre.std(0), -mixed))[:count]        # then the most varied membranes
    fig = go.Figure()
    for colour, n in zip(_shades(layer_colour(layer.name), len(neurons)), neurons):
        fired = spikes[:, n]
        fig.add_scatter(x=steps, y=v_pre[:, n], mode="lines+markers", name=f"neuron {n}", legendgroup=str(n),
                        line=dict(color=colour, width=3), marker=dict(size=7))
        fig.add_scatter(x=steps[fired], y=v_pre[fired, n], mode="markers", legendgroup=str(n), showlegend=False,
                        marker=dict(symbol="star", size=16, color=colour, line=dict(width=1, color="white")),
                        hovertemplate="spike at step %{x}<extra></extra>")
    fig.add_scatter(x=[-0.5, len(steps) - 0.5], y=[threshold, threshold], mode="lines", hoverinfo="skip",
                    name=f"threshold V_th = {threshold:g}", line=dict(dash="dash", color="black", width=2))
    styled(fig, f"{layer.name} membrane: {len(neurons)} most dynamic neurons (★ = spike)")
    time_axis(fig, len(steps))
    fig.update_yaxes(title_text=f"membrane potential v_pre<br>(threshold V_th = {threshold:g})")
    return fig


def input_sample(dataset: Dataset, index: int, predicted: int | None = None) -> go.Figure:
    """A test input: the digit image, or event frames summed over time with ON and OFF coloured."""
    x = dataset.test_x[index].float().cpu().numpy()
    label = dataset.class_names[int(dataset.test_y[index])]
    title = f"test sample {index}: label {label}"
    if predicted is not None:
        title += f", predicted {dataset.class_names[predicted]}"
    subtitle = ""
    if dataset.has_time_axis:
        fig = _event_image(x)                                                    # x: (T, 2, H, W)
        subtitle = f"events summed over {x.shape[0]} steps: orange = ON, blue = OFF"
    else:
        fig = go.Figure(go.Heatmap(z=x[0], colorscale="Greys", zmin=0, zmax=1, showscale=False))  # x: (1, H, W)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False, showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False, constrain="domain")
    return styled(fig, title, 400, subtitle)


def _event_image(frames: np.ndarray) -> go.Figure:
    """RGB image of ``frames[T, 2, H, W]`` on black: channel 1 (ON) orange, channel 0 (OFF) blue.

    Counts saturate at their 98th percentile over active pixels, so a few hot pixels do not darken the rest.
    """
    counts = frames.sum(0)                                                       # (2, H, W)
    active = counts[counts > 0]
    full_scale = np.percentile(active, 98) if active.size else 1.0
    scaled = np.clip(counts / full_scale, 0, 1)                                  # (2, H, W)
    rgb = scaled[1, ..., None] * POLARITY_RGB["ON"] + scaled[0, ..., None] * POLARITY_RGB["OFF"]  # (H, W, 3)
    return go.Figure(go.Image(z=np.clip(rgb, 0, 255).astype(np.uint8), hoverinfo="skip"))
