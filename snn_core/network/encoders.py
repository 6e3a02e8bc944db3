"""Spike encoders that turn a static batch ``x[B, ...]`` in [0, 1] into a sequence ``[T, B, ...]``.

Every encoder has the signature ``(x, time_steps, generator) -> sequence``; adding one is a
function plus a line in ``ENCODERS``. Event data already has a time axis and is only moved
to time-major order by ``to_time_major``.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

Encoder = Callable[[torch.Tensor, int, torch.Generator | None], torch.Tensor]


def direct(x: torch.Tensor, time_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The analog value is the input current at every step: ``s[t] = x``."""
    return x.unsqueeze(0).expand(time_steps, *x.shape)                  # (T, B, ...)


def poisson(x: torch.Tensor, time_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Rate coding: ``s[t] ~ Bernoulli(x)`` independently at each step."""
    draws = torch.rand((time_steps, *x.shape), generator=generator, device="cpu").to(x.device)
    return (draws < x.clamp(0, 1).unsqueeze(0)).to(x.dtype)            # (T, B, ...)


def latency(x: torch.Tensor, time_steps: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """One spike per input at ``t = round((1 - x) (T - 1))``: brighter is earlier, zero never spikes."""
    x = x.clamp(0, 1)
    spike_step = torch.round((1.0 - x) * (time_steps - 1)).long()        # (B, ...)
    steps = torch.arange(time_steps, device=x.device).view(-1, *([1] * x.dim()))
    return ((steps == spike_step.unsqueeze(0)) & (x > 0).unsqueeze(0)).to(x.dtype)  # (T, B, ...)


ENCODERS: dict[str, Encoder] = {"direct": direct, "poisson": poisson, "latency": latency}


def encode(x: torch.Tensor, name: str, time_steps: int, generator: torch.Generator | None = None,
           latency_window: int = 0) -> torch.Tensor:
    """Encode a static batch with the named encoder. ``latency_window`` W (latency only; 0 = T) spreads
    the latency spikes over the first W steps and leaves steps W..T-1 silent, time for the network to answer."""
    if name not in ENCODERS:
        raise ValueError(f"encoding={name!r} is not known; allowed: {', '.join(ENCODERS)}")
    if name != "latency" or latency_window in (0, time_steps):
        return ENCODERS[name](x, time_steps, generator)
    if not 0 < latency_window < time_steps:
        raise ValueError(f"latency_window={latency_window} is not valid; allowed: 0 (all T) to T={time_steps}")
    spikes = latency(x, latency_window, generator)                     # (W, B, ...)
    return torch.cat([spikes, spikes.new_zeros(time_steps - latency_window, *x.shape)])   # (T, B, ...)


def to_time_major(frames: torch.Tensor) -> torch.Tensor:
    """Event frames ``[B, T, ...]`` -> ``[T, B, ...]``."""
    return frames.transpose(0, 1)
