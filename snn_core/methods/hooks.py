"""The one interface through which a method joins training: extra parameters, loss terms, an after-step action.

Per training step the trainer calls ``batch_loss`` (below), backward and the optimiser step, then
``after_step`` of every hook in order. A hook is an ``nn.Module`` so that its trainable parameters
(e.g. TRT's star head) follow the model to its device and reach the optimiser after the model's own;
they are never part of the model, so inference and checkpoints do not see them.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from ..network.protocol import Network
    from ..network.records import ModelOutput


class BatchLoss(NamedTuple):
    out: ModelOutput                  # the network's output on the batch (accuracy is read from it)
    loss: torch.Tensor                # () what backward sees
    terms: dict[str, torch.Tensor]    # named terms to log as epoch means; {} when there are none
    # () the cross-entropy of ``out`` on the original input, when the step computed it anyway (the plain loss, a
    # method's "ce" term); None: the trainer computes it for the live charts
    cross_entropy: torch.Tensor | None = None


class MethodHook(nn.Module):
    """What one method adds to a training step; every default adds nothing.

    ``run``: a method that runs the network its own way on the batch returns its output and loss (the
    first hook that does so wins, else the step is ``model(x)`` and cross-entropy). ``extra_loss``: a term
    added to that loss. ``after_step``: an action after the optimiser step, given the step's output and labels.
    """

    def run(self, model: Network, x: torch.Tensor, y: torch.Tensor) -> BatchLoss | None:
        return None

    def extra_loss(self, out: ModelOutput, y: torch.Tensor) -> torch.Tensor | None:
        return None

    def after_step(self, model: Network, out: ModelOutput, y: torch.Tensor) -> None:
        return None


def batch_loss(hooks: Sequence[MethodHook], model: Network, x: torch.Tensor, y: torch.Tensor) -> BatchLoss:
    """The step's loss for network input ``x[T, B, ...]`` and labels ``y[B]``: the first hook's own ``run``
    (else ``cross_entropy(model(x).logits, y)``), plus every hook's ``extra_loss``, added in hook order."""
    step = next((found for found in (hook.run(model, x, y) for hook in hooks) if found is not None), None)
    if step is None:
        out = model(x)
        loss = F.cross_entropy(out.logits, y)
        step = BatchLoss(out, loss, {}, loss)
    loss = step.loss
    for hook in hooks:
        extra = hook.extra_loss(step.out, y)
        if extra is not None:
            loss = loss + extra
    return step._replace(loss=loss)
