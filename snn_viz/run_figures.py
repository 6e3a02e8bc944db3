"""Figures of a whole run: learning curves, firing rate per layer, and spiking activity over training.

The ``pair_*`` builders overlay two runs trained in lockstep (Train & watch's twin): the main run in grey,
the twin in the method colour, so the same two colours mean the same two runs in every chart.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import plotly.graph_objects as go

from snn_core.metrics.redundancy import PATTERNS

from .style import METHOD_COLOURS, SERIES_COLOURS, layer_colour, styled

MAX_LOSS_POINTS = 600          # per-step losses are averaged into at most this many points
PAIR_COLOURS = (METHOD_COLOURS["without"], METHOD_COLOURS["with"])     # main run, twin
VALIDATION_COLOUR = "#4477AA"  # Paul Tol's blue: apart from train's and test's greys (validation is what tuning reads)

if TYPE_CHECKING:
    from snn_core.metrics.activity import ActivityMetrics
    from snn_core.metrics.redundancy import RedundancyMetrics
    from snn_core.training.trainer import EpochRecord


class RunSeries(NamedTuple):
    """What the pair figures need of one run: its legend label, epoch records, per-step cross-entropy on the
    original input, and per-step training objective (the cross-entropy plus whatever the run's methods add)."""

    label: str
    history: Sequence[EpochRecord]
    step_losses: Sequence[float] = ()
    step_objective: Sequence[float] = ()


def firing_rate_bars(activity: ActivityMetrics) -> go.Figure:
    """Mean firing rate of each spiking layer over the test set, with silent fractions and the test-set size on
    hover (the title stays short enough for a projector)."""
    names = list(activity.firing_rate)
    rates = [activity.firing_rate[n] for n in names]
    fig = go.Figure(go.Bar(
        x=names, y=rates, width=0.6, marker_color=[layer_colour(n) for n in names], text=[f"{r:.3f}" for r in rates],
        textposition="outside", customdata=[[activity.neurons[n], activity.silent_fraction[n]] for n in names],
        hovertemplate="%{x}: %{y:.4f}<br>%{customdata[0]} neurons, %{customdata[1]:.1%} silent"
                      f"<br>over {activity.samples} test samples<extra></extra>"))
    styled(fig, "Firing rate per layer")
    fig.update_xaxes(title_text=f"layer ({activity.samples} test samples)")
    fig.update_yaxes(title_text="spikes per neuron per step", range=[0, max(rates + [0.01]) * 1.25])
    return fig


def training_curves(history: Sequence[EpochRecord]) -> go.Figure:
    """Train, validation (dashed, when the run has a validation split) and test accuracy after each epoch."""
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    for split in ("train", "test"):
        fig.add_scatter(x=epochs, y=[getattr(r, f"{split}_accuracy") for r in history], name=split,
                        mode="lines+markers", line=dict(color=SERIES_COLOURS[split], width=3), marker=dict(size=9))
    if any(r.validation_accuracy is not None for r in history):
        fig.add_scatter(x=epochs, y=[r.validation_accuracy for r in history], name="validation",
                        mode="lines+markers", line=dict(color=VALIDATION_COLOUR, width=3, dash="dash"),
                        marker=dict(size=7))
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
    """Training cross-entropy per gradient step (binned) and test loss after each epoch, against steps."""
    fig = go.Figure()
    if len(step_losses):
        steps, losses = _binned(step_losses, MAX_LOSS_POINTS)
        fig.add_scatter(x=steps, y=losses, name="train (per step)", mode="lines",
                        line=dict(color=SERIES_COLOURS["train"], width=2))
    fig.add_scatter(x=[r.steps for r in history], y=[r.test_loss for r in history], name="test (per epoch)",
                    mode="lines+markers", line=dict(color=SERIES_COLOURS["test"], width=3), marker=dict(size=9))
    styled(fig, "Loss")
    fig.update_xaxes(title_text="gradient step", rangemode="tozero")
    fig.update_yaxes(title_text="cross-entropy", rangemode="tozero")
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
    styled(fig, "Firing rate per epoch")
    fig.update_xaxes(title_text="epoch", dtick=1 if len(epochs) <= 20 else None)
    fig.update_yaxes(title_text="spikes per neuron per step", rangemode="tozero")
    return fig


def pair_loss_curves(runs: Sequence[RunSeries], fork_step: int = 0) -> go.Figure:
    """Cross-entropy on the original input per step (binned) and test loss per epoch of each run, the same quantity
    whatever a run's methods add to its objective (``objective_curves``); a dotted line where the twin forked."""
    fig = go.Figure()
    for run, colour in zip(runs, PAIR_COLOURS):
        if len(run.step_losses):
            steps, losses = _binned(run.step_losses, MAX_LOSS_POINTS // 2)
            fig.add_scatter(x=steps, y=losses, name=f"{run.label} train", mode="lines", opacity=0.6,
                            line=dict(color=colour, width=2))
        fig.add_scatter(x=[r.steps for r in run.history], y=[r.test_loss for r in run.history],
                        name=f"{run.label} test", mode="lines+markers", line=dict(color=colour, width=3),
                        marker=dict(size=9))
    _fork_line(fig, fork_step)
    styled(fig, "Loss")
    fig.update_xaxes(title_text="gradient step", rangemode="tozero")
    fig.update_yaxes(title_text="cross-entropy", rangemode="tozero")
    return fig


def _fork_line(fig: go.Figure, fork_step: int) -> None:
    if fork_step:
        fig.add_vline(x=fork_step, line=dict(color="#444444", dash="dot"), annotation_text="fork",
                      annotation_position="top")


def adds_terms(runs: Sequence[RunSeries]) -> bool:
    """Whether any run's objective differs from its cross-entropy (a method added terms): then the objective has a
    chart of its own."""
    return any(abs(objective - loss) > 1e-9 for run in runs for loss, objective in zip(run.step_losses,
                                                                                         run.step_objective))


def objective_curves(runs: Sequence[RunSeries], fork_step: int = 0) -> go.Figure:
    """Each run's training objective per step (binned): what its optimiser minimises, the method's terms included,
    so runs with different methods differ here by construction (compare them on ``pair_loss_curves``)."""
    fig = go.Figure()
    for run, colour in zip(runs, PAIR_COLOURS):
        if len(run.step_objective):
            steps, values = _binned(run.step_objective, MAX_LOSS_POINTS // 2)
            fig.add_scatter(x=steps, y=values, name=run.label, mode="lines", line=dict(color=colour, width=2))
    _fork_line(fig, fork_step)
    styled(fig, "Training objective")
    fig.update_xaxes(title_text="gradient step", rangemode="tozero")
    fig.update_yaxes(title_text="objective", rangemode="tozero")
    return fig


def pair_accuracy_curves(runs: Sequence[RunSeries]) -> go.Figure:
    """Test (solid), validation (dashed, when there is a validation split) and train (dotted) accuracy of each
    run after each epoch."""
    fig = go.Figure()
    for run, colour in zip(runs, PAIR_COLOURS):
        epochs = [r.epoch for r in run.history]
        fig.add_scatter(x=epochs, y=[r.test_accuracy for r in run.history], name=f"{run.label} test",
                        mode="lines+markers", line=dict(color=colour, width=3), marker=dict(size=9))
        if any(r.validation_accuracy is not None for r in run.history):
            fig.add_scatter(x=epochs, y=[r.validation_accuracy for r in run.history], name=f"{run.label} validation",
                            mode="lines", line=dict(color=colour, width=2, dash="dash"))
        fig.add_scatter(x=epochs, y=[r.train_accuracy for r in run.history], name=f"{run.label} train",
                        mode="lines", line=dict(color=colour, width=2, dash="dot"))
    styled(fig, "Accuracy per epoch")
    fig.update_xaxes(title_text="epoch", dtick=1 if len(runs[0].history) <= 20 else None)
    fig.update_yaxes(title_text="accuracy", range=[0, 1.02], tickformat=".0%")
    return fig


def pair_epoch_curves(runs: Sequence[RunSeries], field: str, title: str, axis: str) -> go.Figure:
    """One scalar of the epoch records (e.g. ``nasfr``, ``spikes_per_sample``) for each run after each epoch."""
    fig = go.Figure()
    for run, colour in zip(runs, PAIR_COLOURS):
        fig.add_scatter(x=[r.epoch for r in run.history], y=[getattr(r, field) for r in run.history], name=run.label,
                        mode="lines+markers", line=dict(color=colour, width=3), marker=dict(size=9))
    styled(fig, title, height=330)
    fig.update_xaxes(title_text="epoch", dtick=1 if len(runs[0].history) <= 20 else None)
    fig.update_yaxes(title_text=axis, rangemode="tozero")
    return fig


def pair_rate_bars(labels: Sequence[str], activities: Sequence[ActivityMetrics]) -> go.Figure:
    """Each spiking layer's mean firing rate on the test set, the runs' bars side by side."""
    fig = go.Figure()
    top = 0.01
    for label, activity, colour in zip(labels, activities, PAIR_COLOURS):
        names = list(activity.firing_rate)
        rates = [activity.firing_rate[n] for n in names]
        top = max(top, *rates)
        fig.add_bar(x=names, y=rates, name=label, marker_color=colour, text=[f"{r:.3f}" for r in rates],
                    textposition="outside", hovertemplate=f"{label} %{{x}}: %{{y:.4f}}<extra></extra>")
    styled(fig, "Firing rate per layer", subtitle="mean, latest epoch")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="spiking layer")
    fig.update_yaxes(title_text="spikes per neuron per step", range=[0, top * 1.25])
    return fig


def pattern_counts(redundancy: RedundancyMetrics) -> dict[str, dict[str, int]]:
    """Conv layer -> number of its channels in each pattern (noise, normal, null)."""
    return {layer: {p: names.count(p) for p in PATTERNS} for layer, names in redundancy.patterns.items()}


def pair_pattern_bars(labels: Sequence[str], redundancies: Sequence[RedundancyMetrics]) -> go.Figure:
    """Noise / normal / null channels of every conv layer, the runs' bars side by side (layer, pattern on x)."""
    fig = go.Figure()
    for label, redundancy, colour in zip(labels, redundancies, PAIR_COLOURS):
        counts = pattern_counts(redundancy)
        x = [[layer for layer in counts for _ in PATTERNS], [p for _ in counts for p in PATTERNS]]
        y = [counts[layer][p] for layer in counts for p in PATTERNS]
        fig.add_bar(x=x, y=y, name=label, marker_color=colour, text=y, textposition="outside",
                    hovertemplate=f"{label}: %{{y}} channels<extra></extra>")
    styled(fig, "Channels by pattern", subtitle="conv layers, latest epoch")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="channels", rangemode="tozero")
    return fig
