"""This engine against snnTorch, SpikingJelly and Norse on one layer; writes docs/ENGINE_BENCHMARK.md and .json.

    python benchmarks/engine_vs_libraries.py [--quick] [--threads 1] [--out docs/ENGINE_BENCHMARK.md]
        [--devices cpu,cuda] [--keep-rows-from docs/ENGINE_BENCHMARK.json] [--profile PROFILE.txt]

On a GPU machine, ``--devices cuda --keep-rows-from docs/ENGINE_BENCHMARK.json`` measures the CUDA rows and keeps
the CPU rows (and their machine) measured elsewhere, so one doc holds both; ``--profile`` adds torch.profiler's
kernel table of the fused engine and SpikingJelly on each CUDA shape (benchmarks/device_check.sh does both).

The Open Neuromorphic library-benchmark shape (issue 14): ``Linear(n, n)`` + LIF with soft reset (subtract),
threshold 1, decay beta = 0.5, forward + backward of ``out.sum()`` over an input ``x[T, B, n]``. Every column
applies the same Linear (same weights, copied) to the same input once over all T*B rows, then runs its own
neuron; "GEMM only" is that Linear forward + backward alone, the floor no neuron can beat.

One neuron, written in each library's parameterisation (``v`` is the membrane after reset)::

    this engine   LIFParams(decay=0.5, threshold=1, reset="soft", surrogate="atan", width=1)
                  v_pre = 0.5 v + I;  s = [v_pre >= 1];  v = v_pre - s
    snnTorch      Leaky(beta=0.5, threshold=1, reset_mechanism="subtract", reset_delay=False, atan(alpha=2))
                  mem = 0.5 mem + I;  s = [mem > 1];  mem -= s            (reset_delay=False: same step, as here;
                  the default True subtracts the undecayed threshold one step later, a different neuron)
    SpikingJelly  LIFNode(tau=2, decay_input=False, v_threshold=1, v_reset=None, ATan(alpha=2), step_mode="m")
                  h = v - v / tau + I = 0.5 v + I;  s = [h >= 1];  v = h - s   (v_reset=None: soft reset)
    Norse         LIFBoxCell(tau_mem_inv=0.5, v_th=0.5, reset_subtract, method="super"), dt=1
                  v = v + 0.5 (I - v) = 0.5 v + 0.5 I;  s = [v > 0.5];  v -= 0.5 s
                  (Norse scales the input by dt/tau; halving the threshold gives v_norse = v / 2 exactly,
                  the same spikes without an extra op. Norse has no atan surrogate: SuperSpike, its default.)

The check: every column's spikes against the engine's on the same input, elementwise, within SPIKE_TOLERANCE;
NOTES says where the definitions part (written into the report too).

Timing: one process, torch threads fixed (default 1, the engine's default), warm-up, then rounds in which every
column runs once in a rotating order (so a noisy, shared machine slows all alike); median and IQR per column.
A library that does not import is skipped with its reason. The engine's neuron kernel choice
(``NeuronConfig.kernel`` / ``LIFParams.kernel``, issue 14) is detected at run time: each choice is a column.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
BETA, THRESHOLD = 0.5, 1.0
INPUT_SCALE = 1.0           # x = randn: about 5 % of neurons fire per step (the events run: 6 %); see NOTES (snnTorch)
SPIKE_TOLERANCE = 1e-3      # largest fraction of spike entries that may differ from the engine's
# (T, B, n, timed rounds): (8, 256, 4096) costs seconds per call on one thread, so it gets fewer rounds
FULL_SHAPES = [(100, 32, 256, 30), (8, 256, 4096, 8), (500, 16, 512, 15)]
QUICK_SHAPES = [(100, 32, 256, 3)]
WARMUP = 1
GEMM, SJ = "GEMM only", "SpikingJelly"
FUSED = "this engine (fused)"
# the targets per device (issues 14 and 22): the fused engine's time at most this many times GEMM only / SpikingJelly's
TARGETS = {"CPU": {GEMM: 1.5, SJ: 0.5}, "CUDA": {SJ: 1.0}}     # CUDA: issue 22
Step = Callable[[torch.Tensor], torch.Tensor]     # x[T, B, n] -> output [T, B, n], autograd graph attached


NOTES = [
    "SpikingJelly computes the engine's arithmetic bit for bit (v - v/2 = v/2 exactly): the same spikes.",
    "Norse's `v + 0.5 (I - v)` rounds differently from `0.5 v + I` (scaled by 1/2, exact), so a spike may flip "
    "where the membrane lands on the threshold to the last bit (the mismatch column counts them).",
    "snnTorch (`reset_delay=False`) is the same neuron except after a membrane that stays at or above threshold "
    "after its reset (v_pre >= 2 V_th): its next step subtracts the threshold before deciding (`mem_reset` of the "
    "stored membrane) and then fires only if v_pre >= 2 V_th, where the others fire at v_pre >= V_th. So its "
    "spikes differ only after strong drive; the input (x = randn, about 5 % firing) keeps that rare, and a larger "
    "input (2 randn, 18 % firing) shows 1.5 % of entries differing. snnTorch's default `reset_delay=True` is a "
    "different neuron again (subtracts the undecayed threshold one step later), so it is not the one timed.",
    "SpikingJelly 2.0.0 on CPU: `neuron_implementation('lif', cpu)` is `torch-reference`; with autograd on, its "
    "`sj_lif::forward` op is bound at AutogradCPU to the reference loop (`_ops/lif/reference.py`), so training "
    "on CPU builds a per-step autograd graph (the output's grad_fn is StackBackward0); its hand-written CPU "
    "backward (`_ops/lif/cpu.py`) is not reached from autograd in this release. On CUDA it picks Triton or "
    "native kernels (needs the triton package).",
    "Surrogates: the engine's atan of width 1, snnTorch's atan(alpha=2) and SpikingJelly's ATan(alpha=2) are the "
    "same function, 1 / (1 + (pi x)^2); Norse has no atan and runs its default SuperSpike (alpha=100). The "
    "surrogate changes gradient values, not the work done.",
]


class Unavailable(Exception):
    """A column that cannot run here; the message is the reason printed in the table."""


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# --- the columns: each builder takes its own copy of the Linear and returns the forward of the layer ---------------

def gemm_only(linear: nn.Linear, device: torch.device) -> Step:
    return linear


def engine_kernels() -> list[str | None]:
    """The engine's neuron kernels: the choices of a ``kernel`` field on NeuronConfig or LIFParams when one
    exists (the fused op of issue 14), else ``[None]``: one column, the reference loop in the tree."""
    from snn_core.config.run_config import NeuronConfig
    from snn_core.neurons.lif import LIFParams
    field = next((f for f in dataclasses.fields(NeuronConfig) if f.name == "kernel"), None)
    if field is not None:
        return sorted(field.metadata.get("choices") or ("reference", "fused"), key=lambda k: k != "reference")
    return ["reference", "fused"] if "kernel" in LIFParams._fields else [None]


def engine(kernel: str | None) -> Callable[[nn.Linear, torch.device], Step]:
    """The training path of a layer (``SpikingLayer`` without a record: ``neuron_model("lif").spikes``),
    params built from the config the way a run builds them."""
    def build(linear: nn.Linear, device: torch.device) -> Step:
        from snn_core.config.run_config import NeuronConfig
        from snn_core.network.layers import SpikingLayer
        from snn_core.neurons.registry import neuron_model
        fields = {"decay": BETA, "threshold": THRESHOLD, "reset": "soft", "surrogate": "atan", "surrogate_width": 1.0}
        if kernel is not None and "kernel" in {f.name for f in dataclasses.fields(NeuronConfig)}:
            fields["kernel"] = kernel
        params = neuron_model("lif").params_from_config(NeuronConfig(**fields))
        if kernel is not None and "kernel" in getattr(params, "_fields", ()):
            params = params._replace(kernel=kernel)
        layer = SpikingLayer("bench", linear, None, params, model="lif").to(device)
        return lambda x: layer(x).spikes
    return build


def snntorch_leaky(linear: nn.Linear, device: torch.device) -> Step:
    try:
        import snntorch
        from snntorch import surrogate
    except ImportError as error:
        raise Unavailable(f"snntorch does not import: {error}") from error
    lif = snntorch.Leaky(beta=BETA, threshold=THRESHOLD, reset_mechanism="subtract", reset_delay=False,
                         spike_grad=surrogate.atan(alpha=2.0)).to(device)

    def forward(x: torch.Tensor) -> torch.Tensor:
        current = linear(x)
        mem = torch.zeros_like(current[0])
        spikes = []
        for step in current:
            spk, mem = lif(step, mem)
            spikes.append(spk)
        return torch.stack(spikes)
    return forward


def spikingjelly_lif(linear: nn.Linear, device: torch.device) -> Step:
    """Multi-step LIFNode, the library's fastest path: SpikingJelly 2.0 picks the implementation by device (on CPU
    with autograd its torch reference loop, see NOTES; Triton / native CUDA on a GPU); ``sj_implementation``
    names it."""
    try:
        from spikingjelly.activation_based import functional, neuron, surrogate
    except ImportError as error:
        raise Unavailable(f"spikingjelly does not import: {error}") from error
    node = neuron.LIFNode(tau=1.0 / (1.0 - BETA), decay_input=False, v_threshold=THRESHOLD, v_reset=None,
                          surrogate_function=surrogate.ATan(alpha=2.0), detach_reset=False, step_mode="m").to(device)

    def forward(x: torch.Tensor) -> torch.Tensor:
        functional.reset_net(node)
        return node(linear(x))
    return forward


def sj_implementation(device: torch.device) -> str:
    try:
        from spikingjelly.activation_based.functional import neuron_implementation
        return str(neuron_implementation("lif", device).get("implementation"))
    except Exception as error:    # any failure: this is only a label for the report
        return f"unknown ({type(error).__name__})"


def norse_lif_box(linear: nn.Linear, device: torch.device) -> Step:
    try:
        from norse.torch import LIFBoxCell, LIFBoxParameters
        from norse.torch.functional.reset import reset_subtract
    except ImportError as error:
        raise Unavailable(f"norse does not import: {error}") from error
    scale = 1.0 - BETA                       # Norse feeds (dt / tau) I: the threshold scaled alike keeps the spikes
    params = LIFBoxParameters(tau_mem_inv=torch.as_tensor(scale), v_leak=torch.as_tensor(0.0),
                              v_th=torch.as_tensor(THRESHOLD * scale), v_reset=torch.as_tensor(0.0),
                              reset_method=reset_subtract)
    cell = LIFBoxCell(params, dt=1.0).to(device)

    def forward(x: torch.Tensor) -> torch.Tensor:
        state, spikes = None, []
        for step in linear(x):
            z, state = cell(step, state)
            spikes.append(z)
        return torch.stack(spikes)
    return forward


def columns() -> dict[str, Callable[[nn.Linear, torch.device], Step]]:
    kernels = engine_kernels()
    named = {GEMM: gemm_only}
    for kernel in kernels:
        named["this engine" if kernel is None else f"this engine ({kernel})"] = engine(kernel)
    named.update({"snnTorch": snntorch_leaky, SJ: spikingjelly_lif, "Norse": norse_lif_box})
    return named


# --- measuring ---------------------------------------------------------------------------------------------------

def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_step(step: Step, params: list[nn.Parameter], x: torch.Tensor, device: torch.device) -> tuple[float, float]:
    """Wall and process-CPU seconds for forward + backward of ``out.sum()``; gradients are dropped after, as an
    optimiser would. With one torch thread the CPU time is the work itself, whatever else the machine runs."""
    sync(device)
    start, cpu_start = time.perf_counter(), time.process_time()
    step(x).sum().backward()
    sync(device)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    for param in params:
        param.grad = None
    return seconds, cpu_seconds


def check_spikes(steps: dict[str, Step], x: torch.Tensor) -> dict[str, dict]:
    """Spike count, rate and the fraction of entries that differ from the first engine column's spikes."""
    outputs = {name: step(x).detach() for name, step in steps.items() if name != GEMM}
    reference = next(out for name, out in outputs.items() if name.startswith("this engine"))
    checks = {}
    for name, out in outputs.items():
        mismatch = (out != reference).float().mean().item()
        checks[name] = {"spikes": int(out.sum().item()), "rate": out.mean().item(), "mismatch": mismatch,
                        "ok": mismatch <= SPIKE_TOLERANCE}
    return checks


