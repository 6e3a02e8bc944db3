"""Figures of the TTFS trade-off: metrics over the spike cap K with 95% CIs, curves per K, capped rasters."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from snn_core.experiments.ttfs_sweep import Curve
from snn_core.results import MeanCI

from .layout import headed
from .style import FONT_SIZE, OTHER_COLOUR, time_axis

# K = 1 (TTFS) blue to K = inf (relaxed) red; keys are the page's K labels.
K_COLOURS = {"1": "#0072B2", "2": "#1B8CFC", "3": "#009E73", "5": "#8C6D31", "10": "#CC79A7", "∞": "#D55E00"}
SHARE_RANGE = dict(clipmin=-0.03, clipmax=1.03)    # a share's axis never runs past 0%..100% (a flat line at 100%
                                                   # would otherwise get Plotly's 0..200%)
RASTER_HEIGHT = 450              # one height for every layer, so rasters side by side line up
FIRST_SPIKE_COLOUR = "#000000"
LATER_SPIKE_COLOUR = "#D55E00"


def k_colour(label: str) -> str:
    return K_COLOURS.get(label, OTHER_COLOUR)


class Arms(NamedTuple):
    """Error-bar arms of a row of ``MeanCI``: the means, the distances up and down to the CI's ends, and whether an
    end was cut to the range the quantity can take."""
    means: list
    up: list
    down: list
    clipped: bool


def _ci_arms(stats: Sequence[MeanCI], highest: float | None = None) -> Arms:
    """Means and the distances to the CI's ends (0 where a CI is missing, e.g. one seed), the ends cut to
    [0, ``highest``]: every quantity drawn here (a share, a count, a step) is at least 0, and a t-interval over a few
    seeds can reach past 0 (or past 100% for a share, ``highest`` = 1)."""
    means = [s.mean for s in stats]
    top = [s.ci_high if highest is None or s.ci_high is None else min(s.ci_high, highest) for s in stats]
    bottom = [None if s.ci_low is None else max(s.ci_low, 0.0) for s in stats]
    clipped = any(t is not None and t != s.ci_high for t, s in zip(top, stats)) or \
        any(b is not None and b != s.ci_low for b, s in zip(bottom, stats))
    up = [0.0 if t is None else t - m for t, m in zip(top, means)]
    down = [0.0 if b is None else m - b for b, m in zip(bottom, means)]
    return Arms(means, up, down, clipped)


def _seeds_note(stats: Sequence[MeanCI], clipped: bool = False, percent: bool = False) -> str:
    counts = sorted({s.n for s in stats})
    seeds = "/".join(str(n) for n in counts)
    cut = f", CI cut at {'0–100%' if percent else '0'}" if clipped else ""
    return f"mean and 95% CI, {seeds} seed{'s' if counts != [1] else ''}{cut}"


def _k_legend(fig: go.Figure) -> None:
    """The K legend as a column to the right of the plot, titled "K": short entries that neither wrap nor cover
    the x axis's title at any column width (a legend below the axis did both)."""
    fig.update_layout(legend=dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top",
                                  title_text="K", tracegroupgap=0), margin_b=60)


