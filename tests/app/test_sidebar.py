"""The sidebar (snn_app.sidebar) under AppTest: widgets build the config, bad values and impossible combinations,
a dataset's defaults and its real-data settings."""
from streamlit.testing.v1 import AppTest

from app_runner import open_script, shown_text
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
    assert at.selectbox(key="cfg:asa").options == ["off", "faithful", "clean", "constant", "scalar"]


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
    text = shown_text(at.error[0].value)
    assert text.startswith("These settings cannot run together, so the last valid ones are still used")
    assert "data.latency_window (--latency-window)=20 is longer than T=8" in text
    assert "model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in text
    assert at.session_state.rendered == RunConfig().with_values({"hidden": "32"})
    at.session_state["cfg:readout"] = "first-spike"
    at.session_state["cfg:latency-window"] = 8
    cfg = at.run().session_state.rendered                       # fixed: the edited settings are used
    assert not at.error and (cfg.model.readout, cfg.model.first_spike_reg, cfg.data.latency_window) == (
        "first-spike", 0.5, 8)


def real_data_app(**query) -> AppTest:
    """The whole app (the dataset callback and the Train & watch page need it) with ``query`` in its URL."""
    return open_script("app.py", query)


def test_choosing_nmnist_applies_its_defaults_and_shows_the_folder_settings():
    at = real_data_app()
    assert "cfg:data-dir" not in [w.key for w in at.text_input]          # digits: no real-data widgets
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="cfg:arch").value == "conv" and at.text_input(key="cfg:channels").value == "16,32"
    assert at.slider(key="cfg:T").value == 8 and at.number_input(key="cfg:train-samples").value == 10000
    cfg = at.session_state.config
    assert (cfg.data.dataset, cfg.model.arch, cfg.model.channels, cfg.training.batch_size) == ("nmnist", "conv",
                                                                                              (16, 32), 32)
    assert at.text_input(key="cfg:data-dir").value == "" and at.selectbox(key="cfg:event-frames").value == "counts"
    assert any(c.value.startswith(":material/folder_open: Reads **") and "SNN_DATA_DIR/nmnist" in c.value
               for c in at.caption)                                       # where the data comes from
    assert "cfg:sensor" not in [w.key for w in at.text_input]           # N-MNIST's sensor is fixed
    at.selectbox(key="cfg:dataset").set_value("event-folder").run()
    assert at.text_input(key="cfg:sensor").value == "" and at.number_input(key="cfg:frame-size").value == 64
    at.selectbox(key="cfg:dataset").set_value("dvs-gesture").run()
    assert at.number_input(key="cfg:frame-size").value == 32 and at.slider(key="cfg:T").value == 16
    at.selectbox(key="cfg:dataset").set_value("digits").run()               # back: the digits settings
    cfg = at.session_state.config
    assert not at.error and cfg == RunConfig() and "cfg:frame-size" not in [w.key for w in at.number_input]


def test_a_real_data_setting_from_a_link_on_digits_is_shown_so_it_can_be_fixed():
    at = real_data_app(**{"frame-size": "32"})
    assert at.number_input(key="cfg:frame-size").value == 32
    assert "data.frame_size: read only by real datasets" in shown_text(at.error[0].value)
    at.number_input(key="cfg:frame-size").set_value(0).run()
    assert not at.error and at.session_state.config == RunConfig()


def test_a_missing_data_folder_is_named_in_the_sidebar_and_when_training_starts(tmp_path):
    missing = str(tmp_path / "no-such-folder")
    at = real_data_app()
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    at.text_input(key="cfg:data-dir").set_value(missing).run()
    assert any(missing in shown_text(c.value) and "is not a folder" in shown_text(c.value) for c in at.caption)
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.trainer is None
    assert shown_text(at.error[0].value).startswith("Cannot train with these settings: data.data_dir (--data-dir)")
    assert missing in shown_text(at.error[0].value) and "is not a folder" in shown_text(at.error[0].value)


def test_a_folder_framed_for_the_first_time_drives_a_progress_bar_then_removes_it(real_data, tmp_path, monkeypatch):
    from snn_app import training
    from snn_core.data.real import framing_progress

    reports = []

    def recorded(callback):
        return framing_progress(lambda done, total, label: (reports.append((done, total, label)),
                                                            callback(done, total, label)))

    monkeypatch.setenv("SNN_FRAME_CACHE_DIR", str(tmp_path))             # nothing framed yet
    monkeypatch.setattr(training, "framing_progress", recorded)
    at = real_data_app(dataset="nmnist", arch="conv", channels="4,8", T="4", epochs="1", **{
        "data-dir": str(real_data / "nmnist"), "train-samples": "20", "test-samples": "20", "batch-size": "20",
        "data-seed": "91"})                                              # a data config no other test loads
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    assert not at.exception and not at.error and at.session_state.trainer.steps == 1
    assert reports and reports[-1] == (40, 40, "framing nmnist")
    assert not [bar for bar in at.get("progress") if "framing" in bar.proto.text]


def test_classroom_mode_shows_the_dozen_basic_settings_and_each_is_a_config_field():
    from snn_app.sidebar import BASIC, GROUPS
    from snn_core.config.run_config import cli_index
    placed = {cli for group in GROUPS.values() for cli in group}
    assert len(BASIC) == len(set(BASIC)) == 12 and set(BASIC) <= set(cli_index()) & placed
    at = AppTest.from_function(sidebar_script, default_timeout=30)
    at.session_state["ui:mode"] = "Basic"
    at.run()
    shown = {w.key for kind in ("selectbox", "slider", "number_input", "text_input", "toggle") for w in at.get(kind)}
    assert shown == {f"cfg:{cli}" for cli in BASIC}
    assert at.session_state.rendered == RunConfig()                            # the hidden settings: defaults
