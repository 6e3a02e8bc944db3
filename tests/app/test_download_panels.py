"""The "Download these results" panels: what their JSON and CSV hold, and that the result pages offer them."""
import csv
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from download_fetch import fetched, keep_media_managers
from snn_app import downloads
from snn_core.config.run_config import RunConfig
from snn_core.experiments.compare import compare, sweep
from snn_core.results import Comparison
from snn_core.training.trainer import Trainer


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_comparison_gives_a_row_per_seed_and_arm_with_its_metrics(tiny):
    result = compare(tiny(), tiny(max_spikes=1), [0, 1])
    rows = _rows(downloads.csv_text(downloads.comparison_rows(result, experiment="K=1")))
    assert [(r["experiment"], r["seed"], r["arm"]) for r in rows] == [
        ("K=1", "0", "base"), ("K=1", "0", "variant"), ("K=1", "1", "base"), ("K=1", "1", "variant")]
    assert float(rows[1]["test_accuracy"]) == result.per_seed[0].variant.metrics.test_accuracy
    assert rows[0]["error"] == "" and rows[0]["max-spikes"] == "0" and rows[1]["max-spikes"] == "1"
    written = json.loads(downloads.json_text({"K=1": result}))                # the CLI's compare layout, per name
    assert Comparison.from_json(written["K=1"]) == result


def test_a_sweep_gives_a_row_per_value_and_run(tiny):
    result = sweep(tiny(), "max-spikes", ["0", "1"], [0, 1])
    rows = _rows(downloads.csv_text(downloads.sweep_rows(result)))
    assert [(r["max-spikes"], r["seed"]) for r in rows] == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]
    assert "layer_firing_rates.fc1" in rows[0]


def test_trained_runs_give_the_train_commands_json_and_spikes_a_row_per_spike(tiny, train_to_end):
    trainer, _ = train_to_end(tiny())
    result = downloads.trainers_result({"main": trainer})
    written = json.loads(downloads.json_text(result))
    assert set(written["main"]) == {"config", "history", "metrics", "data"}
    assert RunConfig.from_dict(written["main"]["config"]) == trainer.cfg
    rows = _rows(downloads.csv_text(downloads.trainers_rows({"main": trainer}, "arm")))
    assert [(r["arm"], r["seed"]) for r in rows] == [("main", "0")]
    assert float(rows[0]["test_accuracy"]) == result["main"].metrics.test_accuracy
    spikes = np.array([[1, 0], [0, 1], [1, 1]], dtype=bool)                    # (T, neurons)
    assert downloads.spikes_rows(spikes, ["a", "b"]) == [
        {"neuron": "a", "step": 0}, {"neuron": "b", "step": 1}, {"neuron": "a", "step": 2}, {"neuron": "b", "step": 2}]


def test_downloaded_json_is_valid_even_with_nan():
    text = downloads.json_text({"metrics": {"test_loss": float("nan")}, "cfg": RunConfig()})
    tree = json.loads(text)
    assert tree["metrics"]["test_loss"] is None and tree["non_finite"] and "NaN" not in text
    assert RunConfig.from_dict(tree["cfg"]) == RunConfig()


def test_the_explorer_offers_the_samples_json_and_spikes(tiny_values):
    from app_runner import open_script

    at = open_script("app_pages/explorer.py", tiny_values())
    at.session_state.trainer = Trainer(RunConfig().with_values(tiny_values()))
    at.session_state.trainer.fit()
    at.run()
    keys = {button.key for button in at.get("download_button")}
    assert {"explorer_download_json", "explorer_download_csv"} <= keys and not at.exception


PANEL = """
import streamlit as st
from snn_app import downloads
downloads.panel("neuron", lambda: {"spikes": st.session_state.spikes}, lambda: [{"step": 0, "spike": 1}], key="k")
"""


@pytest.fixture
def media(monkeypatch):
    return keep_media_managers(monkeypatch)


def test_a_panels_files_build_outside_the_script_and_a_failure_is_explained(media):
    """The panel's callables run on the download thread, where the session is gone: a result that reads
    ``st.session_state`` there fails, and the panel says which file and why on its next run."""
    at = AppTest.from_string(PANEL)
    at.session_state.spikes = 3
    at.run()
    buttons = {button.proto.label: button for button in at.get("download_button")}
    assert all(button.proto.ignore_rerun and button.proto.deferred_file_id for button in buttons.values())
    assert _rows(fetched(media[-1], buttons["table (CSV)"]).decode()) == [{"step": "0", "spike": "1"}]
    with pytest.raises(Exception, match="Callable execution failed"):
        fetched(media[-1], buttons["results (JSON)"])
    at.run()
    assert len(at.warning) == 1 and at.warning[0].value.startswith(
        "results \\(JSON\\) could not be made\\: AttributeError\\: st\\.session\\_state has no attribute")