def over_k(stats: Mapping[str, MeanCI], title: str, y_title: str, selected: str | None = None,
           percent: bool = False) -> go.Figure:
    """One metric (``MeanCI`` per K label) over K, with 95% CI bars; the selected K is shaded."""
    labels = [k for k, s in stats.items() if s.mean is not None]
    shown = [stats[k] for k in labels]
    means, up, down, clipped = _ci_arms(shown, 1.0 if percent else None)
    fig = go.Figure(go.Scatter(
        x=labels, y=means, mode="lines+markers", line=dict(color=OTHER_COLOUR, width=2),
        marker=dict(size=13, color=[k_colour(k) for k in labels]),
        error_y=dict(type="data", array=up, arrayminus=down, thickness=2, width=6, color=OTHER_COLOUR),
        customdata=np.array([[s.n] for s in shown]).reshape(-1, 1),
        hovertemplate="K = %{x}<br>%{y" + (":.1%" if percent else ":.3g") + "}<br>%{customdata[0]} seeds"
                      "<extra></extra>"))
    headed(fig, title, 330, subtitle=_seeds_note(shown, clipped, percent) if shown else "no successful runs")
    fig.update_xaxes(title_text="spike cap K", type="category", categoryarray=list(stats))
    fig.update_yaxes(title_text=y_title, tickformat=".0%" if percent else None)
    if percent:
        fig.update_yaxes(autorangeoptions=SHARE_RANGE)
    else:                                                    # a count or a step: from 0, like the CIs
        fig.update_yaxes(rangemode="tozero")
    if selected in labels:
        index = labels.index(selected)
        fig.add_vrect(x0=index - 0.4, x1=index + 0.4, fillcolor="#DDDDDD", opacity=0.5, layer="below",
                      line_width=0)
    return fig


def curves_by_k(curves: Mapping[str, Curve], title: str, x_title: str, y_title: str, percent: bool = True,
                subtitle: str = "") -> go.Figure:
    """One line per K label through its ``Curve`` (x, ``MeanCI`` per x), its 95% CI as a shaded band."""
    fig = go.Figure()
    for label, (x, stats) in curves.items():
        colour = k_colour(label)
        means, up, down, _ = _ci_arms(stats, 1.0 if percent else None)
        x = list(x)
        if any(up) or any(down):
            high = [m + u for m, u in zip(means, up)]
            low = [m - d for m, d in zip(means, down)]
            fig.add_scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", fillcolor=colour, opacity=0.18,
                            line=dict(width=0), hoverinfo="skip", showlegend=False, legendgroup=label)
        fig.add_scatter(x=x, y=means, mode="lines+markers", name=label, legendgroup=label,
                        line=dict(color=colour, width=3), marker=dict(size=6),
                        hovertemplate=f"K = {label}<br>{x_title} %{{x}}<br>%{{y:.1%}}<extra></extra>")
    headed(fig, title, 380, subtitle=subtitle)
    _k_legend(fig)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title, tickformat=".0%" if percent else None)
    if percent:
        fig.update_yaxes(autorangeoptions=SHARE_RANGE)
    return fig


ROBUSTNESS_AXES = {"jitter": "input jitter<br>σ (steps)", "deletion": "spike<br>deletion p",
                   "weight_noise": "weight noise<br>(relative sd)"}       # two short lines: a panel is ~130 px wide


def robustness_curves(curves: Mapping[str, Mapping[str, Curve]]) -> go.Figure:
    """Test accuracy against each noise level, one panel per noise kind named under its x axis (titles above the
    panels ran into each other), one line per K (level 0 = clean)."""
    kinds = list(curves)
    fig = make_subplots(rows=1, cols=max(1, len(kinds)), shared_yaxes=True, horizontal_spacing=0.05)
    for column, kind in enumerate(kinds, start=1):
        for label, (levels, stats) in curves[kind].items():
            means, up, down, _ = _ci_arms(stats, 1.0)
            fig.add_scatter(x=list(levels), y=means, mode="lines+markers", name=label, legendgroup=label,
                            showlegend=column == 1, line=dict(color=k_colour(label), width=3), marker=dict(size=8),
                            error_y=dict(type="data", array=up, arrayminus=down, thickness=1.5, width=4),
                            hovertemplate=f"K = {label}<br>level %{{x}}<br>%{{y:.1%}}<extra>{kind}</extra>",
                            row=1, col=column)
        fig.update_xaxes(title_text=ROBUSTNESS_AXES.get(kind, kind), row=1, col=column)
    headed(fig, "Robustness: test accuracy under noise", 380, wide=True,
            subtitle="level 0 is the clean test set; mean and 95% CI over seeds, cut at 0% and 100%; fixed noise seed")
    _k_legend(fig)
    fig.update_layout(margin_b=90)                            # the two-line axis titles
    fig.update_yaxes(tickformat=".0%", autorangeoptions=SHARE_RANGE)
    fig.update_yaxes(title_text="test accuracy", row=1, col=1)
    return fig