def measure_shape(shape: tuple[int, int, int, int], device: torch.device) -> dict:
    steps_t, batch, n, rounds = shape
    generator = torch.Generator().manual_seed(0)
    base = nn.Linear(n, n)
    with torch.no_grad():
        bound = n ** -0.5
        base.weight.uniform_(-bound, bound, generator=generator)
        base.bias.uniform_(-bound, bound, generator=generator)
    x = (INPUT_SCALE * torch.randn(steps_t, batch, n, generator=generator)).to(device)
    steps, params, skipped = {}, {}, {}
    for name, build in columns().items():
        linear = copy.deepcopy(base).to(device)
        try:
            steps[name] = build(linear, device)
            params[name] = list(linear.parameters())
        except Unavailable as error:
            skipped[name] = str(error)
    checks = check_spikes(steps, x)
    for name, step in steps.items():
        for _ in range(WARMUP):
            timed_step(step, params[name], x, device)
    load_before = os.getloadavg()[0]
    times = {name: [] for name in steps}
    names = list(steps)
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(timed_step(steps[name], params[name], x, device))
    results = {}
    for name, pairs in times.items():
        wall, cpu = summary([w for w, _ in pairs]), summary([c for _, c in pairs])
        results[name] = {"median_ms": wall["median"], "iqr_ms": wall["iqr"], "times_ms": wall["values"],
                         "cpu_median_ms": cpu["median"], "cpu_iqr_ms": cpu["iqr"], "cpu_times_ms": cpu["values"],
                         **checks.get(name, {})}
    return {"T": steps_t, "B": batch, "n": n, "device": device_label(device), "rounds": rounds, "warmup": WARMUP,
            "load_before": load_before, "load_after": os.getloadavg()[0], "columns": results, "skipped": skipped}


