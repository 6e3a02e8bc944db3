"""The sidebar (snn_app.sidebar) under AppTest: widgets build the config, bad values and impossible combinations,
a dataset's defaults and its real-data settings: where a dataset is read from, the data folder checked as it is typed,
the bundled samples, and the Fetch button (against a local HTTP server, never the internet)."""
import pytest
from streamlit.testing.v1 import AppTest

from app_runner import open_script, shown_text
from dataset_server import DatasetServer, closed_port_url, nmnist_zip
from snn_core.config.run_config import RunConfig
from snn_core.data import fetch, folders


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
    assert at.selectbox(key="cfg:asa").options == ["off", "faithful", "clean", "constant", "scalar", "random"]


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
    assert "Data ▸ latency window = 20 is longer than T=8" in text               # the sidebar's names, no CLI flags
    assert "Methods ▸ first spike reg = 0.5 needs first-spike times" in text and "--" not in text
    assert at.session_state.rendered == RunConfig().with_values({"hidden": "32"})
    at.session_state["cfg:readout"] = "first-spike"
    at.session_state["cfg:latency-window"] = 8
    cfg = at.run().session_state.rendered                       # fixed: the edited settings are used
    assert not at.error and (cfg.model.readout, cfg.model.first_spike_reg, cfg.data.latency_window) == (
        "first-spike", 0.5, 8)


def real_data_app(**query) -> AppTest:
    """The whole app (the dataset callback and the Train & watch page need it) with ``query`` in its URL."""
    return open_script("app.py", query)


@pytest.fixture
def data_places(monkeypatch, tmp_path):
    """A fresh fetch folder ($SNN_DATA_DIR) and working folder (no data/ there): only the bundled samples exist."""
    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path / "SNN_DATA_DIR"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def no_samples(monkeypatch, data_places):
    """As ``data_places``, and no bundled samples either: nothing of any real dataset is on disk."""
    monkeypatch.setattr(folders, "BUNDLED_SAMPLES", data_places / "no-samples")
    return data_places


@pytest.fixture
def nmnist_server(monkeypatch):
    """N-MNIST's train and test archives (tonic's layout, 20 recordings each) on a local server."""
    server = DatasetServer({"train.zip": nmnist_zip("Train"), "test.zip": nmnist_zip("Test")})
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (server.archive("train.zip"), server.archive("test.zip")))
    yield server
    server.close()


def captions(at: AppTest) -> list[str]:
    return [shown_text(c.value) for c in at.caption]


def test_choosing_nmnist_applies_its_defaults_and_shows_the_folder_settings(tmp_path, monkeypatch):
    from snn_core.data.folders import resolve_root

    monkeypatch.setenv("SNN_DATA_DIR", str(tmp_path))         # nothing fetched: as on a fresh clone, the samples
    at = real_data_app()                                        # bundled in data/samples are read
    assert "cfg:data-dir" not in [w.key for w in at.text_input]          # digits: no real-data widgets
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="cfg:arch").value == "conv" and at.text_input(key="cfg:channels").value == "16,32"
    assert at.slider(key="cfg:T").value == 8 and at.number_input(key="cfg:train-samples").value == 10000
    cfg = at.session_state.config
    assert (cfg.data.dataset, cfg.model.arch, cfg.model.channels, cfg.training.batch_size) == ("nmnist", "conv",
                                                                                              (16, 32), 32)
    assert at.text_input(key="cfg:data-dir").value == "" and at.selectbox(key="cfg:event-frames").value == "counts"
    [source] = [shown_text(c.value) for c in at.caption if ":material/folder_open:" in c.value]  # where data comes from
    assert source.startswith(":material/folder_open: Reads ") and str(resolve_root("", "nmnist")) in source
    assert "SNN_DATA_DIR" in source or str(tmp_path / "nmnist") in source    # the fetch folder, searched first
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
    assert "Data ▸ frame size: read only by real datasets" in shown_text(at.error[0].value)
    at.number_input(key="cfg:frame-size").set_value(0).run()
    assert not at.error and at.session_state.config == RunConfig()