def silent_by_layer(stats: Mapping[str, Mapping[str, MeanCI]]) -> go.Figure:
    """Share of neurons that never fired on the test set, per layer, one bar group per K (``MeanCI``)."""
    fig, clipped = go.Figure(), False
    for label, per_layer in stats.items():
        layers = list(per_layer)
        means, up, down, cut = _ci_arms([per_layer[layer] for layer in layers], 1.0)
        clipped = clipped or cut
        fig.add_bar(x=layers, y=means, name=label, marker_color=k_colour(label),
                    error_y=dict(type="data", array=up, arrayminus=down, thickness=1.5, width=4),
                    hovertemplate=f"K = {label}<br>%{{x}}: %{{y:.1%}} silent<extra></extra>")
    cut = "; CI cut at 0%" if clipped else ""
    headed(fig, "Silent neurons per layer", 330, subtitle=f"never fired on the test set (dead neurons){cut}")
    _k_legend(fig)
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="spiking layer")
    fig.update_yaxes(title_text="share of neurons", tickformat=".0%", rangemode="tozero")
    if not any(any(s.mean for s in per_layer.values()) for per_layer in stats.values()):
        fig.add_annotation(text="no silent neurons at any K", showarrow=False, font_size=FONT_SIZE,
                           x=0.5, y=0.6, xref="paper", yref="paper")
    return fig


def capped_raster(name: str, spikes: np.ndarray, cap: int | None,
                  neuron_labels: Sequence[str] | None = None) -> go.Figure:
    """One sample's spikes ``[T, N]`` of one layer: each neuron's first spike black, later ones coloured,
    and the largest spike count of any neuron set against the cap K (0 = unlimited, None = not capped)."""
    steps, count = spikes.shape
    t, n = np.nonzero(spikes)
    first = np.zeros_like(t, dtype=bool)
    if len(t):
        firsts = np.argmax(spikes, axis=0)                                     # (N,) step of the first spike
        first = t == firsts[n]
    labels = np.asarray(neuron_labels if neuron_labels is not None else [f"neuron {i}" for i in range(count)])
    fig = go.Figure()
    for mask, role, symbol, mark in ((first, "first spike", "diamond", FIRST_SPIKE_COLOUR),
                                     (~first, "later spike", "line-ew-open", LATER_SPIKE_COLOUR)):
        fig.add_scatter(x=t[mask], y=n[mask], mode="markers", name=role, text=labels[n[mask]],
                        marker=dict(symbol=symbol, size=8 if role == "first spike" else 10, color=mark,
                                    line=dict(width=2, color=mark)),
                        hovertemplate="%{text}<br>step %{x}<extra>" + role + "</extra>")
    most = int(spikes.sum(0).max()) if count else 0
    bound = {None: "(not capped)", 0: "(K = ∞, no cap)"}.get(cap, f"≤ K = {cap}")
    total = int(spikes.sum())
    firing = int(spikes.any(0).sum())
    headed(fig, f"{name}: {total} spike{'' if total == 1 else 's'}, {firing} of {count} neurons fire", RASTER_HEIGHT,
            subtitle=f"max spikes of any neuron = {most} {bound}")
    time_axis(fig, steps)
    fig.update_yaxes(title_text="neuron", range=[-0.5, count - 0.5])
    if neuron_labels is not None and count <= 20:                          # e.g. the output classes
        fig.update_yaxes(tickvals=list(range(count)), ticktext=list(neuron_labels))
    if not len(t):
        fig.add_annotation(text="no spikes for<br>this sample", showarrow=False, font_size=FONT_SIZE + 2,
                           x=0.5, y=0.5, xref="paper", yref="paper")
    return fig
