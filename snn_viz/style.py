"""The shared look of every figure: one colour per layer, large fonts, titles and legends placed alike.

Figures follow the page's light or dark theme. The app reads the theme once per script run (Streamlit knows it,
this module never imports Streamlit) and calls ``set_dark``; ``styled`` then picks the colours. The setting is kept
per thread: Streamlit runs each browser session's script in its own thread, so two users with different themes
never see each other's colours. ``PLOTLY_CONFIG`` is the toolbar every chart gets: an SVG download, no logo.
"""
from __future__ import annotations

import threading

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

# Streamlit 1.67's own dark theme (background, text; its secondary background for the grid), so a figure sits on
# the page without a frame around it.
DARK = {"background": "#171614", "text": "#EDEBE8", "grid": "#34322D", "zeroline": "#5A5750"}
# On a dark page the colours drawn as "ink" (threshold lines, the test curve, an unnamed layer) become light ones,
# and the white end of a heatmap's colour scale (zero activity) becomes the background.
DARK_INK = {"black": "#E6E6E6", "#000000": "#E6E6E6", "#222222": "#E6E6E6", "#555555": "#AAAAAA"}
DARK_SCALE_LOW = {"white": DARK["background"], "#ffffff": DARK["background"]}

EXPORT_SCALE = 2        # PNG exports (the toolbar's format can be switched) at twice the shown size
PLOTLY_CONFIG = {       # pass as st.plotly_chart(fig, config=PLOTLY_CONFIG)
    "displaylogo": False,
    "toImageButtonOptions": {"format": "svg", "filename": "snn-explorer-figure", "scale": EXPORT_SCALE},
}

_theme = threading.local()


def set_dark(dark: bool) -> None:
    """Make the figures this thread (one browser session's script run) builds from now on dark or light."""
    _theme.dark = bool(dark)


def is_dark() -> bool:
    """Whether figures built in this thread are dark; light unless ``set_dark(True)`` was called."""
    return getattr(_theme, "dark", False)


def plotly_config(filename: str) -> dict:
    """``PLOTLY_CONFIG`` with the exported file named after what the chart shows (e.g. ``"fc1-spikes"``)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename).strip("-") or "snn-explorer-figure"
    return {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": safe}}


def layer_colour(name: str) -> str:
    return LAYER_COLOURS.get(name, OTHER_COLOUR)


def styled(fig: go.Figure, title: str, height: int = 380, subtitle: str = "", dark: bool | None = None) -> go.Figure:
    """The look every figure shares: large fonts, title on top, legend below the x axis; white, or dark on a dark
    page (``dark``; None: this session's theme, ``is_dark()``)."""
    heading = dict(text=title, font_size=FONT_SIZE + 2, subtitle=dict(text=subtitle, font_size=FONT_SIZE - 1))
    dark = is_dark() if dark is None else dark
    fig.update_layout(template="plotly_dark" if dark else "plotly_white", height=height, title=heading,
                      font=dict(size=FONT_SIZE, family=FONT_FAMILY),
                      margin=dict(l=90, r=20, t=80 if subtitle else 60, b=60),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0))
    if len(fig.data) > 1:                                           # plotly shows a legend: make room for it
        fig.update_layout(height=height + 50, margin_b=120)
    if dark:
        _darken(fig)
    return fig


def _darken(fig: go.Figure) -> None:
    """Streamlit's dark background and text, faint grid lines, and the figure's ink colours made light."""
    fig.update_layout(paper_bgcolor=DARK["background"], plot_bgcolor=DARK["background"], font_color=DARK["text"])
    fig.update_xaxes(gridcolor=DARK["grid"], zerolinecolor=DARK["zeroline"])
    fig.update_yaxes(gridcolor=DARK["grid"], zerolinecolor=DARK["zeroline"])
    for trace in fig.data:
        patch = _light_ink(trace.to_plotly_json())
        if patch:
            trace.update(patch)
    for shape in fig.layout.shapes:
        if isinstance(shape.line.color, str) and shape.line.color.lower() in DARK_INK:
            shape.line.color = DARK_INK[shape.line.color.lower()]


def _light_ink(spec: dict) -> dict:
    """The parts of a trace's spec to change on a dark page: ``*color`` values that are ink, and colour scales
    that start at white (nested dicts are walked; arrays of per-point colours are left as they are)."""
    patch = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            inner = _light_ink(value)
            if inner:
                patch[key] = inner
        elif key.endswith("color") and isinstance(value, str) and value.lower() in DARK_INK:
            patch[key] = DARK_INK[value.lower()]
        elif key == "colorscale" and isinstance(value, (list, tuple)) and value:
            low = str(value[0][1]).lower()
            if low in DARK_SCALE_LOW:
                patch[key] = [[value[0][0], DARK_SCALE_LOW[low]], *[list(stop) for stop in value[1:]]]
    return patch


def time_axis(fig: go.Figure, steps: int) -> None:
    fig.update_xaxes(title_text="time step", range=[-0.5, steps - 0.5], dtick=1 if steps <= 16 else None)
