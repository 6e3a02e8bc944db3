"""Fast & Deep's weight bumping for the exact engine: silent neurons have no gradient, so their weights are raised.

After an optimiser step, a layer in which more than ``SILENT_FRACTION`` of the neurons (hidden layers)
or any neuron (the output layer "out") stayed silent on the whole batch gets ``training.weight_bump * 2^n``
added to the input weights of its silent neurons, n counting that layer's consecutive bumps (reset to
0 once the layer recovers). Silence is read from the step's ``ModelOutput.spike_times``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..hooks import MethodHook

if TYPE_CHECKING:
    from ...network.protocol import Network
    from ...network.records import ModelOutput

SILENT_FRACTION = 0.3          # hidden layers: bump when more than this fraction is silent on the batch


def silent_neurons(spike_times: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
    """Per layer, ``(N,)`` bool: the neurons that fired no spike for any sample; ``spike_times`` per layer
    ``(B, N, K)`` ascending, inf = no spike."""
    return [~torch.isfinite(times[..., 0]).any(0) for times in spike_times]


class WeightBump(MethodHook):
    """Owns the consecutive-bump counter of each layer; ``bump`` is ``training.weight_bump`` (> 0)."""

    def __init__(self, bump: float, n_layers: int):
        super().__init__()
        self.bump = bump
        self.bumps = [0] * n_layers         # consecutive bumps per layer

    @torch.no_grad()
    def after_step(self, model: Network, out: ModelOutput) -> None:
        if out.spike_times is None:
            raise ValueError("weight bumping reads ModelOutput.spike_times, which only model.engine='exact' fills")
        for index, (layer, silent) in enumerate(zip(model.layers, silent_neurons(out.spike_times), strict=True)):
            limit = 0.0 if layer.name == "out" else SILENT_FRACTION
            if float(silent.double().mean()) > limit:
                weight = layer.synapse.weight
                weight[silent] += self.bump * 2.0 ** self.bumps[index]
                self.bumps[index] += 1
            else:
                self.bumps[index] = 0
