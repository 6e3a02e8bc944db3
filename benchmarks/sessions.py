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

    python benchmarks/sessions.py --hostile [--sessions 6] [--seconds 30] [--budget-mb 700] [--overhead-mb 400]

``--hostile`` (issue: the memory budget was per run, so sessions together went far past it): the server runs with
``SNN_MEMORY_BUDGET_MB=--budget-mb``; each tab first opens a hostile file on Open a recording (a zip whose member
names are Markdown links and images, a zip bomb of zeros that decodes to hundreds of MB, a large EVT 2.0 file, a
truncated AEDAT 4, a ``.npy`` whose header claims a huge array; made in a temporary folder), checks that no link or
image to the file's "evil" address was rendered, then goes to Train & watch in the same session and presses Play
with a run sized so that all the tabs together ask for more than the budget. The server's RSS is sampled and its
peak over the RSS before the round is compared with the budget plus ``--overhead-mb`` (what the server needs beyond
the runs' and files' estimates: Streamlit's per-session state, figures, the allocator's slack); each tab's outcome
(file opened or refused, run trained or refused by the shared budget, with the message) is recorded.
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
import zipfile
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


def start_server(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
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
    return {"seconds": round(elapsed, 1), **closed(tabs, sampler, before, server_pid),
            "isolated": sum(r["isolated"] for r in results), "progressed": sum((r["steps"] or 0) > 0 for r in results),
            "per_session": results}


def closed(tabs: list, sampler, before: float, server_pid: int) -> dict:
    """Close the tabs, let the server settle, stop sampling; the round's load average and server RSS (MB)."""
    load = os.getloadavg()
    for tab in tabs:
        tab.context.close()
    time.sleep(SETTLE_SECONDS)
    sampler.halt.set()
    sampler.join()
    return {"rss_before_mb": round(before, 1), "rss_peak_mb": round(max(sampler.samples, default=before), 1),
            "rss_after_mb": round(tree_rss_mb(server_pid), 1), "rss_samples_mb": [round(x, 1) for x in sampler.samples],
            "load_average": [round(x, 2) for x in load]}


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


# ------------------------------------------------------------------------------------------------ --hostile

EVIL = "evil.example"
HOSTILE_TRAIN = {"hidden": "512,512", "T": "16", "batch-size": "128", "epochs": str(EPOCHS)}   # ~250 MB each
SAMPLES = ROOT / "data" / "samples"


def hostile_files(folder: Path, bomb_mb: int = 48) -> list[Path]:
    """The files the tabs open, made in ``folder``: hostile names, a zip bomb, a large file, broken headers."""
    nmnist = (SAMPLES / "nmnist" / "Train" / "0" / "00002.bin").read_bytes()
    names = folder / "names.zip"
    with zipfile.ZipFile(names, "w") as out:
        for name in (f"[x](http://{EVIL}/link).bin", f"![i](http://{EVIL}/img.png).bin",
                     f"<img src=http://{EVIL}/raw.png>.bin"):
            out.writestr(name, nmnist)
    bomb = folder / "bomb.zip"                       # zeros: a few hundred KB that decode to ~bomb_mb / 5 * 32 MB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("zeros.bin", b"\0" * (bomb_mb * 2**20))
    evt2 = (SAMPLES / "dvs_recordings" / "prophesee_gen3_evt2.raw").read_bytes()
    body = evt2.index(b"\n", evt2.rindex(b"% ")) + 1          # after the last header line
    large = folder / "large_evt2.raw"
    large.write_bytes(evt2[:body] + evt2[body:] * 8)
    truncated = folder / "truncated.aedat4"
    truncated.write_bytes((SAMPLES / "dvs_recordings" / "inivation_320x240.aedat4").read_bytes()[:4096])
    claims = folder / "claims_huge.npy"
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (4000000000,), }"
    claims.write_bytes(b"\x93NUMPY\x01\x00" + len(header.ljust(118) + "\n").to_bytes(2, "little")
                       + (header.ljust(118) + "\n").encode() + b"\0" * 64)
    return [names, bomb, large, truncated, claims]


