"""AppTest of the app frame and the Train & watch page: URL -> config, the sidebar, Play/Step/Reset, errors.

``run_every`` does not tick under AppTest, so live training is driven by explicit ``.run()`` calls.
Pages call the idempotent ``state.start_session()``, so most page tests run a page as its own script;
one test drives the whole frame (sidebar -> page) through ``app.py``.
"""
from streamlit.testing.v1 import AppTest

from snn_core.config.run_config import RunConfig

TINY = {"T": "3", "epochs": "2", "train-samples": "200", "test-samples": "60", "hidden": "32"}
LONGER = {**TINY, "epochs": "40", "train-samples": "1437"}


from app_runner import open_script as first_run


def sidebar_script() -> None:
    import streamlit as st

    from snn_app import sidebar
    from snn_core.config.run_config import RunConfig

    with st.sidebar:
        st.session_state.rendered = sidebar.render(RunConfig().with_values({"hidden": "32"}))


def run_sidebar(**widget_values) -> AppTest:
    from snn_app.sidebar import widget_key

    at = AppTest.from_function(sidebar_script, default_timeout=30).run()
    for cli, value in widget_values.items():
        at.session_state[widget_key(cli)] = value
    return at.run()


def test_home_opens_with_default_settings_and_a_clean_url():
    at = first_run("app.py")
    assert not at.exception
    assert at.session_state.config == RunConfig()
    assert not dict(at.query_params)


def test_a_shared_link_opens_the_same_settings_in_config_and_sidebar():
    at = first_run("app.py", {"dataset": "events-shape", "arch": "conv", "T": "4"})
    cfg = at.session_state.config
    assert (cfg.data.dataset, cfg.model.arch, cfg.data.time_steps) == ("events-shape", "conv", 4)
    assert at.slider(key="cfg:T").value == 4 and at.selectbox(key="cfg:arch").value == "conv"
    assert at.query_params["T"] == "4" and not at.warning


def test_a_tampered_link_falls_back_to_defaults_with_a_visible_notice():
    at = first_run("app.py", {"T": "500", "arch": "transformer", "colour": "red"})
    assert not at.exception
    assert at.session_state.config == RunConfig()
    text = at.warning[0].value
    assert "T='500'" in text and "arch='transformer'" in text and "colour" in text


def test_sidebar_widgets_build_the_config():
    at = run_sidebar(T=3, epochs=2, **{"batch-norm": False, "reset": "soft"})
    cfg = at.session_state.rendered
    assert cfg.data.time_steps == 3 and cfg.training.epochs == 2
    assert cfg.model.batch_norm is False and cfg.neuron.reset == "soft"
    assert not at.selectbox(key="cfg:asa").disabled and at.selectbox(key="cfg:trt").options == ["off", "on"]
    assert at.selectbox(key="cfg:asa").options == ["off", "faithful", "clean"]


def test_invalid_sidebar_value_shows_an_error_and_keeps_the_last_valid_config():
    at = run_sidebar(hidden="12,abc")
    assert not at.exception
    assert "hidden='12,abc' is not valid" in at.error[0].value
    assert at.session_state.rendered.model.hidden == (32,)


def test_sidebar_groups_show_every_config_field_exactly_once():
    from snn_app.sidebar import GROUPS, NOTES
    from snn_core.config.run_config import cli_index
    names = [cli for group in GROUPS.values() for cli in group]
    assert sorted(cli for cli in names if cli in cli_index()) == sorted(cli_index())     # each field, none twice
    assert all(cli in NOTES for cli in names if cli not in cli_index())                 # the rest are captions


def test_settings_that_cannot_run_together_are_listed_and_the_last_valid_config_is_kept():
    at = run_sidebar(**{"first-spike-reg": 0.5, "encoding": "latency", "latency-window": 20})
    assert not at.exception
    text = at.error[0].value
    assert text.startswith("These settings cannot run together, so the last valid ones are still used")
    assert "data.latency_window (--latency-window)=20 is longer than T=8" in text
    assert "model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in text
    assert at.session_state.rendered == RunConfig().with_values({"hidden": "32"})
    at.session_state["cfg:readout"] = "first-spike"
    at.session_state["cfg:latency-window"] = 8
    cfg = at.run().session_state.rendered                       # fixed: the edited settings are used
    assert not at.error and (cfg.model.readout, cfg.model.first_spike_reg, cfg.data.latency_window) == (
        "first-spike", 0.5, 8)


