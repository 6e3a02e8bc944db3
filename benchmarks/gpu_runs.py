"""Whole runs on a GPU against the same machine's CPU; writes docs/GPU_RUNS.md and .json.

    python benchmarks/gpu_runs.py --data-dir DIR [--seeds 2] [--app-seconds 60] [--out docs/GPU_RUNS.md]

Issue 22's checks of the CUDA engine end to end, each as a user would run it:

- ``train --device cuda`` of the default digits run, the default events-shape conv run and the N-MNIST default
  run (``--data-dir``: an N-MNIST folder, e.g. a few hundred of the recordings), each seed also on the CPU, with
  the product's default of one torch thread and with every core; training time is the time in gradient steps
  (``metrics.wall_seconds``), whole is the process from start to JSON. Same seeds, so the same initial weights
  and batch order on both devices: accuracies differ only through the devices' arithmetic.
- one ``compare`` with 2 seeds on CUDA;
- the app's Train & watch page on CUDA, driven headless by Streamlit's AppTest (the page's own script: Play, then
  one refresh after another) for ``--app-seconds``, when streamlit imports.

Run on the GPU machine by ``benchmarks/device_check.sh run``; there is no GPU in CI, and nothing here is a test.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from snn_core.results import Comparison, RunResult

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "digits": ["--dataset", "digits"],
    "events-shape conv": ["--dataset", "events-shape", "--arch", "conv", "--T", "8"],
    "nmnist": ["--dataset", "nmnist"],
}
COMPARE = ["--base", "dataset=events-shape arch=conv T=8 epochs=4", "--variant", "max-spikes=1", "--seeds", "2"]
APP_LONG_RUN = {"epochs": "200"}        # long enough that Play does not finish within the measured minute
ACCURACY = "test_accuracy"              # the compared metric: its name in a Comparison's statistics


def train(options: list[str], device: str, seed: int, threads: int) -> dict:
    """One ``python -m snn_core train`` process; its accuracy, training and whole-process seconds, or its error."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run.json"
        command = [sys.executable, "-m", "snn_core", "train", *options, "--seed", str(seed), "--device", device,
                   "--threads", str(threads), "--quiet", "--out", str(out)]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        whole = time.perf_counter() - started
        if done.returncode != 0:
            return {"error": last_line(done.stderr), "whole_seconds": whole}
        result = RunResult.from_json(json.loads(out.read_text()))
    metrics = result.metrics
    return {"accuracy": metrics.test_accuracy, "validation": metrics.validation_accuracy,
            "train_seconds": metrics.wall_seconds, "whole_seconds": whole, "spike_rate": metrics.nasfr,
            "device": result.timing.device, "epochs": len(result.history)}


def last_line(stderr: str) -> str:
    """A failed process's message: its last line, without the CLI's ``error:`` prefix."""
    return (stderr.strip().splitlines() or ["no message"])[-1].removeprefix("error: ")


def whole_runs(data_dir: str, seeds: int) -> list[dict]:
    """Each run and seed on CUDA and on the CPU with 1 thread (the product's default), and seed 0 on the CPU with
    every core too; CUDA first, so the Triton kernels it compiles on its first call show up in seed 0's time
    (later processes read them from Triton's cache)."""
    rows = []
    for name, options in RUNS.items():
        options = [*options, "--data-dir", data_dir] if name == "nmnist" else options
        for seed in range(seeds):
            settings = [("cuda", 1), ("cpu", 1)] + ([("cpu", os.cpu_count() or 1)] if seed == 0 else [])
            for device, threads in settings:
                row = {"run": name, "seed": seed, "device": device, "threads": threads,
                       **train(options, device, seed, threads)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def compare_run() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "compare.json"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "snn_core", "compare", *COMPARE, "--device", "cuda",
                               "--out", str(out)], capture_output=True, text=True, cwd=ROOT)
        row = {"command": "python -m snn_core compare " + " ".join(repr(word) if " " in word else word
                                                                     for word in COMPARE) + " --device cuda",
               "exit_code": done.returncode, "whole_seconds": time.perf_counter() - started}
        if not out.exists():
            return {**row, "error": last_line(done.stderr)}
        result = Comparison.from_json(json.loads(out.read_text()))
    accuracy = result.paired[ACCURACY]
    return {**row, "failed": result.failed_runs, "base_accuracy": result.base_summary[ACCURACY].mean,
            "variant_accuracy": result.variant_summary[ACCURACY].mean,
            "difference": accuracy.mean, "ci": [accuracy.ci_low, accuracy.ci_high]}


