"""Where a training step's time goes: torch.profiler over the default events-shape conv run, per neuron kernel.

    python benchmarks/step_profile.py [--steps 12] [--rounds 3] [--out docs/STEP_PROFILE.md]

Both kernels (``--kernel fused`` and ``reference``) train the same config from the same seed in one process,
alternating round by round, so their ratio is fair on a shared machine. Each operator's self CPU time is put
in one group (the neuron recurrence, convolution and matmul, BatchNorm, pooling, the optimiser, the rest),
and the report gives each group's share and the bound it sets (Amdahl): if the neuron takes a fraction f of
the step, no neuron kernel can make the step more than 1 / (1 - f) times faster.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

from snn_core.config.run_config import RunConfig
from snn_core.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
# the default events-shape conv run, with enough clips that no profiled step closes an epoch (which would add the
# epoch's evaluation to the step): 6,000 clips are 84 batches an epoch, each trainer takes 1 + 2 x rounds x steps
CONFIG = {"dataset": "events-shape", "arch": "conv", "robustness": False, "train-samples": 6000}
KERNELS = ("fused", "reference")
GROUPS = {     # group -> substrings of profiler op names (the first group that matches wins)
    "neuron recurrence": ("FusedNeuron", "lif_step", "cuba_step", "_SpikeFunction", "SpikeFunction"),
    "convolution and matmul": ("convolution", "mm", "addmm", "linear"),
    "BatchNorm": ("batch_norm",),
    "pooling": ("pool",),
    "optimiser": ("Optimizer", "Adam", "lerp", "addcdiv", "sqrt", "foreach"),
}


def group_of(name: str) -> str:
    return next((group for group, keys in GROUPS.items() if any(key in name for key in keys)), "the rest")


def profile_steps(trainer: Trainer, steps: int) -> dict[str, float]:
    """Self CPU ms per group over ``steps`` training steps of ``trainer``."""
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            trainer.step()
    groups: dict[str, float] = {}
    for event in prof.key_averages():
        groups[group_of(event.key)] = groups.get(group_of(event.key), 0.0) + event.self_cpu_time_total / 1e3
    return groups


def measure(steps: int, rounds: int) -> dict:
    """Per kernel: profiled group times (median over rounds) and unprofiled CPU seconds per step."""
    trainers = {kernel: Trainer(RunConfig().with_values({**CONFIG, "kernel": kernel})) for kernel in KERNELS}
    if 1 + 2 * rounds * steps >= trainers["fused"].batches_per_epoch:
        raise ValueError(f"steps={steps} x rounds={rounds} would close an epoch (its evaluation is no training step); "
                         f"allowed: 1 + 2 x rounds x steps < {trainers['fused'].batches_per_epoch}")
    for trainer in trainers.values():
        trainer.step()                                    # warm-up: numba's cached loops load here
    profiled = {kernel: [] for kernel in KERNELS}
    plain = {kernel: [] for kernel in KERNELS}
    for _ in range(rounds):
        for kernel, trainer in trainers.items():
            profiled[kernel].append(profile_steps(trainer, steps))
            started = time.process_time()
            for _ in range(steps):
                trainer.step()
            plain[kernel].append((time.process_time() - started) / steps * 1e3)
    return {kernel: {"groups_ms": {group: statistics.median(run.get(group, 0.0) for run in profiled[kernel]) / steps
                                   for group in [*GROUPS, "the rest"]},
                     "cpu_ms_per_step": statistics.median(plain[kernel]), "cpu_ms_rounds": plain[kernel]}
            for kernel in KERNELS}


def markdown(result: dict, steps: int, rounds: int) -> str:
    fused, reference = result["fused"], result["reference"]
    lines = ["# Where a training step's time goes", "",
             f"Measured by `python benchmarks/step_profile.py` on {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, torch {torch.__version__}, 1 torch thread, {time.strftime('%Y-%m-%d')}; "
             f"load average {os.getloadavg()[0]:.1f} at the end. The default events-shape conv run "
             "(conv 16-32 + fc 128, T = 8, batch 64; 6,000 clips so that no profiled step closes an epoch), "
             "both neuron kernels from the same seed in one process, "
             f"{rounds} alternating rounds of {steps} steps; self CPU time per step from torch.profiler, grouped by "
             "operator, median over rounds. The profiler's own overhead inflates every row alike: read the shares. "
             "The reference loop's neuron is many small elementwise ops (mul, add, ge, where, stack) that cannot be "
             "told from other ones by name, so they fall in \"the rest\" there.", "",
             "| group | fused kernel, ms per step | share | reference loop, ms per step | share |",
             "|---|---|---|---|---|"]
    totals = {kernel: sum(result[kernel]["groups_ms"].values()) for kernel in KERNELS}
    for group in [*GROUPS, "the rest"]:
        cells = [f"{result[kernel]['groups_ms'][group]:.1f} | {result[kernel]['groups_ms'][group] / totals[kernel]:.0%}"
                 for kernel in KERNELS]
        lines.append(f"| {group} | {' | '.join(cells)} |")
    lines.append(f"| total (profiled) | {totals['fused']:.1f} | 100% | {totals['reference']:.1f} | 100% |")
    share = fused["groups_ms"]["neuron recurrence"] / totals["fused"]
    ratio = reference["cpu_ms_per_step"] / fused["cpu_ms_per_step"]
    lines += ["", f"Unprofiled CPU time per step: fused {fused['cpu_ms_per_step']:.1f} ms, reference "
              f"{reference['cpu_ms_per_step']:.1f} ms: the fused kernel's step is {ratio:.2f}x as fast.", "",
              f"The neuron recurrence is now {share:.0%} of the fused step, so even a free neuron would make the step "
              f"at most {1 / (1 - share):.2f}x faster; a 2x faster run has to come from the other groups (BatchNorm, "
              "pooling and the conv layers work on the same [T*B, C, H, W] tensors, so fusing them with the neuron "
              "is the next lever)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "docs" / "STEP_PROFILE.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = measure(args.steps, args.rounds)
    out = Path(args.out)
    out.write_text(markdown(result, args.steps, args.rounds))
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    print(out.read_text())


if __name__ == "__main__":
    main()
