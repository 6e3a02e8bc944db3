"""What the Download buttons hand out (snn_app.training, snn_app.downloads): CSV and JSON of the run, the model and
standalone HTML figures; each file fetched as Streamlit's download thread fetches it, outside the script run."""
import csv
import io
import json
import threading

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.media_file_storage import MediaFileStorageError
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from download_fetch import fetched, keep_media_managers
from snn_app import downloads, training
from snn_core.checkpoint import read_model_file
from snn_core.config.run_config import RunConfig

PANEL = """
import streamlit as st
from snn_app import downloads
downloads.run_panel(st.session_state.trainer, st.session_state.losses)
"""
EAGER = {"history (CSV)", "metrics (CSV)", "config (JSON)", "model (safetensors)"}     # under 10 ms: built when drawn
LAZY = {"run (JSON)", "model (NIR)", "figures (HTML)"}        # evaluates the model, builds a graph, draws 4 figures


def test_history_csv_has_one_row_per_epoch_with_layer_rates(tiny, train_to_end):
    trainer, _ = train_to_end(tiny(epochs=2, train_samples=100))
    rows = list(csv.DictReader(io.StringIO(training.history_csv(trainer.history))))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[-1]["rate_fc1"]) == trainer.history[-1].layer_firing_rates["fc1"]
    assert float(rows[-1]["test_accuracy"]) == trainer.history[-1].test_accuracy


def test_metrics_csv_and_run_json_agree_with_the_cli_format(tiny, train_to_end):
    trainer, _ = train_to_end(tiny(epochs=2, train_samples=100))
    result = json.loads(training.result_json(trainer))
    assert set(result) == {"config", "history", "metrics", "data"}
    assert result["data"] == {"source": "digits (generated)", "class_names": [str(d) for d in range(10)]}
    assert RunConfig.from_dict(result["config"]) == trainer.cfg
    metrics = dict(line.split(",") for line in training.metrics_csv(trainer).strip().splitlines()[1:])
    assert float(metrics["test_accuracy"]) == result["metrics"]["test_accuracy"]
    assert "firing_rate_fc1" in metrics


def test_figures_html_is_standalone_and_holds_every_figure(tiny, train_to_end):
    trainer, losses = train_to_end(tiny(epochs=2, train_samples=100))
    page = training.figures_html(trainer, losses)
    assert page.startswith("<!DOCTYPE html>") and "SNN Explorer run: digits" in page
    assert page.count('class="plotly-graph-div"') == 4
    assert '<script src="https://cdn.plot.ly' not in page and len(page) > 1_000_000   # plotly.js embedded


@pytest.fixture
def media(monkeypatch):
    return keep_media_managers(monkeypatch)


def panel_run(trainer, losses) -> AppTest:
    at = AppTest.from_string(PANEL)
    at.session_state.trainer, at.session_state.losses = trainer, losses
    return at.run()


def test_every_run_download_builds_outside_the_script_and_holds_the_run(tiny, train_to_end, media):
    trainer, losses = train_to_end(tiny(epochs=1, train_samples=100))
    at = panel_run(trainer, losses)
    buttons = {button.proto.label: button for button in at.get("download_button")}
    assert set(buttons) == EAGER | LAZY and not at.exception
    assert {label for label, button in buttons.items() if button.proto.deferred_file_id} == LAZY
    assert all(button.proto.ignore_rerun for button in buttons.values())    # a click does not rerun the page
    files = {label: fetched(media[-1], button) for label, button in buttons.items()}
    assert files["history (CSV)"].decode().startswith("epoch,")
    assert files["metrics (CSV)"].decode().startswith("metric,value\n")
    assert RunConfig.from_dict(json.loads(files["config (JSON)"])) == trainer.cfg
    assert RunConfig.from_dict(json.loads(files["run (JSON)"])["config"]) == trainer.cfg
    assert read_model_file(files["model (safetensors)"]).cfg == trainer.cfg
    assert files["model (NIR)"].startswith(b"\x89HDF")                       # NIR's file is HDF5
    assert files["figures (HTML)"].decode().count('class="plotly-graph-div"') == 4


def test_a_lazy_download_that_fails_says_why_on_the_next_run(tiny, train_to_end, media, monkeypatch):
    trainer, losses = train_to_end(tiny(epochs=1, train_samples=100))
    at = panel_run(trainer, losses)

    def broken(*_):
        raise RuntimeError("the figure builder broke")

    monkeypatch.setattr(training, "figures_html", broken)
    figures = next(button for button in at.get("download_button") if button.proto.label == "figures (HTML)")
    with pytest.raises(MediaFileStorageError, match="Callable execution failed"):  # the button's red note
        fetched(media[-1], figures)
    at.run()
    assert [warning.value for warning in at.warning] == [
        "figures \\(HTML\\) could not be made\\: RuntimeError\\: the figure builder broke. Press the button again; if "
        "it fails again, the other files still download."]
    at.run()
    assert not at.warning                                                     # said once


def test_a_lazy_build_waits_for_the_run_lock_and_records_nothing_when_it_works():
    problems, lock, built = downloads.DownloadProblems(), threading.Lock(), threading.Event()
    download = downloads.lazy(lambda: built.set() or "file", "run (JSON)", "k", problems, lock)
    with lock:                                                                # a training step in progress
        thread = threading.Thread(target=download)
        thread.start()
        thread.join(timeout=0.2)
        assert not built.is_set()
    thread.join()
    assert built.is_set() and problems.take(["k"]) == []


def test_a_rerun_drops_a_lazy_file_but_keeps_an_unchanged_eager_one():
    """Streamlit's behaviour behind the eager/lazy choice: a lazy button's id lives for one script run; an eager
    file is named by its content, so a rerun drawing the same bytes keeps its address (and its file)."""
    manager = MediaFileManager(MemoryMediaFileStorage("/media"))
    lazy_id = manager.add_deferred(lambda: "late", "text/csv", "button")
    eager_url = manager.add(b"history", "text/csv", "eager", "history.csv", is_for_static_download=True)
    manager.clear_session_refs()                                              # the next full run starts ...
    manager.add_deferred(lambda: "late", "text/csv", "button")                # ... and draws the buttons again
    assert manager.add(b"history", "text/csv", "eager", "history.csv", is_for_static_download=True) == eager_url
    manager.remove_orphaned_files()                                           # ... and ends
    with pytest.raises(MediaFileStorageError, match="not found"):
        manager.execute_deferred(lazy_id)
    assert manager.read_file(eager_url.rsplit("/", 1)[1].split(".")[0]).content == b"history"


def test_the_panel_waits_for_the_first_epoch(tiny, media):
    from snn_core.training.trainer import Trainer

    at = panel_run(Trainer(tiny()), [])
    assert not at.get("download_button") and "first epoch" in at.caption[0].value
