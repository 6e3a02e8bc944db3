"""Glue for the Redundancy page: ASA off and on, its controls, and per-channel views of the runs."""
from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from snn_core.config.check import require_valid
from snn_core.config.run_config import RunConfig
from snn_core.data import DATASETS
from snn_core.methods.asa.gate import mean_gate
from snn_core.methods.presets import PAPER_NEURONS
from snn_core.metrics.redundancy import RedundancyMetrics, mpd_histogram
from snn_core.training.evaluate import SampleTrace
from snn_core.training.trainer import Trainer

from .jobs import Control, Job, train_steps

ARMS = ("ASA off", "ASA on")
# ASA's controls (snn_core.methods.asa.controls): label -> the changes, given the gate g. The learned gate shrinks the
# same current without attention; the random gate gates as many (time, channel) slices as ASA, chosen at random. A
# constant gate or a raised threshold is forward-identical to off with BatchNorm's gamma started at g (--bn-gamma)
CONTROLS = {
    "learned gate": lambda gate: {"asa": "scalar", "asa-constant-gate": gate},
    "random gate": lambda gate: {"asa": "random", "asa-constant-gate": gate},
}
DEFAULT_CONTROL = "learned gate"     # ASA's best control in the report (attenuation alone)
TRACED_SAMPLES = 16          # test samples whose currents make the MPD histograms
JOB = "asa-pair"             # the page's job name in the session
# The page's default network: the ASA paper's neuron (V_th 0.3, leak 0.3, hard reset, rectangular surrogate) and lr
# 0.01. With the sidebar's neuron (V_th 1) no conv channel was noise on validation (noise 0.2-2.0, 4 epochs, 1000
# clips); with this one, 1000 clips and 4 epochs, the run without ASA had noise channels on validation on seeds 0, 1,
# 2 (conv1 3, 1, 2 of 16; conv2 0, 2, 0 of 32) and clean ASA none on seed 0.
PAPER_NETWORK = {**PAPER_NEURONS["asa"], "lr": 0.01}


def pair_configs(base: RunConfig, variant: str, noise: float, epochs: int, train_samples: int,
                 controls: Sequence[str] = (), gate: float = 0.7, paper_network: bool = True) -> dict[str, RunConfig]:
    """Arm -> config: the sidebar settings as a conv net on event data (ASA gates conv layers; noise lives in
    event data), with ``PAPER_NETWORK``'s neuron and lr unless ``paper_network`` is False, without ASA, with the
    chosen variant, and with each chosen control at gate ``gate``; everything else, seed included, is shared.
    ValueError listing the problems (``config.check``) when an arm cannot run."""
    dataset = base.data.dataset if DATASETS[base.data.dataset].has_time_axis else "events-shape"
    off = base.with_values({**(PAPER_NETWORK if paper_network else {}), "dataset": dataset, "arch": "conv",
                            "noise": noise, "epochs": epochs, "train-samples": train_samples, "asa": "off",
                            "asa-rule": "xor"})
    arms = {"ASA off": off, "ASA on": off.with_values({"asa": variant}),
            **{name: off.with_values(CONTROLS[name](gate)) for name in controls}}
    for cfg in arms.values():
        require_valid(cfg)
    return arms


def pair_job(configs: dict[str, RunConfig]) -> Job:
    """Every arm trained to the end, one after the other, as a background job (its value: arm -> ``Trainer``)."""
    def work(control: Control) -> dict[str, Trainer]:
        return {arm: train_steps(control, cfg, f"training {arm}", number, len(configs))
                for number, (arm, cfg) in enumerate(configs.items())}
    return Job("ASA off, on and controls", len(configs), work, {"configs": configs})


def measured_gate(trace: SampleTrace) -> float | None:
    """The mean gate of a traced run's gated currents (``methods.asa.mean_gate``); None without a gate."""
    return mean_gate(trace.trace.layers)


class ChannelPick(NamedTuple):
    noise: int | None
    normal: int | None


def pick_channels(redundancy: RedundancyMetrics, layer: str) -> ChannelPick:
    """The busiest channel classified noise and the busiest classified normal, in the run without ASA."""
    rates = redundancy.firing_maps[layer].flatten(1).mean(1)                      # (C,)
    patterns = redundancy.patterns[layer]

    def busiest(pattern: str) -> int | None:
        chosen = [c for c, p in enumerate(patterns) if p == pattern]
        return max(chosen, key=lambda c: float(rates[c])) if chosen else None

    return ChannelPick(busiest("noise"), busiest("normal"))


def noise_story(off: RedundancyMetrics, on: RedundancyMetrics) -> str:
    """What became of the run without ASA's noise channels in the run with it (the same channel numbers: both
    start from the same weights), per conv layer, in numbers; a sentence when the run without ASA has none."""
    lines = []
    for layer, patterns in off.patterns.items():
        noisy = [c for c, p in enumerate(patterns) if p == "noise"]
        if noisy:
            became = ", ".join(f"{sum(on.patterns[layer][c] == p for c in noisy)} {p}" for p in ("noise", "normal",
                                                                                                  "null"))
            lines.append(f"- **{layer}**: {len(noisy)} of {len(patterns)} channels noise without ASA "
                         f"({', '.join(map(str, noisy))}); with ASA those channels are {became}; "
                         f"{on.patterns[layer].count('noise')} noise channels in all.")
    if not lines:
        return ("No conv channel is classified noise in the run without ASA, so these settings cannot show ASA "
                "silencing noise channels: keep the ASA paper's neuron on, or train longer.")
    return "\n".join(lines)


def traced(trainer: Trainer) -> SampleTrace:
    return trainer.trace_samples(range(min(TRACED_SAMPLES, len(trainer.dataset.test_y))))


def channel_mpd(trace: SampleTrace, layer: str, channel: int, field: str = "current") -> tuple[np.ndarray, ...]:
    """Histogram of one channel's gated input current (or ``v_pre``) over the traced samples and steps."""
    record = next(r for r in trace.trace.layers if r.name == layer)
    values = getattr(record, field)[:, :, channel]                                 # (T, b, H, W)
    return mpd_histogram(values)


def gate_view(trainer: Trainer, trace: SampleTrace, layer: str, sample: int) -> dict | None:
    """ASA's decisions for one traced sample of a gated layer: its two spatial gates and (t, c) mask."""
    index = trainer.model.layer_names.index(layer)
    gate = trainer.model.layers[index].gate
    if not hasattr(gate, "explain"):
        return None
    with torch.no_grad():
        maps = gate.explain(trace.trace.layers[index].ungated)                   # batch of the traced samples
    return {"important gate": maps.gate_important[sample].cpu().numpy(),
            "sub-important gate": maps.gate_sub_important[sample].cpu().numpy(),
            "mask": maps.important[sample].cpu().numpy()}


def input_image(trainer: Trainer, test_index: int) -> np.ndarray:
    """A test clip's events summed over time and polarity, ``(H, W)``, clipped at the 98th percentile
    so that a few hot pixels do not wash out the moving shape."""
    image = trainer.dataset.test_x[test_index].float().sum((0, 1)).cpu().numpy()
    return np.minimum(image, np.percentile(image, 98))
