"""Figures of a whole run: learning curves, firing rate per layer, and spiking activity over training."""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from .style import SERIES_COLOURS, layer_colour, styled

MAX_LOSS_POINTS = 600          # per-step losses are averaged into at most this many points

if TYPE_CHECKING:
    from snn_core.metrics.activity import ActivityMetrics
    from snn_core.training.trainer import EpochRecord


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


def _binned(values: Sequence[float], max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """(step, mean value) over equal bins of consecutive steps, so a long log stays a small payload."""
    y = np.asarray(values, dtype=float)
    width = max(1, -(-len(y) // max_points))
    usable = len(y) // width * width
    means = y[:usable].reshape(-1, width).mean(1) if usable else y
    steps = np.arange(len(means)) * width + (width + 1) / 2
    if usable < len(y):
        means, steps = np.append(means, y[usable:].mean()), np.append(steps, (usable + len(y) + 1) / 2)
    return steps, means


def loss_curves(step_losses: Sequence[float], history: Sequence[EpochRecord]) -> go.Figure:
    """Training loss per gradient step (binned) and test loss after each epoch, against steps."""
    fig = go.Figure()
    if len(step_losses):
        steps, losses = _binned(step_losses, MAX_LOSS_POINTS)
        fig.add_scatter(x=steps, y=losses, name="train (per step)", mode="lines",
                        line=dict(color=SERIES_COLOURS["train"], width=2))
    fig.add_scatter(x=[r.steps for r in history], y=[r.test_loss for r in history], name="test (per epoch)",
                    mode="lines+markers", line=dict(color=SERIES_COLOURS["test"], width=3), marker=dict(size=9))
    styled(fig, "Loss")
    fig.update_xaxes(title_text="gradient step", rangemode="tozero")
    fig.update_yaxes(title_text="cross-entropy loss", rangemode="tozero")
    return fig


def activity_curves(history: Sequence[EpochRecord]) -> go.Figure:
    """Mean firing rate of every layer and the network average (NASFR) after each epoch."""
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    names = list(history[-1].layer_firing_rates) if history else []
    for name in names:
        fig.add_scatter(x=epochs, y=[r.layer_firing_rates[name] for r in history], name=name, mode="lines+markers",
                        line=dict(color=layer_colour(name), width=3), marker=dict(size=8))
    fig.add_scatter(x=epochs, y=[r.nasfr for r in history], name="NASFR (network)", mode="lines+markers",
                    line=dict(color=SERIES_COLOURS["test"], width=3, dash="dash"), marker=dict(size=8))
    styled(fig, "Firing rate per layer")
    fig.update_xaxes(title_text="epoch", dtick=1 if len(epochs) <= 20 else None)
    fig.update_yaxes(title_text="spikes per neuron per step", rangemode="tozero")
    return fig
