"""Figures of temporal reversed training (TRT): a sample both ways, the outputs both ways, TRT against baseline."""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from snn_core.experiments.trt_sign import SignStudy, holm_adjusted, reading
from snn_core.results import Comparison, MeanCI

from .layout import wrapped
from .sample_figures import event_image, full_scale
from .style import FONT_SIZE, METHOD_COLOURS, styled

WAY_COLOURS = {"original": "#222222", "reversed": "#D55E00"}       # the two ways a sample runs
ARM_COLOURS = (METHOD_COLOURS["without"], METHOD_COLOURS["with"])  # baseline arm, TRT arm
MAX_FRAMES = 16                    # event frames drawn per row; later steps are left out
FRAMES_ROW_PX = 500                # a row of frames' width at 1024 px (the page less the margins and row names)
TERM_COLOURS = ("#222222", "#D55E00", "#0077BB", "#B23A80", "#009988", "#BBBBBB")
TERM_DASHES = ("solid", "dash", "solid", "solid", "dot", "solid")   # CE on the perturbed branch often hides CE
AGREEMENT_METRICS = ("test_accuracy", "reversal_agreement", "reversal_kl", "train_test_gap", "nasfr")
LABELS = {"test_accuracy": "test accuracy", "reversal_agreement": "agreement both ways",
          "reversal_kl": "KL orig. ‖ reversed", "train_test_gap": "train − test accuracy", "nasfr": "NASFR"}
PERCENT_METRICS = {"test_accuracy", "reversal_agreement", "train_test_gap"}
SHARE_METRICS = {"test_accuracy", "reversal_agreement"}           # 0..100%: their CIs are cut at both ends
SIGNED_METRICS = {"train_test_gap"}                               # every other metric is at least 0
LEGEND_ROW_PX = 22               # a legend entry's row (15 px font)
HALF_PAGE_CHARS = 30             # a title's line in a chart half the page wide (about 270 px at 1024 px)
PANEL_TITLE_CHARS = 12           # a panel of five in one chart is about 100 px wide at 1024 px
ACCURACY = AGREEMENT_METRICS[0]                 # the metric the experiments' forest plot shows
LAYER_RATE = "layer_firing_rates."              # a summary's per-layer firing rate columns start with it


def plain(text: str) -> str:
    """``text`` (a class name from a user's dataset folder) shown as itself in a Plotly title, tick label or legend:
    Plotly renders tags such as ``<a href>`` and ``<b>`` there, so &, < and > are written as entities."""
    return html.escape(text, quote=False)


