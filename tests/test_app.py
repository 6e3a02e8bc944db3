"""AppTest of the app and its Train & inspect page: a tiny run trains, shows results, and survives bad settings."""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
TINY_RUN = {"dataset": "digits", "arch": "mlp", "T": 4, "epochs": 1}


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()


def train(app: AppTest, **widgets) -> AppTest:
    """Set sidebar widgets by key (the config's CLI names), then press Train."""
    for key, value in {**TINY_RUN, **widgets}.items():
        [element] = [e for e in app.sidebar if getattr(e, "key", None) == key]
        element.set_value(value)
    return app.button(key="train").click().run()


def chart_titles(app: AppTest) -> list[str]:
    return [json.loads(chart.proto.spec)["layout"]["title"]["text"] for chart in app.get("plotly_chart")]


def test_app_starts_with_a_hint_and_no_exception(app):
    assert not app.exception
    assert "Train" in app.info[0].value


def test_training_a_tiny_run_shows_metrics_and_charts(app):
    train(app)
    assert not app.exception and not app.error
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["test accuracy"].endswith("%") and float(metrics["test accuracy"][:-1]) > 20
    assert {"NASFR", "spikes / sample"} <= set(metrics)
    titles = chart_titles(app)
    assert any(t.startswith("Mean firing rate") for t in titles) and "Accuracy per epoch" in titles
    assert "fc1 spikes" in titles and any(t.startswith("fc1 membrane") for t in titles)


@pytest.mark.parametrize("hidden", ["", "12,abc"], ids=["model-error", "config-error"])
def test_invalid_settings_show_an_error_and_keep_the_model(app, hidden):
    run_id = train(app).session_state["run_id"]
    train(app, hidden=hidden)
    assert not app.exception
    assert "hidden" in app.error[0].value
    assert app.session_state["run_id"] == run_id
    assert app.metric and app.get("plotly_chart")


def test_switching_the_sample_keeps_the_model(app):
    trainer = train(app).session_state["trainer"]
    app.number_input(key="sample").set_value(5).run()
    assert not app.exception
    assert app.session_state["trainer"] is trainer
    assert any(t.startswith("test sample 5:") for t in chart_titles(app))
