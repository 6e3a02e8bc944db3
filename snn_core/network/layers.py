"""A spiking layer: synapse -> optional BatchNorm -> optional current gate -> neuron, over ``[T, B, ...]``.

The neuron is picked by name from ``snn_core.neurons.registry.NEURON_MODELS`` ("lif" by default).

The synapse (Linear or Conv) and the norm are stateless, so they run once over all T*B rows;
only the neuron recurrence loops over time. The gate slot sees the whole sequence of currents
``[T, B, ...]`` at once (ASA needs that) and must return a tensor of the same shape.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..neurons.registry import neuron_model


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
    v_pre: torch.Tensor | None = None    # (T, B, ...) membrane before reset, only with keep_potentials


class SpikingLayer(nn.Module):
    """One population of neurons fed by a synapse; ``name`` labels it in records and figures.

    ``neuron`` holds the parameters of the model named ``model`` (LIFParams for "lif")."""

    def __init__(self, name: str, synapse: nn.Module, norm: nn.Module | None, neuron,
                 gate: nn.Module | None = None, model: str = "lif"):
        super().__init__()
        self.name = name
        self.synapse = synapse
        self.norm = norm if norm is not None else nn.Identity()
        self.gate = gate if gate is not None else nn.Identity()
        self.neuron = neuron
        self.neuron_name = model
        neuron_model(model)                                                # fail early on an unknown name

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None,
                keep_potentials: bool = False) -> LayerOutput:
        """``x[T, B, ...]`` -> spikes ``[T, B, ...]``; ``record`` holds batch indices to trace;
        ``keep_potentials`` also returns the whole batch's membrane before reset."""
        steps, batch = x.shape[:2]
        rows = self.norm(self.synapse(x.flatten(0, 1)))                # (T*B, ...)
        ungated = rows.reshape(steps, batch, *rows.shape[1:])            # (T, B, ...)
        current = self.gate(ungated)                                       # (T, B, ...)
        out = neuron_model(self.neuron_name).sequence(current, self.neuron, keep_potentials or record is not None)
        v_pre = out.v_pre if keep_potentials else None
        if record is None:
            return LayerOutput(out.spikes, None, v_pre)
        kept = current[:, record].detach()
        before = kept if current is ungated else ungated[:, record].detach()
        trace = LayerTrace(self.name, kept, out.v_pre[:, record].detach(),
                           out.v_post[:, record].detach(), out.spikes[:, record].detach().bool(), before)
        return LayerOutput(out.spikes, trace, v_pre)
