"""The shared look of every figure: one colour per layer, large fonts, titles and legends placed alike.

Figures follow the page's light or dark theme in the browser, at once, without a rerun: Streamlit 1.67 does not
rerun the script when the theme is switched from the app menu (and ``st.context.theme`` keeps the old value until
the next rerun), but a Plotly chart drawn with its own chart theme (``st.plotly_chart``'s default; never pass
``theme=None``) gets the theme's background, text and grid colours re-applied client-side. So a figure names no
background or text colour: it keeps plotly_white as its template, which standalone exports (HTML downloads) show,
and Streamlit's theme overrides it on the page. Trace colours stay as they are in both themes, so each must be
visible on both backgrounds: WCAG 2.1's contrast ratio for graphical objects (SC 1.4.11),
``(L_lighter + 0.05) / (L_darker + 0.05) >= 3`` with L the relative luminance, against white and against
Streamlit's dark background. Colours that fail one background (black ink, dark-grey text, faint greys) are mapped
in ``styled`` (``NEUTRAL``). ``PLOTLY_CONFIG`` is the toolbar every chart gets: an SVG download, no logo.
"""
from __future__ import annotations

import plotly.graph_objects as go

# The two page backgrounds a figure sits on: Streamlit 1.67's light and dark themes.
LIGHT_BACKGROUND = "#FFFFFF"
DARK_BACKGROUND = "#171614"
MIN_CONTRAST = 3.0              # WCAG 2.1 SC 1.4.11, non-text contrast: lines, markers, bars against each background

# One colour per spiking layer name, the same in every figure (model.py names them conv1..4, fc1..4): Okabe-Ito's
# blue, bluish green, vermillion and reddish purple, with a deeper sky blue, a green, an ochre and a wine, all of
# mid luminance (0.13-0.29) so each passes MIN_CONTRAST on both backgrounds; tests/viz/test_contrast.py checks it
# and that they stay apart for deuteranopes and protanopes too.
LAYER_COLOURS = {
    "conv1": "#0072B2", "conv2": "#009E73", "conv3": "#1B8CFC", "conv4": "#8C6D31",
    "fc1": "#D55E00", "fc2": "#CC79A7", "fc3": "#609F5C", "fc4": "#9F4A82",
}
# The neutral ink: the grey as far from both backgrounds as one grey can be (about 4.2:1 against each).
INK = "#7B7B7B"
OTHER_COLOUR = INK
SERIES_COLOURS = {"train": "#929292", "test": "#6B6B6B"}        # apart in lightness, both readable on both pages
METHOD_COLOURS = {"without": "#7F7F7F", "with": "#B23A80"}      # "with/without method" in comparisons
# Separators, shading and "everything else" bars: a translucent grey, faint on either background.
FAINT = "rgba(128, 128, 128, 0.45)"
FONT_SIZE = 15                   # readable on a projector
FONT_FAMILY = "Arial, sans-serif"   # Plotly measures legend widths right with it (Source Sans clipped labels)

# Colours figure modules name that fail MIN_CONTRAST on one background, and what ``styled`` draws instead: dark
# ink becomes INK, light greys FAINT. As a text colour, dark ink is dropped, so text takes the theme's own.
NEUTRAL = {"black": INK, "#000000": INK, "#222222": INK, "#444444": INK, "#555555": INK, "#999999": INK,
           "#bbbbbb": FAINT, "#cccccc": FAINT, "#dddddd": FAINT}
# The low end of a colour scale that meant "nothing" on white: drawn transparent, so it is the page's background.
BLANK_SCALE_LOW = {"white", "#ffffff", "#fff", "#dddddd"}

EXPORT_SCALE = 2        # PNG exports (the toolbar's format can be switched) at twice the shown size
PLOTLY_CONFIG = {       # pass as st.plotly_chart(fig, config=PLOTLY_CONFIG)
    "displaylogo": False,
    "toImageButtonOptions": {"format": "svg", "filename": "snn-explorer-figure", "scale": EXPORT_SCALE},
}


def relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of ``#RRGGBB``: L = 0.2126 R + 0.7152 G + 0.0722 B over linear channels,
    c = s / 12.92 for s <= 0.04045, else ((s + 0.055) / 1.055) ** 2.4."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4 for s in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1's contrast ratio (L_lighter + 0.05) / (L_darker + 0.05), from 1 (same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def shades(colour: str, count: int) -> list[str]:
    """``count`` variants of a layer's ``#RRGGBB`` colour for lines drawn side by side (e.g. several neurons), from
    a lighter to a darker one: mixed towards white, then towards black, each as far as MIN_CONTRAST still holds on
    both backgrounds. Luminance only grows towards white and falls towards black, so every shade between the two
    ends passes too, and each keeps the layer's hue."""
    base = [int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)]

    def mixed(target: int, share: float) -> str:
        return "#" + "".join(f"{round(c + (target - c) * share):02X}" for c in base)

    def furthest(target: int) -> float:
        shares = [k / 20 for k in range(13)]                          # 0 .. 60 %
        return max(k for k in shares if _on_both(mixed(target, k)))

    light, dark = furthest(255), furthest(0)
    if count == 1:
        return [mixed(255, 0.0)]
    steps = [light - (light + dark) * k / (count - 1) for k in range(count)]   # > 0: towards white, < 0: black
    return [mixed(255, share) if share >= 0 else mixed(0, -share) for share in steps]


