"""AppTest of Compare live on Train & watch: a twin run in lockstep, forks mid-run, refused settings, a twin that
survives leaving the page, Reset asking first, and the one-click switch to a network the twin can run on.

Play trains in the session's background thread; a test waits for it (``wait_for_training``).
"""
import json

import pytest
import torch

from app_runner import open_script as first_run
from app_runner import wait_for_training
from snn_app.twin import TWINS, options
from snn_core.training.trainer import Trainer

PAGE = {"epochs": 2, "train-samples": 120, "test-samples": 40, "hidden": 24}   # changes from the tiny base
CONV = {**PAGE, "dataset": "events-shape", "arch": "conv", "channels": "4", "hidden": "16", "T": "4",
        "train-samples": 48, "test-samples": 20, "batch-size": 16}


def matching_equal(a: torch.nn.Module, b: torch.nn.Module) -> tuple[int, bool]:
    """(how many entries the two state dicts share by name and shape, whether all of those are equal)."""
    ours, theirs = a.state_dict(), b.state_dict()
    shared = [k for k in ours if k in theirs and ours[k].shape == theirs[k].shape]
    return len(shared), all(torch.equal(ours[k], theirs[k]) for k in shared)


def switch_on(at, setting: str):
    at.toggle(key="twin_on").set_value(True).run()
    return at.selectbox(key="twin_setting").set_value(setting).run()


