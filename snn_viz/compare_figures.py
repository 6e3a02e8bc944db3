"""Figures of a paired comparison: each arm's mean with its CI, the paired differences, the trade-off."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from snn_core.report.verdict import HEADLINE_METRICS, style_of
from snn_core.results import Comparison, MeanCI

from .layout import wrapped
from .style import FONT_SIZE, METHOD_COLOURS, styled

ARM_COLOURS = {"base": METHOD_COLOURS["without"], "variant": METHOD_COLOURS["with"]}     # by arm label
SHARES = {"test_accuracy", "silent_fraction"}      # fractions of 1: their CIs are cut at 1 as well as at 0
PANEL_TITLE_CHARS = 12         # a panel is about 100 px wide at 1024 px: wrap its title after this many characters


def _summaries(result: Comparison) -> dict[str, dict[str, MeanCI]]:
    """Arm label -> the arm's summary (metric -> mean and CI over the seeds)."""
    return {"base": result.base_summary, "variant": result.variant_summary}


def _present(result: Comparison, metrics: Sequence[str]) -> list[str]:
    return [m for m in metrics if m in result.base_summary and m in result.variant_summary]


def _whiskers(stats: MeanCI, scale: float, share: bool) -> tuple[float, float, float]:
    """(mean, arm up, arm down) of a ``MeanCI`` for an error bar, its ends cut to the values the metric can take: at
    least 0 (every headline metric is a share, a count, a rate or a time) and, for a ``share``, at most 1. A
    t-interval over few seeds can reach past them. No CI draws no whisker."""
    if stats.ci_high is None or stats.ci_low is None:
        return stats.mean * scale, 0.0, 0.0
    high = min(stats.ci_high, 1.0) if share else stats.ci_high
    low = max(stats.ci_low, 0.0) if stats.mean >= 0 else stats.ci_low
    return stats.mean * scale, (high - stats.mean) * scale, (stats.mean - low) * scale


def arm_bars(result: Comparison, metrics: Sequence[str] = HEADLINE_METRICS) -> go.Figure:
    """One small panel per metric: the mean of each arm over the seeds, whiskers = 95% CI cut at 0 (and at 100% for
    a share); a metric that is 0 for every run says so in its panel instead of drawing an empty axis."""
    names = _present(result, metrics)
    titles = [wrapped(style_of(m).label, PANEL_TITLE_CHARS) for m in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=titles, horizontal_spacing=0.12)   # room for ticks
    clipped = False
    for column, metric in enumerate(names, start=1):
        style = style_of(metric)
        for label, summary in _summaries(result).items():
            stats = summary[metric]
            mean, up, down = _whiskers(stats, style.scale, metric in SHARES)
            if stats.ci_low is not None and stats.ci_high is not None:
                clipped = clipped or stats.ci_low < 0 <= stats.mean or (metric in SHARES and stats.ci_high > 1)
            digits = f".{style.digits + 1}f"
            fig.add_bar(x=[label], y=[mean], marker_color=ARM_COLOURS[label], name=label, showlegend=column == 1,
                        error_y=dict(type="data", symmetric=False, array=[up], arrayminus=[down], thickness=2,
                                     width=8),
                        hovertemplate=f"{label}: %{{y:{digits}}}{style.unit}<br>95% CI [{mean - down:{digits}}, "
                                      f"{mean + up:{digits}}]<extra></extra>",
                        row=1, col=column)
        if all(summary[metric].mean == 0 for summary in _summaries(result).values()):
            axis = "" if column == 1 else str(column)
            fig.add_annotation(text=wrapped(f"no {style.label}", PANEL_TITLE_CHARS), showarrow=False,
                               font_size=FONT_SIZE - 1, x=0.5, y=0.5, xref=f"x{axis} domain", yref=f"y{axis} domain")
            fig.update_yaxes(range=[0, 1], showticklabels=False, showgrid=False, row=1, col=column)
        fig.update_xaxes(showticklabels=False, row=1, col=column)
    styled(fig, f"Mean over {len(result.seeds)} seeds (whiskers: 95% CI)", height=400,
           subtitle="a CI reaching below 0 (or above 100%) is cut there" if clipped else "")
    fig.update_annotations(font_size=14)
    return fig.update_layout(margin_t=150 if clipped else 120)        # two-line panel titles under the heading


def paired_differences(result: Comparison, metrics: Sequence[str] = HEADLINE_METRICS) -> go.Figure:
    """Variant minus base per metric, as % of the base mean, with the 95% CI of the paired difference."""
    names = [m for m in _present(result, metrics) if m in result.paired and result.base_summary[m].mean]
    rows = []
    for metric in names:
        stats, base_mean = result.paired[metric], result.base_summary[metric].mean
        percent = 100.0 / abs(base_mean)
        low = stats.ci_low if stats.ci_low is not None else stats.mean
        high = stats.ci_high if stats.ci_high is not None else stats.mean
        rows.append((style_of(metric).label, stats.mean * percent, (high - stats.mean) * percent,
                     (stats.mean - low) * percent, f"{stats.wins} up / {stats.losses} down of {stats.n}"))
    fig = go.Figure(go.Scatter(
        x=[r[1] for r in rows], y=[r[0] for r in rows], mode="markers",
        marker=dict(size=14, color=ARM_COLOURS["variant"]),
        error_x=dict(type="data", symmetric=False, array=[r[2] for r in rows], arrayminus=[r[3] for r in rows],
                     thickness=3, width=10),
        customdata=[r[4] for r in rows], hovertemplate="%{y}: %{x:+.1f}% of base<br>%{customdata}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#444444", dash="dash"))
    styled(fig, "Paired difference, variant − base (95% CI)", height=80 + 60 * max(len(rows), 2))
    fig.update_xaxes(title_text="change, % of the base mean", zeroline=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def tradeoff_scatter(result: Comparison) -> go.Figure:
    """Accuracy against spikes per sample, one point per seed and arm, a thin line joining each pair."""
    fig = go.Figure()
    pairs = [pair for pair in result.per_seed if pair.base.metrics is not None and pair.variant.metrics is not None]
    for pair in pairs:
        points = (pair.base.metrics, pair.variant.metrics)
        fig.add_scatter(x=[p.spikes_per_sample for p in points], y=[100 * p.test_accuracy for p in points],
                        mode="lines", line=dict(color="#CCCCCC", width=1), showlegend=False, hoverinfo="skip")
    arms = {"base": [pair.base.metrics for pair in pairs], "variant": [pair.variant.metrics for pair in pairs]}
    for label, points in arms.items():
        fig.add_scatter(x=[p.spikes_per_sample for p in points], y=[100 * p.test_accuracy for p in points],
                        mode="markers", name=label, marker=dict(size=12, color=ARM_COLOURS[label]),
                        text=[f"seed {pair.seed}" for pair in pairs],
                        hovertemplate="%{text}: %{y:.1f}% at %{x:,.0f} spikes<extra>" + label + "</extra>")
    styled(fig, "Accuracy against spikes per seed", subtitle="a grey line joins one seed's two arms")
    fig.update_xaxes(title_text="spikes per test sample")
    fig.update_yaxes(title_text="test accuracy (%)")
    return fig