def test_a_missing_data_folder_is_named_in_the_sidebar_and_when_training_starts(data_places, tmp_path):
    missing = str(tmp_path / "no-such-folder")
    at = real_data_app()
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    at.text_input(key="cfg:data-dir").set_value(missing).run()
    assert any(missing in shown_text(c.value) and "is not a folder" in shown_text(c.value) for c in at.caption)
    at.switch_page("app_pages/train.py").run()
    at.button(key="step").click().run()
    assert not at.exception and at.session_state.trainer is None
    assert shown_text(at.error[0].value).startswith("Cannot train with these settings: ")
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
    from snn_core.methods.catalogue import METHODS
    placed = {cli for group in GROUPS.values() for cli in group}
    assert len(BASIC) == len(set(BASIC)) == 9 + len(METHODS) and set(BASIC) <= set(cli_index()) & placed
    at = AppTest.from_function(sidebar_script, default_timeout=30)
    at.session_state["ui:mode"] = "Basic"
    at.run()
    shown = {w.key for kind in ("selectbox", "slider", "number_input", "text_input", "toggle") for w in at.get(kind)}
    assert shown == {f"cfg:{cli}" for cli in BASIC}
    assert at.session_state.rendered == RunConfig()                            # the hidden settings: defaults


def test_plain_words_turn_cli_names_into_the_sidebars():
    from snn_app.sidebar import plain_words
    assert plain_words("data.data_dir (--data-dir)='x' is not allowed; allowed: a folder") == \
        "Data ▸ data dir = 'x' is not allowed; allowed: a folder"
    assert plain_words("data.crop_us, data.frame_size: read only") == "Data ▸ crop us, Data ▸ frame size: read only"
    assert plain_words("allowed: --batch-size 2 or more, --K 1, or --arch mlp") == \
        "allowed: Training ▸ batch size 2 or more, Methods ▸ max spikes 1, or Network ▸ arch mlp"
    assert plain_words("layout given as the data folder, or the dataset fetched (snn data fetch shd)") == \
        "layout given as the data folder, or the dataset fetched (the 'Fetch shd' button below)"
    assert plain_words("folder, or the dataset fetched (snn data fetch event-folder)") == "folder"
    assert plain_words("/data/model.safetensors --unknown-flag") == "/data/model.safetensors --unknown-flag"


def test_a_data_folder_setting_on_a_generated_dataset_reads_in_plain_words():
    at = run_sidebar(**{"data-dir": "/some/folder"})
    text = shown_text(at.error[0].value)
    assert "Data ▸ data dir: read only by real datasets" in text and "--" not in text and "data_dir" not in text


def test_the_bundled_samples_button_puts_their_folder_in_the_data_folder_box(monkeypatch, data_places):
    samples = data_places / "samples"
    for digit in ("3", "7"):
        (samples / "nmnist" / "Train" / digit).mkdir(parents=True)
        (samples / "nmnist" / "Train" / digit / "00001.bin").write_bytes(bytes(5))
    monkeypatch.setattr(folders, "BUNDLED_SAMPLES", samples)
    at = real_data_app()
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    assert any("samples/nmnist** (data-dir empty" in c and ": 2 training recordings of 10 classes" in c
               and "samples bundled with the app" in c for c in captions(at))
    at.button(key="ui:samples:nmnist").click().run()
    assert not at.exception and not at.error
    assert at.text_input(key="cfg:data-dir").value == str(samples / "nmnist")
    assert at.session_state.config.data.data_dir == str(samples / "nmnist")
    assert ":material/check_circle: 2 training recordings of 10 classes (no test split: part of them is held out " \
           "to test)." in captions(at)
    assert "ui:samples:nmnist" not in [b.key for b in at.button]            # already used