def frames_both_ways(ways: Mapping[str, np.ndarray], title: str) -> go.Figure:
    """Event frames ``[T, 2, H, W]`` of each way (original, reversed) in one row per way, time left to right;
    both rows share one brightness scale, so the same frame looks the same in either row."""
    names = list(ways)
    steps = next(iter(ways.values())).shape[0]
    shown = min(steps, MAX_FRAMES)
    scale = full_scale(np.stack(list(ways.values())))
    fig = make_subplots(rows=len(names), cols=shown, horizontal_spacing=0.008, vertical_spacing=0.1,
                        subplot_titles=[f"t={t}" for t in range(shown)], row_titles=names)
    for row, name in enumerate(names, start=1):
        for t in range(shown):
            fig.add_trace(event_image(ways[name][t], scale), row=row, col=t + 1)
    fig.update_xaxes(visible=False, constrain="domain")
    for panel in range(1, len(names) * shown + 1):      # each frame square on its own x axis: tied to the first
        suffix = "" if panel == 1 else str(panel)      # axis, every later one was sized by another panel's room
        fig.update_layout({f"yaxis{suffix}": dict(visible=False, scaleanchor=f"x{suffix}", constrain="domain")})
    fig.update_annotations(font_size=FONT_SIZE - 2)
    cut = "" if shown == steps else f"; the first {shown} of {steps} steps shown"
    tile = min(150, FRAMES_ROW_PX // shown)   # a frame's side at 1024 px: wider pages centre the row, no gaps
    styled(fig, title, subtitle=f"orange = ON events, blue = OFF{cut}")
    return fig.update_layout(height=130 + len(names) * (tile + 30), showlegend=False,
                             margin=dict(t=110, b=10, l=20, r=40))


def rasters_both_ways(ways: Mapping[str, np.ndarray], layer: str) -> go.Figure:
    """A layer's spikes ``[T, N]`` (bool) for each way side by side: a mark at (time step, neuron) per spike."""
    names = list(ways)
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"{name}: {int(ways[name].sum()):,} spikes" for name in names])
    for column, name in enumerate(names, start=1):
        t, n = np.nonzero(ways[name])
        fig.add_scatter(x=t, y=n, mode="markers", name=name, showlegend=False, row=1, col=column,
                        marker=dict(symbol="line-ew-open", size=14, color=WAY_COLOURS.get(name, "#555555"),
                                    line=dict(width=2)),
                        hovertemplate="neuron %{y}<br>step %{x}<extra>" + name + "</extra>")
    steps, neurons = next(iter(ways.values())).shape
    styled(fig, f"{layer} spikes, original and reversed in time", 420,
           subtitle="the reversed branch sends the right-hand raster on to the next layer")
    for column in range(1, len(names) + 1):
        fig.update_xaxes(title_text="time step", range=[-0.5, steps - 0.5], dtick=1 if steps <= 16 else None,
                         row=1, col=column)
    fig.update_yaxes(title_text="neuron index", range=[-0.5, neurons - 0.5], row=1, col=1)
    return fig.update_layout(height=440, showlegend=False, margin=dict(t=110, b=60))


def outputs_both_ways(probabilities: Mapping[str, np.ndarray], class_names: Sequence[str], label: int) -> go.Figure:
    """The network's class probabilities softmax(O) for each way, grouped per class; the label's name is starred."""
    names = [f"{plain(name)} ★" if k == label else plain(name) for k, name in enumerate(class_names)]
    fig = go.Figure()
    for way, probs in probabilities.items():
        fig.add_bar(x=names, y=probs, name=f"{way}: predicts {plain(class_names[int(np.argmax(probs))])}",
                    marker_color=WAY_COLOURS.get(way, "#555555"),
                    hovertemplate="%{x}: %{y:.1%}<extra>" + way + "</extra>")
    styled(fig, "The network's output both ways", subtitle="★ = the sample's label")
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="class probability", range=[0, 1], tickformat=".0%")
    return fig


def _points(stats: MeanCI, scale: float, lowest: float | None = None, highest: float | None = None
            ) -> tuple[float, float, float]:
    """(mean, upper, lower whisker lengths) of a ``MeanCI``/``PairedStat`` scaled by ``scale``, the CI's ends cut to
    [``lowest``, ``highest``] (raw units; None: not cut), the range the quantity can take, which a t-interval over a
    few seeds can reach past; no CI draws no whisker."""
    mean = stats.mean * scale
    if stats.ci_low is None:
        return mean, 0.0, 0.0
    low = stats.ci_low if lowest is None else max(stats.ci_low, lowest)
    high = stats.ci_high if highest is None else min(stats.ci_high, highest)
    return mean, high * scale - mean, mean - low * scale


def _metric_range(metric: str) -> tuple[float | None, float | None]:
    """The values an arm's metric can take, in raw units: a share 0..1, a difference anything, the rest ≥ 0."""
    if metric in SIGNED_METRICS:
        return None, None
    return 0.0, 1.0 if metric in SHARE_METRICS else None


