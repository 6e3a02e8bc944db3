"""App benchmark: server-side time and bytes of a live-training refresh (one run, and a run with its Compare live
twin: the page drawing what the session's background thread has trained, while it trains), and of cached page work.

    python benchmarks/app_refresh.py [--repeats 20] [--out docs/APP_PERFORMANCE.md]

Measured with Streamlit's AppTest, which runs the real scripts in-process without a browser, so
the times are server-side script times. Bytes are the serialized Plotly figures a refresh sends
(their JSON, what ``st.plotly_chart`` puts in its message). Medians over repeats.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from doc_file import write_keeping_tail  # benchmarks/ is sys.path[0] when a script runs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from snn_core.runtime import configure_threads  # noqa: E402

REFRESH_TARGET_MS = 300               # a live refresh
CACHED_TARGET_MS = 200                # a page re-run on cached data
TARGET_BYTES = 1_000_000
TWIN_FACTOR = 2.0                     # a twin refresh (two runs in lockstep) may take at most this × a single one
LONG_RUN = {"epochs": "200"}          # long enough that Play never finishes during the measurement


def timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    return (time.perf_counter() - started) * 1e3


def chart_bytes(at: AppTest) -> int:
    return sum(len(chart.proto.spec.encode()) for chart in at.get("plotly_chart"))


def live_refresh(repeats: int, twin: bool = False, single_ms: float | None = None) -> dict:
    """Train & watch while playing: each run is one refresh (the figures of what has trained so far; the training
    goes on in the session's thread meanwhile, on the same CPU). With ``twin``, Compare
    live is on (a K = 1 twin in lockstep); its target is ``TWIN_FACTOR`` times the single-run median."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in LONG_RUN.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/train.py").run()
    if twin:
        at.toggle(key="twin_on").set_value(True).run()
        at.selectbox(key="twin_setting").set_value("spike cap K").run()
        at.radio(key="twin_value_max-spikes").set_value("1").run()
    at.button(key="play_pause").click().run()
    if twin:
        assert at.session_state.live.twin is not None, "Compare live made no twin"
    times, sizes = [], []
    for _ in range(repeats):
        times.append(timed_run(at))
        sizes.append(chart_bytes(at))
    case = "live refresh, default digits model (Play)"
    target = REFRESH_TARGET_MS
    if twin:
        case = f"twin live refresh, default digits model + K = 1 twin (Play, Compare live; ≤{TWIN_FACTOR:g}× single)"
        target = TWIN_FACTOR * single_ms
    return {"case": case, "median_ms": statistics.median(times), "max_ms": max(times),
            "median_bytes": statistics.median(sizes), "target_ms": target}


def cached_page(page: str, label: str, repeats: int, prepare=None) -> dict:
    """Re-running a page whose derived data is cached (a page switch back, or an unchanged slider)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if prepare:
        prepare(at)
    at.switch_page(page).run()
    times = [timed_run(at) for _ in range(repeats)]
    return {"case": label, "median_ms": statistics.median(times), "max_ms": max(times),
            "median_bytes": chart_bytes(at), "target_ms": CACHED_TARGET_MS}


def with_trained_model(at: AppTest) -> None:
    at.switch_page("app_pages/train.py").run()
    at.button(key="play_pause").click().run()
    while at.session_state.live.playing:          # the session's background thread trains (snn_app/live.py)
        time.sleep(0.05)
    at.run()


def markdown(rows: list[dict], load: float) -> str:
    lines = ["# App performance", "",
             f"Measured by `python benchmarks/app_refresh.py` on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; one torch thread; server-side "
             "script time under Streamlit's AppTest (no browser), median and maximum over repeats; load average "
             f"{load:.1f} when it started (other work on the machine slows every row alike).", "",
             "The twin row is Train & watch with **Compare live** on (a K = 1 twin of the default run): both runs "
             "step in lockstep in the session's background thread while the page draws both, so its target is "
             f"{TWIN_FACTOR:g}× the single-run median measured in the same session.", "",
             "| case | median ms | max ms | figure bytes per run | target |", "|---|---|---|---|---|"]
    for r in rows:
        met = r["median_ms"] <= r["target_ms"] and r["median_bytes"] <= TARGET_BYTES
        lines.append(f"| {r['case']} | {r['median_ms']:.0f} | {r['max_ms']:.0f} | {r['median_bytes']:,.0f} | "
                     f"≤{r['target_ms']:.0f} ms, ≤1 MB: {'met' if met else 'MISSED'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "docs" / "APP_PERFORMANCE.md"))
    args = parser.parse_args()
    configure_threads(1)
    load = os.getloadavg()[0]             # 1-minute load average when the measurement starts
    single = live_refresh(args.repeats)
    rows = [single, live_refresh(args.repeats, twin=True, single_ms=single["median_ms"]),
            cached_page("app_pages/playground.py", "Neuron playground re-run (slider unchanged)", args.repeats),
            cached_page("app_pages/explorer.py", "Spike explorer re-run, trained model, cached sample",
                        args.repeats, with_trained_model),
            cached_page("app_pages/home.py", "Home page", args.repeats)]
    write_keeping_tail(args.out, markdown(rows, load))
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=2))
    print(markdown(rows, load))


if __name__ == "__main__":
    main()
