"""App benchmark: server-side time and bytes of a live-training refresh, and of cached page work.

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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

from snn_core.runtime import configure_threads  # noqa: E402

TARGETS_MS = {"refresh": 300, "cached": 200}
TARGET_BYTES = 1_000_000
LONG_RUN = {"epochs": "200"}          # long enough that Play never finishes during the measurement


def timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    return (time.perf_counter() - started) * 1e3


def chart_bytes(at: AppTest) -> int:
    return sum(len(chart.proto.spec.encode()) for chart in at.get("plotly_chart"))


def live_refresh(repeats: int) -> dict:
    """Train & watch while playing: each run is one refresh (chunk of training + figures)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in LONG_RUN.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="play_pause").click().run()
    times, sizes = [], []
    for _ in range(repeats):
        times.append(timed_run(at))
        sizes.append(chart_bytes(at))
    return {"case": "live refresh, default digits model (Play)", "median_ms": statistics.median(times),
            "max_ms": max(times), "median_bytes": statistics.median(sizes), "target_ms": TARGETS_MS["refresh"]}


def cached_page(page: str, label: str, repeats: int, prepare=None) -> dict:
    """Re-running a page whose derived data is cached (a page switch back, or an unchanged slider)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    if prepare:
        prepare(at)
    at.switch_page(page).run()
    times = [timed_run(at) for _ in range(repeats)]
    return {"case": label, "median_ms": statistics.median(times), "max_ms": max(times),
            "median_bytes": chart_bytes(at), "target_ms": TARGETS_MS["cached"]}


def with_trained_model(at: AppTest) -> None:
    at.switch_page("app_pages/train.py").run()
    at.button(key="play_pause").click().run()
    while at.session_state.running:
        at.run()


def markdown(rows: list[dict]) -> str:
    lines = ["# App performance", "",
             f"Measured by `python benchmarks/app_refresh.py` on {platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}; one torch thread; server-side "
             "script time under Streamlit's AppTest (no browser), median and maximum over repeats.", "",
             "| case | median ms | max ms | figure bytes per run | target |", "|---|---|---|---|---|"]
    for r in rows:
        met = r["median_ms"] <= r["target_ms"] and r["median_bytes"] <= TARGET_BYTES
        lines.append(f"| {r['case']} | {r['median_ms']:.0f} | {r['max_ms']:.0f} | {r['median_bytes']:,.0f} | "
                     f"≤{r['target_ms']} ms, ≤1 MB: {'met' if met else 'MISSED'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default=str(ROOT / "docs" / "APP_PERFORMANCE.md"))
    args = parser.parse_args()
    configure_threads(1)
    rows = [live_refresh(args.repeats),
            cached_page("app_pages/playground.py", "Neuron playground re-run (slider unchanged)", args.repeats),
            cached_page("app_pages/explorer.py", "Spike explorer re-run, trained model, cached sample",
                        args.repeats, with_trained_model),
            cached_page("app_pages/home.py", "Home page", args.repeats)]
    Path(args.out).write_text(markdown(rows))
    Path(args.out).with_suffix(".json").write_text(json.dumps(rows, indent=2))
    print(markdown(rows))


if __name__ == "__main__":
    main()