def accuracy_by_experiment(results: Mapping[str, Comparison]) -> go.Figure:
    """Per experiment: the paired test-accuracy difference TRT − baseline in points, with its 95% CI and wins."""
    rows = [(name, *_points(r.paired[ACCURACY], 100.0), r.paired[ACCURACY])
            for name, r in results.items() if ACCURACY in r.paired]
    fig = go.Figure(go.Scatter(
        x=[row[1] for row in rows], y=[row[0] for row in rows], mode="markers",
        marker=dict(size=14, color=ARM_COLOURS[1]),
        error_x=dict(type="data", symmetric=False, array=[row[2] for row in rows],
                     arrayminus=[row[3] for row in rows], thickness=3, width=10),
        customdata=[f"TRT ahead on {s.wins} of {s.n} seeds" for *_, s in rows],
        hovertemplate="%{y}: %{x:+.1f} points<br>%{customdata}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#444444", dash="dash"))
    styled(fig, "Test accuracy, TRT − baseline (paired seeds, 95% CI)", height=120 + 60 * max(len(rows), 2))
    fig.update_xaxes(title_text="difference (accuracy points)", zeroline=False)
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_layout(margin_l=20)
    return fig


def _summaries(result: Comparison) -> tuple[dict[str, MeanCI], dict[str, MeanCI]]:
    """The baseline's and the TRT arm's summaries (metric -> mean and CI over the seeds)."""
    return result.base_summary, result.variant_summary


def arm_metrics(result: Comparison, arm_labels: Sequence[str], metrics: Sequence[str] = AGREEMENT_METRICS
                ) -> go.Figure:
    """One small panel per metric: each arm's mean over the seeds, whiskers = 95% CI."""
    names = [m for m in metrics if m in result.base_summary and m in result.variant_summary]
    titles = [wrapped(LABELS.get(m, m), PANEL_TITLE_CHARS) for m in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=titles, horizontal_spacing=0.12)   # room for ticks
    for column, metric in enumerate(names, start=1):
        scale = 100.0 if metric in PERCENT_METRICS else 1.0
        for summary, label, colour in zip(_summaries(result), arm_labels, ARM_COLOURS):
            mean, up, down = _points(summary[metric], scale, *_metric_range(metric))
            fig.add_bar(x=[label], y=[mean], marker_color=colour, name=label, showlegend=column == 1,
                        error_y=dict(type="data", symmetric=False, array=[up], arrayminus=[down], thickness=2,
                                     width=8),
                        hovertemplate=f"{label}: %{{y:.3f}}{' %' if scale == 100 else ''}<extra></extra>",
                        row=1, col=column)
        fig.update_xaxes(showticklabels=False, row=1, col=column)
    styled(fig, f"Baseline and TRT, mean over {len(result.seeds)} seeds (whiskers: 95% CI)", height=380,
           subtitle="accuracy, agreement and gap in %; KL in nats; CIs cut at 0 (and 100%)")
    fig.update_annotations(font_size=FONT_SIZE - 2)
    return fig.update_layout(margin_t=150)                    # two-line panel titles under the subtitle


def layer_rates(result: Comparison, arm_labels: Sequence[str]) -> go.Figure:
    """Mean firing rate of each spiking layer for each arm over the seeds, whiskers = 95% CI."""
    fig = go.Figure()
    for summary, label, colour in zip(_summaries(result), arm_labels, ARM_COLOURS):
        layers = [name.removeprefix(LAYER_RATE) for name in summary if name.startswith(LAYER_RATE)]
        stats = [_points(summary[LAYER_RATE + layer], 1.0, 0.0) for layer in layers]      # a rate is ≥ 0
        fig.add_bar(x=layers, y=[s[0] for s in stats], name=label, marker_color=colour,
                    error_y=dict(type="data", symmetric=False, array=[s[1] for s in stats],
                                 arrayminus=[s[2] for s in stats], thickness=2, width=8),
                    hovertemplate="%{x}: %{y:.4f}<extra>" + label + "</extra>")
    styled(fig, "Test-set firing rate per layer", subtitle="whiskers: 95% CI, cut at 0")     # fits half the page
    _legend_at_bottom(fig, len(fig.data))
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="spiking layer")
    fig.update_yaxes(title_text="spikes per neuron per step", rangemode="tozero")
    return fig


def _legend_at_bottom(fig: go.Figure, entries: int) -> go.Figure:
    """The legend at the figure's foot (anchored to the figure, not the plot), with room for ``entries`` rows: in
    half a page at 1024 px each entry takes a row, and a legend hung under the plot ran over the x axis's title."""
    room = LEGEND_ROW_PX * entries
    return fig.update_layout(legend=dict(yref="container", y=0, yanchor="bottom"), margin_b=70 + room,
                             height=fig.layout.height - fig.layout.margin.b + 70 + room)


