"""Soak benchmark: N browser sessions training at once on one Streamlit server, its memory before, during and after.

    python benchmarks/sessions.py [--sessions 5] [--seconds 45] [--rounds 3] [--out docs/SESSIONS.md]

Many users share one server process (issue #15), so what one session trains must neither leak into another nor stay
in memory once its tab is closed. A real server (``streamlit run app.py`` on 127.0.0.1) and real tabs (headless
Chromium driven by Playwright) are used rather than AppTest, because AppTest runs one session in-process and cannot
show the server's threads contending or its memory after a websocket closes. Each tab opens ``/train`` with its own
settings in the link (hidden width, seed, T) and presses Play; every second the server's RSS (``VmRSS`` of the
process and its children) is sampled; at the end each tab's progress line, link and sidebar are read back and
compared with what that tab asked for; then the tabs close and the RSS is read again after ``SETTLE_SECONDS``.
The times are wall-clock under whatever else runs on the machine: the load average is recorded with them.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SETTLE_SECONDS = 10           # after the tabs close: Streamlit drops a session once its websocket has gone
EPOCHS = 500                  # long enough that no tab finishes within the soak
PROGRESS = re.compile(r"(?P<describe>\S.*?) — epoch (?P<epoch>\d+) of (?P<epochs>\d+), step (?P<step>[\d,]+) of")


def session_settings(index: int) -> dict[str, str]:
    """Tab ``index``'s own settings (all different, all small enough to step quickly on a shared CPU)."""
    return {"hidden": str(16 + 8 * index), "seed": str(100 + index), "T": str(4 + index % 3), "epochs": str(EPOCHS)}


def expected_describe(settings: dict[str, str]) -> str:
    """The start of the progress line (``snn_app.training.describe``) for a tab's settings on digits."""
    return f"digits · mlp [{settings['hidden']}] · T={settings['T']} · {EPOCHS} epochs · seed {settings['seed']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and its descendants in MB (``VmRSS`` from /proc; a process that just left counts 0)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total / 1024


def start_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("streamlit did not answer on localhost within 90 s")


