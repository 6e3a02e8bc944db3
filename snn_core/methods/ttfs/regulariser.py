"""Fast & Deep's first-spike regulariser (Göltz et al.): a loss term pulling the true class's first spike earlier."""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..hooks import MethodHook

if TYPE_CHECKING:
    from ...network.records import ModelOutput


def first_spike_regulariser(logits: torch.Tensor, labels: torch.Tensor, tau_loss: float, tau_syn: float,
                            alpha: float) -> torch.Tensor:
    """Fast & Deep's regulariser, alpha * mean_b exp(t_label / tau_syn), from first-spike ``logits[B, C]``
    (= -t_first / tau_loss, so t_label = -tau_loss * logits[b, y_b]). It grows fastest for a late or silent
    (t = T) true-class output, pushing that output's first spike earlier; alpha = 0 gives exactly 0."""
    t_label = -tau_loss * logits.gather(1, labels.view(-1, 1)).squeeze(1)    # (B,)
    return alpha * torch.exp(t_label / tau_syn).mean()


class FirstSpikeRegulariser(MethodHook):
    """Adds ``first_spike_regulariser`` of the step's logits to its loss (``model.first_spike_reg`` = alpha)."""

    def __init__(self, tau_loss: float, tau_syn: float, alpha: float):
        super().__init__()
        self.tau_loss, self.tau_syn, self.alpha = tau_loss, tau_syn, alpha

    def extra_loss(self, out: ModelOutput, y: torch.Tensor) -> torch.Tensor:
        return first_spike_regulariser(out.logits, y, self.tau_loss, self.tau_syn, self.alpha)