def app_live(seconds: float) -> dict:
    """Train & watch under AppTest: Play (the session's thread trains), then refreshes for ``seconds``; what trained and
    on which device."""
    try:
        from streamlit.testing.v1 import AppTest
    except ImportError as error:
        return {"skipped": f"streamlit does not import: {error}"}
    sys.path.insert(0, str(ROOT))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in APP_LONG_RUN.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.button(key="play_pause").click().run()
    refreshes, started, times = 0, time.perf_counter(), []
    while time.perf_counter() - started < seconds and at.session_state.live.playing and not at.exception:
        begun = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - begun)
        refreshes += 1
    trainer = at.session_state.trainer
    history = trainer.history if trainer is not None else []
    return {"seconds": time.perf_counter() - started, "refreshes": refreshes,
            "median_refresh_ms": statistics.median(times) * 1e3 if times else None,
            "device": str(trainer.device) if trainer is not None else None,
            "steps": trainer.steps if trainer is not None else 0, "epochs": len(history),
            "accuracy": history[-1].test_accuracy if history else None,
            "exceptions": [str(e.value)[:300] for e in at.exception], "errors": [e.value for e in at.error]}


def machine() -> dict:
    import torch
    try:
        import triton
        triton_version = triton.__version__
    except ImportError:
        triton_version = "not installed"
    driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                            capture_output=True, text=True).stdout.strip() if torch.cuda.is_available() else ""
    return {"gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else "none", "driver": driver,
            "torch": torch.__version__, "cuda": torch.version.cuda, "triton": triton_version,
            "cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d")}


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def mean_of(rows: list[dict], key: str) -> float:
    return statistics.mean(r[key] for r in rows)


