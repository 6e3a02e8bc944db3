"""The shared look of every figure: one colour per layer, large fonts, titles and legends placed alike."""
from __future__ import annotations

import plotly.graph_objects as go

# One colour per spiking layer name, the same in every figure (model.py names them conv1..4, fc1..4).
LAYER_COLOURS = {
    "conv1": "#0072B2", "conv2": "#009E73", "conv3": "#56B4E9", "conv4": "#8C6D31",
    "fc1": "#D55E00", "fc2": "#CC79A7", "fc3": "#E69F00", "fc4": "#882255",
}
OTHER_COLOUR = "#555555"
SERIES_COLOURS = {"train": "#999999", "test": "#222222"}
METHOD_COLOURS = {"without": "#7F7F7F", "with": "#AA3377"}      # "with/without method" in comparisons
FONT_SIZE = 15                   # readable on a projector
FONT_FAMILY = "Arial, sans-serif"   # Plotly measures legend widths right with it (Source Sans clipped labels)


def layer_colour(name: str) -> str:
    return LAYER_COLOURS.get(name, OTHER_COLOUR)


def styled(fig: go.Figure, title: str, height: int = 380, subtitle: str = "") -> go.Figure:
    """The look every figure shares: white template, large fonts, title on top, legend below the x axis."""
    heading = dict(text=title, font_size=FONT_SIZE + 2, subtitle=dict(text=subtitle, font_size=FONT_SIZE - 1))
    fig.update_layout(template="plotly_white", height=height, title=heading,
                      font=dict(size=FONT_SIZE, family=FONT_FAMILY),
                      margin=dict(l=90, r=20, t=80 if subtitle else 60, b=60),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    if len(fig.data) > 1:                                           # plotly shows a legend: make room for it
        fig.update_layout(height=height + 50, margin_b=120)
    return fig


def time_axis(fig: go.Figure, steps: int) -> None:
    fig.update_xaxes(title_text="time step", range=[-0.5, steps - 0.5], dtick=1 if steps <= 16 else None)
