"""The exact event-based TTFS network (``model.engine = exact``): an MLP of closed-form CUBA layers.

Layers ``fc1..`` (``model.hidden``) and "out" (n_classes) are bias-free Linear weights: a bias would
be a constant current, whose PSP is not of the form b/z - a/z^2, so the closed form would not hold.
There is no BatchNorm (``model.batch_norm`` is ignored). Spike times come from ``snn_core.methods.ttfs.exact``
with K = ``neuron.max_spikes`` and ``neuron.threshold`` read in the discrete engine's units (the
continuous threshold is beta V_th, ``exact.continuous_threshold``), so a layer given the same input
events fires its first spikes in the same step bins as the discrete engine. Across layers the engines
drift apart, because the discrete engine delivers a spike of bin [k, k+1) at t = k; the measured
per-layer agreement is ``methods.ttfs.equivalence``. Readouts (``model.readout``)::

    first-spike: t_first_c = first spike time of output c (continuous, in steps), T if it stays silent
                 logits = -t_first / tau_loss,  prediction = argmin_c t_first_c (ties: highest output membrane)
    count:       n_c = number of spikes of output c (at most K),  logits = n_c
                 prediction = argmax_c n_c (ties: earliest first spike, then highest membrane)

A count is piecewise constant in the weights, so it has no exact gradient; the count readout uses
BATS's pseudo-gradient d n_c / d t_{c,k} = -1 for each output spike k (an earlier spike stands for one
more spike, a later one for one less), and the exact spike-time gradients below the output.
Silent neurons have no gradient either: training raises their weights (``methods.ttfs.weight_bump``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

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
    from ...fields import Config

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

    def __init__(self, sizes: list[int], cfg: Config):
        super().__init__()
        names = [f"fc{i}" for i in range(1, len(sizes) - 1)] + ["out"]
        # an nn.ModuleList, so the layers register as submodules; typed as the sequence of layers it holds
        self.layers = cast(Sequence[ExactLayer],
                           nn.ModuleList(ExactLayer(n, a, b) for n, a, b in zip(names, sizes[:-1], sizes[1:])))
        self.tau_syn, self.threshold = cfg.neuron.tau_syn, cfg.neuron.threshold
        self.max_spikes, self.tau_loss = cfg.neuron.max_spikes, cfg.model.tau_loss
        self.readout_kind = cfg.model.readout                                 # first-spike or count
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
        v_out = states[1].float()                                            # (T, B, C) output v_pre
        if self.readout_kind == "count":
            logits = _counts(all_times[-1])                                  # (B, C)
            key = t_first.detach() - (steps + 1.0) * logits.detach()         # most spikes, then earliest
            step_logits = spikes[-1].cumsum(0)                               # (T, B, C) running counts
        else:
            logits, key = -t_first / self.tau_loss, t_first.detach()
            step_logits = -_running_first(first.detach(), steps) / self.tau_loss
        predictions = first_spike_predictions(key, v_out.amax(0))          # argmin key, ties: membrane
        trace = None if record is None else Trace(tuple(traces), step_logits[:, record].float())
        return ModelOutput(logits.float(), tuple(spikes), trace, predictions, v_out, tuple(all_times))


def _counts(times: torch.Tensor) -> torch.Tensor:
    """Output spike counts ``[B, C]`` of spike times ``[B, C, K]``, with the gradient -1 per spike time
    (the value is the count: each term t_k - t_k is 0)."""
    fired = torch.isfinite(times)
    present = torch.where(fired, times, 0.0)                                 # (B, C, K)
    return fired.sum(-1).to(times.dtype) - (present - present.detach()).sum(-1)


def _running_first(first: torch.Tensor, steps: int) -> torch.Tensor:
    """``[T, b, C]``: entry m is t_first if only the bins <= m were seen (later spikes count as T)."""
    cut = torch.arange(1, steps + 1, dtype=first.dtype, device=first.device).view(-1, 1, 1)
    return torch.where(first.unsqueeze(0) < cut, first.unsqueeze(0), float(steps))


def _init(weight: torch.Tensor, threshold: float) -> None:
    """w ~ N(mu, mu) with mu = INIT_DRIVE * 4 V_th / fan_in: all fan_in inputs at once would peak at
    INIT_DRIVE * V_th (the PSP peaks at w/4), so spread-out latency inputs still reach threshold."""
    mean = INIT_DRIVE * 4.0 * threshold / weight.shape[1]
    nn.init.normal_(weight, mean, mean)


def build_exact_model(cfg: Config, frame_shape: tuple[int, ...], n_classes: int) -> ExactNetwork:
    """The exact-engine network a config describes (``config.check`` has judged that it fits the engine)."""
    return ExactNetwork([int(math.prod(frame_shape)), *cfg.model.hidden, n_classes], cfg)
