"""The TTFS figures (snn_viz.ttfs_figures): the capped raster and the per-K bars with CIs."""
import numpy as np
import pytest

from snn_core.results import MeanCI
from snn_viz import layout
from snn_viz import ttfs_figures as figs


def ci(mean, low=None, high=None, n=2):
    return MeanCI(mean, low, high, None, n, None)


def subtitle(fig) -> str:
    """A figure's subtitle as one line (long ones are broken with <br> to fit a narrow chart)."""
    return fig.layout.title.subtitle.text.replace("<br>", " ")


def test_capped_raster_marks_first_spikes_and_states_the_largest_count():
    spikes = np.zeros((5, 3), dtype=bool)
    spikes[[1, 3], 0] = True                      # neuron 0: first at 1, again at 3
    spikes[2, 2] = True
    fig = figs.capped_raster("fc1", spikes, 2)
    first, later = fig.data
    assert list(zip(first.x, first.y)) == [(1, 0), (2, 2)] and list(zip(later.x, later.y)) == [(3, 0)]
    assert subtitle(fig) == "max spikes of any neuron = 2 ≤ K = 2"
    assert "not capped" in subtitle(figs.capped_raster("input", spikes, None))


def test_over_k_draws_ci_bars_and_skips_ks_without_runs():
    fig = figs.over_k({"1": ci(0.5, 0.4, 0.7), "∞": ci(None, n=0), "3": ci(0.6, n=1)}, "t", "y", selected="1")
    assert list(fig.data[0].x) == ["1", "3"]
    assert list(fig.data[0].error_y.array) == pytest.approx([0.2, 0.0])
    assert list(fig.data[0].error_y.arrayminus) == pytest.approx([0.1, 0.0])


def test_intervals_of_shares_and_counts_are_cut_at_zero_and_at_one_and_the_subtitle_says_so():
    stats = {"1": ci(0.01, -0.02, 0.05), "∞": ci(0.98, 0.9, 1.03)}
    fig = figs.over_k(stats, "No decision", "share", percent=True)
    arms = fig.data[0].error_y
    assert list(arms.arrayminus) == pytest.approx([0.01, 0.08]) and list(arms.array) == pytest.approx([0.04, 0.02])
    assert "CI cut at 0–100%" in subtitle(fig)
    counts = figs.over_k({"1": ci(3.0, -1.0, 7.0)}, "Spikes", "spikes")
    assert list(counts.data[0].error_y.arrayminus) == [3.0] and "CI cut at 0" in subtitle(counts)
    assert "cut" not in subtitle(figs.over_k({"1": ci(0.5, 0.4, 0.6)}, "t", "y", percent=True))


def test_silent_neurons_bars_never_reach_below_zero_and_their_k_legend_sits_right_of_the_axis_title():
    fig = figs.silent_by_layer({"1": {"fc1": ci(0.01, -0.01, 0.03), "fc2": ci(0.0, 0.0, 0.0)},
                                "∞": {"fc1": ci(0.02, -0.03, 0.07), "fc2": ci(0.0)}})
    for bars in fig.data:
        lowest = np.asarray(bars.y) - np.asarray(bars.error_y.arrayminus)
        assert (lowest >= 0).all(), bars.name
    legend = fig.layout.legend
    assert legend.orientation == "v" and legend.x >= 1 and legend.xanchor == "left"     # beside the plot, not under
    assert legend.title.text == "K" and [bars.name for bars in fig.data] == ["1", "∞"]  # short: nothing cut off
    assert "CI cut at 0%" in subtitle(fig)


def test_accuracy_bands_stay_inside_zero_and_one():
    curve = ([1, 2], [ci(0.97, 0.9, 1.04), ci(0.02, -0.01, 0.05)])
    fig = figs.curves_by_k({"1": curve}, "Convergence", "epoch", "test accuracy")
    band = fig.data[0]
    assert max(band.y) <= 1 and min(band.y) >= 0
    assert fig.layout.legend.orientation == "v" and fig.data[1].name == "1"


def test_long_titles_and_subtitles_are_broken_into_lines_that_fit_half_the_page_with_room_above_the_plot():
    stats = {"1": ci(0.01, -0.02, 0.05), "∞": ci(0.98, 0.9, 1.03)}
    fig = figs.over_k(stats, "Decision step (first output spike) of every test sample", "step", percent=True)
    title, sub = fig.layout.title.text.split("<br>"), fig.layout.title.subtitle.text.split("<br>")
    assert len(title) > 1 and max(map(len, title)) <= layout.TITLE_CHARS
    assert max(map(len, sub)) <= layout.SUBTITLE_CHARS
    heading = fig.layout.title                  # hung from the top (Plotly centres it in the margin otherwise)
    assert (heading.yref, heading.y, heading.yanchor) == ("container", 1, "top")
    lines = layout.TITLE_PAD_PX + layout.TITLE_LINE_PX * len(title) + layout.SUBTITLE_LINE_PX * len(sub)
    assert fig.layout.margin.t >= lines                                 # every line above the plot area


def test_robustness_panels_are_named_under_their_axes_in_short_lines():
    curve = ([0, 1], [ci(0.9, 0.8, 1.0), ci(0.5, 0.4, 0.6)])
    fig = figs.robustness_curves({kind: {"1": curve} for kind in figs.ROBUSTNESS_AXES})
    assert not fig.layout.annotations                                  # no panel titles to collide
    names = [axis.title.text for axis in fig.select_xaxes()]
    assert len(names) == 3 and all(len(line) <= 14 for name in names for line in name.split("<br>"))
