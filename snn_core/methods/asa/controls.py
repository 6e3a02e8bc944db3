"""Attenuation controls for ASA: gates that shrink a conv layer's current without any attention.

ASA multiplies every element of a conv layer's current by a gate in (0, 1), so it lowers the firing rate
whatever it selects. To credit a drop in firing to ASA's *selection* of important channels and steps, it has
to beat gates that shrink the current blindly. Both controls sit in ASA's place (between the conv layer's
norm and its neuron, through the discrete network's ``gate_for`` slot), on the same layers
(``methods.asa_layers``), and are values of the same option (``methods.asa``):

* ``constant``: X̃ = g·X with g = ``methods.asa_constant_gate`` fixed, no parameters.
* ``scalar``: X̃ = σ(p)·X with one learnable p per gated layer, p = logit(g) at init, so the gate starts at
  g = ``methods.asa_constant_gate`` and stays in (0, 1) as it learns.

The third control, a raised threshold, is a neuron setting (``neuron.threshold``) and needs no module.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...network.layers import ScaleGate

CONTROLS = ("constant", "scalar")


def _checked(gate: float, kind: str) -> float:
    """``gate`` as a float if ``kind``'s gate allows it: 0 < g <= 1 (constant), 0 < g < 1 (scalar: finite logit)."""
    number = isinstance(gate, (int, float)) and not isinstance(gate, bool)
    if not number or not (0 < gate < 1 or (gate == 1 and kind == "constant")):
        bound = "0 < gate < 1 (its logit must be finite)" if kind == "scalar" else "0 < gate <= 1"
        raise ValueError(f"{kind} gate={gate!r} is not allowed; allowed: {bound}")
    return float(gate)


class ConstantGate(ScaleGate):
    """X̃ = g·X for a conv layer's current ``[T, B, C, H, W]``; g fixed, no parameters."""

    def __init__(self, gate: float):
        super().__init__()
        self.gate = _checked(gate, "constant")

    def extra_repr(self) -> str:
        return f"gate={self.gate:g}"

    def value(self) -> float:
        """The gate g every element is multiplied by."""
        return self.gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate                                                     # (T, B, C, H, W)


class ScalarGate(ScaleGate):
    """X̃ = σ(p)·X for a conv layer's current ``[T, B, C, H, W]``; one learnable p, σ(p) = ``gate`` at init."""

    def __init__(self, gate: float):
        super().__init__()
        g = _checked(gate, "scalar")
        self.logit = nn.Parameter(torch.tensor(math.log(g / (1 - g))))

    def extra_repr(self) -> str:
        return f"gate={self.value():.4g}"

    def value(self) -> float:
        """The gate σ(p) every element is multiplied by now."""
        return float(torch.sigmoid(self.logit.detach()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.logit)                                     # (T, B, C, H, W)


CONTROL_GATES = {"constant": ConstantGate, "scalar": ScalarGate}
