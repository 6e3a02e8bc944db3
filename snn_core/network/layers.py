"""A spiking layer: synapse -> optional BatchNorm -> optional current gate -> neuron, over ``[T, B, ...]``.

Two slots a method can fill, both method-free here: the current gate (``ScaleGate`` when it is one number at
inference), and the neuron's dynamics (``NeuronDynamics``: a module that may replace some of the layer's
neuron parameters by learned ones, e.g. a learnable decay).

The neuron is picked by name from ``snn_core.neurons.registry.NEURON_MODELS`` ("lif" by default).

The synapse (Linear or Conv) and the norm are stateless, so they run once over all T*B rows;
only the neuron recurrence loops over time. The gate slot sees the whole sequence of currents
``[T, B, ...]`` at once (ASA needs that) and must return a tensor of the same shape.
"""
from __future__ import annotations

import torch
from torch import nn

from ..neurons.loop import NeuronSequence
from ..neurons.registry import neuron_model
from .records import LayerOutput, LayerTrace, PotentialOutput


class ScaleGate(nn.Module):
    """A current gate that is one number at inference, X -> g X: exporters fold g into the synapse's weights."""

    def value(self) -> float:
        """The gate g every element of the current is multiplied by."""
        raise NotImplementedError


class NeuronDynamics(nn.Module):
    """A layer's neuron parameters as this forward uses them: ``forward(params)`` returns ``params`` with learned
    values in place (differentiable: the training path), ``fixed(params)`` the same as plain numbers at the current
    weights (export, figures), and ``assign(params)`` sets the learned values to those of ``params`` (an import)."""

    def forward(self, params):
        raise NotImplementedError

    def fixed(self, params):
        raise NotImplementedError

    def assign(self, params) -> None:
        raise NotImplementedError


class SpikingLayer(nn.Module):
    """One population of neurons fed by a synapse; ``name`` labels it in records and figures.

    ``neuron`` holds the parameters of the model named ``model`` (LIFParams for "lif"); ``dynamics`` (optional)
    replaces some of them by learned ones at each forward."""

    def __init__(self, name: str, synapse: nn.Module, norm: nn.Module | None, neuron,
                 gate: nn.Module | None = None, model: str = "lif", dynamics: NeuronDynamics | None = None):
        super().__init__()
        self.name = name
        self.synapse = synapse
        self.norm = norm if norm is not None else nn.Identity()
        self.gate = gate if gate is not None else nn.Identity()
        self.neuron = neuron
        self.neuron_name = model
        if dynamics is not None:                 # registered only when present: state_dict keys stay as they were
            self.dynamics = dynamics
        neuron_model(model)                                                # fail early on an unknown name

    def neuron_params(self):
        """The neuron parameters of this forward: ``neuron``, with the dynamics' learned values when it has some."""
        dynamics = getattr(self, "dynamics", None)
        return self.neuron if dynamics is None else dynamics(self.neuron)

    def fixed_neuron(self):
        """``neuron_params`` as plain numbers at the current weights (what an exporter writes)."""
        dynamics = getattr(self, "dynamics", None)
        return self.neuron if dynamics is None else dynamics.fixed(self.neuron)

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None) -> LayerOutput:
        """``x[T, B, ...]`` -> spikes ``[T, B, ...]``; ``record`` holds batch indices to trace. Without a
        record only the spikes are kept (the training path)."""
        ungated, current = self._currents(x)
        model = neuron_model(self.neuron_name)
        if record is None:
            return LayerOutput(model.spikes(current, self.neuron_params()), None)       # (T, B, ...)
        out = model.sequence(current, self.neuron_params())                             # each (T, B, ...)
        return LayerOutput(out.spikes, self._trace(out, ungated, current, record))

    def forward_with_potential(self, x: torch.Tensor, record: torch.Tensor | None = None) -> PotentialOutput:
        """As ``forward``, plus the whole batch's membrane before reset ``v_pre[T, B, ...]``."""
        ungated, current = self._currents(x)
        out = neuron_model(self.neuron_name).sequence(current, self.neuron_params())   # each (T, B, ...)
        trace = None if record is None else self._trace(out, ungated, current, record)
        return PotentialOutput(out.spikes, out.v_pre, trace)

    def _currents(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The current before the gate (synapse -> norm) and after it, each ``(T, B, ...)``."""
        steps, batch = x.shape[:2]
        rows = self.norm(self.synapse(x.flatten(0, 1)))                # (T*B, ...)
        ungated = rows.reshape(steps, batch, *rows.shape[1:])            # (T, B, ...)
        return ungated, self.gate(ungated)

    def _trace(self, out: NeuronSequence, ungated: torch.Tensor, current: torch.Tensor,
               record: torch.Tensor) -> LayerTrace:
        """The recorded samples' internals, detached; ``ungated`` is ``current`` itself without a gate."""
        kept = current[:, record].detach()
        before = kept if current is ungated else ungated[:, record].detach()
        return LayerTrace(self.name, kept, out.v_pre[:, record].detach(), out.v_post[:, record].detach(),
                          out.spikes[:, record].detach().bool(), before)
