"""Spike explorer: its cached engine calls (snn_app.explorer) and the page under AppTest."""
import json
from types import SimpleNamespace

import pytest
import torch
from streamlit.testing.v1 import AppTest

from app_runner import ROOT
from snn_app import explorer
from snn_core.config.run_config import RunConfig
from snn_core.training.trainer import Trainer

DIGITS_RUN = {"T": 4, "epochs": 1, "train-samples": 200, "test-samples": 60, "hidden": "32"}


EVENTS_RUN = {"dataset": "events-shape", "arch": "conv", "channels": "4,8", "T": 4, "train-samples": 40,
              "test-samples": 20, "epochs": 1}


def test_next_wrong_wraps_around():
    wrong = explorer.wrong_indices(torch.tensor([0, 1, 2, 0, 4]), torch.tensor([0, 2, 2, 1, 4]))
    assert wrong == [1, 3]
    assert [explorer.next_wrong(wrong, after) for after in (0, 1, 3, 4)] == [1, 3, 1, 1]
    assert explorer.next_wrong([], 2) is None


def test_weights_key_changes_with_every_step():
    run = SimpleNamespace(steps=3, cfg=RunConfig())
    before = explorer.weights_key(run)
    run.steps += 1
    assert explorer.weights_key(run) != before


@pytest.fixture(scope="module")
def digits_trainer() -> Trainer:
    trainer = Trainer(RunConfig().with_values(DIGITS_RUN))
    trainer.run_epoch()
    return trainer


@pytest.fixture(scope="module")
def events_trainer() -> Trainer:
    trainer = Trainer(RunConfig().with_values(EVENTS_RUN))
    trainer.run_epoch()
    return trainer


def test_test_evaluation_reuses_the_epoch_end_and_reevaluates_after_a_step():
    trainer = Trainer(RunConfig().with_values(DIGITS_RUN))
    trainer.run_epoch()
    reused = explorer.test_evaluation(trainer, explorer.weights_key(trainer))
    assert reused.accuracy == trainer.history[-1].test_accuracy
    trainer.step()
    fresh = explorer.test_evaluation(trainer, explorer.weights_key(trainer))
    assert torch.equal(fresh.predictions, trainer.evaluate().predictions)


def explorer_page(trainer: Trainer | None) -> AppTest:
    """The app opened on the Spike explorer with ``trainer`` as the session's model."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    app.session_state["trainer"] = trainer
    return app.switch_page("app_pages/explorer.py").run()


def figures(app: AppTest) -> dict[str, dict]:
    """Plotly specs by title (as one line: long ones are broken with <br> to fit a narrow column)."""
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {spec["layout"]["title"]["text"].replace("<br>", " "): spec for spec in specs}


def test_without_a_model_the_page_points_to_training():
    app = explorer_page(None)
    assert not app.exception
    assert "Train & watch" in app.info[0].value and not app.get("plotly_chart")


def test_digits_model_shows_the_sample_and_its_layer(digits_trainer):
    app = explorer_page(digits_trainer)
    assert not app.exception
    titles = set(figures(app))
    assert {"Readout score per step", "fc1 spikes", "fc1 firing rate per time step"} <= titles
    assert any(t.startswith("test sample 0:") for t in titles) and any("membrane" in t for t in titles)
    webgl = sum(trace["type"] == "scattergl" for spec in figures(app).values() for trace in spec["data"])
    assert webgl <= 4
    app.number_input(key="explorer_sample").set_value(5).run()
    assert not app.exception and any(t.startswith("test sample 5:") for t in figures(app))


def test_next_wrong_button_and_neuron_choice(digits_trainer):
    app = explorer_page(digits_trainer)
    wrong = explorer.wrong_indices(digits_trainer.last_evaluation.predictions, digits_trainer.dataset.test_y)
    [button] = [b for b in app.button if "wrong" in b.label]
    button.click().run()
    assert not app.exception and app.number_input(key="explorer_sample").value == explorer.next_wrong(wrong, 0)
    assert "wrong" in app.markdown[0].value
    app.multiselect[0].set_value([0, 7]).run()
    [membrane] = [spec for title, spec in figures(app).items() if "membrane" in title]
    assert [trace["name"] for trace in membrane["data"] if trace["mode"] == "lines+markers"] == ["0", "7"]
    assert not app.exception


def test_events_conv_model_shows_channel_heatmaps(events_trainer):
    app = explorer_page(events_trainer)
    assert not app.exception
    assert {"conv1 firing rate per channel", "conv1 firing rate map per channel"} <= set(figures(app))
    app.radio(key="explorer_layer").set_value("conv2").run()
    assert not app.exception and "conv2 firing rate per channel" in figures(app)
    app.radio(key="explorer_layer").set_value("fc1").run()
    assert not app.exception and not any("per channel" in title for title in figures(app))


def test_every_chart_exports_as_svg_named_after_what_it_shows(digits_trainer):
    app = explorer_page(digits_trainer)
    configs = [json.loads(chart.proto.config) for chart in app.get("plotly_chart")]
    assert configs and all(c["toImageButtonOptions"]["format"] == "svg" and not c["displaylogo"] for c in configs)
    assert "explorer-raster-0-fc1" in {c["toImageButtonOptions"]["filename"] for c in configs}


def test_the_page_offers_to_open_saved_work_even_with_a_model(digits_trainer):
    app = explorer_page(digits_trainer)
    assert app.expander[0].label == "Open saved work" and app.text_input(key="saved_path").value == ""
