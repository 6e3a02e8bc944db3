"""First-spike decision statistics of an evaluation: when each sample decides, and accuracy per time cut."""
from __future__ import annotations

from typing import NamedTuple

import torch

from ..network.readout import first_spike_predictions, running_first_spike_times


class DecisionMetrics(NamedTuple):
    decision_step_mean: float | None      # 0-based step of the first output spike, over decided samples
    decision_step_median: float | None
    no_decision_fraction: float           # samples with no output spike at all
    accuracy_vs_tcut: list                # t_cut = 1..T: accuracy seeing steps < t_cut

    def to_dict(self) -> dict:
        return self._asdict()


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

    def summary(self) -> DecisionMetrics:
        if self.correct is None:
            raise ValueError("no batches were added: decision metrics need at least one evaluated sample")
        steps = torch.cat(self.steps)
        decided = steps[steps < self.time_steps]
        return DecisionMetrics(
            decision_step_mean=float(decided.double().mean()) if len(decided) else None,
            decision_step_median=float(decided.double().quantile(0.5)) if len(decided) else None,
            no_decision_fraction=1.0 - len(decided) / self.samples,
            accuracy_vs_tcut=(self.correct.double() / self.samples).tolist(),
        )
