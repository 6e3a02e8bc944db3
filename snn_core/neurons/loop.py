"""The time loop shared by every neuron model: a step function applied over ``[T, B, ...]``.

A neuron's ``step(current, state, params)`` returns ``(spikes, v_pre, state)`` with the membrane
after reset in ``state.v``; any model with that shape runs through these two loops. The
spikes-only loop keeps no potentials; the recording loop keeps both. They are the readable reference
(``kernel = "reference"``, autograd through every step) that the fused op (``snn_core.neurons.fused``,
the default) is tested against.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class NeuronSequence(NamedTuple):
    """A population over the whole sequence, each ``[T, B, ...]``: spikes, membrane before and after reset."""

    spikes: torch.Tensor
    v_pre: torch.Tensor
    v_post: torch.Tensor


def spike_sequence(step, state, currents: torch.Tensor, p) -> torch.Tensor:
    """Spikes ``[T, B, ...]`` of ``step`` applied over ``currents[T, B, ...]`` from ``state``."""
    spikes = []
    for current in currents:                      # current: (B, ...)
        out = step(current, state, p)
        state = out.state
        spikes.append(out.spikes)
    return torch.stack(spikes)                    # (T, B, ...)


def record_sequence(step, state, currents: torch.Tensor, p) -> NeuronSequence:
    """Spikes and membrane before and after reset of ``step`` over ``currents[T, B, ...]`` from ``state``."""
    spikes, v_pre, v_post = [], [], []
    for current in currents:                      # current: (B, ...)
        out = step(current, state, p)
        state = out.state
        spikes.append(out.spikes)
        v_pre.append(out.v_pre)
        v_post.append(state.v)
    return NeuronSequence(torch.stack(spikes), torch.stack(v_pre), torch.stack(v_post))   # each (T, B, ...)
