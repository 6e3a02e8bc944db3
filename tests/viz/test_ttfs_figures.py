"""The TTFS figures (snn_viz.ttfs_figures): the capped raster and the per-K bars with CIs."""
import numpy as np
import pytest

from snn_core.results import MeanCI
from snn_viz import ttfs_figures as figs


def ci(mean, low=None, high=None, n=2):
    return MeanCI(mean, low, high, None, n, None)


def test_capped_raster_marks_first_spikes_and_states_the_largest_count():
    spikes = np.zeros((5, 3), dtype=bool)
    spikes[[1, 3], 0] = True                      # neuron 0: first at 1, again at 3
    spikes[2, 2] = True
    fig = figs.capped_raster("fc1", spikes, 2)
    first, later = fig.data
    assert list(zip(first.x, first.y)) == [(1, 0), (2, 2)] and list(zip(later.x, later.y)) == [(3, 0)]
    assert fig.layout.title.subtitle.text == "max spikes of any neuron = 2 ≤ K = 2"
    assert "not capped" in figs.capped_raster("input", spikes, None).layout.title.subtitle.text


def test_over_k_draws_ci_bars_and_skips_ks_without_runs():
    fig = figs.over_k({"1": ci(0.5, 0.4, 0.7), "∞": ci(None, n=0), "3": ci(0.6, n=1)}, "t", "y", selected="1")
    assert list(fig.data[0].x) == ["1", "3"]
    assert list(fig.data[0].error_y.array) == pytest.approx([0.2, 0.0])
    assert list(fig.data[0].error_y.arrayminus) == pytest.approx([0.1, 0.0])
