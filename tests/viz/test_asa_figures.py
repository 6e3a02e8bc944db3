"""The ASA figures (snn_viz.asa_figures): both arms, the patterns, the MPD threshold and the mask."""
import numpy as np

from snn_viz import asa_figures as figs


def test_figures_show_both_arms_and_the_threshold():
    rates = figs.rates_by_layer({"ASA off": {"conv1": 0.2}, "ASA on": {"conv1": 0.1}}, {"ASA off": 0.2, "ASA on": 0.1})
    assert [t.name.split(" (")[0] for t in rates.data] == ["ASA off", "ASA on"]
    patterns = figs.channel_patterns({"ASA off": {"conv1": {"noise": 0.5, "normal": 0.5, "null": 0.0}},
                                      "ASA on": {"conv1": {"noise": 0.0, "normal": 0.5, "null": 0.5}}})
    assert [t.name for t in patterns.data] == ["noise", "normal", "null"]
    noise = patterns.data[0]
    assert noise.orientation == "h" and list(noise.x) == [0.5, 0.0]                    # each arm's noise share
    assert [list(level) for level in noise.y] == [["conv1", "conv1"], ["ASA off", "ASA on"]]
    mpd = figs.mpd(np.array([1, 3]), np.array([-1.0, 0.0, 1.0]), 0.5, "t", "#000000")
    assert list(mpd.data[0].y) == [0.25, 0.75] and mpd.layout.shapes[0].x0 == 0.5
    assert figs.importance_mask(np.array([[True, False]])).data[0].z.tolist() == [[1], [0]]
