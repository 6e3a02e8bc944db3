"""Readouts of a spiking output layer: differentiable first-spike times, spike counts, predictions.

With output spikes ``s[T, B, C]`` (0-based steps t = 0..T-1, see shared/papers/ttfs.md §5.1)::

    t_first = sum_t prod_{t' <= t} (1 - s[t'])      first spike step; a silent output gets T
    first-spike logits = -t_first / tau_loss          (trained with cross-entropy)
    count logits       = sum_t s[t]                   (spike counts, trained with cross-entropy)

The first-spike prediction is argmin t_first; ties (including all-silent samples) go to the
output whose membrane before reset, max over the seen steps, is highest.
"""
from __future__ import annotations

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


def first_spike_regulariser(logits: torch.Tensor, labels: torch.Tensor, tau_loss: float, tau_syn: float,
                            alpha: float) -> torch.Tensor:
    """Fast & Deep's regulariser, alpha * mean_b exp(t_label / tau_syn), from first-spike ``logits[B, C]``
    (= -t_first / tau_loss, so t_label = -tau_loss * logits[b, y_b]). It grows fastest for a late or silent
    (t = T) true-class output, pushing that output's first spike earlier; alpha = 0 gives exactly 0."""
    t_label = -tau_loss * logits.gather(1, labels.view(-1, 1)).squeeze(1)
    return alpha * torch.exp(t_label / tau_syn).mean()


class SpikingReadout(NamedTuple):
    logits: torch.Tensor          # (B, C) what cross-entropy sees
    step_logits: torch.Tensor     # (T, B, C) the same readout if only steps <= t were seen
    predictions: torch.Tensor     # (B,)


def spiking_readout(kind: str, spikes: torch.Tensor, v_pre: torch.Tensor, tau_loss: float) -> SpikingReadout:
    """Logits and predictions of the output layer's ``spikes`` and membrane ``v_pre`` (both ``[T, B, C]``)."""
    if kind == "first-spike":
        running = running_first_spike_times(spikes)                 # (T, B, C)
        logits = -running[-1] / tau_loss
        predictions = first_spike_predictions(running[-1].detach(), v_pre.detach().amax(0))
        return SpikingReadout(logits, -running / tau_loss, predictions)
    if kind == "count":
        counts = spikes.cumsum(0)                                    # (T, B, C)
        return SpikingReadout(counts[-1], counts, counts[-1].detach().argmax(1))
    raise ValueError(f"model.readout={kind!r} has no spiking output; allowed: first-spike, count")


class DecisionTally:
    """First-spike decision statistics over evaluation batches (``readout=first-spike`` only).

    A sample decides at the step of its earliest output spike; ``accuracy_vs_tcut[k]`` is the
    accuracy when only steps < t_cut = k + 1 are seen, an undecided sample counting as wrong.
    """

    def __init__(self):
        self.steps: list[torch.Tensor] = []        # (N,) decision step, T when undecided
        self.correct: torch.Tensor | None = None   # (T,) correct samples per t_cut
        self.samples = 0
        self.time_steps = 0

    def add(self, spikes: torch.Tensor, v_pre: torch.Tensor, labels: torch.Tensor) -> None:
        """One batch: output ``spikes`` and ``v_pre`` ``[T, B, C]``, ``labels[B]``. Spike counts above 1 in
        a step (the exact engine bins continuous spike times) count as one spike: only "any spike" matters."""
        spikes, v_pre, labels = spikes.detach().clamp(max=1.0), v_pre.detach(), labels.to(spikes.device)
        steps = spikes.shape[0]
        running = running_first_spike_times(spikes)                  # (T, B, C)
        v_max = v_pre.cummax(0).values                                # (T, B, C)
        correct = torch.zeros(steps, dtype=torch.long)
        for cut in range(steps):                                      # only steps <= cut seen
            t_first = running[cut]
            decided = t_first.min(1).values < steps
            right = first_spike_predictions(t_first, v_max[cut]) == labels
            correct[cut] = int((decided & right).sum())
        self.correct = correct if self.correct is None else self.correct + correct
        self.steps.append(running[-1].min(1).values.cpu())
        self.samples += len(labels)
        self.time_steps = steps

    def summary(self) -> "DecisionMetrics":
        steps = torch.cat(self.steps)
        decided = steps[steps < self.time_steps]
        return DecisionMetrics(
            decision_step_mean=float(decided.double().mean()) if len(decided) else None,
            decision_step_median=float(decided.double().quantile(0.5)) if len(decided) else None,
            no_decision_fraction=1.0 - len(decided) / self.samples,
            accuracy_vs_tcut=(self.correct.double() / self.samples).tolist(),
        )


class DecisionMetrics(NamedTuple):
    decision_step_mean: float | None      # 0-based step of the first output spike, over decided samples
    decision_step_median: float | None
    no_decision_fraction: float           # samples with no output spike at all
    accuracy_vs_tcut: list                # t_cut = 1..T: accuracy seeing steps < t_cut

    def to_dict(self) -> dict:
        return self._asdict()
