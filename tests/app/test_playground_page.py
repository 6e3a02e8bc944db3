"""The neuron playground page through the app."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from app_runner import ROOT
from snn_core.experiments.playground import INPUTS


@pytest.fixture(scope="module")
def page() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.switch_page("app_pages/playground.py").run()
    return app


def spike_count(app: AppTest) -> int:
    return int(next(m.value for m in app.metric if m.label == "spikes"))


def test_page_runs_and_shows_equations_metrics_and_charts(page):
    assert not page.exception
    titles = [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in page.get("plotly_chart")]
    assert any(t.startswith("f–I curve") for t in titles) and any("membrane" in t for t in titles)
    assert page.latex and spike_count(page) == 20                  # defaults: I = 0.8, beta ~ 0.51, T = 40


def test_threshold_slider_changes_the_spike_count(page):
    before = spike_count(page)
    page.slider(key="pg_threshold").set_value(3.0).run()
    assert not page.exception and spike_count(page) < before


@pytest.mark.parametrize("kind", list(INPUTS))
def test_every_input_kind_renders(page, kind):
    page.selectbox(key="pg_input").set_value(kind).run()
    assert not page.exception and len(page.get("plotly_chart")) == 2


def test_v_reset_is_disabled_for_soft_reset_and_onset_follows_t(page):
    page.radio(key="pg_reset").set_value("soft").run()
    assert page.slider(key="pg_v_reset").disabled
    page.selectbox(key="pg_input").set_value("step").run()
    page.slider(key="pg_T").set_value(4).run()
    assert not page.exception and page.slider(key="pg_onset").value <= 3
