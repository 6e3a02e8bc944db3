"""Speed benchmark: torch threads 1 vs 2, and the two foundation targets; writes docs/PERFORMANCE.md.

    python benchmarks/speed.py [--seeds 3] [--out docs/PERFORMANCE.md]

Each measurement runs in a fresh subprocess (so thread settings and caches do not leak), and
the thread comparison alternates 1 and 2 threads in the same run so that the ratio is fair on a
shared, noisy machine. Training time is the time spent in gradient steps (``wall_seconds``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from doc_file import write_keeping_tail  # benchmarks/ is sys.path[0] when a script runs

from snn_core.results import RunResult
from snn_core.settings import THREADS

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "digits": {"options": ["--dataset", "digits", "--arch", "mlp", "--T", "8"], "accuracy": 0.95, "seconds": 3.0},
    "events-shape": {"options": ["--dataset", "events-shape", "--arch", "conv", "--T", "8"],
                     "accuracy": 0.90, "seconds": 60.0},
}
STEP_PROBE = """
import time, torch
from snn_core.config.run_config import RunConfig
from snn_core.runtime import configure_threads
from snn_core.training.trainer import Trainer
configure_threads({threads})
trainer = Trainer(RunConfig().with_values({values!r}))
for _ in range(3):
    trainer.step()
start = time.perf_counter()
for _ in range({steps}):
    trainer.step()
print((time.perf_counter() - start) / {steps})
"""


def python(code_or_args: list[str], threads: int) -> str:
    env = {**os.environ, THREADS.name: str(threads), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, *code_or_args], capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    return proc.stdout


def step_seconds(values: dict, threads: int, steps: int, processes: int = 1) -> float:
    """Seconds per step of one probe, or the mean over ``processes`` probes running at the same time."""
    code = STEP_PROBE.format(threads=threads, values=values, steps=steps)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    probes = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=ROOT) for _ in range(processes)]
    outputs = [probe.communicate() for probe in probes]
    if any(probe.returncode for probe in probes):
        raise RuntimeError(next(err for _, err in outputs if err).strip().splitlines()[-1])
    return statistics.mean(float(out.strip()) for out, _ in outputs)


def compare_threads(rounds: int) -> list[dict]:
    """Seconds per gradient step with 1 and 2 threads, alone and as two concurrent processes
    (how comparison workers run); alternating 1 and 2, min over rounds."""
    cases = {"digits mlp T=8": ({"T": 8}, 40),
             "events-shape conv T=8": ({"dataset": "events-shape", "arch": "conv", "T": 8}, 8)}
    rows = []
    for name, (values, steps) in cases.items():
        for processes in (1, 2):
            times = {1: [], 2: []}
            for _ in range(rounds):
                for threads in (1, 2):
                    times[threads].append(step_seconds(values, threads, steps, processes))
            one, two = min(times[1]), min(times[2])
            rows.append({"case": name, "processes": processes, "one_thread_ms": one * 1e3,
                         "two_threads_ms": two * 1e3, "ratio": two / one})
    return rows


def target_runs(seeds: int) -> list[dict]:
    rows = []
    for name, target in TARGETS.items():
        for seed in range(seeds):
            started = time.perf_counter()
            out = python(["-m", "snn_core", "train", *target["options"], "--seed", str(seed), "--quiet"], 1)
            metrics = RunResult.from_json(json.loads(out)).metrics
            rows.append({"run": name, "seed": seed, "accuracy": metrics.test_accuracy,
                         "train_seconds": metrics.wall_seconds, "process_seconds": time.perf_counter() - started,
                         "spike_rate": metrics.nasfr, "target_accuracy": target["accuracy"],
                         "target_seconds": target["seconds"]})
    return rows


def markdown(threads: list[dict], runs: list[dict]) -> str:
    cpu = platform.processor() or platform.machine()
    lines = ["# Performance", "", f"Measured by `python benchmarks/speed.py` on {cpu}, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{time.strftime('%Y-%m-%d')}. CPU only.", "",
             "## Torch threads per process", "",
             "| case | processes at once | 1 thread, ms/step | 2 threads, ms/step | 2-thread / 1-thread |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['processes']} | {r['one_thread_ms']:.1f} | {r['two_threads_ms']:.1f} | "
              f"{r['ratio']:.2f} |" for r in threads]
    lines += ["", "## Foundation targets (defaults otherwise; training time = time in gradient steps)", "",
              "| run | seed | test accuracy | training s | whole process s | NASFR | target |",
              "|---|---|---|---|---|---|---|"]
    for r in runs:
        met = r["accuracy"] >= r["target_accuracy"] and r["train_seconds"] <= r["target_seconds"]
        lines.append(f"| {r['run']} | {r['seed']} | {r['accuracy']:.3f} | {r['train_seconds']:.2f} | "
                     f"{r['process_seconds']:.1f} | {r['spike_rate']:.3f} | ≥{r['target_accuracy']:.0%} in "
                     f"≤{r['target_seconds']:.0f} s: {'met' if met else 'MISSED'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the thread comparison")
    parser.add_argument("--out", default=str(ROOT / "docs" / "PERFORMANCE.md"))
    args = parser.parse_args()
    threads = compare_threads(args.rounds)
    runs = target_runs(args.seeds)
    write_keeping_tail(args.out, markdown(threads, runs))
    Path(args.out).with_suffix(".json").write_text(json.dumps({"threads": threads, "runs": runs}, indent=2))
    print(markdown(threads, runs))


if __name__ == "__main__":
    main()
