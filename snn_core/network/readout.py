"""Readouts of a spiking output layer: differentiable first-spike times, spike counts, predictions.

With output spikes ``s[T, B, C]`` (0-based steps t = 0..T-1, see shared/papers/ttfs.md §5.1)::

    t_first = sum_t prod_{t' <= t} (1 - s[t'])      first spike step; a silent output gets T
    first-spike logits = -t_first / tau_loss          (trained with cross-entropy)
    count logits       = sum_t s[t]                   (spike counts, trained with cross-entropy)

The first-spike prediction is argmin t_first; ties (including all-silent samples) go to the
output whose membrane before reset, max over the seen steps, is highest.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

FIRST_SPIKE_EQUATIONS = (
    r"t^{first}_c = \sum_{t=0}^{T-1} \prod_{t' \le t} (1 - s_c[t']),\quad "
    r"z_c = -t^{first}_c / \tau_{loss},\quad \hat y = \arg\min_c t^{first}_c"
)


def first_spike_times(spikes: torch.Tensor) -> torch.Tensor:
    """``spikes[T, B, C]`` -> ``t_first[B, C]``, differentiable through the spikes' surrogate."""
    survival = torch.cumprod(1.0 - spikes, dim=0)                  # (T, B, C) 1 until the first spike
    return survival.sum(0)                                          # (B, C)


def running_first_spike_times(spikes: torch.Tensor) -> torch.Tensor:
    """``[T, B, C]``: entry t is t_first if only steps <= t were seen and the rest stayed silent."""
    steps = spikes.shape[0]
    survival = torch.cumprod(1.0 - spikes, dim=0)                   # (T, B, C)
    remaining = torch.arange(steps - 1, -1, -1, dtype=spikes.dtype, device=spikes.device)
    return survival.cumsum(0) + remaining.view(-1, 1, 1) * survival  # (T, B, C)


def first_spike_predictions(t_first: torch.Tensor, v_max: torch.Tensor) -> torch.Tensor:
    """argmin over classes of ``t_first[B, C]``, ties broken by the highest ``v_max[B, C]``."""
    earliest = t_first == t_first.min(1, keepdim=True).values        # (B, C)
    score = torch.where(earliest, v_max, torch.full_like(v_max, -torch.inf))
    return score.argmax(1)                                           # (B,)


class SpikingReadout(NamedTuple):
    logits: torch.Tensor          # (B, C) what cross-entropy sees
    step_logits: torch.Tensor     # (T, B, C) the same readout if only steps <= t were seen
    predictions: torch.Tensor     # (B,)


def first_spike_readout(spikes: torch.Tensor, v_pre: torch.Tensor, tau_loss: float) -> SpikingReadout:
    """logits = -t_first / tau_loss; prediction argmin t_first, ties to the highest membrane ``v_pre``."""
    running = running_first_spike_times(spikes)                     # (T, B, C)
    logits = -running[-1] / tau_loss
    predictions = first_spike_predictions(running[-1].detach(), v_pre.detach().amax(0))
    return SpikingReadout(logits, -running / tau_loss, predictions)


def count_readout(spikes: torch.Tensor, v_pre: torch.Tensor, tau_loss: float) -> SpikingReadout:
    """logits = spike counts sum_t s[t]; prediction argmax count (``v_pre`` and ``tau_loss`` unused)."""
    counts = spikes.cumsum(0)                                        # (T, B, C)
    return SpikingReadout(counts[-1], counts, counts[-1].detach().argmax(1))


SpikingReadoutFn = Callable[[torch.Tensor, torch.Tensor, float], SpikingReadout]
SPIKING_READOUTS: dict[str, SpikingReadoutFn] = {"first-spike": first_spike_readout, "count": count_readout}
READOUTS = ("rate", *SPIKING_READOUTS)      # "rate": the non-spiking linear readout of ``network.discrete``


def spiking_readout(kind: str, spikes: torch.Tensor, v_pre: torch.Tensor, tau_loss: float) -> SpikingReadout:
    """Logits and predictions of the output layer's ``spikes`` and membrane ``v_pre`` (both ``[T, B, C]``)."""
    if kind not in SPIKING_READOUTS:
        raise ValueError(f"model.readout={kind!r} has no spiking output; allowed: {', '.join(SPIKING_READOUTS)}")
    return SPIKING_READOUTS[kind](spikes, v_pre, tau_loss)
