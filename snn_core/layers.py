"""A spiking layer: synapse -> optional BatchNorm -> optional current gate -> LIF, over ``[T, B, ...]``.

The synapse (Linear or Conv) and the norm are stateless, so they run once over all T*B rows;
only the LIF recurrence loops over time. The gate slot sees the whole sequence of currents
``[T, B, ...]`` at once (ASA needs that) and must return a tensor of the same shape.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from .neuron import LIFParams, lif_sequence


class LayerTrace(NamedTuple):
    """What one spiking layer did for the recorded samples, each ``[T, b, ...]``.

    ``current`` is the input current I_t the neuron integrates (after the gate), ``v_pre`` the
    membrane before reset (so threshold crossings show), ``v_post`` after reset; ``spikes`` is
    stored as bool. ``ungated`` is the current before the gate (synapse -> norm); without a gate
    it is the same tensor as ``current``. Layers always fill it; the default only lets older
    five-field constructions (test fixtures) stand.
    """

    name: str
    current: torch.Tensor
    v_pre: torch.Tensor
    v_post: torch.Tensor
    spikes: torch.Tensor
    ungated: torch.Tensor | None = None


class LayerOutput(NamedTuple):
    spikes: torch.Tensor                 # (T, B, ...) float 0/1, differentiable
    trace: LayerTrace | None             # only when samples were selected for recording


class SpikingLayer(nn.Module):
    """One population of LIF neurons fed by a synapse; ``name`` labels it in records and figures."""

    def __init__(self, name: str, synapse: nn.Module, norm: nn.Module | None, neuron: LIFParams,
                 gate: nn.Module | None = None):
        super().__init__()
        self.name = name
        self.synapse = synapse
        self.norm = norm if norm is not None else nn.Identity()
        self.gate = gate if gate is not None else nn.Identity()
        self.neuron = neuron

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None) -> LayerOutput:
        """``x[T, B, ...]`` -> spikes ``[T, B, ...]``; ``record`` holds batch indices to trace."""
        steps, batch = x.shape[:2]
        rows = self.norm(self.synapse(x.flatten(0, 1)))                # (T*B, ...)
        ungated = rows.reshape(steps, batch, *rows.shape[1:])            # (T, B, ...)
        current = self.gate(ungated)                                       # (T, B, ...)
        out = lif_sequence(current, self.neuron, keep_potentials=record is not None)
        if record is None:
            return LayerOutput(out.spikes, None)
        kept = current[:, record].detach()
        before = kept if current is ungated else ungated[:, record].detach()
        trace = LayerTrace(self.name, kept, out.v_pre[:, record].detach(),
                           out.v_post[:, record].detach(), out.spikes[:, record].detach().bool(), before)
        return LayerOutput(out.spikes, trace)
