"""A trainer's robustness curves: the perturbations of ``metrics.robustness`` over the test-set pass of ``evaluate``."""
from __future__ import annotations

from ..metrics.robustness import LEVELS, robustness_curves
from .evaluate import accuracy
from .trainer import Trainer


def robustness(trainer: Trainer, levels: dict[str, tuple[float, ...]] = LEVELS) -> dict[str, dict[str, float]]:
    """``{kind: {level: test accuracy}}`` of ``trainer``'s network at its current weights; level "0" is clean.

    Costs one test pass per level (7 with the default levels); the clean accuracy is that of the trainer's
    latest evaluation when it is of the current weights (``evaluate`` runs the same batches and encoding
    seed), else one more pass.
    """
    latest = trainer.last_evaluation
    clean = latest.accuracy if latest is not None and trainer.evaluated_weights_current else None
    return robustness_curves(lambda perturb: accuracy(trainer, perturb), trainer.model, levels, clean)
