"""What a forward pass returns: per-layer spikes and records of fixed shape, the same for every engine."""
from __future__ import annotations

from typing import NamedTuple

import torch


class LayerTrace(NamedTuple):
    """What one spiking layer did for the recorded samples, each ``[T, b, ...]``.

    ``current`` is the input current I_t the neuron integrates (after the gate), ``v_pre`` the
    membrane before reset (so threshold crossings show), ``v_post`` after reset; ``spikes`` is
    stored as bool. ``ungated`` is the current before the gate (synapse -> norm); without a gate
    it is the same tensor as ``current``.
    """

    name: str
    current: torch.Tensor
    v_pre: torch.Tensor
    v_post: torch.Tensor
    spikes: torch.Tensor
    ungated: torch.Tensor


class LayerOutput(NamedTuple):
    """``SpikingLayer.forward``: the layer's spikes."""

    spikes: torch.Tensor                 # (T, B, ...) float 0/1, differentiable
    trace: LayerTrace | None             # only when samples were selected for recording


class PotentialOutput(NamedTuple):
    """``SpikingLayer.forward_with_potential``: the spikes and the whole batch's membrane before reset,
    which a spiking readout reads (its tie-break and decisions)."""

    spikes: torch.Tensor                 # (T, B, ...) float 0/1, differentiable
    v_pre: torch.Tensor                  # (T, B, ...)
    trace: LayerTrace | None             # only when samples were selected for recording


class Trace(NamedTuple):
    """Recorded internals of one forward pass for the selected samples."""

    layers: tuple[LayerTrace, ...]
    logits: torch.Tensor                  # (T, b, classes) readout at each step (spiking readouts:
                                          # as if only steps <= t were seen)


class ModelOutput(NamedTuple):
    logits: torch.Tensor                  # (B, classes) what cross-entropy sees
    spikes: tuple[torch.Tensor, ...]      # per spiking layer, (T, B, ...); the output layer last if spiking
    trace: Trace | None                   # only when samples were selected for recording
    predictions: torch.Tensor             # (B,) predicted class (first-spike: with the tie-break)
    output_potential: torch.Tensor | None = None  # (T, B, classes) output membrane before reset; spiking only
    spike_times: tuple[torch.Tensor, ...] | None = None   # engine exact: per layer (B, N, K), inf = no spike
