"""The spike nonlinearity: Heaviside forward, a named surrogate derivative backward, and the spike cap.

Forward, H is the Heaviside step; backward, its derivative is replaced by a surrogate of
unit area and width ``w`` (see ``SURROGATE_GRADIENTS``). The cap mask is not differentiated.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch


def _atan_grad(x: torch.Tensor, width: float) -> torch.Tensor:
    """d/dx of (1/pi) atan(pi x / w) + 1/2: a Lorentzian of half-width w/pi, unit area."""
    return (1.0 / width) / (1.0 + (math.pi * x / width) ** 2)


def _fast_sigmoid_grad(x: torch.Tensor, width: float) -> torch.Tensor:
    """d/dx of the fast sigmoid x / (w + 2|x|) + 1/2: (1/w) / (1 + 2|x|/w)^2, unit area."""
    return (1.0 / width) / (1.0 + 2.0 * x.abs() / width) ** 2


def _rectangular_grad(x: torch.Tensor, width: float) -> torch.Tensor:
    """A box of width w and height 1/w centred on the threshold: unit area."""
    return (x.abs() < width / 2).to(x.dtype) / width


SURROGATE_GRADIENTS: dict[str, Callable[[torch.Tensor, float], torch.Tensor]] = {
    "atan": _atan_grad,
    "fast-sigmoid": _fast_sigmoid_grad,
    "rectangular": _rectangular_grad,
}


class _SpikeFunction(torch.autograd.Function):
    """Heaviside forward, surrogate derivative backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, surrogate: str, width: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.surrogate, ctx.width = surrogate, width
        return (x >= 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        return grad_out * SURROGATE_GRADIENTS[ctx.surrogate](x, ctx.width), None, None


def spike(x: torch.Tensor, surrogate: str = "atan", width: float = 1.0) -> torch.Tensor:
    """Spikes where ``x = v - V_th >= 0``, differentiable through the named surrogate."""
    if surrogate not in SURROGATE_GRADIENTS:
        raise ValueError(f"surrogate={surrogate!r} is not known; allowed: {', '.join(SURROGATE_GRADIENTS)}")
    return _SpikeFunction.apply(x, surrogate, width)


def cap_spikes(spikes: torch.Tensor, count: torch.Tensor, max_spikes: int) -> torch.Tensor:
    """Silence neurons that already fired ``max_spikes`` times (0 = no cap); the mask is not differentiated."""
    if max_spikes <= 0:
        return spikes
    return spikes * (count < max_spikes).to(spikes.dtype)
