"""Downloads in a real browser: every file of Train & watch's "Download this run" panel and of the Neuron
playground's "Download these results" panel arrives in headless Chromium and holds what its name promises.

The server and page fixtures are tests/browser/conftest.py's (Debian's /usr/bin/chromium; skipped with the reason
where it is missing, a failure in CI).
"""
import csv
import io
import json
import struct
from pathlib import Path

import pytest

from browser_app import assert_no_exception, open_page
from snn_core.checkpoint import read_model_file
from snn_core.config.run_config import RunConfig

TINY_RUN = "train?epochs=1&train-samples=200&test-samples=100&T=4"


def downloaded(page, label: str, file_name: str) -> bytes:
    """Press the download button ``label`` and return the file the browser saved (its name checked); a lazy
    file that could not be made fails here with the red note Streamlit shows under the button."""
    from playwright.sync_api import TimeoutError as Timeout  # installed: the page fixture needs it

    button = page.locator("[data-testid='stDownloadButton']").filter(has_text=label)
    try:
        with page.expect_download(timeout=60_000) as arrival:
            button.get_by_role("button").click()
    except Timeout:
        note = button.locator("[data-testid='stDownloadButtonError']")
        pytest.fail(f"{label} did not download: {note.all_inner_texts() or 'no note under the button'}")
    download = arrival.value
    assert download.suggested_filename == file_name and download.failure() is None
    return Path(download.path()).read_bytes()


def safetensors_metadata(data: bytes) -> dict:
    """The JSON header of a safetensors file: 8 bytes of little-endian length, then that many bytes of JSON."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length])["__metadata__"]


def assert_no_errors(page, name: str) -> None:
    assert_no_exception(page, name)
    assert page.locator("[data-testid='stDownloadButtonError']").count() == 0, f"{name}: a download failed"


def test_every_file_of_a_trained_run_downloads_with_its_content(page, server):
    open_page(page, server, TINY_RUN)
    page.get_by_role("button", name="Play").click()
    panel = page.get_by_text("Download this run")          # appears once the run has trained and stopped
    panel.wait_for(timeout=120_000)
    panel.click()
    page.locator("[data-testid='stDownloadButton']").first.wait_for(timeout=30_000)

    history = list(csv.DictReader(io.StringIO(downloaded(page, "history (CSV)", "history.csv").decode())))
    assert [row["epoch"] for row in history] == ["1"] and "test_accuracy" in history[0]
    metrics = downloaded(page, "metrics (CSV)", "metrics.csv").decode()
    assert metrics.startswith("metric,value\n") and "\ntest_accuracy," in metrics
    run = json.loads(downloaded(page, "run (JSON)", "run.json"))
    assert RunConfig.from_dict(run["config"]).data.train_samples == 200 and len(run["history"]) == 1
    config = RunConfig.from_dict(json.loads(downloaded(page, "config (JSON)", "config.json")))
    assert (config.training.epochs, config.data.train_samples, config.data.time_steps) == (1, 200, 4)
    model = downloaded(page, "model (safetensors)", "model.safetensors")
    assert safetensors_metadata(model) and read_model_file(model).cfg == config
    assert downloaded(page, "model (NIR)", "model.nir").startswith(b"\x89HDF\r\n\x1a\n")     # NIR's file is HDF5
    figures = downloaded(page, "figures (HTML)", "figures.html").decode()
    assert figures.startswith("<!DOCTYPE html>") and figures.count('class="plotly-graph-div"') == 4
    panel.scroll_into_view_if_needed()
    assert_no_errors(page, "downloads-train")


def test_the_playground_results_download_as_json_and_csv(page, server):
    open_page(page, server, "playground")
    page.get_by_text("Download these results").click()
    page.locator("[data-testid='stDownloadButton']").first.wait_for(timeout=30_000)
    names = page.locator("[data-testid='stDownloadButton']").all_inner_texts()
    assert len(names) == 2, names
    result = json.loads(downloaded(page, "results (JSON)", "neuron-constant.json"))
    assert {"input", "steps", "neuron", "spikes"} <= set(result)
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "table (CSV)", "neuron-constant.csv").decode())))
    assert len(rows) == result["steps"] and set(rows[0]) == {"step", "current", "v_pre", "v_post", "spike"}
    assert_no_errors(page, "downloads-playground")
