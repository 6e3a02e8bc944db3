"""Titles that fit the column a chart is drawn in: Plotly never wraps text, so a long title or subtitle in a chart
half the page wide was cut at the projector's 1024 px; these break it into lines and make room above the plot."""
from __future__ import annotations

import textwrap

import plotly.graph_objects as go

from .style import styled

TITLE_CHARS, SUBTITLE_CHARS = 30, 38   # per line: a chart in half the page is about 270 px wide at 1024 px
TITLE_LINE_PX, SUBTITLE_LINE_PX = 24, 20   # a title's and a subtitle's line height (17 and 14 px fonts)
TITLE_PAD_PX = 16                # from the figure's top edge to the title


def wrapped(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters, broken at spaces with ``<br>`` (a longer word keeps its
    own line)."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def headed(fig: go.Figure, title: str, height: int = 380, subtitle: str = "", wide: bool = False) -> go.Figure:
    """``styled`` with the title and subtitle broken into lines that fit a chart half the page wide at 1024 px
    (``wide``: the whole page, twice as long), hung from the figure's top, and a top margin (and height) holding
    every line above the plot: 36 px of padding + ``TITLE_LINE_PX`` per title line + ``SUBTITLE_LINE_PX`` per
    subtitle line."""
    scale = 2 if wide else 1
    title_lines = textwrap.wrap(title, TITLE_CHARS * scale) or [title]
    subtitle_lines = textwrap.wrap(subtitle, SUBTITLE_CHARS * scale)
    styled(fig, "<br>".join(title_lines), height, subtitle="<br>".join(subtitle_lines))
    top = 36 + TITLE_LINE_PX * len(title_lines) + SUBTITLE_LINE_PX * len(subtitle_lines)
    fig.update_layout(title=dict(yref="container", y=1, yanchor="top", pad_t=TITLE_PAD_PX))   # hung from the top:
    return fig.update_layout(margin_t=top, height=fig.layout.height + top - fig.layout.margin.t)  # Plotly centres
                                                                                   # it in the margin otherwise