def _on_both(colour: str) -> bool:
    return min(contrast_ratio(colour, LIGHT_BACKGROUND), contrast_ratio(colour, DARK_BACKGROUND)) >= MIN_CONTRAST


def plotly_config(filename: str) -> dict:
    """``PLOTLY_CONFIG`` with the exported file named after what the chart shows (e.g. ``"fc1-spikes"``)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in filename).strip("-") or "snn-explorer-figure"
    return {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": safe}}


def layer_colour(name: str) -> str:
    return LAYER_COLOURS.get(name, OTHER_COLOUR)


def styled(fig: go.Figure, title: str, height: int = 380, subtitle: str = "") -> go.Figure:
    """The look every figure shares: large fonts, title on top, legend below the x axis, and colours that read on
    both the light and the dark page. Sizes are set on each part (title, legend, ticks, axis titles) because
    Streamlit's chart theme sets smaller ones there; colours of text, grid and background are left to the theme."""
    heading = dict(text=title, font=dict(size=FONT_SIZE + 2, family=FONT_FAMILY),
                   subtitle=dict(text=subtitle, font_size=FONT_SIZE - 1))
    fig.update_layout(template="plotly_white", height=height, title=heading,
                      font=dict(size=FONT_SIZE, family=FONT_FAMILY),
                      margin=dict(l=90, r=20, t=80 if subtitle else 60, b=60),
                      legend=dict(orientation="h", yanchor="top", y=-0.22, x=0, font_size=FONT_SIZE))
    axis_text = dict(tickfont_size=FONT_SIZE, title_font_size=FONT_SIZE)
    fig.update_xaxes(**axis_text)
    fig.update_yaxes(**axis_text)
    if len(fig.data) > 1:                                           # plotly shows a legend: make room for it
        fig.update_layout(height=height + 50, margin_b=120)
    _neutralise(fig)
    return fig


def _neutralise(fig: go.Figure) -> None:
    """Colours that read on one background only, made to read on both (``NEUTRAL``, ``BLANK_SCALE_LOW``)."""
    for trace in fig.data:
        patch = _neutral_patch(trace.to_plotly_json())
        if patch:
            trace.update(patch)
    for shape in fig.layout.shapes:
        if isinstance(shape.line.color, str) and shape.line.color.lower() in NEUTRAL:
            shape.line.color = NEUTRAL[shape.line.color.lower()]
        if isinstance(shape.fillcolor, str) and shape.fillcolor.lower() in NEUTRAL:
            shape.fillcolor = NEUTRAL[shape.fillcolor.lower()]
    for note in fig.layout.annotations:
        if isinstance(note.font.color, str) and note.font.color.lower() in NEUTRAL:
            note.font.color = None                                  # the theme's text colour


def _neutral_patch(spec: dict, text: bool = False) -> dict:
    """The parts of a trace's spec to change: ``*color`` values in ``NEUTRAL`` (in a font, ``text``, the colour is
    dropped, so the theme's text colour applies) and colour scales whose low end is blank (nested dicts are
    walked; arrays of per-point colours are left as they are)."""
    patch = {}
    for key, value in spec.items():
        if isinstance(value, dict):
            inner = _neutral_patch(value, text=key.endswith("font"))
            if inner:
                patch[key] = inner
        elif key.endswith("color") and isinstance(value, str) and value.lower() in NEUTRAL:
            patch[key] = None if text else NEUTRAL[value.lower()]
        elif key == "colorscale" and isinstance(value, (list, tuple)) and value:
            if str(value[0][1]).lower() in BLANK_SCALE_LOW:
                patch[key] = [[value[0][0], _transparent(str(value[-1][1]))], *[list(stop) for stop in value[1:]]]
    return patch


def _transparent(colour: str) -> str:
    """``colour`` with no opacity, so a colour scale fades from the page's background into it (no grey midway)."""
    if colour.startswith("#") and len(colour) == 7:
        return "rgba({}, {}, {}, 0)".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))
    if colour.startswith("rgb(") and colour.endswith(")"):
        return f"rgba({colour[4:-1]}, 0)"
    return "rgba(0, 0, 0, 0)"


def time_axis(fig: go.Figure, steps: int) -> None:
    fig.update_xaxes(title_text="time step", range=[-0.5, steps - 0.5], dtick=1 if steps <= 16 else None)
