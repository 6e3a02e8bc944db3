"""One real-browser test: serve the app on localhost, open every page in headless Chromium, press Play, upload a file.

The server, the browser and what a missing Chromium means are tests/browser/conftest.py's and tests/browser_app.py's.
"""

from browser_app import assert_no_exception, open_page, screenshot

PAGES = {"home": "", "playground": "playground", "train": "train", "explorer": "explorer", "recording": "recording",
         "compare": "compare", "redundancy": "redundancy", "ttfs": "ttfs", "trt": "trt"}


def assert_no_errors(page, name: str) -> None:
    """No exception box, traceback or error message on ``page`` (screenshot saved as ``name``)."""
    assert_no_exception(page, name)
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, f"{name} shows an error: {errors.all_inner_texts()}"


def test_every_page_opens_without_errors(page, server):
    for name, path in PAGES.items():
        open_page(page, server, path)
        assert_no_errors(page, name)


def test_play_trains_until_the_accuracy_chart_moves(page, server):
    open_page(page, server, PAGES["train"])
    page.get_by_role("button", name="Play").click()
    accuracy = page.locator("[data-testid='stMetric']").filter(has_text="test accuracy")
    accuracy.filter(has_text="%").wait_for(timeout=90_000)            # the first epoch closed
    assert_no_errors(page, "train-playing")
    page.get_by_text("epoch 10 of 10").wait_for(timeout=120_000)       # the default run trained to the end
    page.locator(".js-plotly-plot").nth(3).wait_for(timeout=30_000)  # the page re-renders once after the last step
    assert page.locator(".js-plotly-plot").count() >= 4
    assert_no_errors(page, "train-played")


def test_quick_start_on_home_trains_the_default_model(page, server):
    open_page(page, server, PAGES["home"])
    page.get_by_role("button", name="Train the default model").click()
    page.get_by_role("heading", name="Train & watch").wait_for(timeout=60_000)   # st.switch_page: no page load
    assert page.url.rstrip("/").endswith("/train")
    page.locator("[data-testid='stMetric']").filter(has_text="test accuracy").filter(has_text="%").wait_for(
        timeout=90_000)
    assert_no_errors(page, "quick-start")


def test_an_uploaded_nmnist_recording_shows_its_event_count(page, server, real_data):
    from snn_core.data.readers import describe, read_events

    path = sorted((real_data / "nmnist" / "Train" / "0").glob("*.bin"))[0]
    events = describe(read_events(path))["events"]
    open_page(page, server, PAGES["recording"])
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    page.locator("[data-testid='stMetric']").filter(has_text="events").filter(has_text=f"{events:,}").wait_for(
        timeout=60_000)
    page.get_by_text("Events over time", exact=True).wait_for(timeout=30_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=30_000)       # the framed recording too
    assert_no_errors(page, "recording-uploaded")


def test_compare_live_plays_a_twin_in_lockstep(page, server):
    open_page(page, server, f"{PAGES['train']}?epochs=2&train-samples=300&test-samples=100&T=4")
    page.get_by_text("Compare live").click()
    page.get_by_text("The twin differs in").wait_for(timeout=30_000)
    page.get_by_role("button", name="Play").click()
    page.get_by_text("epoch 2 of 2").wait_for(timeout=120_000)
    page.locator(".js-plotly-plot").nth(5).wait_for(timeout=30_000)      # the network view and the twin's charts
    assert page.locator("[data-testid='stMetricDelta']").count() >= 4     # twin − main, one per metric
    assert_no_errors(page, "train-twin")


def test_a_background_comparison_shows_its_progress_and_cancels(page, server):
    open_page(page, server, f"{PAGES['compare']}?T=4&epochs=60&train-samples=1437")
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("runs finished").first.wait_for(timeout=60_000)       # the status panel
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("cancelled after").wait_for(timeout=60_000)
    assert_no_errors(page, "compare-cancelled")


