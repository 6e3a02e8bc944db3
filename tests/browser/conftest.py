"""The real-browser tests' fixtures: the app served on localhost for a test module, and one headless Chromium page
on it (downloads accepted). Chromium is Debian's (/usr/bin/chromium; `make test` installs it when it can): outside
CI a machine without it skips these tests with the reason; in CI (CI=true) a missing browser is a failure."""
import os

import pytest

from browser_app import CHROMIUM, CHROMIUM_ARGS, served_app


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: `make test` should have installed Debian's chromium")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium) to run the "
                    "browser tests")


@pytest.fixture(scope="module")
def server():
    require_chromium()
    try:
        with served_app() as url:
            yield url
    except RuntimeError as problem:
        pytest.fail(str(problem))


@pytest.fixture(scope="module")
def page(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        browser.close()
