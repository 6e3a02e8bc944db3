"""TRT figures: a class name from a user's dataset folder is shown as itself, never rendered as a link or markup."""
import numpy as np
import pytest

from snn_viz import trt_figures


def test_a_class_name_with_tags_shows_as_text_in_ticks_and_legend():
    names = ["<a href='https://example.com'>cat</a>", "dog & <b>bird</b>"]
    probabilities = {"original": np.array([0.9, 0.1]), "reversed": np.array([0.2, 0.8])}
    fig = trt_figures.outputs_both_ways(probabilities, names, 0)
    assert list(fig.data[0].x) == ["&lt;a href='https://example.com'&gt;cat&lt;/a&gt; ★",
                                   "dog &amp; &lt;b&gt;bird&lt;/b&gt;"]
    assert fig.data[0].name == "original: predicts &lt;a href='https://example.com'&gt;cat&lt;/a&gt;"
    assert fig.data[1].name == "reversed: predicts dog &amp; &lt;b&gt;bird&lt;/b&gt;"
    assert trt_figures.plain("left") == "left"


def test_loss_terms_log_axis_is_ticked_at_whole_decades_only():
    fig = trt_figures.loss_terms({"CE": [1.2, 0.8, 0.5], "KL": [0.011, 0.004, 0.003]}, "loss terms")
    axis = fig.layout.yaxis
    assert axis.type == "log" and axis.dtick == 1 and list(axis.range) == [-3, 1]   # 0.001 .. 10, ticks at 10^k
    narrow = trt_figures.decade_ticks([0.5, 0.7])                       # inside one decade: still two ticks
    assert narrow["range"] == [-1, 0] and narrow["dtick"] == 1
    assert trt_figures.decade_ticks([0.0, float("nan")]) == {}          # nothing positive: Plotly's own axis


def test_every_frame_both_ways_is_square_on_its_own_axis():
    ways = {"original": np.ones((4, 2, 6, 6)), "reversed": np.zeros((4, 2, 6, 6))}
    fig = trt_figures.frames_both_ways(ways, "both ways")
    panels = [axis for axis in fig.select_yaxes()]
    assert len(panels) == 8
    for number, axis in enumerate(panels, start=1):
        assert axis.scaleanchor == ("x" if number == 1 else f"x{number}") and axis.constrain == "domain"


def trt_result():
    from snn_core.config.run_config import RunConfig
    from snn_core.results import Comparison, MeanCI

    def ci(mean, low, high):
        return MeanCI(mean, low, high, None, 2, None)
    summary = {"test_accuracy": ci(0.95, 0.85, 1.05), "reversal_agreement": ci(0.7, 0.6, 0.8),
               "reversal_kl": ci(0.05, -0.2, 0.3), "train_test_gap": ci(0.01, -0.05, 0.07),
               "nasfr": ci(0.02, -0.01, 0.05), "layer_firing_rates.conv1": ci(0.06, -0.01, 0.13)}
    return Comparison(RunConfig(), RunConfig(), (0, 1), (), {}, summary, summary, 0, 0)


def test_arm_metrics_whiskers_stay_in_each_metrics_range_and_panel_titles_wrap():
    fig = trt_figures.arm_metrics(trt_result(), ("baseline", "TRT"))
    by_axis = {}
    for bar in fig.data:
        ends = (bar.y[0] - bar.error_y.arrayminus[0], bar.y[0] + bar.error_y.array[0])
        by_axis.setdefault(bar.xaxis, []).append(ends)
    accuracy, agreement, kl, gap, nasfr = (by_axis[axis] for axis in ("x", "x2", "x3", "x4", "x5"))
    assert all(high <= 100 + 1e-9 for _, high in accuracy + agreement) and all(low >= 0 for low, _ in kl + nasfr)
    assert all(low == pytest.approx(-5.0) for low, _ in gap)           # a difference may be negative: not cut
    assert all(len(line) <= 12 for note in fig.layout.annotations for line in note.text.split("<br>"))


def test_layer_rates_never_reach_below_zero():
    [base, trt] = trt_figures.layer_rates(trt_result(), ("baseline", "TRT")).data
    for bars in (base, trt):
        assert min(np.asarray(bars.y) - np.asarray(bars.error_y.arrayminus)) >= 0


def test_loss_terms_legend_sits_at_the_figure_foot_with_a_row_per_term_below_the_axis_title():
    terms = {name: [1.0, 0.5] for name in ("CE", "CE reversed", "KL", "star", "total")}
    fig = trt_figures.loss_terms(terms, "TRT: loss terms per epoch (mean of the seeds)")
    legend = fig.layout.legend
    assert legend.yref == "container" and legend.y == 0 and legend.yanchor == "bottom"
    assert fig.layout.margin.b >= 60 + trt_figures.LEGEND_ROW_PX * len(terms)     # tick labels + axis title + legend
    assert all(len(line) <= trt_figures.HALF_PAGE_CHARS for line in fig.layout.title.text.split("<br>"))
