"""Figures of a whole run: firing rate per layer and learning curves."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import plotly.graph_objects as go

from .style import SERIES_COLOURS, layer_colour, styled

if TYPE_CHECKING:
    from snn_core.metrics import ActivityMetrics
    from snn_core.trainer import EpochRecord


def firing_rate_bars(activity: ActivityMetrics) -> go.Figure:
    """Mean firing rate of each spiking layer over the test set, with silent fractions on hover."""
    names = list(activity.firing_rate)
    rates = [activity.firing_rate[n] for n in names]
    fig = go.Figure(go.Bar(
        x=names, y=rates, width=0.6, marker_color=[layer_colour(n) for n in names], text=[f"{r:.3f}" for r in rates],
        textposition="outside", customdata=[[activity.neurons[n], activity.silent_fraction[n]] for n in names],
        hovertemplate="%{x}: %{y:.4f}<br>%{customdata[0]} neurons, %{customdata[1]:.1%} silent<extra></extra>"))
    styled(fig, f"Mean firing rate per layer ({activity.samples} test samples)")
    fig.update_xaxes(title_text="spiking layer")
    fig.update_yaxes(title_text="spikes per neuron per step", range=[0, max(rates + [0.01]) * 1.25])
    return fig


def training_curves(history: Sequence[EpochRecord]) -> go.Figure:
    """Train and test accuracy after each epoch."""
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    for split in ("train", "test"):
        fig.add_scatter(x=epochs, y=[getattr(r, f"{split}_accuracy") for r in history], name=split,
                        mode="lines+markers", line=dict(color=SERIES_COLOURS[split], width=3), marker=dict(size=9))
    styled(fig, "Accuracy per epoch")
    fig.update_xaxes(title_text="epoch", dtick=1 if len(epochs) <= 20 else None)
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02], tickformat=".0%")
    return fig
