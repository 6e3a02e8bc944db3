"""Fast & Deep's weight bumping for the exact engine: a neuron that never spikes has no gradient, so its weights rise.

After the rule of Göltz et al. (fastAndDeep v1.0.0, ``training.py``), per training batch of B samples:

    silent_l = #{n: neuron n of layer l fired no spike for any sample of the batch} / N_l
    l*       = the foremost layer with silent_l > limit_l          (none: no bump, the doubling restarts)
    W_{l*}[n, :] += bump * 2^r   for every silent neuron n of l*

r counts the consecutive steps on which the same layer l* was bumped (0 on the first). Only the
foremost failing layer is bumped: a layer whose inputs are missing cannot be expected to fire.
Limits: ``HIDDEN_LIMIT`` = 0.3 for hidden layers and 0 for a first-spike output layer (Fast & Deep's
values: every output must be able to fire, since the loss reads every output's time). A count readout
wants the wrong classes silent, so its output layer's limit is (C - 1) / C: bumped only when no output
fires at all.

Three deviations from Fast & Deep. The bump is applied after the optimiser step (Fast & Deep skips
the step on a bumped batch; here methods act through ``MethodHook.after_step``). Silence is read from
``ModelOutput.spike_times``. And a neuron counts as silent only when it fired for no sample of the batch,
where Fast & Deep counts every (sample, neuron) pair without a spike: in this engine's finite window a
first-spike readout leaves most wrong-class outputs silent on most samples (they need not fire, and have a
gradient through the samples where they do), so counting pairs bumped the output layer on nearly every
batch, the doubling grew without bound (2^r after r steps in a row) and training collapsed. Measured on
``train --dataset digits --encoding latency --latency-window 8 --T 16 --neuron cuba --tau-syn 4 --hidden 64
--lr 0.01 --epochs 12 --batch-norm false --readout first-spike --engine exact --max-spikes 1``, seeds 11 and
12: counting pairs 73.9% and 10.8% test accuracy (the second at chance from epoch 4), no bumping 74.7% and
85.0%, whole-batch silence 86.7% and 90.6% (the rule before commit 98b1310 gave 89.4% and 89.2%).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..hooks import MethodHook

if TYPE_CHECKING:
    from ...network.protocol import Network
    from ...network.records import ModelOutput

HIDDEN_LIMIT = 0.3             # Fast & Deep's max_num_missing_spikes for hidden layers


def silent_neurons(spike_times: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Per layer, ``(N,)`` bool: neuron n fired no spike for any sample of the batch; ``spike_times`` per layer
    ``(B, N, K)`` ascending, inf = no spike."""
    return [~torch.isfinite(times[..., 0]).any(0) for times in spike_times]


def silent_limits(n_layers: int, readout: str, n_classes: int) -> list[float]:
    """The silent fraction each layer may have before it is bumped (module docstring)."""
    out = 0.0 if readout == "first-spike" else (n_classes - 1) / n_classes
    return [HIDDEN_LIMIT] * (n_layers - 1) + [out]


def layer_to_bump(silent: list[torch.Tensor], limits: list[float]) -> int | None:
    """Index of the foremost layer whose fraction of silent neurons exceeds its limit."""
    return next((index for index, (quiet, limit) in enumerate(zip(silent, limits, strict=True))
                 if float(quiet.double().mean()) > limit), None)


class WeightBump(MethodHook):
    """Remembers which layer was bumped last and how many times in a row; ``bump`` is ``training.weight_bump``."""

    def __init__(self, bump: float, n_layers: int):
        super().__init__()
        self.bump = bump
        self.n_layers = n_layers
        self.last: int | None = None        # layer bumped on the previous step (None: no bump)
        self.repeats = 0                    # consecutive bumps of ``last`` before this step

    @torch.no_grad()
    def after_step(self, model: Network, out: ModelOutput) -> None:
        if out.spike_times is None:
            raise ValueError("weight bumping reads ModelOutput.spike_times, which only model.engine='exact' fills")
        silent = silent_neurons(out.spike_times)
        limits = silent_limits(self.n_layers, model.readout_kind, out.spike_times[-1].shape[1])
        index = layer_to_bump(silent, limits)
        self.repeats = self.repeats + 1 if index is not None and index == self.last else 0
        self.last = index
        if index is not None:
            weight = model.layers[index].synapse.weight                     # (N, F)
            weight[silent[index]] += self.bump * 2.0 ** self.repeats