def open_hostile(tab, url: str, path: Path, settings: dict[str, str]) -> dict:
    """Open ``path`` on Open a recording in a new session with ``settings`` in its link; what the page said."""
    tab.goto(f"{url}/recording?" + "&".join(f"{k}={v}" for k, v in settings.items()))
    tab.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
    field = tab.get_by_role("textbox", name="or a file on this machine", exact=True)
    field.wait_for(state="visible", timeout=60_000)
    field.fill(str(path))
    field.press("Enter")
    main = tab.locator("[data-testid='stMain']")
    main.locator("[data-testid='stAlertContentError'], [data-testid='stMetric']").first.wait_for(timeout=90_000)
    errors = main.locator("[data-testid='stAlertContentError']")
    message = errors.first.inner_text() if errors.count() else ""
    evil = tab.locator(f"a[href*='{EVIL}'], img[src*='{EVIL}']").count()
    return {"file": path.name, "opened": not message, "message": message.strip()[:400], "evil_rendered": evil,
            "refused_by_budget": "memory budget is shared" in message}


def train_after(tab, seconds_left: float) -> dict:
    """Go to Train & watch in the same session and press Play; read back after the soak."""
    tab.locator("[data-testid='stSidebarNav'] a", has_text="Train & watch").click(timeout=60_000)
    tab.wait_for_selector("[data-testid='stMain'] h1:has-text('Train & watch')", timeout=90_000)
    tab.get_by_role("button", name="Play").click(timeout=60_000)
    return {}


def read_training(tab) -> dict:
    main = tab.locator("[data-testid='stMain']")
    errors = main.locator("[data-testid='stAlertContentError']")
    message = errors.first.inner_text() if errors.count() else ""
    progress = main.locator("[data-testid='stProgress']")
    line = progress.first.inner_text() if progress.count() else ""
    found = PROGRESS.search(line)
    return {"steps": int(found["step"].replace(",", "")) if found else 0, "progress": line.strip(),
            "describe": found["describe"] if found else None,
            "train_message": message.strip()[:400], "train_refused_by_budget": "memory budget is shared" in message,
            "exceptions": tab.locator("[data-testid='stException']").count()}


def hostile_round(browser, url: str, server_pid: int, sessions: int, seconds: float, files: list[Path]) -> dict:
    """``sessions`` tabs: each opens a hostile file, then trains; RSS sampled throughout."""
    before = tree_rss_mb(server_pid)
    sampler = Sampler(server_pid)
    sampler.start()
    tabs, results = [], []
    for index in range(sessions):
        settings = {**HOSTILE_TRAIN, "seed": str(100 + index)}
        tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        results.append({"settings": settings, **open_hostile(tab, url, files[index % len(files)], settings)})
        tabs.append(tab)
    for tab in tabs:
        train_after(tab, seconds)
    time.sleep(seconds)
    for result, tab in zip(results, tabs):
        result.update(read_training(tab))
        wanted = expected_describe({**result["settings"], "hidden": result["settings"]["hidden"].replace(",", ", ")})
        result["own_run"] = result["describe"] in (None, wanted)          # None: no run (refused)
    return {**closed(tabs, sampler, before, server_pid), "per_session": results}


