"""Shared by the real-browser tests (tests/browser/): the app served on localhost by ``streamlit run``, Debian's
Chromium, and what every test does with a page (open it, screenshot it into the git-ignored artifacts/ folder,
check it shows no exception). The fixtures that use these are in tests/browser/conftest.py."""
import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_app() -> Iterator[str]:
    """The app on a free localhost port, its URL, until the block ends; RuntimeError if it does not answer its
    health check within ``START_SECONDS``."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer on localhost within {START_SECONDS} s") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def open_page(page, server: str, path: str) -> None:
    page.goto(f"{server}/{path}")
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    page.wait_for_load_state("networkidle")


def screenshot(page, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-{name}.png"), full_page=full_page)


def assert_no_exception(page, name: str) -> None:
    """Screenshot ``page`` as ``name``, then: no exception box, no traceback in the text."""
    screenshot(page, name)
    assert page.locator("[data-testid='stException']").count() == 0, f"{name} shows an exception"
    assert "Traceback" not in page.inner_text("body")
