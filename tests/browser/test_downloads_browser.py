"""Downloads in a real browser: every file of Train & watch's "Download this run" panel and of the Neuron
playground's "Download these results" panel arrives in headless Chromium and holds what its name promises.

The server and page fixtures follow tests/browser/test_browser.py (Debian's /usr/bin/chromium; skipped with the
reason where it is missing, a failure in CI). Screenshots go to the git-ignored artifacts/ folder.
"""
import csv
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from snn_core.checkpoint import read_model_file
from snn_core.config.run_config import RunConfig

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
TINY_RUN = "train?epochs=1&train-samples=200&test-samples=100&T=4"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: `make test` should have installed Debian's chromium")
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the browser "
                "test", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer on localhost within 60 s")
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield tab
        browser.close()


def open_page(page, server: str, path: str) -> None:
    page.goto(f"{server}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    page.wait_for_load_state("networkidle")


def downloaded(page, label: str, file_name: str) -> bytes:
    """Press the download button ``label`` and return the file the browser saved (its name checked); a lazy
    file that could not be made fails here with the red note Streamlit shows under the button."""
    button = page.locator("[data-testid='stDownloadButton']").filter(has_text=label)
    try:
        with page.expect_download(timeout=60_000) as arrival:
            button.get_by_role("button").click()
    except sync_api.TimeoutError:
        note = button.locator("[data-testid='stDownloadButtonError']")
        pytest.fail(f"{label} did not download: {note.all_inner_texts() or 'no note under the button'}")
    download = arrival.value
    assert download.suggested_filename == file_name and download.failure() is None
    return Path(download.path()).read_bytes()


def safetensors_metadata(data: bytes) -> dict:
    """The JSON header of a safetensors file: 8 bytes of little-endian length, then that many bytes of JSON."""
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + length])["__metadata__"]


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"))


def assert_no_errors(page, name: str) -> None:
    screenshot(page, name)
    assert page.locator("[data-testid='stException']").count() == 0, f"{name} shows an exception"
    assert page.locator("[data-testid='stDownloadButtonError']").count() == 0, f"{name}: a download failed"
    assert "Traceback" not in page.inner_text("body")


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