def test_compare_live_trains_a_twin_in_lockstep_from_the_same_initial_weights(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    assert at.radio(key="twin_value_max-spikes").value == "1"        # the value other than this run's K = ∞
    at.button(key="reset").click().run()
    main, twin = at.session_state.trainer, at.session_state.live.twin
    assert twin.cfg.neuron.max_spikes == 1 and main.cfg.neuron.max_spikes == 0
    assert twin.cfg.training.seed == main.cfg.training.seed and main.steps == twin.steps == 0
    shared, equal = matching_equal(main.model, twin.model)
    assert shared == len(main.model.state_dict()) and equal
    at.button(key="step").click().run()
    at.button(key="step").click().run()
    assert main.steps == twin.steps == 2 and not at.exception
    assert len(at.session_state.live.logs()[0]) == len(at.session_state.live.logs()[1]) == 2
    at.button(key="play_pause").click().run()
    for _ in range(3):
        with main.lock:                                                     # between two lockstep steps
            assert main.steps == twin.steps
    wait_for_training(at)
    assert main.finished and twin.finished and not at.exception
    assert not matching_equal(main.model, twin.model)[1]                 # the cap changed what was learnt
    charts = [chart.key for chart in at.get("plotly_chart")]    # the network view, then the twin charts
    assert sorted(charts) == ["cost_bars", "network_diagram", "twin_accuracy", "twin_loss", "twin_nasfr",
                              "twin_rates", "twin_spikes"]
    deltas = [metric.proto.delta for metric in at.metric[4:8]]
    assert deltas[0].endswith("pp") and all(deltas)                         # twin − main, for every metric


def test_switching_asa_mid_run_forks_from_the_current_weights(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(CONV))
    at.button(key="step").click().run()
    at.button(key="step").click().run()
    main = at.session_state.trainer
    switch_on(at, "ASA")
    twin = at.session_state.live.twin
    assert twin.cfg.methods.asa == "faithful" and twin.steps == main.steps == 2
    assert at.session_state.live.twin_forked_at == 2
    shared, equal = matching_equal(main.model, twin.model)
    assert shared and equal and len(twin.model.state_dict()) > shared          # ASA's gates are the twin's own
    assert len(at.session_state.live.logs()[1]) == 2                            # the shared past
    at.button(key="step").click().run()
    assert twin.steps == main.steps == 3 and not matching_equal(main.model, twin.model)[1]
    at.radio(key="twin_value_asa").set_value("clean").run()                    # another fork, at step 3
    clean = at.session_state.live.twin
    assert clean is not twin and clean.cfg.methods.asa == "clean" and clean.steps == 3
    assert matching_equal(main.model, clean.model)[1]
    assert not at.exception


def test_a_bad_setting_is_shown_and_the_run_goes_on_alone(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.button(key="step").click().run()
    switch_on(at, "any sidebar field")
    assert at.session_state.live.twin is None and not at.error                   # nothing typed yet
    at.text_input(key="twin_text").input("hidden").run()
    assert "not KEY=VALUE" in at.error[0].value and at.session_state.live.twin is None
    at.text_input(key="twin_text").input("asa=clean").run()                 # an MLP has no conv layer to gate
    assert "allowed: --arch conv" in at.error[0].value
    at.button(key="step").click().run()
    assert at.session_state.trainer.steps == 2 and at.session_state.live.twin is None and not at.exception
    at.text_input(key="twin_text").input("hidden=32").run()                  # a good one forks at step 2
    twin = at.session_state.live.twin
    assert not at.error and twin.cfg.model.hidden == (32,) and twin.steps == 2
    at.text_input(key="twin_text").input("bogus=1").run()                   # the twin keeps its last good setting
    assert "unknown option 'bogus'" in at.error[0].value and "keeps its last setting" in at.error[0].value
    assert at.session_state.live.twin is twin
    at.button(key="step").click().run()
    assert at.session_state.trainer.steps == twin.steps == 3


def test_switching_compare_live_off_drops_the_twin(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    assert at.session_state.live.twin.steps == 1
    at.toggle(key="twin_on").set_value(False).run()
    single = ["network_diagram", "loss", "accuracy"]                         # the network and the single-run view
    assert at.session_state.live.twin is None and [chart.key for chart in at.get("plotly_chart")] == single


def test_a_twin_that_cannot_go_on_stops_alone_and_says_why(tiny_values, monkeypatch):
    original = Trainer.step

    def step(self):
        if self.cfg.neuron.max_spikes == 1 and self.steps == 1:
            raise ValueError("the twin's second batch cannot be trained")
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    at.button(key="step").click().run()
    assert at.session_state.live.twin is None and at.session_state.trainer.steps == 2 and not at.exception
    assert "the twin's second batch cannot be trained" in at.error[0].value
    at.button(key="step").click().run()                                   # not forked again into the same failure
    assert at.session_state.live.twin is None and at.session_state.trainer.steps == 3


def test_a_twin_that_runs_out_of_memory_stops_alone_and_the_run_goes_on(tiny_values, monkeypatch):
    original = Trainer.step

    def step(self):
        if self.cfg.neuron.max_spikes == 1:
            raise MemoryError
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.live.twin is None and at.session_state.trainer.steps == 1
    assert "The twin stopped at step 0: out of memory: lower" in at.error[0].value


def test_a_twin_too_big_to_fork_is_refused_and_the_run_goes_on(tiny_values, monkeypatch):
    def no_memory(self, cfg):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory")

    monkeypatch.setattr(Trainer, "fork", no_memory)
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.live.twin is None and at.session_state.trainer.steps == 1
    assert "No twin with this setting" in at.error[0].value and "out of memory" in at.error[0].value


def test_the_asa_twin_offers_asa_s_controls_by_name():
    twin = TWINS["ASA"]
    assert {"scalar", "random"} <= set(options(twin.cli))
    assert twin.value_labels["scalar"].startswith("learned gate (ASA's control")
    assert twin.value_labels["random"].startswith("random gate (ASA's control")


def test_the_twin_and_its_setting_survive_leaving_the_page(tiny_values):
    """Streamlit forgets a widget's value once a page without it has run; the twin and its switch do not."""
    at = first_run("app.py", tiny_values(PAGE))
    at.switch_page("app_pages/train.py").run()
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    twin = at.session_state.live.twin
    assert twin is not None and twin.steps == 1
    at.switch_page("app_pages/playground.py").run()
    assert "twin_on" not in at.session_state                                # the widget's own value is gone
    at.switch_page("app_pages/train.py").run()
    assert at.toggle(key="twin_on").value and at.selectbox(key="twin_setting").value == "spike cap K"
    assert at.session_state.live.twin is twin and not at.exception          # the same twin, not a new fork


def test_reset_asks_before_discarding_the_twin_and_keeps_its_setting(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    switch_on(at, "spike cap K")
    at.button(key="step").click().run()
    main, twin = at.session_state.trainer, at.session_state.live.twin
    at.button(key="reset").click().run()
    assert at.session_state.trainer is main and at.session_state.live.twin is twin    # nothing discarded yet
    assert "discards this run **and its twin**" in at.warning[0].value
    at.button(key="reset_cancelled").click().run()
    assert at.session_state.trainer is main and not at.warning
    at.button(key="reset").click().run()
    at.button(key="reset_confirmed").click().run()
    new, new_twin = at.session_state.trainer, at.session_state.live.twin
    assert new is not main and new.steps == 0 and new_twin is not None and new_twin.steps == 0
    assert new_twin.cfg.neuron.max_spikes == 1 and not at.exception                   # the setting is kept


def test_an_asa_twin_of_an_mlp_offers_one_click_to_switch_both_runs_to_conv(tiny_values):
    at = first_run("app_pages/train.py", tiny_values(PAGE))
    at.toggle(key="twin_on").set_value(True).run()
    menu = at.selectbox(key="twin_setting")
    assert menu.value == "spike cap K"                                   # the first that runs on an MLP
    assert "ASA (runs on arch=conv)" in menu.options and "TRT (runs on arch=conv)" in menu.options
    menu.set_value("ASA").run()
    assert "needs a conv network" in at.info[0].value and at.session_state.live.twin is None
    at.button(key="twin_switch_network").click().run()
    main, twin = at.session_state.trainer, at.session_state.live.twin
    assert main.cfg.model.arch == "conv" and at.session_state.config.model.arch == "conv"
    assert twin is not None and twin.cfg.methods.asa != "off" and main.steps == twin.steps == 0
    shared, equal = matching_equal(main.model, twin.model)
    assert shared and equal and not at.exception                          # paired: the same initial weights


def test_a_trt_twin_is_compared_on_the_cross_entropy_and_its_objective_gets_its_own_chart(tiny_values):
    """TRT adds terms to its objective; the loss chart plots the cross-entropy on the original input for both runs,
    so a TRT twin forked from the run does not jump there (its first step matches the run's), and the objective is
    drawn in a chart of its own."""
    at = first_run("app_pages/train.py", tiny_values(CONV))
    switch_on(at, "TRT")
    at.button(key="step").click().run()
    main_log, twin_log = at.session_state.live.logs()
    assert twin_log[0].cross_entropy == pytest.approx(main_log[0].cross_entropy, rel=1e-5)
    assert twin_log[0].objective > twin_log[0].cross_entropy + 1e-3
    charts = {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
    assert charts["twin_loss"]["layout"]["yaxis"]["title"]["text"] == "cross-entropy" and not at.exception
    assert [trace["name"] for trace in charts["twin_objective"]["data"]] == ["main", "twin (trt=on)"]