def loss_terms(terms: Mapping[str, Sequence[float]], title: str) -> go.Figure:
    """Each training loss term's mean over an epoch's steps, per epoch, on a log axis: the KL term is often
    hundreds of times smaller than the cross-entropies and would lie flat on a linear one."""
    fig = go.Figure()
    for colour, dash, (name, values) in zip(TERM_COLOURS, TERM_DASHES, terms.items()):
        fig.add_scatter(x=np.arange(1, len(values) + 1), y=list(values), name=name, mode="lines+markers",
                        line=dict(color=colour, width=3, dash=dash), marker=dict(size=7),
                        hovertemplate="epoch %{x}: %{y:.3f}<extra>" + name + "</extra>")
    styled(fig, wrapped(title, HALF_PAGE_CHARS))
    fig.update_layout(margin_t=60 + 20 * fig.layout.title.text.count("<br>"))
    _legend_at_bottom(fig, len(terms))
    fig.update_xaxes(title_text="epoch", dtick=1 if len(next(iter(terms.values()), ())) <= 12 else None)
    fig.update_yaxes(title_text="loss (log scale)", type="log", **decade_ticks(
        [value for values in terms.values() for value in values]))
    return fig


def decade_ticks(values: Sequence[float]) -> dict:
    """A log axis ticked at powers of ten only (Plotly's own ticks between them read "5 2 1 5 2 0.1"), spanning
    whole decades around the positive ``values`` so that at least two ticks show: ``range`` is in log10 units."""
    positive = [value for value in values if value > 0 and np.isfinite(value)]
    if not positive:
        return {}
    low, high = np.floor(np.log10(min(positive))), np.ceil(np.log10(max(positive)))
    high = max(high, low + 1)
    return dict(range=[low, high], dtick=1, tickformat="~g")


READING_COLOURS = {"TRT ahead": "#009988", "TRT behind": "#CC3311", "no evidence": "#888888"}   # trt_sign.reading


def sign_by_cell(result: SignStudy) -> go.Figure:
    """The factorial study (``experiments.trt_sign``): per cell, TRT's paired Δ accuracy in points against the
    compute-matched baseline with its 95% CI, coloured by the cell's reading after Holm's correction over the cells
    (``trt_sign.reading``: ahead, behind, or no evidence)."""
    adjusted = holm_adjusted(result)
    shown = [(cell, p) for cell, p in zip(result.cells, adjusted) if cell.delta.mean is not None]
    cells = [cell for cell, _ in shown]
    names = [" · ".join(cell.levels.values()) for cell in cells]
    stats = [_points(cell.delta, 100.0) for cell in cells]
    readings = [reading(cell.delta, p) for cell, p in shown]
    fig = go.Figure(go.Scatter(
        x=[s[0] for s in stats], y=names, mode="markers",
        marker=dict(size=12, color=[READING_COLOURS[r] for r in readings]),
        error_x=dict(type="data", symmetric=False, array=[s[1] for s in stats], arrayminus=[s[2] for s in stats],
                     thickness=2, width=6, color="#555555"),
        customdata=[f"{r}; ahead on {c.delta.wins} of {c.delta.n} pairs" for r, c in zip(readings, cells)],
        hovertemplate="%{y}: %{x:+.1f} points<br>%{customdata}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#444444", dash="dash"))
    pairs = len(result.seeds) * len(result.data_seeds)
    styled(fig, "How large TRT's effect is per setting: TRT − off (2× epochs)",
           height=140 + 32 * max(len(cells), 2),
           subtitle=f"{' · '.join(result.factors)}; {pairs} pairs (seed × data seed), 95% CI; after Holm's "
                    "correction green: TRT ahead, red: behind, grey: no evidence")
    fig.update_xaxes(title_text="test accuracy difference (points)", zeroline=False)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig.update_layout(margin_l=20)

