"""The exact event-based TTFS network (``model.engine = exact``): an MLP of closed-form CUBA layers.

Layers ``fc1..`` (``model.hidden``) and "out" (n_classes) are bias-free Linear weights: a bias would
be a constant current, whose PSP is not of the form b/z - a/z^2, so the closed form would not hold.
There is no BatchNorm (``model.batch_norm`` is ignored). Spike times come from ``snn_core.methods.ttfs.exact``
with K = ``neuron.max_spikes`` and ``neuron.threshold`` read in the discrete engine's units (the
continuous threshold is beta V_th, ``exact.continuous_threshold``), so the same weights fire first
spikes in the same step bins in both engines. The readout is first-spike only::

    t_first_c = first spike time of output c (continuous, in steps), T if it stays silent
    logits    = -t_first / tau_loss,    prediction = argmin_c t_first_c (ties: highest output membrane)

A count readout has no exact gradient (counts are piecewise constant in the weights) and is rejected.
Silent neurons have no gradient either: training raises their weights (``methods.ttfs.weight_bump``).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from ...network.readout import first_spike_predictions
from ...network.records import LayerTrace, ModelOutput, Trace
from .exact import (
    as_presynaptic,
    binned_spikes,
    continuous_threshold,
    grid_states,
    input_spike_times,
    layer_spike_times,
)

if TYPE_CHECKING:
    from ...config.run_config import RunConfig

MAX_HIDDEN = 2
MAX_WIDTH = 256
MAX_K = 10
MAX_SLOTS = 100_000            # sum over layers of presynaptic spike slots x neurons, per sample (memory)
INIT_DRIVE = 3.0               # initial mean weight = INIT_DRIVE * V_th * 4 / fan_in (see ``_init``)


class ExactLayer(nn.Module):
    """Bias-free input weights of one layer; ``gate`` is None (``network.protocol``: every layer has one)."""

    gate = None

    def __init__(self, name: str, in_features: int, out_features: int):
        super().__init__()
        self.name = name
        self.synapse = nn.Linear(in_features, out_features, bias=False)


class ExactNetwork(nn.Module):
    """Feed-forward TTFS network over latency frames ``[T, B, ...]``; returns a ``ModelOutput``."""

    def __init__(self, sizes: list[int], cfg: RunConfig):
        super().__init__()
        names = [f"fc{i}" for i in range(1, len(sizes) - 1)] + ["out"]
        self.layers = nn.ModuleList(ExactLayer(n, a, b) for n, a, b in zip(names, sizes[:-1], sizes[1:]))
        self.tau_syn, self.threshold = cfg.neuron.tau_syn, cfg.neuron.threshold
        self.max_spikes, self.tau_loss = cfg.neuron.max_spikes, cfg.model.tau_loss
        for layer in self.layers:
            _init(layer.synapse.weight, self.threshold)

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    def forward(self, x: torch.Tensor, record: torch.Tensor | None = None) -> ModelOutput:
        steps = x.shape[0]
        times, source = input_spike_times(x.flatten(2))                     # (B, M), (M,)
        spikes, all_times, traces = [], [], []
        for layer in self.layers:
            weight = layer.synapse.weight.to(torch.float64)                  # (N, F)
            out = layer_spike_times(times, source, weight, self.tau_syn,
                                    continuous_threshold(self.threshold, self.tau_syn),
                                    self.max_spikes, float(steps))           # (B, N, K)
            if layer.name == "out":                                           # all rows: tie-break, decisions
                states = grid_states(times, source, weight, out, self.tau_syn, self.threshold, steps)
            if record is not None:
                kept = (s[:, record] for s in states) if layer.name == "out" else grid_states(
                    times[record], source, weight, out[record], self.tau_syn, self.threshold, steps)
                current, v_pre, v_post = (s.float() for s in kept)          # (T, b, N)
                binned = binned_spikes(out[record], steps)
                traces.append(LayerTrace(layer.name, current, v_pre, v_post, binned > 0, current))
            spikes.append(binned_spikes(out, steps))                         # (T, B, N)
            all_times.append(out)
            times, source = as_presynaptic(out)
        first = all_times[-1][..., 0]                                        # (B, C)
        t_first = torch.where(torch.isfinite(first), first, float(steps))
        logits = (-t_first / self.tau_loss).float()
        v_out = states[1].float()                                            # (T, B, C) output v_pre
        predictions = first_spike_predictions(t_first.detach(), v_out.amax(0))
        trace = None
        if record is not None:
            running = _running_first(first.detach()[record], steps)         # (T, b, C)
            trace = Trace(tuple(traces), (-running / self.tau_loss).float())
        return ModelOutput(logits, tuple(spikes), trace, predictions, v_out, tuple(all_times))


def _running_first(first: torch.Tensor, steps: int) -> torch.Tensor:
    """``[T, b, C]``: entry m is t_first if only the bins <= m were seen (later spikes count as T)."""
    cut = torch.arange(1, steps + 1, dtype=first.dtype, device=first.device).view(-1, 1, 1)
    return torch.where(first.unsqueeze(0) < cut, first.unsqueeze(0), float(steps))


def _init(weight: torch.Tensor, threshold: float) -> None:
    """w ~ N(mu, mu) with mu = INIT_DRIVE * 4 V_th / fan_in: all fan_in inputs at once would peak at
    INIT_DRIVE * V_th (the PSP peaks at w/4), so spread-out latency inputs still reach threshold."""
    mean = INIT_DRIVE * 4.0 * threshold / weight.shape[1]
    nn.init.normal_(weight, mean, mean)


def build_exact_model(cfg: RunConfig, frame_shape: tuple[int, ...], n_classes: int) -> ExactNetwork:
    """The exact-engine network a config describes (``config.check`` has judged that it fits the engine)."""
    return ExactNetwork([int(math.prod(frame_shape)), *cfg.model.hidden, n_classes], cfg)
