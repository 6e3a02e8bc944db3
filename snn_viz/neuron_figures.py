"""Figures of the neuron playground: one neuron's input and membrane over time, and its f–I curve."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .layout import headed
from .style import FONT_SIZE, OTHER_COLOUR, time_axis

if TYPE_CHECKING:
    from snn_core.experiments.playground import FICurve, NeuronRun
    from snn_core.neurons.lif import LIFParams

MEMBRANE_COLOUR = "#0072B2"      # Okabe-Ito blue, as the first layer elsewhere
SPIKE_COLOUR = "#D55E00"         # Okabe-Ito vermillion: spikes and the operating point stand out
INPUT_COLOUR = OTHER_COLOUR
TRACES_HEIGHT = 560
LEGEND_ENTRY_PX = 150            # room for the longest label, "threshold V_th = 1.25"


def _sawtooth(run: NeuronRun) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the membrane drawn as v_pre then v_post on each step, so a reset is a vertical drop."""
    steps = np.arange(len(run.v_pre))
    return np.repeat(steps, 2), np.column_stack([run.v_pre, run.v_post]).ravel()   # (2T,), (2T,)


def _add_membrane(fig: go.Figure, run: NeuronRun, params: LIFParams) -> None:
    """Membrane line, v_pre dots, spike stars, the threshold and (hard reset) V_reset, all in row 2."""
    steps = np.arange(len(run.v_pre))
    x, y = _sawtooth(run)
    fig.add_scatter(x=x, y=y, mode="lines", name="membrane", hoverinfo="skip",
                    line=dict(color=MEMBRANE_COLOUR, width=3), row=2, col=1)
    fig.add_scatter(x=steps, y=run.v_pre, mode="markers", showlegend=False, marker=dict(color=MEMBRANE_COLOUR, size=7),
                    hovertemplate="step %{x}<br>v_pre = %{y:.3f}<extra></extra>", row=2, col=1)
    fig.add_scatter(x=steps[run.spikes], y=run.v_pre[run.spikes], mode="markers", name="spike",
                    marker=dict(symbol="star", size=17, color=SPIKE_COLOUR, line=dict(width=1, color="white")),
                    hovertemplate="spike at step %{x}<extra></extra>", row=2, col=1)
    ends = [-0.5, len(steps) - 0.5]
    fig.add_scatter(x=ends, y=[params.threshold] * 2, mode="lines", name=f"threshold V_th = {params.threshold:g}",
                    hoverinfo="skip", line=dict(dash="dash", color="black", width=2), row=2, col=1)
    if params.reset == "hard":
        fig.add_scatter(x=ends, y=[params.v_reset] * 2, mode="lines", name=f"V_reset = {params.v_reset:g}",
                        hoverinfo="skip", line=dict(dash="dot", color=OTHER_COLOUR, width=2), row=2, col=1)


def neuron_traces(run: NeuronRun, params: LIFParams, title: str) -> go.Figure:
    """Input current (top) and membrane potential (bottom) of one neuron on a shared time axis."""
    steps = len(run.v_pre)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.3, 0.7], vertical_spacing=0.06)
    fig.add_bar(x=np.arange(steps), y=run.current, showlegend=False, marker_color=INPUT_COLOUR, width=0.6,
                hovertemplate="step %{x}<br>I = %{y:.3f}<extra></extra>", row=1, col=1)
    _add_membrane(fig, run, params)
    subtitle = (f"{run.spike_count} spikes in {steps} steps ({run.rate_per_step:.3f} per step); "
                "★ = spike, a vertical drop = reset")
    headed(fig, title, TRACES_HEIGHT, subtitle=subtitle)
    fig.update_layout(legend_entrywidth=LEGEND_ENTRY_PX)      # plotly under-measures "threshold V_th = 1" and clips it
    time_axis(fig, steps)
    fig.update_xaxes(title_text=None, row=1, col=1)
    fig.update_yaxes(title_text="input current", row=1, col=1)
    fig.update_yaxes(title_text="membrane potential", row=2, col=1)
    return fig


FI_HOVER = "I = %{x:.3f}<br>%{y:.3f} spikes per step<extra></extra>"


def fi_figure(curve: FICurve, point: tuple[float, float], point_label: str) -> go.Figure:
    """Firing rate against constant input current: simulated dots, the closed form if known, and this input."""
    fig = go.Figure()
    if curve.analytic_rates is not None:
        fig.add_scatter(x=curve.analytic_currents, y=curve.analytic_rates, mode="lines", line_shape="hv",
                        name="closed form (long run)", line=dict(color="black", width=2), hovertemplate=FI_HOVER)
    fig.add_scatter(x=curve.currents, y=curve.rates, mode="markers", name=f"simulated over {curve.steps} steps",
                    marker=dict(color=MEMBRANE_COLOUR, size=8), hovertemplate=FI_HOVER)
    side = "right" if point[0] < curve.currents[-1] / 2 else "left"          # keep the label inside the plot
    fig.add_scatter(x=[point[0]], y=[point[1]], mode="markers+text", name=point_label, text=[point_label],
                    textposition=f"top {side}", textfont=dict(size=FONT_SIZE, color=SPIKE_COLOUR),
                    marker=dict(symbol="diamond", size=18, color=SPIKE_COLOUR, line=dict(width=2, color="white")),
                    hovertemplate=FI_HOVER)
    note = "" if curve.analytic_rates is not None else "closed form shown only for hard reset to 0 without a cap K"
    headed(fig, "f–I curve: firing rate for each constant input current", subtitle=note)
    fig.update_xaxes(title_text="input current")
    fig.update_yaxes(title_text="firing rate (spikes per step)", range=[-0.02, 1.08])
    return fig
