"""PLIF's learnable membrane decay (Fang et al., ICCV 2021): one β = σ(w) per layer, learned with the weights.

The layer's LIF keeps this project's equation, v_pre[t] = β v[t-1] + I[t], with the decay β now a parameter:
β = σ(w), so it stays in (0, 1) whatever w becomes, and w = logit(β₀) at the start, so a PLIF network starts
exactly where the same network with the fixed decay β₀ = ``neuron.decay`` does (the two arms differ only in
that β learns). Fang et al. also scale the input by 1/τ (their H = V + (X − V)/τ); that factor is a scale of
the synaptic weights, which learn anyway, so it is left out. The gradient of β needs autograd through the time
loop: the fused neuron op's hand-written backward has none, so a PLIF layer runs the reference step loop.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...network.layers import NeuronDynamics
from ...neurons.units import tau_from_decay

DECAY_LATEX = (r"V^{pre}_t = \beta V_{t-1} + I_t,\qquad \beta = \sigma(w) = \frac{1}{1 + e^{-w}},\qquad "
               r"\tau = -1/\ln\beta")


class LearnableDecay(NeuronDynamics):
    """One learnable decay for a whole layer, β = σ(w), starting at ``decay`` (needs 0 < decay < 1)."""

    def __init__(self, decay: float):
        super().__init__()
        self.logit = nn.Parameter(torch.tensor(_logit(decay)))

    def decay(self) -> torch.Tensor:
        return torch.sigmoid(self.logit)

    def forward(self, params):
        return params._replace(decay=self.decay(), kernel="reference")

    def fixed(self, params):
        return params._replace(decay=float(self.decay().detach()))

    def assign(self, params) -> None:
        with torch.no_grad():
            self.logit.fill_(_logit(params.decay))

    def tau(self) -> float:
        """The learned membrane time constant in time steps, τ = −1 / ln β."""
        return tau_from_decay(float(self.decay().detach()))


def _logit(decay: float) -> float:
    """w with σ(w) = decay; ValueError outside (0, 1), where w is infinite."""
    if not 0 < decay < 1:
        raise ValueError(f"decay={decay!r} cannot be a learnable decay (w = logit(decay) must be finite); "
                         "allowed: 0 < decay < 1")
    return math.log(decay / (1 - decay))