def test_a_link_whose_settings_cannot_run_together_fills_the_sidebar_and_runs_the_defaults():
    at = first_run("app.py", {"first-spike-reg": "0.5", "T": "4"})
    assert not at.exception
    assert at.session_state.config == RunConfig()
    assert at.number_input(key="cfg:first-spike-reg").value == 0.5 and at.slider(key="cfg:T").value == 4
    assert "model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in at.warning[0].value
    assert "needs first-spike times" in at.error[0].value


def test_sidebar_settings_reach_the_run_started_on_another_page():
    at = first_run("app.py")
    at.slider(key="cfg:T").set_value(3)
    at.text_input(key="cfg:hidden").set_value("16")
    at.number_input(key="cfg:train-samples").set_value(100)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    trainer = at.session_state.trainer
    assert trainer.cfg.data.time_steps == 3 and trainer.cfg.model.hidden == (16,) and trainer.steps == 1
    assert at.slider(key="cfg:T").value == 3 and not at.exception and not at.error
    assert at.query_params["T"] == "3"


def test_step_advances_one_gradient_step_deterministically():
    losses = []
    for _ in range(2):
        at = first_run("app_pages/train.py", TINY)
        at.button(key="step").click().run()
        at.button(key="step").click().run()
        assert at.session_state.trainer.steps == 2 and not at.exception
        losses.append(list(at.session_state.step_log))
    assert losses[0] == losses[1] and len(losses[0]) == 2


def test_play_trains_in_bounded_chunks_until_done():
    at = first_run("app_pages/train.py", LONGER)
    at.button(key="play_pause").click().run()
    trainer = at.session_state.trainer
    assert at.session_state.running and 0 < trainer.steps < trainer.batches_per_epoch * 40
    for _ in range(60):
        if not at.session_state.running:
            break
        at.run()
    assert trainer.finished and not at.session_state.running and not at.exception
    assert len(at.get("plotly_chart")) == 4
    assert at.metric[0].value.endswith("%")
    assert at.button(key="play_pause").disabled            # finished: Reset to train again


def test_pause_stops_training():
    at = first_run("app_pages/train.py", LONGER)
    at.button(key="play_pause").click().run()
    at.button(key="play_pause").click().run()
    steps = at.session_state.trainer.steps
    at.run()
    assert not at.session_state.running and at.session_state.trainer.steps == steps


def test_reset_starts_a_new_run_and_a_changed_setting_is_announced():
    at = first_run("app_pages/train.py", TINY)
    at.button(key="step").click().run()
    first = at.session_state.trainer
    at.session_state.config = first.cfg.with_values({"seed": 5})      # what the sidebar does
    at.run()
    assert at.session_state.trainer is first
    assert "seed" in at.info[0].value
    at.button(key="reset").click().run()
    assert at.session_state.trainer is not first and at.session_state.trainer.cfg.training.seed == 5
    assert at.session_state.trainer.steps == 0 and len(at.session_state.step_log) == 0


def test_a_model_error_is_shown_and_the_current_run_is_kept():
    at = first_run("app_pages/train.py", TINY)
    at.button(key="step").click().run()
    kept = at.session_state.trainer
    at.session_state.config = kept.cfg.with_values({"hidden": ""})     # an MLP needs a hidden layer
    at.button(key="reset").click().run()
    assert not at.exception
    assert "at least one hidden layer" in at.error[0].value
    assert at.session_state.trainer is kept


def test_downloads_offer_every_format_after_an_epoch():
    at = first_run("app_pages/train.py", TINY)
    at.button(key="play_pause").click().run()
    while at.session_state.running:
        at.run()
    labels = {button.label for button in at.get("download_button")}
    assert labels == {"history (CSV)", "metrics (CSV)", "run (JSON)", "config (JSON)", "model (safetensors)",
                      "figures (HTML)"}


def test_home_explains_with_a_live_neuron_and_offers_the_quick_start():
    at = first_run("app.py")                                   # Home is the default page
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert at.button(key="quick_start").label == "Train the default model"
    assert len(at.get("page_link")) == 5


def test_an_error_during_training_stops_play_and_is_shown():
    faithful = {"T": "2", "arch": "conv", "channels": "4", "hidden": "8", "train-samples": "65", "test-samples": "40",
                "asa": "faithful"}                               # the second batch holds one sample
    at = first_run("app_pages/train.py", faithful)
    at.button(key="play_pause").click().run()
    for _ in range(5):
        if not at.session_state.running:
            break
        at.run()
    assert not at.exception and not at.session_state.running
    assert "batch size 1" in at.error[0].value
    assert at.session_state.trainer.steps == 1
