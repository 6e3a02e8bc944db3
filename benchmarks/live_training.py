"""Live training in a real browser against the engine alone: how long Train & watch takes to train the default
digits run from the Play click to its last epoch, with and without a Compare live twin, and how fast the page answers
a click while it trains.

    python benchmarks/live_training.py [--repeats 3] [--out docs/LIVE_TRAINING.md]

The engine's time is the same config trained in a fresh process (``Trainer(cfg)`` then ``step()`` to the end, test
evaluation after each epoch included, as the CLI's ``train`` does), timed around the training only. The browser's
time is headless Chromium on a real ``streamlit run app.py`` server on 127.0.0.1, from the click on Play until the
page shows the run finished (Play disabled), construction of the run included. A click's answer time is Pause
clicked while a long run plays, until the button reads Play (a server round trip), and back. Targets (issue 27):
browser ≤ 1.5× the engine for one run, ≤ 3× with a twin; a click answered within 300 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
SINGLE_FACTOR, TWIN_FACTOR, CLICK_TARGET_MS = 1.5, 3.0, 300
ENGINE_RUN = """
import time
from snn_core.config.run_config import RunConfig
from snn_core.runtime import configure_threads
from snn_core.training.trainer import Trainer
configure_threads()
started = time.perf_counter()
trainer = Trainer(RunConfig())
while not trainer.finished:
    trainer.step()
print(time.perf_counter() - started)
"""


def engine_seconds() -> float:
    """The default run trained in a fresh process (the data already on disk from an earlier use)."""
    out = subprocess.run([sys.executable, "-c", ENGINE_RUN], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("streamlit did not answer within 60 s")


def open_train(browser, url: str, query: str = ""):
    tab = browser.new_page(viewport={"width": 1400, "height": 1000})
    tab.goto(f"{url}/train{query}")
    tab.get_by_role("button", name="Play").wait_for(timeout=60_000)
    tab.wait_for_load_state("networkidle")
    return tab


def played_to_end(tab) -> float:
    """Seconds from the click on Play until the finished page (Play disabled)."""
    started = time.perf_counter()
    tab.get_by_role("button", name="Play").click()
    tab.get_by_role("button", name="Pause").wait_for(timeout=30_000)
    tab.locator("button:disabled", has_text="Play").wait_for(timeout=600_000)
    return time.perf_counter() - started


def browser_seconds(browser, url: str, twin: bool) -> float:
    tab = open_train(browser, url)
    try:
        if twin:
            tab.get_by_text("Compare live").click()
            tab.get_by_text("The twin differs in").wait_for(timeout=30_000)
            tab.wait_for_load_state("networkidle")
        return played_to_end(tab)
    finally:
        tab.close()


def click_answers(browser, url: str, clicks: int) -> dict[str, list[float]]:
    """Milliseconds from a click to the button's new label on a long run: Pause while it trains, Play while it is
    paused (the page then idle), alternately."""
    tab = open_train(browser, url, "?epochs=200")
    times: dict[str, list[float]] = {"Pause": [], "Play": []}
    try:
        tab.get_by_role("button", name="Play").click()
        tab.get_by_role("button", name="Pause").wait_for(timeout=60_000)
        time.sleep(2)                                         # training under way, charts drawing
        for index in range(clicks):
            now, then = ("Pause", "Play") if index % 2 == 0 else ("Play", "Pause")
            started = time.perf_counter()
            tab.get_by_role("button", name=now).click()
            tab.get_by_role("button", name=then).wait_for(timeout=30_000)
            times[now].append((time.perf_counter() - started) * 1e3)
            time.sleep(1.0)
    finally:
        tab.close()
    return times


def markdown(result: dict) -> str:
    engine, single, twin, clicks = (result[k] for k in ("engine_s", "browser_s", "twin_s", "click_ms"))
    e, s, t = statistics.median(engine), statistics.median(single), statistics.median(twin)
    pause, play = clicks["Pause"], clicks["Play"]
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    return "\n".join([
        "# Live training in the browser", "",
        f"Measured by `python benchmarks/live_training.py --repeats {len(single)} --clicks "
        f"{len(clicks['Pause']) + len(clicks['Play'])}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; load average "
        f"{result['load']:.1f} when it started. Headless Chromium on a local `streamlit run app.py`; the default "
        "digits run (MLP, 10 epochs). Train & watch trains in the session's background thread and the page redraws "
        "a few times a second (snn_app/live.py), so the browser's time is the engine's plus what drawing takes "
        "from it on a shared CPU. The engine row builds its run in a fresh process (the data read and prepared "
        "there); the server already holds the data from its warm-up run, so the browser can come out under it.", "",
        "| what | median | all runs | target |", "|---|---|---|---|",
        f"| engine alone: build the run, train to the end (fresh process) | {e:.1f} s | "
        f"{', '.join(f'{v:.1f}' for v in engine)} s | reference |",
        f"| browser: Play click → finished | {s:.1f} s ({s / e:.2f}×) | {', '.join(f'{v:.1f}' for v in single)} s "
        f"| ≤ {SINGLE_FACTOR:g}× engine: {verdict(s <= SINGLE_FACTOR * e)} |",
        f"| browser with a Compare live twin (K = 1): Play click → both finished | {t:.1f} s ({t / e:.2f}×) | "
        f"{', '.join(f'{v:.1f}' for v in twin)} s | ≤ {TWIN_FACTOR:g}× engine: {verdict(t <= TWIN_FACTOR * e)} |",
        *(f"| {what} | {statistics.median(values):.0f} ms (max {max(values):.0f}) | "
          f"{', '.join(f'{v:.0f}' for v in values)} ms | ≤ {CLICK_TARGET_MS} ms: "
          f"{verdict(statistics.median(values) <= CLICK_TARGET_MS)} |"
          for what, values in (("a click on Pause while training, until the button reads Play", pause),
                               ("a click on Play while paused, until the button reads Pause", play))),
        ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clicks", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "docs" / "LIVE_TRAINING.md"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    result = {"load": os.getloadavg()[0], "engine_s": [], "browser_s": [], "twin_s": []}
    engine_seconds()                                           # the data on disk once, outside the timings
    proc, url = serve()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            browser_seconds(browser, url, twin=False)          # warm-up: the server's first run imports torch
            for _ in range(args.repeats):                      # interleaved, so a change of load hits all alike
                result["engine_s"].append(engine_seconds())
                result["browser_s"].append(browser_seconds(browser, url, twin=False))
                result["twin_s"].append(browser_seconds(browser, url, twin=True))
            result["click_ms"] = click_answers(browser, url, args.clicks)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = markdown(result)
    Path(args.out).write_text(text)
    Path(args.out).with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
