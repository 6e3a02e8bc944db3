"""Figures of spiking redundancy with ASA off, on and its controls: rates, channel patterns, MPDs, maps, gates."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from .style import METHOD_COLOURS, styled

ARM_COLOURS = {"ASA off": METHOD_COLOURS["without"], "ASA on": METHOD_COLOURS["with"],
               # ASA's controls (Okabe-Ito colours apart from the two arms')
               "learned gate": "#1B8CFC", "random gate": "#8C6D31"}
PATTERN_COLOURS = {"noise": "#D55E00", "normal": "#009E73", "null": "#BBBBBB"}


def rates_by_layer(rates: Mapping[str, Mapping[str, float]], nasfr: Mapping[str, float]) -> go.Figure:
    """Mean firing rate per layer for each arm, with each arm's NASFR in the legend."""
    fig = go.Figure()
    for arm, per_layer in rates.items():
        fig.add_bar(x=list(per_layer), y=list(per_layer.values()), name=f"{arm} (NASFR {nasfr[arm]:.4f})",
                    marker_color=ARM_COLOURS[arm], hovertemplate="%{x}: %{y:.4f}<extra>" + arm + "</extra>")
    styled(fig, "Firing rate per layer")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="spiking layer")
    fig.update_yaxes(title_text="spikes per neuron per step", rangemode="tozero")
    return fig


def channel_patterns(fractions: Mapping[str, Mapping[str, Mapping[str, float]]]) -> go.Figure:
    """Share of noise / normal / null channels per conv layer, one stacked horizontal bar per (layer, arm): lying
    bars keep the arms' names readable when the controls make it ten bars."""
    fig = go.Figure()
    columns = [(arm, layer) for layer in next(iter(fractions.values()), {}) for arm in fractions]
    labels = [[layer for _, layer in columns], [arm for arm, _ in columns]]
    for pattern, colour in PATTERN_COLOURS.items():
        fig.add_bar(y=labels, x=[fractions[arm][layer][pattern] for arm, layer in columns], name=pattern,
                    orientation="h", marker_color=colour, hovertemplate="%{y}: %{x:.0%}<extra>" + pattern + "</extra>")
    styled(fig, "Channel patterns", height=max(380, 120 + 26 * len(columns)))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="share of channels", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(autorange="reversed")
    return fig


def mpd(counts: np.ndarray, edges: np.ndarray, threshold: float, title: str, colour: str) -> go.Figure:
    """Histogram of a layer's input current (or membrane) values with the threshold V_th marked."""
    centres = (edges[:-1] + edges[1:]) / 2
    share = counts / max(counts.sum(), 1)
    fig = go.Figure(go.Bar(x=centres, y=share, width=np.diff(edges), marker_color=colour,
                           hovertemplate="%{x:.2f}: %{y:.1%}<extra></extra>"))
    fig.add_vline(x=threshold, line=dict(color="black", dash="dash", width=2), annotation_text="V_th")
    styled(fig, title, height=300)
    fig.update_xaxes(title_text="value (threshold units)")
    fig.update_yaxes(title_text="share of values", tickformat=".0%")
    return fig


def firing_map(rates: np.ndarray, title: str) -> go.Figure:
    """One channel's firing rate at each position, 0..1, with the values written in the cells when small."""
    annotate = rates.size <= 64
    fig = go.Figure(go.Heatmap(z=rates, zmin=0, zmax=1, colorscale="RdBu_r", colorbar=dict(title="rate"),
                               text=np.round(rates, 2) if annotate else None,
                               texttemplate="%{text}" if annotate else None,
                               hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra></extra>"))
    styled(fig, title, height=300)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False)
    fig.update_xaxes(showgrid=False)
    return fig


def gate_maps(input_image: np.ndarray, gates: Mapping[str, np.ndarray]) -> go.Figure:
    """The input frame (events summed over time) beside ASA's spatial gates for the two groups."""
    from plotly.subplots import make_subplots

    panels = {"input events": input_image, **gates}
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=list(panels), horizontal_spacing=0.06)
    for column, (name, image) in enumerate(panels.items(), start=1):
        is_gate = name != "input events"
        fig.add_trace(go.Heatmap(z=image, colorscale="Viridis" if is_gate else "Greys", showscale=is_gate,
                                 zmin=0 if is_gate else None, zmax=1 if is_gate else None,
                                 hovertemplate="row %{y}, col %{x}: %{z:.2f}<extra>" + name + "</extra>"),
                      row=1, col=column)
        height, width = np.shape(image)
        # fixed ranges, square pixels: the panel shrinks to the image ("domain") instead of padding its range
        fig.update_xaxes(range=[-0.5, width - 0.5], constrain="domain", showgrid=False, row=1, col=column)
        fig.update_yaxes(range=[height - 0.5, -0.5], constrain="domain", showgrid=False,
                         scaleanchor=f"x{column if column > 1 else ''}", row=1, col=column)
    styled(fig, "Where ASA lets current through (gate 1) and where it shuts it (gate 0)", height=360)
    return fig


def importance_mask(mask: np.ndarray) -> go.Figure:
    """ASA's split of the (time step, channel) slices into important and sub-important."""
    fig = go.Figure(go.Heatmap(z=mask.astype(int).T, colorscale=[[0, "#DDDDDD"], [1, "#B23A80"]], zmin=0, zmax=1,
                               showscale=False, hovertemplate="step %{x}, channel %{y}: %{z}<extra></extra>"))
    styled(fig, "Important (t, c) slices", height=320, subtitle="purple: important group, grey: sub-important")
    fig.update_xaxes(title_text="time step", dtick=1)
    fig.update_yaxes(title_text="channel")
    return fig
