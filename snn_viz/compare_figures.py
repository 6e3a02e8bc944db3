"""Figures of a paired comparison: each arm's mean with its CI, the paired differences, the trade-off."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from snn_core.report.verdict import HEADLINE_METRICS, style_of
from snn_core.results import Comparison, MeanCI

from .style import METHOD_COLOURS, styled

ARM_COLOURS = {"base": METHOD_COLOURS["without"], "variant": METHOD_COLOURS["with"]}     # by arm label


def _summaries(result: Comparison) -> dict[str, dict[str, MeanCI]]:
    """Arm label -> the arm's summary (metric -> mean and CI over the seeds)."""
    return {"base": result.base_summary, "variant": result.variant_summary}


def _present(result: Comparison, metrics: Sequence[str]) -> list[str]:
    return [m for m in metrics if m in result.base_summary and m in result.variant_summary]


def _whiskers(stats: MeanCI, scale: float) -> tuple[float, float]:
    """(mean, half-width) of a ``MeanCI`` for an error bar; no CI draws no whisker."""
    if stats.ci_high is None:
        return stats.mean * scale, 0.0
    return stats.mean * scale, (stats.ci_high - stats.mean) * scale


def arm_bars(result: Comparison, metrics: Sequence[str] = HEADLINE_METRICS) -> go.Figure:
    """One small panel per metric: the mean of each arm over the seeds, whiskers = 95% CI."""
    names = _present(result, metrics)
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=[style_of(m).label for m in names])
    for column, metric in enumerate(names, start=1):
        style = style_of(metric)
        for label, summary in _summaries(result).items():
            mean, half = _whiskers(summary[metric], style.scale)
            fig.add_bar(x=[label], y=[mean], marker_color=ARM_COLOURS[label], name=label, showlegend=column == 1,
                        error_y=dict(type="data", array=[half], thickness=2, width=8),
                        hovertemplate=f"{label}: %{{y:.{style.digits + 1}f}}{style.unit} ± {half:.3g}<extra></extra>",
                        row=1, col=column)
    styled(fig, f"Mean over {len(result.seeds)} seeds (whiskers: 95% CI)", height=360)
    fig.update_annotations(font_size=14)
    return fig


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
