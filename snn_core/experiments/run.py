"""A whole training run, headless: config in, ``RunResult`` out (used by the CLI and comparisons)."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..config.run_config import RunConfig
from ..results.run_result import (
    DataSource,
    LayerActivity,
    Metrics,
    Redundancy,
    RobustnessCurve,
    RunResult,
    Timing,
)
from ..training.evaluate import Evaluation
from ..training.robustness import robustness
from ..training.trainer import EpochRecord, Trainer


def evaluation_metrics(evaluation: Evaluation, train_seconds: float,
                       validation_accuracy: float | None = None) -> Metrics:
    """A run's final metrics from one evaluation: accuracy, loss, activity (per layer too), redundancy (None without
    conv layers), decision metrics (None unless ``readout=first-spike``). ``validation_accuracy``
    (``EpochRecord.validation_accuracy`` of the same weights) is what tuning reads; None without a validation split.
    The trainer's own fields (sample counts, convergence, robustness, generalisation) are left None here."""
    activity, redundancy = evaluation.activity, evaluation.redundancy
    return Metrics(
        test_accuracy=evaluation.accuracy, test_loss=evaluation.loss, validation_accuracy=validation_accuracy,
        nasfr=activity.nasfr, spikes_per_sample=activity.total_spikes_per_sample,
        silent_fraction=activity.total_silent_fraction, wall_seconds=train_seconds,
        layers=LayerActivity(activity.firing_rate, activity.firing_rate_per_step, activity.spikes_per_sample,
                             activity.silent_fraction, activity.neurons),
        redundancy=None if redundancy is None else Redundancy(redundancy.layers, redundancy.overall),
        decision=evaluation.decision, cost=evaluation.cost)


def epochs_to_target(history: Sequence[EpochRecord], target: float) -> int | None:
    """Convergence: the first epoch whose test accuracy is >= ``target``; None if none reached it. A reported
    metric only: nothing is chosen by it (choices read ``validation_accuracy``)."""
    return next((record.epoch for record in history if record.test_accuracy >= target), None)


def run_result(trainer: Trainer, robustness: dict | None = None, timing: Timing | None = None) -> RunResult:
    """A trainer's run at its reported epoch (``Trainer.select_reported_epoch``, else the latest closed one): config,
    history, data and metrics (None before any epoch closed),
    the metrics being ``evaluation_metrics`` plus the sample counts used (a real folder may hold fewer than asked),
    ``epochs_to_target`` (``training.target_accuracy``), ``robustness`` (``snn_core.training.robustness``; None when
    not measured) and ``Trainer.generalisation()`` at the current weights."""
    evaluation, data = trainer.last_evaluation, trainer.dataset
    reported = trainer.history[(trainer.selected_epoch or len(trainer.history)) - 1] if trainer.history else None
    metrics = None
    if evaluation is not None:
        if reported is None:
            raise ValueError("run_result: the trainer has a last evaluation but no closed epoch in its history")
        metrics = replace(
            evaluation_metrics(evaluation, trainer.train_seconds, reported.validation_accuracy),
            selected_epoch=reported.epoch,
            train_samples=len(data.train_y), validation_samples=len(data.val_y), test_samples=len(data.test_y),
            epochs_to_target=epochs_to_target(trainer.history, trainer.cfg.training.target_accuracy),
            robustness=None if robustness is None else
            {kind: RobustnessCurve.from_json(curve, f"robustness.{kind}") for kind, curve in robustness.items()},
            **trainer.generalisation())
    return RunResult(trainer.cfg, tuple(trainer.history), metrics,
                     DataSource(data.source or f"{data.name} (generated)", tuple(data.class_names)), timing)


def train_run(cfg: RunConfig, device: str = "auto", on_epoch: Callable[[EpochRecord], None] | None = None,
              on_trained: Callable[[Trainer], None] | None = None) -> RunResult:
    """Train ``cfg`` to the end, put back the epoch it reports (``training.select_epoch``) and return its
    ``RunResult`` (with ``Timing``); with ``training.robustness`` the
    trained net is also tested under noise (``timing.robustness_seconds``). ``on_trained(trainer)`` sees the
    trained network first (the CLI's ``--save-model`` writes it)."""
    started = time.perf_counter()
    trainer = Trainer(cfg, device=device)
    trainer.fit(on_epoch)
    trainer.select_reported_epoch()                  # the weights reported, saved and tested under noise
    if on_trained is not None:
        on_trained(trainer)
    trained = time.perf_counter()
    noisy = robustness(trainer) if cfg.training.robustness else None
    timing = Timing(time.perf_counter() - started, time.perf_counter() - trained, str(trainer.device))
    return run_result(trainer, noisy, timing)
