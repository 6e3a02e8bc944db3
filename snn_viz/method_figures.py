"""Figures of what a method learns while a run trains (``Method.reading``): one line per layer over the steps."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from .style import layer_colour, styled

TWIN_DASH = "dash"


def reading_curves(label: str, series: Mapping[str, tuple[Sequence[int], Sequence[float]]]) -> go.Figure:
    """``series[line] = (gradient steps, values)``, one line per layer (a twin's lines, named "… (twin)", dashed in
    the same layer colour); each line's latest value is written at its end so the numbers read without hovering."""
    fig = go.Figure()
    for name, (steps, values) in series.items():
        layer = name.split(" ")[0]
        colour = layer_colour(layer)
        dash = TWIN_DASH if name != layer else None
        fig.add_scatter(x=list(steps), y=list(values), name=name, mode="lines",
                        line=dict(color=colour, width=3, dash=dash),
                        hovertemplate=f"{name}: %{{y:.3f}} at step %{{x}}<extra></extra>")
        fig.add_scatter(x=[steps[-1]], y=[values[-1]], mode="markers+text", text=[f"{values[-1]:.3f}"],
                        textposition="middle right", marker=dict(color=colour, size=9), showlegend=False,
                        hoverinfo="skip")
    first = min(steps[0] for steps, _ in series.values())
    last = max(steps[-1] for steps, _ in series.values())
    styled(fig, label[:1].upper() + label[1:], 340, subtitle=f"per layer, from step {first} to step {last}")
    fig.update_layout(margin=dict(r=70))                        # room for the end labels beside the last point
    fig.update_xaxes(title_text="gradient step")
    fig.update_yaxes(title_text=label.split(" (")[0])
    return fig
