"""Figures of what a method learns while a run trains (``Method.reading``): one line per layer over the steps."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from .style import layer_colour, styled


def reading_curves(label: str, steps: Sequence[int], values: Mapping[str, Sequence[float]]) -> go.Figure:
    """``values[layer][i]`` read at gradient step ``steps[i]``, one line per layer, its latest value labelled at the
    line's end so the numbers read without hovering; the start is marked too, so the change shows."""
    fig = go.Figure()
    for layer, series in values.items():
        colour = layer_colour(layer)
        fig.add_scatter(x=list(steps), y=list(series), name=layer, mode="lines", line=dict(color=colour, width=3),
                        hovertemplate=f"{layer}: %{{y:.3f}} at step %{{x}}<extra></extra>")
        fig.add_scatter(x=[steps[-1]], y=[series[-1]], mode="markers+text", text=[f"{series[-1]:.3f}"],
                        textposition="middle right", marker=dict(color=colour, size=9), showlegend=False,
                        hoverinfo="skip")
    styled(fig, label.capitalize(), 340, subtitle=f"per layer, from step {steps[0]} to step {steps[-1]}")
    fig.update_xaxes(title_text="gradient step")
    fig.update_yaxes(title_text=label.split(" (")[0])
    return fig