def test_a_typed_data_folder_is_checked_against_the_datasets_layout(data_places):
    at = run_sidebar(dataset="nmnist", arch="conv", channels="4,8")
    for folder, expected in ((data_places / "none", "is not a folder"),
                             (data_places, "has no Train/ folder; expected the N-MNIST layout")):
        at.text_input(key="cfg:data-dir").set_value(str(folder)).run()
        line = [c for c in captions(at) if c.startswith(":red[:material/error: ")]
        assert not at.exception and len(line) == 1 and expected in line[0] and str(folder) in line[0]
    good = data_places / "mine"
    (good / "Train" / "4").mkdir(parents=True)
    (good / "Train" / "4" / "00001.bin").write_bytes(bytes(5))
    at.text_input(key="cfg:data-dir").set_value(str(good)).run()
    assert ":material/check_circle: 1 training recordings of 10 classes (no test split: part of them is held out " \
           "to test)." in captions(at) and not [c for c in captions(at) if ":red[" in c]


def test_the_fetch_button_downloads_with_a_progress_bar_and_then_reads_the_fetched_folder(no_samples, nmnist_server,
                                                                                        monkeypatch):
    reports, real = [], fetch.fetch_dataset

    def recorded(name, to=None, progress=None):
        return real(name, to, lambda *report: (reports.append(report), progress(*report)))

    monkeypatch.setattr(fetch, "fetch_dataset", recorded)
    at = real_data_app()
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    assert any(c.startswith(":red[:material/folder_off: no nmnist folder was found") and
               "(the 'Fetch nmnist' button below)" in c and "snn data" not in c for c in captions(at))
    at.text_input(key="cfg:data-dir").set_value(str(no_samples / "elsewhere")).run()
    at.button(key="ui:fetch:nmnist").click().run()
    assert not at.exception and not at.error
    folder = no_samples / "SNN_DATA_DIR" / "nmnist"
    assert reports and reports[-1][2] == "nmnist: extracting test.zip" and reports[-1][0] == reports[-1][1]
    assert not at.get("progress")                                            # the bar is gone once done
    assert shown_text(at.success[0].value) == f"Fetched nmnist into **{folder}**: 40 files."
    assert at.text_input(key="cfg:data-dir").value == ""                      # the default search finds it first
    assert any(c.startswith(f":material/folder_open: Reads **{folder}** (data-dir empty") and
               ": 20 training and 20 test recordings of 10 classes." in c for c in captions(at))
    assert "ui:fetch:nmnist" not in [b.key for b in at.button]               # on disk now
    at.slider(key="cfg:T").set_value(4).run()
    assert at.session_state.config.data.time_steps == 4 and at.session_state.config.data.dataset == "nmnist"


def test_a_fetch_that_fails_shows_an_error_and_the_session_goes_on(no_samples, monkeypatch):
    url = closed_port_url("train.zip")
    monkeypatch.setitem(fetch.SOURCES, "nmnist", (fetch.Archive(url, "train.zip", "0" * 32),))
    at = real_data_app()
    at.selectbox(key="cfg:dataset").set_value("nmnist").run()
    at.button(key="ui:fetch:nmnist").click().run()
    assert not at.exception and len(at.error) == 1
    text = shown_text(at.error[0].value)
    assert text.startswith(f"Fetching nmnist failed: cannot reach {url} (") and "--" not in text
    assert f"copy the dataset to {no_samples / 'SNN_DATA_DIR' / 'nmnist'} in this layout: NMNIST/Train/" in text
    assert not at.get("progress")
    at.slider(key="cfg:T").set_value(4).run()                                # still working; the error stays
    assert not at.exception and at.session_state.config.data.time_steps == 4
    assert shown_text(at.error[0].value) == text and "ui:fetch:nmnist" in [b.key for b in at.button]


def test_no_fetch_button_for_a_dataset_that_cannot_be_fetched_or_is_already_there(data_places, nmnist_server):
    at = run_sidebar(dataset="event-folder")
    assert not [b for b in at.button if b.key.startswith("ui:fetch:")]
    fetch.fetch_dataset("nmnist")
    at = run_sidebar(dataset="nmnist", arch="conv")
    assert "ui:fetch:nmnist" not in [b.key for b in at.button]
    assert any(c.startswith(":material/folder_open: Reads **") and "SNN_DATA_DIR/nmnist** (data-dir empty" in c
               for c in captions(at))
