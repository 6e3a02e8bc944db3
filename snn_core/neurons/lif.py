"""Leaky integrate-and-fire dynamics over time-major sequences.

One time step of the LIF neuron (membrane before reset ``v_pre``, after reset ``v``)::

    v_pre[t] = beta * v[t-1] + I[t]
    s[t]     = H(v_pre[t] - V_th) * 1[count[t-1] < K]          (K = 0: no cap)
    v[t]     = v_pre[t] * (1 - s[t]) + V_reset * s[t]            (hard reset)
             = v_pre[t] - V_th * s[t]                            (soft reset)
    count[t] = count[t-1] + s[t]

H is the spike function of ``snn_core.neurons.spike`` (Heaviside forward, surrogate backward).
``lif_reference`` is the readable reference loop (autograd through ``lif_step``, the oracle of the tests);
``lif_spikes`` and ``lif_sequence`` run ``params.kernel``: "fused" (default) is one op over all T steps
with a hand-written backward (``snn_core.neurons.fused``), bit-exact forward, same gradients.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .fused import check_kernel, lif_fused
from .loop import NeuronSequence, record_sequence, spike_sequence
from .spike import cap_spikes, spike

LIF_EQUATIONS = (     # two lines, so that it fits a page column at 1024 px
    r"\begin{gathered}V^{pre}_t = \beta V_{t-1} + I_t,\quad S_t = \Theta(V^{pre}_t - V_{th})\,[n_{t-1} < K],\\ "
    r"V_t = \begin{cases} V^{pre}_t (1 - S_t) + V_{reset} S_t & \text{hard} \\ "
    r"V^{pre}_t - V_{th} S_t & \text{soft}\end{cases}\end{gathered}"
)


class LIFParams(NamedTuple):
    """Parameters of one LIF population (see the module docstring for the equations); ``kernel`` picks the
    recurrence's implementation, "fused" or "reference"."""

    decay: float = 0.5
    threshold: float = 1.0
    reset: str = "hard"
    v_reset: float = 0.0
    surrogate: str = "atan"
    surrogate_width: float = 1.0
    max_spikes: int = 0
    kernel: str = "fused"

    @classmethod
    def from_config(cls, neuron_cfg) -> LIFParams:
        return cls(neuron_cfg.decay, neuron_cfg.threshold, neuron_cfg.reset, neuron_cfg.v_reset,
                   neuron_cfg.surrogate, neuron_cfg.surrogate_width, neuron_cfg.max_spikes, neuron_cfg.kernel)


class LIFState(NamedTuple):
    """Membrane potential after reset and spikes emitted so far, one entry per neuron."""

    v: torch.Tensor
    count: torch.Tensor     # type: ignore[assignment]  # shadows tuple.count, a method nothing here calls

    @classmethod
    def zeros_like(cls, current: torch.Tensor) -> LIFState:
        return cls(torch.zeros_like(current), torch.zeros_like(current))


class LIFStep(NamedTuple):
    spikes: torch.Tensor
    v_pre: torch.Tensor
    state: LIFState


def lif_step(current: torch.Tensor, state: LIFState, p: LIFParams) -> LIFStep:
    """Advance every neuron by one time step; shapes of current and state match."""
    v_pre = p.decay * state.v + current
    spikes = cap_spikes(spike(v_pre - p.threshold, p.surrogate, p.surrogate_width), state.count, p.max_spikes)
    return LIFStep(spikes, v_pre, LIFState(lif_reset(v_pre, spikes, p), state.count + spikes.detach()))


def lif_reset(v_pre: torch.Tensor, spikes: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """The membrane after reset, elementwise (one step or a whole ``[T, B, ...]`` sequence alike)."""
    if p.reset == "hard":
        return v_pre * (1.0 - spikes) + p.v_reset * spikes
    if p.reset == "soft":
        return v_pre - p.threshold * spikes
    raise ValueError(f"reset={p.reset!r} is not known; allowed: hard, soft")


def lif_reference(currents: torch.Tensor, p: LIFParams) -> NeuronSequence:
    """The readable reference and test oracle: ``lif_step`` over ``currents[T, B, ...]`` from rest (v = 0, no spikes
    yet), recording the membrane, with autograd through every step."""
    return record_sequence(lif_step, LIFState.zeros_like(currents[0]), currents, p)


def lif_spikes(currents: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of ``lif_step`` over ``currents[T, B, ...]`` from rest; no potentials kept."""
    if check_kernel(p.kernel) == "fused":
        return lif_fused(currents, p)[0]
    return spike_sequence(lif_step, LIFState.zeros_like(currents[0]), currents, p)


def lif_sequence(currents: torch.Tensor, p: LIFParams) -> NeuronSequence:
    """Spikes and membrane before and after reset over ``currents[T, B, ...]`` from rest, each ``[T, B, ...]``, with
    ``p.kernel``'s implementation (the public API's neuron): the fused op gives spikes and v_pre bit-exact to
    ``lif_reference``, and v_post is ``lif_reset`` of them, the very expression ``lif_step`` evaluates."""
    if check_kernel(p.kernel) == "reference":
        return lif_reference(currents, p)
    spikes, v_pre = lif_fused(currents, p)
    return NeuronSequence(spikes, v_pre, lif_reset(v_pre, spikes, p))
