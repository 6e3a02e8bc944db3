"""Fast & Deep's weight bumping for the exact engine: neurons that miss spikes have no gradient, so their weights rise.

The rule of Göltz et al. (fastAndDeep v1.0.0, ``training.py``), per training batch of B samples:

    missing_l = #{(b, n): neuron n of layer l fired no spike for sample b} / (B N_l)
    l*        = the foremost layer with missing_l > limit_l          (none: no bump, the doubling restarts)
    W_{l*}[n, :] += bump * 2^r   for every neuron n of l* that missed a spike in at least one sample

r counts the consecutive steps on which the same layer l* was bumped (0 on the first). Only the
foremost failing layer is bumped: a layer whose inputs are missing cannot be expected to fire.
Limits: ``HIDDEN_LIMIT`` = 0.3 for hidden layers and 0 for a first-spike output layer (Fast & Deep's
values: every output must fire, since the loss reads every output's time). A count readout wants
the wrong classes silent, so its output layer's limit is (C - 1) / C: the missing fraction of a
network whose true-class output alone fires. Two deviations, both said in the report: the bump is
applied after the optimiser step (Fast & Deep skips the step on a bumped batch; here methods act
through ``MethodHook.after_step``), and missing spikes are read from ``ModelOutput.spike_times``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..hooks import MethodHook

if TYPE_CHECKING:
    from ...network.protocol import Network
    from ...network.records import ModelOutput

HIDDEN_LIMIT = 0.3             # Fast & Deep's max_num_missing_spikes for hidden layers


def missing_spikes(spike_times: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Per layer, ``(B, N)`` bool: neuron n fired no spike for sample b; ``spike_times`` per layer ``(B, N, K)``
    ascending, inf = no spike."""
    return [~torch.isfinite(times[..., 0]) for times in spike_times]


def missing_limits(n_layers: int, readout: str, n_classes: int) -> list[float]:
    """The missing fraction each layer may have before it is bumped (module docstring)."""
    out = 0.0 if readout == "first-spike" else (n_classes - 1) / n_classes
    return [HIDDEN_LIMIT] * (n_layers - 1) + [out]


def layer_to_bump(missing: list[torch.Tensor], limits: list[float]) -> int | None:
    """Index of the foremost layer whose fraction of missing (sample, neuron) spikes exceeds its limit."""
    return next((index for index, (miss, limit) in enumerate(zip(missing, limits, strict=True))
                 if float(miss.double().mean()) > limit), None)


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
        missing = missing_spikes(out.spike_times)
        limits = missing_limits(self.n_layers, model.readout_kind, out.spike_times[-1].shape[1])
        index = layer_to_bump(missing, limits)
        self.repeats = self.repeats + 1 if index is not None and index == self.last else 0
        self.last = index
        if index is not None:
            weight = model.layers[index].synapse.weight                     # (N, F)
            weight[missing[index].any(0)] += self.bump * 2.0 ** self.repeats
