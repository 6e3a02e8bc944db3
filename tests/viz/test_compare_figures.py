"""Compare's arm panels (snn_viz.compare_figures.arm_bars): readable in narrow panels, whiskers inside the range a
metric can take, and a panel whose metric is 0 in every run says so."""
import numpy as np
import pytest

from snn_core.config.run_config import RunConfig
from snn_core.results import Comparison, MeanCI
from snn_viz import compare_figures


def ci(mean, low=None, high=None):
    return MeanCI(mean, low, high, None, 3, None)


def comparison(base: dict, variant: dict) -> Comparison:
    return Comparison(RunConfig(), RunConfig(), (0, 1, 2), (), {}, base, variant, 0, 0)


@pytest.fixture
def result():
    base = {"test_accuracy": ci(0.97, 0.9, 1.04), "nasfr": ci(0.02, -0.01, 0.05), "spikes_per_sample": ci(50, 40, 60),
            "cost.energy_pj": ci(4000.0, 3000.0, 5000.0), "silent_fraction": ci(0.0, 0.0, 0.0),
            "wall_seconds": ci(2.0, 1.0, 3.0)}
    variant = {**base, "nasfr": ci(0.01, 0.005, 0.015), "silent_fraction": ci(0.0, 0.0, 0.0)}
    return comparison(base, variant)


def test_whiskers_stay_between_zero_and_one_hundred_percent_and_the_subtitle_says_they_were_cut(result):
    fig = compare_figures.arm_bars(result)
    for bar in fig.data:
        low = bar.y[0] - bar.error_y.arrayminus[0]
        high = bar.y[0] + bar.error_y.array[0]
        assert low >= 0, bar
        if bar.xaxis in ("x", None):                                      # the first panel: test accuracy, points
            assert high <= 100 + 1e-9
    assert "cut" in fig.layout.title.subtitle.text


def test_a_metric_that_is_zero_in_every_run_reads_no_silent_neurons_not_an_empty_axis(result):
    fig = compare_figures.arm_bars(result)
    titles = [note.text for note in fig.layout.annotations]
    assert "no silent<br>neurons" in titles
    assert "no test<br>accuracy" not in titles and not any(t.startswith("no NASFR") for t in titles)
    column = compare_figures.HEADLINE_METRICS.index("silent_fraction") + 1
    assert list(fig.layout[f"yaxis{column}"].range) == [0, 1]            # not plotly's empty -1..1


def test_panel_titles_are_wrapped_to_fit_a_narrow_panel(result):
    fig = compare_figures.arm_bars(result)
    lines = [line for note in fig.layout.annotations for line in note.text.split("<br>")]
    assert max(len(line) for line in lines) <= compare_figures.PANEL_TITLE_CHARS
    assert np.all([axis.showticklabels is False for axis in fig.select_xaxes()])   # the legend names the arms
