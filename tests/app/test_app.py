"""AppTest of the app frame: a URL -> config, a shared or tampered link, Home, and the sidebar reaching a run.

Pages call the idempotent ``state.start_session()``, so most page tests run a page as its own script;
these tests drive the whole frame (sidebar -> page) through ``app.py``.
"""
from app_runner import open_script as first_run
from app_runner import shown_text
from snn_app.pages import CHALLENGES, PAGES
from snn_core.config.run_config import RunConfig


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


def test_a_link_whose_settings_cannot_run_together_fills_the_sidebar_and_runs_the_defaults():
    at = first_run("app.py", {"first-spike-reg": "0.5", "T": "4"})
    assert not at.exception
    assert at.session_state.config == RunConfig()
    assert at.number_input(key="cfg:first-spike-reg").value == 0.5 and at.slider(key="cfg:T").value == 4
    assert "model.first_spike_reg (--first-spike-reg)=0.5 needs first-spike times" in shown_text(at.warning[0].value)
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


def test_home_explains_with_a_live_neuron_and_offers_the_quick_start():
    at = first_run("app.py")                                   # Home is the default page
    assert not at.exception
    assert len(at.get("plotly_chart")) == 1
    assert at.button(key="quick_start").label == "Train the default model"
    assert len(at.get("page_link")) == len(PAGES) + len(CHALLENGES)      # the tour and the challenges


def test_the_navigation_is_built_from_the_page_list_and_keeps_the_short_url_paths():
    links = {link.proto.label: link.proto.page for link in first_run("app.py").get("page_link")}
    assert links["Redundancy & ASA"] == "redundancy" and links["Open a recording"] == "recording"
    assert links["Train & watch"] == "train" and [info.title for info in PAGES if info.default] == ["Home"]


def test_bad_environment_settings_are_named_and_the_app_keeps_working(monkeypatch):
    monkeypatch.setenv("SNN_THREADS", "many")                  # read at start: the app falls back to one thread
    monkeypatch.setenv("SNN_MEMORY_BUDGET_MB", "lots")
    at = first_run("app.py")
    assert not at.exception
    errors = [shown_text(element.value) for element in at.error]
    assert any("SNN_THREADS='many' is not valid; allowed: an integer 1..256" in text for text in errors), errors
    assert any("SNN_MEMORY_BUDGET_MB='lots' is not a memory budget" in text for text in errors), errors
    assert at.session_state.config == RunConfig()