def hostile_soak(sessions: int, seconds: float, budget_mb: float, overhead_mb: float) -> dict:
    import tempfile

    sys.path.insert(0, str(ROOT))
    from snn_core.config.budget import run_bytes
    from snn_core.config.run_config import RunConfig
    from snn_core.settings import MEMORY_BUDGET_MB

    estimate_mb = run_bytes(RunConfig().with_values(HOSTILE_TRAIN)) / 2**20
    port = free_port()
    server = start_server(port, {MEMORY_BUDGET_MB.name: str(budget_mb)})
    url = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="snn-hostile-") as folder, sync_playwright() as playwright:
            files = hostile_files(Path(folder))
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            warm = browser.new_page()
            warm.goto(f"{url}/train")
            warm.wait_for_selector("[data-testid='stMain'] h1", timeout=90_000)
            warm.close()
            time.sleep(SETTLE_SECONDS)
            round_ = hostile_round(browser, url, server.pid, sessions, seconds, files)
            browser.close()
        alive = server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    growth_mb = round_["rss_peak_mb"] - round_["rss_before_mb"]
    return {"sessions": sessions, "seconds": seconds, "budget_mb": budget_mb, "overhead_mb": overhead_mb,
            "run_estimate_mb": round(estimate_mb, 1), "asked_mb": round(sessions * estimate_mb, 1),
            "peak_over_before_mb": round(growth_mb, 1), "within": growth_mb <= budget_mb + overhead_mb,
            "server_alive": alive, "round": round_, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"}


def hostile_markdown(r: dict) -> str:
    x = r["round"]
    per = x["per_session"]
    lines = ["# Hostile files and a shared memory budget (soak)", "",
             f"Measured by `python benchmarks/sessions.py --hostile --sessions {r['sessions']} --seconds "
             f"{r['seconds']:g} --budget-mb {r['budget_mb']:g} --overhead-mb {r['overhead_mb']:g}` on {r['machine']}, "
             f"{r['date']}: one server with `SNN_MEMORY_BUDGET_MB={r['budget_mb']:g}`; {r['sessions']} tabs each open "
             f"a hostile file, then train `{' '.join(f'{k}={v}' for k, v in HOSTILE_TRAIN.items())}` (about "
             f"{r['run_estimate_mb']:,.0f} MB estimated each, {r['asked_mb']:,.0f} MB asked together).", "",
             f"**Server RSS {x['rss_before_mb']:,.0f} MB before, peak {x['rss_peak_mb']:,.0f} MB: "
             f"{r['peak_over_before_mb']:+,.0f} MB against the budget {r['budget_mb']:,.0f} MB + overhead "
             f"{r['overhead_mb']:,.0f} MB: {'within' if r['within'] else 'OVER'}; server "
             f"{'alive' if r['server_alive'] else 'DEAD'}; {sum(s['evil_rendered'] for s in per)} links or images "
             f"rendered from file names; {sum(s['exceptions'] for s in per)} exceptions shown; "
             f"{sum(not s['own_run'] for s in per)} tabs training other settings than their link's.**", "",
             "| tab | file | opened | refused by the budget (file) | trained steps | own settings | refused by the "
             "budget (run) | message |", "|---|---|---|---|---|---|---|---|"]
    for i, s in enumerate(per):
        message = (s["train_message"] or s["message"]).replace("|", "\\|").replace("\n", " ")[:200]
        lines.append(f"| {i + 1} | `{s['file']}` | {'yes' if s['opened'] else 'no'} | "
                     f"{'yes' if s['refused_by_budget'] else 'no'} | {s['steps']} | "
                     f"{'yes' if s['own_run'] else 'NO: ' + str(s['describe'])} | "
                     f"{'yes' if s['train_refused_by_budget'] else 'no'} | {message} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=None, help="5, or 6 with --hostile")
    parser.add_argument("--seconds", type=float, default=45)
    parser.add_argument("--rounds", type=int, default=3, help="soaks one after another on one server")
    parser.add_argument("--hostile", action="store_true", help="hostile files and a shared budget (one round)")
    parser.add_argument("--budget-mb", type=float, default=700, help="--hostile: the server's SNN_MEMORY_BUDGET_MB")
    parser.add_argument("--overhead-mb", type=float, default=400,
                        help="--hostile: what the server may use beyond the budget (sessions, figures, allocator)")
    parser.add_argument("--out", default=None, help="default docs/SESSIONS.md (docs/SESSIONS_HOSTILE.md)")
    args = parser.parse_args()
    if args.hostile:
        result = hostile_soak(args.sessions or 6, args.seconds, args.budget_mb, args.overhead_mb)
        text, out = hostile_markdown(result), Path(args.out or ROOT / "docs" / "SESSIONS_HOSTILE.md")
    else:
        result = soak(args.sessions or 5, args.seconds, args.rounds)
        text, out = markdown(result), Path(args.out or ROOT / "docs" / "SESSIONS.md")
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    print(text)


if __name__ == "__main__":
    main()