def summary(seconds: list[float]) -> dict:
    """Median and interquartile range in ms, and the values themselves."""
    quartiles = statistics.quantiles(seconds, n=4) if len(seconds) > 1 else [seconds[0]] * 3
    return {"median": statistics.median(seconds) * 1e3, "iqr": (quartiles[2] - quartiles[0]) * 1e3,
            "values": [value * 1e3 for value in seconds]}


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --- the report --------------------------------------------------------------------------------------------------

def ms(value: float) -> str:
    """3 significant digits below 100 ms, whole ms with thousands separators above."""
    return f"{value:.3g}" if value < 100 else f"{value:,.0f}"


def ratio(value: float, base: dict | None, key: str) -> str:
    return f"{value / base[key]:.2f}×" if base else "—"


def time_table(rows: list[dict], names: list[str], key: str) -> list[str]:
    """Rows of ``key`` (a median in ms): each cell 'ms (× GEMM only, × SpikingJelly)'."""
    lines = ["| T, B, n | device | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for row in rows:
        cols, gemm, sj = row["columns"], row["columns"].get(GEMM), row["columns"].get(SJ)
        cells = [f"{ms(cols[n][key])} ms ({ratio(cols[n][key], gemm, key)}, {ratio(cols[n][key], sj, key)})"
                 if n in cols else "skipped" for n in names]
        lines.append(f"| {row['T']}, {row['B']}, {row['n']} | {row['device']} | " + " | ".join(cells) + " |")
    return lines


def is_cpu(row: dict) -> bool:
    return row["device"].startswith("CPU")


def row_key(row: dict) -> str:
    """What a row's ratios are taken of: CPU time on a CPU (the work itself, whatever else the machine runs),
    wall clock on a GPU (the CPU only queues kernels there)."""
    return "cpu_median_ms" if is_cpu(row) else "median_ms"


def target_lines(rows: list[dict]) -> list[str]:
    """The targets against this run (CPU rows on CPU time, CUDA rows on wall clock), and the floor each one implies:
    the engine runs the same GEMMs, so a target below GEMM-only time / the library's time cannot be met by any
    neuron kernel."""
    lines = ["## Targets (issues 14 and 22) in this run", "",
             "The fused engine's time over each reference, the target, and the GEMM floor: GEMM only over the same "
             "reference, the least any engine that runs these GEMMs can reach.", "",
             "| T, B, n | device | against | measured | target | floor | verdict |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        cols, key = row["columns"], row_key(row)
        targets = TARGETS["CPU" if is_cpu(row) else "CUDA"]
        for against, target in targets.items():
            if FUSED not in cols or against not in cols or GEMM not in cols:
                continue
            measured = cols[FUSED][key] / cols[against][key]
            floor = cols[GEMM][key] / cols[against][key]
            verdict = "met" if measured <= target else ("out of reach: below the GEMM floor" if floor > target
                                                        else "missed")
            lines.append(f"| {row['T']}, {row['B']}, {row['n']} | {row['device']} | {against} | {measured:.2f}× | "
                         f"≤ {target:g}× | {floor:.2f}× | {verdict} |")
    return lines


def environment_line(kind: str, env: dict) -> str:
    """Where the ``kind`` ("CPU" or "CUDA") rows were measured."""
    line = (f"**{kind} rows**: `python benchmarks/engine_vs_libraries.py{' --quick' if env.get('quick') else ''}` on "
            f"{env['cpu']}, {env['cores']} cores, Python {env['python']}, torch {env['torch']}, {env['date']}; ")
    if kind == "CUDA":
        line += (f"{env['cuda']}, driver {env.get('driver', 'unknown')}, CUDA {env.get('cuda_version', 'unknown')}, "
                 f"Triton {env.get('triton', 'not installed')}; ")
    else:
        line += f"{env['threads']} torch thread(s); "
    return (line + "libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items())
            + f"; SpikingJelly's LIF implementation: {env['sj_implementation']}; this engine's kernels: "
            + ", ".join(env["engine_kernels"]) + ".")


def markdown(report: dict) -> str:
    environments, rows = report["environments"], report["rows"]
    names = list(dict.fromkeys(name for row in rows for name in [*row["columns"], *row["skipped"]]))
    cpu_rows = [row for row in rows if is_cpu(row)]
    lines = ["# Engine against the SNN libraries", "",
             *[line for kind, env in environments.items() for line in (environment_line(kind, env), "")],
             "One layer, `Linear(n, n)` + LIF (soft reset by subtraction, threshold 1, beta = 0.5), forward + "
             "backward of `out.sum()` over `x[T, B, n]`, x = randn; every column uses the same weights and input. "
             "The neuron in each library's parameterisation is in the benchmark's docstring. Median over timed "
             "rounds after warm-up, the columns interleaved round by round; IQR, spikes and the load average "
             "are below and every time is in the JSON.", "",
             "Each cell: median ms (ratio to GEMM only, ratio to SpikingJelly). GEMM only is the Linear's forward "
             "+ backward alone, the floor.", "", "## Wall clock", "", *time_table(rows, names, "median_ms")]
    if cpu_rows:
        lines += ["", "## CPU time of the benchmark process (CPU rows)", "",
                  "With one torch thread this is the work itself: it does not count the time other processes held "
                  "the core, so it moves less than the wall clock on a shared machine. Where the load average "
                  "(at the end) is above the core count, the wall clock includes waiting for a core: compare "
                  "this table then.", "",
                  *time_table(cpu_rows, names, "cpu_median_ms")]
    lines += ["", *target_lines(rows)]
    lines += ["", "## Spread, spikes and the correctness check", "",
              f"Spikes: total over the output on the shared input; mismatch: fraction of entries that differ from "
              f"the engine's spikes (allowed: {SPIKE_TOLERANCE:g}).", "",
              "| T, B, n | device | column | wall median ms | wall IQR ms | CPU median ms | CPU IQR ms | rounds | "
              "spikes | rate | mismatch | check |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for name, col in row["columns"].items():
            spikes = (f"{col['spikes']:,} | {col['rate']:.3f} | {col['mismatch']:.2g} | "
                      f"{'same' if col['ok'] else 'DIFFERS'}") if "spikes" in col else "— | — | — | —"
            lines.append(f"| {row['T']}, {row['B']}, {row['n']} | {row['device']} | {name} | "
                         f"{ms(col['median_ms'])} | {ms(col['iqr_ms'])} | {ms(col['cpu_median_ms'])} | "
                         f"{ms(col['cpu_iqr_ms'])} | {row['rounds']} | {spikes} |")
        lines += [f"| {row['T']}, {row['B']}, {row['n']} | {row['device']} | {name} | skipped: {why} |||||||||"
                  for name, why in row["skipped"].items()]
    lines += ["", "## Where the neuron definitions part", "", *[f"- {note}" for note in NOTES]]
    lines += ["", "Load average (1 min) before / after each shape: "
              + "; ".join(f"{r['T']}, {r['B']}, {r['n']} on {r['device']}: {r['load_before']:.1f} / "
                          f"{r['load_after']:.1f}" for r in rows) + "."]
    return "\n".join(lines) + "\n"


def environment(devices: list[torch.device], threads: int, quick: bool) -> dict:
    """The machine, versions and libraries behind the rows of ``devices`` (all CPU or all CUDA)."""
    env = {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
           "threads": threads, "date": time.strftime("%Y-%m-%d"), "quick": quick,
           "libraries": {name: version(name) for name in ("snntorch", "spikingjelly", "norse")},
           "sj_implementation": "; ".join(f"{d.type}: {sj_implementation(d)}" for d in devices),
           "engine_kernels": [k or "reference (no kernel choice in the tree)" for k in engine_kernels()]}
    if devices[0].type == "cuda":
        env.update(cuda=torch.cuda.get_device_name(devices[0]), cuda_version=torch.version.cuda,
                   driver=driver_version(), triton=version("triton"))
    return env


def driver_version() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def kept_rows(path: str, measured_kinds: set[str]) -> tuple[list[dict], dict]:
    """The rows (and their environments) of an earlier report for the device kinds not measured now."""
    earlier = json.loads(Path(path).read_text())
    environments = earlier.get("environments") or {"CPU": earlier["environment"]}     # before CUDA rows existed
    rows = [row for row in earlier["rows"] if ("CPU" if is_cpu(row) else "CUDA") not in measured_kinds]
    kinds = {"CPU" if is_cpu(row) else "CUDA" for row in rows}
    return rows, {kind: env for kind, env in environments.items() if kind in kinds}


def profile_table(shape: tuple[int, int, int, int], device: torch.device) -> str:
    """torch.profiler's table of the fused engine's and SpikingJelly's forward + backward on ``shape`` (5 calls
    after warm-up): which kernels the time goes to, and how much of it the GPU is busy."""
    from torch.profiler import ProfilerActivity, profile
    steps_t, batch, n, _ = shape
    x = torch.randn(steps_t, batch, n, generator=torch.Generator().manual_seed(0)).to(device)
    out = [f"### T, B, n = {steps_t}, {batch}, {n} on {device_label(device)}"]
    for name, build in columns().items():
        if name not in (FUSED, SJ):
            continue
        linear = nn.Linear(n, n).to(device)
        try:
            step = build(linear, device)
        except Unavailable as error:
            out.append(f"{name}: {error}")
            continue
        for _ in range(3):
            timed_step(step, list(linear.parameters()), x, device)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(5):
                timed_step(step, list(linear.parameters()), x, device)
        out += [f"#### {name}", prof.key_averages().table(sort_by="cuda_time_total", row_limit=15)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small shape, few rounds: a smoke run")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU (the engine's default: 1)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "ENGINE_BENCHMARK.md"))
    parser.add_argument("--devices", default="cpu,cuda", help="which of cpu,cuda to measure (cuda where present)")
    parser.add_argument("--keep-rows-from", metavar="JSON", help="keep this report's rows of the devices not measured")
    parser.add_argument("--profile", metavar="FILE", help="also write torch.profiler tables of the CUDA shapes here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wanted = set(args.devices.split(","))
    devices = ([torch.device("cpu")] if "cpu" in wanted else []) + (
        [torch.device("cuda")] if "cuda" in wanted and torch.cuda.is_available() else [])
    if not devices:
        raise SystemExit(f"error: none of --devices {args.devices} is available here; allowed: cpu, cuda (with a GPU)")
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    rows, environments = [], {}
    for device in devices:
        kind = "CPU" if device.type == "cpu" else "CUDA"
        environments[kind] = environment([device], args.threads, args.quick)
        for shape in shapes:
            rows.append(measure_shape(shape, device))
            print(json.dumps({k: rows[-1][k] for k in ("T", "B", "n", "device")}),
                  {name: round(col["median_ms"], 2) for name, col in rows[-1]["columns"].items()}, flush=True)
    if args.keep_rows_from:
        earlier_rows, earlier_environments = kept_rows(args.keep_rows_from, set(environments))
        rows, environments = earlier_rows + rows, {**earlier_environments, **environments}
    report = {"quick": args.quick, "environments": environments, "spike_tolerance": SPIKE_TOLERANCE,
              "beta": BETA, "threshold": THRESHOLD, "input_scale": INPUT_SCALE, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(markdown(report))
    Path(args.out).with_suffix(".json").write_text(json.dumps(report, indent=2))
    print(markdown(report))
    if args.profile:
        cuda = [device for device in devices if device.type == "cuda"]
        Path(args.profile).write_text("\n\n".join(profile_table(shape, d) for d in cuda for shape in shapes) + "\n")


if __name__ == "__main__":
    main()
