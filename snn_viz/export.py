"""Figures as one standalone HTML page (plotly.js embedded once), for downloads and the CLI."""
from __future__ import annotations

import html
from collections.abc import Sequence

import plotly.graph_objects as go


def figures_to_html(figures: Sequence[go.Figure], title: str) -> str:
    """A self-contained page that opens offline: the first figure carries plotly.js, the rest reuse it."""
    parts = [fig.to_html(full_html=False, include_plotlyjs=index == 0) for index, fig in enumerate(figures)]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
            f"<h1>{html.escape(title)}</h1>{''.join(parts)}</body></html>")
