"""Leaky integrate-and-fire dynamics over time-major sequences.

One time step of the LIF neuron (membrane before reset ``v_pre``, after reset ``v``)::

    v_pre[t] = beta * v[t-1] + I[t]
    s[t]     = H(v_pre[t] - V_th) * 1[count[t-1] < K]          (K = 0: no cap)
    v[t]     = v_pre[t] * (1 - s[t]) + V_reset * s[t]            (hard reset)
             = v_pre[t] - V_th * s[t]                            (soft reset)
    count[t] = count[t-1] + s[t]

H is the spike function of ``snn_core.neurons.spike`` (Heaviside forward, surrogate backward).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .loop import NeuronSequence, record_sequence, spike_sequence
from .spike import cap_spikes, spike

LIF_EQUATIONS = (
    r"V^{pre}_t = \beta V_{t-1} + I_t,\quad S_t = \Theta(V^{pre}_t - V_{th})\,[n_{t-1} < K],\quad "
    r"V_t = \begin{cases} V^{pre}_t (1 - S_t) + V_{reset} S_t & \text{hard} \\ "
    r"V^{pre}_t - V_{th} S_t & \text{soft}\end{cases}"
)


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
    def from_config(cls, neuron_cfg) -> LIFParams:
        return cls(neuron_cfg.decay, neuron_cfg.threshold, neuron_cfg.reset, neuron_cfg.v_reset,
                   neuron_cfg.surrogate, neuron_cfg.surrogate_width, neuron_cfg.max_spikes)


class LIFState(NamedTuple):
    """Membrane potential after reset and spikes emitted so far, one entry per neuron."""

    v: torch.Tensor
    count: torch.Tensor

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
    if p.reset == "hard":
        v = v_pre * (1.0 - spikes) + p.v_reset * spikes
    elif p.reset == "soft":
        v = v_pre - p.threshold * spikes
    else:
        raise ValueError(f"reset={p.reset!r} is not known; allowed: hard, soft")
    return LIFStep(spikes, v_pre, LIFState(v, state.count + spikes.detach()))


def lif_sequence(currents: torch.Tensor, p: LIFParams) -> NeuronSequence:
    """Run ``lif_step`` over ``currents[T, B, ...]`` from rest (v = 0, no spikes yet), recording the membrane."""
    return record_sequence(lif_step, LIFState.zeros_like(currents[0]), currents, p)


def lif_spikes(currents: torch.Tensor, p: LIFParams) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of ``lif_step`` over ``currents[T, B, ...]`` from rest; no potentials kept."""
    return spike_sequence(lif_step, LIFState.zeros_like(currents[0]), currents, p)
