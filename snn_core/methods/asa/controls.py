"""Attenuation controls for ASA: gates that shrink a conv layer's current without any attention.

ASA multiplies every element of a conv layer's current by a gate in (0, 1), so it lowers the firing rate
whatever it selects. To credit a drop in firing to ASA's *selection* of important channels and steps, it has
to beat gates that shrink the current blindly. Both controls sit in ASA's place (between the conv layer's
norm and its neuron, through the discrete network's ``gate_for`` slot), on the same layers
(``methods.asa_layers``), and are values of the same option (``methods.asa``):

* ``constant``: X̃ = g·X with g = ``methods.asa_constant_gate`` fixed, no parameters.
* ``scalar``: X̃ = σ(p)·X with one learnable p per gated layer, p = logit(g) at init, so the gate starts at
  g = ``methods.asa_constant_gate`` and stays in (0, 1) as it learns.
* ``random``: ASA's *sparsity* without its *selection*. Per sample, a random set of k = round(f·T·C) of the
  (t, c) slices is gated by a learnable σ(p) (from g, as ``scalar``) and the rest passes ungated::

      M[t,b,c] ∈ {0, 1},  Σ_{t,c} M[t,b,c] = k  (uniform at random, per sample b)
      X̃[t,b,c,h,w] = (1 − M[t,b,c]·(1 − σ(p)))·X[t,b,c,h,w]

  f = ``methods.asa_random_fraction``; 0 (the default) takes the fraction of slices ASA leaves sub-important at
  its λ and rule (``sub_important_fraction``). If ASA's credit comes from *which* slices it picks, it beats a
  gate that picks as many at random. The masks come from the gate's own generator (seeded from the run's seed):
  while training it advances batch by batch; in evaluation it restarts from the seed on every call, so the same
  batch always gets the same masks (evaluation is reproducible; a sample's mask depends on its place in its batch).

A constant gate g is forward-identical to no gate with the norm's γ started at g (g(γx̂ + β) = (gγ)x̂ + gβ, β
starts at 0: ``model.bn_gamma``) and to a threshold raised to V_th/g; those differ only in how the surrogate is
scaled, so the report tunes "off" over ``model.bn_gamma`` instead of running them as separate controls.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ...network.layers import ScaleGate
from .rules import RULES, combine

CONTROLS = ("constant", "scalar", "random")


def _checked(gate: float, kind: str) -> float:
    """``gate`` as a float if ``kind``'s gate allows it: 0 < g <= 1 (constant), 0 < g < 1 (scalar, random: a finite
    logit)."""
    number = isinstance(gate, (int, float)) and not isinstance(gate, bool)
    if not number or not (0 < gate < 1 or (gate == 1 and kind == "constant")):
        bound = "0 < gate <= 1" if kind == "constant" else "0 < gate < 1 (its logit must be finite)"
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


def sub_important_fraction(lam: float, rule: str, steps: int, channels: int) -> float:
    """The fraction of (t, c) slices ASA leaves sub-important: 1 − I(a, b) with a = ⌊λC⌋/C, b = ⌊λT⌋/T and
    I = a + b − 2ab (xor), ab (and), a + b − ab (or), the important share of the rule's channel and time masks."""
    if rule not in RULES:
        raise ValueError(f"ASA rule={rule!r} is not allowed; allowed: {', '.join(RULES)}")
    a = torch.tensor(math.floor(lam * channels) / channels, dtype=torch.float64)
    b = torch.tensor(math.floor(lam * steps) / steps, dtype=torch.float64)
    return 1 - float(combine(rule, a, b))          # ASA's own soft combination of the two shares


class RandomGate(nn.Module):
    """The random-selection control (module docstring): a random fraction of each sample's (t, c) slices times a
    learnable σ(p), the rest ungated; ``fraction`` None takes ASA's sub-important fraction at ``lam`` and ``rule``."""

    def __init__(self, gate: float, seed: int, fraction: float | None = None, lam: float = 0.5, rule: str = "xor"):
        super().__init__()
        if fraction is not None and not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
            raise ValueError(f"random gate fraction={fraction!r} is not allowed; allowed: 0 < fraction < 1, or "
                             "None for ASA's sub-important fraction at its lambda")
        g = _checked(gate, "random")
        self.logit = nn.Parameter(torch.tensor(math.log(g / (1 - g))))
        self.fraction, self.lam, self.rule, self.seed = fraction, float(lam), rule, int(seed)
        self.generator = torch.Generator().manual_seed(self.seed)

    def extra_repr(self) -> str:
        share = "ASA's" if self.fraction is None else f"{self.fraction:g}"
        return f"fraction={share}, gate={self.value():.4g}, seed={self.seed}"

    def value(self) -> float:
        """The gate σ(p) the chosen slices are multiplied by now."""
        return float(torch.sigmoid(self.logit.detach()))

    def gated_count(self, steps: int, channels: int) -> int:
        """k = round(f·T·C), at least 1: how many (t, c) slices of a sample are gated."""
        share = self.fraction if self.fraction is not None else \
            sub_important_fraction(self.lam, self.rule, steps, channels)
        return max(1, round(share * steps * channels))

    def mask(self, steps: int, batch: int, channels: int) -> torch.Tensor:
        """M ``(T, B, C)`` bool: ``gated_count`` slices per sample, uniformly at random (the module docstring)."""
        generator = self.generator if self.training else torch.Generator().manual_seed(self.seed)
        draws = torch.rand(batch, steps * channels, generator=generator)                 # (B, T*C)
        ranks = draws.argsort(1).argsort(1)                                               # (B, T*C)
        chosen = ranks < self.gated_count(steps, channels)                                # (B, T*C)
        return chosen.reshape(batch, steps, channels).permute(1, 0, 2)                    # (T, B, C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ValueError(f"random gate expects x[T, B, C, H, W]; got shape {tuple(x.shape)}")
        chosen = self.mask(x.shape[0], x.shape[1], x.shape[2]).to(x.device)[..., None, None]   # (T, B, C, 1, 1)
        return torch.where(chosen, x * torch.sigmoid(self.logit), x)                            # (T, B, C, H, W)


CONTROL_GATES = {"constant": ConstantGate, "scalar": ScalarGate, "random": RandomGate}
