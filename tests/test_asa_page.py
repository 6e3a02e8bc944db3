"""The Redundancy & ASA page and its figures on a tiny event-data pair."""
import numpy as np
from app_runner import open_script

from snn_app import asa as glue
from snn_core.config.run_config import RunConfig
from snn_viz import asa_figures as figs

TINY = {"T": "4", "channels": "4,8", "hidden": "16", "test-samples": "40"}


def test_pair_configs_differ_only_in_asa_and_move_digits_to_event_data():
    off, on = glue.pair_configs(RunConfig(), "clean", 0.2, 2, 200)
    assert off.data.dataset == "events-shape" and off.model.arch == "conv" and off.data.noise_level == 0.2
    assert off.methods.asa == "off" and on.methods.asa == "clean"
    assert on.with_values({"asa": "off"}) == off


def test_figures_show_both_arms_and_the_threshold():
    rates = figs.rates_by_layer({"ASA off": {"conv1": 0.2}, "ASA on": {"conv1": 0.1}}, {"ASA off": 0.2, "ASA on": 0.1})
    assert [t.name.split(" (")[0] for t in rates.data] == ["ASA off", "ASA on"]
    patterns = figs.channel_patterns({"ASA off": {"conv1": {"noise": 0.5, "normal": 0.5, "null": 0.0}},
                                      "ASA on": {"conv1": {"noise": 0.0, "normal": 0.5, "null": 0.5}}})
    assert [t.name for t in patterns.data] == ["noise", "normal", "null"]
    mpd = figs.mpd(np.array([1, 3]), np.array([-1.0, 0.0, 1.0]), 0.5, "t", "#000000")
    assert list(mpd.data[0].y) == [0.25, 0.75] and mpd.layout.shapes[0].x0 == 0.5
    assert figs.importance_mask(np.array([[True, False]])).data[0].z.tolist() == [[1], [0]]


def test_page_trains_the_pair_and_shows_fig1_and_gates():
    at = open_script("app_pages/asa.py", TINY, timeout=180)
    assert not at.exception and "Train ASA off and on" in at.info[0].value
    at.number_input(key="red_epochs").set_value(1)
    at.number_input(key="red_samples").set_value(200)
    at.button(key="red_train").click().run()
    assert not at.exception and not at.error
    trainers = at.session_state.asa_pair["trainers"]
    assert trainers["ASA on"].cfg.methods.asa == "clean" and trainers["ASA off"].cfg.methods.asa == "off"
    assert len(at.get("plotly_chart")) >= 4
    assert any("NASFR, ASA on" == m.label for m in at.metric)
    at.radio(key="red_layer").set_value("conv2").run()
    at.radio(key="red_mpd").set_value("membrane before reset").run()
    assert not at.exception and not at.error
