"""Shared test helpers: open an app script under Streamlit's AppTest with settings in its URL."""
import re
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_script(script: str, query: dict | None = None, timeout: float = 60) -> AppTest:
    """Run ``script`` (relative to the repo root) once, with ``query`` as the URL's query parameters."""
    at = AppTest.from_file(str(ROOT / script), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def shown_text(markdown: str) -> str:
    """What a message reads as on the page: the app escapes user text (``snn_app.text.escape_markdown``), so the
    Markdown holds backslashes and zero-width spaces that the reader never sees."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def wait_for_training(at: AppTest, timeout: float = 120) -> AppTest:
    """Wait until Train & watch's background thread (``snn_app.live``) has stopped playing (finished, paused or
    failed), then run the page again, as its refresh would."""
    live = at.session_state.live
    deadline = time.monotonic() + timeout
    while live.playing and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not live.playing, f"still training after {timeout} s"
    return at.run()