def test_dark_mode_reaches_the_figures(page, server):
    """A browser that prefers dark: Streamlit follows it, and so do the figures (snn_viz.style's dark colours)."""
    tab = page.context.browser.new_page(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
    try:
        open_page(tab, server, PAGES["playground"])
        tab.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        background = tab.evaluate("document.querySelector('.js-plotly-plot')._fullLayout.paper_bgcolor")
        screenshot(tab, "dark")
    finally:
        tab.close()
    if background.startswith("#"):
        channels = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    else:                                                                  # rgb(r, g, b) or rgba(...)
        channels = [int(float(part)) for part in background[background.index("(") + 1:-1].split(",")[:3]]
    assert max(channels) < 80, f"a dark page's figure background is {background}"


TRUNCATED = """() => {
    const cut = el => el.scrollWidth > el.clientWidth + 1;
    const out = [];
    for (const el of document.querySelectorAll("[data-testid='stMain'] button p, [data-testid='stMetricLabel'] p, "
                                               + "[data-testid='stMetricLabel'] div"))
        if (cut(el) && el.innerText.trim()) out.push(el.innerText.trim());
    for (const plot of document.querySelectorAll('.js-plotly-plot')) {
        const width = plot.getBoundingClientRect();
        for (const text of plot.querySelectorAll('.gtitle, .g-xtitle text, .g-ytitle text')) {
            const box = text.getBoundingClientRect();
            if (box.width && (box.left < width.left - 1 || box.right > width.right + 1)) out.push(text.textContent);
        }
    }
    return out;
}"""


def test_train_and_watch_is_readable_on_a_1024_px_projector(page, server):
    """At 1024×768 every button label, metric label and chart title on Train & watch reads whole (no "P…")."""
    tab = page.context.browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        open_page(tab, server, f"{PAGES['train']}?epochs=1&train-samples=300&test-samples=100")
        tab.get_by_role("button", name="Play").click()
        tab.locator("button:disabled", has_text="Play").wait_for(timeout=120_000)      # finished
        tab.locator(".js-plotly-plot").nth(3).wait_for(timeout=30_000)
        screenshot(tab, "train-1024", full_page=True)
        assert tab.evaluate(TRUNCATED) == []
        assert_no_errors(tab, "train-1024")
    finally:
        tab.close()


def test_the_twin_survives_a_visit_to_another_page(page, server):
    open_page(page, server, f"{PAGES['train']}?epochs=2&train-samples=300&test-samples=100&T=4")
    page.get_by_text("Compare live").click()
    page.get_by_text("The twin differs in").wait_for(timeout=30_000)
    page.get_by_role("button", name="Step").click()
    page.get_by_text("twin (max-spikes=1)", exact=True).wait_for(timeout=60_000)
    page.get_by_role("link", name="Neuron playground").click()
    page.get_by_role("heading", name="Neuron playground").wait_for(timeout=30_000)
    page.get_by_role("link", name="Train & watch").click()
    page.get_by_text("twin (max-spikes=1)", exact=True).wait_for(timeout=30_000)   # the same twin, still beside the run
    assert page.get_by_text("from the same start").count() == 1                # not re-forked at the current step
    assert page.get_by_role("switch", name="Compare live").is_checked()
    assert_no_errors(page, "twin-after-navigation")


def test_a_challenge_from_home_reaches_its_goal(page, server):
    """Home's "Shrink the network, keep 90%" link: its preset trained with Play meets the goal, and the banner says
    so (snn_app/challenges.py checks the run's own epochs)."""
    from snn_app import url_state

    query = "&".join(f"{key}={value}" for key, value in url_state.challenge_params("small-net").items())
    open_page(page, server, f"{PAGES['train']}?{query}")
    page.get_by_text("Challenge: Shrink the network").wait_for(timeout=30_000)
    page.get_by_role("button", name="Play").click()
    page.locator("button:disabled", has_text="Play").wait_for(timeout=180_000)      # trained to the end
    page.get_by_text("Goal reached").wait_for(timeout=30_000)
    assert_no_errors(page, "challenge-reached")
