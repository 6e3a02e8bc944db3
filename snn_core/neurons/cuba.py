"""Current-based LIF (CUBA) with an exponential synaptic current, the discrete TTFS neuron.

One time step (dt = 1, tau_s in steps, tau_m = 2 tau_s so the model maps onto the
Fast & Deep / BATS closed form; see shared/papers/ttfs.md §1.1 and §5.1)::

    I[t]     = alpha * I[t-1] + x[t]                         alpha = exp(-1 / tau_s)
    v_pre[t] = beta * v[t-1] + (1 - beta) * I[t]              beta  = exp(-1 / (2 tau_s))
    s[t]     = H(v_pre[t] - V_th) * 1[count[t-1] < K]         (K = 0: no cap)
    v[t]     = v_pre[t] - V_th * s[t]                         (reset by subtraction, always)
    count[t] = count[t-1] + s[t]

Only ``threshold``, the surrogate and ``max_spikes`` are shared with the LIF settings; the
LIF's ``decay``, ``reset`` and ``v_reset`` do not apply to this neuron. ``cuba_reference`` is the reference
loop; ``cuba_spikes`` and ``cuba_sequence`` run ``params.kernel`` ("fused": ``snn_core.neurons.fused``).
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from .fused import check_kernel, cuba_fused
from .loop import NeuronSequence, record_sequence, spike_sequence
from .spike import cap_spikes, spike
from .units import decay_from_tau

CUBA_EQUATIONS = (     # three lines, so that it fits a page column at 1024 px
    r"\begin{gathered}I_t = \alpha I_{t-1} + x_t,\quad V^{pre}_t = \beta V_{t-1} + (1-\beta) I_t,\\ "
    r"S_t = \Theta(V^{pre}_t - V_{th})\,[n_{t-1} < K],\quad V_t = V^{pre}_t - V_{th} S_t,\\ "
    r"\alpha = e^{-1/\tau_s},\ \beta = e^{-1/(2\tau_s)}\end{gathered}"
)


def membrane_tau(tau_syn: float) -> float:
    """The membrane time constant tau_m = 2 tau_s, in the same units as ``tau_syn``.

    The ratio is fixed because with 1/tau_m - 1/tau_s = -1/tau_m the PSP is a difference of
    e^{-t/tau_m} and its square, so the threshold crossing solves a quadratic in closed form
    (Fast & Deep / BATS; ``snn_core.methods.ttfs.exact``).
    """
    return 2.0 * tau_syn


class CUBAParams(NamedTuple):
    """Parameters of one CUBA population; ``tau_syn`` is tau_s in time steps (tau_m = ``membrane_tau``);
    ``kernel`` picks the recurrence's implementation, "fused" or "reference"."""

    tau_syn: float = 4.0
    threshold: float = 1.0
    surrogate: str = "atan"
    surrogate_width: float = 1.0
    max_spikes: int = 0
    kernel: str = "fused"

    @classmethod
    def from_config(cls, neuron_cfg) -> CUBAParams:
        return cls(neuron_cfg.tau_syn, neuron_cfg.threshold, neuron_cfg.surrogate,
                   neuron_cfg.surrogate_width, neuron_cfg.max_spikes, neuron_cfg.kernel)

    @property
    def alpha(self) -> float:
        return decay_from_tau(self.tau_syn)

    @property
    def beta(self) -> float:
        return decay_from_tau(membrane_tau(self.tau_syn))


class CUBAState(NamedTuple):
    """Synaptic current, membrane potential after reset and spikes emitted so far, per neuron."""

    i: torch.Tensor
    v: torch.Tensor
    count: torch.Tensor     # type: ignore[assignment]  # shadows tuple.count, a method nothing here calls

    @classmethod
    def zeros_like(cls, current: torch.Tensor) -> CUBAState:
        zeros = torch.zeros_like(current)
        return cls(zeros, zeros, zeros)


class CUBAStep(NamedTuple):
    spikes: torch.Tensor
    v_pre: torch.Tensor
    state: CUBAState


def cuba_step(x: torch.Tensor, state: CUBAState, p: CUBAParams) -> CUBAStep:
    """Advance every neuron by one time step; ``x`` is the synaptic input of this step."""
    beta = p.beta
    i = p.alpha * state.i + x
    v_pre = beta * state.v + (1.0 - beta) * i
    spikes = cap_spikes(spike(v_pre - p.threshold, p.surrogate, p.surrogate_width), state.count, p.max_spikes)
    return CUBAStep(spikes, v_pre, CUBAState(i, cuba_reset(v_pre, spikes, p), state.count + spikes.detach()))


def cuba_reset(v_pre: torch.Tensor, spikes: torch.Tensor, p: CUBAParams) -> torch.Tensor:
    """The membrane after reset (by subtraction), elementwise over a step or a whole sequence."""
    return v_pre - p.threshold * spikes


def cuba_reference(currents: torch.Tensor, p: CUBAParams) -> NeuronSequence:
    """Run ``cuba_step`` over ``currents[T, B, ...]`` from rest, recording the membrane (as ``lif_reference``)."""
    return record_sequence(cuba_step, CUBAState.zeros_like(currents[0]), currents, p)


def cuba_spikes(currents: torch.Tensor, p: CUBAParams) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of ``cuba_step`` over ``currents[T, B, ...]`` from rest; no potentials kept."""
    if check_kernel(p.kernel) == "fused":
        return cuba_fused(currents, p)[0]
    return spike_sequence(cuba_step, CUBAState.zeros_like(currents[0]), currents, p)


def cuba_sequence(currents: torch.Tensor, p: CUBAParams) -> NeuronSequence:
    """As ``cuba_reference`` with ``p.kernel``'s implementation (v_post = ``cuba_reset`` of the fused op's output)."""
    if check_kernel(p.kernel) == "reference":
        return cuba_reference(currents, p)
    spikes, v_pre = cuba_fused(currents, p)
    return NeuronSequence(spikes, v_pre, cuba_reset(v_pre, spikes, p))