def verdicts(rows: list[dict]) -> list[str]:
    """Per run: CUDA's training time against the CPU's, one thread (the product's default, same seeds) and every
    core (seed 0 against CUDA's seed 0); the accuracies on the same seeds."""
    lines = ["| run | CUDA train s | CPU 1 thread train s | CPU all cores train s (seed 0) | CUDA accuracy | "
             "CPU accuracy | verdict |", "|---|---|---|---|---|---|---|"]
    for name in RUNS:
        ok = [r for r in rows if r["run"] == name and "error" not in r]
        cuda = [r for r in ok if r["device"] == "cuda"]
        one = [r for r in ok if r["device"] == "cpu" and r["threads"] == 1]
        many = [r for r in ok if r["device"] == "cpu" and r["threads"] > 1]
        cuda_seed0 = [r for r in cuda if r["seed"] == 0]
        if not cuda or not one:
            lines.append(f"| {name} | — | — | — | — | — | not measured (see the rows for the error) |")
            continue
        gpu_s, one_s = mean_of(cuda, "train_seconds"), mean_of(one, "train_seconds")
        many_cell, faster_than_many = "—", True
        if many and cuda_seed0:
            many_s = mean_of(many, "train_seconds")
            many_cell = (f"{many_s:.2f} ({many[0]['threads']} threads; CUDA seed 0: "
                         f"{mean_of(cuda_seed0, 'train_seconds'):.2f})")
            faster_than_many = mean_of(cuda_seed0, "train_seconds") < many_s
        gpu_acc, cpu_acc = mean_of(cuda, "accuracy"), mean_of(one, "accuracy")
        faster = "faster on the GPU" if gpu_s < one_s and faster_than_many else "NOT faster on the GPU"
        lines.append(f"| {name} | {gpu_s:.2f} | {one_s:.2f} ({one_s / gpu_s:.2f}×) | {many_cell} | {gpu_acc:.3f} | "
                     f"{cpu_acc:.3f} | {faster}; accuracy {gpu_acc - cpu_acc:+.3f} |")
    return lines


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = ["# Whole runs on a GPU", "",
             f"Measured by `python benchmarks/gpu_runs.py` on {m['gpu']} (driver {m['driver']}, CUDA {m['cuda']}), "
             f"torch {m['torch']}, Triton {m['triton']}, with that machine's CPU ({m['cpu']}, {m['cores']} cores) "
             f"for the CPU rows; Python {m['python']}, {m['date']}. Each row is one `python -m snn_core train` "
             "process with the run's defaults and the seed; train s is the time in gradient steps, whole s the "
             "process from start to JSON (imports, data, evaluation).", "",
             "## GPU against the same machine's CPU (mean over seeds)", "", *verdicts(report["runs"]), "",
             "## Every run", "",
             "| run | seed | device | threads | test accuracy | validation accuracy | train s | whole s | NASFR |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        if "error" in r:
            lines.append(f"| {r['run']} | {r['seed']} | {r['device']} | {r['threads']} | error: {r['error']} |||||")
            continue
        lines.append(f"| {r['run']} | {r['seed']} | {r['device']} | {r['threads']} | {r['accuracy']:.3f} | "
                     f"{r['validation']:.3f} | {r['train_seconds']:.2f} | {r['whole_seconds']:.1f} | "
                     f"{r['spike_rate']:.3f} |")
    c = report.get("compare")
    lines += ["", "## A Compare on CUDA", ""]
    if c is None:
        lines.append("Not run (the measurement stopped before it).")
    else:
        lines.append(f"`{c['command']}`: exit code {c['exit_code']}, {c['whole_seconds']:.0f} s. " + (
            f"Error: {c['error']}" if "error" in c else
            f"Base {c['base_accuracy']:.3f}, variant {c['variant_accuracy']:.3f}, variant − base "
            f"{c['difference']:+.3f} [{c['ci'][0]:+.3f}, {c['ci'][1]:+.3f}] (2 seeds), failed runs "
            f"{c['failed']}."))
    a = report.get("app") or {"skipped": "the measurement stopped before it"}
    lines += ["", "## The app's Train & watch on CUDA", ""]
    if "skipped" in a:
        lines.append(f"Not run: {a['skipped']}.")
    else:
        accuracy = "none yet" if a["accuracy"] is None else f"{a['accuracy']:.3f}"
        lines.append(f"Streamlit's AppTest ran the Train & watch page (Play, then refresh after refresh) for "
                     f"{a['seconds']:.0f} s: {a['refreshes']} refreshes (median {a['median_refresh_ms']:.0f} ms), "
                     f"{a['steps']} gradient steps, {a['epochs']} epochs on device `{a['device']}`, latest test "
                     f"accuracy {accuracy}; exceptions: {a['exceptions'] or 'none'}; error boxes: "
                     f"{a['errors'] or 'none'}.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="an N-MNIST folder (Train/<digit>/*.bin)")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--app-seconds", type=float, default=60)
    parser.add_argument("--out", default=str(ROOT / "docs" / "GPU_RUNS.md"))
    args = parser.parse_args()
    report = {"machine": machine(), "runs": whole_runs(args.data_dir, args.seeds)}
    write(report, args.out)                              # each phase is written as it ends: a cut-off run keeps it
    report["compare"] = compare_run()
    print(json.dumps(report["compare"]), flush=True)
    write(report, args.out)
    report["app"] = app_live(args.app_seconds)
    print(json.dumps(report["app"]), flush=True)
    write(report, args.out)
    print(markdown(report))


def write(report: dict, out: str) -> None:
    Path(out).write_text(markdown(report))
    Path(out).with_suffix(".json").write_text(json.dumps(report, indent=2))

if __name__ == "__main__":
    main()
