"""The sidebar (snn_app.sidebar) under AppTest: widgets build the config, bad values and impossible combinations."""
from streamlit.testing.v1 import AppTest

from snn_core.config.run_config import RunConfig


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