class Sampler(threading.Thread):
    """Samples the server's RSS every second until stopped (a thread: Playwright's sync API owns the main one)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.samples, self.halt = pid, [], threading.Event()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            self.samples.append(tree_rss_mb(self.pid))


def read_back(tab, settings: dict[str, str]) -> dict:
    """What a tab shows after the soak: its progress line, its link's settings and its sidebar's, each compared
    with what the tab asked for."""
    line = tab.locator("[data-testid='stProgress']").first.inner_text(timeout=30_000)
    found = PROGRESS.search(line)
    query = {key: values[-1] for key, values in parse_qs(urlparse(tab.url).query).items()}
    sidebar = tab.locator("[data-testid='stSidebar']")
    shown = {"hidden": sidebar.get_by_label("hidden", exact=True).input_value(),
             "seed": sidebar.get_by_label("seed", exact=True).input_value()}
    own_link = all(query.get(key) == value for key, value in settings.items())
    own_sidebar = shown == {"hidden": settings["hidden"], "seed": settings["seed"]}
    own_run = bool(found) and found["describe"] == expected_describe(settings)
    return {"settings": settings, "progress": line.strip(), "epoch": int(found["epoch"]) if found else None,
            "steps": int(found["step"].replace(",", "")) if found else None, "link": query, "sidebar": shown,
            "errors": tab.locator("[data-testid='stException'], [data-testid='stAlertContentError']").count(),
            "isolated": own_link and own_sidebar and own_run}


def one_round(browser, url: str, server_pid: int, sessions: int, seconds: float) -> dict:
    """``sessions`` tabs training together for ``seconds``, read back, closed; RSS sampled throughout."""
    before = tree_rss_mb(server_pid)
    sampler = Sampler(server_pid)
    sampler.start()
    tabs, wanted = [], [session_settings(i) for i in range(sessions)]
    for settings in wanted:
        tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        tab.goto(f"{url}/train?" + "&".join(f"{k}={v}" for k, v in settings.items()))
        tab.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
        tabs.append(tab)
    for tab in tabs:
        tab.get_by_role("button", name="Play").click(timeout=60_000)
    started = time.monotonic()
    time.sleep(seconds)
    results = [read_back(tab, settings) for tab, settings in zip(tabs, wanted)]
    elapsed = time.monotonic() - started
    load = os.getloadavg()
    for tab in tabs:
        tab.context.close()
    time.sleep(SETTLE_SECONDS)
    sampler.halt.set()
    sampler.join()
    return {"seconds": round(elapsed, 1), "rss_before_mb": round(before, 1),
            "rss_peak_mb": round(max(sampler.samples, default=before), 1),
            "rss_after_mb": round(tree_rss_mb(server_pid), 1), "rss_samples_mb": [round(x, 1) for x in sampler.samples],
            "isolated": sum(r["isolated"] for r in results), "progressed": sum((r["steps"] or 0) > 0 for r in results),
            "load_average": [round(x, 2) for x in load], "per_session": results}


def soak(sessions: int, seconds: float, rounds: int) -> dict:
    """``rounds`` soaks one after another on one server (a leak shows as RSS after a round growing round by round)."""
    port = free_port()
    load_start = os.getloadavg()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            warm = browser.new_page()                       # first script run pays the imports: not a session's cost
            warm.goto(f"{url}/train")
            warm.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
            warm.close()
            time.sleep(SETTLE_SECONDS)
            results = [one_round(browser, url, server.pid, sessions, seconds) for _ in range(rounds)]
            browser.close()
        alive = server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"sessions": sessions, "seconds": seconds, "rounds": results, "server_alive": alive,
            "isolated": sum(r["isolated"] for r in results), "progressed": sum(r["progressed"] for r in results),
            "total_sessions": sessions * rounds, "load_average_start": [round(x, 2) for x in load_start],
            "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}


def growth(rounds: list[dict]) -> str:
    """How the RSS after each round moved from the round before, in words."""
    after = [x["rss_after_mb"] for x in rounds]
    steps = [f"{b - a:+.0f} MB" for a, b in zip(after, after[1:])]
    return f"{', then '.join(steps)} from round to round" if steps else "one round only, so no trend"


def markdown(result: dict) -> str:
    r, rounds = result, result["rounds"]
    lines = ["# Concurrent sessions (soak)", "",
             f"Measured by `python benchmarks/sessions.py --sessions {r['sessions']} --seconds {r['seconds']:g} "
             f"--rounds {len(rounds)}` on {r['machine']}, {r['date']}: one `streamlit run app.py` server on "
             f"127.0.0.1; in each round {r['sessions']} headless Chromium tabs (Playwright) open `/train`, each with "
             f"its own settings in the link, press Play at once and train together for {r['seconds']:g} s, then "
             f"close. Load average (1, 5, 15 min) {', '.join(map(str, r['load_average_start']))} at the start, and "
             "per round below: another job was running on the machine (its cores are shared), so the steps are a "
             "floor, not the app's speed.", "",
             f"**{r['isolated']} of {r['total_sessions']} sessions isolated, {r['progressed']} of "
             f"{r['total_sessions']} progressed, server {'alive' if r['server_alive'] else 'DEAD'} at the end.**", "",
             "| round | server RSS before | peak during | after the tabs closed (+10 s) | isolated | progressed | "
             "load average during |", "|---|---|---|---|---|---|---|"]
    for i, x in enumerate(rounds):
        lines.append(f"| {i + 1} | {x['rss_before_mb']:.0f} MB | {x['rss_peak_mb']:.0f} MB | "
                     f"{x['rss_after_mb']:.0f} MB | {x['isolated']} of {r['sessions']} | {x['progressed']} of "
                     f"{r['sessions']} | {', '.join(map(str, x['load_average']))} |")
    lines += ["", "RSS is `VmRSS` of the server process and its children, sampled every second (before the first "
              "round: after one warm-up tab has loaded the imports and closed). *Isolated*: the tab's progress line "
              "names its own run (hidden width, T, epochs, seed), its link still holds its own settings, and its "
              "sidebar shows its own `hidden` and `seed`; *progressed*: its step count is above 0. Memory the "
              "server keeps after the tabs close (imported modules, shared caches, the allocator's free lists) is "
              "not a leak by itself; a leak shows as *after* growing from one round to the next: here "
              f"{growth(rounds)}.", "",
              f"Per tab, last round ({len(rounds)}):", "",
              "| tab | its settings (link) | epoch | steps | progress line | errors shown | isolated |",
              "|---|---|---|---|---|---|---|"]
    for i, s in enumerate(rounds[-1]["per_session"]):
        asked = " ".join(f"{k}={v}" for k, v in s["settings"].items())
        lines.append(f"| {i + 1} | `{asked}` | {s['epoch']} | {s['steps']} | {s['progress']} | {s['errors']} | "
                     f"{'yes' if s['isolated'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--rounds", type=int, default=3, help="soaks one after another on one server")
    parser.add_argument("--out", default=str(ROOT / "docs" / "SESSIONS.md"))
    args = parser.parse_args()
    result = soak(args.sessions, args.seconds, args.rounds)
    Path(args.out).write_text(markdown(result))
    Path(args.out).with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))


if __name__ == "__main__":
    main()
