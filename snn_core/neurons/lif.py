"""Leaky integrate-and-fire dynamics over time-major sequences, with surrogate gradients.

One time step of the LIF neuron (membrane before reset ``v_pre``, after reset ``v``)::

    v_pre[t] = beta * v[t-1] + I[t]
    s[t]     = H(v_pre[t] - V_th) * 1[count[t-1] < K]          (K = 0: no cap)
    v[t]     = v_pre[t] * (1 - s[t]) + V_reset * s[t]            (hard reset)
             = v_pre[t] - V_th * s[t]                            (soft reset)
    count[t] = count[t-1] + s[t]

Forward, H is the Heaviside step; backward, its derivative is replaced by a surrogate of
unit area and width ``w`` (see ``SURROGATE_GRADIENTS``). The cap mask is not differentiated.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch

LIF_EQUATIONS = (
    r"V^{pre}_t = \beta V_{t-1} + I_t,\quad S_t = \Theta(V^{pre}_t - V_{th})\,[n_{t-1} < K],\quad "
    r"V_t = \begin{cases} V^{pre}_t (1 - S_t) + V_{reset} S_t & \text{hard} \\ V^{pre}_t - V_{th} S_t & \text{soft}\end{cases}"
)


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


class LIFParams(NamedTuple):
    """Parameters of one LIF population (see the module docstring for the equations)."""

    decay: float = 0.5
    threshold: float = 1.0
    reset: str = "hard"
    v_reset: float = 0.0
    surrogate: str = "atan"
    surrogate_width: float = 1.0
    max_spikes: int = 0

    @classmethod
    def from_config(cls, neuron_cfg) -> "LIFParams":
        return cls(neuron_cfg.decay, neuron_cfg.threshold, neuron_cfg.reset, neuron_cfg.v_reset,
                   neuron_cfg.surrogate, neuron_cfg.surrogate_width, neuron_cfg.max_spikes)


class LIFState(NamedTuple):
    """Membrane potential after reset and spikes emitted so far, one entry per neuron."""

    v: torch.Tensor
    count: torch.Tensor

    @classmethod
    def zeros_like(cls, current: torch.Tensor) -> "LIFState":
        return cls(torch.zeros_like(current), torch.zeros_like(current))


class LIFStep(NamedTuple):
    spikes: torch.Tensor
    v_pre: torch.Tensor
    state: LIFState


def cap_spikes(spikes: torch.Tensor, count: torch.Tensor, max_spikes: int) -> torch.Tensor:
    """Silence neurons that already fired ``max_spikes`` times (0 = no cap); the mask is not differentiated."""
    if max_spikes <= 0:
        return spikes
    return spikes * (count < max_spikes).to(spikes.dtype)


def lif_step(current: torch.Tensor, state: LIFState, p: LIFParams) -> LIFStep:
    """Advance every neuron by one time step; shapes of current and state match."""
    v_pre = p.decay * state.v + current
    spikes = cap_spikes(spike(v_pre - p.threshold, p.surrogate, p.surrogate_width), state.count, p.max_spikes)
    if p.reset == "hard":
        v = v_pre * (1.0 - spikes) + p.v_reset * spikes
    elif p.reset == "soft":
        v = v_pre - p.threshold * spikes
    else:
        raise ValueError(f"reset={p.reset!r} is not known; allowed: hard, soft")
    return LIFStep(spikes, v_pre, LIFState(v, state.count + spikes.detach()))


class LIFSequence(NamedTuple):
    """Outputs over the whole sequence, each ``[T, B, ...]``; v_pre/v_post only when recorded."""

    spikes: torch.Tensor
    v_pre: torch.Tensor | None
    v_post: torch.Tensor | None


def run_sequence(step, state, currents: torch.Tensor, p, keep_potentials: bool = False) -> LIFSequence:
    """Apply a neuron's ``step(current, state, params)`` over ``currents[T, B, ...]`` from ``state``.

    The step returns (spikes, v_pre, new state with ``.v``); any neuron model with that shape fits.
    """
    spikes, v_pre, v_post = [], [], []
    for current in currents:                      # current: (B, ...)
        out = step(current, state, p)
        state = out.state
        spikes.append(out.spikes)
        if keep_potentials:
            v_pre.append(out.v_pre)
            v_post.append(state.v)
    stacked = torch.stack(spikes)                 # (T, B, ...)
    if not keep_potentials:
        return LIFSequence(stacked, None, None)
    return LIFSequence(stacked, torch.stack(v_pre), torch.stack(v_post))


def lif_sequence(currents: torch.Tensor, p: LIFParams, keep_potentials: bool = False) -> LIFSequence:
    """Run ``lif_step`` over ``currents[T, B, ...]`` from rest (v = 0, no spikes yet)."""
    return run_sequence(lif_step, LIFState.zeros_like(currents[0]), currents, p, keep_potentials)
