"""Classroom mode, Home's tour and challenges, and the network view's +/− buttons, under AppTest."""
from urllib.parse import parse_qsl

from streamlit.testing.v1 import AppTest

from app_runner import open_script, shown_text
from snn_app.pages import CHALLENGES, PAGES
from snn_app.sidebar import BASIC, widget_key
from snn_core.config.run_config import RunConfig, cli_index

ADVANCED_ONLY = ("batch-size", "surrogate", "seed", "reset", "readout", "encoding")


def widget_keys(at: AppTest) -> set[str]:
    return {w.key for kind in ("selectbox", "slider", "number_input", "text_input", "toggle") for w in at.get(kind)}


def test_a_classroom_link_opens_the_basic_settings_and_switching_writes_the_mode_into_the_url():
    at = open_script("app.py", {"mode": "class"})
    assert not at.exception and at.radio(key="ui:mode").value == "Basic"
    shown = widget_keys(at)
    assert {widget_key(cli) for cli in BASIC} <= shown
    assert not {widget_key(cli) for cli in ADVANCED_ONLY} & shown
    assert at.query_params["mode"] == "class" and at.session_state.config == RunConfig()
    at.radio(key="ui:mode").set_value("Advanced").run()
    assert {widget_key(cli) for cli in ADVANCED_ONLY} <= widget_keys(at) and "mode" not in at.query_params
    at.radio(key="ui:mode").set_value("Basic").run()
    assert at.query_params["mode"] == "class" and widget_key("seed") not in widget_keys(at)


def test_basic_mode_keeps_a_hidden_setting_and_shows_it_while_it_is_off_its_default():
    at = open_script("app.py")
    at.number_input(key=widget_key("batch-size")).set_value(32).run()
    at.radio(key="ui:mode").set_value("Basic").run()
    assert at.number_input(key=widget_key("batch-size")).value == 32           # off its default: still shown
    assert widget_key("surrogate-width") not in widget_keys(at)
    assert at.session_state.config.training.batch_size == 32 and dict(at.query_params) == {
        "batch-size": "32", "mode": "class"}
    assert any("Classroom mode" in c.value for c in at.caption)


def test_a_bad_mode_in_a_link_opens_advanced_with_a_notice():
    at = open_script("app.py", {"mode": "kids"})
    assert not at.exception and at.radio(key="ui:mode").value == "Advanced"
    assert "mode='kids' is not valid" in at.warning[0].value


def test_home_lists_every_page_of_the_navigation_and_every_challenge():
    at = open_script("app.py")
    links = at.get("page_link")
    labels = [link.proto.label for link in links]
    assert [info.title for info in PAGES] == labels[-len(PAGES):]
    assert [f"**{item.title}**" for item in CHALLENGES] == labels[:len(CHALLENGES)]
    assert all(any(info.teaches == c.value for c in at.caption) for info in PAGES)


def test_a_challenge_link_opens_its_page_with_its_settings_and_goal_in_an_open_session():
    at = open_script("app.py", {"mode": "class"})
    at.slider(key=widget_key("T")).set_value(3).run()                          # the user's own settings
    item = next(c for c in CHALLENGES if c.key == "small-net")
    link = next(link for link in at.get("page_link") if link.proto.label == f"**{item.title}**")
    query = dict(parse_qsl(link.proto.query_string))
    assert query["challenge"] == "small-net" and query["mode"] == "class"
    at.query_params.clear()
    at.query_params.update(query)                                            # what clicking the link does
    at.switch_page(item.page).run()
    assert not at.exception and not at.warning
    cfg = at.session_state.config
    assert cfg == RunConfig().with_values(dict(item.settings))                  # T back to its default too
    assert at.text_input(key=widget_key("hidden")).value == "16" and at.slider(key=widget_key("T")).value == 8
    assert at.info[0].value.startswith(f"**Challenge: {item.title}.**")
    assert "challenge" not in at.query_params and at.query_params["hidden"] == "16"
    at.button(key="close_challenge").click().run()
    assert not [i for i in at.info if "Challenge:" in i.value]


def test_every_challenge_names_a_page_and_settings_that_run_together():
    from snn_core.config.check import check
    for item in CHALLENGES:
        assert item.page in [info.path for info in PAGES]
        assert set(item.settings) <= set(cli_index()) and not check(RunConfig().with_values(dict(item.settings)))


def network_script() -> None:
    import streamlit as st

    from snn_app import network_view, sidebar, state

    state.start_session()
    with st.sidebar:
        state.publish_config(sidebar.render(st.session_state.config))
    network_view.show(st.session_state.config)


def test_network_view_buttons_change_the_layers_and_widths_in_the_sidebar():
    at = AppTest.from_function(network_script, default_timeout=30).run()
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert "net:add-conv" not in [b.key for b in at.button]                    # mlp: no conv layers to edit
    at.button(key="net:grow-fc1").click().run()
    assert at.text_input(key=widget_key("hidden")).value == "256" and at.session_state.config.model.hidden == (256,)
    at.button(key="net:add-fc").click().run()
    at.button(key="net:shrink-fc2").click().run()
    assert at.session_state.config.model.hidden == (256, 128)
    at.button(key="net:remove-fc").click().run()
    at.button(key="net:remove-fc").click().run()                               # an MLP needs a hidden layer
    assert at.text_input(key=widget_key("hidden")).value == "" and at.button(key="net:remove-fc").disabled
    assert "arch='mlp' needs at least one hidden layer" in at.error[0].value
    assert at.session_state.config.model.hidden == (256,)                      # the last valid config is kept


def test_network_view_conv_buttons_and_a_change_the_config_check_refuses():
    at = AppTest.from_function(network_script, default_timeout=30)
    at.query_params.update({"dataset": "events-shape", "arch": "conv", "asa": "clean", "asa-layers": "2"})
    at.run()
    at.button(key="net:shrink-conv1").click().run()
    assert at.session_state.config.model.channels == (8, 32)
    at.button(key="net:remove-conv").click().run()                             # asa-layers=2 names a layer gone
    assert at.text_input(key=widget_key("channels")).value == "8"
    assert "Methods ▸ asa layers = [2] names conv layer(s) [2]" in shown_text(at.error[0].value)
    assert at.session_state.config.model.channels == (8, 32)                   # the last valid config is kept
    assert at.button(key="net:remove-conv").disabled                           # a conv net keeps one conv layer
    at.button(key="net:add-conv").click().run()
    assert not at.error and at.session_state.config.model.channels == (8, 8)
