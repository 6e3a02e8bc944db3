"""Robustness of a trained network: accuracy curves under input spike jitter, spike deletion and weight noise.

Inputs are time-major frames ``x[T, B, ...]`` as the network sees them (latency or Poisson
spikes, event counts, or direct analog currents). An *event* is one unit of a whole-number
count (a latency spike is one event; an event-camera count of 3 is three); a frame with
non-integer values (direct encoding) has one event per non-zero entry, carrying that value.

    jitter(sigma):        each event moves from step t to fold(t + round(N(0, sigma^2)))
                          fold reflects at 0 and at T - 1, so the event stays inside [0, T - 1]
    deletion(p):          each event is dropped with probability p (a count n becomes Binomial(n, 1 - p))
    weight_noise(sigma):  every synapse weight w <- w (1 + sigma eps), eps ~ N(0, 1), restored afterwards

Every level draws its noise from its own generator seeded by ``NOISE_SEED`` (and the level), so
every run sees the same noise on the same data: two arms of a comparison pair on it. The curves are
built over any accuracy function (``snn_core.training.robustness`` passes the test-set pass).
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from ..network.protocol import Network

Perturbation = Callable[[torch.Tensor], torch.Tensor]     # inputs [T, B, ...] -> perturbed inputs

NOISE_SEED = 20_231_001
LEVELS = {                       # kind -> perturbation strengths; 0 (clean) is added to every curve
    "jitter": (1.0, 2.0, 4.0),            # sigma in time steps
    "deletion": (0.1, 0.3),               # probability p of losing an input event
    "weight_noise": (0.1, 0.2),           # relative sigma of the multiplicative weight noise
}
SYNAPSES = (nn.Linear, nn.modules.conv._ConvNd)


def fold(steps: torch.Tensor, time_steps: int) -> torch.Tensor:
    """Reflect integer steps into [0, T - 1]: -1 -> 1, T -> T - 2 (period 2 (T - 1))."""
    if time_steps == 1:
        return torch.zeros_like(steps)
    period = 2 * (time_steps - 1)
    steps = steps.remainder(period)
    return torch.where(steps > time_steps - 1, period - steps, steps)


def _is_count(frames: torch.Tensor) -> bool:
    """True when every entry is a non-negative whole number (spikes or event counts)."""
    return bool(((frames >= 0) & (frames == frames.round())).all())


def jitter(frames: torch.Tensor, sigma: float, generator: torch.Generator) -> torch.Tensor:
    """Move every input event by round(N(0, sigma^2)) steps, folded into [0, T - 1]; event counts are kept."""
    _check_level("jitter sigma", sigma, math.inf)
    if sigma == 0:
        return frames
    source = frames.detach().cpu()
    flat = source.reshape(source.shape[0], -1)                                  # (T, M)
    steps, where = flat.nonzero(as_tuple=True)                                  # (E,) one entry per non-zero
    if _is_count(source):                      # a count of n is n events, each moving on its own
        repeats = flat[steps, where].long()
        steps, where = steps.repeat_interleave(repeats), where.repeat_interleave(repeats)
        values = torch.ones(len(steps), dtype=source.dtype)
    else:                                      # one event per entry, carrying its value
        values = flat[steps, where]
    offset = torch.round(sigma * torch.randn(len(steps), generator=generator)).long()
    moved = torch.zeros_like(flat).index_put_((fold(steps + offset, flat.shape[0]), where), values, accumulate=True)
    return moved.reshape(source.shape).to(frames.device, frames.dtype)


def deletion(frames: torch.Tensor, p: float, generator: torch.Generator) -> torch.Tensor:
    """Drop every input event with probability ``p``: counts thin to Binomial(n, 1 - p)."""
    _check_level("deletion p", p, 1.0)
    if p == 0:
        return frames
    source = frames.detach().cpu()
    if _is_count(source):
        kept = torch.binomial(source.double(), torch.full(source.shape, 1.0 - p, dtype=torch.float64),
                              generator=generator).to(source.dtype)
    else:
        kept = source * (torch.rand(source.shape, generator=generator) >= p).to(source.dtype)
    return kept.to(frames.device, frames.dtype)


def synapse_weights(model: nn.Module | Network) -> list[torch.Tensor]:
    """The weight of every Linear and Conv module: the synapses (BatchNorm scales are not synapses)."""
    return [module.weight for module in model.modules() if isinstance(module, SYNAPSES)]


@contextmanager
def weight_noise(model: nn.Module | Network, sigma: float, generator: torch.Generator) -> Iterator[None]:
    """Inside the block every synapse weight is w (1 + sigma eps); the exact weights come back afterwards."""
    _check_level("weight noise sigma", sigma, math.inf)
    weights = synapse_weights(model)
    saved = [w.detach().clone() for w in weights]
    try:
        with torch.no_grad():
            for w in weights:
                eps = torch.randn(w.shape, generator=generator).to(w.device, w.dtype)
                w.mul_(1.0 + sigma * eps)
        yield
    finally:
        with torch.no_grad():
            for w, original in zip(weights, saved):
                w.copy_(original)


def _check_level(name: str, value: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and 0 <= value <= high) or math.isnan(value):
        bound = "a number >= 0" if high == math.inf else f"a number in 0..{high:g}"
        raise ValueError(f"{name}={value!r} is not valid; allowed: {bound}")


def level_key(level: float) -> str:
    """JSON key of a level: ``1.0 -> "1"``, ``0.1 -> "0.1"``."""
    return f"{level:g}"


def noise_generator(kind: str, level: float) -> torch.Generator:
    """The fixed generator of one (kind, level): the same noise in every run, different noise per level."""
    return torch.Generator().manual_seed(NOISE_SEED + zlib.crc32(f"{kind}={level_key(level)}".encode()))


def robustness_curves(accuracy: Callable[[Perturbation | None], float], model: nn.Module | Network,
                      levels: dict[str, tuple[float, ...]] = LEVELS,
                      clean: float | None = None) -> dict[str, dict[str, float]]:
    """``{kind: {level: accuracy}}`` for kind in jitter, deletion, weight_noise; level "0" is ``clean``.

    ``accuracy(perturb)`` measures ``model`` with its inputs passed through ``perturb`` (None: clean);
    it is called once per level, and once more for the clean accuracy when ``clean`` is None.
    """
    unknown = set(levels) - set(LEVELS)
    if unknown:
        raise ValueError(f"robustness kinds {sorted(unknown)} are not known; allowed: {', '.join(LEVELS)}")
    clean = accuracy(None) if clean is None else clean
    result = {}
    for kind, strengths in levels.items():
        curve = {level_key(0.0): clean}
        for level in strengths:
            generator = noise_generator(kind, level)
            if kind == "weight_noise":
                with weight_noise(model, level, generator):
                    curve[level_key(level)] = accuracy(None)
            else:
                perturb = jitter if kind == "jitter" else deletion
                curve[level_key(level)] = accuracy(lambda frames: perturb(frames, level, generator))
        result[kind] = curve
    return result
