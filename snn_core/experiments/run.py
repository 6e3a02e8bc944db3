"""A whole training run, headless: config in, JSON-ready result out (used by the CLI and comparisons)."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from ..config.run_config import RunConfig
from ..training.evaluate import Evaluation
from ..training.robustness import robustness
from ..training.trainer import EpochRecord, Trainer

REDUNDANCY_SCALARS = ("noise_channels", "null_channels", "temporal_similarity", "channel_similarity")


def metrics_dict(evaluation: Evaluation, train_seconds: float, validation_accuracy: float | None = None) -> dict:
    """The ``metrics`` object of a run's JSON: scalars at the top level, per-layer dicts beside them.

    ``validation_accuracy`` (``EpochRecord.validation_accuracy`` of the same weights) is what tuning reads; it is
    None when the run has no validation split (``data.validation`` = 0), so comparisons leave it out.

    ``redundancy`` is ``{"layers": {layer: scores}, "overall": scores}`` (None without conv layers);
    its overall scores are repeated as top-level scalars so that comparisons pair them. With
    ``readout=first-spike`` the decision metrics (``decision_step_mean``, ``decision_step_median``,
    ``no_decision_fraction``, ``accuracy_vs_tcut``) are added; other readouts leave them out.
    """
    activity = evaluation.activity
    redundancy = evaluation.redundancy
    overall = {} if redundancy is None else {key: getattr(redundancy.overall, key) for key in REDUNDANCY_SCALARS}
    return {
        "test_accuracy": evaluation.accuracy,
        "test_loss": evaluation.loss,
        "validation_accuracy": validation_accuracy,
        "nasfr": activity.nasfr,
        "spikes_per_sample": activity.total_spikes_per_sample,
        "silent_fraction": activity.total_silent_fraction,
        "wall_seconds": train_seconds,
        "layer_firing_rates": activity.firing_rate,
        "layer_firing_rates_per_step": activity.firing_rate_per_step,
        "layer_spikes_per_sample": activity.spikes_per_sample,
        "layer_silent_fraction": activity.silent_fraction,
        "layer_neurons": activity.neurons,
        **overall,
        "redundancy": None if redundancy is None else redundancy.to_dict(),
        **({} if evaluation.decision is None else evaluation.decision.to_dict()),
    }


def epochs_to_target(history: Sequence[EpochRecord], target: float) -> int | None:
    """Convergence: the first epoch whose test accuracy is >= ``target``; None if none reached it. A reported
    metric only: nothing is chosen by it (choices read ``validation_accuracy``)."""
    return next((record.epoch for record in history if record.test_accuracy >= target), None)


def result_dict(trainer: Trainer, robustness: dict | None = None) -> dict:
    """``{config, history, metrics, data}`` of a trainer; metrics are those of its latest closed epoch, plus
    ``train_samples``, ``validation_samples`` and ``test_samples`` (the sizes used), plus
    ``epochs_to_target`` (``training.target_accuracy``), ``robustness`` (``snn_core.training.robustness``; None
    when not measured) and ``Trainer.generalisation()`` (``reversal_agreement``, ``reversal_kl``,
    ``train_eval_accuracy``, ``train_test_gap``) at the current weights."""
    evaluation, data = trainer.last_evaluation, trainer.dataset
    metrics = None if evaluation is None else {
        **metrics_dict(evaluation, trainer.train_seconds, trainer.history[-1].validation_accuracy),
        "train_samples": len(data.train_y),       # the samples actually used (a real folder may hold fewer)
        "validation_samples": len(data.val_y),
        "test_samples": len(data.test_y),
        "epochs_to_target": epochs_to_target(trainer.history, trainer.cfg.training.target_accuracy),
        "robustness": robustness,
        **trainer.generalisation(),
    }
    return {"config": trainer.cfg.to_dict(), "history": [record.to_dict() for record in trainer.history],
            "metrics": metrics, "data": {"source": data.source or f"{data.name} (generated)",
                                         "class_names": list(data.class_names)}}


def train_run(cfg: RunConfig, device: str = "auto", on_epoch: Callable[[EpochRecord], None] | None = None,
              on_trained: Callable[[Trainer], None] | None = None) -> dict:
    """Train ``cfg`` to the end and return ``{config, history, metrics, timing}``; with
    ``training.robustness`` the trained net is also tested under noise (``timing.robustness_seconds``).
    ``on_trained(trainer)`` sees the trained network first (the CLI's ``--save-model`` writes it)."""
    started = time.perf_counter()
    trainer = Trainer(cfg, device=device)
    trainer.fit(on_epoch)
    if on_trained is not None:
        on_trained(trainer)
    trained = time.perf_counter()
    noisy = robustness(trainer) if cfg.training.robustness else None
    timing = {"total_seconds": time.perf_counter() - started, "robustness_seconds": time.perf_counter() - trained,
              "device": str(trainer.device)}
    return {**result_dict(trainer, noisy), "timing": timing}
