"""Spike-activity metrics, accumulated over evaluation batches.

With M samples, T steps, N_l neurons in layer l and s the spikes (the ASA paper's definitions):

    SFR_l(t) = sum_{m,i} s_{l,i}^t(m) / (M N_l)        firing rate of layer l at step t
    SFR_l    = (1/T) sum_t SFR_l(t)                     mean firing rate of layer l
    NASFR    = sum_l N_l SFR_l / sum_l N_l = total spikes / (T M sum_l N_l)

Spikes per sample = spikes / M (per layer and in total); a neuron is silent when it never
fired for any sample at any step.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

FIRING_RATE_EQUATIONS = (
    r"SFR_l(t) = \frac{\sum_{m,i} s^t_{l,i}(m)}{M N_l},\quad SFR_l = \frac{1}{T}\sum_t SFR_l(t),\quad "
    r"NASFR = \frac{\sum_l N_l\, SFR_l}{\sum_l N_l}"
)


@dataclass(frozen=True)
class ActivityMetrics:
    """Firing statistics of every spiking layer over an evaluated set."""

    samples: int
    time_steps: int
    neurons: dict[str, int]
    firing_rate_per_step: dict[str, list[float]]
    firing_rate: dict[str, float]
    nasfr: float
    spikes_per_sample: dict[str, float]
    total_spikes_per_sample: float
    silent_fraction: dict[str, float]
    total_silent_fraction: float


class SpikeTally:
    """Running sums of spikes per (layer, step) and per (layer, neuron)."""

    def __init__(self, layer_names: list[str]):
        self.names = layer_names
        self.samples = 0
        self.per_step: list[torch.Tensor] = []        # per layer: (T,), from the first batch on
        self.per_neuron: list[torch.Tensor] = []      # per layer: (N_l,)

    def add(self, spikes: tuple[torch.Tensor, ...]) -> None:
        """Add one batch: ``spikes[l]`` is ``[T, B, ...]`` for layer l."""
        self.samples += spikes[0].shape[1]
        for index, layer_spikes in enumerate(spikes):
            flat = layer_spikes.detach().flatten(2).double()                    # (T, B, N_l)
            step_sum, neuron_sum = flat.sum((1, 2)).cpu(), flat.sum((0, 1)).cpu()
            if index == len(self.per_step):                                     # the first batch
                self.per_step.append(step_sum)
                self.per_neuron.append(neuron_sum)
            else:
                self.per_step[index] += step_sum
                self.per_neuron[index] += neuron_sum

    def summary(self) -> ActivityMetrics:
        if self.samples == 0:
            raise ValueError("no batches were added: metrics need at least one evaluated sample")
        neurons = {n: int(c.numel()) for n, c in zip(self.names, self.per_neuron)}
        time_steps = int(self.per_step[0].numel())
        per_step = {n: (s / (self.samples * neurons[n])).tolist() for n, s in zip(self.names, self.per_step)}
        total_spikes = sum(float(s.sum()) for s in self.per_step)
        silent = {n: float((c == 0).double().mean()) for n, c in zip(self.names, self.per_neuron)}
        all_neurons = sum(neurons.values())
        return ActivityMetrics(
            samples=self.samples,
            time_steps=time_steps,
            neurons=neurons,
            firing_rate_per_step=per_step,
            firing_rate={n: sum(r) / time_steps for n, r in per_step.items()},
            nasfr=total_spikes / (time_steps * self.samples * all_neurons),
            spikes_per_sample={n: float(s.sum()) / self.samples for n, s in zip(self.names, self.per_step)},
            total_spikes_per_sample=total_spikes / self.samples,
            silent_fraction=silent,
            total_silent_fraction=sum(silent[n] * neurons[n] for n in self.names) / all_neurons,
        )
