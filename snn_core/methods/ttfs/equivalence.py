"""How far the discrete engine agrees with the exact one on the same weights, layer by layer: measured, not assumed.

Given the same input events, a layer of the discrete engine fires its first spikes in the step bins
where the exact neuron's first spikes fall (``exact``'s docstring: discrete step m fires iff
V(m+1) >= beta V_th). The one exception is a membrane that crosses beta V_th inside a bin and is back
below it at the bin's end, which the discrete engine, seeing bin ends only, misses. Across layers the
engines drift apart: the discrete engine forwards a spike fired in [k, k+1) as an input event at
t = k, the exact engine at its time t, so from layer 2 on the discrete inputs arrive up to one step
early, and the difference compounds. ``engine_agreement`` measures, per layer, over the
(sample, neuron) pairs where at least one engine fires a first spike:

    first_bin        fraction whose first spikes fall in the same bin, both engines run end to end
    same_input_bin   the same, the exact layer driven by the discrete spikes of the layer below
                     (what holds per layer; 1 up to in-bin dips)
    lag              mean exact first-spike time - discrete first-spike step, where both fire

and ``predictions``: the fraction of samples both engines' readouts classify alike. Later spikes
(K > 1) are not compared: the discrete reset acts at a bin's end, the exact one at the spike.
"""
from __future__ import annotations

from typing import NamedTuple

import torch

from ...network.readout import first_spike_predictions
from ...neurons.cuba import CUBAParams, cuba_sequence
from .exact import as_presynaptic, continuous_threshold, input_spike_times, layer_spike_times
from .exact_network import ExactNetwork


class LayerAgreement(NamedTuple):
    name: str
    first_bin: float | None         # end to end; None when neither engine fired in this layer
    same_input_bin: float | None    # the exact layer on the discrete layer's inputs
    lag: float | None               # mean exact t_first - discrete step, where both fire
    pairs: int                      # (sample, neuron) pairs where either engine fired


class EngineAgreement(NamedTuple):
    layers: tuple[LayerAgreement, ...]
    predictions: float              # fraction of samples with the same predicted class

    def to_dict(self) -> dict:
        return {"layers": [layer._asdict() for layer in self.layers], "predictions": self.predictions}


def discrete_first_steps(spikes: torch.Tensor) -> torch.Tensor:
    """``spikes[T, B, N]`` -> the step of each neuron's first spike ``[B, N]``, inf when it stays silent."""
    steps = torch.arange(spikes.shape[0], dtype=torch.float64, device=spikes.device).view(-1, 1, 1)
    return torch.where(spikes > 0, steps, torch.inf).amin(0)


def bin_agreement(exact_first: torch.Tensor, discrete_first: torch.Tensor) -> tuple[float | None, int]:
    """Fraction of the pairs where either fires whose first spikes share a bin (exact times ``[B, N]``
    are floored), and the number of such pairs."""
    either = torch.isfinite(exact_first) | torch.isfinite(discrete_first)
    same = exact_first.floor() == discrete_first                      # inf == inf is excluded by ``either``
    pairs = int(either.sum())
    return (float((same & either).sum()) / pairs if pairs else None), pairs


def _predictions(kind: str, first: torch.Tensor, counts: torch.Tensor, v_max: torch.Tensor,
                 steps: int) -> torch.Tensor:
    """The exact network's readout rule (``exact_network``) on first-spike times ``[B, C]`` (inf = none)."""
    t_first = torch.where(torch.isfinite(first), first, float(steps))
    key = t_first - (steps + 1.0) * counts if kind == "count" else t_first
    return first_spike_predictions(key, v_max)


@torch.no_grad()
def engine_agreement(net: ExactNetwork, frames: torch.Tensor) -> EngineAgreement:
    """Both engines on ``net``'s weights and latency ``frames[T, B, ...]`` (0/1): the per-layer agreement
    of the module docstring. The discrete engine is ``neurons.cuba`` with the same tau_s, V_th and K."""
    steps = frames.shape[0]
    x = frames.flatten(2).to(torch.float64)                                    # (T, B, F)
    params = CUBAParams(tau_syn=net.tau_syn, threshold=net.threshold, max_spikes=net.max_spikes)
    threshold = continuous_threshold(net.threshold, net.tau_syn)
    times, source = input_spike_times(x)                                        # exact engine's events
    discrete_in, layers = x, []
    for layer in net.layers:
        weight = layer.synapse.weight.detach().to(torch.float64)                 # (N, F)
        exact = layer_spike_times(times, source, weight, net.tau_syn, threshold, net.max_spikes, float(steps))
        same_in = layer_spike_times(*input_spike_times(discrete_in), weight, net.tau_syn, threshold,
                                    net.max_spikes, float(steps))               # (B, N, K)
        discrete = cuba_sequence(discrete_in @ weight.t(), params)               # (T, B, N)
        d_first = discrete_first_steps(discrete.spikes)
        first_bin, pairs = bin_agreement(exact[..., 0], d_first)
        both = torch.isfinite(exact[..., 0]) & torch.isfinite(d_first)
        lag = float((exact[..., 0] - d_first)[both].mean()) if bool(both.any()) else None
        layers.append(LayerAgreement(layer.name, first_bin, bin_agreement(same_in[..., 0], d_first)[0], lag, pairs))
        times, source = as_presynaptic(exact)
        discrete_in = discrete.spikes
    exact_pred = net(frames).predictions
    counts = discrete_in.sum(0)                                                  # (B, C)
    discrete_pred = _predictions(net.readout_kind, d_first, counts, discrete.v_pre.amax(0), steps)
    return EngineAgreement(tuple(layers), float((exact_pred == discrete_pred).double().mean()))
