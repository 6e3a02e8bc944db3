"""Figures of the Cost & energy page: accuracy against cost per sample for each family of operating points (mean and
95% CI on both axes, a log cost axis, the front of the means as a staircase), and the per-seed area differences."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from snn_core.experiments.pareto import AXES, Front, FrontComparison
from snn_core.results import MeanCI

from .layout import headed
from .style import FAINT, INK, LAYER_COLOURS

FAMILY_COLOURS = tuple(LAYER_COLOURS.values())     # mid-luminance colours that pass contrast on both themes
STAT = {"energy": "energy_pj", "sops": "synaptic_ops"}


def _arms(stats: Sequence[MeanCI], floor: float | None = None,
          ceiling: float | None = None) -> tuple[list, list, list]:
    """Means and the CI's distances above and below them (0 without a CI), the bounds clipped to ``floor`` (a log
    axis cannot draw a bar below 0; an accuracy is not below 0) and ``ceiling`` (nor above 1)."""
    means, up, down = [], [], []
    for s in stats:
        mean = s.mean or 0.0
        low = mean if s.ci_low is None else s.ci_low
        high = mean if s.ci_high is None else s.ci_high
        if floor is not None:
            low = max(low, min(mean, floor))
        if ceiling is not None:
            high = min(high, max(mean, ceiling))
        means.append(mean)
        up.append(high - mean)
        down.append(mean - low)
    return means, up, down


def fronts_figure(fronts: Sequence[Front], axis: str = "energy") -> go.Figure:
    """One colour per family: every point at its mean cost (log axis) and mean test accuracy, with 95% CI bars on
    both, labelled by its swept value; a staircase through the points on the front of the means."""
    fig = go.Figure()
    stat = STAT[axis]
    for index, front in enumerate(fronts):
        colour = FAMILY_COLOURS[index % len(FAMILY_COLOURS)]
        shown = [point for point in front.points if point.runs]
        if not shown:
            continue
        costs = [point.stat(stat) for point in shown]
        floor = 0.5 * min(c.mean for c in costs if c.mean)
        x, x_up, x_down = _arms(costs, floor=floor)
        y, y_up, y_down = _arms([point.stat("accuracy") for point in shown], 0.0, 1.0)
        efficient = front.efficient(axis)
        fig.add_scatter(x=[p.stat(stat).mean for p in efficient], y=[p.stat("accuracy").mean for p in efficient],
                        mode="lines", line=dict(color=colour, width=2, shape="hv"), legendgroup=front.family,
                        showlegend=False, hoverinfo="skip")
        fig.add_scatter(
            x=x, y=y, mode="markers+text", name=front.family, legendgroup=front.family,
            marker=dict(size=11, color=colour, line=dict(width=1, color=INK)),
            text=[f"{point.value:g}" for point in shown], textposition="top right", textfont=dict(size=12),
            error_x=dict(type="data", array=x_up, arrayminus=x_down, thickness=1.5, width=4, color=colour),
            error_y=dict(type="data", array=y_up, arrayminus=y_down, thickness=1.5, width=4, color=colour),
            customdata=[[front.setting, point.value, len(point.runs)] for point in shown],
            hovertemplate="%{customdata[0]} = %{customdata[1]}<br>%{x:.3s} per sample<br>accuracy %{y:.1%}<br>"
                          "%{customdata[2]} seeds<extra>" + front.family + "</extra>")
    subtitle = ("mean, 95% CI over seeds (clipped to 0–100%); line: each family's front of the means; "
                "labels: the swept value")
    headed(fig, f"Test accuracy against {AXES[axis]}", 460, subtitle=subtitle, wide=True)
    fig.update_xaxes(type="log", title_text=AXES[axis])
    fig.update_yaxes(title_text="test accuracy", tickformat=".0%", range=[0, 1.05])
    return fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def area_figure(comparisons: Sequence[FrontComparison]) -> go.Figure:
    """Per comparison, each seed's area difference method − control (dots) and its mean with the bootstrap CI."""
    fig = go.Figure()
    labels = [f"{c.method} − {c.control}" for c in comparisons]
    for label, comparison in zip(labels, comparisons):
        diffs = comparison.test.diffs
        fig.add_scatter(x=diffs, y=[label] * len(diffs), mode="markers", marker=dict(size=9, color=FAINT,
                        line=dict(width=1, color=INK)), showlegend=False,
                        hovertemplate="seed difference %{x:+.3f}<extra></extra>")
        test = comparison.test
        if test.mean is not None:
            low = test.mean if test.ci_low is None else test.ci_low
            high = test.mean if test.ci_high is None else test.ci_high
            fig.add_scatter(x=[test.mean], y=[label], mode="markers", showlegend=False,
                            marker=dict(size=14, symbol="diamond", color=FAMILY_COLOURS[0]),
                            error_x=dict(type="data", array=[high - test.mean], arrayminus=[test.mean - low],
                                         thickness=2, width=6, color=FAMILY_COLOURS[0]),
                            hovertemplate="mean %{x:+.3f}<extra>" + test.verdict + "</extra>")
    fig.add_vline(x=0, line=dict(color=INK, width=1, dash="dot"))
    headed(fig, "Dominated area, method − control", 140 + 60 * len(comparisons),
           subtitle="dots: seeds; diamond: mean with its 95% bootstrap CI (fraction of the shared box)", wide=True)
    fig.update_yaxes(type="category", categoryarray=labels[::-1], automargin=True)
    return fig.update_xaxes(title_text="area difference (fraction of the box)", zeroline=False)
